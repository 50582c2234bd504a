"""Data-parallel training on Ray: replicas train on shards of every epoch and merge their sparse updates.

    model.fit("train.csv", distributed=udt.RayConfig(num_workers=4))

The driver fits the featurizer and featurizes the data as in single-process training, then starts
`num_workers` replicas of its network (its whole state is shipped once: weights, Adam moments and
steps, LSH tables and the schedule that fixes the hash functions) and puts the featurized rows in
the Ray object store once (streamed data travels round by round instead). An epoch's batches are
exactly those single-process training would draw; batch k goes to worker k mod W, and training
runs in rounds of `sync_every` batches per worker. After a round, every worker reports the rows
it touched and the replicas are merged (udt.training.sparse_merge: a row one worker touched takes that
worker's row exactly; a row several touched takes the sum or mean of their deltas, Adam moments
averaged). Reports stay in the object store: the next round hands every worker the others'
reports plus the driver's merge of the shared rows, and the driver merges round r into its own
network while the workers train round r + 1.

Each replica's global step (Adam's bias correction, the random streams) becomes the max over
workers, so a worker that had one batch fewer in an epoch's last round stays in step. LSH tables
stay per replica (each rebuilds from its own weights on the engine's schedule); at the end of every
epoch the driver takes worker 0's tables and schedule, so validation and sparse inference work on
the driver, and the Classifier then re-indexes the labels as usual.

With one worker this is single-process training bit for bit. The "local" backend steps plain
replica objects in this process with the same code, and the Ray backend gives bit-identical
results for the same seed. Ctrl-C keeps the last merged round, as single-process training keeps
the last batch; a failing worker raises a WorkerError that names it and its cause.
"""
from __future__ import annotations

import contextlib
import dataclasses
import functools
import itertools
import math
import os
import signal
import threading
import time
import warnings
from typing import Iterator, Optional

import numpy as np

from udt.training.sparse_merge import (ADAM_STATE, PARAMETER_GROUPS, AdamSettings, active_groups, apply_merge,
                                      plan_merge, row_views, touched_block)
from udt.engine import STATE
from udt.training.trainer import InMemoryData

__all__ = ["RayConfig", "WorkerError", "DistributedRounds", "import_ray"]

BACKENDS = ("ray", "local")
MERGES = ("mean", "sum")
INSTALL_HINT = 'pip install "udt[distributed]"'


@dataclasses.dataclass(frozen=True)
class RayConfig:
    """How `fit(..., distributed=udt.RayConfig(...))` trains on several workers (udt.training.distributed).

    num_workers: replicas of the network, each training on its share of every epoch's batches.
    sync_every: batches each worker trains between two merges. A merge moves every row the workers
        touched (weights and Adam moments) through the object store, so fewer merges cost less
        time, while more keep the replicas closer. Models with a large embedding and little data
        per row (text hashed into 2**20 ids) touch a large part of the model every round: give
        them a larger value.
    address: None starts a local Ray cluster for the duration of `fit` (and shuts it down after);
        otherwise a cluster address for ``ray.init`` ("auto", "ray://head:10001"). When Ray is
        already initialised in this process, that connection is used as it is. Every node needs
        udt installed.
    cpus_per_worker: CPUs each worker reserves in Ray; also the engine threads of its replica.
    backend: "ray", or "local": workers as plain objects stepped in turn in this process (the same
        merge, bit-identical results; for tests and debugging, no Ray needed).
    start_timeout_s: how long to wait for the workers to be placed and started.
    init_options: extra keyword arguments for ``ray.init`` when udt connects or starts the
        cluster (e.g. {"runtime_env": ...}).
    merge: what a row several workers changed becomes: "sum" of their deltas (each worker's
        progress kept, as if the updates had run one after another) or their "mean" (classic
        model averaging; each round then advances the shared rows by one worker's progress, so W
        workers need about W times the epochs). Adam moments are averaged either way. Measured
        with 2 workers (4 on Adult): UCI Adult 0.818 (4 workers 0.810) with "sum", 0.793 (0.754)
        with "mean", 0.826 single-process; 20 Newsgroups within half a point either way (README).
    sync_adam: True merges Adam's moments and steps with the weights (above). False exchanges the
        weights only and lets every worker keep its own Adam state (the driver takes worker 0's
        when training ends; after Ctrl-C it keeps its own): a third of the traffic for about the
        same accuracy (20 Newsgroups 0.846 vs 0.844 at half the fit time, Adult 0.819 vs 0.818; a
        synthetic 400-class LSH task 0.73 vs 0.77 after 3 epochs, 0.995 vs 0.998 after 6).

    Unknown fields are errors. Results depend on num_workers, sync_every and merge, not on
    cpus_per_worker or the backend; one worker trains exactly as single-process fit does.
    """

    num_workers: int = 2
    sync_every: int = 8
    address: Optional[str] = None
    cpus_per_worker: int = 1
    backend: str = "ray"
    start_timeout_s: float = 120.0
    init_options: Optional[dict] = None
    merge: str = "sum"
    sync_adam: bool = True

    def __post_init__(self):
        for name, lo in (("num_workers", 1), ("sync_every", 1), ("cpus_per_worker", 1)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < lo:
                raise ValueError(f"RayConfig.{name} must be an integer >= {lo}, got {value!r}")
        if not isinstance(self.sync_adam, (bool, np.bool_)):
            raise ValueError(f"RayConfig.sync_adam must be True or False, got {self.sync_adam!r}")
        if self.merge not in MERGES:
            raise ValueError(f"RayConfig.merge must be one of {list(MERGES)}, got {self.merge!r}")
        if self.backend not in BACKENDS:
            raise ValueError(f"RayConfig.backend must be one of {list(BACKENDS)}, got {self.backend!r}")
        if self.address is not None and not (isinstance(self.address, str) and self.address.strip()):
            raise ValueError(f"RayConfig.address must be None (a local cluster) or a Ray address such as 'auto' or "
                             f"'ray://head:10001', got {self.address!r}")
        t = self.start_timeout_s
        if isinstance(t, bool) or not isinstance(t, (int, float)) or not 0 < t < math.inf:
            raise ValueError(f"RayConfig.start_timeout_s must be a positive number of seconds, got {t!r}")
        if self.init_options is not None and not (isinstance(self.init_options, dict)
                                                  and all(isinstance(k, str) for k in self.init_options)):
            raise ValueError(f"RayConfig.init_options must be None or a dict of ray.init keyword arguments, "
                             f"got {self.init_options!r}")
        if self.backend == "local" and (self.address is not None or self.init_options):
            raise ValueError("RayConfig.address and init_options apply to backend='ray' only")


def _reject_unknown_fields(init):
    names = [f.name for f in dataclasses.fields(RayConfig)]

    @functools.wraps(init)
    def checked(self, *args, **kwargs):
        unknown = sorted(set(kwargs) - set(names))
        if unknown:
            raise TypeError(f"unknown RayConfig field(s) {unknown}; valid fields: {names}")
        init(self, *args, **kwargs)
    return checked


RayConfig.__init__ = _reject_unknown_fields(RayConfig.__init__)


def import_ray():
    """The ray module, or an ImportError that says how to install it."""
    try:
        import ray
    except ImportError as exc:
        raise ImportError(f"distributed training needs Ray, which is not installed: {INSTALL_HINT} "
                          f"(or pip install \"ray>=2.9\"); RayConfig(backend='local') runs the same "
                          f"protocol in this process without Ray") from exc
    return ray


def check_distributed(config) -> RayConfig:
    """fit's `distributed` argument, checked before any data is read."""
    if not isinstance(config, RayConfig):
        raise TypeError(f"distributed must be None or a udt.RayConfig(...), got {config!r}")
    if config.backend == "ray":
        import_ray()
    return config


class WorkerError(RuntimeError):
    """A worker of distributed training failed: says which one, where, and why (`cause`)."""

    def __init__(self, rank: int, n_workers: int, where: str, cause: BaseException):
        self.rank, self.cause = rank, cause
        detail = str(cause).strip() or "(no message)"
        super().__init__(f"distributed training: worker {rank} of {n_workers} failed {where}: "
                         f"{type(cause).__name__}: {detail}")


# ---------------------------------------------------------------------------------------------
# Workers
class Replica:
    """One worker: a replica of the driver's network, plus the training rows when they fit in memory."""

    def __init__(self, rank: int, network_config: dict, state: dict, rows, n_threads: Optional[int],
                 sync_adam: bool = True):
        from udt.engine import Network
        self.rank, self.sync_adam = rank, sync_adam
        self.network = Network(**dict(network_config, n_threads=n_threads))
        self.network.load_state_arrays(state)
        self.rows = rows
        self.views = row_views(self.network)
        self.groups = active_groups(self.views)
        self.synced = {g: np.array(self.views[PARAMETER_GROUPS[g][0]], copy=True) for g in self.groups}
        self.cpu_mark = 0.0

    def ready(self) -> dict:
        """Started: this process's CPU seconds so far (start-up, reading the state) are its first cost."""
        self.cpu_mark = time.process_time()
        return {"rank": self.rank, "pid": os.getpid(), "cpu_seconds": self.cpu_mark}

    def step(self, merge: Optional[dict], plan: list, end_epoch: bool, send_state: bool, *reports) -> dict:
        """Applies the last merge (with the last round's `reports`), trains this round's batches
        (row ids into the held rows, or batches), and reports the rows touched since that merge;
        `send_state` adds the LSH tables for the driver."""
        start = time.perf_counter()
        if merge is not None:
            apply_merge(self.views, merge, reports, skip=self.rank)
            self.network.batches_trained = merge["batches"]
            for group in self.groups:
                np.copyto(self.synced[group], self.views[PARAMETER_GROUPS[group][0]])
        trained = time.perf_counter()
        loss_sum, rows = 0.0, 0
        for item in plan:
            batch = self.rows.take(item) if isinstance(item, np.ndarray) else item
            loss = self.network.train_batch(batch.indices, batch.values, batch.offsets, batch.label_indices,
                                            batch.label_offsets, batch.label_values, batch.row_weights)
            loss_sum += float(loss) * batch.n_rows
            rows += batch.n_rows
        if end_epoch:
            self.network.end_epoch()
        done = time.perf_counter()
        report = {"groups": {g: touched_block(self.views, g, self.synced[g], self.sync_adam) for g in self.groups},
                  "batches": self.network.batches_trained, "loss_sum": loss_sum, "rows": rows,
                  "apply_seconds": trained - start, "train_seconds": done - trained}
        if send_state and self.network.lsh_params is not None:
            lsh = self.network.lsh_params
            buckets = self.network.state_views()[STATE.lsh_buckets]  # fresh: a reshape moves the tables
            report["lsh"] = {"buckets": np.array(buckets, copy=True), "shape": (lsh["L"], lsh["R"]),
                             "schedule": self.network.lsh_schedule_state}
        cpu = time.process_time()
        report["cpu_seconds"], self.cpu_mark = cpu - self.cpu_mark, cpu
        return report

    def adam_state(self) -> dict:
        """This replica's Adam moments and steps (without sync_adam, the driver ends with worker 0's)."""
        return {name: np.array(self.views[name], copy=True) for name in ADAM_STATE if name in self.views}


class LocalPool:
    """Workers as plain objects in this process, stepped one after another."""

    def __init__(self, config: RayConfig, network_config: dict, state: dict, rows, n_threads: Optional[int]):
        self.replicas = []
        for rank in range(config.num_workers):
            try:
                self.replicas.append(Replica(rank, network_config, state, rows, n_threads, config.sync_adam))
            except Exception as exc:
                raise WorkerError(rank, config.num_workers, "while starting", exc) from exc
        self.start_cpu_seconds = 0.0

    def share(self, obj):
        return obj

    def submit(self, merge, plans: list, end_epoch: bool, reports: list, where: str) -> list:
        """Runs a round (here: at once, worker after worker); returns handles for collect()."""
        done = []
        for rank, (replica, plan) in enumerate(zip(self.replicas, plans)):
            try:
                done.append(replica.step(merge, plan, end_epoch, end_epoch and rank == 0, *reports))
            except Exception as exc:
                raise WorkerError(rank, len(self.replicas), where, exc) from exc
            done[-1]["cpu_seconds"] = 0.0   # the replicas share this process: its CPU is the driver's
        return done

    def collect(self, handles: list, where: str) -> list:
        return handles

    def adam_state(self) -> dict:
        return self.replicas[0].adam_state()

    def shutdown(self) -> None:
        self.replicas = []


class RayPool:
    """Workers as Ray actors, each reserving `cpus_per_worker` CPUs. Reports stay in the object
    store: the next round hands every worker the others' reports to read in place."""

    def __init__(self, config: RayConfig, network_config: dict, state: dict, rows):
        self.ray = ray = import_ray()
        self.actors, self.owns_cluster = [], False
        try:
            need = config.num_workers * config.cpus_per_worker
            if not ray.is_initialized():
                options = dict(config.init_options or {})
                if config.address is None:
                    cores = os.cpu_count() or 1
                    options.setdefault("num_cpus", max(cores, need))
                    options.setdefault("include_dashboard", False)
                    if need > cores:
                        warnings.warn(f"{config.num_workers} workers x {config.cpus_per_worker} CPUs on a machine with "
                                      f"{cores} cores: the workers will share cores", RuntimeWarning, stacklevel=4)
                ray.init(address=config.address, **options)
                self.owns_cluster = True
            have = ray.cluster_resources().get("CPU", 0)
            if have < need:
                raise RuntimeError(f"RayConfig asks for {config.num_workers} workers x {config.cpus_per_worker} CPUs = "
                                   f"{need} CPUs, but the Ray cluster has {have:g}; lower num_workers or "
                                   f"cpus_per_worker")
            actor = ray.remote(num_cpus=config.cpus_per_worker, max_restarts=0)(Replica)
            state_ref, rows_ref = ray.put(state), ray.put(rows)  # once per fit; workers read them in place
            self.actors = [actor.remote(rank, network_config, state_ref, rows_ref, config.cpus_per_worker,
                                        config.sync_adam) for rank in range(config.num_workers)]
            started = self.collect([a.ready.remote() for a in self.actors], "while starting", config.start_timeout_s)
            self.start_cpu_seconds = sum(r["cpu_seconds"] for r in started)
        except BaseException:
            self.shutdown()
            raise

    def share(self, obj):
        return self.ray.put(obj)  # one copy in the object store, read by every worker

    def submit(self, merge, plans: list, end_epoch: bool, reports: list, where: str) -> list:
        # Object refs passed as arguments (not inside containers) reach the workers as values.
        return [a.step.remote(merge, plan, end_epoch, end_epoch and rank == 0, *reports)
                for rank, (a, plan) in enumerate(zip(self.actors, plans))]

    def collect(self, refs: list, where: str, timeout: Optional[float] = None) -> list:
        """Every result in rank order; the first failure (as it happens) raises a WorkerError."""
        ray, rank_of, results = self.ray, {ref: i for i, ref in enumerate(refs)}, [None] * len(refs)
        pending, deadline = list(refs), None if timeout is None else time.monotonic() + timeout
        while pending:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            done, pending = ray.wait(pending, num_returns=1, timeout=left)
            if not done:
                free = ray.available_resources().get("CPU", 0)
                raise RuntimeError(f"Ray workers {sorted(rank_of[r] for r in pending)} did not start within "
                                   f"{timeout:g} s ({free:g} CPUs free in the cluster); see RayConfig.start_timeout_s")
            for ref in done:
                try:
                    results[rank_of[ref]] = ray.get(ref)
                except ray.exceptions.RayError as exc:
                    cause = getattr(exc, "cause", None)
                    raise WorkerError(rank_of[ref], len(refs), where,
                                      cause if isinstance(cause, BaseException) else exc) from exc
        return results

    def adam_state(self) -> dict:
        return self.collect([self.actors[0].adam_state.remote()], "sending its Adam state")[0]

    def shutdown(self) -> None:
        for a in self.actors:
            with contextlib.suppress(Exception):
                self.ray.kill(a, no_restart=True)
        self.actors = []
        if self.owns_cluster:
            self.owns_cluster = False
            self.ray.shutdown()


# ---------------------------------------------------------------------------------------------
# The driver
def epoch_rounds(data, batch_size: int, rng: np.random.Generator, n_workers: int,
                 sync_every: int) -> Iterator[tuple[list, bool]]:
    """Per round, each worker's batches and whether the round ends the epoch. The batches are
    single-process training's, in order; batch k of a round goes to worker k mod n_workers.
    In-memory data travels as row ids (workers hold the rows), streamed data as batches."""
    batches = data.epoch_row_ids(batch_size, rng) if isinstance(data, InMemoryData) \
        else data.epoch_batches(batch_size, rng)
    per_round = n_workers * sync_every
    chunk = list(itertools.islice(batches, per_round))
    while chunk:
        following = list(itertools.islice(batches, per_round))
        yield [chunk[w::n_workers] for w in range(n_workers)], not following
        chunk = following


@contextlib.contextmanager
def _sigint_deferred():
    """Holds a Ctrl-C back until the block is done, so the driver's model is never half-merged."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received = []
    previous = signal.signal(signal.SIGINT, lambda sig, frame: received.append(frame))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if received:
            if callable(previous):
                previous(signal.SIGINT, received[0])
            else:
                raise KeyboardInterrupt


class DistributedRounds:
    """The Trainer's rounds run by a pool of workers; `network` (the driver's) holds the merged model
    after every round.

    The driver merges round r into its own network while the workers train round r + 1 (they apply
    the same merge first). History rows gain `rounds`, `exchanged_mb` (rows the workers reported),
    `merge_seconds` (the driver's merging), `sync_seconds` (epoch time not spent in the slowest
    worker's training: merging, moving rows, waiting) and `worker_cpu_seconds` (the workers'
    processes; with Ray the first epoch includes their start)."""

    def __init__(self, network, config: RayConfig):
        self.network = network
        self.config = check_distributed(config)
        self.adam = AdamSettings.of(network.config)
        self._pool = None
        self._sent = None   # (merge, report handles) of the last round, for the workers' next round
        self._stats = {}

    def start(self, data) -> None:
        self._views, self._sent = row_views(self.network), None
        # What load_state_arrays takes, straight from the driver's memory: a copy would double the
        # whole model once more before Ray copies it into the object store.
        state = self.network.state_arrays(copy=False)
        rows = data.rows if isinstance(data, InMemoryData) else None
        if self.config.backend == "local":
            self._pool = LocalPool(self.config, self.network.config, state, rows, self.network.n_threads)
        else:
            self._pool = RayPool(self.config, self.network.config, state, rows)
        self._start_cpu = self._pool.start_cpu_seconds

    def stop(self, interrupted: bool) -> None:
        try:
            if not self.config.sync_adam and not interrupted:
                with _sigint_deferred():
                    for name, values in self._pool.adam_state().items():
                        self._views[name][...] = values
        finally:
            pool, self._pool, self._sent = self._pool, None, None
            pool.shutdown()
            if interrupted and self.network.lsh_params is not None:
                self.network.rebuild_index()  # the tables of the last epoch end may be stale

    def _apply(self, merge: dict, reports: list) -> None:
        """Writes a merge into the driver's network, never half (Ctrl-C waits for the end)."""
        with _sigint_deferred():
            apply_merge(self._views, merge, reports)
            self.network.batches_trained = merge["batches"]
            lsh = reports[0].get("lsh")
            if lsh is not None:  # the epoch's last round: worker 0's tables and schedule
                self.network.restore_lsh(*lsh["shape"], lsh["buckets"])  # the driver's may have another shape
                self._views = row_views(self.network)  # restoring may move the tables' storage
                self.network.lsh_schedule_state = lsh["schedule"]

    def epoch_stats(self, seconds: float) -> dict:
        st = self._stats
        return {"rounds": st["rounds"], "exchanged_mb": st["exchanged"] / 2**20, "merge_seconds": st["merging"],
                "sync_seconds": max(0.0, seconds - st["slowest"]), "worker_cpu_seconds": st["cpu"]}

    def epoch(self, data, batch_size: int, rng: np.random.Generator, epoch: int):
        st = self._stats = {"rounds": 0, "slowest": 0.0, "merging": 0.0, "exchanged": 0, "cpu": self._start_cpu}
        self._start_cpu, pending = 0.0, None
        try:
            for plans, last in epoch_rounds(data, batch_size, rng, self.config.num_workers, self.config.sync_every):
                where = f"in epoch {epoch}, round {st['rounds'] + 1}"
                merge, handles = self._sent if self._sent is not None else (None, [])
                handles = self._pool.submit(None if merge is None else self._pool.share(merge), plans, last,
                                            handles, where)
                t = time.perf_counter()
                if pending is not None:  # the last round, into the driver's network, while the workers train
                    applying, pending = pending, None
                    self._apply(*applying)
                st["merging"] += time.perf_counter() - t
                reports = self._pool.collect(handles, where)
                t = time.perf_counter()
                merge = plan_merge(reports, self.adam, self._views if self.config.merge == "sum" else None)
                st["merging"] += time.perf_counter() - t
                self._sent, pending = (merge, handles), (merge, reports)
                st["slowest"] += max(r["train_seconds"] for r in reports)
                st["cpu"] += sum(r["cpu_seconds"] for r in reports)
                st["exchanged"] += sum(a.nbytes for r in reports for b in r["groups"].values() for a in b.values())
                st["rounds"] += 1
                yield sum(r["rows"] for r in reports), sum(r["loss_sum"] for r in reports)
            t = time.perf_counter()
            if pending is not None:
                applying, pending = pending, None
                self._apply(*applying)
            st["merging"] += time.perf_counter() - t
        except BaseException:  # Ctrl-C, here or in the Trainer's loop: keep the complete round not yet applied
            if pending is not None:
                self._apply(*pending)
            raise
