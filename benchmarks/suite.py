#!/usr/bin/env python3
"""The calibration suite: udt at its defaults against the peer a practitioner would try first, on every dataset
that `../shared/data/fetch.py` builds (the seven benchmark tasks and the ten calibration tasks).

    python benchmarks/suite.py --data DIR [--json OUT] [--only NAME,...] [--report SUITE.md]
    python benchmarks/suite.py --from-json benchmarks/suite.json --report benchmarks/SUITE.md   # re-render only

A change to model selection is judged on this whole suite, never on one dataset. Tasks, peers and the udt side of
each are in `benchmarks/peers/suite_tasks.py`. Per task it prints udt's metric, the peer's, the gap and both train
times; the last line reads `suite: K/N tasks at par, mean gap G pt, worst gap W pt`, and the line before it the same
over the tasks that are not HOLDOUT.

- Metric: accuracy (single-label), P@1 (multi-label and extreme classification), recall@10 (movielens), MAE
  (regression).
- Gap: udt minus the peer in percentage points; for regression the relative MAE difference in percent,
  (peer MAE - udt MAE) / peer MAE * 100, so that a negative gap always means udt is worse.
- At par: within 1 point of the peer or ahead of it; for regression udt's MAE <= 1.05 x the peer's.
- Fairness: each system runs in its own freshly spawned process with 2 threads (OMP/MKL/OpenBLAS/udt), a passive
  OpenMP wait policy, and reads the same train.csv / test.csv itself: train time is reading + featurizing +
  training. Load average (1 min) is recorded at the start and end of every task; the machine may be shared.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from benchmarks.peers.harness import apply_thread_env, machine_description, run_in_child  # noqa: E402

THREADS = 2

# Kept out of every tuning decision; looked at only at the end, to learn whether a rule generalises. Drawn once from
# the ten calibration tasks: sorted(random.Random(13).sample(sorted(CALIBRATION_TASKS), 3)). Never re-draw.
HOLDOUT = ("caravan", "fortunes", "spam")

PAR_POINTS = 1.0  # at par: gap >= -1 point
PAR_MAE_RATIO = 1.05  # regression at par: udt MAE <= 1.05 x peer MAE
TIMEOUT_S = 1500  # per system
UDT_RETRIES = 3  # udt may be mid-rebuild (another engineer's `pip install -e .`): wait and retry
UDT_RETRY_WAIT_S = 60

# ------------------------------------------------------------------------------------------ gap arithmetic


def gap(metric_name: str, udt: float, peer: float) -> float:
    """udt minus peer in percentage points; for MAE, (peer - udt) / peer * 100 (negative when udt is worse)."""
    if metric_name == "mae":
        return (peer - udt) / peer * 100.0
    return (udt - peer) * 100.0


def at_par(metric_name: str, udt: float, peer: float) -> bool:
    if metric_name == "mae":
        return udt <= PAR_MAE_RATIO * peer + 1e-12
    return gap(metric_name, udt, peer) >= -PAR_POINTS - 1e-9


def summarize(rows: list[dict]) -> tuple[int, int, float, float]:
    """(tasks at par, tasks, mean gap, worst gap) over result rows. A task without both metrics counts in N and is
    not at par; it has no gap, so it is left out of the mean and the worst."""
    gaps = [r["gap"] for r in rows if r.get("gap") is not None]
    k = sum(1 for r in rows if r.get("at_par"))
    mean = sum(gaps) / len(gaps) if gaps else float("nan")
    worst = min(gaps) if gaps else float("nan")
    return k, len(rows), mean, worst


def summary_line(rows: list[dict], label: str = "suite") -> str:
    k, n, mean, worst = summarize(rows)
    return f"{label}: {k}/{n} tasks at par, mean gap {mean:.2f} pt, worst gap {worst:.2f} pt"


def summary_lines(rows: list[dict]) -> list[str]:
    """The two closing lines: the non-holdout tasks, then all tasks (the last line printed)."""
    return [summary_line([r for r in rows if not r.get("holdout")], "non-holdout"), summary_line(rows)]


def finish_row(row: dict) -> dict:
    """Add gap and at_par to a row that has metric_name, udt and peer (either may be None when a side failed)."""
    u, p = row.get("udt"), row.get("peer")
    if u is None or p is None:
        row["gap"], row["at_par"] = None, False
    else:
        row["gap"] = gap(row["metric_name"], u, p)
        row["at_par"] = at_par(row["metric_name"], u, p)
    return row


# ---------------------------------------------------------------------------------------------- running


def loadavg() -> float | None:
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def git_state() -> dict:
    def git(*a):
        try:
            return subprocess.run(["git", "-C", ROOT, *a], capture_output=True, text=True, timeout=30).stdout
        except (OSError, subprocess.SubprocessError):
            return ""

    dirty = git("status", "--porcelain", "--untracked-files=no", "--", "automl", "engine", "featurizers",
                "CMakeLists.txt", "pyproject.toml")
    return {"commit": git("rev-parse", "HEAD").strip(), "dirty_udt_files": [x[3:] for x in dirty.splitlines() if x]}


def run_side(task: str, side: str, args) -> dict:
    target = "benchmarks.peers.suite_tasks:run_system"
    call = (task, side, args.data, args.work)
    attempts = 1 + (UDT_RETRIES if side == "udt" else 0)
    for attempt in range(attempts):
        status, payload, rss = run_in_child(target, call, timeout_s=args.timeout)
        retry = side == "udt" and status == "unavailable" and "does not import" in str(payload)
        if not retry or attempt == attempts - 1:
            break
        print(f"  udt does not import ({str(payload)[:120]}); retrying in {UDT_RETRY_WAIT_S} s", flush=True)
        time.sleep(UDT_RETRY_WAIT_S)
    if status == "ok":
        return dict(payload, status="ok", peak_rss_mb=rss)
    return {"status": status, "error": str(payload)[-2000:], "peak_rss_mb": rss}


def run_task(name: str, args) -> dict:
    from benchmarks.peers import suite_tasks

    task = suite_tasks.SUITE[name]
    row: dict = {"task": name, "description": task.description, "kind": task.kind, "metric_name": task.metric_name,
                 "holdout": name in HOLDOUT, "calibration": task.calibration, "peer_name": task.peer_name,
                 "load_start": loadavg(), "started": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}
    try:
        row["data"] = suite_tasks.describe(name, args.data, args.work)
    except Exception as e:  # noqa: BLE001 - a missing dataset is a failed row, not a crashed suite
        row["data"] = {"error": f"{type(e).__name__}: {e}"}
    reused = {r["task"]: r for r in args.peers_from["tasks"]} if args.peers_from else {}
    for side in ("peer", "udt"):
        # The peers are deterministic and do not change with udt: --peers-from reuses a run's peer rows.
        res = dict(reused[name]["peer_result"], reused=True) if side == "peer" and name in reused else \
            run_side(name, side, args)
        row[f"{side}_result"] = res
        row[side] = res.get("metric")
        row[f"{side}_train_s"] = res.get("train_s")
    row["load_end"] = loadavg()
    return finish_row(row)


def fmt_metric(metric_name: str, v) -> str:
    if v is None:
        return "–"
    return f"{v:,.1f}" if metric_name == "mae" else f"{v:.4f}"


def fmt_s(v) -> str:
    return "–" if v is None else f"{v:.1f}"


def task_line(r: dict) -> str:
    g = "–" if r.get("gap") is None else f"{r['gap']:+.2f}"
    flag = " HOLDOUT" if r.get("holdout") else ""
    par = "at par" if r.get("at_par") else "BEHIND"
    errs = "".join(f" [{s} {r[f'{s}_result']['status']}]" for s in ("peer", "udt")
                   if r.get(f"{s}_result", {}).get("status", "ok") != "ok")
    return (f"{r['task']:10s} {r['metric_name']:11s} udt {fmt_metric(r['metric_name'], r.get('udt')):>9s}  "
            f"peer {fmt_metric(r['metric_name'], r.get('peer')):>9s}  gap {g:>7s}  {par:6s}  "
            f"train udt {fmt_s(r.get('udt_train_s'))} s / peer {fmt_s(r.get('peer_train_s'))} s  "
            f"load {r.get('load_start')}->{r.get('load_end')}{flag}{errs}")


# ------------------------------------------------------------------------------------------------ report

NOTES_MARK = "## Notes"


def render_markdown(doc: dict, old_text: str = "") -> str:
    run, rows = doc["run"], doc["tasks"]
    lines = [
        "# Calibration suite",
        "",
        "udt at its defaults (public API, declared columns and target, no tuning) against the peer a practitioner",
        "would try first, on every dataset of `../shared/data/fetch.py`. Produced by `benchmarks/suite.py`",
        "(see its docstring and `benchmarks/peers/suite_tasks.py`); re-render with",
        "`python benchmarks/suite.py --from-json benchmarks/suite.json --report benchmarks/SUITE.md`.",
        "",
        f"- date: {run.get('date')} (UTC); {run.get('wall_s', 0) / 60:.0f} min in all",
        f"- measured: commit `{run.get('commit')}`"
        + (f" with uncommitted changes of other engineers in {', '.join(run['dirty_udt_files'])} (the working tree"
           " udt was installed from)" if run.get("dirty_udt_files") else ""),
        f"- machine: {run.get('machine', {}).get('cpu', '?')}, {run.get('machine', {}).get('cpus', '?')} CPUs, "
        f"shared with other engineers; {THREADS} threads per system, OMP_WAIT_POLICY=PASSIVE",
        *[f"- rerun: **{x['task']}** at {x['date']}, commit `{x['commit']}`" for x in run.get("reruns", [])],
        *([f"- udt options on top of the defaults: `{json.dumps(run['udt_options'])}`"] if run.get("udt_options") else []),
        f"- HOLDOUT tasks (kept out of every tuning decision): {', '.join(run.get('holdout', HOLDOUT))}",
        "- gap: udt minus peer in points (regression: (peer MAE - udt MAE) / peer MAE in %); at par: gap >= -1 pt "
        "(regression: udt MAE <= 1.05 x peer)",
        "",
        "| task | metric | udt | peer | gap | at par | udt train s | peer train s | load start / end | peer | holdout |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        g = "–" if r.get("gap") is None else f"{r['gap']:+.2f}"
        lines.append(
            f"| {r['task']} | {r['metric_name']} | {fmt_metric(r['metric_name'], r.get('udt'))} | "
            f"{fmt_metric(r['metric_name'], r.get('peer'))} | {g} | {'yes' if r.get('at_par') else '**no**'} | "
            f"{fmt_s(r.get('udt_train_s'))} | {fmt_s(r.get('peer_train_s'))} | "
            f"{r.get('load_start')} / {r.get('load_end')} | {r.get('peer_name')} | "
            f"{'**HOLDOUT**' if r.get('holdout') else ''} |")
    lines += ["", "```", *summary_lines(rows), "```", "", "### Data (training split)", "",
              "| task | rows train / test | input columns | classes | rows per class (median / min) | largest class "
              "| text chars (median) |",
              "|---|---|---|---|---|---|---|"]
    for r in rows:
        d = r.get("data", {})
        if "error" in d:
            lines.append(f"| {r['task']} | {d['error']} | | | | | |")
            continue
        cls = d.get("classes", "regression")
        rpc = (f"{d['rows_per_class_median']:g} / {d['rows_per_class_min']}" if "rows_per_class_median" in d else "–")
        share = f"{d['largest_class_share'] * 100:.0f}%" if "largest_class_share" in d else "–"
        txt = f"{d['text_chars_median']:.0f}" if "text_chars_median" in d else "–"
        lines.append(f"| {r['task']} | {d.get('n_train'):,} / {d.get('n_test') or 0:,} | {d.get('columns')} | {cls} | "
                     f"{rpc} | {share} | {txt} |")
    lines += ["", "### Systems", ""]
    for r in rows:
        for side in ("udt", "peer"):
            res = r.get(f"{side}_result", {})
            what = (res.get("notes") or "defaults") if res.get("status") == "ok" else f"{res.get('status')}: {res.get('error', '')[:300]}"
            lines.append(f"- **{r['task']} {side}** ({res.get('system', r.get('peer_name') if side == 'peer' else 'udt')}"
                         f"): {what}; predict {fmt_s(res.get('predict_s'))} s, peak RSS "
                         f"{fmt_s(res.get('peak_rss_mb'))} MB")
    text = "\n".join(lines) + "\n"
    if NOTES_MARK in old_text:  # hand-written observations survive a re-render
        text += "\n" + old_text[old_text.index(NOTES_MARK):]
    return text


def write_report(doc: dict, path: str) -> None:
    old = open(path, encoding="utf-8").read() if os.path.exists(path) else ""
    with open(path + ".part", "w", encoding="utf-8") as f:
        f.write(render_markdown(doc, old))
    os.replace(path + ".part", path)


def write_json(doc: dict, path: str) -> None:
    with open(path + ".part", "w") as f:
        json.dump(doc, f, indent=1)
    os.replace(path + ".part", path)


def merge_docs(docs: list[dict]) -> dict:
    """The first run's metadata and task order; a later document's row replaces the earlier row of its task."""
    doc = json.loads(json.dumps(docs[0]))
    order = [r["task"] for r in doc["tasks"]]
    rows = {r["task"]: r for r in doc["tasks"]}
    for later in docs[1:]:
        for r in later["tasks"]:
            if r["task"] not in rows:
                order.append(r["task"])
            rows[r["task"]] = r
            doc["run"].setdefault("reruns", []).append(
                {"task": r["task"], "date": later["run"].get("date"), "commit": later["run"].get("commit"),
                 "dirty_udt_files": later["run"].get("dirty_udt_files", [])})
    doc["tasks"] = [rows[t] for t in order]
    doc["summary_lines"] = summary_lines(doc["tasks"])
    return doc


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=os.environ.get("UDT_DATASETS") or os.path.expanduser("~/.cache/udt-datasets"),
                    help="datasets built by ../shared/data/fetch.py")
    ap.add_argument("--json", default=None, help="write the results here (rewritten after every task)")
    ap.add_argument("--only", default="", help="comma-separated task names")
    ap.add_argument("--report", default=None, help="markdown report (e.g. benchmarks/SUITE.md)")
    ap.add_argument("--work", default=os.path.expanduser("~/.cache/udt-suite"), help="prepared splits + scratch")
    ap.add_argument("--timeout", type=float, default=TIMEOUT_S, help="seconds per system")
    ap.add_argument("--peers-from", default=None, type=lambda p: json.load(open(p)),
                    help="a --json file whose peer results are reused, not rerun (for udt-only iterations)")
    ap.add_argument("--udt-options", default="",
                    help='JSON options every udt estimator gets on top of the defaults, e.g. \'{"time_budget": 0}\' '
                         '(a before/after at one commit; the report records them)')
    ap.add_argument("--from-json", default=None,
                    help="comma-separated --json files: merge them (a later file's row replaces an earlier one's for "
                         "the same task, and is listed under run.reruns), write --report / --json; run nothing")
    args = ap.parse_args(argv)

    if args.from_json:
        doc = merge_docs([json.load(open(path)) for path in args.from_json.split(",") if path.strip()])
        if args.json:
            write_json(doc, args.json)
        if args.report:
            write_report(doc, args.report)
        for r in doc["tasks"]:
            print(task_line(r))
        for line in summary_lines(doc["tasks"]):
            print(line)
        return 0

    apply_thread_env(THREADS)  # inherited by every spawned system
    if args.udt_options:
        json.loads(args.udt_options)  # fail here, not in every child
        os.environ["UDT_SUITE_OPTIONS"] = args.udt_options  # read by suite_tasks.run_system in each child
    from benchmarks.peers.suite_tasks import SUITE

    only = [x.strip() for x in args.only.split(",") if x.strip()]
    unknown = [x for x in only if x not in SUITE]
    if unknown:
        ap.error(f"unknown task(s) {', '.join(unknown)}; valid: {', '.join(SUITE)}")
    names = [n for n in SUITE if not only or n in only]
    os.makedirs(args.work, exist_ok=True)
    start = time.perf_counter()
    doc = {"run": {"date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), **git_state(),
                   "machine": machine_description(), "threads": THREADS, "holdout": list(HOLDOUT),
                   "data": os.path.abspath(args.data),
                   **({"udt_options": json.loads(args.udt_options)} if args.udt_options else {})},
           "tasks": []}
    for name in names:
        row = run_task(name, args)
        doc["tasks"].append(row)
        print(task_line(row), flush=True)
        doc["run"]["wall_s"] = time.perf_counter() - start
        doc["summary_lines"] = summary_lines(doc["tasks"])
        if args.json:
            write_json(doc, args.json)
        if args.report:
            write_report(doc, args.report)
    for line in summary_lines(doc["tasks"]):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
