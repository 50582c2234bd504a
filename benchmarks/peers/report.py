"""Markdown report (one table per task) and PNG plots (metric vs train time per task; the sparsity sweep)."""
from __future__ import annotations

import os
from collections import OrderedDict
from typing import Any

from .tasks import TASKS


def _f(v: Any, fmt: str) -> str:
    return "–" if v is None else format(v, fmt)


def _g(v: Any) -> str:
    """Sizes and load times from 0.0001 to 1000s: one decimal from 10 up, three significant digits below."""
    return "–" if v is None else format(v, ",.1f") if v >= 10 else format(v, "#.3g")


def _file_cell(r: dict) -> str:
    """The saved model's size; udt's inference-only form beside its full file. Older JSONs have neither: –."""
    inference = r.get("model_file_inference_mb")
    return _g(r.get("model_file_mb")) + (f" (inference {_g(inference)})" if inference is not None else "")


def _metric_cols(rows: list[dict]) -> list[str]:
    cols: list[str] = []
    for r in rows:
        for k in (r.get("metrics") or {}):
            if k not in cols and not k.startswith(("latency", "rows_per_s", "train_samples", "lsh_", "active",
                                                    "output_sparsity")):
                cols.append(k)
    return cols


def task_table(rows: list[dict]) -> str:
    mcols = _metric_cols(rows) or [rows[0]["metric_name"]]
    short = any("latency_ms_p50_short" in (r.get("metrics") or {}) for r in rows)
    head = (["system"] + mcols + ["train s", "latency mean / p50 / p99 ms"] +
            (["short-text p50 / p99 ms"] if short else []) + ["batch rows/s", "peak RSS MB", "file MB", "load s"])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        if r.get("status", "ok") != "ok":
            err = (r.get("error") or "").splitlines()[0][:160].replace("|", "\\|")
            lines.append(f"| {r['system']} | " + " | ".join(["–"] * (len(head) - 2)) + f" | **{r['status']}**: {err} |")
            continue
        m = r.get("metrics") or {r["metric_name"]: r["metric"]}
        lat = " / ".join(_f(r.get(k), ".3f") for k in ("latency_ms_mean", "latency_ms_p50", "latency_ms_p99"))
        cells = [r["system"]] + [_f(m.get(c), ".4f") for c in mcols] + [_f(r.get("train_s"), ".1f"), lat]
        if short:
            cells.append(" / ".join(_f(m.get(k), ".3f") for k in ("latency_ms_p50_short", "latency_ms_p99_short")))
        cells += [_f(r.get("throughput_rows_s"), ",.0f"), _f(r.get("peak_rss_mb"), ",.0f"), _file_cell(r),
                  _g(r.get("load_s"))]
        lines.append("| " + " | ".join(cells) + " |")
    notes = []
    for r in rows:
        parts = [r["notes"]] if r.get("notes") else []
        if r.get("status", "ok") == "ok" and r.get("model_file_note"):
            parts.append(f"model file: {r['model_file_note']}")
        if parts:
            notes.append(f"- **{r['system']}**: " + "; ".join(parts))
    return "\n".join(lines) + ("\n\n" + "\n".join(notes) if notes else "")


def plot_task(rows: list[dict], path: str) -> bool:
    ok = [r for r in rows if r.get("status", "ok") == "ok" and r.get("metric") is not None and r.get("train_s")]
    if not ok:
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for r in ok:
        color = "tab:red" if r["system"].startswith("udt") else "tab:blue"
        ax.scatter(r["train_s"], r["metric"], color=color, s=36)
        ax.annotate(r["system"], (r["train_s"], r["metric"]), fontsize=7, xytext=(4, 3), textcoords="offset points")
    ax.set_xscale("log")
    from matplotlib.ticker import NullFormatter

    ax.xaxis.set_minor_formatter(NullFormatter())  # decade labels only: minor labels overlap on short ranges
    ax.set_xlabel("train wall time, s (load + featurize + train; log scale)")
    ax.set_ylabel(ok[0]["metric_name"])
    ax.set_title(f"{ok[0]['task']}: {ok[0]['dataset']}", fontsize=9)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def plot_sparsity(rows: list[dict], path: str) -> bool:
    ok = [r for r in rows if r.get("status", "ok") == "ok" and "output_sparsity" in (r.get("metrics") or {})]
    if not ok:
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ok.sort(key=lambda r: r["metrics"]["output_sparsity"])
    s = [r["metrics"]["output_sparsity"] for r in ok]
    fig, (a1, a2, a3) = plt.subplots(1, 3, figsize=(12, 3.6))
    a1.plot(s, [r["metrics"]["precision@1_dense"] for r in ok], "o-", label="dense inference")
    sp = [(x, r["metrics"]["precision@1_sparse"]) for x, r in zip(s, ok) if "precision@1_sparse" in r["metrics"]]
    if sp:
        a1.plot(*zip(*sp), "s--", label="sparse inference")
    a1.set_ylabel("P@1")
    a2.plot(s, [r["train_s"] for r in ok], "o-")
    a2.set_ylabel("train s")
    a3.plot(s, [r["metrics"]["latency_ms_mean_dense"] for r in ok], "o-", label="dense")
    sl = [(x, r["metrics"]["latency_ms_mean_sparse"]) for x, r in zip(s, ok) if "latency_ms_mean_sparse" in r["metrics"]]
    if sl:
        a3.plot(*zip(*sl), "s--", label="sparse")
    a3.set_ylabel("single-row latency, mean ms")
    for a in (a1, a2, a3):
        a.set_xscale("log")
        a.set_xlabel("output sparsity")
        a.grid(alpha=0.3)
    a1.legend(fontsize=8)
    a3.legend(fontsize=8)
    fig.suptitle("udt engine on debsearch: output sparsity sweep", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def write_report(path: str, results: list[dict], machine: dict, started, mode: str) -> None:
    out_dir = os.path.dirname(os.path.abspath(path))
    os.makedirs(out_dir, exist_ok=True)
    stem = os.path.splitext(os.path.basename(path))[0]
    by_task: "OrderedDict[str, list[dict]]" = OrderedDict()
    for r in results:
        by_task.setdefault(r["task"], []).append(r)
    la0 = machine.get("loadavg")
    la1 = machine.get("loadavg_end")
    lines = [f"# udt benchmarks ({mode} run)", "",
             f"Started {started.strftime('%Y-%m-%d %H:%M UTC')}. Machine: {machine.get('cpu', '?')}, "
             f"{machine.get('cpus')} logical CPUs ({machine.get('simd', '')}), {machine.get('mem_gb', '?')} GB RAM, "
             f"Python {machine.get('python')}, {machine.get('platform')}. "
             f"Every system: {machine.get('threads_per_system')} threads, OMP_WAIT_POLICY=PASSIVE, its own process.",
             "",
             "Load average (1/5/15 min) at start " + (" / ".join(f"{x:.1f}" for x in la0) if la0 else "?") +
             ", at end " + (" / ".join(f"{x:.1f}" for x in la1) if la1 else "?") +
             " (a load above the 2 cores means other jobs shared the CPU: times are upper bounds).", "",
             "Columns: train s = wall time from reading train.csv to a trained model (load + featurize + train); "
             "latency = one raw row (text string or dict of column values) -> prediction, after 20 warm-up calls; "
             "batch rows/s = reading test.csv + featurizing + predicting all of it; peak RSS = the high-water mark of "
             "the system's own process (VmHWM), including the Python interpreter and its imports; file MB = the saved "
             "model a user would deploy (MiB on disk; udt: the full file, and the inference-only form without "
             "optimizer state); load s = reading it back into a model ready to predict (warm page cache, median of "
             "3); – = not measured (the notes say why).", ""]
    for task, rows in by_task.items():
        t = TASKS.get(task)
        lines += [f"## {task}: {rows[0]['dataset']}", ""]
        if t is not None and t.description:
            n_train, n_test = rows[0].get("n_train"), rows[0].get("n_test")
            lines += [f"{t.description}. {n_train or '?'} train rows, {n_test or '?'} test rows.", ""]
        lines += [task_table(rows), ""]
        png = f"{stem}_{task}.png"
        if task == "debsearch-sparsity":
            if plot_sparsity(rows, os.path.join(out_dir, png)):
                lines += [f"![{task}]({png})", ""]
        elif plot_task(rows, os.path.join(out_dir, png)):
            lines += [f"![{task}]({png})", ""]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
