#!/usr/bin/env python3
"""udt versus the tools users would pick instead, on one machine, in one run.

    python benchmarks/run.py [--quick] [--only NAME,...] [--json results.json] [--report report.md] [--data DIR]

Each (task, system) runs in its own freshly spawned process (peak RSS = that process's ru_maxrss) with the same
2 threads and OMP_WAIT_POLICY=PASSIVE; every system reads the same prepared train.csv / test.csv itself, so loading
and featurizing are inside its train time (and inside its batch-predict time). A system that is missing or fails
becomes a row with its status and error; the run always continues. See benchmarks/README.md.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from benchmarks.peers.harness import (THREADS, Result, apply_thread_env, machine_description,  # noqa: E402
                                      run_in_child)
from benchmarks.peers.tasks import TASKS, prepare  # noqa: E402

# seconds before a system is stopped and recorded as "timeout"
TIMEOUT_S = {"full": 1500, "quick": 300}
UDT_SYSTEMS = {"udt", "udt_trained", "udt_text_only", "udt_neighbors", "sparsity_sweep", "autotune_vs_grid", "label_augmentation"}


def default_data_dir() -> str:
    return os.environ.get("UDT_DATASETS") or os.path.expanduser("~/.cache/udt-datasets")


def select(only: list[str], exclude: list[str], peers_only: bool) -> list[tuple[str, str]]:
    """(task, system) pairs. A NAME in --only/--exclude is a task ("news20"), a family ("xc"), a system runner
    ("fasttext") or "task:system"."""
    pairs = []
    for task in TASKS.values():
        for system in task.systems:
            names = {task.name, task.family, system, f"{task.name}:{system}"}
            if only and not names & set(only):
                continue
            if exclude and names & set(exclude):
                continue
            if peers_only and system in UDT_SYSTEMS:
                continue
            pairs.append((task.name, system))
    return pairs


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="subsampled data, fewer latency rows (< 10 min)")
    ap.add_argument("--only", default="", help="comma-separated tasks / families / systems / task:system")
    ap.add_argument("--exclude", default="", help="comma-separated names to leave out (same forms as --only)")
    ap.add_argument("--peers-only", action="store_true", help="leave out every udt system")
    ap.add_argument("--json", default=None, help="write one object per (task, system) here")
    ap.add_argument("--report", default=None, help="markdown report path (PNG plots go beside it)")
    ap.add_argument("--data", default=default_data_dir(), help="datasets built by ../shared/data/fetch.py")
    ap.add_argument("--work", default=None, help="prepared splits + scratch (default ~/.cache/udt-bench/<mode>)")
    ap.add_argument("--latency-rows", type=int, default=None, help="single-row predictions timed per system")
    ap.add_argument("--timeout", type=float, default=None, help="seconds per system before it is stopped")
    ap.add_argument("--list", action="store_true", help="list tasks and systems, then exit")
    ap.add_argument("--from-json", default=None,
                    help="comma-separated --json outputs: merge them (a later file's row replaces an earlier one's "
                         "for the same task and system) and write --report/--json without running anything")
    args = ap.parse_args(argv)
    if args.from_json:
        return _merge(args)

    mode = "quick" if args.quick else "full"
    split = lambda s: [x.strip() for x in s.split(",") if x.strip()]  # noqa: E731
    pairs = select(split(args.only), split(args.exclude), args.peers_only)
    if args.list:
        for t, s in pairs:
            print(f"{t:24s} {s}")
        return 0
    if not pairs:
        ap.error(f"--only {args.only!r} matches nothing; tasks: {', '.join(TASKS)}")
    if not os.path.isdir(args.data):
        ap.error(f"no datasets in {args.data}: run `python ../shared/data/fetch.py` (or pass --data DIR)")
    work = args.work or os.path.join(os.path.expanduser("~/.cache/udt-bench"), mode)
    os.makedirs(work, exist_ok=True)
    apply_thread_env(THREADS)
    os.environ["PYTHONPATH"] = ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")
    timeout = args.timeout or TIMEOUT_S[mode]
    latency_rows = args.latency_rows or (200 if args.quick else 1000)

    started = dt.datetime.now(dt.timezone.utc)
    machine = machine_description()
    results: list[dict] = []
    prepared: dict[str, dict] = {}
    print(f"udt benchmarks ({mode}): {len(pairs)} runs, {THREADS} threads each, data {args.data}", flush=True)
    for task_name, system in pairs:
        task = TASKS[task_name]
        if task_name not in prepared:
            t0 = time.perf_counter()
            prepared[task_name] = prepare(task, args.data, work, args.quick)
            print(f"[{task_name}] prepared {prepared[task_name]['n_train']} train / "
                  f"{prepared[task_name]['n_test']} test rows ({time.perf_counter() - t0:.1f} s)", flush=True)
        info = prepared[task_name]
        ctx = {"task": task.name, "dataset": task.dataset, "train": info["train"], "test": info["test"],
               "dir": info["dir"], "work": work, "quick": args.quick, "threads": THREADS, "seed": 0,
               "latency_rows": latency_rows}
        t0 = time.perf_counter()
        status, payload, rss = run_in_child(f"benchmarks.peers.{task.family}:{system}", (ctx,), timeout)
        wall = time.perf_counter() - t0
        if status == "ok":
            rows = payload
            for r in rows:
                r.setdefault("n_train", info["n_train"])
                if r.get("n_train") is None:
                    r["n_train"] = info["n_train"]
        else:
            res = Result(task=task.name, dataset=task.dataset, system=system, metric_name=task.metric_name,
                         status=status, error=str(payload).strip(), peak_rss_mb=rss, n_train=info["n_train"],
                         n_test=info["n_test"])
            rows = [res.to_dict()]
        for r in rows:
            results.append(r)
            print(_line(r, wall), flush=True)
        if args.json:
            _write_json(args.json, results, machine, started, mode)
    machine["loadavg_end"] = os.getloadavg()
    if args.json:
        _write_json(args.json, results, machine, started, mode)
        print(f"wrote {args.json}")
    if args.report:
        from benchmarks.peers.report import write_report

        write_report(args.report, results, machine, started, mode)
        print(f"wrote {args.report}")
    return 0


def _merge(args) -> int:
    rows: dict[tuple[str, str], dict] = {}
    for path in [p for p in args.from_json.split(",") if p]:
        with open(path) as f:
            for r in json.load(f):
                rows[(r["task"], r["system"])] = r
    order = {name: i for i, name in enumerate(TASKS)}
    results = sorted(rows.values(), key=lambda r: order.get(r["task"], len(order)))  # stable: keeps system order
    run = results[0]["run"] if results else {}
    machine = dict(run.get("machine", {}))
    loads = [r["run"]["machine"].get("loadavg") for r in results if r.get("run", {}).get("machine", {}).get("loadavg")]
    if loads:
        machine["loadavg"] = loads[0]
    ends = [r["run"]["machine"]["loadavg_end"] for r in results if "loadavg_end" in r.get("run", {}).get("machine", {})]
    machine["loadavg_end"] = ends[-1] if ends else loads[-1] if loads else None
    started = dt.datetime.fromisoformat(run["started_utc"]) if run.get("started_utc") else dt.datetime.now(dt.timezone.utc)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    if args.report:
        from benchmarks.peers.report import write_report

        write_report(args.report, [{k: v for k, v in r.items() if k != "run"} for r in results], machine, started,
                     run.get("mode", "full"))
        print(f"wrote {args.report}")
    return 0


def _line(r: dict, wall: float) -> str:
    if r.get("status") != "ok":
        first = (r.get("error") or "").splitlines()[0] if r.get("error") else ""
        return f"[{r['task']}] {r['system']:28s} {r['status'].upper()}: {first}"
    fmt = lambda v, f: "-" if v is None else format(v, f)  # noqa: E731
    return (f"[{r['task']}] {r['system']:28s} {r['metric_name']}={fmt(r['metric'], '.4f')} "
            f"train={fmt(r['train_s'], '.1f')}s p50={fmt(r['latency_ms_p50'], '.3f')}ms "
            f"p99={fmt(r['latency_ms_p99'], '.3f')}ms rss={fmt(r['peak_rss_mb'], '.0f')}MB "
            f"file={fmt(r.get('model_file_mb'), '.1f')}MB load={fmt(r.get('load_s'), '.3f')}s (wall {wall:.0f}s)")


def _write_json(path: str, results: list[dict], machine: dict, started, mode: str) -> None:
    """A JSON list with one object per (task, system); run metadata rides along in each object's `run` key."""
    run = {"started_utc": started.isoformat(timespec="seconds"), "mode": mode, "machine": machine}
    tmp = path + ".part"
    with open(tmp, "w") as f:
        json.dump([dict(r, run=run) for r in results], f, indent=1)
    os.replace(tmp, path)


if __name__ == "__main__":
    sys.exit(main())
