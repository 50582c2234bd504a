"""Metrics of a fitted model on featurized rows that carry their labels (validation and evaluate)."""
from __future__ import annotations

import numpy as np

from udt.training import metrics as udt_metrics
from udt.ingest.batch import CsrBatch
from udt.training.target_transform import unstandardised


def unscale_target(fitted, raw: np.ndarray) -> np.ndarray:
    """Regression outputs in the target's units (training transforms and standardises the target)."""
    return unstandardised(raw, fitted.target_scale, getattr(fitted, "target_transform", None))


def score_rows(fitted, rows: CsrBatch, specs, sparse: bool, sparsity=None) -> dict:
    """{metric name: value} of `fitted` on `rows` (their labels are the truth); sparse / sparsity as
    Network.predict takes them."""
    network, task = fitted.network, fitted.featurizer.task
    if task == "regression":
        _, raw = network.predict(rows.indices, rows.values, rows.offsets, top_k=1, sparse=False)
        truth, pred = rows.label_values, unscale_target(fitted, raw[:, 0])
        return {s.name: udt_metrics.regression_metric(s, truth, pred) for s in specs}
    n_classes = network.output_dim
    k = max(s.k for s in specs)
    ids, _ = network.predict(rows.indices, rows.values, rows.offsets, top_k=min(k, n_classes), sparse=sparse,
                              sparsity=sparsity)
    if k > n_classes:  # @k beyond the label count: pad with an id no true label has
        ids = np.hstack([ids, np.full((len(ids), k - n_classes), n_classes, ids.dtype)])
    proba = None
    if any(s.needs_probabilities for s in specs):
        proba = network.predict_scores(rows.indices, rows.values, rows.offsets)
    if task == "single":
        truth = np.asarray(rows.label_indices, np.int64)[rows.label_offsets[:-1]]
    else:
        truth = np.split(np.asarray(rows.label_indices, np.int64), rows.label_offsets[1:-1])
    return {s.name: udt_metrics.classification_metric(s, truth, ids, proba) for s in specs}
