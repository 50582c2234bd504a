"""udt.Classifier and udt.Regressor: declare columns and a target, fit on files or frames, predict.

Both are scikit-learn estimators (udt.interfaces.estimator holds what they share). Prediction featurizes with the
C++ featurizer and runs the engine directly; a single row (a dict) goes through the featurizer's
single-row path, so no DataFrame or Arrow object is built per call.
"""
from __future__ import annotations

import os

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin

from udt.interfaces.estimator import Estimator
from udt.model_file.estimator_file import read_estimator
from udt.training.label_sets import set_sizes
from udt.training.scoring import unscale_target
from udt.model_file.serialization import ModelFileError


class Classifier(ClassifierMixin, Estimator):
    """Single-label or multi-label classifier (multi-label: target udt.Categorical(delimiter=...)).

    Parameters: `columns` (dict column name -> column type: udt.Text(), udt.Categorical(), udt.Numeric(),
    ...), `target` (the column to predict), then keyword-only options, each declared once with its
    default, valid values and meaning in udt.options (help(udt.options) or `udt train --help`); "auto"
    values are chosen from the data by udt.selection.model_selection and reported by summary().
    """

    _kind = "Classifier"

    def _check_task(self, task, target):
        if task == "regression":
            raise ValueError(f"target {target!r} is numeric; use udt.Regressor for a numeric target, or declare "
                             f"it udt.Categorical() to classify its values")

    @property
    def classes_(self) -> np.ndarray:
        """The label values, in the order of predict_proba's columns."""
        if "model_" not in self.__dict__:
            raise AttributeError("classes_ is set by fit()")
        return self.model_.featurizer.classes_

    def _labels(self, ids):
        return self.model_.featurizer.decode(ids)

    def _multi_label_sets(self, ids, scores):
        """Per row, the labels whose probability reaches `threshold` (always at least the best one): a sigmoid
        head's probabilities, or a softmax head's shares times its fitted scale (udt.training.label_sets)."""
        fitted = self.model_
        softmax = fitted.network.config["loss"] == "softmax"
        sizes = set_sizes(scores, self.threshold, (fitted.label_share_scale or 1.0) if softmax else 1.0)
        out = np.empty(len(ids), dtype=object)
        for i, keep in enumerate(sizes):
            out[i] = list(self._labels(ids[i, :keep]))
        return out

    def _predict_one(self, row: dict, inference: dict) -> int:
        """Best label id of one row: the latency-critical path (p50 target 0.02 ms), no extra work."""
        ids, _ = self.model_.network.predict(*self._row(row), top_k=1, checked=False, **inference)
        return ids[0, 0]

    def predict(self, data, *, top_k=None, sparse_inference=None, exclude_seen="auto"):
        """Labels of `data` (a table/file -> array; a dict -> one label).

        top_k=k returns the k most likely labels per row, best first ((n, k) array; a list for a dict).
        Multi-label targets without top_k return, per row, the labels scoring >= threshold.
        exclude_seen (temporal models): leave out labels the row's key already had in training; "auto":
        when the training rows rarely repeated their key's label (a ratings log: udt.training.seen_items).
        """
        fitted = self._check_fitted()
        inference = self._inference(sparse_inference)
        multi = fitted.featurizer.task == "multi"
        n_classes = fitted.featurizer.n_classes
        k = _check_top_k(top_k, n_classes)
        if self._excludes_seen(exclude_seen):
            ids, _ = self._top_k_unseen(data, k or 1, inference)
            labels = self._labels(ids[:, 0] if top_k is None else ids)
            return (labels[0] if top_k is None else list(labels[0])) if isinstance(data, dict) else labels
        if k is None and not multi and n_classes == 2 and self.threshold != 0.5:
            return self._predict_binary(data)
        fetch = k if k else min(n_classes, 64) if multi else 1
        if isinstance(data, dict):
            if k is None and not multi:
                return self.classes_[self._predict_one(data, inference)]
            ids, scores = fitted.network.predict(*self._row(data), top_k=fetch, **inference)
            return list(self._labels(ids[0])) if k else self._multi_label_sets(ids, scores)[0]
        parts = []
        for batch in self._batches(data):
            ids, scores = self._top_k(batch, fetch, inference)
            parts.append(self._labels(ids) if k else self._multi_label_sets(ids, scores) if multi
                         else self._labels(ids[:, 0]))
        if not parts:
            return np.empty((0, k) if k else 0, dtype=object if multi and not k else self.classes_.dtype)
        return np.concatenate(parts)

    def _predict_binary(self, data):
        """Two classes: classes_[1] where its probability reaches `threshold`, else classes_[0]."""
        proba = self.predict_proba(data)
        labels = self.classes_[(proba[:, 1] >= self.threshold).astype(np.int64)]
        return labels[0] if isinstance(data, dict) else labels

    def _excludes_seen(self, exclude_seen) -> bool:
        """exclude_seen resolved: "auto" is True when the training rows rarely repeated their key's label."""
        seen = self.model_.seen
        if isinstance(exclude_seen, str) and exclude_seen == "auto":
            return seen is not None and seen.repeats_rare
        if not isinstance(exclude_seen, (bool, np.bool_)):
            raise ValueError(f"exclude_seen={exclude_seen!r}: expected True, False or 'auto'")
        if exclude_seen and seen is None:
            raise ValueError("exclude_seen=True needs a single-label model fitted with temporal={key: [...]}")
        return bool(exclude_seen)

    def _top_k_unseen(self, data, k, inference) -> tuple[np.ndarray, np.ndarray]:
        """(ids, scores), (n, k) best first: each row's k best labels its key did not have in training."""
        fitted = self.model_
        fetch = min(fitted.featurizer.n_classes, k + fitted.seen.most_per_key)
        key = next(iter(fitted.featurizer.temporal))
        if isinstance(data, dict):
            ids, scores = fitted.network.predict(*self._row(data), top_k=fetch, **inference)
            return fitted.seen.drop(ids, scores, [str(data.get(key))], k)
        from udt.ingest.data import read_batches
        keys = [str(v) for batch in read_batches(data, columns=[key]) for v in batch.column(0).to_pylist()]
        id_parts, score_parts, start = [], [], 0
        for batch in self._batches(data):
            ids, scores = self._top_k(batch, fetch, inference)
            ids, scores = fitted.seen.drop(ids, scores, keys[start:start + batch.n_rows], k)
            start += batch.n_rows
            id_parts.append(ids)
            score_parts.append(scores)
        if not id_parts:
            return np.empty((0, k), np.int64), np.empty((0, k), np.float32)
        return np.concatenate(id_parts), np.concatenate(score_parts)

    def predict_proba(self, data, *, top_k=None, sparse_inference=None, exclude_seen="auto"):
        """Class probabilities (multi-label: each label's share of the row's softmax, or a sigmoid
        probability per label for models trained with one).

        Without top_k: an (n, n_classes) array in the order of classes_ (exact, dense output).
        With top_k=k: a tuple (labels (n, k), scores (n, k)), best first; exclude_seen as in predict, so the
        ranking is the one predict(top_k=k) returns (without top_k every class keeps its probability).
        """
        fitted = self._check_fitted()
        k = _check_top_k(top_k, fitted.featurizer.n_classes)
        excluded = self._excludes_seen(exclude_seen)
        if k is None and exclude_seen is True:
            raise ValueError("exclude_seen=True ranks the top_k labels; without top_k the probabilities of every "
                             "class are returned: pass top_k, or leave exclude_seen at 'auto'")
        if k is not None and excluded:
            ids, scores = self._top_k_unseen(data, k, self._inference(sparse_inference))
            return self._labels(ids), scores
        if isinstance(data, dict):  # the single-row path: missing columns are missing values
            if k is None:
                return fitted.network.predict_scores(*self._row(data))
            ids, scores = fitted.network.predict(*self._row(data), top_k=k, **self._inference(sparse_inference))
            return self._labels(ids), scores
        if k is None:
            parts = [fitted.network.predict_scores(b.indices, b.values, b.offsets) for b in self._batches(data)]
            return np.concatenate(parts) if parts else np.empty((0, fitted.featurizer.n_classes), np.float32)
        inference = self._inference(sparse_inference)
        labels, scores = [], []
        for batch in self._batches(data):
            ids, s = self._top_k(batch, k, inference)
            labels.append(self._labels(ids))
            scores.append(s)
        if not labels:
            return np.empty((0, k), self.classes_.dtype), np.empty((0, k), np.float32)
        return np.concatenate(labels), np.concatenate(scores)


class Regressor(RegressorMixin, Estimator):
    """Regression on a udt.Numeric() target with a real regression head (squared error, one output).

    Parameters are those of udt.Classifier (sparsity and threshold do not apply).
    """

    _kind = "Regressor"

    def _check_task(self, task, target):
        if task != "regression":
            raise ValueError(f"udt.Regressor needs a numeric target; declare {target!r} as udt.Numeric(), or use "
                             f"udt.Classifier for a categorical target")

    def predict(self, data):
        """Predicted values: an array for a table/file, one float for a dict."""
        fitted = self._check_fitted()
        if isinstance(data, dict):
            _, raw = fitted.network.predict(*self._row(data), top_k=1)
            return float(unscale_target(fitted, raw[0, :1])[0])
        dense = {"sparse": False, "sparsity": None}
        parts = [unscale_target(fitted, self._top_k(b, 1, dense)[1][:, 0]) for b in self._batches(data)]
        return np.concatenate(parts) if parts else np.empty(0)


def load(path: str | os.PathLike):
    """Load a model written by save(); refuses anything that is not a valid udt model file."""
    stored = read_estimator(path)
    cls = {"Classifier": Classifier, "Regressor": Regressor}[stored.kind]
    try:
        model = cls(**stored.params)
    except TypeError as exc:
        raise ModelFileError(f"{os.fspath(path)} has options this udt does not know: {exc}") from None
    model.model_ = stored.fitted
    return model


def _check_top_k(top_k, n_classes):
    if top_k is None:
        return None
    if not isinstance(top_k, (int, np.integer)) or isinstance(top_k, bool) or top_k < 1:
        raise ValueError(f"invalid top_k={top_k!r}: expected None or an integer >= 1")
    if top_k > n_classes:
        raise ValueError(f"top_k={top_k} exceeds the {n_classes} classes of this model")
    return int(top_k)
