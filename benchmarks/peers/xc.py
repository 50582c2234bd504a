"""Extreme classification: debsearch (description sentence -> Debian package, 63k classes, one label) and WordNet
(lemmas + gloss -> direct hypernym synsets, 17k labels, multi-label). Metrics: P@1, P@5 (XC convention: hits in
the top 5 / 5) and R@5.

Peers: napkinXC PLT on TF-IDF, TF-IDF nearest-centroid retrieval, fastText (loss=hs; loss=ova on the multi-label
task), PyTorch dense network of udt's architecture (100k hashed inputs -> 256 ReLU -> full output layer), udt."""
from __future__ import annotations

import os
import shutil
import time
from typing import Any

import numpy as np

from .base import System, UdtSystem, evaluate_system, read_csv, require, require_udt_classifier, tmp_dir
from .common import (HashedMLP, fasttext_module, fasttext_top_k, fasttext_top_k_batch, hashing_vectorizer,
                     load_fasttext, joblib_dump, joblib_load, label_vocab, load_hashed_mlp, save_fasttext,
                     save_hashed_mlp, write_fasttext_file)
from .harness import Unavailable, precision_at_k, recall_at_k, top_k_indices

K = 5
# Label column and whether it holds several space-separated labels, per task.
TARGET = {"debsearch": ("package", False), "wordnet": ("hypernyms", True)}

# fastText on XC, following its docs: multi-label tutorial (-loss one-vs-all -lr 0.5 -epoch 25 -wordNgrams 2
# -bucket 200000 -dim 50); hierarchical softmax for many labels (-loss hs). ova computes every label per example
# (17k x dim per token-window update), so its epochs are cut to keep it to minutes; hs is cheap.
FASTTEXT = {"hs": dict(lr=0.5, epoch=25, dim=100, bucket=2_000_000),
            "ova": dict(lr=0.5, epoch=5, dim=50, bucket=200_000)}
# PyTorch dense: udt's architecture and schedule (model_selection: batch ~n/200 as a power of two, Adam 2e-3 at
# <= 256 rows scaled by sqrt(batch/256), ~2M rows seen) but stopped after the epoch that crosses a time budget.
TORCH_TIME_BUDGET_S = {("debsearch", "full"): 600, ("wordnet", "full"): 300, ("debsearch", "quick"): 90,
                       ("wordnet", "quick"): 60}


def _target(ctx_or_task) -> tuple[str, bool]:
    task = ctx_or_task if isinstance(ctx_or_task, str) else ctx_or_task["task"]
    return TARGET[task.split("-")[0]]


def _texts(df) -> list[str]:
    if "gloss" in df.columns:  # wordnet: "lemmas. gloss"
        return (df["lemmas"].fillna("").astype(str) + ". " + df["gloss"].fillna("").astype(str)).tolist()
    return df["text"].fillna("").astype(str).tolist()


def _row_text(row: Any) -> str:
    if isinstance(row, dict):
        return f"{row.get('lemmas', '')}. {row.get('gloss', '')}"
    return str(row)


def _labels(df, target: str, multi: bool) -> list[list[str]]:
    col = df[target].astype(str)
    return [v.split() for v in col] if multi else [[v] for v in col]


def load(path: str, task: str):
    target, multi = _target(task)
    df = read_csv(path)
    return _texts(df), _labels(df, target, multi)


def make_truth(task: str):
    def truth(test_path: str) -> list[set[str]]:
        target, multi = _target(task)
        return [set(x) for x in _labels(read_csv(test_path, usecols=[target]), target, multi)]
    return truth


def single_rows(test_path: str, n: int) -> list[Any]:
    df = read_csv(test_path)
    order = np.random.default_rng(0).permutation(len(df))[:n]
    if "gloss" in df.columns:
        return [{"lemmas": str(df.lemmas.iat[i]), "gloss": str(df.gloss.iat[i])} for i in order]
    return [str(df.text.iat[i]) for i in order]


def score(y, ranked) -> dict[str, float]:
    return {"precision@1": precision_at_k(y, ranked, 1), "precision@5": precision_at_k(y, ranked, K),
            "recall@5": recall_at_k(y, ranked, K)}


def _run(ctx, system: System) -> list[dict[str, Any]]:
    return evaluate_system(ctx, system, make_truth(ctx["task"]), score, single_rows, "precision@1")


def _tfidf():
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True, dtype=np.float32)


class NapkinPLT(System):
    name = "napkinXC PLT"

    def fit(self, train_path):
        require("napkinxc", "napkinXC (pip package napkinxc)")
        from napkinxc.models import PLT

        texts, labels = load(train_path, self.ctx["task"])
        self.classes, index = label_vocab([lab for ls in labels for lab in ls])
        self.vec = _tfidf()
        X = self.vec.fit_transform(texts)
        Y = [[index[lab] for lab in ls] for ls in labels]
        self.model_dir = os.path.join(tmp_dir(self.ctx, "napkinxc"), "plt")
        self.model = PLT(self.model_dir, threads=self.threads, seed=self.seed)
        self.model.fit(X, Y)
        self.notes = ("TF-IDF (1-2-grams, min_df=2, sublinear) -> napkinxc.models.PLT defaults (hierarchical k-means "
                      "tree, arity 2, liblinear logistic nodes)")

    def _top(self, X) -> list[list[str]]:
        return [[self.classes[i] for i in row] for row in self.model.predict(X, top_k=K)]

    def predict_batch(self, test_path):
        texts, _ = load(test_path, self.ctx["task"])
        return self._top(self.vec.transform(texts))

    def predict_one(self, row):
        return self._top(self.vec.transform([_row_text(row)]))[0]

    def save(self, directory):
        # napkinXC writes its model folder while fitting (it has no separate save): a copy of that folder + the
        # TF-IDF vectorizer and label names
        shutil.copytree(self.model_dir, os.path.join(directory, "plt"))
        joblib_dump({"vectorizer": self.vec, "classes": self.classes}, directory)

    def load(self, directory):
        from napkinxc.models import PLT

        new = self.blank()
        new.model = PLT(os.path.join(directory, "plt"), threads=self.threads)
        new.model.load()
        state = joblib_load(directory)
        new.vec, new.classes = state["vectorizer"], state["classes"]
        return new


class TfidfCentroid(System):
    """Each label is the l2-normalised sum of its training rows' TF-IDF vectors; a query returns the labels of the
    most cosine-similar centroids (exact, sparse matrix product)."""

    name = "TF-IDF centroid"
    notes = "TF-IDF (1-2-grams, min_df=2, sublinear) label centroids, exact cosine top-5"

    def fit(self, train_path):
        import scipy.sparse as sp
        from sklearn.preprocessing import normalize

        texts, labels = load(train_path, self.ctx["task"])
        self.classes, index = label_vocab([lab for ls in labels for lab in ls])
        self.vec = _tfidf()
        X = self.vec.fit_transform(texts)
        rows = np.repeat(np.arange(len(labels)), [len(ls) for ls in labels])
        cols = np.array([index[lab] for ls in labels for lab in ls])
        A = sp.csr_matrix((np.ones(len(rows), np.float32), (cols, rows)), shape=(len(self.classes), len(labels)))
        self.C_T = normalize(A @ X).T.tocsr().astype(np.float32)  # (features, labels)

    def _top(self, X) -> list[list[str]]:
        out = []
        for s in range(0, X.shape[0], 512):
            S = (X[s:s + 512] @ self.C_T).toarray()
            out += [[self.classes[i] for i in row] for row in top_k_indices(S, K)]
        return out

    def predict_batch(self, test_path):
        texts, _ = load(test_path, self.ctx["task"])
        return self._top(self.vec.transform(texts))

    def predict_one(self, row):
        return self._top(self.vec.transform([_row_text(row)]))[0]

    def save(self, directory):
        joblib_dump({"vectorizer": self.vec, "centroids_T": self.C_T, "classes": self.classes}, directory)

    def load(self, directory):
        new = self.blank()
        state = joblib_load(directory)
        new.vec, new.C_T, new.classes = state["vectorizer"], state["centroids_T"], state["classes"]
        return new


class FastTextXC(System):
    def __init__(self, ctx, loss: str):
        super().__init__(ctx)
        self.loss = loss
        self.name = f"fastText {loss}"

    def fit(self, train_path):
        ft = fasttext_module()
        texts, labels = load(train_path, self.ctx["task"])
        path = os.path.join(tmp_dir(self.ctx, f"fasttext-{self.loss}"), "train.txt")
        write_fasttext_file(path, texts, labels, self.seed)
        hp = FASTTEXT[self.loss]
        self.model = ft.train_supervised(input=path, loss=self.loss, wordNgrams=2, minCount=1, thread=self.threads,
                                         seed=self.seed, verbose=0, **hp)
        self.notes = f"loss={self.loss} wordNgrams=2 " + " ".join(f"{k}={v}" for k, v in hp.items())

    def predict_batch(self, test_path):
        texts, _ = load(test_path, self.ctx["task"])
        return fasttext_top_k_batch(self.model, texts, K)

    def predict_one(self, row):
        return fasttext_top_k(self.model, _row_text(row), K)

    def save(self, directory):
        save_fasttext(self.model, directory)

    def load(self, directory):
        new = self.blank()
        new.model = load_fasttext(directory)
        return new


class TorchDense(System):
    name = "PyTorch dense (udt arch)"

    def fit(self, train_path):
        import scipy.sparse as sp

        t0 = time.perf_counter()
        texts, labels = load(train_path, self.ctx["task"])
        _, multi = _target(self.ctx)
        self.classes, index = label_vocab([lab for ls in labels for lab in ls])
        self.vec = hashing_vectorizer(100_000)
        X = self.vec.transform(texts)
        n = X.shape[0]
        batch = min(2048, max(64, 1 << max(0, round(np.log2(max(n / 200.0, 1.0))))))
        lr = 2e-3 * max(1.0, (batch / 256) ** 0.5)
        epochs = int(min(20, max(3, np.ceil(2_000_000 / n))))
        if multi:
            rows = np.repeat(np.arange(n), [len(ls) for ls in labels])
            cols = np.array([index[lab] for ls in labels for lab in ls])
            y = sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=(n, len(self.classes)))
        else:
            y = np.array([index[ls[0]] for ls in labels])
        budget = TORCH_TIME_BUDGET_S[(self.ctx["task"], "quick" if self.quick else "full")]
        self.model = HashedMLP(len(self.classes), "sigmoid" if multi else "softmax", hidden=256, lr=lr,
                               batch_size=batch, epochs=epochs, threads=self.threads, seed=self.seed,
                               time_budget_s=budget)
        t1 = time.perf_counter()
        self.model.fit(X, y)
        secs = time.perf_counter() - t1
        self.samples_per_s = self.model.epochs_run * n / secs
        self.notes = (f"hashed 1-2-grams (100k) -> EmbeddingBag 256 + ReLU -> {len(self.classes)} "
                      f"{'sigmoid/BCE' if multi else 'softmax/CE'}; fused Adam lr {lr:.1e}, batch {batch}; "
                      f"{self.model.epochs_run} of udt's {epochs} epochs ({budget} s budget); "
                      f"{self.samples_per_s:.0f} train samples/s; featurize {t1 - t0:.0f} s")

    def _top(self, X) -> list[list[str]]:
        return [[self.classes[i] for i in row] for row in self.model.top_k(X, K)]

    def predict_batch(self, test_path):
        texts, _ = load(test_path, self.ctx["task"])
        return self._top(self.vec.transform(texts))

    def predict_one(self, row):
        return self._top(self.vec.transform([_row_text(row)]))[0]

    def save(self, directory):
        save_hashed_mlp(self.model, self.classes, directory)

    def load(self, directory):
        new = self.blank()
        loss = "sigmoid" if _target(self.ctx)[1] else "softmax"
        new.model, new.classes = load_hashed_mlp(directory, loss, self.threads, self.seed)
        new.vec = hashing_vectorizer(100_000)  # stateless: its settings are code, not data
        return new


class UdtXC(UdtSystem):
    """udt at its defaults, or with output_head="trained". With ~3 rows per class the defaults end with the
    centroid head (udt.training.centroid_head: each class's output row set to the centered mean hidden activation of its
    training rows after training; udt.selection.model_selection.auto_output_head); the trained-head row shows what that
    buys on search, where queries are worded unlike the training rows (debsearch: summaries vs sentences)."""

    def __init__(self, ctx, output_head: str = "auto"):
        super().__init__(ctx)
        self.output_head = output_head
        self.name = "udt" if output_head == "auto" else f"udt ({output_head} head)"

    def fit(self, train_path):
        udt = require_udt_classifier()
        target, multi = _target(self.ctx)
        if self.ctx["task"] == "wordnet":
            columns = {"lemmas": udt.Text(), "gloss": udt.Text(), target: udt.Categorical(delimiter=" ")}
        else:
            columns = {"text": udt.Text(), target: udt.Categorical()}
        self.model = udt.Classifier(columns=columns, target=target, output_head=self.output_head)
        self.model.fit(train_path)
        if self.output_head != "auto":
            self.notes = f"output_head={self.output_head!r}"

    def predict_batch(self, test_path):
        return [[str(x) for x in row] for row in self.model.predict(test_path, top_k=K)]

    def predict_one(self, row):
        if isinstance(row, str):
            row = {"text": row}
        return [str(x) for x in np.ravel(np.asarray(self.model.predict(row, top_k=K), dtype=object))]


def napkinxc_plt(ctx):
    return _run(ctx, NapkinPLT(ctx))


def tfidf_centroid(ctx):
    return _run(ctx, TfidfCentroid(ctx))


def fasttext_hs(ctx):
    return _run(ctx, FastTextXC(ctx, "hs"))


def fasttext_ova(ctx):
    if not _target(ctx)[1]:
        raise Unavailable("fastText ova is run on the multi-label task only")
    return _run(ctx, FastTextXC(ctx, "ova"))


def torch_dense(ctx):
    return _run(ctx, TorchDense(ctx))


def udt(ctx):
    return _run(ctx, UdtXC(ctx))


def udt_trained(ctx):
    return _run(ctx, UdtXC(ctx, output_head="trained"))
