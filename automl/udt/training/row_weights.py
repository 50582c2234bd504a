"""Row weights for training: sample weights (a column of the data) times class weights.

class_weight="balanced" gives class c the weight n / (k * n_c) (n rows, k classes, n_c rows with label c:
scikit-learn's rule), so every class carries the same total weight; a dict gives weights by label value
(other classes 1). A multi-label row takes the mean weight of its labels. Sample weights are divided by
their mean over the training rows, so weighting changes the balance between rows, not the step size the
learning rate was chosen for (class weights have mean 1 by construction for "balanced").
"""
from __future__ import annotations

import numpy as np

from udt.ingest.batch import CsrBatch


def label_counts(batch: CsrBatch, n_classes: int) -> np.ndarray:
    """Rows per label id."""
    return np.bincount(np.asarray(batch.label_indices, np.int64), minlength=n_classes)


def class_weight_vector(class_weight, classes: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """One weight per class id, for the class_weight option ("balanced" or {label: weight})."""
    if class_weight == "balanced":
        seen = counts > 0
        weights = np.ones(len(classes), np.float64)
        weights[seen] = counts[seen].sum() / (seen.sum() * counts[seen])
        return weights.astype(np.float32)
    by_label = {str(c): i for i, c in enumerate(classes)}
    weights = np.ones(len(classes), np.float32)
    for label, weight in class_weight.items():
        if str(label) not in by_label:
            raise ValueError(f"class_weight names {label!r}, which is not a class of the target; classes: "
                             f"{', '.join(map(str, classes[:20]))}{' ...' if len(classes) > 20 else ''}")
        if not (np.isfinite(weight) and weight >= 0):
            raise ValueError(f"class_weight[{label!r}] = {weight!r}: expected a finite number >= 0")
        weights[by_label[str(label)]] = weight
    return weights


def weigh(batch: CsrBatch, class_weights: np.ndarray | None, sample_scale: float | None) -> None:
    """Sets batch.row_weights to (sample weight * sample_scale) * class weight, in place."""
    weights = batch.row_weights
    if sample_scale is not None and weights is not None:
        weights = weights * np.float32(sample_scale)
    if class_weights is not None:
        lengths = np.diff(batch.label_offsets)
        per_label = class_weights[np.asarray(batch.label_indices, np.int64)]
        sums = np.add.reduceat(per_label, batch.label_offsets[:-1]) if len(per_label) else np.zeros(batch.n_rows)
        by_class = np.where(lengths > 0, sums / np.maximum(lengths, 1), 1.0).astype(np.float32)
        weights = by_class if weights is None else weights * by_class
    batch.row_weights = None if weights is None else np.ascontiguousarray(weights, np.float32)
