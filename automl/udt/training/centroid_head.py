"""The centroid output head: each class's output row becomes the mean hidden activation of its training rows.

A trained output row of a class with a handful of rows fits the wording of those rows. The mean of their
learned representations scores by similarity instead, which holds up when the rows to predict are worded
unlike the training rows -- search, where a model trains on documents' sentences and is queried with short
summaries. Measured with the same trained network, P@1 of the trained rows -> the centroid rows (before
the rows were centered, see below):
  debsearch (description sentences -> one-line summaries, 63k classes, all 63,427 test summaries):
      0.275 -> 0.321 exact, 0.259 -> 0.294 sparse inference (a TF-IDF nearest centroid on the inputs: 0.333);
  WordNet (glosses -> hypernyms, test rows like the training rows, 17k labels): 0.383 -> 0.375 (benchmark,
      sparse inference, calibrated scores: 0.388 -> 0.379);
  20 Newsgroups 0.850 -> 0.845; Debian sections from descriptions 0.781 -> 0.763.
Centered, in the benchmark (benchmarks/RESULTS.md): debsearch 0.283 -> 0.334, WordNet 0.401 -> 0.401 (445
test rows won and 445 lost), sparse inference.
So neither head wins everywhere: with output_head="auto" (the default) the Classifier keeps whichever scores
higher on the validation set given to fit, and without one takes the centroids when classes have fewer than
10 training rows each (udt.selection.model_selection.auto_output_head); "trained" or "centroid" force one.

The rows point along the class mean, centered: ReLU activations all share one large positive component,
so raw means point nearly the same way and their cosine mostly measures that component. Each row is the
direction of sum(h - a * mu) over its class's rows (mu: the mean activation, a = CENTERING), and the bias
gains -row . (a * mu), so a query scores (h - a * mu) . row: still a linear layer. debsearch, exact / sparse
P@1 on 10,000 summaries with a = 0, 0.25, 0.5, 0.75, 1: 0.325 / 0.308, 0.335 / 0.313, 0.338 / 0.318,
0.339 / 0.315, 0.332 / - (half, not all: the short queries' activations are not centered where the
training sentences' are; centering each row after normalising it scores 0.340 but is no longer linear).
Softmax: they take the median length of the trained rows, so scores
keep the trained head's sharpness (debsearch test log-loss 5.54 at that length, 5.88 at twice it, 7.31 at
half), and the trained biases stay (the class prior; P@1 the same with or without them). Sigmoid (multi-label):
one scale and one offset for every label, fitted on training rows (_calibrate_sigmoid), so scores are
probabilities again and predict()'s threshold keeps its meaning.
"""
from __future__ import annotations

from typing import Callable, Iterable

import numpy as np

from udt.engine import STATE
from udt.selection.model_selection import auto_output_head

EMBED_ROWS = 16_384  # rows embedded at once: 16 MB of activations at hidden_dim 256
CENTERING = 0.5  # share of the mean activation taken out of rows and queries (module docstring)
CALIBRATION_ROWS = 4096  # training rows that fit a sigmoid head's common scale and offset
CALIBRATION_NEGATIVES = 16  # random other labels per calibration row


def class_embedding_sums(network, batches: Iterable) -> tuple[np.ndarray, np.ndarray]:
    """Per class, the sum of the hidden activations of the rows labelled with it (float64, (classes,
    hidden_dim)) and the number of those rows. `batches`: CsrBatch-like rows with labels."""
    sums = np.zeros((network.output_dim, network.hidden_dim), np.float64)
    counts = np.zeros(network.output_dim, np.int64)
    for batch in batches:
        hidden = network.embed(batch.indices, batch.values, batch.offsets)
        labels = np.asarray(batch.label_indices, np.int64)
        if labels.size == 0:
            continue
        row_of_label = np.repeat(np.arange(batch.n_rows), np.diff(batch.label_offsets))
        order = np.argsort(labels, kind="stable")
        labels, rows = labels[order], row_of_label[order]
        starts = np.flatnonzero(np.r_[True, labels[1:] != labels[:-1]])
        sums[labels[starts]] += np.add.reduceat(hidden[rows], starts, axis=0)
        counts[labels[starts]] += np.diff(np.r_[starts, labels.size])
    return sums, counts


def set_centroid_head(network, batches: Callable[[], Iterable]) -> int:
    """Replace the output row of every class that has rows in `batches()` (a fresh pass over the training
    rows per call) by its centroid (see the module docstring); classes without rows keep their trained
    row. Returns the number of rows replaced. The caller rebuilds the LSH index (network.rebuild_index or
    index_labels) before sparse inference."""
    sums, counts = class_embedding_sums(network, batches())
    views = network.weights()
    weight, bias = views[STATE.output_weight], views[STATE.output_bias]
    # mean activation over (row, label) pairs: the row mean for a single-label target
    center = CENTERING * sums.sum(axis=0) / max(int(counts.sum()), 1)
    sums -= counts[:, None] * center
    norms = np.linalg.norm(sums, axis=1)
    replace = (counts > 0) & (norms > 0)  # a class whose rows all embed to the center keeps its trained row
    if not replace.any():
        return 0
    directions = np.zeros_like(sums)
    directions[replace] = sums[replace] / norms[replace, None]
    if network.config["loss"] == "sigmoid":
        scale, offset = _calibrate_sigmoid(network, batches(), directions, replace, center)
        bias[replace] = offset
    else:
        scale = float(np.median(np.linalg.norm(weight, axis=1)))
    weight[replace] = (directions[replace] * scale).astype(np.float32)
    bias[replace] -= (weight[replace] @ center).astype(np.float32)  # scores (h - center) . row
    return int(np.count_nonzero(replace))


def _calibrate_sigmoid(network, batches: Iterable, directions: np.ndarray, has_rows: np.ndarray, center: np.ndarray,
                       n_rows: int = CALIBRATION_ROWS, negatives: int = CALIBRATION_NEGATIVES) -> tuple[float, float]:
    """Scale a and offset b of the multi-label scores sigmoid(a * (h - center).c + b), shared by every label: a
    weighted logistic regression of "is c a label of the row" on the cosine-like score over the first `n_rows`
    training rows, with each row's labels as positives and `negatives` random other labels standing for
    all the rest (weighted up to their number). A sigmoid head's trained biases and lengths belong to its
    trained rows; kept with the centroids, they ranked WordNet's labels by bias alone (P@1 0.015)."""
    rng = np.random.default_rng(0)
    candidates = np.flatnonzero(has_rows)
    scores, targets, weights, seen = [], [], [], 0
    for batch in batches:
        take = min(batch.n_rows, n_rows - seen)
        part = batch.take(np.arange(take))
        hidden = network.embed(part.indices, part.values, part.offsets).astype(np.float64) - center
        labels = np.asarray(part.label_indices, np.int64)
        rows = np.repeat(np.arange(take), np.diff(part.label_offsets))
        scores.append(np.einsum("ij,ij->i", hidden[rows], directions[labels]))
        drawn = rng.choice(candidates, (take, negatives))
        scores.append(np.einsum("ij,ikj->ik", hidden, directions[drawn]).ravel())
        targets += [np.ones(labels.size), np.zeros(take * negatives)]
        per_negative = max(len(candidates) - labels.size / max(take, 1), 1.0) / negatives
        weights += [np.ones(labels.size), np.full(take * negatives, per_negative)]
        seen += take
        if seen >= n_rows:
            break
    s, y, w = (np.concatenate(a) for a in (scores, targets, weights))
    center, spread = float(np.average(s, weights=w)), float(np.sqrt(np.cov(s, aweights=w))) or 1.0
    x = np.stack([(s - center) / spread, np.ones_like(s)], axis=1)  # standardised: the ridge is scale-free
    # A ridge on the scale keeps it finite when the rows separate the labels perfectly (no maximum of
    # the likelihood then); 1e-3 of the total weight barely moves it otherwise.
    ridge = np.array([1e-3 * w.sum(), 1e-9 * w.sum()])

    def loss(theta):
        z = x @ theta
        return float(np.sum(w * (np.logaddexp(0.0, z) - y * z)) + 0.5 * ridge @ theta ** 2)

    theta = np.array([1.0, 0.0])
    current = loss(theta)
    for _ in range(100):  # Newton steps, halved until the loss goes down
        p = 1.0 / (1.0 + np.exp(-np.clip(x @ theta, -50, 50)))
        gradient = x.T @ (w * (p - y)) + ridge * theta
        hessian = (x * (w * p * (1 - p))[:, None]).T @ x + np.diag(ridge)
        step = np.linalg.solve(hessian, gradient)
        for _ in range(30):
            candidate = theta - step
            if loss(candidate) <= current:
                break
            step = step / 2
        theta, previous, current = candidate, current, loss(candidate)
        if previous - current < 1e-10 * max(abs(previous), 1.0):
            break
    scale = theta[0] / spread
    return float(scale), float(theta[1] - scale * center)


def training_batches(data, rows_per_batch: int = EMBED_ROWS):
    """The training rows of `data` (InMemoryData or StreamingData) in batches, each row once."""
    rows = getattr(data, "rows", None)
    if rows is None:  # streamed: the featurized chunks, in file order (order does not matter to a sum)
        yield from data.make_chunks()
        return
    for start in range(0, rows.n_rows, rows_per_batch):
        yield rows.take(np.arange(start, min(start + rows_per_batch, rows.n_rows)))


def apply_output_head(network, data, choice: str, validate=None, metric=None) -> dict:
    """Carry out the Classifier's output_head option after training: "trained" keeps the trained rows,
    "centroid" replaces them (set_centroid_head), "auto" replaces them when `validate()` (metric name ->
    value on the validation set) scores `metric` better with the centroids, or, without a validation set,
    when classes have few training rows each (model_selection.auto_output_head). Returns what was done,
    for the model's summary: {"output_head": "trained" | "centroid"} plus, for "auto", both validation
    scores or the rule that decided."""
    if choice == "auto" and validate is None:
        head, rule = auto_output_head(data.n_rows, network.output_dim)
        return dict(apply_output_head(network, data, head), rule=rule)
    if choice == "trained":
        return {"output_head": "trained"}
    if choice == "centroid":
        set_centroid_head(network, lambda: training_batches(data))
        return {"output_head": "centroid"}
    views = network.weights()
    trained = {name: views[name].copy() for name in (STATE.output_weight, STATE.output_bias)}
    trained_score = validate()[metric.name]
    set_centroid_head(network, lambda: training_batches(data))
    centroid_score = validate()[metric.name]
    better = centroid_score > trained_score if metric.higher_is_better else centroid_score < trained_score
    if not better:
        for name, values in trained.items():
            views[name][...] = values
    return {"output_head": "centroid" if better else "trained", "metric": metric.name,
            "trained": float(trained_score), "centroid": float(centroid_score)}
