"""Tabular classification on UCI Adult: income > 50K from 14 mixed columns.

    python demos/adult.py                 # the copy shipped in demos/data
    python demos/adult.py --data DIR      # DIR/tabular/adult.csv from shared/data/fetch.py

Prints test accuracy, ROC-AUC, training time and single-row predict latency; exits 1 below 0.85 accuracy.
"""
import os

import pandas as pd

import udt.columns as col
from udt.interfaces.classifier import Classifier

from _common import Timer, check_floor, data_file, parse_args, single_row_latency_ms

HERE = os.path.dirname(os.path.abspath(__file__))
FLOOR = 0.85

NUMERIC = ["age", "fnlwgt", "education_num", "capital_gain", "capital_loss", "hours_per_week"]
CATEGORICAL = ["workclass", "education", "marital_status", "occupation", "relationship", "race", "sex",
               "native_country"]


def main():
    args = parse_args(__doc__, lambda p: p.add_argument("--shipped", action="store_true",
                                                        help="use demos/data/adult.csv.gz even if --data is given"))
    path = os.path.join(args.data, "tabular", "adult.csv")
    if args.shipped or not os.path.exists(path):
        path = data_file(HERE, "data", "adult.csv.gz")
    frame = pd.read_csv(path)
    train = frame[frame.split == "train"].drop(columns="split")
    test = frame[frame.split == "test"].drop(columns="split")

    columns = {name: col.Numeric() for name in NUMERIC}
    columns.update({name: col.Categorical() for name in CATEGORICAL})
    columns["income"] = col.Categorical()
    model = Classifier(columns=columns, target="income")
    with Timer() as fit_time:
        model.fit(train)
    model.summary()
    scores = model.evaluate(test, metrics=["accuracy", "roc_auc"])
    rows = test.drop(columns="income").head(500).to_dict("records")
    p50, p99 = single_row_latency_ms(model.predict, rows)
    print(f"data: {path} ({len(train):,} train / {len(test):,} test rows)")
    print(f"train time {fit_time.seconds:.2f} s; test accuracy {scores['accuracy']:.4f}, "
          f"ROC-AUC {scores['roc_auc']:.4f}; single-row predict p50 {p50:.4f} ms, p99 {p99:.4f} ms")
    check_floor("adult test accuracy", scores["accuracy"], FLOOR)


if __name__ == "__main__":
    main()
