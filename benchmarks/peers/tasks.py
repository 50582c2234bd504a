"""Tasks of the suite: how each dataset is split into the train.csv / test.csv every system reads, and which systems
run on it.

Preparation happens once per mode (full / quick) into a work directory, outside every system's timing: it only
selects rows and columns of the files `python ../shared/data/fetch.py` builds (plus, for the Debian graph, a
`neighbors` column listing each node's neighbours). Every system then loads the same two CSV files itself.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

PREP_VERSION = 4


@dataclass(frozen=True)
class Task:
    name: str
    dataset: str
    family: str  # module under benchmarks.peers holding the runners
    metric_name: str
    systems: tuple[str, ...]  # runner function names in the family module (udt_* need udt)
    prepare: Callable[[str, str, bool], dict] = field(repr=False, compare=False)
    description: str = ""


def _bucket(key: str, n: int = 1000) -> int:
    return int(hashlib.sha1(key.encode("utf-8")).hexdigest()[:8], 16) % n


def _read(path: str):
    import pandas as pd

    return pd.read_csv(path, keep_default_na=False, na_values=[""])


def _sample(df, n: int, seed: int = 0):
    return df if len(df) <= n else df.sample(n=n, random_state=seed).sort_index()


def _write(df, path: str) -> None:
    tmp = path + ".part"
    df.to_csv(tmp, index=False)
    os.replace(tmp, path)


def _split_write(train, test, out: str) -> dict:
    _write(train, os.path.join(out, "train.csv"))
    _write(test, os.path.join(out, "test.csv"))
    return {"n_train": len(train), "n_test": len(test)}


def prep_news20(data: str, out: str, quick: bool) -> dict:
    df = _read(os.path.join(data, "text", "20newsgroups.csv"))
    df["text"] = df["text"].fillna("")
    tr, te = df[df.split == "train"][["text", "label"]], df[df.split == "test"][["text", "label"]]
    if quick:
        tr, te = _sample(tr, 4000), _sample(te, 2000)
    return _split_write(tr, te, out)


def prep_polarity(data: str, out: str, quick: bool) -> dict:
    df = _read(os.path.join(data, "text", "imdb_rt.csv"))
    df["text"] = df["text"].fillna("")
    cols = ["text", "label"]
    tr, te = df[df.split == "train"][cols], df[df.split == "test"][cols]
    if quick:
        tr, te = _sample(tr, 6000), _sample(te, 2000)
    return _split_write(tr, te, out)


def prep_adult(data: str, out: str, quick: bool) -> dict:
    df = _read(os.path.join(data, "tabular", "adult.csv"))
    tr, te = df[df.split == "train"].drop(columns="split"), df[df.split == "test"].drop(columns="split")
    return _split_write(tr, te, out)


def prep_movielens(data: str, out: str, quick: bool) -> dict:
    tr = _read(os.path.join(data, "recommendation", "ml100k_train.csv"))
    te = _read(os.path.join(data, "recommendation", "ml100k_test.csv"))
    # history in time order (ties keep file order); the test row of each user is later than all of its train rows
    tr = tr.sort_values(["timestamp"], kind="stable")
    cols = ["user_id", "item_id", "timestamp"]  # implicit feedback: the rating is not an input
    return _split_write(tr[cols], te[cols], out)


def _debsearch_share(data: str, out: str, one_in: int) -> dict:
    """debsearch restricted to a deterministic 1/one_in of the packages (all when 1), all of their rows."""
    tr = _read(os.path.join(data, "xml", "debsearch_train.csv"))
    te = _read(os.path.join(data, "xml", "debsearch_test.csv"))
    tr["text"], te["text"] = tr["text"].fillna(""), te["text"].fillna("")
    if one_in > 1:
        keep = {p for p in te["package"] if _bucket(str(p), one_in) == 0}
        tr, te = tr[tr["package"].isin(keep)], te[te["package"].isin(keep)]
    return _split_write(tr[["text", "package"]], te[["text", "package"]], out)


def prep_debsearch(data: str, out: str, quick: bool) -> dict:
    return _debsearch_share(data, out, 12 if quick else 1)  # quick: ~5k classes


def prep_debsearch_slice(data: str, out: str, quick: bool) -> dict:
    """The paper experiments' data: a quarter of the packages (~16k classes; 1/12, ~5k, with --quick). Twelve
    trainings, one of them with a dense output layer, do not fit the full run's budget on all 63k classes; at
    16k, dense training still does 200x the output-layer work of the smallest sparsity, the effect the paper
    measures."""
    return _debsearch_share(data, out, 12 if quick else 4)


def prep_wordnet(data: str, out: str, quick: bool) -> dict:
    df = _read(os.path.join(data, "xml", "wordnet.csv"))
    df["lemmas"], df["gloss"] = df["lemmas"].fillna(""), df["gloss"].fillna("")
    df = df.rename(columns={"direct_hypernyms": "hypernyms"})
    cols = ["lemmas", "gloss", "hypernyms"]
    tr, te = df[df.split == "train"][cols], df[df.split == "test"][cols]
    if quick:
        tr, te = _sample(tr, 15000), _sample(te, 4000)
    return _split_write(tr, te, out)


def prep_debgraph(data: str, out: str, quick: bool) -> dict:
    nodes = _read(os.path.join(data, "graph", "debian_nodes.csv"))
    edges = _read(os.path.join(data, "graph", "debian_edges.csv"))
    e = edges[edges.src != edges.dst][["src", "dst"]].to_numpy()
    e = np.unique(np.sort(e, axis=1), axis=0)  # undirected, no duplicates
    nbrs: dict[int, list[int]] = {}
    for a, b in e:
        nbrs.setdefault(int(a), []).append(int(b))
        nbrs.setdefault(int(b), []).append(int(a))
    nodes["neighbors"] = [" ".join(map(str, sorted(nbrs.get(int(i), [])))) for i in nodes["node_id"]]
    nodes["text"] = nodes["text"].fillna("")
    cols = ["node_id", "package", "text", "neighbors", "section"]
    tr, te = nodes[nodes.split == "train"][cols], nodes[nodes.split == "test"][cols]
    if quick:
        tr, te = _sample(tr, 12000), _sample(te, 4000)
    return _split_write(tr, te, out)


TEXT_SYSTEMS = ("fasttext", "tfidf_linearsvc", "hashing_sgd", "torch_embbag_mlp", "udt")

PAPER_DATA = "Debian package search, a slice of the packages (1/4: ~16k classes; --quick 1/12)"

TASKS: dict[str, Task] = {t.name: t for t in [
    Task("news20", "20 Newsgroups (bydate)", "text", "accuracy", TEXT_SYSTEMS, prep_news20,
         "20-class topic classification of newsgroup posts"),
    Task("polarity", "IMDB + Rotten Tomatoes polarity", "text", "accuracy", TEXT_SYSTEMS, prep_polarity,
         "binary sentiment of movie reviews"),
    Task("adult", "UCI Adult", "tabular", "accuracy",
         ("lightgbm", "hist_gradient_boosting", "torch_mlp_onehot", "udt"), prep_adult,
         "income >50K from 14 mixed columns"),
    Task("movielens", "MovieLens-100K leave-last-out", "recommendation", "recall@10",
         ("popularity", "implicit_als", "torch_gru4rec", "udt"), prep_movielens,
         "next item of each user over all items (items already in the user's history excluded)"),
    Task("debsearch", "Debian package search (63k classes)", "xc", "precision@1",
         ("napkinxc_plt", "tfidf_centroid", "fasttext_hs", "torch_dense", "udt", "udt_trained"), prep_debsearch,
         "description sentence -> package (train); one-line summary -> package (test)"),
    Task("wordnet", "WordNet noun hypernyms (17k labels)", "xc", "precision@1",
         ("napkinxc_plt", "tfidf_centroid", "fasttext_ova", "fasttext_hs", "torch_dense", "udt", "udt_trained"),
         prep_wordnet,
         "synset lemmas + gloss -> direct hypernym synsets (multi-label)"),
    Task("debgraph", "Debian package graph (58 sections)", "graph", "accuracy",
         ("logreg_tfidf", "logreg_tfidf_neighbors", "udt_text_only", "udt_neighbors"), prep_debgraph,
         "package section from its description and its dependency-graph neighbours"),
    # the paper's own experiments (udt engine only), on debsearch's data
    Task("debsearch-sparsity", PAPER_DATA, "paper", "precision@1",
         ("sparsity_sweep",), prep_debsearch_slice, "output sparsity 0.005..1.0: P@1, train time, inference latency"),
    Task("debsearch-autotune", PAPER_DATA, "paper", "precision@1",
         ("autotune_vs_grid",), prep_debsearch_slice, "autotuned K/L/R vs a small grid"),
    Task("debsearch-augmentation", PAPER_DATA, "paper", "precision@1",
         ("label_augmentation",), prep_debsearch_slice,
         "sparse inference with / without label-neuron augmentation"),
]}

# tasks that share prepared files
PREP_KEY = {"debsearch-sparsity": "debsearch-slice", "debsearch-autotune": "debsearch-slice",
            "debsearch-augmentation": "debsearch-slice"}


def prepare(task: Task, data_dir: str, work_dir: str, quick: bool) -> dict:
    """Write (once) the task's train.csv/test.csv under work_dir; returns {"dir", "train", "test", ...}."""
    key = PREP_KEY.get(task.name, task.name)
    out = os.path.join(work_dir, key)
    stamp = os.path.join(out, "prepared.json")
    want = {"version": PREP_VERSION, "quick": quick, "data": os.path.abspath(data_dir)}
    if os.path.exists(stamp):
        with open(stamp) as f:
            info = json.load(f)
        if all(info.get(k) == v for k, v in want.items()):
            return info
    os.makedirs(out, exist_ok=True)
    info = dict(want, **task.prepare(data_dir, out, quick))
    info.update(dir=out, train=os.path.join(out, "train.csv"), test=os.path.join(out, "test.csv"))
    with open(stamp, "w") as f:
        json.dump(info, f)
    return info
