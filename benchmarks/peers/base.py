"""The protocol every benchmarked system follows, and the one function that measures it.

A system is `fit(train_csv)` (reads the file itself: load + featurize + train are all train time),
`predict_batch(test_csv)` (reads the file itself; rows/s over the test set) and `predict_one(row)` (one raw row as a
user would pass it: a text string or a dict of column values -> one prediction or one top-k list).
"""
from __future__ import annotations

import os
from typing import Any, Callable

from .harness import Result, Stopwatch, Unavailable, measure_latency, peak_rss_mb


class System:
    name = "system"
    notes = ""

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
    res.peak_rss_mb = peak_rss_mb()
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
