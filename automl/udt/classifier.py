"""udt.Classifier and udt.Regressor: declare columns and a target, fit on files or frames, predict.

Both are scikit-learn estimators: the constructor only stores its arguments; `fit` validates them,
fits the featurizer (label vocabulary, numeric ranges, ...), chooses the architecture
(`model_selection`), featurizes the training data once and hands it to the `Trainer`.  Prediction
featurizes with the C++ featurizers and runs the engine directly; a single row (a dict) goes through
`transform_row` so no DataFrame or Arrow object is built per call.
"""
from __future__ import annotations

import os
import sys

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin

from . import metrics as udt_metrics
from .model_selection import Architecture, auto_feature_scaling, auto_input_dim, choose_architecture, summary_text
from .options import OPTION_NAMES, unknown_option_error, validate_options
from .centroid_head import apply_output_head
from .estimator_file import load, save_estimator  # noqa: F401  (udt.load and cli import load from here)
from .trainer import CsrBatch, EarlyStopping, InMemoryData, Trainer, idf_weights, load_training_data, scale_features

_PREDICT_BATCH_ROWS = 8192


def _engine():
    from .engine import Network
    return Network


def _featurize():
    from . import featurize
    return featurize


def _column_types():
    from . import columns
    return columns


def _with_target(X, y, target: str):
    """Join a feature DataFrame and a target Series/array into one table, as fit(X, y) expects."""
    import pandas as pd
    if not isinstance(X, pd.DataFrame):
        raise TypeError(f"fit(X, y) needs X to be a pandas DataFrame, got {type(X).__name__}; "
                        f"or pass one table/file that contains the target column {target!r}")
    if target in X.columns:
        raise ValueError(f"X already contains the target column {target!r}; pass either fit(X) or fit(X_without_"
                         f"target, y)")
    y = np.asarray(y)
    if len(y) != len(X):
        raise ValueError(f"X has {len(X)} rows but y has {len(y)}")
    return X.assign(**{target: y})


class _Estimator(BaseEstimator):
    """What Classifier and Regressor share: options, fitting, featurizing, saving."""

    _kind = "Estimator"

    def __init__(self, columns=None, target=None, *, temporal=None, crosses=False, feature_scaling="auto",
                 input_dim="auto", hidden_dim="auto", sparsity="auto", sparse_inference="auto",
                 learning_rate="auto", batch_size="auto", epochs="auto", output_head="auto",
                 early_stopping_patience=2, threshold=0.5, hash_family="dwta", seed=0, n_threads=None,
                 warm_start=False, memory_budget_mb=2048, **unknown_options):
        if unknown_options:  # Python would raise too; this message lists the valid options
            raise unknown_option_error(self._kind, unknown_options)
        self.columns = columns
        self.target = target
        self.temporal = temporal
        self.crosses = crosses
        self.feature_scaling = feature_scaling
        self.input_dim = input_dim
        self.hidden_dim = hidden_dim
        self.sparsity = sparsity
        self.sparse_inference = sparse_inference
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.epochs = epochs
        self.output_head = output_head
        self.early_stopping_patience = early_stopping_patience
        self.threshold = threshold
        self.hash_family = hash_family
        self.seed = seed
        self.n_threads = n_threads
        self.warm_start = warm_start
        self.memory_budget_mb = memory_budget_mb

    def __sklearn_clone__(self):
        # Column specs are value objects with their own get_params(); sklearn's generic clone would
        # treat them as estimators, so copy them as plain values instead.
        import copy
        params = self.get_params(deep=False)
        params["columns"] = copy.deepcopy(params["columns"])
        params["temporal"] = copy.deepcopy(params["temporal"])
        return type(self)(**params)

    # ---------------------------------------------------------------- validation
    def _validated_options(self) -> dict:
        values = validate_options({name: getattr(self, name) for name in OPTION_NAMES})
        column_types = _column_types()
        if not isinstance(self.columns, dict) or not self.columns:
            raise ValueError(f"columns must be a non-empty dict of column name -> column type "
                             f"(e.g. udt.Text()), got {self.columns!r}")
        spec_base = getattr(column_types, "ColumnSpec", None)
        for name, spec in self.columns.items():
            if not isinstance(name, str):
                raise ValueError(f"column names must be strings, got {name!r}")
            if spec_base is not None and not isinstance(spec, spec_base) or isinstance(spec, type):
                raise ValueError(f"column {name!r} has type {spec!r}; expected an instance such as udt.Text(), "
                                 f"udt.Categorical(), udt.Numeric(), udt.Date()")
        if self.target not in self.columns:
            raise ValueError(f"target {self.target!r} is not one of the columns: {', '.join(self.columns)}")
        for key, items in (values["temporal"] or {}).items():
            for name in [key, *items]:
                if name not in self.columns:
                    raise ValueError(f"temporal column {name!r} is not one of the columns: {', '.join(self.columns)}")
        return values

    def _check_fitted(self):
        if not hasattr(self, "network_"):
            from sklearn.exceptions import NotFittedError
            raise NotFittedError(f"this udt.{self._kind} is not fitted yet; call fit() first")

    # ---------------------------------------------------------------- fitting
    def _training_source(self, X, y):
        return X if y is None else _with_target(X, y, self.target)

    def fit(self, X, y=None, *, epochs=None, validation=None, metrics=None, progress="auto", distributed=None):
        """Train on `X`: a CSV/Parquet path (or list of paths), a DataFrame or a pyarrow Table that holds
        every column including the target, or a feature DataFrame `X` plus a target `y`.

        epochs overrides the constructor's `epochs`; validation is data of the same kinds (or an
        (X, y) tuple) scored after every epoch with `metrics` (default: accuracy, precision@1 for
        multi-label, rmse for regression), kept in `history_` and used for early stopping; it is
        scored with exact (dense) inference, as the sparse-inference index is built after training.
        progress: True/False, or "auto" (a progress bar per epoch when stderr is a terminal).
        distributed: None, or a udt.RayConfig to train data-parallel on Ray workers (udt.distributed);
        the featurizer is fitted and the data featurized here, as without it.
        """
        options = self._validated_options()
        if distributed is not None:
            from .distributed import check_distributed
            check_distributed(distributed)
        source = self._training_source(X, y)
        if not (options["warm_start"] and hasattr(self, "network_")):
            self._fit_featurizer(source, options)
        self._train(source, options, epochs=epochs, validation=validation, metrics=metrics, progress=progress,
                    distributed=distributed)
        return self

    def partial_fit(self, X, y=None, *, validation=None, metrics=None, progress=False):
        """One more epoch on new data with the fitted featurizer and network (fits from scratch if unfitted)."""
        options = self._validated_options()
        source = self._training_source(X, y)
        if not hasattr(self, "network_"):
            self._fit_featurizer(source, options)
        self._train(source, options, epochs=1, validation=validation, metrics=metrics, progress=progress)
        return self

    def _fit_featurizer(self, source, options):
        featurize = _featurize()
        input_dim = options["input_dim"] if options["input_dim"] != "auto" else auto_input_dim(self._has_text())
        featurizer = featurize.TableFeaturizer(columns=self.columns, target=self.target, input_dim=input_dim,
                                               temporal=options["temporal"], crosses=options["crosses"],
                                               seed=options["seed"],
                                               n_threads=options["n_threads"])
        featurizer.fit(source)
        self._check_task(featurizer.task)
        self.featurizer_ = featurizer
        self.scaling_ = self._scaling()
        self.history_ = []
        for name in ("network_", "architecture_", "target_mean_", "target_std_", "seen_", "idf_", "output_head_"):
            self.__dict__.pop(name, None)

    def _has_text(self) -> bool:
        text_like = (_column_types().Text, _column_types().Sequence)
        return any(isinstance(s, text_like) for s in self.columns.values())

    def _scaling(self) -> str:
        """The row scaling until the training data has been counted: "auto" resolves to log-l2 for
        text here and may become log-idf-l2 in the first fit (model_selection.auto_feature_scaling)."""
        if self.feature_scaling != "auto":
            return self.feature_scaling
        return "log-l2" if self._has_text() else "none"

    def _words_per_row(self, source) -> float:
        """Mean words per row of the Text columns together (first 20,000 rows; 0 without text)."""
        from .data import mean_words_per_row
        text = [n for n, spec in self.columns.items() if isinstance(spec, _column_types().Text) and n != self.target]
        return mean_words_per_row(source, text, delimiter=self.featurizer_.delimiter) if text else 0.0

    def _feature_weights(self):
        """Per-feature-id IDF weights ("log-idf-l2" scaling, set by the first fit), else None."""
        return getattr(self, "idf_", None)

    def _fit_idf(self, data, source):
        """Document frequencies of the training rows -> self.idf_; in-memory rows, scaled before the
        weights existed, are re-weighted in place (the row scaling is linear, so multiplying the
        log-l2 values by the IDF and normalising again equals log, IDF, normalise)."""
        n_features = self.featurizer_.input_dim
        if isinstance(data, InMemoryData):
            df = np.bincount(data.rows.indices, minlength=n_features)
        else:
            df = np.zeros(n_features, np.int64)
            for chunk in self._training_chunks(source):
                df += np.bincount(chunk.indices, minlength=n_features)
        self.idf_ = idf_weights(df, data.n_rows)
        if isinstance(data, InMemoryData):
            rows = data.rows
            rows.values = scale_features(rows.values * self.idf_[rows.indices], rows.offsets, "l2")

    def _training_chunks(self, source):
        for fb in self.featurizer_.transform_batches(source, batch_rows=_PREDICT_BATCH_ROWS, with_labels=True,
                                                     update_history=True):
            chunk = CsrBatch.from_feature_batch(fb, self.scaling_, self._feature_weights())
            if hasattr(self, "target_mean_"):
                chunk.label_values = ((chunk.label_values - self.target_mean_) / self.target_std_).astype(np.float32)
            yield chunk

    def _train(self, source, options, *, epochs, validation, metrics, progress, distributed=None):
        task = self.featurizer_.task
        if task == "regression" and options["output_head"] == "centroid":
            raise ValueError("output_head='centroid' needs classes; a regression model has one numeric output")
        specs = udt_metrics.parse_metrics(metrics, task)
        first_fit = not hasattr(self, "network_")
        data = load_training_data(self._training_chunks(source), lambda: self._training_chunks(source),
                                  options["memory_budget_mb"] << 20)
        if first_fit and task == "regression":
            # Standardise the target so one learning rate suits every scale; predictions undo it.
            in_memory = isinstance(data, InMemoryData)
            values = data.rows.label_values if in_memory else np.concatenate(
                [c.label_values for c in self._training_chunks(source)])
            self.target_mean_ = float(np.mean(values))
            self.target_std_ = float(np.std(values)) or 1.0
            if in_memory:  # streamed chunks are scaled by _training_chunks from now on
                data.rows.label_values = ((values - self.target_mean_) / self.target_std_).astype(np.float32)
        if first_fit and self.feature_scaling == "auto":
            self.scaling_ = auto_feature_scaling(self._has_text(), data.n_rows, self.featurizer_.n_classes,
                                                 self._words_per_row(source))
        if first_fit and self.scaling_ == "log-idf-l2":
            self._fit_idf(data, source)
        if first_fit:
            self.architecture_ = choose_architecture(
                data.n_rows, self.featurizer_.n_classes, task, has_text=self._has_text(),
                normalized_rows=self.scaling_ != "none",
                **{k: options[k] for k in ("input_dim", "hidden_dim", "sparsity", "sparse_inference", "batch_size",
                                           "learning_rate", "epochs")})
            arch = self.architecture_
            self.network_ = _engine()(
                input_dim=arch.input_dim, hidden_dim=arch.hidden_dim, output_dim=arch.output_dim,
                output_sparsity=arch.output_sparsity, loss=arch.loss, learning_rate=arch.learning_rate,
                random_negatives=arch.random_negatives, embedding_init_scale=arch.embedding_init_scale,
                seed=options["seed"], n_threads=options["n_threads"],
                hash_family=options["hash_family"])
            self.n_train_rows_ = data.n_rows
        validate = None
        if validation is not None:
            val_source = self._training_source(*validation) if isinstance(validation, tuple) else validation
            val_rows = CsrBatch.concat(list(self._rows(val_source, with_labels=True)))
            # Exact (dense) inference: the sparse-inference index is only built after the last epoch, so
            # sparse scores mid-training would measure the unfinished index, not what the network learned.
            validate = lambda: self._score_rows(val_rows, specs, sparse=False)  # noqa: E731
        patience = options["early_stopping_patience"]
        if progress == "auto":
            progress = sys.stderr.isatty()
        stopper = EarlyStopping(specs[0], patience) if patience else None
        trainer_options = dict(batch_size=self.architecture_.batch_size, seed=options["seed"], progress=progress,
                               validate=validate, early_stopping=stopper)
        if distributed is None:
            trainer = Trainer(self.network_, **trainer_options)
        else:
            from .distributed import DistributedTrainer
            trainer = DistributedTrainer(self.network_, distributed, **trainer_options)
        n_epochs = epochs if epochs is not None else self.architecture_.epochs
        if not (isinstance(n_epochs, int) and n_epochs >= 1):
            raise ValueError(f"invalid epochs={n_epochs!r}: expected an integer >= 1")
        first_epoch = self.history_[-1]["epoch"] + 1 if self.history_ else 1
        if options["temporal"] and task == "single":
            self._record_seen(source)
        trainer.run(data, n_epochs, self.history_, first_epoch=first_epoch)
        self.interrupted_ = trainer.interrupted
        self.stopped_early_ = trainer.stopped_early
        head_replaced = False
        if task != "regression":
            self.output_head_ = apply_output_head(self.network_, data, options["output_head"], validate, specs[0])
            head_replaced = self.output_head_["output_head"] == "centroid"
        self._index_labels(data, rebuild=head_replaced)

    def _index_labels(self, data, rebuild=False):
        """Build the sparse-inference index from the final weights (engine's index_labels): every
        training row's labels go into the buckets its hidden activation hashes to, so LSH retrieval
        finds them; with 4 x the training tables (Network.inference_tables).  One call over all
        rows, because each call rebuilds the tables; streamed data (over the memory budget) keeps the
        index built during training, rebuilt if `rebuild` (the output rows changed after training)."""
        index_labels = getattr(self.network_, "index_labels", None)
        if index_labels is None or self.network_.lsh_params is None:
            return
        if not isinstance(data, InMemoryData):
            if rebuild:
                self.network_.rebuild_index()
            return
        rows = data.rows
        index_labels(rows.indices, rows.values, rows.offsets, rows.label_indices, rows.label_offsets,
                     num_tables=self.network_.inference_tables)

    # ---------------------------------------------------------------- temporal: items already seen
    def _history_key(self) -> str:
        return next(iter(self.temporal))

    def _key_values(self, data) -> list:
        """The temporal key of every row of `data`, as the strings the history is keyed by."""
        from .data import read_batches
        key = self._history_key()
        return [str(v) for batch in read_batches(data, columns=[key]) for v in batch.column(0).to_pylist()]

    def _record_seen(self, source):
        """Per key, the label ids of its training rows (for predict(..., exclude_seen=True))."""
        from .data import read_batches
        key = self._history_key()
        label_id = {str(c): i for i, c in enumerate(self.classes_)}
        seen = {k: set(v) for k, v in getattr(self, "seen_", {}).items()}
        for batch in read_batches(source, columns=[key, self.target]):
            keys, labels = batch.column(0).to_pylist(), batch.column(1).to_pylist()
            for k, label in zip(keys, labels):
                i = label_id.get(str(label))
                if i is not None:
                    seen.setdefault(str(k), set()).add(i)
        self.seen_ = {k: np.fromiter(sorted(v), np.int64, len(v)) for k, v in seen.items()}

    def _drop_seen(self, ids, scores, keys, k):
        """The k best ids of each row that its key has not seen in training."""
        out_ids = np.empty((len(ids), k), ids.dtype)
        out_scores = np.empty((len(ids), k), scores.dtype)
        for i, key in enumerate(keys):
            keep = ~np.isin(ids[i], self.seen_.get(key, ()))
            out_ids[i], out_scores[i] = ids[i][keep][:k], scores[i][keep][:k]
        return out_ids, out_scores

    # ---------------------------------------------------------------- inference helpers
    def _use_sparse(self, sparse_inference):
        if sparse_inference is None:
            return self.architecture_.sparse_inference
        if not isinstance(sparse_inference, (bool, np.bool_)):
            raise ValueError(f"invalid sparse_inference={sparse_inference!r}: expected None, True or False")
        return bool(sparse_inference)

    def _rows(self, data, with_labels=False):
        """Featurized, scaled CSR chunks of `data` (prediction never updates temporal history)."""
        if isinstance(data, dict):
            raise TypeError("this method takes a table or file; use predict(dict) for one row")
        for fb in self.featurizer_.transform_batches(data, batch_rows=_PREDICT_BATCH_ROWS, with_labels=with_labels,
                                                     update_history=False):
            yield CsrBatch.from_feature_batch(fb, self.scaling_, self._feature_weights())

    def _row(self, row: dict):
        """One row's (indices, values, offsets), through the featurizer's single-row fast path."""
        idx, val = self.featurizer_.transform_row(row)
        idf = self._feature_weights()
        offsets = np.array([0, len(idx)], np.int64)
        return idx, scale_features(val, offsets, self.scaling_, None if idf is None else idf[idx]), offsets

    def _predict_one(self, row: dict, sparse: bool) -> int:
        """Best label id of one row. The featurizer's output is valid engine input by construction,
        so this calls the compiled predict directly, skipping the wrapper's per-call checks."""
        idx, val, offsets = self._row(row)
        core = getattr(self.network_, "_net", None)
        if core is None or not hasattr(core, "predict_topk"):
            return self.network_.predict(idx, val, offsets, top_k=1, sparse=sparse)[0][0, 0]
        ids, _ = core.predict_topk(idx, val, offsets, 1, sparse, float(self.network_.inference_sparsity))
        return ids[0, 0]

    def _top_k(self, fb, k, sparse):
        return self.network_.predict(fb.indices, fb.values, fb.offsets, top_k=k, sparse=sparse)

    def _score_rows(self, rows, specs, sparse=None) -> dict:
        """Metrics of the network on featurized rows that carry their labels."""
        sparse = self._use_sparse(sparse)
        task = self.featurizer_.task
        if task == "regression":
            _, raw = self.network_.predict(rows.indices, rows.values, rows.offsets, top_k=1, sparse=False)
            truth, pred = rows.label_values, self._unscale(raw[:, 0])  # validation rows are never scaled
            return {s.name: udt_metrics.regression_metric(s, truth, pred) for s in specs}
        n_classes = self.featurizer_.n_classes
        k = max(s.k for s in specs)
        ids, _ = self.network_.predict(rows.indices, rows.values, rows.offsets, top_k=min(k, n_classes),
                                       sparse=sparse)
        if k > n_classes:  # @k beyond the label count: pad with an id no true label has
            ids = np.hstack([ids, np.full((len(ids), k - n_classes), n_classes, ids.dtype)])
        proba = None
        if any(s.needs_probabilities for s in specs):
            proba = self.network_.predict_scores(rows.indices, rows.values, rows.offsets)
        if task == "single":
            truth = np.asarray(rows.label_indices, np.int64)[rows.label_offsets[:-1]]
        else:
            truth = np.split(np.asarray(rows.label_indices, np.int64), rows.label_offsets[1:-1])
        return {s.name: udt_metrics.classification_metric(s, truth, ids, proba) for s in specs}

    def _unscale(self, raw):
        return raw.astype(np.float64) * self.target_std_ + self.target_mean_

    # ---------------------------------------------------------------- public inference
    def evaluate(self, data, metrics=None, *, sparse_inference=None) -> dict:
        """Metrics (names as in udt.metrics, e.g. ["accuracy", "precision@1", "recall@10"]) on labeled data."""
        self._check_fitted()
        specs = udt_metrics.parse_metrics(metrics, self.featurizer_.task)
        rows = CsrBatch.concat(list(self._rows(data, with_labels=True)))
        return self._score_rows(rows, specs, sparse_inference)

    def summary(self) -> None:
        """Print the chosen architecture, its parameter count and the last epoch's metrics."""
        self._check_fitted()
        print(summary_text(self.architecture_, kind=self._kind, target=self.target, n_rows=self.n_train_rows_,
                           columns=self.columns, lsh_params=self.network_.lsh_params, history=self.history_,
                           output_head=getattr(self, "output_head_", None),
                           feature_scaling=(self.scaling_, self.feature_scaling == "auto")))

    # ---------------------------------------------------------------- persistence
    def save(self, path: str | os.PathLike) -> None:
        """Write the fitted model (options, featurizer state, label vocabulary, weights) to one file."""
        self._check_fitted()
        save_estimator(self, path)


class Classifier(ClassifierMixin, _Estimator):
    """Single-label or multi-label classifier (multi-label: target udt.Categorical(delimiter=...)).

    Parameters (all keyword-only after `target`; "auto" values follow udt.model_selection):
      columns: dict column name -> column type (udt.Text(), udt.Categorical(), udt.Numeric(), ...)
      target: name of the column to predict
      temporal: {"user_column": ["item_column"]} builds each key's recent history as features
      crosses: False, "auto" (all pairs of tabular columns) or [(column, column), ...]
      input_dim, hidden_dim, sparsity, sparse_inference, learning_rate, batch_size, epochs: network and schedule
      output_head: "trained", "centroid" (each class's output row = the centered mean hidden activation of its
        training rows, set after training: for search, where queries are worded unlike the training rows) or
        "auto" (the centroids if they score higher on fit's validation set, or without one, when classes have
        fewer than 10 training rows each); see udt.centroid_head
      early_stopping_patience: epochs without validation improvement before stopping (None: never)
      threshold: multi-label score threshold of predict()
      hash_family, seed, n_threads, warm_start, memory_budget_mb: see udt.options
    """

    _kind = "Classifier"

    def _check_task(self, task):
        if task == "regression":
            raise ValueError(f"target {self.target!r} is numeric; use udt.Regressor for a numeric target, or declare "
                             f"it udt.Categorical() to classify its values")

    @property
    def classes_(self) -> np.ndarray:
        """The label values, in the order of predict_proba's columns."""
        if not hasattr(self, "featurizer_"):
            raise AttributeError("classes_ is set by fit()")
        return self.featurizer_.classes_

    def _labels(self, ids):
        return self.featurizer_.decode(ids)

    def _multi_label_sets(self, ids, scores):
        """Labels scoring at least `threshold` (always at least the best one), per row."""
        out = np.empty(len(ids), dtype=object)
        for i in range(len(ids)):
            keep = max(1, int(np.count_nonzero(scores[i] >= self.threshold)))
            out[i] = list(self._labels(ids[i, :keep]))
        return out

    def predict(self, data, *, top_k=None, sparse_inference=None, exclude_seen=False):
        """Labels of `data` (a table/file -> array; a dict -> one label).

        top_k=k returns the k most likely labels per row, best first ((n, k) array; a list for a dict).
        Multi-label targets without top_k return, per row, the labels scoring >= threshold.
        exclude_seen (temporal models): leave out labels the row's key already had in training.
        """
        self._check_fitted()
        sparse = self._use_sparse(sparse_inference)
        multi = self.featurizer_.task == "multi"
        n_classes = self.featurizer_.n_classes
        k = _check_top_k(top_k, n_classes)
        if exclude_seen:
            if not hasattr(self, "seen_"):
                raise ValueError("exclude_seen=True needs a single-label model fitted with temporal={key: [...]}")
            return self._predict_unseen(data, k or 1, sparse, top_k is None)
        fetch = k if k else min(n_classes, 64) if multi else 1
        if isinstance(data, dict):
            if k is None and not multi:  # the latency-critical path (p50 target 0.02 ms): no extra work
                return self.classes_[self._predict_one(data, sparse)]
            ids, scores = self.network_.predict(*self._row(data), top_k=fetch, sparse=sparse)
            return list(self._labels(ids[0])) if k else self._multi_label_sets(ids, scores)[0]
        parts = []
        for fb in self._rows(data):
            ids, scores = self._top_k(fb, fetch, sparse)
            parts.append(self._labels(ids) if k else self._multi_label_sets(ids, scores) if multi
                         else self._labels(ids[:, 0]))
        return np.concatenate(parts) if parts else np.empty(0, dtype=self.classes_.dtype)

    def _predict_unseen(self, data, k, sparse, single_label):
        n_classes = self.featurizer_.n_classes
        most_seen = max((len(v) for v in self.seen_.values()), default=0)
        fetch = min(n_classes, k + most_seen)
        if isinstance(data, dict):
            ids, scores = self.network_.predict(*self._row(data), top_k=fetch, sparse=sparse)
            ids, _ = self._drop_seen(ids, scores, [str(data.get(self._history_key()))], k)
            labels = self._labels(ids[0])
            return labels[0] if single_label else list(labels)
        keys, parts, start = self._key_values(data), [], 0
        for fb in self._rows(data):
            ids, scores = self._top_k(fb, fetch, sparse)
            ids, _ = self._drop_seen(ids, scores, keys[start:start + fb.n_rows], k)
            start += fb.n_rows
            parts.append(self._labels(ids[:, 0] if single_label else ids))
        return np.concatenate(parts) if parts else np.empty(0, dtype=self.classes_.dtype)

    def predict_proba(self, data, *, top_k=None, sparse_inference=None):
        """Class probabilities (sigmoid scores for multi-label).

        Without top_k: an (n, n_classes) array in the order of classes_ (exact, dense output).
        With top_k=k: a tuple (labels (n, k), scores (n, k)), best first.
        """
        self._check_fitted()
        k = _check_top_k(top_k, self.featurizer_.n_classes)
        if isinstance(data, dict):
            import pandas as pd
            data = pd.DataFrame([data])
        if k is None:
            parts = [self.network_.predict_scores(fb.indices, fb.values, fb.offsets) for fb in self._rows(data)]
            return np.concatenate(parts) if parts else np.empty((0, self.featurizer_.n_classes), np.float32)
        sparse = self._use_sparse(sparse_inference)
        labels, scores = [], []
        for fb in self._rows(data):
            ids, s = self._top_k(fb, k, sparse)
            labels.append(self._labels(ids))
            scores.append(s)
        return np.concatenate(labels), np.concatenate(scores)


class Regressor(RegressorMixin, _Estimator):
    """Regression on a udt.Numeric() target with a real regression head (squared error, one output).

    Parameters are those of udt.Classifier (sparsity and threshold do not apply).
    """

    _kind = "Regressor"

    def _check_task(self, task):
        if task != "regression":
            raise ValueError(f"udt.Regressor needs a numeric target; declare {self.target!r} as udt.Numeric(), or use "
                             f"udt.Classifier for a categorical target")

    def predict(self, data):
        """Predicted values: an array for a table/file, one float for a dict."""
        self._check_fitted()
        if isinstance(data, dict):
            _, raw = self.network_.predict(*self._row(data), top_k=1)
            return float(self._unscale(raw[0, :1])[0])
        parts = [self._unscale(self._top_k(fb, 1, False)[1][:, 0]) for fb in self._rows(data)]
        return np.concatenate(parts) if parts else np.empty(0)


def _check_top_k(top_k, n_classes):
    if top_k is None:
        return None
    if not isinstance(top_k, (int, np.integer)) or isinstance(top_k, bool) or top_k < 1:
        raise ValueError(f"invalid top_k={top_k!r}: expected None or an integer >= 1")
    if top_k > n_classes:
        raise ValueError(f"top_k={top_k} exceeds the {n_classes} classes of this model")
    return int(top_k)
