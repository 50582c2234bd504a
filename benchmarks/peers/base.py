"""The protocol every benchmarked system follows, and the one function that measures it.

A system is `fit(train_csv)` (reads the file itself: load + featurize + train are all train time),
`predict_batch(test_csv)` (reads the file itself; rows/s over the test set) and `predict_one(row)` (one raw row as a
user would pass it: a text string or a dict of column values -> one prediction or one top-k list).

`save(directory)` writes the fitted model's deployable form (everything `predict_one` needs) and `load(directory)`
returns a predict-ready copy built from those files alone; `measure_model_file` times that after all else.
"""
from __future__ import annotations

import os
import shutil
import statistics
from typing import Any, Callable

import numpy as np

from .harness import Result, Stopwatch, Unavailable, measure_latency, peak_rss_mb

LOAD_REPEATS = 3  # load time = median of this many loads (the file was just written: warm page cache)
CHECK_ROWS = 20  # rows on which the loaded copy must answer as the fitted system does


class System:
    name = "system"
    notes = ""
    # what a loaded copy takes over from the fitted system: its settings, never fitted state (so a load that
    # forgets a piece fails on predict instead of silently using the fitted object's)
    SETTINGS = ("ctx", "threads", "seed", "quick", "name", "notes", "loss", "output_head", "neighbors")

    def __init__(self, ctx: dict[str, Any]):
        self.ctx = ctx
        self.threads = int(ctx.get("threads", 2))
        self.seed = int(ctx.get("seed", 0))
        self.quick = bool(ctx.get("quick", False))

    def fit(self, train_path: str) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def predict_batch(self, test_path: str) -> Any:  # pragma: no cover - interface
        raise NotImplementedError

    def predict_one(self, row: Any) -> Any:  # pragma: no cover - interface
        raise NotImplementedError

    def save(self, directory: str) -> None:
        """Write the deployable form under `directory` (an empty folder); a runner without one keeps this."""
        raise NotImplementedError(f"{self.name}: this runner has no save/load")

    def load(self, directory: str) -> "System":
        """A predict-ready copy read back from what save wrote; start it from self.blank()."""
        raise NotImplementedError(f"{self.name}: this runner has no save/load")

    def save_inference(self, directory: str) -> bool:
        """Write a smaller inference-only form, where the system has one (udt); False where it has not."""
        return False

    def blank(self) -> "System":
        new = object.__new__(type(self))
        new.__dict__.update({k: v for k, v in self.__dict__.items() if k in self.SETTINGS})
        return new


class UdtSystem(System):
    """A udt.Classifier runner (the fitted Classifier in self.model): udt's own model file."""

    FILE = "model.udt"

    def save(self, directory):
        self.model.save(os.path.join(directory, self.FILE))

    def save_inference(self, directory):
        self.model.save(os.path.join(directory, self.FILE), optimizer_state=False)
        return True

    def load(self, directory):
        new = self.blank()
        new.model = require_udt_classifier().load(os.path.join(directory, self.FILE))
        return new


def tree_mb(path: str) -> float:
    """Bytes of a file, or of every file under a folder, in MiB."""
    if os.path.isfile(path):
        return os.path.getsize(path) / 2**20
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(path) for f in files) / 2**20


def _answer(prediction: Any) -> list[str]:
    return [str(v) for v in np.ravel(np.asarray(prediction, dtype=object))]


def measure_model_file(ctx: dict[str, Any], system: System, rows: list) -> dict[str, Any]:
    """Save the fitted system, load it back LOAD_REPEATS times, check the loaded copy on CHECK_ROWS rows.

    Returns the Result fields model_file_mb, load_s, model_file_inference_mb, model_file_note. A system that cannot
    save or load gets None and the reason; the files are removed afterwards."""
    out: dict[str, Any] = {"model_file_mb": None, "load_s": None, "model_file_inference_mb": None,
                           "model_file_note": None}
    root = tmp_dir(ctx, "model-file")
    notes = []
    try:
        full = os.path.join(root, "full")
        os.makedirs(full)
        system.save(full)
        size = tree_mb(full)
        times, loaded = [], None
        for _ in range(LOAD_REPEATS):
            loaded = None  # drop the previous copy before the next load
            with Stopwatch() as sw:
                loaded = system.load(full)
            times.append(sw.seconds)
        check = rows[:CHECK_ROWS]
        differ = sum(_answer(system.predict_one(r)) != _answer(loaded.predict_one(r)) for r in check)
        out.update(model_file_mb=size, load_s=statistics.median(times))
        if differ:
            notes.append(f"the loaded model answered differently on {differ} of {len(check)} rows")
        del loaded
        inference = os.path.join(root, "inference")
        os.makedirs(inference)
        if system.save_inference(inference):
            out["model_file_inference_mb"] = tree_mb(inference)
    except NotImplementedError as e:
        notes.append(f"no model file: {e}")
    except Exception as e:  # noqa: BLE001 - the row's other measurements stand; this one records why it is missing
        first = (str(e).splitlines() or [""])[0][:200]  # one line: it lands in the report's notes
        notes.append(f"save/load failed: {type(e).__name__}: {first}")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    out["model_file_note"] = "; ".join(notes) or None
    return out


def evaluate_system(ctx: dict[str, Any], system: System, truth: Callable[[str], Any],
                    score: Callable[[Any, Any], dict[str, float]], single_rows: Callable[[str, int], list],
                    metric_name: str, short_rows: Callable[[str, int], list] | None = None) -> list[dict[str, Any]]:
    """Fit, batch-predict, score, then time single-row predictions; one result row (as a dict).
    short_rows (text tasks): a second latency sample of short inputs, kept as metrics latency_ms_*_short."""
    res = Result(task=ctx["task"], dataset=ctx["dataset"], system=system.name, metric_name=metric_name,
                 notes=system.notes)
    with Stopwatch() as fit:
        system.fit(ctx["train"])
    res.train_s = fit.seconds
    with Stopwatch() as batch:
        preds = system.predict_batch(ctx["test"])
    y = truth(ctx["test"])
    res.n_test = len(y)
    res.throughput_rows_s = len(y) / batch.seconds if batch.seconds > 0 else None
    res.metrics = {k: float(v) for k, v in score(y, preds).items()}
    res.metric = res.metrics[metric_name]
    rows = single_rows(ctx["test"], int(ctx.get("latency_rows", 1000)))
    lat = measure_latency(system.predict_one, rows)
    res.latency_ms_mean, res.latency_ms_p50, res.latency_ms_p99 = lat.mean_ms, lat.p50_ms, lat.p99_ms
    short_sample = short_rows(ctx["test"], int(ctx.get("latency_rows", 1000))) if short_rows else []
    if short_sample:  # a test set without short texts has no short-text latency
        short = measure_latency(system.predict_one, short_sample)
        res.metrics.update(latency_ms_mean_short=short.mean_ms, latency_ms_p50_short=short.p50_ms,
                           latency_ms_p99_short=short.p99_ms)
    res.notes = system.notes  # systems may refine their notes while training (e.g. epochs run)
    res.peak_rss_mb = peak_rss_mb()  # before the model file: a loaded second copy is not the system's footprint
    for key, value in measure_model_file(ctx, system, rows).items():
        setattr(res, key, value)
    return [res.to_dict()]


def require(module: str, what: str | None = None):
    """Import an optional peer package or raise Unavailable with the pip command to get it."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise Unavailable(f"{what or module} not installed ({e}); pip install '.[bench]'") from e


def require_udt_classifier():
    try:
        import udt
    except Exception as e:  # noqa: BLE001 - a half-built udt (stale extension) is "not available", with the reason
        raise Unavailable(f"udt.Classifier not available: udt does not import ({e})") from e
    if not hasattr(udt, "Classifier"):
        raise Unavailable("udt.Classifier not available (not on main yet)")
    return udt


def torch_setup(threads: int, seed: int):
    torch = require("torch")
    torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass  # already set in this process
    torch.manual_seed(seed)
    return torch


def read_csv(path: str, **kw):
    import pandas as pd

    return pd.read_csv(path, keep_default_na=False, na_values=[""], **kw)


def tmp_dir(ctx: dict[str, Any], name: str) -> str:
    d = os.path.join(ctx["work"], "tmp", f"{ctx['task']}-{name}-{os.getpid()}")
    os.makedirs(d, exist_ok=True)
    return d
