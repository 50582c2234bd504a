"""Graph node classification on the Debian package graph: predict a package's section (58 classes).

Each package is a node; its Depends/Pre-Depends/Recommends edges (both directions) are its
neighbors. The same Classifier is trained twice: on the package description alone, and with
udt.NodeId() + udt.Neighbors() columns, which add the neighbors' features and training labels.

    python demos/debgraph.py --data DIR

Prints test accuracy without and with neighbors; exits 1 unless neighbors help.
"""
import pandas as pd

import udt.columns as col
from udt.interfaces.classifier import Classifier

from _common import Timer, data_file, parse_args


def neighbor_lists(nodes, edges):
    """Space-separated neighbor ids per node, edges taken in both directions."""
    both = pd.concat([edges[["src", "dst"]], edges[["dst", "src"]].set_axis(["src", "dst"], axis=1)])
    both = both[both.src != both.dst].drop_duplicates()
    joined = both.groupby("src")["dst"].apply(lambda ids: " ".join(map(str, ids)))
    return nodes["node_id"].map(joined).fillna("")


def main():
    args = parse_args(__doc__)
    nodes = pd.read_csv(data_file(args.data, "graph", "debian_nodes.csv"))
    edges = pd.read_csv(data_file(args.data, "graph", "debian_edges.csv"))
    nodes["neighbors"] = neighbor_lists(nodes, edges)
    nodes["text"] = nodes["package"] + " " + nodes["text"].fillna("")
    train = nodes[nodes.split == "train"].drop(columns=["split", "package"])
    test = nodes[nodes.split == "test"].drop(columns=["split", "package"])

    results = {}
    for name, columns in [
        ("text only", {"text": col.Text(), "section": col.Categorical()}),
        ("text + neighbors", {"node_id": col.NodeId(), "neighbors": col.Neighbors(delimiter=" "),
                              "text": col.Text(), "section": col.Categorical()}),
    ]:
        model = Classifier(columns=columns, target="section")
        used = list(columns)
        with Timer() as fit_time:
            model.fit(train[used])
        accuracy = model.evaluate(test[used], metrics=["accuracy"])["accuracy"]
        results[name] = accuracy
        print(f"{name:>17}: test section accuracy {accuracy:.4f} (train time {fit_time.seconds:.1f} s, "
              f"{len(model.history_)} epochs)")
    print(f"{len(train):,} training packages, {len(test):,} test packages, {len(edges):,} edges")
    gain = results["text + neighbors"] - results["text only"]
    print(f"neighbors {'help' if gain > 0 else 'do not help'}: {gain:+.4f}")
    if gain <= 0:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
