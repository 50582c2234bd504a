"""Evaluation metrics for classification, ranking and regression.

Every function takes plain numpy inputs so it can be checked against scikit-learn and reused by
the trainer (per-epoch validation), `evaluate` and the demos.  Ranking metrics take true labels
as either a 1-D array (one label per row) or a sequence of label collections (multi-label), and
predictions as an (n, k) array of label ids, best first.

Metric names accepted by `parse_metric` / `evaluate`:
  accuracy, precision@K, recall@K, roc_auc (binary), log_loss, mae, rmse, r2
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

import numpy as np

CLASSIFICATION_METRICS = ("accuracy", "precision@K", "recall@K", "roc_auc", "log_loss")
REGRESSION_METRICS = ("mae", "rmse", "r2")


@dataclass(frozen=True)
class MetricSpec:
    """A parsed metric name: `precision@5` -> MetricSpec("precision", 5)."""

    kind: str
    k: int = 1

    @property
    def name(self) -> str:
        return f"{self.kind}@{self.k}" if self.kind in ("precision", "recall") else self.kind

    @property
    def higher_is_better(self) -> bool:
        return self.kind not in ("log_loss", "mae", "rmse")

    @property
    def needs_probabilities(self) -> bool:
        """True when the metric needs every class's score, not just the top-k ids."""
        return self.kind in ("roc_auc", "log_loss")


_AT_K = re.compile(r"^(precision|recall)@([1-9][0-9]*)$")


def parse_metric(name: str, task: str = "single") -> MetricSpec:
    """Parse a metric name, checking it fits the task ("single", "multi" or "regression")."""
    if not isinstance(name, str):
        raise TypeError(f"metric names are strings, got {name!r}")
    key = name.strip().lower()
    match = _AT_K.match(key)
    spec = MetricSpec(match.group(1), int(match.group(2))) if match else MetricSpec(key)
    valid = REGRESSION_METRICS if task == "regression" else CLASSIFICATION_METRICS
    allowed = {"precision", "recall"} | set(valid) if task != "regression" else set(valid)
    if spec.kind not in allowed:
        raise ValueError(f"unknown metric {name!r} for a {task} task; valid metrics: {', '.join(valid)}")
    if spec.kind == "roc_auc" and task != "single":
        raise ValueError("roc_auc is defined here for binary single-label targets only")
    return spec


def _label_pairs(y_true) -> tuple[np.ndarray, np.ndarray]:
    """(row ids, label ids) of every true label, from a 1-D array or a sequence of collections."""
    if isinstance(y_true, np.ndarray) and y_true.ndim == 1 and y_true.dtype != object:
        return np.arange(len(y_true), dtype=np.int64), y_true.astype(np.int64)
    rows, labels = [], []
    for i, labs in enumerate(y_true):
        labs = np.atleast_1d(np.asarray(labs, dtype=np.int64))
        rows.append(np.full(len(labs), i, dtype=np.int64))
        labels.append(labs)
    if not rows:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(rows), np.concatenate(labels)


def _hits(y_true, ranked: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Per row: how many of the top-k predictions are true, and how many true labels there are."""
    ranked = np.asarray(ranked)
    if ranked.ndim == 1:
        ranked = ranked[:, None]
    if k > ranked.shape[1]:
        raise ValueError(f"@{k} needs at least {k} ranked predictions per row, got {ranked.shape[1]}")
    n = ranked.shape[0]
    rows, labels = _label_pairs(y_true)
    if len(rows) and rows[-1] >= n:
        raise ValueError(f"y_true has more rows than the {n} rows of predictions")
    top = ranked[:, :k].astype(np.int64)
    # Encode (row, label) pairs as one int so membership is one vectorised isin.
    width = int(max(top.max(initial=0), labels.max(initial=0))) + 1
    true_keys = np.unique(rows * width + labels)
    pred_keys = np.arange(n, dtype=np.int64)[:, None] * width + top
    # A label repeated in the ranking counts once.
    hit = np.isin(pred_keys, true_keys)
    if k > 1:
        first = np.ones_like(hit)
        s = np.sort(top, axis=1)
        order = np.argsort(top, axis=1, kind="stable")
        dup_sorted = np.zeros_like(hit)
        dup_sorted[:, 1:] = s[:, 1:] == s[:, :-1]
        np.put_along_axis(first, order, ~dup_sorted, axis=1)
        hit &= first
    n_true = np.bincount(true_keys // width, minlength=n)[:n]
    return hit.sum(axis=1), n_true


def accuracy(y_true, y_pred) -> float:
    """Fraction of rows whose prediction equals the true value (any comparable dtype)."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true has shape {y_true.shape} but y_pred has shape {y_pred.shape}")
    if len(y_true) == 0:
        raise ValueError("accuracy of zero rows is undefined")
    return float(np.mean(y_true == y_pred))


def precision_at_k(y_true, ranked, k: int) -> float:
    """Mean over rows of |top-k ∩ true| / k."""
    hits, _ = _hits(y_true, ranked, k)
    if len(hits) == 0:
        raise ValueError("precision@k of zero rows is undefined")
    return float(np.mean(hits / k))


def recall_at_k(y_true, ranked, k: int) -> float:
    """Mean over rows with at least one true label of |top-k ∩ true| / |true|."""
    hits, n_true = _hits(y_true, ranked, k)
    keep = n_true > 0
    if not keep.any():
        raise ValueError("recall@k needs at least one row with a true label")
    return float(np.mean(hits[keep] / n_true[keep]))


def roc_auc_binary(y_true, scores) -> float:
    """Area under the ROC curve for 0/1 targets (Mann-Whitney U with average ranks for ties)."""
    y = np.asarray(y_true).astype(bool)
    s = np.asarray(scores, dtype=np.float64)
    if y.shape != s.shape or y.ndim != 1:
        raise ValueError(f"roc_auc needs 1-D targets and scores of equal length, got {y.shape} and {s.shape}")
    n_pos = int(y.sum())
    n_neg = len(y) - n_pos
    if n_pos == 0 or n_neg == 0:
        raise ValueError("roc_auc is undefined when only one class is present in y_true")
    order = np.argsort(s, kind="mergesort")
    sorted_s = s[order]
    # Average rank of each run of tied scores.
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_s)) + 1]
    ends = np.r_[starts[1:], len(s)]
    avg = (starts + ends + 1) / 2.0
    ranks = np.empty(len(s))
    ranks[order] = np.repeat(avg, ends - starts)
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def log_loss(y_true, proba, eps: float = 1e-15) -> float:
    """Mean negative log-probability of the true class; proba is (n, n_classes), y_true class ids."""
    y = np.asarray(y_true, dtype=np.int64)
    p = np.asarray(proba, dtype=np.float64)
    if p.ndim != 2 or p.shape[0] != len(y):
        raise ValueError(f"log_loss needs proba of shape (n, n_classes) with n={len(y)}, got {p.shape}")
    if len(y) == 0:
        raise ValueError("log_loss of zero rows is undefined")
    picked = np.clip(p[np.arange(len(y)), y], eps, 1.0)
    return float(-np.mean(np.log(picked)))


def _regression_inputs(y_true, y_pred):
    t = np.asarray(y_true, dtype=np.float64).ravel()
    p = np.asarray(y_pred, dtype=np.float64).ravel()
    if t.shape != p.shape:
        raise ValueError(f"y_true has {len(t)} values but y_pred has {len(p)}")
    if len(t) == 0:
        raise ValueError("regression metrics of zero rows are undefined")
    return t, p


def mae(y_true, y_pred) -> float:
    t, p = _regression_inputs(y_true, y_pred)
    return float(np.mean(np.abs(t - p)))


def rmse(y_true, y_pred) -> float:
    t, p = _regression_inputs(y_true, y_pred)
    return float(np.sqrt(np.mean((t - p) ** 2)))


def r2(y_true, y_pred) -> float:
    """Coefficient of determination; 1.0 for a perfect fit, 0.0 when constant targets are matched."""
    t, p = _regression_inputs(y_true, y_pred)
    ss_res = float(np.sum((t - p) ** 2))
    ss_tot = float(np.sum((t - t.mean()) ** 2))
    if ss_tot == 0.0:
        return 1.0 if ss_res == 0.0 else 0.0
    return 1.0 - ss_res / ss_tot


def classification_metric(spec: MetricSpec, y_true, ranked: np.ndarray | None,
                          proba: np.ndarray | None) -> float:
    """Compute one classification metric from true label ids, ranked predicted ids and/or proba."""
    if spec.kind == "accuracy":
        return accuracy(y_true, np.asarray(ranked)[:, 0])
    if spec.kind == "precision":
        return precision_at_k(y_true, ranked, spec.k)
    if spec.kind == "recall":
        return recall_at_k(y_true, ranked, spec.k)
    if spec.kind == "roc_auc":
        if proba.shape[1] != 2:
            raise ValueError(f"roc_auc needs exactly 2 classes, this target has {proba.shape[1]}")
        return roc_auc_binary(y_true, proba[:, 1])
    if spec.kind == "log_loss":
        return log_loss(y_true, proba)
    raise ValueError(f"{spec.name} is not a classification metric")


def regression_metric(spec: MetricSpec, y_true, y_pred) -> float:
    return {"mae": mae, "rmse": rmse, "r2": r2}[spec.kind](y_true, y_pred)


def parse_metrics(names: Sequence[str] | str | None, task: str) -> list[MetricSpec]:
    """Parse a list (or comma-separated string) of metric names; None gives the task's default."""
    if names is None:
        names = ["rmse"] if task == "regression" else ["precision@1"] if task == "multi" else ["accuracy"]
    if isinstance(names, str):
        names = [n for n in names.split(",") if n.strip()]
    specs = [parse_metric(n, task) for n in names]
    if task == "multi" and any(s.kind == "accuracy" for s in specs):
        raise ValueError("accuracy is not defined for a multi-label target (a row has several true labels); use "
                         "precision@1 (the best label is one of them), precision@k or recall@k")
    if not specs:
        raise ValueError("at least one metric is needed")
    return specs
