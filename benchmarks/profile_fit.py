"""Where a fit's time goes, phase by phase, with the plan fixed (no plan search); then the plan search's extra time.

    python benchmarks/profile_fit.py [--data DIR] [--task news20|polarity|adult] [--repeats 3]

Phases: reading + featurizing the training file (one pass, timed on its own), the rest of fit before the
first epoch (counting ids, the id map, statistics, IDF, allocating the network), each epoch (the first one
also pays the page faults of first touching the embedding and its optimizer state), and inside the engine
its own clock per training phase (udt.engine.Network.phase_seconds: active-set selection with the hidden
layer's forward pass, grouping, output forward, loss, output backward + Adam, hidden backward + the
embedding's optimizer step, augmentation, LSH rebuilds). Then the same task fitted at the defaults, where the
plan search runs (time_budget="auto"): its fit time, the search's extra time over the fixed plan, and its
accuracy. Medians over --repeats fits in fresh processes.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TASKS = {"news20": ("label", {"text": "Text"}), "polarity": ("label", {"text": "Text"}), "adult": ("income", None)}


def one_fit(task: str, work: str) -> dict:
    import udt
    from udt.ingest.featurize import TableFeaturizer
    from udt.ingest.infer_columns import infer_columns
    train, test = os.path.join(work, task, "train.csv"), os.path.join(work, task, "test.csv")
    target, declared = TASKS[task]
    columns = ({name: getattr(udt, kind)() for name, kind in declared.items()} | {target: udt.Categorical()}
               if declared else None)
    out = {}
    if columns is None:
        columns, _ = infer_columns(train, None, target, numeric_target=False)
    t = time.perf_counter()
    TableFeaturizer(columns, target=target, input_dim=1 << 31).fit(train).transform(train)
    out["read + featurize (one pass, separately)"] = time.perf_counter() - t
    model = udt.Classifier(columns=columns, target=target, time_budget=0, n_threads=2)
    t = time.perf_counter()
    model.fit(train, progress=False)
    out["fit total"] = total = time.perf_counter() - t
    epochs = [h["train_seconds"] for h in model.history_]
    out["epoch 1 (first touch)"] = epochs[0]
    out["epochs 2.. (mean)"] = statistics.mean(epochs[1:]) if len(epochs) > 1 else 0.0
    out["epochs"] = len(epochs)
    out["fit outside epochs"] = total - sum(epochs)
    for name, seconds in model.network_.phase_seconds.items():
        out[f"engine: {name}"] = seconds
    out["accuracy"] = model.evaluate(test, metrics=["accuracy"])["accuracy"]
    out["input rows x hidden"] = f"{model.network_.input_dim} x {model.network_.hidden_dim}"
    out["embedding optimizer"] = model.model_.plan.embedding_optimizer
    # The same fit at the defaults, the plan search on (time_budget="auto"): its extra time on a line of its own.
    searched = udt.Classifier(columns=columns, target=target, n_threads=2)
    t = time.perf_counter()
    searched.fit(train, progress=False)
    out["fit at the defaults (plan search on)"] = time.perf_counter() - t
    out["plan search's extra time"] = out["fit at the defaults (plan search on)"] - total
    # Text has no candidate under "auto": there the difference is a second fit's own noise, not a search.
    out["plan search trials"] = len(searched.model_.search)
    out["accuracy at the defaults"] = searched.evaluate(test, metrics=["accuracy"])["accuracy"]
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--task", default="news20", choices=sorted(TASKS))
    ap.add_argument("--work", default=os.path.expanduser("~/.cache/udt-suite"),
                    help="prepared splits (benchmarks/suite.py prepares them from --data)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(one_fit(args.task, args.work)))
        return 0
    runs = []
    load = os.getloadavg()[0]
    for _ in range(args.repeats):
        done = subprocess.run([sys.executable, __file__, "--child", "--task", args.task, "--work", args.work],
                              capture_output=True, text=True, check=True, env=dict(os.environ, PYTHONPATH=ROOT))
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    print(f"{args.task}: medians of {args.repeats} fits, load average {load:.2f} -> {os.getloadavg()[0]:.2f}")
    for key, value in runs[0].items():
        if isinstance(value, (int, float)):
            med = statistics.median(r[key] for r in runs)
            print(f"  {key:<42} {med:10.3f}" if isinstance(value, float) else f"  {key:<42} {med:>10}")
        else:
            print(f"  {key:<42} {value:>10}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
