"""What Classifier and Regressor share: options from the one schema, fit, featurized prediction,
evaluation, the model file and pickling.

The constructor only stores its arguments (its signature is generated from udt.options.OPTIONS).
`fit` validates them and calls udt.training.fit.fit_model; the estimator holds what that returns, one
FittedModel (`model_`), swapped in whole at the end of a first fit, so a model that is being fitted
for the first time is simply not fitted yet. Continued training trains the held model in place; the
engine serves predictions during it from the weights of the last completed batch.
"""
from __future__ import annotations

import copy
import inspect
import os

import numpy as np
from sklearn.base import BaseEstimator

from udt.training import metrics as udt_metrics
from udt.columns import check_columns
from udt.errors import ConfigError, DataError
from udt.model_file.estimator_file import StoredEstimator, decode_estimator, encode_estimator, read_estimator, write_estimator
from udt.training.fit import PASS_BATCH_ROWS, featurized_rows, fit_model, record_seen
from udt.selection.model_selection import summary_text
from udt.options import OPTIONS, unknown_option_error, validate_options
from udt.training.scoring import score_rows


def _with_target(X, y, target: str):
    """Join a feature table and a target (Series, array or list) into one table, as fit(X, y) expects."""
    import pandas as pd
    if not isinstance(X, pd.DataFrame):
        raise TypeError(f"fit(X, y) needs X to be a pandas DataFrame or an array-like, got {type(X).__name__}; "
                        f"or pass one table/file that contains the target column {target!r}")
    if target in X.columns:
        raise ValueError(f"X already contains the target column {target!r}; pass either fit(X) or fit(X_without_"
                         f"target, y)")
    y = np.asarray(y)
    if y.dtype == object:
        try:
            y = y.astype(np.float64) if all(isinstance(v, (int, float, np.number)) for v in y.ravel()) else y
        except (TypeError, ValueError):
            pass
    if y.ndim == 2 and y.shape[1] == 1:
        import warnings
        from sklearn.exceptions import DataConversionWarning
        warnings.warn("A column-vector y was passed when a 1d array was expected; it is used as y.ravel()",
                      DataConversionWarning, stacklevel=4)
        y = y.ravel()
    if y.ndim != 1:
        raise ValueError(f"y must be 1-d (one target per row), got shape {y.shape}")
    if len(y) != len(X):
        raise ValueError(f"X has {len(X)} rows but y has {len(y)}")
    return X.assign(**{target: y})


WEIGHT_COLUMN = "__udt_sample_weight__"
_SPARSE_INFERENCE = next(o for o in OPTIONS if o.name == "sparse_inference")


def _with_weights(source, sample_weight):
    """(source, weight column name or None): an array of weights becomes a column of an in-memory table."""
    if sample_weight is None or isinstance(sample_weight, str):
        return source, sample_weight
    import pandas as pd
    import pyarrow as pa
    weights = np.asarray(sample_weight, dtype=np.float64)
    if weights.ndim != 1:
        raise ValueError(f"sample_weight must be 1-d (one weight per row), got shape {weights.shape}")
    if not isinstance(source, (pd.DataFrame, pa.Table)):
        raise ValueError("sample_weight as an array needs in-memory data (a DataFrame, table or array); for files "
                         "pass the name of a column that holds the weights")
    if len(weights) != len(source):
        raise ValueError(f"sample_weight has {len(weights)} values but the data has {len(source)} rows")
    if isinstance(source, pa.Table):
        return source.append_column(WEIGHT_COLUMN, pa.array(weights)), WEIGHT_COLUMN
    return source.assign(**{WEIGHT_COLUMN: weights}), WEIGHT_COLUMN


def _named_columns(X):
    """A DataFrame whose column labels are not all strings (e.g. pd.DataFrame(array): 0, 1, ...) gets the
    names an array's columns get, x0, x1, ..., so both forms of the same data give the same model."""
    import pandas as pd
    if isinstance(X, pd.DataFrame) and not all(isinstance(c, str) for c in X.columns):
        return X.rename(columns={c: c if isinstance(c, str) else f"x{c}" for c in X.columns})
    return X


def _is_sparse(X) -> bool:
    return type(X).__module__.startswith("scipy.sparse")


def _is_array_like(X) -> bool:
    """numpy arrays, nested lists of values and other objects with __array__ (not tables, files or rows)."""
    import pandas as pd
    import pyarrow as pa
    if _is_sparse(X):  # before the dict test: a dok_matrix is a dict
        return True
    if isinstance(X, (str, os.PathLike, dict, pd.DataFrame, pd.Series, pa.Table, pa.RecordBatch)):
        return False
    if isinstance(X, (list, tuple)):
        return bool(X) and not isinstance(X[0], (dict, str, os.PathLike))
    return hasattr(X, "__array__") or hasattr(X, "toarray")


def _array_table(X, names=None, kind="this model"):
    """An array-like of shape (n_rows, n_columns) as a DataFrame with columns `names` (default x0, x1, ...).
    Object arrays of numbers become numbers; of strings, strings (each column's type is then inferred)."""
    import pandas as pd
    if _is_sparse(X):
        raise TypeError("udt does not take scipy sparse input; pass a dense array or a table (text columns are "
                        "featurized sparsely by udt itself)")
    a = np.asarray(X)
    if a.ndim != 2:
        raise ValueError(f"Expected a 2-d array of shape (n_rows, n_columns), got shape {a.shape}. Reshape your "
                         f"data either using X.reshape(-1, 1) if it has a single feature or X.reshape(1, -1) if "
                         f"it holds a single row")
    if a.shape[1] == 0:
        raise ValueError(f"0 feature(s) (shape={a.shape}) while a minimum of 1 is required.")
    if names is None and a.shape[0] == 0:
        raise ValueError(f"0 sample(s) (shape={a.shape}) while a minimum of 1 is required.")
    if names is not None and a.shape[1] != len(names):
        raise ValueError(f"X has {a.shape[1]} features, but {kind} is expecting {len(names)} features as "
                         f"input (columns {', '.join(names)})")
    if a.dtype.kind == "c":
        raise ValueError("Complex data not supported; pass real numbers")
    if a.dtype == object:
        try:
            a = a.astype(np.float64)
        except ValueError:  # strings: kept, and typed per column like a table's
            pass
    if a.dtype.kind == "f" and not np.isfinite(a).all():
        raise ValueError("Input X contains NaN or infinity; use a table with missing values (None) instead")
    names = names or [f"x{i}" for i in range(a.shape[1])]
    return pd.DataFrame({name: a[:, i] for i, name in enumerate(names)})


def _check_target_values(y, classifier: bool) -> None:
    """scikit-learn's contract for array targets: finite values; a classifier refuses a continuous target."""
    if y.dtype.kind in "fc" and not np.isfinite(y).all():
        raise ValueError("Input y contains NaN or infinity")
    if classifier and y.dtype.kind == "f":
        from sklearn.utils.multiclass import type_of_target
        if type_of_target(y) == "continuous":
            raise ValueError("Unknown label type: continuous. A udt.Classifier predicts classes; use udt.Regressor "
                             "for a continuous target")


_SIGNATURE = inspect.Signature(
    [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD),
     inspect.Parameter("columns", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None),
     inspect.Parameter("target", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None)]
    + [inspect.Parameter(o.name, inspect.Parameter.KEYWORD_ONLY, default=o.default) for o in OPTIONS])


class Estimator(BaseEstimator):
    _kind = "Estimator"

    def __init__(self, *args, **kwargs):
        try:
            bound = _SIGNATURE.bind(self, *args, **kwargs)
        except TypeError:
            unknown = set(kwargs) - set(_SIGNATURE.parameters)
            if unknown:  # the message lists the valid options
                raise unknown_option_error(self._kind, unknown) from None
            raise
        bound.apply_defaults()
        for name, value in list(bound.arguments.items())[1:]:
            setattr(self, name, value)

    __init__.__signature__ = _SIGNATURE  # what scikit-learn's get_params and help() read

    def __sklearn_clone__(self):
        # Column specs are value objects with their own get_params(); sklearn's generic clone would
        # treat them as estimators, so copy them as plain values instead.
        params = self.get_params(deep=False)
        params["columns"] = copy.deepcopy(params["columns"])
        params["temporal"] = copy.deepcopy(params["temporal"])
        return type(self)(**params)

    # ---------------------------------------------------------------- the fitted state
    def _check_fitted(self):
        if "model_" not in self.__dict__:
            from sklearn.exceptions import NotFittedError
            raise NotFittedError(f"this udt.{self._kind} is not fitted yet; call fit() first")
        return self.model_

    @property
    def network_(self):
        return self._check_fitted().network

    @property
    def featurizer_(self):
        return self._check_fitted().featurizer

    @property
    def plan_(self):
        return self._check_fitted().plan

    @property
    def history_(self):
        return self._check_fitted().history

    @property
    def n_features_in_(self) -> int:
        """Input columns the model reads (the target excluded)."""
        return len(self._check_fitted().featurizer.input_names)

    # ---------------------------------------------------------------- validation
    def _validated_options(self) -> dict:
        values = validate_options({o.name: getattr(self, o.name) for o in OPTIONS})
        if self.columns is not None:
            if not isinstance(self.columns, dict) or not self.columns:
                check_columns(self.columns)  # refuses it, saying what a declaration looks like
            declared = {n: s for n, s in self.columns.items() if s is not None}  # None: inferred
            if declared:
                check_columns(declared)
        if self.target is not None and not isinstance(self.target, str):
            raise ConfigError(f"target must be a column name, got {self.target!r}")
        return values

    def _resolve(self, X, y, previous):
        """(source, columns, target, inferred): array-likes as tables, the target named ("y" for fit(X, y)
        without target=), and the columns: the fitted model's when training continues, else the declared
        ones with every column declared None (and an undeclared target) typed from the data, or every
        column of the data when columns is None."""
        import pyarrow as pa
        if isinstance(X, pa.RecordBatchReader):  # a stream is read once; fit needs several passes
            X = X.read_all()
        if previous is not None:  # continued training: previous is self.model_, read as prediction input is
            fz, X = previous.featurizer, self._table(X)
            return (X if y is None else _with_target(X, y, fz.target)), fz.columns, fz.target, previous.inferred
        target = self.target if self.target is not None else "y" if y is not None else None
        if target is None:
            raise ConfigError(f"udt.{self._kind} requires y to be passed, but the target y is None: pass "
                              f"target=<column name> with a table that holds it, or fit(X, y)")
        X = _array_table(X) if _is_array_like(X) else _named_columns(X)
        if y is not None:
            _check_target_values(np.asarray(y), classifier=self._kind == "Classifier")
        source = X if y is None else _with_target(X, y, target)
        declared = self.columns
        if declared is not None and target in declared and all(s is not None for s in declared.values()):
            return source, declared, target, []
        from udt.ingest.infer_columns import infer_columns
        columns, inferred = infer_columns(source, None if declared is None else
                                          {n: s for n, s in declared.items() if s is not None}, target,
                                          numeric_target=self._kind == "Regressor")
        if declared is not None:  # only the declared columns (and the target) are read
            keep = set(declared) | {target}
            columns = {n: s for n, s in columns.items() if n in keep}
            inferred = [n for n in inferred if n in keep]
        return source, columns, target, inferred

    def _table(self, data):
        """Prediction input: array-likes become a table of the model's input columns, in their order."""
        if _is_array_like(data):
            return _array_table(data, self.model_.featurizer.input_names, kind=self._kind)
        return _named_columns(data)

    # ---------------------------------------------------------------- fitting

    def fit(self, X, y=None, *, sample_weight=None, epochs=None, validation=None, metrics=None, progress="auto",
            distributed=None):
        """Train on `X`: a CSV/Parquet path (or list of paths), a DataFrame or a pyarrow Table that holds
        every column including the target, or a feature DataFrame `X` plus a target `y`.

        epochs overrides the constructor's `epochs`; validation is data of the same kinds (or an
        (X, y) tuple), or a fraction in (0, 1) of the training rows to hold out (drawn with the seed;
        the training data must fit in memory_budget_mb), scored after every epoch with `metrics`
        (default: accuracy, precision@1 for
        multi-label, rmse for regression), kept in `history_` and used for early stopping; it is
        scored with exact (dense) inference, as the sparse-inference index is built after training.
        sample_weight: one weight >= 0 per row (an array-like, for in-memory data), or the name of a column
        of X that holds them (any source); multiplied by the class_weight option (udt.training.row_weights).
        progress: True/False, or "auto" (a progress bar per epoch when stderr is a terminal).
        distributed: None, or a udt.RayConfig to train data-parallel on Ray workers (udt.training.distributed);
        the featurizer is fitted and the data featurized here, as without it.
        With warm_start=True and a fitted model, training continues (as partial_fit does, for
        `epochs` epochs): the vocabulary, temporal histories and optimizer state are kept.
        """
        options = self._validated_options()
        if distributed is not None:
            from udt.training.distributed import check_distributed
            check_distributed(distributed)
        previous = self.__dict__.get("model_") if options["warm_start"] else None
        self._fit(options, X, y, previous, epochs=epochs, validation=validation, metrics=metrics,
                  progress=progress, distributed=distributed, sample_weight=sample_weight)
        return self

    def partial_fit(self, X, y=None, *, classes=None, sample_weight=None, validation=None, metrics=None,
                    progress=False):
        """One more epoch on new data with the fitted featurizer and network (fits from scratch if unfitted).
        classes (scikit-learn's partial_fit contract): every label the model will see, for the first call."""
        options = self._validated_options()
        previous = self.__dict__.get("model_")
        self._fit(options, X, y, previous, epochs=1, validation=validation, metrics=metrics, progress=progress,
                  classes=None if previous is not None else classes, sample_weight=sample_weight)
        return self

    def _fit(self, options, X, y, previous, *, validation, sample_weight=None, **kwargs):
        source, columns, target, inferred = self._resolve(X, y, previous)
        source, weight_column = _with_weights(source, sample_weight)
        if isinstance(validation, tuple):
            validation = _with_target(_array_table(validation[0], [n for n in columns if n != target])
                                      if _is_array_like(validation[0]) else validation[0], validation[1], target)
        for key, items in (options["temporal"] or {}).items():
            for name in [key, *items]:
                if name not in columns:
                    raise ConfigError(f"temporal column {name!r} is not one of the columns: {', '.join(columns)}")
        fitted = fit_model(columns, target, options, source, previous=previous, validation=validation,
                           check_task=lambda task: self._check_task(task, target), sample_weight=weight_column,
                           **kwargs)
        fitted.inferred = list(inferred)
        self.model_ = fitted

    def update_history(self, data) -> None:
        """Records new events (a dict, table or file with the temporal key, the tracked columns and the
        timestamp) in each key's history without training: later predictions for those keys see them,
        and predict(..., exclude_seen=True) leaves their items out. Temporal models only."""
        fitted = self._check_fitted()
        if not fitted.featurizer.temporal:
            raise ValueError("update_history() needs a model fitted with temporal={key: [tracked columns]}")
        if isinstance(data, dict):
            fitted.featurizer.transform_row(data, update_history=True)
            data = [data]
        else:
            for _ in fitted.featurizer.transform_batches(data, with_labels=False, update_history="append"):
                pass
        if fitted.seen is not None:
            record_seen(fitted, data)

    # ---------------------------------------------------------------- inference helpers
    def _inference(self, sparse_inference) -> dict:
        """Network.predict's sparse / sparsity arguments for a predict-time `sparse_inference`: None
        (the model's own choice), True / False, or the fraction of output neurons to evaluate."""
        given = sparse_inference is not None
        if not given:  # the plan's, checked against the network when it was fitted or loaded
            sparse_inference = self.model_.plan.sparse_inference
        elif isinstance(sparse_inference, str) or not _SPARSE_INFERENCE.valid(sparse_inference):
            raise ValueError(f"invalid sparse_inference={sparse_inference!r}: expected None, True, False or a "
                             f"fraction of the outputs in (0, 1]")
        sparse = bool(sparse_inference) if isinstance(sparse_inference, (bool, np.bool_)) else True
        if given and sparse and self.model_.network.lsh_params is None:
            raise ConfigError("sparse inference needs a sparse output layer (LSH index); this model's output layer "
                              "is dense: use sparse_inference=False or None")
        if isinstance(sparse_inference, (bool, np.bool_)):
            return {"sparse": sparse, "sparsity": None}
        return {"sparse": True, "sparsity": float(sparse_inference)}

    def _batches(self, data, with_labels=False):
        """Featurized CSR batches of `data` (prediction reads temporal histories, never writes them)."""
        if isinstance(data, dict):
            raise TypeError("this method takes a table or file; use predict(dict) for one row")
        return self.model_.featurizer.transform_batches(self._table(data), batch_rows=PASS_BATCH_ROWS, with_labels=with_labels,
                                                        update_history=False)

    def _row(self, row: dict):
        """One row's (indices, values, offsets), through the featurizer's single-row fast path."""
        idx, val = self.model_.featurizer.transform_row(row)
        return idx, val, np.array([0, len(idx)], np.int64)

    def _top_k(self, batch, k, inference):
        return self.model_.network.predict(batch.indices, batch.values, batch.offsets, top_k=k, **inference)

    # ---------------------------------------------------------------- public
    def evaluate(self, data, metrics=None, *, sparse_inference=None) -> dict:
        """Metrics (names as in udt.training.metrics, e.g. ["accuracy", "precision@1", "recall@10"]) on labeled data."""
        fitted = self._check_fitted()
        specs = udt_metrics.parse_metrics(metrics, fitted.featurizer.task)
        rows = featurized_rows(fitted, self._table(data))
        if rows.n_rows == 0:
            raise DataError("evaluate() needs labeled rows; the data has none")
        return score_rows(fitted, rows, specs, **self._inference(sparse_inference))

    def explain(self, rows, *, top=None, target_class=None, level="token", columns=None):
        """Which columns, words and values decided each prediction, most important first (udt.interfaces.explain:
        occlusion; score = the drop in the predicted class's probability, or in the predicted value,
        when that piece is removed). One row (a dict) -> a list of Explanation(column, token, score);
        a table -> one such list per row."""
        self._check_fitted()
        from udt.interfaces.explain import explain
        return explain(self, rows, top=top, target_class=target_class, level=level, columns=columns)

    def summary(self) -> None:
        """Print the chosen architecture, its parameter count and the last epoch's metrics."""
        fitted = self._check_fitted()
        print(summary_text(fitted.plan, kind=self._kind, target=fitted.featurizer.target,
                           n_rows=fitted.n_train_rows, columns=fitted.featurizer.columns, inferred=fitted.inferred, lsh_params=fitted.network.lsh_params, history=fitted.history,
                           output_head=fitted.output_head, search=fitted.search,
                           feature_scaling=(fitted.featurizer.scaling, self.feature_scaling == "auto")))

    def save(self, path: str | os.PathLike, *, optimizer_state: bool = True, precision: str = "float32") -> None:
        """Write the fitted model (options, featurizer state, label vocabulary, weights) to one file.

        optimizer_state=False leaves out the Adam moments (two thirds of a full file): the model predicts the
        same and cannot be trained further. precision "bfloat16" or "int8" stores the weight matrices in 2 or
        1 bytes per weight (udt.model_file.compact_arrays), for deployment."""
        write_estimator(path, self._stored(), optimizer_state=optimizer_state, precision=precision)

    def _stored(self) -> StoredEstimator:
        return StoredEstimator(self._kind, self.get_params(deep=False), self._check_fitted())

    # pickle, copy.deepcopy and joblib go through the model file's bytes (the engine's memory is C++)
    def __getstate__(self):
        state = {k: v for k, v in self.__dict__.items() if k != "model_"}
        if "model_" in self.__dict__:
            state["model_file_"] = encode_estimator(self._stored())
        return state

    def __setstate__(self, state):
        state = dict(state)
        blob = state.pop("model_file_", None)
        self.__dict__.update(state)
        if blob is not None:
            self.model_ = decode_estimator(blob, f"<pickled udt.{self._kind}>").fitted

