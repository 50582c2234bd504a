"""Extreme classification on debsearch: ~63k Debian packages, each a class.

Train on the sentences of each package's long description, test on its one-line summary
(a different text): few examples per class, the case where sparse training must shine. With ~3 rows per
class the Classifier ends with the centroid output head (udt.training.centroid_head, model_selection.auto_output_head):
each package's output row becomes the centered mean learned representation of its sentences, which
matches differently worded queries better than the trained rows (--output-head trained to compare).

    python demos/debsearch.py --data DIR

Prints P@1 / P@5 with dense (exact) and sparse (LSH) inference and their latency; exits 1 below
P@1 = 0.30 (dense inference; measured 0.337 with the centroid head, 0.28 with the trained one).
"""
import time

import pandas as pd

import udt.columns as col
from udt.interfaces.classifier import Classifier

from _common import Timer, check_floor, data_file, parse_args

FLOOR = 0.30


def options(parser):
    for name in ("hidden_dim", "input_dim", "epochs", "sparsity", "learning_rate", "batch_size"):
        kind = float if name in ("sparsity", "learning_rate") else int
        parser.add_argument("--" + name.replace("_", "-"), type=lambda v, kind=kind: v if v == "auto" else kind(v),
                            default="auto", help=f"{name} (default: auto)")
    parser.add_argument("--output-head", choices=("centroid", "trained", "auto"), default="auto",
                        help="output rows after training (default: auto, the centroid head here; "
                             "see udt.training.centroid_head)")


def main():
    args = parse_args(__doc__, options)
    train = pd.read_csv(data_file(args.data, "xml", "debsearch_train.csv"))
    test = pd.read_csv(data_file(args.data, "xml", "debsearch_test.csv"))
    chosen = {k: getattr(args, k) for k in ("hidden_dim", "input_dim", "epochs", "sparsity", "learning_rate",
                                            "batch_size")}
    model = Classifier(columns={"text": col.Text(), "package": col.Categorical()}, target="package",
                       output_head=args.output_head, **chosen)
    with Timer() as fit_time:
        model.fit(train)
    model.summary()
    print(f"{len(train):,} training sentences, {len(model.classes_):,} classes, {len(test):,} test summaries; "
          f"train time {fit_time.seconds:.1f} s")
    results = {}
    for sparse in (False, True):
        start = time.perf_counter()
        scores = model.evaluate(test, metrics=["precision@1", "precision@5"], sparse_inference=sparse)
        per_row_ms = 1e3 * (time.perf_counter() - start) / len(test)
        results[sparse] = scores
        print(f"{'sparse (LSH)' if sparse else 'dense (exact)':>14} inference: P@1 {scores['precision@1']:.4f}, "
              f"P@5 {scores['precision@5']:.4f}, {per_row_ms:.4f} ms per row (batched, featurizing included)")
    check_floor("debsearch P@1 (dense inference)", results[False]["precision@1"], FLOOR)


if __name__ == "__main__":
    main()
