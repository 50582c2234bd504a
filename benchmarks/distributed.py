"""Distributed training (udt.RayConfig) against single-process training on 20 Newsgroups.

    python benchmarks/distributed.py [--data DIR] [--sync-every 8] [--variants sum,sum-weights,mean] [--json out]

Trains the 20 Newsgroups text classifier (automatic architecture: 2**20 hashed ids x 128 hidden,
20 classes, 5 epochs) single-process with 2 and with 1 engine threads, then on a local Ray cluster
with RayConfig(num_workers=2, cpus_per_worker=1) (one engine thread per worker) for each variant
(merge "sum" or "mean"; "-weights": sync_adam=False) and --sync-every value. Reports test
accuracy, fit wall time, training time, CPU seconds, the sync overhead (epoch time not spent in
the slowest worker's training; merge_s: the driver's part), the rows exchanged and the load
average before and after each run.

CPU seconds are those of this process and every process under it, which includes the Ray cluster
this script starts (GCS, raylet), plus the CPU the workers report (start-up included), so Ray's
own overhead is counted; the cluster's start-up is reported once, outside the runs. On a machine
shared with other work, CPU seconds are the fairer number; wall times depend on the load average
printed beside them.
"""
import argparse
import json
import os
import sys
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")

import pandas as pd   # noqa: E402
import psutil         # noqa: E402

import udt            # noqa: E402

DEFAULT_DATA = os.environ.get("UDT_DATASETS", os.path.expanduser("~/.cache/udt-datasets"))


def tree_cpu_seconds() -> float:
    """User + system CPU of this process and its descendants but Ray's worker processes ("ray::..."),
    which end with each fit and report their own CPU (history's worker_cpu_seconds)."""
    me = psutil.Process()
    total = 0.0
    for p in [me, *me.children(recursive=True)]:
        try:
            if p is not me and p.name().startswith("ray::"):
                continue
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.Error:
            pass
    return total


def run(name, train, test, epochs, n_threads, distributed=None):
    model = udt.Classifier(columns={"text": udt.Text(), "label": udt.Categorical()}, target="label",
                           early_stopping_patience=None, n_threads=n_threads, epochs=epochs)
    load_before, cpu_before, start = os.getloadavg()[0], tree_cpu_seconds(), time.perf_counter()
    model.fit(train, distributed=distributed, progress=False)
    wall, cpu = time.perf_counter() - start, tree_cpu_seconds() - cpu_before
    cpu += sum(e.get("worker_cpu_seconds", 0.0) for e in model.history_)
    accuracy = model.evaluate(test, metrics=["accuracy"])["accuracy"]
    h = model.history_
    row = {"run": name, "accuracy": round(accuracy, 4), "fit_s": round(wall, 2),
           "train_s": round(sum(e["train_seconds"] for e in h), 2), "cpu_s": round(cpu, 1),
           "epochs": len(h), "load_before": round(load_before, 2), "load_after": round(os.getloadavg()[0], 2)}
    if distributed is not None:
        row.update(rounds=sum(e["rounds"] for e in h), sync_s=round(sum(e["sync_seconds"] for e in h), 2),
                   merge_s=round(sum(e["merge_seconds"] for e in h), 2),
                   exchanged_mb=round(sum(e["exchanged_mb"] for e in h)),
                   worker_cpu_s=round(sum(e["worker_cpu_seconds"] for e in h), 1))
    print(json.dumps(row), flush=True)
    return row


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=DEFAULT_DATA, help="datasets built by shared/data/fetch.py")
    parser.add_argument("--sync-every", default="8", help="comma-separated RayConfig.sync_every values")
    parser.add_argument("--variants", default="sum,sum-weights,mean",
                        help="comma-separated RayConfig.merge values; '-weights' adds sync_adam=False")
    parser.add_argument("--epochs", default="auto", help="epochs for every run (default: the automatic choice)")
    parser.add_argument("--skip-single", action="store_true", help="only the distributed runs")
    parser.add_argument("--json", help="write the result rows here")
    args = parser.parse_args()
    path = os.path.join(args.data, "text", "20newsgroups.csv")
    if not os.path.exists(path):
        sys.exit(f"missing {path}: build the datasets with `python shared/data/fetch.py {args.data}`")
    frame = pd.read_csv(path, usecols=["split", "label", "text"])
    train = frame[frame.split == "train"].drop(columns="split")
    test = frame[frame.split == "test"].drop(columns="split")
    epochs = args.epochs if args.epochs == "auto" else int(args.epochs)
    print(f"20 Newsgroups: {len(train):,} train / {len(test):,} test; {os.cpu_count()} cores; "
          f"load {os.getloadavg()[0]:.2f}", flush=True)

    rows = []
    if not args.skip_single:
        rows.append(run("single, 2 threads", train, test, epochs, 2))
        rows.append(run("single, 1 thread", train, test, epochs, 1))

    import ray
    start = time.perf_counter()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    print(f"local Ray cluster started in {time.perf_counter() - start:.1f} s", flush=True)
    try:
        for variant in args.variants.split(","):
            merge, _, weights = variant.partition("-")
            for sync_every in map(int, args.sync_every.split(",")):
                config = udt.RayConfig(num_workers=2, cpus_per_worker=1, sync_every=sync_every, merge=merge,
                                       sync_adam=weights != "weights")
                name = f"ray 2x1, sync_every={sync_every}, merge={merge}, sync_adam={config.sync_adam}"
                rows.append(run(name, train, test, epochs, None, config))
    finally:
        ray.shutdown()
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
