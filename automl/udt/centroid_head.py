"""The centroid output head: each class's output row becomes the mean hidden activation of its training rows.

A trained output row of a class with a handful of rows fits the wording of those rows. The mean of their
learned representations scores by similarity instead, which holds up when the rows to predict are worded
unlike the training rows -- search, where a model trains on documents' sentences and is queried with short
summaries. Measured with the same trained network, P@1 of the trained rows -> the centroid rows:
  debsearch (description sentences -> one-line summaries, 63k classes, all 63,427 test summaries):
      0.275 -> 0.321 exact, 0.259 -> 0.294 sparse inference (a TF-IDF nearest centroid on the inputs: 0.333);
  WordNet (glosses -> hypernyms, test rows like the training rows, 17k labels): 0.383 -> 0.375;
  20 Newsgroups 0.850 -> 0.845; Debian sections from descriptions 0.781 -> 0.763.
So neither head wins everywhere: the Classifier keeps the trained rows unless asked (output_head="centroid")
or, with output_head="auto", unless the centroids score higher on the validation set given to fit.

The rows point along the class mean and have the median length of the trained rows, so scores keep the
trained head's sharpness (debsearch test log-loss 5.54 at that length, 5.88 at twice it, 7.31 at half).
Biases stay as trained: the class prior for softmax, the calibration of each sigmoid.
"""
from __future__ import annotations

from typing import Iterable

import numpy as np

EMBED_ROWS = 16_384  # rows embedded at once: 16 MB of activations at hidden_dim 256


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


def set_centroid_head(network, batches: Iterable) -> int:
    """Replace the output row of every class that has rows in `batches` by its centroid (see the module
    docstring); classes without rows keep their trained row. Returns the number of rows replaced. The
    caller rebuilds the LSH index (network.rebuild_index or index_labels) before sparse inference."""
    sums, counts = class_embedding_sums(network, batches)
    weight = network.weights()["output.weight"]
    length = float(np.median(np.linalg.norm(weight, axis=1)))
    norms = np.linalg.norm(sums, axis=1)
    replace = (counts > 0) & (norms > 0)  # a class whose rows all embed to zero keeps its trained row
    weight[replace] = (sums[replace] * (length / norms[replace])[:, None]).astype(np.float32)
    return int(np.count_nonzero(replace))


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
    "centroid" replaces them (set_centroid_head), "auto" replaces them only when `validate()` (metric
    name -> value on the validation set) scores `metric` better with the centroids; without a validation
    set "auto" keeps the trained rows. Returns what was done, for the model's summary:
    {"output_head": "trained" | "centroid"} plus, for "auto" with validation, both scores."""
    if choice == "trained" or (choice == "auto" and validate is None):
        return {"output_head": "trained"}
    if choice == "centroid":
        set_centroid_head(network, training_batches(data))
        return {"output_head": "centroid"}
    weight = network.weights()["output.weight"]
    trained_rows = weight.copy()
    trained_score = validate()[metric.name]
    set_centroid_head(network, training_batches(data))
    centroid_score = validate()[metric.name]
    better = centroid_score > trained_score if metric.higher_is_better else centroid_score < trained_score
    if not better:
        weight[...] = trained_rows
    return {"output_head": "centroid" if better else "trained", "metric": metric.name,
            "trained": float(trained_score), "centroid": float(centroid_score)}
