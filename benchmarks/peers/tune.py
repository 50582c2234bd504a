#!/usr/bin/env python3
"""The peers' small tuning budget: each grid below is evaluated on a validation split carved out of the TRAIN set
(90/10, fixed seed; the test set is never read), and the winners are the values hard-coded in the peer modules.

    python -m benchmarks.peers.tune [--only TASK,...] [--data DIR]

Prints one line per (system, setting) and the best setting per system. udt gets the same budget (a grid of the
same size over its own knobs) when its runner is tuned.
"""
from __future__ import annotations

import argparse
import itertools
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from benchmarks.peers.harness import THREADS, Stopwatch, apply_thread_env  # noqa: E402

apply_thread_env(THREADS)

from benchmarks.peers import tabular, text  # noqa: E402
from benchmarks.peers.tasks import TASKS, prepare  # noqa: E402


def validation_split(task: str, data: str, work: str) -> dict:
    import pandas as pd

    info = prepare(TASKS[task], data, os.path.join(work, "full"), quick=False)
    out = os.path.join(work, "tune", task)
    os.makedirs(out, exist_ok=True)
    df = pd.read_csv(info["train"], keep_default_na=False, na_values=[""])
    val = df.sample(frac=0.1, random_state=1)
    df.drop(val.index).to_csv(os.path.join(out, "train.csv"), index=False)
    val.to_csv(os.path.join(out, "test.csv"), index=False)
    return {"task": task, "dataset": task, "train": os.path.join(out, "train.csv"),
            "test": os.path.join(out, "test.csv"), "work": work, "threads": THREADS, "seed": 0}


def evaluate(ctx, system, module) -> tuple[float, float]:
    with Stopwatch() as sw:
        system.fit(ctx["train"])
    preds = system.predict_batch(ctx["test"])
    return module.score(module.truth(ctx["test"]), preds)["accuracy"], sw.seconds


def grid(name, ctx, module, make, settings):
    best = None
    for s in settings:
        acc, secs = evaluate(ctx, make(s), module)
        print(f"  {ctx['task']:10s} {name:22s} {str(s):40s} val_acc={acc:.4f} train={secs:.1f}s", flush=True)
        if best is None or acc > best[0]:
            best = (acc, s)
    print(f"  {ctx['task']:10s} {name:22s} BEST {best[1]} ({best[0]:.4f})", flush=True)


def tune_text(ctx):
    task = ctx["task"]

    def ft(s):
        text.FASTTEXT[task] = dict(lr=s[0], epoch=s[1])
        return text.FastText(ctx)

    def svc(c):
        text.SVC_C[task] = c
        return text.TfidfLinearSVC(ctx)

    def sgd(a):
        text.SGD_ALPHA[task] = a
        return text.HashingSGD(ctx)

    def mlp(e):
        text.MLP_EPOCHS[task] = e
        return text.TorchEmbBagMLP(ctx)

    grid("fastText", ctx, text, ft, list(itertools.product([0.25, 0.5, 1.0], [10, 25])))
    grid("TF-IDF+LinearSVC", ctx, text, svc, [0.3, 1.0, 3.0])
    grid("Hashing+SGD", ctx, text, sgd, [1e-4, 1e-5, 1e-6])
    grid("PyTorch EmbBag-MLP", ctx, text, mlp, [2, 5, 10])


def tune_adult(ctx):
    def lgb(s):
        tabular.LGBM_PARAMS.update(n_estimators=s[0], learning_rate=s[1])
        return tabular.LightGBM(ctx)

    def hgb(s):
        tabular.HGB_PARAMS.update(max_iter=s[0], learning_rate=s[1])
        return tabular.HistGB(ctx)

    def mlp(e):
        tabular.MLP_EPOCHS = e
        return tabular.TorchMLP(ctx)

    grid("LightGBM", ctx, tabular, lgb, [(100, 0.1), (300, 0.05), (1000, 0.02)])
    grid("HistGradientBoosting", ctx, tabular, hgb, [(100, 0.1), (300, 0.05), (1000, 0.02)])
    grid("PyTorch MLP", ctx, tabular, mlp, [5, 10, 20])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--only", default="news20,polarity,adult")
    ap.add_argument("--data", default=os.environ.get("UDT_DATASETS") or os.path.expanduser("~/.cache/udt-datasets"))
    ap.add_argument("--work", default=os.path.expanduser("~/.cache/udt-bench"))
    args = ap.parse_args()
    for task in [t for t in args.only.split(",") if t]:
        ctx = validation_split(task, args.data, args.work)
        {"news20": tune_text, "polarity": tune_text, "adult": tune_adult}[task](ctx)
    return 0


if __name__ == "__main__":
    sys.exit(main())
