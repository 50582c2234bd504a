"""The SLIDE engine's Python surface: a small, typed wrapper over ``udt._core.engine``.

Build a network, feed it CSR batches (numpy arrays), read predictions::

    net = Network(input_dim=100_000, hidden_dim=256, output_dim=200_000)   # output sparsity "auto"
    loss = net.train_batch(indices, values, offsets, label_indices, label_offsets)
    ids, scores = net.predict(indices, values, offsets, top_k=5, sparse=True)

A CSR batch of n rows is ``offsets`` (n + 1 non-decreasing int64, starting at 0), ``indices``
(feature ids < input_dim) and ``values`` (float32, or None for all ones); row r is entries
``offsets[r]:offsets[r+1]``. Labels use the same layout with ids < output_dim.
"""
from __future__ import annotations

import dataclasses
import types
from typing import Any, Mapping

import numpy as np

from udt import _core

__all__ = ["Network", "NetworkOptions", "autotune_lsh", "auto_output_sparsity", "lsh_retrieve", "simd_isa"]

_core_engine = _core.engine
# The engine's state array names, as the engine exports them (STATE.output_weight == "output.weight"):
# Python names arrays through these, so a renamed array fails at attribute lookup, not silently.
STATE = types.SimpleNamespace(**{name.replace(".", "_"): name
                                 for name in _core_engine.STATE_ARRAYS + _core_engine.STATE_COUNTERS})
autotune_lsh = _core_engine.autotune_lsh
auto_output_sparsity = _core_engine.auto_output_sparsity
simd_isa = _core_engine.simd_isa
lsh_retrieve = _core_engine.lsh_retrieve


@dataclasses.dataclass
class NetworkOptions:
    """Every training option of a :class:`Network`, with its default.

    output_sparsity: fraction of output neurons each training sample evaluates, in (0, 1], or
        "auto" (dense below 8192 outputs, else ``0.02 * sqrt(65536 / output_dim)``).
    loss: "softmax" (one label, cross-entropy), "sigmoid" (multi-label, BCE) or "mse" (regression).
    n_threads: engine threads (None = all cores). Results do not depend on it.
    hash_family: "dwta" (default; suits ReLU activations) or "srp".
    lsh_k, lsh_l, lsh_r: bits per table, tables, bucket capacity; None = autotuned (paper 4.2).
    autotune_c1, autotune_c2: the autotuning rule's safety factor and cost budget.
    bucket_policy: what a full bucket keeps: "reservoir" (uniform sample) or "fifo" (newest).
    rebuild_interval, rebuild_growth, max_rebuild_interval: the tables are rebuilt from the
        current weights after `rebuild_interval` batches, then at intervals growing by
        `rebuild_growth` up to `max_rebuild_interval`.
    rebuild_budget: rebuilds are also spaced so their estimated cost (a deterministic operation
        count: hashing and inserting every neuron vs. a batch's forward/backward work) stays under
        this share of training; >= 1 turns this floor off.
    rehash_every: redraw the hash functions every n-th rebuild (0 = never).
    label_augmentation: insert a true label the tables missed into the sample's buckets (paper 4.3).
    random_negatives: share of each training sample's active set drawn uniformly at random rather
        than by LSH votes, in [0, 1). Which is better depends on the schedule: over the engine
        benchmarks' few epochs 0.95 learns fastest (benchmarks/engine_choices.py; the measurements
        are beside the C++ default in network_config.h), while over the Classifier's longer
        schedules LSH-only negatives end higher, so the Classifier passes 0 (the rule and its
        measurements: udt.selection.model_selection, random_negatives).
    embedding_init_scale: the hidden layer's rows start uniform with standard deviation
        embedding_init_scale / sqrt(hidden_dim) (> 0).
    freeze_tables_after_first_epoch: stop rebuilding after :meth:`Network.end_epoch` was called once.
    force_lsh: use the LSH path even at output_sparsity 1 (for experiments and tests).
    adam_catch_up: a row skipped by some batches gets, when next used, the zero-gradient steps
        dense Adam would have taken meanwhile (in closed form), so sparse updates follow dense
        Adam; False = plain lazy Adam (idle rows frozen, per-row bias correction).
    embedding_optimizer: the embedding table's optimizer state: "adam" (two moments per weight) or
        "rowwise" (one second moment per row, no momentum: a third of the memory traffic and of the
        model; engine/src/rowwise_rms.h). The output layer and the biases always use Adam.
    """

    output_sparsity: float | str = "auto"
    loss: str = "softmax"
    learning_rate: float = 1e-3
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-7
    adam_catch_up: bool = True
    embedding_optimizer: str = "adam"
    seed: int = 0
    n_threads: int | None = None
    hash_family: str = "dwta"
    lsh_k: int | None = None
    lsh_l: int | None = None
    lsh_r: int | None = None
    autotune_c1: float = 1.0
    autotune_c2: float = 0.1
    bucket_policy: str = "reservoir"
    rebuild_interval: int = 10
    rebuild_growth: float = 1.25
    max_rebuild_interval: int = 500
    rebuild_budget: float = 0.1
    rehash_every: int = 4
    label_augmentation: bool = True
    random_negatives: float = 0.95
    embedding_init_scale: float = 1.0
    freeze_tables_after_first_epoch: bool = False
    force_lsh: bool = False


_INT_OPTIONS = {"seed", "n_threads", "lsh_k", "lsh_l", "lsh_r", "rebuild_interval", "max_rebuild_interval",
                "rehash_every"}
_OPTIONAL = {"n_threads", "lsh_k", "lsh_l", "lsh_r"}  # None: the engine chooses (0 in NetworkConfig)
_STRING_OPTIONS = {"loss", "hash_family", "bucket_policy", "embedding_optimizer"}
_BOOL_OPTIONS = {"label_augmentation", "freeze_tables_after_first_epoch", "force_lsh", "adam_catch_up"}
INFERENCE_SPARSITY_FRACTION = 0.5  # of the training sparsity; see Network.inference_sparsity
INFERENCE_TABLES_FACTOR = 4  # x the training L; see Network.inference_tables
_FIELDS = [f.name for f in dataclasses.fields(NetworkOptions)]
_OPTIMIZER_STATE = frozenset(_core_engine.OPTIMIZER_STATE_ARRAYS)


def is_optimizer_state(name: str) -> bool:
    """Adam's moments and per-row steps ("embedding.adam_m", "output.bias_adam_steps", ...), or the
    row-wise moments ("embedding.rowwise_v"): what the engine marks as optimizer state."""
    return name in _OPTIMIZER_STATE


def _check_option(name: str, value: Any) -> None:
    """Types only. The engine checks the values: names of losses, hash families and bucket policies
    (parse_*), and every numeric bound (NetworkConfig::validate, listed by config_bounds())."""
    if name in _STRING_OPTIONS:
        ok = isinstance(value, str)
    elif name in _BOOL_OPTIONS:
        ok = isinstance(value, (bool, np.bool_))
    elif name in _INT_OPTIONS:
        ok = (value is None and name in _OPTIONAL) or (
            isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value >= (1 if name in _OPTIONAL
                                                                                              else 0))
    elif name == "output_sparsity":
        ok = value == "auto" or (isinstance(value, (int, float, np.floating, np.integer)) and not isinstance(value, bool))
    else:
        ok = isinstance(value, (int, float, np.floating, np.integer)) and not isinstance(value, bool)
    if not ok:
        kind = ("a string" if name in _STRING_OPTIONS else "True or False" if name in _BOOL_OPTIONS else
                ("None or " if name in _OPTIONAL else "") + f"an integer >= {1 if name in _OPTIONAL else 0}"
                if name in _INT_OPTIONS else '"auto" or a number' if name == "output_sparsity" else "a number")
        raise ValueError(f"{name} must be {kind}, got {value!r}")


def _positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if value >= 2**32:
        raise ValueError(f"{name} must be < 2**32, got {value}")
    return int(value)


def _ids(array: Any, name: str, dim: int) -> np.ndarray:
    a = np.asarray(array)
    if a.ndim != 1:
        raise ValueError(f"{name} must be a 1-d array, got shape {a.shape}")
    if a.size == 0:
        return np.empty(0, dtype=np.uint32)
    if not np.issubdtype(a.dtype, np.integer):
        raise TypeError(f"{name} must hold integers, got dtype {a.dtype}")
    if a.dtype != np.uint32:
        lo, hi = a.min(), a.max()
        if lo < 0:
            raise ValueError(f"{name} must be non-negative, got {int(lo)} at position {int(np.argmin(a))}")
        if hi >= dim:
            raise ValueError(f"{name} must be < {dim}, got {int(hi)} at position {int(np.argmax(a))}")
        a = a.astype(np.uint32)
    return np.ascontiguousarray(a)


def _offsets(array: Any, name: str) -> np.ndarray:
    a = np.asarray(array)
    if a.ndim != 1 or a.size < 1:
        raise ValueError(f"{name} must be a 1-d array of n_rows + 1 entries, got shape {a.shape}")
    if not np.issubdtype(a.dtype, np.integer):
        raise TypeError(f"{name} must hold integers, got dtype {a.dtype}")
    return np.ascontiguousarray(a, dtype=np.int64)


def _values(array: Any, name: str, n: int) -> np.ndarray | None:
    if array is None:
        return None
    a = np.ascontiguousarray(array, dtype=np.float32)
    if a.ndim != 1 or a.size != n:
        raise ValueError(f"{name} must be a 1-d array with one value per index ({n}), got shape {a.shape}")
    return a


class Network:
    """A sparse-input network: input -> hidden (ReLU) -> output, dense or LSH-sparse.

    Args:
        input_dim: number of input features (hashed feature space).
        hidden_dim: width of the hidden layer.
        output_dim: number of output neurons (classes, labels or regression targets).
        initialize: False leaves the weights at zero and the LSH tables empty, for state restored right
            after (from_state does this: random weights would be written only to be overwritten).
        **options: any field of :class:`NetworkOptions`.
    """

    def __init__(self, input_dim: int, hidden_dim: int, output_dim: int, *, initialize: bool = True,
                 **options: Any):
        unknown = sorted(set(options) - set(_FIELDS))
        if unknown:
            raise TypeError(f"unknown Network option(s) {unknown}; valid options: {_FIELDS}")
        opts = NetworkOptions(**options)
        for name in _FIELDS:
            _check_option(name, getattr(opts, name))
        self._options = opts
        self._dims = (_positive_int("input_dim", input_dim), _positive_int("hidden_dim", hidden_dim),
                      _positive_int("output_dim", output_dim))
        cfg = _core_engine.NetworkConfig()
        cfg.input_dim, cfg.hidden_dim, cfg.output_dim = self._dims
        sparsity = opts.output_sparsity
        cfg.output_sparsity = auto_output_sparsity(self._dims[2]) if sparsity == "auto" else float(sparsity)
        for name in ("loss", "learning_rate", "beta1", "beta2", "eps", "adam_catch_up", "embedding_optimizer", "seed", "hash_family", "autotune_c1",
                     "autotune_c2", "bucket_policy", "rebuild_interval", "rebuild_growth", "max_rebuild_interval", "rebuild_budget", "random_negatives",
                     "embedding_init_scale",
                     "rehash_every", "label_augmentation", "freeze_tables_after_first_epoch", "force_lsh"):
            setattr(cfg, name, getattr(opts, name))
        cfg.n_threads = opts.n_threads or 0
        cfg.lsh_k, cfg.lsh_l, cfg.lsh_r = opts.lsh_k or 0, opts.lsh_l or 0, opts.lsh_r or 0
        cfg.initialize = bool(initialize)  # False (from_state): zero weights, empty tables, state restored next
        cfg.validate()
        self._cfg = cfg
        self._net = _core_engine.Network(cfg)
        self.has_optimizer_state = True  # False once loaded from a file saved without it

    # ---- training -------------------------------------------------------------------------
    def train_batch(self, indices, values, offsets, label_indices, label_offsets, label_values=None,
                    row_weights=None) -> float:
        """One optimizer step on a batch; returns the batch's mean (weighted) loss. row_weights: one
        float >= 0 per row multiplying its loss and gradient (None: all 1)."""
        x_idx = _ids(indices, "indices", self._dims[0])
        y_idx = _ids(label_indices, "label_indices", self._dims[2])
        weights = None if row_weights is None else np.ascontiguousarray(row_weights, dtype=np.float32)
        return self._net.train_batch(x_idx, _values(values, "values", x_idx.size), _offsets(offsets, "offsets"),
                                     y_idx, _values(label_values, "label_values", y_idx.size),
                                     _offsets(label_offsets, "label_offsets"), weights)

    def restore_lsh(self, num_tables: int, capacity: int, buckets: np.ndarray) -> None:
        """Sets the LSH tables' shape (L tables, R ids per bucket) and contents, as another replica or a
        model file has them; the engine checks the shape, size and ids before allocating."""
        self._net.restore_lsh(int(num_tables), int(capacity), np.ascontiguousarray(buckets, np.uint32))

    def rebuild_index(self) -> None:
        """Rebuilds the LSH tables from the current weights (drops earlier label insertions)."""
        self._net.rebuild_index()

    def index_labels(self, indices, values, offsets, label_indices, label_offsets, num_tables: int = 0) -> None:
        """Builds the index sparse inference uses, without training: the LSH tables are rebuilt
        from the current weights, then each row's labels are inserted into the buckets its hidden
        activation hashes to (label-neuron augmentation as a pass of its own), so sparse inference
        on similar inputs retrieves them. Bucket capacity R is re-derived as 2 x the expected load
        of neurons plus inserted labels. Run it over the training data after the last epoch.

        num_tables: L of this index (0 = the training L). More tables retrieve the best outputs
        more reliably for a little more hashing per query; training rebuilds its tables over and
        over, inference builds them once. The next train_batch goes back to the training shape."""
        if not (isinstance(num_tables, (int, np.integer)) and 0 <= num_tables <= 4096):
            raise ValueError(f"invalid num_tables={num_tables!r}: expected an integer in [0, 4096] (0 = training L)")
        x_idx = _ids(indices, "indices", self._dims[0])
        y_idx = _ids(label_indices, "label_indices", self._dims[2])
        self._net.index_labels(x_idx, _values(values, "values", x_idx.size), _offsets(offsets, "offsets"),
                               y_idx, _offsets(label_offsets, "label_offsets"), int(num_tables))

    def end_epoch(self) -> None:
        """Marks the end of a pass over the data (used by freeze_tables_after_first_epoch)."""
        self._net.end_epoch()

    # ---- inference ------------------------------------------------------------------------
    def predict(self, indices, values, offsets, top_k: int = 1, sparse: bool = False,
                sparsity: float | None = None, checked: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """Top-k outputs per row, best first: ``(ids int32 (n, k), scores float32 (n, k))``.

        Dense inference evaluates every output neuron (exact). ``sparse=True`` evaluates only the
        neurons LSH retrieves: ``max(top_k, sparsity * output_dim)`` of them (sparsity defaults to
        :attr:`inference_sparsity`, half the training sparsity). Scores are softmax probabilities
        over the evaluated neurons, sigmoid activations, or raw outputs for "mse".
        ``checked=False`` skips this wrapper's conversions and checks, for arrays of the right dtypes
        that the featurizer made (single-row serving); the engine still checks the CSR structure.
        """
        if sparsity is None:
            sparsity = self.inference_sparsity
        if not checked:
            return self._net.predict_topk(indices, values, offsets, top_k, sparse, float(sparsity))
        top_k = _positive_int("top_k", top_k)
        x_idx = _ids(indices, "indices", self._dims[0])
        return self._net.predict_topk(x_idx, _values(values, "values", x_idx.size), _offsets(offsets, "offsets"),
                                      top_k, bool(sparse), float(sparsity))

    def predict_scores(self, indices, values, offsets) -> np.ndarray:
        """Every output for every row, dense: float32 (n, output_dim)."""
        x_idx = _ids(indices, "indices", self._dims[0])
        return self._net.predict_all(x_idx, _values(values, "values", x_idx.size), _offsets(offsets, "offsets"))

    def embed(self, indices, values, offsets) -> np.ndarray:
        """Hidden-layer activations of every row (the representation the output layer scores):
        float32 (n, hidden_dim)."""
        x_idx = _ids(indices, "indices", self._dims[0])
        return self._net.embed(x_idx, _values(values, "values", x_idx.size), _offsets(offsets, "offsets"))

    # ---- introspection --------------------------------------------------------------------
    @property
    def input_dim(self) -> int:
        return self._dims[0]

    @property
    def hidden_dim(self) -> int:
        return self._dims[1]

    @property
    def output_dim(self) -> int:
        return self._dims[2]

    @property
    def output_sparsity(self) -> float:
        """The resolved training sparsity of the output layer (1.0 = dense)."""
        return self._cfg.output_sparsity

    @property
    def inference_sparsity(self) -> float:
        """Default sparsity of sparse inference: half the training sparsity. Training needs negatives
        near every label; a prediction needs only the few best neurons, which the tables' votes rank
        well. On the synthetic 200k-label benchmark a quarter of the training sparsity scores as all
        of it does (P@1 46.96 vs 46.94; 0.10 vs 0.23 ms per row), but real labels need more candidates:
        debsearch (63k packages, centroid head), P@1 / single-row p50 at 1/4, 1/2, 1, 2 x the training
        sparsity: 0.294 / 0.081 ms, 0.302 / 0.096 ms, 0.305 / 0.127 ms, 0.306 / 0.188 ms (exact: 0.321);
        WordNet (17k labels) 0.371 at 1/4, 0.379 at 1 (exact: 0.383)."""
        return self._cfg.output_sparsity * INFERENCE_SPARSITY_FRACTION

    @property
    def inference_tables(self) -> int:
        """L of the index a model builds for sparse inference (index_labels(..., num_tables=this)):
        4 x the training L. Training rebuilds its tables over and over and pays for each, an
        inference index is built once; more tables find the best outputs more reliably for a little
        more hashing per query and memory (debsearch: 0.38 GB per L = 167 tables). debsearch (63k
        packages, centered centroid head, all 63,427 summaries), P@1 / single-row p50 / p99 at 2, 3,
        4 x L = 167: 0.321 / 0.160 / 0.259 ms, 0.325 / 0.203 / 0.305 ms, 0.327 / 0.267 / 0.399 ms (the
        uncentered head on 10,000 of them at 1 and 2 x: 0.308, 0.320, exact 0.325; fewer bits per
        table instead, K = 13 or 12 at L = 167: 0.311, 0.315, slower). 0 without LSH."""
        lsh = self.lsh_params
        return min(4096, INFERENCE_TABLES_FACTOR * lsh["training_L"]) if lsh else 0

    @property
    def active_neurons(self) -> int:
        """Output neurons a training sample evaluates."""
        return self._net.active_neurons

    @property
    def lsh_params(self) -> dict | None:
        """The LSH parameters in use (K, L, R, ...), or None for a dense output layer. L and R are
        the current tables' (index_labels may build more, or larger, than training uses); training_L
        and training_R are training's."""
        return self._net.lsh_params

    @property
    def phase_seconds(self) -> dict[str, float]:
        """Wall-clock seconds training has spent so far in each phase: active-set selection
        (hidden layer + hashing + retrieval), grouping by row, output forward, loss, output
        backward + Adam, hidden backward + Adam, label augmentation, table rebuilds."""
        return self._net.phase_seconds

    @property
    def n_threads(self) -> int:
        return self._net.n_threads

    @property
    def config(self) -> dict:
        """JSON-able dict; ``Network(**config)`` rebuilds the same architecture and options."""
        d = dict(input_dim=self._dims[0], hidden_dim=self._dims[1], output_dim=self._dims[2])
        d.update(dataclasses.asdict(self._options))
        return d

    # ---- state ----------------------------------------------------------------------------
    def weights(self) -> dict[str, np.ndarray]:
        """Zero-copy numpy views of the learned parameters: "embedding.weight" (input_dim, hidden),
        "embedding.bias" (hidden,), "output.weight" (output_dim, hidden), "output.bias" (output_dim,).

        The views share the engine's memory (valid while this network lives). Writing through them
        changes the model; call :meth:`rebuild_index` afterwards so the LSH tables follow."""
        views = self._net.state_views()
        return {k: views[k] for k in (STATE.embedding_weight, STATE.embedding_bias, STATE.output_weight,
                                      STATE.output_bias)}

    def state_arrays(self, copy: bool = True) -> dict[str, np.ndarray]:
        """Every learned array (weights, biases, Adam moments and step counts, LSH tables) plus the
        training counters, enough to restore this network exactly. Copies, unless `copy` is False:
        then the learned arrays are the engine's own memory (state_views), for writing them out
        without doubling a large model's memory; they change as the network trains."""
        views = self._net.state_views()
        arrays = {k: np.ascontiguousarray(v).copy() for k, v in views.items()} if copy else dict(views)
        arrays[STATE.train_batches] = np.array([self._net.batches_trained], dtype=np.uint64)
        arrays[STATE.lsh_schedule] = np.array(self._net.lsh_schedule_state, dtype=np.uint64)
        lsh = self.lsh_params
        arrays[STATE.lsh_params] = np.array([lsh["K"], lsh["L"], lsh["R"]] if lsh else [], dtype=np.uint32)
        return arrays

    def state_views(self) -> dict[str, np.ndarray]:
        """Writable zero-copy views of every array :meth:`state_arrays` copies (weights, biases,
        Adam moments and per-row steps, LSH buckets), without the counters. They share the
        engine's memory (valid while this network lives): distributed training reads and writes
        single rows through them."""
        return dict(self._net.state_views())

    @property
    def batches_trained(self) -> int:
        """Optimizer steps taken so far: Adam's global step and the key of the per-batch random
        streams."""
        return int(self._net.batches_trained)

    @batches_trained.setter
    def batches_trained(self, value: int) -> None:
        self._net.batches_trained = int(value)

    @property
    def lsh_schedule_state(self) -> list[int]:
        """The LSH rebuild schedule's counters ([] for a dense output layer); assigning one
        restores the schedule and the hash functions that were current."""
        return [int(v) for v in self._net.lsh_schedule_state]

    @lsh_schedule_state.setter
    def lsh_schedule_state(self, value) -> None:
        self._net.lsh_schedule_state = [int(v) for v in value]

    def load_state_arrays(self, arrays: Mapping[str, np.ndarray]) -> None:
        """Restores arrays from :meth:`state_arrays` of a network with the same config. Either every
        optimizer array (Adam moments and steps) is given or none is: without them the network predicts
        as the saved one did, and has_optimizer_state is False (its moments stay zero)."""
        lsh = self.lsh_params
        restored = False  # restore_lsh checks every id itself: validate_state would scan the tables again
        saved_lsh = np.asarray(arrays.get(STATE.lsh_params, np.empty(0, np.uint32)))
        if saved_lsh.dtype != np.uint32 or saved_lsh.ndim != 1:
            raise ValueError(f"{STATE.lsh_params} must be a 1-d uint32 array, got {saved_lsh.dtype} {saved_lsh.shape}")
        if lsh and saved_lsh.size == 3:
            if int(saved_lsh[0]) != lsh["K"]:
                raise ValueError(f"saved LSH tables have K={int(saved_lsh[0])}; this network has K={lsh['K']}")
            if STATE.lsh_buckets not in arrays:
                raise ValueError(f"state array {STATE.lsh_buckets!r} is missing")
            # index_labels may have built the tables with another L and a grown R: the engine checks the
            # shape, the size and every id against output_dim before it allocates anything
            # (a mapped model file's tables are used in place, copy-on-write)
            self._net.restore_lsh_from(int(saved_lsh[1]), int(saved_lsh[2]), np.asarray(arrays[STATE.lsh_buckets]))
            restored = True
        views = {name: view for name, view in self._net.state_views().items() if name != STATE.lsh_buckets}
        optimizer = {name for name in views if is_optimizer_state(name)}
        self.has_optimizer_state = not optimizer.isdisjoint(arrays)
        if not self.has_optimizer_state:
            views = {name: view for name, view in views.items() if name not in optimizer}
        expected = set(views) | set(_core_engine.STATE_COUNTERS) | ({STATE.lsh_buckets} if lsh else set())
        missing, extra = sorted(expected - set(arrays)), sorted(set(arrays) - expected)
        if missing or extra:
            raise ValueError(f"state arrays do not match this network: missing {missing}, unexpected {extra}")
        for name, view in views.items():
            a = np.asarray(arrays[name])
            if a.shape != view.shape or a.dtype != view.dtype:
                raise ValueError(f"state array {name!r} has shape {a.shape} {a.dtype}, "
                                 f"expected {view.shape} {view.dtype}")
        for name, view in views.items():
            if view.ctypes.data != np.asarray(arrays[name]).ctypes.data:  # not adopted by from_state
                view[...] = arrays[name]
        self._net.batches_trained = int(np.asarray(arrays[STATE.train_batches])[0])
        self._net.lsh_schedule_state = [int(v) for v in np.asarray(arrays[STATE.lsh_schedule])]
        if not restored:
            self._net.validate_state()

    def state(self) -> tuple[dict, dict[str, np.ndarray]]:
        """(config, arrays) for a model file: the engine's own memory, not a copy (see state_arrays)."""
        arrays = self.state_arrays(copy=False)
        if not self.has_optimizer_state:  # its zero moments are not state worth writing
            arrays = {name: a for name, a in arrays.items() if not is_optimizer_state(name)}
        return self.config, arrays

    @classmethod
    def from_state(cls, config: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> "Network":
        """A network from a model file's config and arrays. Every array is checked against the shapes the
        config implies (the engine's state_layout, computed without allocating) before the network is
        built, so a file that claims a huge network it does not hold is refused without allocating it.
        A weight or moment matrix that is a copy-on-write mapping of a model file laid out as the engine's
        (udt.model_file.format_v2) is adopted, not copied: the network's memory is then the file's pages.
        Whether the weights are finite is the model-file reader's check (udt.model_file.compact_arrays.check_finite),
        made once where it reads or widens them."""
        dims = [config.get(name) for name in ("input_dim", "hidden_dim", "output_dim")]
        if not all(isinstance(d, int) and not isinstance(d, bool) for d in dims):
            raise ValueError(f"network dimensions must be integers, got {dims}")
        lsh = np.asarray(arrays.get(STATE.lsh_params, np.empty(0, np.uint32)))
        shape = [int(v) for v in lsh] if lsh.shape == (3,) and lsh.dtype == np.uint32 else [0, 0, 0]
        optimizer = config.get("embedding_optimizer", "adam")  # files older than the option hold Adam's moments
        if not isinstance(optimizer, str):
            raise ValueError(f"embedding_optimizer must be a string, got {optimizer!r}")
        layout = _core_engine.state_layout(*dims, *shape, embedding_optimizer=optimizer)
        with_optimizer = any(name in arrays for name in layout if is_optimizer_state(name))
        for name, (expected_shape, dtype) in layout.items():
            if not with_optimizer and is_optimizer_state(name):
                continue
            a = arrays.get(name)
            if a is None:
                raise ValueError(f"state array {name!r} is missing")
            narrow_tables = name == STATE.lsh_buckets and a.dtype == np.uint16  # the engine reads them as they are
            if tuple(a.shape) != tuple(expected_shape) or (a.dtype != np.dtype(dtype) and not narrow_tables):
                raise ValueError(f"state array {name!r} has shape {tuple(a.shape)} {a.dtype}, expected "
                                 f"{tuple(expected_shape)} {dtype} for a {dims[0]} x {dims[1]} x {dims[2]} network")
        network = cls(**config, initialize=False)
        for name in layout:
            if name in arrays:  # a mapped model file's matrix becomes the engine's own, without a copy
                network._net.adopt_state_array(name, arrays[name])
        network.load_state_arrays(arrays)  # an LSH network's file holds its tables (refused without them)
        return network

    def __repr__(self) -> str:
        lsh = self.lsh_params
        sparse = f"sparsity={self.output_sparsity:.4g}, K={lsh['K']}, L={lsh['L']}, R={lsh['R']}" if lsh else "dense"
        return (f"Network({self.input_dim} -> {self.hidden_dim} -> {self.output_dim}, {sparse}, "
                f"loss={self._options.loss!r})")
