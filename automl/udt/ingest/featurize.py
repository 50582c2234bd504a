"""TableFeaturizer: declared columns -> hashed sparse input rows (CSR) + label ids.

All features land in one space of `input_dim` ids, salted per column, with a fixed seed:
the same row gives the same ids in every process and after save/load. The C++ kernels
(featurizers/src) read Arrow buffers directly, release the GIL and use all cores.
"""
import contextlib
import os
import warnings

import numpy as np

from udt import _core
from udt.ingest.arrow_columns import column_view, null_view
from udt.ingest.batch import CsrBatch
from udt.columns import Categorical, ColumnSpec, Date, Neighbors, NodeId, Numeric, Sequence, Text, check_columns
from udt.ingest.data import DEFAULT_BATCH_ROWS, count_words, iter_sources
from udt.errors import ConfigError, DataError
from udt.ingest.labels import LabelEncoder, is_int_label
from udt.ingest.numeric_quantiles import ValueSample
from udt.ingest.row_scaling import SCALINGS, scale_features

_KIND = {Text: 0, Categorical: 1, Numeric: 2, Date: 3, Sequence: 4, NodeId: 5, Neighbors: 6}
_TOKENIZER = {"words": 0, "words-punct": 1}
_MAX_AUTO_CROSS_COLUMNS = 16
WORD_COUNT_ROWS = 20_000  # rows whose Text columns are counted for words_per_row_ (model selection reads it)
STATE_VERSION = 4  # 4: Numeric columns record `interpolate`; 3: graph rows scale their blocks separately; 2: the
# row scaling and IDF weights are the featurizer's (1: none)


class TableFeaturizer:
    """Featurizes tables of declared `columns` (name -> column type) for a model predicting `target`.

    temporal: {key column: [tracked columns]}: each row gets the last `history_length` values
        of the tracked columns for its key, strictly from earlier timestamps (column
        `timestamp`, by default the one Date column). Rows are ordered by timestamp within each
        batch; across batches a row sees the events recorded so far that are earlier than it, so
        stream files in time order (or grouped per key in time order) for complete histories.
    crosses: False (the default: measured on UCI Adult, 3 epochs, hidden 256, no crosses gave 0.865
        accuracy, all 91 pairs 0.857, the 28 categorical pairs 0.861 -- the hidden layer learns the
        interactions itself), True (all pairs of single-valued Categorical/Numeric input columns; a
        Numeric column crosses with its coarsest bin), "auto" (all pairs when there are 2..16 such
        columns, else none), or a list of (column, column) pairs.
    Calls may come from any thread, one at a time per featurizer (temporal history is shared state).
    """

    def __init__(self, columns, target=None, input_dim=100_000, temporal=None, crosses=False, seed=0,
                 n_threads=None, history_length=10, timestamp=None, delimiter=None):
        self.columns = columns
        self.target = target
        self.input_dim = input_dim
        self.temporal = temporal
        self.crosses = crosses
        self.seed = seed
        self.n_threads = n_threads
        self.history_length = history_length
        self.timestamp = timestamp
        self.delimiter = delimiter
        self._core = None
        self._history_baseline = None
        self.scaling, self.idf = "none", None

    def set_scaling(self, scaling: str, idf=None):
        """How values reach the network from now on (udt.ingest.row_scaling): a scaling name, and for
        "log-idf-l2" the IDF weight of every feature id (n_features floats)."""
        if scaling not in SCALINGS:
            raise ConfigError(f"feature scaling {scaling!r}: expected one of {', '.join(SCALINGS)}")
        if idf is not None:
            idf = np.asarray(idf, np.float32)
            if idf.shape != (self.n_features,):
                raise ConfigError(f"IDF weights: expected {self.n_features} (one per feature id) values, got {idf.shape}")
        self.scaling, self.idf = scaling, idf
        return self

    @property
    def n_features(self) -> int:
        """How many feature ids the rows hold: the id map's rows once set (set_id_map), else input_dim."""
        return int(self.input_dim) if self._core is None else int(self._core.n_features)

    def set_id_map(self, vocabulary: np.ndarray, overflow: int):
        """From now on feature ids are rows of an input layer sized to the data (featurizers/src/id_map.h):
        vocabulary[r] (a hashed id) becomes row r, every other hashed id one of `overflow` rows after them."""
        self._check_fitted()
        vocabulary = np.asarray(vocabulary)
        if vocabulary.ndim != 1 or (vocabulary.size and (vocabulary.dtype.kind not in "ui" or vocabulary.min() < 0
                                                          or vocabulary.max() >= self.input_dim)):
            raise ConfigError(f"id map: expected a 1-d array of feature ids below input_dim={self.input_dim}")
        if not isinstance(overflow, (int, np.integer)) or overflow < 1:
            raise ConfigError(f"id map: overflow={overflow!r}: expected an integer >= 1")
        self._core.set_id_map(vocabulary.astype(np.uint32), int(overflow))
        return self

    @property
    def id_map(self):
        """(vocabulary, overflow) or None: see set_id_map."""
        return None if self._core is None else self._core.id_map

    def map_rows(self, batch: CsrBatch) -> CsrBatch:
        """Rows featurized before the id map was set, as they are featurized now (values unscaled: the map
        merges ids before any row scaling, so scale after)."""
        batch.indices, batch.values, batch.offsets = self._core.map_rows(batch.indices, batch.values, batch.offsets)
        return batch

    def _scaled(self, indices, values, offsets):
        return scale_features(values, offsets, self.scaling, None if self.idf is None else self.idf[indices])

    # ----------------------------------------------------------------- configuration
    def _validate(self):
        check_columns(self.columns, self.target)
        if not isinstance(self.input_dim, (int, np.integer)) or not 1 <= self.input_dim < 2**32:
            raise ConfigError(f"input_dim={self.input_dim!r}: expected an integer from 1 to 2**32-1")
        if not isinstance(self.history_length, int) or self.history_length < 1:
            raise ConfigError(f"history_length={self.history_length!r}: expected a positive integer")

    def _declared(self):
        return ", ".join(repr(c) for c in self.columns)

    def _resolve_temporal(self):
        if not self.temporal:
            return None
        if not isinstance(self.temporal, dict):
            raise ConfigError(f"temporal must be a dict {{key column: [tracked columns]}}, got {self.temporal!r}")
        if len(self.temporal) != 1:
            raise ConfigError(f"temporal takes exactly one key column, got {list(self.temporal)}")
        (key, tracked), = self.temporal.items()
        tracked = [tracked] if isinstance(tracked, str) else list(tracked)
        for name, role in [(key, "temporal key")] + [(t, "tracked column") for t in tracked]:
            if name not in self.columns:
                raise ConfigError(f"{role} '{name}' is not a declared column; declared: {self._declared()}")
        if not tracked:
            raise ConfigError(f"temporal key '{key}' tracks no columns")
        ts = self.timestamp
        if ts is None:
            dates = [n for n, s in self.columns.items() if isinstance(s, Date)]
            if len(dates) != 1:
                raise ConfigError("temporal tracking orders rows by time: declare exactly one udt.Date() column "
                                  f"or pass timestamp=<column>; Date columns declared: {dates}")
            ts = dates[0]
        elif ts not in self.columns or not isinstance(self.columns[ts], (Date, Numeric)):
            raise ConfigError(f"timestamp '{ts}' must be a declared udt.Date() or udt.Numeric() (Unix seconds) column")
        return key, tracked, ts

    def _resolve_crosses(self, input_names):
        crossable = [n for n in input_names if (isinstance(self.columns[n], Categorical) and
                     self.columns[n].delimiter is None) or isinstance(self.columns[n], Numeric)]
        all_pairs = [(a, b) for i, a in enumerate(crossable) for b in crossable[i + 1:]]
        if self.crosses in (None, False, "none"):
            return []
        if self.crosses is True:
            return all_pairs
        if self.crosses == "auto":  # all pairs while their number stays modest
            return all_pairs if 2 <= len(crossable) <= _MAX_AUTO_CROSS_COLUMNS else []
        if isinstance(self.crosses, str) or not hasattr(self.crosses, "__iter__"):
            raise ConfigError(f"crosses={self.crosses!r}: expected 'auto', True, False or a list of column pairs")
        pairs = []
        for pair in self.crosses:
            if len(pair) != 2 or any(c not in crossable for c in pair):
                raise ConfigError(f"cross {pair!r}: expected a pair of single-valued Categorical/Numeric input "
                                  f"columns among {crossable}")
            pairs.append(tuple(pair))
        return pairs

    def _build(self, numeric_ranges, numeric_quantiles=None):
        """Creates the C++ featurizer; `numeric_ranges` maps Numeric columns to (lo, hi) and
        `numeric_quantiles` those placed by rank to their learned edges."""
        numeric_quantiles = dict(numeric_quantiles or {})
        temporal = self._resolve_temporal()
        tracked = set(temporal[1]) if temporal else set()
        # C++ columns: every declared column except a target that nothing else reads.
        self._cpp_names = [n for n in self.columns if n != self.target or n in tracked]
        self._input_names = [n for n in self._cpp_names if n != self.target]
        configs = []
        for name in self._cpp_names:
            spec = self.columns[name]
            cfg = _core.featurizers.ColumnConfig()
            cfg.name, cfg.kind, cfg.is_input = name, _KIND[type(spec)], name != self.target
            if isinstance(spec, Text):
                cfg.tokenizer = _TOKENIZER.get(spec.tokenizer, 2)
                if cfg.tokenizer == 2:
                    cfg.char_k = int(spec.tokenizer.split("-")[1])
                cfg.ngrams, cfg.lowercase, cfg.normalize = spec.ngrams, spec.lowercase, spec.normalize
            elif isinstance(spec, (Categorical, Sequence, Neighbors)):
                cfg.delimiter = spec.delimiter or ""
                if isinstance(spec, Sequence):
                    cfg.max_length = spec.max_length or 0
            elif isinstance(spec, Numeric):
                cfg.bins, cfg.interpolate = spec.resolutions, spec.interpolate
                cfg.lo, cfg.hi = numeric_ranges.get(name, (0.0, 1.0))
                cfg.quantiles = numeric_quantiles.get(name, [])
            configs.append(cfg)
        extra = [self.target] if self.target and self.target not in self._cpp_names else []
        seed = int(self.seed) & (2**64 - 1)
        self._core = _core.featurizers.TableFeaturizer(configs, int(self.input_dim), seed, extra)
        index = {n: i for i, n in enumerate(self._cpp_names)}
        self.crosses_ = self._resolve_crosses(self._input_names)
        self._core.set_crosses([(index[a], index[b]) for a, b in self.crosses_])
        if temporal:
            key, tracked_cols, ts = temporal
            self._core.set_temporal(index[key], [index[t] for t in tracked_cols], index[ts], self.history_length)
        self._temporal_resolved = temporal
        self.numeric_ranges_ = dict(numeric_ranges)
        self.numeric_quantiles_ = numeric_quantiles

    def _make_label_encoder(self):
        spec = self.columns.get(self.target)
        if spec is None or isinstance(spec, Numeric):
            return None
        return LabelEncoder(delimiter=spec.delimiter, n_classes=spec.n_classes)

    # ----------------------------------------------------------------- learning
    def fit(self, source, classes=None):
        """One streaming pass over `source`, the statistics pass: label vocabulary, numeric ranges and the
        mean words per row of the Text columns (words_per_row_, over the first WORD_COUNT_ROWS rows); a
        second pass indexes training graph nodes when a NodeId column is declared."""
        self._validate()
        self._resolve_temporal()
        learn_ranges = [n for n, s in self.columns.items() if isinstance(s, Numeric) and s.range is None
                        and n != self.target]
        ranges = {n: tuple(map(float, s.range)) for n, s in self.columns.items()
                  if isinstance(s, Numeric) and s.range is not None}
        samples = {n: ValueSample(seed=self.seed) for n in learn_ranges}
        labels = self._make_label_encoder()
        n_threads = self._threads()
        required = list(self.columns)
        text = [n for n, s in self.columns.items() if isinstance(s, Text) and n != self.target]
        n_rows, words = 0, 0
        for part in iter_sources(source, required, batch_rows=65536, delimiter=self.delimiter):
            if text and n_rows < WORD_COUNT_ROWS:
                words += count_words(part.batch.slice(0, WORD_COUNT_ROWS - n_rows), text)
            n_rows += part.batch.num_rows
            with _located(part):
                for name in learn_ranges:
                    view, _keep = column_view(part.batch.column(name), name, part.origin)
                    samples[name].add(_core.featurizers.numeric_values(view, part.batch.num_rows, name))
                if labels is not None:
                    view, _keep = column_view(part.batch.column(self.target), self.target, part.origin)
                    labels.collect(view, part.batch.num_rows, self.target)
                elif self.target is not None:  # regression: validate the targets now
                    view, _keep = column_view(part.batch.column(self.target), self.target, part.origin)
                    _core.featurizers.regression_targets(view, part.batch.num_rows, self.target)
        if n_rows == 0:
            raise DataError("the training data has no rows")
        self.words_per_row_ = words / min(n_rows, WORD_COUNT_ROWS)
        quantiles = {}
        for name, sample in samples.items():
            lo, hi = (sample.lo, sample.hi) if sample.count else (0.0, 1.0)
            ranges[name] = (lo, hi if hi > lo else lo + 1.0)
            if self.columns[name].uses_quantiles and sample.count:
                quantiles[name] = sample.quantiles()
        if labels is not None:
            labels.finish(extra=classes)
        self.labels_ = labels
        self._build(ranges, quantiles)
        if any(isinstance(s, NodeId) for s in self.columns.values()):
            for part in iter_sources(source, required, batch_rows=65536, delimiter=self.delimiter):
                self._index_graph(part, n_threads)
        return self

    def _index_graph(self, part, n_threads):
        with _located(part):
            views, keep = self._views(part, with_labels=False)
            empty = np.zeros(0, np.uint32)
            if self.labels_ is not None:
                lv, _k = column_view(part.batch.column(self.target), self.target, part.origin)
                offsets, ids, _unseen = self.labels_.lookup(lv, part.batch.num_rows, self.target)
            else:
                offsets, ids = np.zeros(0, np.int64), empty
            self._core.index_graph_nodes(views, part.batch.num_rows, offsets, ids, n_threads)

    def reset_history(self):
        """Forgets all temporal history."""
        self._check_fitted()
        self._core.clear_history()

    @contextlib.contextmanager
    def training_passes(self):
        """Within this block, each training pass (transform_batches(update_history=True)) starts from
        the history as it was when the block began, so epochs over the same rows never record an
        event twice, and continued training adds the new events to every key's earlier history."""
        self._check_fitted()
        self._history_baseline = self._core.history_state() if self._temporal_resolved else None
        try:
            yield self
        finally:
            self._history_baseline = None

    # ----------------------------------------------------------------- transforming
    def transform_batches(self, source, batch_rows=DEFAULT_BATCH_ROWS, with_labels=True, update_history=True,
                          weight_column=None):
        """Yields a CsrBatch per record batch of `source`, its values scaled (set_scaling); with
        weight_column, the batch's row_weights are that column's values (finite, >= 0).

        update_history (temporal only): True = a training pass: the history is reset when the pass
        starts (to its state when training_passes() began, else to empty), then each row's tracked
        values are recorded after its features are read, so a second pass never sees events of
        later rows from the first; "append" = record on top of the existing history (serving new
        events); False = read only (prediction)."""
        self._check_fitted()
        if update_history not in (True, False, "append"):
            raise ConfigError(f"update_history={update_history!r}: expected True, False or 'append'")
        if update_history is True and self._temporal_resolved:
            baseline = self._history_baseline
            if baseline is None:
                self._core.clear_history()
            else:
                self._core.load_history_state(*(baseline[k] for k in ("keys", "offsets", "ts", "values")))
        with_labels = with_labels and self.target is not None
        required = list(self._input_names) + ([self.target] if with_labels else [])
        optional = [n for n in self._cpp_names if n not in required]
        if weight_column is not None:
            required.append(weight_column)
        n_threads = self._threads()
        for part in iter_sources(source, required, optional, batch_rows=batch_rows, delimiter=self.delimiter):
            batch = self._transform_part(part, with_labels, update_history, n_threads)
            if weight_column is not None:
                batch.row_weights = _row_weights(part, weight_column)
            yield batch

    def transform(self, source, with_labels=True, update_history=True, batch_rows=DEFAULT_BATCH_ROWS):
        """All of `source` as one CsrBatch."""
        return CsrBatch.concat(list(self.transform_batches(source, batch_rows, with_labels, update_history)))

    def _views(self, part, with_labels):
        batch, names = part.batch, part.batch.schema.names
        views, keep = [], []
        for name in self._cpp_names:
            if name in names:
                view, alive = column_view(batch.column(name), name, part.origin)
            else:
                view, alive = null_view(batch.num_rows)
            views.append(view)
            keep.append(alive)
        return views, keep

    def _transform_part(self, part, with_labels, update_history, n_threads):
        """One batch, in one call into C++ (batch_rows.h): features, scaling, labels."""
        n = part.batch.num_rows
        with _located(part):
            views, _keep = self._views(part, with_labels)
            # the view points into `label_array`, which must outlive the call (a bool or dictionary target
            # is converted to a new array here: dropping it was a use-after-free)
            label_view, label_array = column_view(part.batch.column(self.target), self.target, part.origin) \
                if with_labels else (None, None)
            labels = self.labels_ if with_labels else None
            indices, values, offsets, lo, li, lv, unseen = self._core.featurize_batch(
                views, n, n_threads, bool(update_history), self.scaling, self.idf, label_view,
                None if labels is None else labels.vocab, "" if labels is None else labels.delimiter,
                self.target or "")
            del label_array
        if unseen:
            if self.labels_.n_classes is not None:
                raise DataError(f"{unseen} label(s) outside the declared classes 0..{self.labels_.n_classes - 1}",
                                file=part.origin, column=self.target)
            warnings.warn(f"{unseen} label value(s) in column '{self.target}' were not seen in training; "
                          "they are counted as misses", stacklevel=3)
        return CsrBatch(indices, values, offsets, li, lo, lv, unseen)

    def transform_row(self, row, update_history=False):
        """Features of one row given as a dict {column: value} (missing keys are missing
        values): (indices uint32, values float32, scaled). Direct to C++, no Arrow or pandas."""
        try:
            indices, values = self._core.featurize_dict(row, update_history)
        except _core.featurizers.FeatureError as e:
            message, _row, column = e.args
            raise DataError(message, column=column) from None
        except AttributeError:
            self._check_fitted()
            raise
        if self.scaling == "none":
            return indices, values
        return indices, self._scaled(indices, values, np.array([0, len(indices)], np.int64))

    @property
    def input_names(self) -> list:
        """The input columns (every declared column but the target), in declaration order."""
        return [n for n in self.columns if n != self.target]

    # ----------------------------------------------------------------- labels
    @property
    def task(self):
        spec = self.columns.get(self.target)
        if spec is None:
            return None
        if isinstance(spec, Numeric):
            return "regression"
        return "multi" if spec.delimiter else "single"

    @property
    def classes_(self):
        self._check_fitted()
        return None if self.labels_ is None else self.labels_.classes_

    @property
    def n_classes(self):
        self._check_fitted()
        if self.task == "regression":
            return 1
        return None if self.labels_ is None else len(self.labels_.classes_)

    def unseen_labels(self, source) -> list:
        """The target values of `source` outside the label vocabulary (sorted; [] for regression or when the
        classes are declared, where an unknown label is an error at featurizing)."""
        self._check_fitted()
        if self.labels_ is None or self.labels_.n_classes is not None:
            return []
        found, known = set(), {str(c) for c in self.labels_.classes_}
        for part in iter_sources(source, [self.target], batch_rows=65536, delimiter=self.delimiter):
            with _located(part):
                view, _keep = column_view(part.batch.column(self.target), self.target, part.origin)
                found.update(n for n in self.labels_.names_in(view, part.batch.num_rows, self.target)
                             if n not in known)
        integer = all(is_int_label(n) for n in found)
        return sorted(found, key=int) if integer and found else sorted(found)

    def decode(self, label_ids):
        """Original label values of label ids (any array shape)."""
        self._check_fitted()
        if self.labels_ is None:
            raise ConfigError(f"decode() needs a Categorical target; this featurizer's task is {self.task!r}")
        return self.labels_.decode(label_ids)

    def with_columns(self, columns: dict) -> "TableFeaturizer":
        """This fitted featurizer with other specs for the same columns, its statistics kept (labels and their
        counts, numeric ranges, words per row, the graph index): for a rule that decides how a column is
        featurized from what the statistics pass saw, before any row is featurized."""
        meta, arrays = self.state()
        fz = TableFeaturizer.from_state({**meta, "columns": {n: s.to_dict() for n, s in columns.items()}}, arrays)
        fz.words_per_row_ = self.words_per_row_
        if self.labels_ is not None:
            fz.labels_.counts_ = self.labels_.counts_
        return fz

    # ----------------------------------------------------------------- save / load
    def state(self):
        """(JSON-able metadata, dict of numpy arrays): everything needed to rebuild this featurizer."""
        self._check_fitted()
        meta = {
            "version": STATE_VERSION,
            "columns": {n: s.to_dict() for n, s in self.columns.items()},
            "target": self.target, "input_dim": int(self.input_dim), "temporal": self.temporal,
            "crosses": (self.crosses if self.crosses in (None, False, True, "auto", "none")
                        else [list(p) for p in self.crosses]),
            "seed": int(self.seed), "n_threads": self.n_threads, "history_length": self.history_length,
            "timestamp": self.timestamp, "delimiter": self.delimiter,
            "numeric_ranges": {n: list(r) for n, r in self.numeric_ranges_.items()},
            "numeric_quantiles": self.numeric_quantiles_,
            "labels": None if self.labels_ is None else self.labels_.state(),
            "scaling": self.scaling,
        }
        arrays = {} if self.idf is None else {"idf": self.idf}
        if self.id_map is not None:
            arrays["id_map/vocabulary"] = self.id_map[0]
            meta["id_map_overflow"] = int(self.id_map[1])
        if self._temporal_resolved:
            arrays.update({f"history/{k}": v for k, v in self._core.history_state().items()})
        if self._core.n_graph_nodes:
            arrays.update({f"graph/{k}": v for k, v in self._core.graph_state().items()})
        return meta, arrays

    @classmethod
    def from_state(cls, meta, arrays):
        if meta.get("version") not in (1, 2, 3, STATE_VERSION):
            raise ConfigError(f"featurizer state version {meta.get('version')!r} is not supported "
                              f"(expected {STATE_VERSION})")
        columns = {n: ColumnSpec.from_dict(_with_version_defaults(d, meta["version"]))
                   for n, d in meta["columns"].items()}
        temporal = meta["temporal"]
        crosses = meta["crosses"] if not isinstance(meta["crosses"], list) else [tuple(p) for p in meta["crosses"]]
        fz = cls(columns, target=meta["target"], input_dim=meta["input_dim"], temporal=temporal, crosses=crosses,
                 seed=meta["seed"], n_threads=meta["n_threads"], history_length=meta["history_length"],
                 timestamp=meta["timestamp"], delimiter=meta["delimiter"])
        fz._validate()
        fz.labels_ = None
        if meta["labels"] is not None:
            spec = columns[meta["target"]]
            fz.labels_ = LabelEncoder.from_state(meta["labels"], spec.delimiter, spec.n_classes)
        ranges = {n: tuple(float(v) for v in r) for n, r in meta["numeric_ranges"].items()}
        quantiles = meta.get("numeric_quantiles") or {}
        if not all(np.isfinite(r).all() and len(r) == 2 for r in ranges.values()) or not all(
                np.isfinite(np.asarray(q, np.float64)).all() for q in quantiles.values()):
            raise ConfigError("featurizer state: numeric ranges and quantiles must be finite numbers")
        fz._build(ranges, quantiles)
        fz._core.graph_block_scaling = meta["version"] >= 3  # earlier files keep the one row-wide scaling
        if "id_map/vocabulary" in arrays:  # files from before the id map hash straight into input_dim
            fz.set_id_map(arrays["id_map/vocabulary"], meta.get("id_map_overflow"))
        idf = arrays.get("idf")
        if idf is not None and not (np.isfinite(idf).all() and (np.asarray(idf) >= 0).all()):
            raise ConfigError("featurizer state: IDF weights must be finite and >= 0")
        fz.set_scaling(meta.get("scaling", "none"), idf)
        if "history/keys" in arrays:
            fz._core.load_history_state(*(arrays[f"history/{k}"] for k in ("keys", "offsets", "ts", "values")))
        if "graph/nodes" in arrays:
            fz._core.load_graph_state(*(arrays[f"graph/{k}"] for k in
                                        ("nodes", "feature_offsets", "features", "label_offsets", "labels")))
        return fz

    # ----------------------------------------------------------------- helpers
    def _threads(self):
        return int(self.n_threads) if self.n_threads else (os.cpu_count() or 1)

    def _check_fitted(self):
        if self._core is None:
            raise RuntimeError("this TableFeaturizer is not fitted yet: call fit(data) first")


def _with_version_defaults(spec: dict, version: int) -> dict:
    """A saved column spec as its file's featurizer read it: Numeric columns of files before version 4 were
    not interpolated (the option did not exist; its default now is True)."""
    if version < 4 and spec.get("type") == "Numeric":
        return {"interpolate": False, **spec}
    return spec


def _row_weights(part, column) -> np.ndarray:
    """A weight column's values as float32, each finite and >= 0 (DataError naming the first bad row)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    values = part.batch.column(part.batch.schema.get_field_index(column))
    try:
        weights = pc.cast(values, pa.float64()).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        raise DataError(f"sample weights must be numbers, got {values.type}", file=part.origin, column=column) from None
    bad = np.flatnonzero(~(np.isfinite(weights) & (weights >= 0)))
    if len(bad):
        row = part.first_row + int(bad[0])
        raise DataError(f"a sample weight must be a finite number >= 0, got {weights[bad[0]]}", file=part.origin,
                        row=row, line=part.line_of_row(row), column=column)
    return weights.astype(np.float32)


class _located:
    """Re-raises C++ FeatureErrors as DataErrors naming the file and the absolute row."""

    def __init__(self, part):
        self.part = part

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None and issubclass(exc_type, _core.featurizers.FeatureError):
            message, row, column = exc.args
            row += self.part.first_row
            raise DataError(message, file=self.part.origin, row=row, line=self.part.line_of_row(row),
                            column=column) from None
        return False
