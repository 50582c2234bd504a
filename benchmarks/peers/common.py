"""Pieces several task families share: fastText input files, hashed n-gram features, the PyTorch model of udt's
architecture (sparse input -> one dense ReLU hidden layer -> full output layer), ranking helpers."""
from __future__ import annotations

import json
import os
import re
import time
from typing import Any, Sequence

import numpy as np

from .base import require, torch_setup

# --------------------------------------------------------------------------------------------------- fastText

_FT_PUNCT = re.compile(r"([.!?,'/()\"])")
_FT_SPACE = re.compile(r"\s+")


def fasttext_normalize(text: str) -> str:
    """The preprocessing of fastText's tutorial: separate punctuation, lowercase; one line per document."""
    return _FT_SPACE.sub(" ", _FT_PUNCT.sub(r" \1 ", str(text).lower())).strip()


def fasttext_label(label: Any) -> str:
    return "__label__" + str(label).replace(" ", "_")


def write_fasttext_file(path: str, texts: Sequence[str], labels: Sequence[Sequence[Any]], seed: int) -> None:
    """fastText reads its input in file order and does not shuffle; its docs ask for shuffled input."""
    order = np.random.default_rng(seed).permutation(len(texts))
    with open(path, "w", encoding="utf-8") as f:
        for i in order:
            f.write(" ".join(fasttext_label(lab) for lab in labels[i]) + " " + fasttext_normalize(texts[i]) + "\n")


def fasttext_top_k(model, text: str, k: int) -> list[str]:
    # model.f.predict is what fastText's own `model.predict(str)` calls; that wrapper then runs
    # `np.array(probs, copy=False)`, which NumPy 2 rejects (fasttext 0.9.3, the latest release), so call it directly.
    pairs = model.f.predict(fasttext_normalize(text) + "\n", k, 0.0, "strict")
    return [lab[len("__label__"):] for _, lab in pairs]


def fasttext_top_k_batch(model, texts: Sequence[str], k: int) -> list[list[str]]:
    labels, _ = model.predict([fasttext_normalize(t) for t in texts], k=k)
    return [[lab[len("__label__"):] for lab in row] for row in labels]


def fasttext_module():
    return require("fasttext", "fastText (pip package fasttext)")


def save_fasttext(model, directory: str) -> None:
    """A fastText model as its .bin in `directory` (what load_fasttext reads)."""
    model.save_model(os.path.join(directory, "model.bin"))


def load_fasttext(directory: str):
    return fasttext_module().load_model(os.path.join(directory, "model.bin"))


# ----------------------------------------------------------------------------------------- hashed features


def hashing_vectorizer(n_features: int = 100_000):
    """Unigrams + bigrams hashed into n_features (murmurhash3, like udt's featurizer in spirit), l2-normalised."""
    from sklearn.feature_extraction.text import HashingVectorizer

    return HashingVectorizer(ngram_range=(1, 2), n_features=n_features, alternate_sign=False, norm="l2",
                             dtype=np.float32)


# ------------------------------------------------------------------------------------------- PyTorch model


class HashedMLP:
    """PyTorch CPU version of udt's architecture: hashed sparse input (100k) -> hidden (ReLU) -> dense output.

    The input layer is an `nn.EmbeddingBag(mode="sum")` with per-sample weights, i.e. exactly a dense layer applied
    to a sparse vector. All parameters go to one fused `Adam` (measured faster here than `sparse=True` +
    `SparseAdam`, which stays available as `sparse_grad=True`). The output layer is full (dense): every class is
    computed for every sample, which is the cost SLIDE avoids.
    """

    def __init__(self, n_out: int, loss: str = "softmax", input_dim: int = 100_000, hidden: int = 256,
                 lr: float = 1e-3, batch_size: int = 256, epochs: int = 5, threads: int = 2, seed: int = 0,
                 time_budget_s: float | None = None, sparse_grad: bool = False):
        self.torch = torch_setup(threads, seed)
        nn = self.torch.nn
        self.n_out, self.loss, self.input_dim, self.hidden = n_out, loss, input_dim, hidden
        self.lr, self.batch_size, self.epochs, self.seed = lr, batch_size, epochs, seed
        self.time_budget_s = time_budget_s
        self.sparse_grad = sparse_grad
        self.emb = nn.EmbeddingBag(input_dim, hidden, mode="sum", sparse=sparse_grad)
        nn.init.normal_(self.emb.weight, std=(1.0 / hidden) ** 0.5)
        self.bias = nn.Parameter(self.torch.zeros(hidden))
        self.out = nn.Linear(hidden, n_out)
        self.epochs_run = 0

    def _hidden(self, X):
        t = self.torch
        idx = t.from_numpy(X.indices.astype(np.int64))
        off = t.from_numpy(X.indptr[:-1].astype(np.int64))
        w = t.from_numpy(X.data.astype(np.float32))
        return t.relu(self.emb(idx, off, per_sample_weights=w) + self.bias)

    def fit(self, X, y) -> "HashedMLP":
        """X: CSR (n, input_dim); y: int array (softmax) or CSR (n, n_out) 0/1 (sigmoid)."""
        t = self.torch
        if self.sparse_grad:
            opts = [t.optim.SparseAdam(list(self.emb.parameters()), lr=self.lr),
                    t.optim.Adam([self.bias, *self.out.parameters()], lr=self.lr)]
        else:
            # fused Adam: one pass over each parameter (5-7x faster on CPU than the default for-each/single-tensor
            # versions, and faster here than SparseAdam, whose coalesce + sparse_mask dominate at 256-row batches)
            opts = [t.optim.Adam([self.emb.weight, self.bias, *self.out.parameters()], lr=self.lr, fused=True)]
        rng = np.random.default_rng(self.seed)
        n = X.shape[0]
        start = time.perf_counter()
        for _ in range(self.epochs):
            order = rng.permutation(n)
            for s in range(0, n, self.batch_size):
                b = order[s:s + self.batch_size]
                logits = self.out(self._hidden(X[b]))
                if self.loss == "softmax":
                    loss = t.nn.functional.cross_entropy(logits, t.from_numpy(np.asarray(y[b], dtype=np.int64)))
                else:
                    target = t.from_numpy(y[b].toarray().astype(np.float32))
                    loss = t.nn.functional.binary_cross_entropy_with_logits(logits, target)
                for o in opts:
                    o.zero_grad()
                loss.backward()
                for o in opts:
                    o.step()
            self.epochs_run += 1
            if self.time_budget_s is not None and time.perf_counter() - start > self.time_budget_s:
                break
        return self

    def scores(self, X, batch_size: int = 1024) -> np.ndarray:
        t = self.torch
        outs = []
        with t.inference_mode():
            for s in range(0, X.shape[0], batch_size):
                outs.append(self.out(self._hidden(X[s:s + batch_size])).numpy())
        return np.concatenate(outs) if outs else np.zeros((0, self.n_out), np.float32)

    def _params(self) -> dict[str, Any]:
        return {"emb.weight": self.emb.weight, "bias": self.bias, "out.weight": self.out.weight,
                "out.bias": self.out.bias}

    def state_dict(self) -> dict[str, Any]:
        return {name: p.detach() for name, p in self._params().items()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        with self.torch.no_grad():
            for name, p in self._params().items():
                p.copy_(state[name])

    def top_k(self, X, k: int, batch_size: int = 1024) -> np.ndarray:
        from .harness import top_k_indices

        t = self.torch
        outs = []
        with t.inference_mode():
            for s in range(0, X.shape[0], batch_size):
                logits = self.out(self._hidden(X[s:s + batch_size]))
                outs.append(t.topk(logits, min(k, self.n_out), dim=1).indices.numpy())
        return np.concatenate(outs) if outs else top_k_indices(np.zeros((0, self.n_out)), k)


def save_hashed_mlp(model: HashedMLP, classes: np.ndarray, directory: str) -> None:
    """torch.save(state_dict) + the shape and class names (JSON) it is rebuilt from."""
    model.torch.save(model.state_dict(), os.path.join(directory, "model.pt"))
    with open(os.path.join(directory, "classes.json"), "w") as f:
        json.dump({"input_dim": model.input_dim, "hidden": model.hidden, "classes": [str(c) for c in classes]}, f)


def load_hashed_mlp(directory: str, loss: str, threads: int, seed: int) -> tuple[HashedMLP, np.ndarray]:
    """PyTorch's idiom: build the module, then load_state_dict(torch.load(...))."""
    with open(os.path.join(directory, "classes.json")) as f:
        meta = json.load(f)
    classes = np.array(meta["classes"], dtype=object)
    model = HashedMLP(len(classes), loss, input_dim=meta["input_dim"], hidden=meta["hidden"], threads=threads,
                      seed=seed)
    model.load_state_dict(model.torch.load(os.path.join(directory, "model.pt")))
    return model, classes


def joblib_dump(obj: Any, directory: str, name: str = "model.joblib") -> None:
    """scikit-learn's documented way to keep a fitted estimator (uncompressed: the fastest to load)."""
    import joblib

    joblib.dump(obj, os.path.join(directory, name))


def joblib_load(directory: str, name: str = "model.joblib") -> Any:
    import joblib

    return joblib.load(os.path.join(directory, name))


def label_vocab(values: Sequence[Any]) -> tuple[np.ndarray, dict[str, int]]:
    classes = np.array(sorted({str(v) for v in values}), dtype=object)
    return classes, {c: i for i, c in enumerate(classes)}


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))
