#!/usr/bin/env python3
"""Peak resident memory of a streamed fit against `memory_budget_mb`, for tabular and for text-heavy rows.

    python benchmarks/streaming_rss.py [--budget-mb 64] [--ratio 10] [--kinds tabular,text,text-twice] [--json]

For each kind, a CSV of `ratio` x the budget is written into --dir (in a child process, row block by row block, so
generating is bounded too), then udt.Classifier(memory_budget_mb=budget).fit runs on it in a fresh child process,
which reports:

    baseline_mb  resident memory after a warm-up fit of 200 rows with a tiny network (interpreter, numpy, pyarrow,
                 scipy, udt: the code fit loads)
    peak_mb      ru_maxrss at the end of fit
    model_mb     the network's state arrays (weights and optimizer moments)
    over_mb      peak - baseline - model: what fit's data handling used, to compare with the budget
    fit_s, rows, accuracy on 5,000 rows generated apart (same distribution, other seed)

Kinds: tabular (8 categorical + 4 numeric columns, ~80 bytes a row), text (one Text column of ~1,000 words a row),
text-twice (the text file passed twice, as a list of two sources). The files are deleted unless --keep.

Measured at --budget-mb 64 (640 MB files; 2 shared cores, load 2-8, so fit_s is loose), peak_mb before -> after
bounding the streaming in bytes (model 97 MB; the "before" baseline had no warm-up, ~15 MB lower):
    tabular     742 -> 370 MB (over_mb 84: ~50 MB of it is the statistics pass's numeric samples, 1M float64
                per Numeric column, ingest/numeric_quantiles.py, freed before training); with 131k-value
                samples 353 MB, over_mb 67 (fit 48.8 s at load 1.4; text then: 363 MB, over_mb 71, 33.6 s)
    text       3700 -> 364 MB (over_mb 70)
    text-twice 6902 -> 364 MB (over_mb 70: the same as one pass, as bounded memory should be)
then before -> after one accounting of the budget (udt.training.memory_budget: reader, fixed, slack, buffer,
batch with the engine's workspace), the CSV reader on the system allocator (mimalloc kept ~20 MB of freed
blocks), malloc's mmap threshold fixed before the first pass, a mix no longer holding the previous rows it kept,
and batches gathered with one copy:
    tabular     354 -> 335 MB, over_mb 68 -> 49 (fit 100.5 s at load 5.6 -> 100.7 s at load 4.7; accuracy 0.895
                -> 0.896)
    text        364 -> 337 MB, over_mb 71 -> 44 (fit 64.0 s at load 6.5 -> 45.4 s at load 4.1; accuracy 1.0)
    text-twice  364 -> 335 MB, over_mb 70 -> 42 (fit 96.6 s at load 3.8; accuracy 1.0)
    at --budget-mb 32 --ratio 20 (the same files): tabular 314 MB, over_mb 29 (71.7 s, 0.895), text 307 MB,
                over_mb 15 (56.3 s, 1.0; batches of ~85 rows: 1,000-word rows and their workspace), load 3.8-3.9
then malloc's mmap threshold fixed only once a fit streams (when the first pass outgrows the in-memory share),
not for every fit: fixed for the whole process it made in-memory fits ~20% slower (20 Newsgroups 3.54-3.78 s
against 2.87-3.11 s, alternating, load 2-3), so the first pass's chunks up to budget / 2 are trimmed afterwards:
    tabular     344 MB, over_mb 59 (fit 44.4 s at load 1.9; accuracy 0.896)
    text        351 MB, over_mb 58 (fit 26.3 s at load 1.4; accuracy 1.0)
then (commit ae81d1d, an AMD EPYC machine of the same kind, load 1.1-1.2) numeric values interpolated between bin
centres, up to 7 features per Numeric column instead of 4 (the tabular rows: 36 features instead of 24):
    tabular     349 / 346 MB, over_mb 64 / 62 in two runs (fit 38.4 / 45.6 s; accuracy 0.897): at the budget
    text        345 MB, over_mb 52 (fit 28.3 s; accuracy 1.0)
A budget of 16 MB is refused when the rows must be streamed: ~24 MB is held whatever the budget (the heap the
passes before training leave, the featurizer's and engine's tables, the reader), so streaming needs 26 MB.
"""
import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

N_CLASSES = 10
TEXT_WORDS = 1000


def _tabular_rows(rng, n):
    out = []
    for _ in range(n):
        cats = [rng.randrange(100)] + [rng.randrange(1000) for _ in range(7)]
        nums = [rng.random() * 100 for _ in range(4)]
        # The label follows the first column, with 10% noise: the best accuracy is 0.91.
        label = cats[0] // 10 if rng.random() > 0.1 else rng.randrange(N_CLASSES)
        out.append(",".join(f"c{c}" for c in cats) + "," + ",".join(f"{x:.2f}" for x in nums) + f",k{label}\n")
    return out


def _text_rows(rng, n, vocab):
    out = []
    for _ in range(n):
        label = rng.randrange(N_CLASSES)
        # 3% of the words come from the class's own 50 words, the rest are shared filler.
        words = [vocab[label * 50 + rng.randrange(50)] if rng.random() < 0.03 else vocab[500 + rng.randrange(19500)]
                 for _ in range(TEXT_WORDS)]
        out.append(f"\"{' '.join(words)}\",k{label}\n")
    return out


HEADERS = {"tabular": ",".join([f"cat{i}" for i in range(8)] + [f"num{i}" for i in range(4)] + ["label"]) + "\n",
           "text": "text,label\n"}


def generate(kind, path, size_bytes, seed):
    """Writes rows until the file holds `size_bytes`, 2,000 rows at a time (memory stays a few MB)."""
    rng = random.Random(seed)
    vocab_rng = random.Random(12345)  # the same words for the training and the test file
    vocab = ["".join(vocab_rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(vocab_rng.randint(3, 8)))
             for _ in range(20000)]
    written = 0
    with open(path + ".part", "w") as f:
        f.write(HEADERS[kind])
        while written < size_bytes:
            block = "".join(_tabular_rows(rng, 2000) if kind == "tabular" else _text_rows(rng, 100, vocab))
            f.write(block)
            written += len(block)
    os.replace(path + ".part", path)


def columns(kind):
    import udt
    if kind == "tabular":
        cols = {f"cat{i}": udt.Categorical() for i in range(8)}
        cols.update({f"num{i}": udt.Numeric() for i in range(4)})
    else:
        cols = {"text": udt.Text()}
    cols["label"] = udt.Categorical()
    return cols


def fit_child(kind, sources, test_path, budget_mb):
    """Runs in its own process: fit, then print one JSON line."""
    import numpy as np
    import pandas as pd
    import udt

    # Warm-up: a fit of 200 rows from the test file with a tiny network loads every module fit uses (scipy
    # alone is ~40 MB), so the baseline holds the code and over_mb only what the data handling adds.
    warm = pd.read_csv(test_path, dtype=str, nrows=200)
    udt.Classifier(columns=columns(kind), target="label", epochs=1, hidden_dim=4, input_dim=256).fit(
        warm, progress=False)
    del warm
    model = udt.Classifier(columns=columns(kind), target="label", memory_budget_mb=budget_mb, epochs=1,
                           hidden_dim=64, input_dim=1 << 17, n_threads=2)
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start = time.perf_counter()
    model.fit(sources, progress=False)
    fit_s = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    model_mb = sum(a.nbytes for a in model.model_.network.state_views().values()) / 2**20
    test = pd.read_csv(test_path, dtype=str)
    accuracy = float(np.mean(model.predict(test) == test["label"].to_numpy()))
    print(json.dumps({"baseline_mb": round(baseline), "peak_mb": round(peak), "model_mb": round(model_mb),
                      "over_mb": round(peak - baseline - model_mb), "fit_s": round(fit_s, 1),
                      "rows": int(model.model_.n_train_rows), "accuracy": round(accuracy, 3)}))


def _run(args):
    return subprocess.run([sys.executable, __file__, *args], check=True, capture_output=True, text=True).stdout


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--budget-mb", type=int, default=64)
    ap.add_argument("--ratio", type=float, default=10.0, help="file size / budget")
    ap.add_argument("--kinds", default="tabular,text,text-twice")
    ap.add_argument("--dir", default=tempfile.gettempdir())
    ap.add_argument("--keep", action="store_true", help="keep the generated files (reused by the next run)")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--generate", nargs=4, help=argparse.SUPPRESS)  # kind path bytes seed
    ap.add_argument("--fit", nargs=4, help=argparse.SUPPRESS)  # kind sources(json) test budget
    args = ap.parse_args(argv)
    if args.generate:
        kind, path, size, seed = args.generate
        generate(kind, path, int(size), int(seed))
        return 0
    if args.fit:
        kind, sources, test, budget = args.fit
        fit_child(kind, json.loads(sources), test, int(budget))
        return 0
    size = int(args.ratio * args.budget_mb * 2**20)
    results, made = [], []
    try:
        for kind in args.kinds.split(","):
            base = "text" if kind.startswith("text") else "tabular"
            path = os.path.join(args.dir, f"udt_rss_{base}_{size >> 20}mb.csv")
            test = os.path.join(args.dir, f"udt_rss_{base}_test.csv")
            for p, n, seed in ((path, size, 0), (test, 5000 * (80 if base == "tabular" else 7000), 1)):
                if not (os.path.exists(p) and os.path.getsize(p) >= n):
                    _run(["--generate", base, p, str(n), str(seed)])
                made.append(p)
            sources = [path, path] if kind == "text-twice" else path
            out = json.loads(_run(["--fit", kind, json.dumps(sources), test, str(args.budget_mb)]))
            row = {"kind": kind, "budget_mb": args.budget_mb,
                   "file_mb": round(os.path.getsize(path) * (2 if kind == "text-twice" else 1) / 2**20), **out,
                   "load": round(os.getloadavg()[0], 2)}
            results.append(row)
            print(json.dumps(row) if args.json else "  ".join(f"{k}={v}" for k, v in row.items()), flush=True)
    finally:
        if not args.keep:
            for p in set(made):
                if os.path.exists(p):
                    os.remove(p)
    return 0


if __name__ == "__main__":
    sys.exit(main())
