"""Model file size, load time, memory after load and page sharing, per file form (issue 14 item 3).

    python benchmarks/model_load.py [--only adult,news20,debsearch] [--dir /tmp/udt-model-load] [--data DIR]

Each task is fitted once at its defaults and saved to DIR/<task>_full.udt (reused when present: debsearch
takes minutes). From it: the inference-only file (no optimizer state) at float32, bfloat16 and int8, and the
inference-only file in format v1 (what udt wrote before mapped files) for comparison. For each file:
size; load time in a fresh process (udt's estimator code imported first, its import time reported apart: a
server pays it once, whatever the model), cold-ish (the file's pages dropped from the page
cache with posix_fadvise, once) and warm (median of 3); RSS and PSS after load; the test score after
loading. Then two processes load the inference file at once and hold it: their Rss/Pss/Shared_Clean
(/proc/PID/smaps_rollup) show the pages they share.

debsearch (870,928 x 256 -> 63,427, L = 668 inference tables of 2^14 buckets), 2026-12-04, after the engine read
16-bit LSH tables in place and widened bfloat16/int8 weights in C++ (before -> after; load 4-6 unless said):
    full             2,578.8 -> 1,848.2 MB (the tables stored in 16 bits: lossless, they fit)
    inference        2,381.6 -> 1,651.0 MB   warm load 0.51 s (median of 5 fresh processes, load 1.0-1.4)
    inference-bf16   1,194.8 MB              warm load 3.92 -> 0.53 s (median of 5, load 1.0-1.4; 0.96-1.16 s
                                             at load 4-5); P@1 0.3397 (float32 0.3394)
    inference-int8     970.3 MB              warm load 2.03 -> 0.46 s (median of 5, load 1.0-1.4); P@1 0.3394
    two processes holding the float32 inference file: Pss 981 MB each, Shared_Clean 1,720 MB
In a fresh process the import of the estimators' code (scikit-learn, pandas) takes another 1.6-3.6 s at load
4-6, once per process.
Then (commit be308f7, AMD EPYC 2-core machine, load 1.8-2.6) Text columns of sets whose median class has under
400 rows train on unigrams (udt.selection.text_ngrams): debsearch's input layer is 84,462 rows, P@1 0.3718:
    full             1,230.0 MB   warm load 0.13 s (cold 0.65 s)
    inference          877.2 MB   warm load 0.12 s (cold 0.35 s)   P@1 0.3718
    inference-bf16     805.0 MB   warm load 0.22 s                 P@1 0.3715
    inference-int8     769.5 MB   warm load 0.36 s                 P@1 0.3712
    two processes holding the float32 inference file: Pss 584 MB each, Shared_Clean 948 MB
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import udt  # noqa: E402
from udt.model_file.serialization import load_model_file, save_model_file  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
FORMS = [("full", None), ("inference", {"optimizer_state": False}),
         ("inference-bf16", {"optimizer_state": False, "precision": "bfloat16"}),
         ("inference-int8", {"optimizer_state": False, "precision": "int8"}), ("inference-v1", "v1")]

# Run in a fresh interpreter: load the file, report seconds and memory, optionally wait for a line on stdin.
_LOADER = """
import os, sys, time, json
t = time.perf_counter()
from udt import load  # the estimators' code (scikit-learn, pandas): once per process, whatever the model
import_seconds = time.perf_counter() - t
path, drop, hold = sys.argv[1], sys.argv[2] == "1", sys.argv[3] == "1"
if drop:
    fd = os.open(path, os.O_RDONLY); os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED); os.close(fd)
t = time.perf_counter()
model = load(path)
seconds = time.perf_counter() - t
rollup = {l.split(':')[0]: int(l.split()[1]) for l in open('/proc/self/smaps_rollup') if l.split()[-1] == 'kB'}
print(json.dumps({"seconds": seconds, "import_seconds": import_seconds, "rss_mb": rollup["Rss"] / 1024,
                  "pss_mb": rollup["Pss"] / 1024, "shared_clean_mb": rollup.get("Shared_Clean", 0) / 1024}),
      flush=True)
if hold:
    sys.stdin.readline()
"""


def _read_csv(path, **kw):
    with (gzip.open(path, "rt") if str(path).endswith(".gz") else open(path)) as f:
        return pd.read_csv(f, **kw)


def adult(_data):
    table = _read_csv(ROOT / "demos" / "data" / "adult.csv.gz")
    return (table[table.split == "train"].drop(columns="split"), table[table.split == "test"].drop(columns="split"),
            "income", None)


def news20(data):
    table = pd.read_csv(Path(data) / "text" / "20newsgroups.csv")
    return (table[table.split == "train"].drop(columns="split"), table[table.split == "test"].drop(columns="split"),
            "label", {"text": udt.Text(), "label": udt.Categorical()})


def debsearch(data):
    train, test = (pd.read_csv(Path(data) / "xml" / f"debsearch_{s}.csv") for s in ("train", "test"))
    for t in (train, test):
        t["text"] = t["text"].fillna("")
    return train, test, "package", {"text": udt.Text(), "package": udt.Categorical()}


def _score(model, test, target) -> float:
    """Accuracy (precision@1 for debsearch: one package per row)."""
    predicted = np.asarray(model.predict(test.drop(columns=target))).astype(str)
    return float(np.mean(predicted == test[target].astype(str).to_numpy()))


def _load(path, drop: bool, hold: bool = False):
    return subprocess.Popen([sys.executable, "-c", _LOADER, str(path), str(int(drop)), str(int(hold))],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)


def _measure(path) -> dict:
    cold = json.loads(_load(path, drop=True).communicate()[0])
    warm = [json.loads(_load(path, drop=False).communicate()[0]) for _ in range(3)]
    return {"cold_s": cold["seconds"], "warm_s": statistics.median(w["seconds"] for w in warm),
            "import_s": statistics.median(w["import_seconds"] for w in warm),
            "rss_mb": statistics.median(w["rss_mb"] for w in warm), "pss_mb": statistics.median(w["pss_mb"] for w in warm)}


def _shared(path) -> list[dict]:
    """Two processes loading the same file, both holding it: each one's memory."""
    procs = [_load(path, drop=False, hold=True) for _ in range(2)]
    first = [json.loads(p.stdout.readline()) for p in procs]
    rollups = []
    for p in procs:  # read again once both have loaded: Pss splits the pages both map
        with open(f"/proc/{p.pid}/smaps_rollup") as f:
            fields = {l.split(":")[0]: int(l.split()[1]) / 1024 for l in f if l.split()[-1] == "kB"}
        rollups.append({"rss_mb": fields["Rss"], "pss_mb": fields["Pss"], "shared_clean_mb": fields["Shared_Clean"]})
    for p in procs:
        p.communicate("\n")
    return [dict(r, seconds=f["seconds"]) for r, f in zip(rollups, first)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=os.environ.get("UDT_DATASETS") or os.path.expanduser("~/.cache/udt-datasets"))
    parser.add_argument("--only", default="adult,news20,debsearch")
    parser.add_argument("--dir", default="/tmp/udt-model-load")
    args = parser.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    print(f"load average {os.getloadavg()[0]:.2f} at start")
    for name in args.only.split(","):
        train, test, target, columns = {"adult": adult, "news20": news20, "debsearch": debsearch}[name](args.data)
        full = Path(args.dir) / f"{name}_full.udt"
        if not full.exists():
            start = time.perf_counter()
            model = udt.Classifier(columns=columns, target=target).fit(train, progress=False)
            model.save(full)
            print(f"{name}: fit {time.perf_counter() - start:.0f} s")
        model = udt.load(full)
        model.save(full)  # in this udt's format (saving is lossless; the file is replaced, not rewritten)
        print(f"{name}: {model.model_.network}, load average {os.getloadavg()[0]:.2f}")
        for form, how in FORMS:
            path = Path(args.dir) / f"{name}_{form}.udt"
            if how == "v1":
                save_model_file(path, *load_model_file(Path(args.dir) / f"{name}_inference.udt"), format_version=1)
            elif how is not None:
                model.save(path, **how)
            m = _measure(path)
            score = _score(udt.load(path), test, target)
            print(f"  {form:<15} {path.stat().st_size / 2**20:9.1f} MB  load cold {m['cold_s']:6.2f} s  warm "
                  f"{m['warm_s']:6.2f} s (+ import {m['import_s']:.2f} s)  RSS {m['rss_mb']:8.1f} MB  PSS {m['pss_mb']:8.1f} MB  score {score:.4f}",
                  flush=True)
        for i, r in enumerate(_shared(Path(args.dir) / f"{name}_inference.udt")):
            print(f"  two processes, inference file, #{i + 1}: load {r['seconds']:.2f} s  Rss {r['rss_mb']:.1f} MB  "
                  f"Pss {r['pss_mb']:.1f} MB  Shared_Clean {r['shared_clean_mb']:.1f} MB", flush=True)
        print(f"  load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
