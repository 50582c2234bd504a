"""Model file size, load time and quality of each deployment form (udt.model_file.compact_arrays).

    python benchmarks/compact_models.py [--data DIR] [--only adult,news20]

For each task: fit at the defaults, then save the full file, the inference-only file (no optimizer
state) and the inference-only file at bfloat16 and int8; report size, load time (warm page cache,
median of 3) and test accuracy after loading. Adult comes from demos/data; 20 Newsgroups from --data
(../shared/data/fetch.py).
"""
from __future__ import annotations

import argparse
import gzip
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
import pandas as pd  # noqa: E402

import udt  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
FORMS = [("full", {}), ("inference", {"optimizer_state": False}),
         ("inference bf16", {"optimizer_state": False, "precision": "bfloat16"}),
         ("inference int8", {"optimizer_state": False, "precision": "int8"})]


def adult(_data):
    with gzip.open(ROOT / "demos" / "data" / "adult.csv.gz", "rt") as f:
        table = pd.read_csv(f)
    return (table[table.split == "train"].drop(columns="split"), table[table.split == "test"].drop(columns="split"),
            "income", None)


def news20(data):
    table = pd.read_csv(Path(data) / "text" / "20newsgroups.csv")
    columns = {"text": udt.Text(), "label": udt.Categorical()}
    return (table[table.split == "train"].drop(columns="split"), table[table.split == "test"].drop(columns="split"),
            "label", columns)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=os.environ.get("UDT_DATASETS") or os.path.expanduser("~/.cache/udt-datasets"))
    parser.add_argument("--only", default="adult,news20")
    args = parser.parse_args()
    for name in args.only.split(","):
        train, test, target, columns = {"adult": adult, "news20": news20}[name](args.data)
        start = time.perf_counter()
        model = udt.Classifier(columns=columns, target=target).fit(train, progress=False)
        print(f"{name}: fit {time.perf_counter() - start:.1f} s, accuracy {model.score(test.drop(columns=target), test[target]):.4f}, "
              f"load average {os.getloadavg()[0]:.2f}")
        with tempfile.TemporaryDirectory() as tmp:
            for form, kwargs in FORMS:
                path = os.path.join(tmp, form.replace(" ", "_") + ".udt")
                model.save(path, **kwargs)
                times = []
                for _ in range(3):
                    t = time.perf_counter()
                    loaded = udt.load(path)
                    times.append(time.perf_counter() - t)
                accuracy = loaded.score(test.drop(columns=target), test[target])
                print(f"  {form:<16} {os.path.getsize(path) / 2**20:9.1f} MB  load {statistics.median(times):6.2f} s  "
                      f"accuracy {accuracy:.4f}")


if __name__ == "__main__":
    main()
