"""Multi-label predictions from a softmax head: which of a row's ranked labels make its predicted set.

A multi-label target trains a softmax against the row's label set normalised to sum 1 (MULTI_LABEL_LOSS in
udt.selection.model_selection): it ranks labels well, but its scores are shares of one distribution, so a row
with four labels gives each about a quarter and no fixed cut on the shares suits every row. predict() keeps
the labels whose share x `share_scale` reaches the `threshold` option (0.5; always the best label), where
share_scale is fitted once after training: the value, on a grid, whose label sets have the best mean
example-based F1 on up to CALIBRATION_ROWS rows (the validation rows when given, else training rows). One
number for all labels, as the centroid head calibrates a sigmoid head (udt.training.centroid_head).
On the tests' generated three-topic task, exact set matches at threshold 0.5: 0.72 with the mean labels per
training row as the scale, 0.9 with the fitted one.
"""
from __future__ import annotations

import numpy as np

from udt.ingest.batch import CsrBatch

CALIBRATION_ROWS = 4096
SCALES = np.geomspace(0.5, 256.0, 64)   # candidate share_scale values
TOP_LABELS = 64                          # labels per row a predicted set is drawn from (predict's fetch)


def fit_share_scale(network, rows: CsrBatch, threshold: float = 0.5) -> float:
    """The share_scale whose label sets (share x scale >= threshold, at least one) score the best mean
    example-based F1 against `rows`' own labels; ties go to the smaller scale."""
    n = min(rows.n_rows, CALIBRATION_ROWS)
    if n == 0:
        return 1.0
    sample = rows.take(np.linspace(0, rows.n_rows - 1, n).astype(np.int64)) if rows.n_rows > n else rows
    k = min(TOP_LABELS, network.output_dim)
    ids, scores = network.predict(sample.indices, sample.values, sample.offsets, top_k=k)
    truth_counts = np.diff(sample.label_offsets)
    hit = np.zeros(ids.shape, bool)   # ids[i, j] is one of row i's labels
    for i in range(n):
        labels = sample.label_indices[sample.label_offsets[i]:sample.label_offsets[i + 1]]
        hit[i] = np.isin(ids[i], labels)
    best, best_f1 = 1.0, -1.0
    for scale in SCALES:
        kept = np.maximum(1, np.count_nonzero(scores * scale >= threshold, axis=1))
        correct = np.cumsum(hit, axis=1)[np.arange(n), kept - 1]
        f1 = np.mean(2.0 * correct / np.maximum(kept + truth_counts, 1))
        if f1 > best_f1 + 1e-12:
            best, best_f1 = float(scale), f1
    return best


def set_sizes(scores: np.ndarray, threshold: float, share_scale: float) -> np.ndarray:
    """How many of each row's best-first labels predict() keeps (at least one)."""
    return np.maximum(1, np.count_nonzero(scores * share_scale >= threshold, axis=1))
