#!/usr/bin/env python3
"""Featurization throughput: udt's C++ featurizers versus pandas + scikit-learn hashing, side by side.

    python benchmarks/featurize.py [--data DIR] [--json] [--only news20,adult,movielens] [--repeat 3]

Each system reads the same CSV file itself, so parsing is inside its time:
- udt: TableFeaturizer.transform_batches(path) (pyarrow CSV blocks -> C++ kernels); `fit` (label vocabulary,
  numeric ranges) is timed separately and reported as udt_fit_s. Run with 1 thread (pyarrow's pool also set to 1)
  and with all threads.
- scikit-learn (single-threaded by design): pandas.read_csv, then the equivalent hashing:
  news20 (text)      HashingVectorizer(ngram_range=(1, 2)) — udt: Text() unigrams + bigrams
  adult (tabular)    FeatureHasher over "col=value" tokens, 3 bin resolutions + scaled value per numeric column and
                     every pairwise cross of the 14 columns — udt: Categorical/Numeric + crosses=True
  movielens (temporal) per user, the previous 10 items in time order (pandas groupby + shift) as bag and position
                     tokens, plus user and date fields, FeatureHasher — udt: temporal={"user_id": ["item_id"]}
Rows/s is the best of --repeat runs. Also reports the single-row transform_row p50 (short text, one Adult row).
With --json, prints one JSON object per dataset: dataset, rows, udt_rows_per_s (all threads), sklearn_rows_per_s,
speedup, plus udt_rows_per_s_1thread, speedup_1thread, udt_fit_s, threads and (news20, adult) transform_row_p50_ms.
"""
import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pyarrow as pa  # noqa: E402

from udt.columns import Categorical, Date, Numeric, Text  # noqa: E402
from udt.ingest.featurize import TableFeaturizer  # noqa: E402

DIM = 100_000
ADULT_CATEGORICAL = ["workclass", "education", "marital_status", "occupation", "relationship", "race", "sex",
                     "native_country"]
ADULT_NUMERIC = ["age", "fnlwgt", "education_num", "capital_gain", "capital_loss", "hours_per_week"]
BINS = (8, 32, 128)
HISTORY = 10


def news20():
    path = "text/20newsgroups.csv"
    columns = {"text": Text(), "label": Categorical()}

    def sklearn(file):
        from sklearn.feature_extraction.text import HashingVectorizer
        df = pd.read_csv(file)
        hv = HashingVectorizer(n_features=DIM, ngram_range=(1, 2), alternate_sign=False, norm=None)
        return hv.transform(df["text"].fillna("")).shape[0]

    return path, dict(columns=columns, target="label"), sklearn


def adult():
    path = "tabular/adult.csv"
    columns = {**{c: Categorical() for c in ADULT_CATEGORICAL}, **{c: Numeric(bins=BINS) for c in ADULT_NUMERIC},
               "income": Categorical()}

    def sklearn(file):
        from sklearn.feature_extraction import FeatureHasher
        df = pd.read_csv(file)
        tokens = {c: c + "=" + df[c].astype(str) for c in ADULT_CATEGORICAL}
        scaled = {}
        for c in ADULT_NUMERIC:
            x = df[c].astype(float)
            unit = ((x - x.min()) / (x.max() - x.min())).clip(0, 1)
            scaled[c] = unit
            for b in BINS:
                tokens[f"{c}@{b}"] = f"{c}@{b}=" + np.minimum((unit * b).astype(int), b - 1).astype(str)
        cross_src = {c: tokens[c] for c in ADULT_CATEGORICAL} | {c: tokens[f"{c}@{BINS[0]}"] for c in ADULT_NUMERIC}
        names = list(cross_src)
        for i, a in enumerate(names):
            for b in names[i + 1:]:
                tokens[f"{a}x{b}"] = cross_src[a] + "|" + cross_src[b]
        token_rows = [list(r) for r in zip(*tokens.values())]
        hashed = FeatureHasher(n_features=DIM, input_type="string", alternate_sign=False).transform(token_rows)
        values = FeatureHasher(n_features=DIM, input_type="dict", alternate_sign=False).transform(
            [dict(zip(ADULT_NUMERIC, r)) for r in zip(*scaled.values())])
        return (hashed + values).shape[0]

    return path, dict(columns=columns, target="income", crosses=True), sklearn


def movielens():
    path = "recommendation/ml100k_train.csv"
    columns = {"user_id": Categorical(), "item_id": Categorical(), "timestamp": Date()}

    def sklearn(file):
        from sklearn.feature_extraction import FeatureHasher
        df = pd.read_csv(file).sort_values("timestamp", kind="stable")
        when = pd.to_datetime(df["timestamp"], unit="s")
        iso = when.dt.isocalendar()
        tokens = {"user": "user=" + df["user_id"].astype(str)}
        for name, field in (("year", when.dt.year), ("month", when.dt.month), ("weekday", when.dt.day_of_week),
                            ("day", when.dt.day), ("week", iso.week), ("hour", when.dt.hour)):
            tokens[name] = name + "=" + field.astype(str)
        by_user = df.groupby("user_id")["item_id"]
        for p in range(1, HISTORY + 1):
            prev = by_user.shift(p)
            tokens[f"h{p}"] = ("h" + str(p) + "=" + prev.astype("Int64").astype(str)).where(prev.notna(), "")
            tokens[f"bag{p}"] = ("bag=" + prev.astype("Int64").astype(str)).where(prev.notna(), "")
        token_rows = [[t for t in r if t] for r in zip(*tokens.values())]
        return FeatureHasher(n_features=DIM, input_type="string", alternate_sign=False).transform(token_rows).shape[0]

    return path, dict(columns=columns, target="item_id", temporal={"user_id": ["item_id"]}), sklearn


DATASETS = {"news20": news20, "adult": adult, "movielens": movielens}


def best_of(repeat, fn):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def udt_rows_per_s(file, spec, threads, repeat):
    pa.set_cpu_count(threads)
    pa.set_io_thread_count(max(1, threads))
    fz = TableFeaturizer(input_dim=DIM, n_threads=threads, **spec)
    t = time.perf_counter()
    fz.fit(file)
    fit_s = time.perf_counter() - t

    def run():
        return sum(fb.n_rows for fb in fz.transform_batches(file, batch_rows=8192))

    seconds, rows = best_of(repeat, run)
    return rows / seconds, rows, fit_s, fz


def single_row_p50_ms(fz, row, n=20000):
    times = np.empty(n)
    for i in range(n):
        t = time.perf_counter()
        fz.transform_row(row)
        times[i] = time.perf_counter() - t
    return float(np.median(times) * 1e3)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=os.environ.get("UDT_DATASETS") or os.path.expanduser("~/.cache/udt-datasets"))
    ap.add_argument("--json", action="store_true", help="one JSON object per dataset on stdout")
    ap.add_argument("--only", default="", help="comma-separated datasets: " + ",".join(DATASETS))
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    all_threads = os.cpu_count() or 1
    results = []
    fitted = {}
    for name, make in DATASETS.items():
        if args.only and name not in args.only.split(","):
            continue
        rel, spec, sklearn = make()
        file = os.path.join(args.data, rel)
        if not os.path.exists(file):
            print(f"{name}: {file} not found (run python ../shared/data/fetch.py)", file=sys.stderr)
            continue
        one, rows, _, _ = udt_rows_per_s(file, spec, 1, args.repeat)
        many, rows, fit_s, fz = udt_rows_per_s(file, spec, all_threads, args.repeat)
        fitted[name] = fz
        sk_seconds, sk_rows = best_of(args.repeat, lambda: sklearn(file))
        assert sk_rows == rows, (sk_rows, rows)
        sk = rows / sk_seconds
        results.append({"dataset": name, "rows": rows, "udt_rows_per_s": round(many), "sklearn_rows_per_s": round(sk),
                        "speedup": round(many / sk, 2), "udt_rows_per_s_1thread": round(one),
                        "speedup_1thread": round(one / sk, 2), "udt_fit_s": round(fit_s, 3), "threads": all_threads})
    for r in results:  # single-row latency where the dataset has a natural one-row query
        if r["dataset"] == "news20":
            row = {"text": "cheap flights to the moon next week"}
        elif r["dataset"] == "adult":
            df = pd.read_csv(os.path.join(args.data, "tabular/adult.csv"), nrows=1)
            row = {k: v for k, v in df.iloc[0].to_dict().items() if k not in ("income", "split")}
        else:
            continue
        r["transform_row_p50_ms"] = round(single_row_p50_ms(fitted[r["dataset"]], row), 5)
    if args.json:
        for r in results:
            print(json.dumps(r))
        return 0
    print(f"{'dataset':<10} {'rows':>7} {'udt 1 thread':>13} {f'udt {all_threads} threads':>14} {'sklearn':>9} "
          f"{'speedup':>8}  (rows/s)")
    for r in results:
        print(f"{r['dataset']:<10} {r['rows']:>7} {r['udt_rows_per_s_1thread']:>13,} {r['udt_rows_per_s']:>14,} "
              f"{r['sklearn_rows_per_s']:>9,} {r['speedup']:>7.1f}x   (fit {r['udt_fit_s']:.2f} s)")
    for r in results:
        if "transform_row_p50_ms" in r:
            print(f"{r['dataset']}: single-row transform_row p50 {r['transform_row_p50_ms']:.4f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
