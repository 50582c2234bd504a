"""Shared helpers of the benchmark suite: thread settings, timing, latency, peak RSS, metrics, child processes.

Nothing here imports a peer package (or udt): the helpers are plain stdlib + numpy so that the tests in
`tests/test_bench_harness.py` run with only the `test` extra installed.
"""
from __future__ import annotations

import math
import multiprocessing as mp
import os
import platform
import resource
import sys
import time
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Sequence

import numpy as np

THREADS = 2

# Every system sees the same thread budget and a non-spinning OpenMP runtime (spinning OpenMP workers would
# steal the CPU from the other thread pools of the same process, and from the other engineers on the machine).
THREAD_ENV_VARS = (
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMBA_NUM_THREADS",
    "UDT_NUM_THREADS",
)


def thread_env(threads: int = THREADS) -> dict[str, str]:
    """The environment every benchmarked process gets (applied before any numeric library is imported)."""
    env = {name: str(threads) for name in THREAD_ENV_VARS}
    env["OMP_WAIT_POLICY"] = "PASSIVE"
    env["KMP_BLOCKTIME"] = "0"  # the Intel OpenMP runtime's equivalent of a passive wait
    env["TOKENIZERS_PARALLELISM"] = "false"
    return env


def apply_thread_env(threads: int = THREADS) -> None:
    os.environ.update(thread_env(threads))


class Unavailable(RuntimeError):
    """A system cannot run here (package missing, API not landed yet); recorded as a row, never a crash."""


# --------------------------------------------------------------------------------------------------- timing


class Stopwatch:
    """`with Stopwatch() as sw: ...; sw.seconds` — wall-clock time of a block (perf_counter)."""

    def __enter__(self) -> "Stopwatch":
        self.start = time.perf_counter()
        self.seconds = float("nan")
        return self

    def __exit__(self, *exc) -> None:
        self.seconds = time.perf_counter() - self.start


@dataclass
class Latency:
    mean_ms: float
    p50_ms: float
    p99_ms: float
    n: int


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (numpy's default method), q in [0, 100]."""
    if len(values) == 0:
        return float("nan")
    return float(np.percentile(np.asarray(values, dtype=np.float64), q))


def measure_latency(predict_one: Callable[[Any], Any], rows: Sequence[Any], warmup: int = 20) -> Latency:
    """Time `predict_one(row)` for each row, one call at a time (what a service answering one request sees).

    The first `warmup` calls (cycling through `rows`) are not counted: they pay for lazy initialisation
    (allocators, caches, JIT-like first-call paths) that a long-running service pays once.
    """
    if len(rows) == 0:
        raise ValueError("measure_latency needs at least one row")
    for i in range(warmup):
        predict_one(rows[i % len(rows)])
    times = np.empty(len(rows), dtype=np.float64)
    clock = time.perf_counter
    for i, row in enumerate(rows):
        t0 = clock()
        predict_one(row)
        times[i] = clock() - t0
    ms = times * 1e3
    return Latency(float(ms.mean()), percentile(ms, 50), percentile(ms, 99), len(rows))


def peak_rss_mb() -> float:
    """Peak resident set size of this process's own address space so far, in MiB.

    On Linux this is VmHWM of /proc/self/status, not getrusage's ru_maxrss: execve carries the forking parent's
    high-water mark over into ru_maxrss, so a spawned child would report max(parent RSS at fork, own peak) --
    measured here as a ~300 MB floor under every system once the parent had read a few datasets. VmHWM belongs
    to the address space, which execve replaces. Elsewhere: ru_maxrss (KiB on Linux, bytes on macOS).
    """
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


# -------------------------------------------------------------------------------------------------- metrics


def accuracy(y_true: Sequence[Any], y_pred: Sequence[Any]) -> float:
    y_true = np.asarray(y_true, dtype=object)
    y_pred = np.asarray(y_pred, dtype=object)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"accuracy: {len(y_true)} true labels but {len(y_pred)} predictions")
    if len(y_true) == 0:
        return float("nan")
    return float(np.mean([str(a) == str(b) for a, b in zip(y_true, y_pred)]))


def _as_label_sets(y_true: Iterable[Any]) -> list[set[str]]:
    sets = []
    for t in y_true:
        if isinstance(t, (set, frozenset, list, tuple, np.ndarray)):
            sets.append({str(x) for x in t})
        else:
            sets.append({str(t)})
    return sets


def precision_at_k(y_true: Iterable[Any], ranked: Sequence[Sequence[Any]], k: int) -> float:
    """Mean over rows of |top-k ∩ true| / k (the XC convention: a row with fewer than k predictions counts the
    missing slots as wrong). `y_true`: one label or a collection of labels per row."""
    sets = _as_label_sets(y_true)
    if len(sets) != len(ranked):
        raise ValueError(f"precision@{k}: {len(sets)} rows of labels but {len(ranked)} rankings")
    if not sets:
        return float("nan")
    hits = [sum(1 for p in list(r)[:k] if str(p) in t) for t, r in zip(sets, ranked)]
    return float(np.mean(hits) / k)


def recall_at_k(y_true: Iterable[Any], ranked: Sequence[Sequence[Any]], k: int) -> float:
    """Mean over rows of |top-k ∩ true| / |true| (for one held-out item: the hit rate HR@k)."""
    sets = _as_label_sets(y_true)
    if len(sets) != len(ranked):
        raise ValueError(f"recall@{k}: {len(sets)} rows of labels but {len(ranked)} rankings")
    if not sets:
        return float("nan")
    vals = [sum(1 for p in list(r)[:k] if str(p) in t) / max(len(t), 1) for t, r in zip(sets, ranked)]
    return float(np.mean(vals))


def ndcg_at_k(y_true: Iterable[Any], ranked: Sequence[Sequence[Any]], k: int) -> float:
    """Binary-relevance NDCG@k: DCG = sum over hits at rank i (1-based) of 1/log2(i+1), divided by the ideal DCG
    of min(|true|, k) hits at the top."""
    sets = _as_label_sets(y_true)
    if len(sets) != len(ranked):
        raise ValueError(f"ndcg@{k}: {len(sets)} rows of labels but {len(ranked)} rankings")
    if not sets:
        return float("nan")
    vals = []
    for t, r in zip(sets, ranked):
        dcg = sum(1.0 / math.log2(i + 2) for i, p in enumerate(list(r)[:k]) if str(p) in t)
        ideal = sum(1.0 / math.log2(i + 2) for i in range(min(len(t), k)))
        vals.append(dcg / ideal if ideal > 0 else 0.0)
    return float(np.mean(vals))


def top_k_indices(scores: np.ndarray, k: int) -> np.ndarray:
    """Row-wise indices of the k largest scores, best first (argpartition, then a sort of the k)."""
    scores = np.asarray(scores)
    k = min(k, scores.shape[1])
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(scores, part, axis=1), axis=1, kind="stable")
    return np.take_along_axis(part, order, axis=1)


# ------------------------------------------------------------------------------------------ result records


RESULT_KEYS = ("task", "dataset", "system", "metric_name", "metric", "train_s", "latency_ms_p50",
               "latency_ms_p99", "peak_rss_mb")


@dataclass
class Result:
    """One (task, system) row. The first nine fields are the stable JSON contract (see RESULT_KEYS)."""

    task: str
    dataset: str
    system: str
    metric_name: str
    metric: float | None = None
    train_s: float | None = None
    latency_ms_p50: float | None = None
    latency_ms_p99: float | None = None
    peak_rss_mb: float | None = None
    latency_ms_mean: float | None = None
    throughput_rows_s: float | None = None
    # the saved model (base.measure_model_file): MiB on disk, seconds to load it back (median of 3), udt's
    # inference-only form, and why a number is missing or what the loaded copy did differently
    model_file_mb: float | None = None
    load_s: float | None = None
    model_file_inference_mb: float | None = None
    model_file_note: str | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    status: str = "ok"  # ok | unavailable | failed | timeout | crashed
    error: str | None = None
    notes: str = ""
    n_train: int | None = None
    n_test: int | None = None

    def to_dict(self) -> dict[str, Any]:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__}
        return {k: _clean(v) for k, v in d.items()}


def _clean(v: Any) -> Any:
    if isinstance(v, (np.floating, float)):
        v = float(v)
        return None if math.isnan(v) else v
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, dict):
        return {k: _clean(x) for k, x in v.items()}
    return v


# -------------------------------------------------------------------------------------- child processes


def _child_main(target: str, args: tuple, conn) -> None:
    """Runs in a freshly spawned interpreter: import `module:function`, call it, send back (rows, peak RSS)."""
    try:
        import importlib

        module_name, func_name = target.split(":")
        func = getattr(importlib.import_module(module_name), func_name)
        rows = func(*args)
        conn.send(("ok", rows, peak_rss_mb()))
    except Unavailable as e:
        conn.send(("unavailable", str(e), peak_rss_mb()))
    except BaseException as e:  # noqa: BLE001 - any failure of a system becomes a recorded row
        tb = traceback.format_exc(limit=6)
        conn.send(("failed", f"{type(e).__name__}: {e}\n{tb}", peak_rss_mb()))
    finally:
        conn.close()


def run_in_child(target: str, args: tuple = (), timeout_s: float | None = None,
                 env: dict[str, str] | None = None) -> tuple[str, Any, float | None]:
    """Run `module:function(*args)` in its own spawned process (so ru_maxrss is that system's own peak).

    Returns (status, payload, peak_rss_mb): status "ok" (payload = the function's return value),
    "unavailable"/"failed" (payload = message), "timeout" or "crashed" (child died without answering).
    """
    if env:
        os.environ.update(env)  # spawned children inherit the parent's environment at start
    ctx = mp.get_context("spawn")
    parent_conn, child_conn = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child_main, args=(target, args, child_conn), daemon=False)
    proc.start()
    child_conn.close()
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    msg = None
    while True:
        remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
        if parent_conn.poll(min(remaining, 1.0) if remaining is not None else 1.0):
            try:
                msg = parent_conn.recv()
            except EOFError:
                msg = None
            break
        if not proc.is_alive():
            if parent_conn.poll(0.1):
                try:
                    msg = parent_conn.recv()
                except EOFError:
                    msg = None
            break
        if deadline is not None and time.monotonic() >= deadline:
            proc.terminate()
            proc.join(10)
            if proc.is_alive():
                proc.kill()
            proc.join()
            return "timeout", f"no answer within {timeout_s:.0f} s", None
    proc.join(30)
    if msg is None:
        return "crashed", f"child process died (exit code {proc.exitcode})", None
    return msg


def machine_description() -> dict[str, Any]:
    info: dict[str, Any] = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "threads_per_system": THREADS,
    }
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
        with open("/proc/cpuinfo") as f:
            flags = next((line for line in f if line.startswith("flags")), "")
        info["simd"] = " ".join(x for x in ("avx2", "avx512f", "fma") if f" {x}" in flags)
        with open("/proc/meminfo") as f:
            info["mem_gb"] = round(int(f.readline().split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    try:
        info["loadavg"] = os.getloadavg()
    except OSError:
        pass
    return info
