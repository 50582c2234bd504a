"""Imbalanced binary classification: UCI Adult's training split cut to 3.1% positives (as in issue #15).

    python benchmarks/imbalanced.py [--seed 0]

Reports, on Adult's full test split, minority (>50K) recall, accuracy and ROC-AUC for udt at its defaults,
with class_weight="balanced", and with the default model and a lower decision threshold (0.2).
Uses the copy of Adult shipped in demos/data, so it needs nothing else.
"""
from __future__ import annotations

import argparse
import gzip
import os
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import udt  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    with gzip.open(ROOT / "demos" / "data" / "adult.csv.gz", "rt") as f:
        table = pd.read_csv(f)
    train, test = table[table.split == "train"].drop(columns="split"), table[table.split == "test"].drop(columns="split")
    negative, positive = train[train.income == "<=50K"], train[train.income == ">50K"]
    n_positive = round(0.031 / 0.969 * len(negative))
    train = pd.concat([negative, positive.sample(n_positive, random_state=args.seed)]).sample(frac=1,
                                                                                             random_state=args.seed)
    print(f"training rows {len(train):,}, positives {n_positive:,} ({n_positive / len(train):.1%}); "
          f"test rows {len(test):,}, positives {(test.income == '>50K').mean():.1%}; load {os.getloadavg()[0]:.2f}")
    truth = test.income.to_numpy() == ">50K"
    from sklearn.metrics import roc_auc_score
    for name, options, threshold in [("defaults", {}, 0.5), ("class_weight='balanced'", {"class_weight": "balanced"}, 0.5),
                                     ("defaults, threshold 0.2", {}, 0.2)]:
        start = time.perf_counter()
        model = udt.Classifier(target="income", seed=args.seed, threshold=threshold, **options).fit(train, progress=False)
        seconds = time.perf_counter() - start
        predicted = model.predict(test.drop(columns="income")) == ">50K"
        proba = model.predict_proba(test.drop(columns="income"))[:, list(model.classes_).index(">50K")]
        print(f"{name:<28} recall(>50K) {predicted[truth].mean():.3f}  accuracy {(predicted == truth).mean():.4f}  "
              f"ROC-AUC {roc_auc_score(truth, proba):.4f}  fit {seconds:.1f} s")


if __name__ == "__main__":
    main()
