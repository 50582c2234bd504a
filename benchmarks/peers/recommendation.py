"""Next-item recommendation (MovieLens-100K, leave-last-out): item popularity, implicit ALS, a PyTorch
GRU4Rec-style model, udt with a temporal history column.

train.csv / test.csv have `user_id,item_id,timestamp` (train in time order); test holds each user's last
interaction. Every system ranks all items it knows (all of train's 1,679 items), minus the items already in the
user's train history (the held-out item is never among them), and is scored by recall@10 (= hit rate) and NDCG@10.
Single-row latency: a request `{"user_id": u, "timestamp": t}` -> 10 item ids, history filter included.

Model files: each peer's holds its model and the History (item and user ids, each user's train items: the GRU's
input sequences and every peer's seen-items filter); udt's file holds its own per-user history, and its runner's
seen-items filter reuses the runner's History, which is not counted."""
from __future__ import annotations

import os
from typing import Any

import numpy as np

from .base import System, UdtSystem, evaluate_system, read_csv, require, require_udt_classifier, torch_setup
from .common import joblib_dump, joblib_load
from .harness import ndcg_at_k, recall_at_k, top_k_indices

K = 10
# implicit ALS: the library's documented defaults. The GRU: sized so that it trains in about two minutes on 2 cores
# (not tuned beyond that).
ALS_PARAMS = dict(factors=100, regularization=0.01, alpha=1.0, iterations=15)
GRU_PARAMS = dict(dim=64, hidden=64, epochs=10, lr=2e-3, max_len=50)


def truth(test_path: str) -> np.ndarray:
    return read_csv(test_path, usecols=["item_id"])["item_id"].astype(str).to_numpy()


def single_rows(test_path: str, n: int) -> list[dict[str, Any]]:
    df = read_csv(test_path, usecols=["user_id", "timestamp"])
    order = np.random.default_rng(0).permutation(len(df))[:n]
    return [{"user_id": int(df.user_id.iat[i]), "timestamp": int(df.timestamp.iat[i])} for i in order]


def score(y, ranked) -> dict[str, float]:
    return {"recall@10": recall_at_k(y, ranked, K), "ndcg@10": ndcg_at_k(y, ranked, K)}


class History:
    """Item vocabulary and each user's train history (in time order)."""

    def __init__(self, df):
        self.items = np.array(sorted(df.item_id.unique()))
        self.item_index = {int(it): i for i, it in enumerate(self.items)}
        self.users = np.array(sorted(df.user_id.unique()))
        self.user_index = {int(u): i for i, u in enumerate(self.users)}
        codes = df.item_id.map(self.item_index).to_numpy()
        self.seq: dict[int, np.ndarray] = {}
        for u, idx in df.groupby("user_id", sort=False).indices.items():
            self.seq[int(u)] = codes[np.sort(idx)]  # df is in time order; groupby indices keep it

    def seen(self, user: int) -> np.ndarray:
        return self.seq.get(int(user), np.zeros(0, np.int64))

    def top_k_unseen(self, user: int, scores: np.ndarray) -> list[str]:
        s = np.array(scores, dtype=np.float64, copy=True)
        s[self.seen(user)] = -np.inf
        return [str(self.items[i]) for i in top_k_indices(s[None, :], K)[0]]


class Popularity(System):
    name = "item popularity"
    notes = "items ranked by train interaction count"

    def fit(self, train_path):
        df = read_csv(train_path)
        self.h = History(df)
        self.counts = np.bincount(df.item_id.map(self.h.item_index).to_numpy(), minlength=len(self.h.items))
        self.counts = self.counts.astype(np.float64)

    def predict_batch(self, test_path):
        users = read_csv(test_path, usecols=["user_id"])["user_id"].to_numpy()
        return [self.h.top_k_unseen(u, self.counts) for u in users]

    def predict_one(self, row):
        return self.h.top_k_unseen(row["user_id"], self.counts)

    def save(self, directory):
        joblib_dump({"history": self.h, "counts": self.counts}, directory)

    def load(self, directory):
        new = self.blank()
        state = joblib_load(directory)
        new.h, new.counts = state["history"], state["counts"]
        return new


class ImplicitALS(System):
    name = "implicit ALS"

    def fit(self, train_path):
        require("implicit")
        import scipy.sparse as sp
        from implicit.cpu.als import AlternatingLeastSquares

        df = read_csv(train_path)
        self.h = History(df)
        rows = df.user_id.map(self.h.user_index).to_numpy()
        cols = df.item_id.map(self.h.item_index).to_numpy()
        self.ui = sp.csr_matrix((np.ones(len(df), np.float32), (rows, cols)),
                                shape=(len(self.h.users), len(self.h.items)))
        self.ui.sum_duplicates()
        self.ui.data[:] = 1.0
        self.model = AlternatingLeastSquares(**ALS_PARAMS, num_threads=self.threads, random_state=self.seed)
        # implicit parallelises over users itself and asks for a single-threaded BLAS (its own warning otherwise)
        from threadpoolctl import threadpool_limits

        with threadpool_limits(1, "blas"):
            self.model.fit(self.ui, show_progress=False)
        self.notes = f"implicit.cpu.als.AlternatingLeastSquares({ALS_PARAMS}), binary confidence"

    def _recommend(self, users):
        ui = np.array([self.h.user_index[int(u)] for u in users])
        ids, _ = self.model.recommend(ui, self.ui[ui], N=K, filter_already_liked_items=True)
        return [[str(self.h.items[i]) for i in row] for row in np.atleast_2d(ids)]

    def predict_batch(self, test_path):
        return self._recommend(read_csv(test_path, usecols=["user_id"])["user_id"].to_numpy())

    def predict_one(self, row):
        return self._recommend([row["user_id"]])[0]

    def save(self, directory):  # implicit's own save (the factors, .npz) + ids and the user-item matrix
        self.model.save(os.path.join(directory, "als.npz"))
        joblib_dump({"history": self.h, "user_items": self.ui}, directory)

    def load(self, directory):
        from implicit.cpu.als import AlternatingLeastSquares

        new = self.blank()
        new.model = AlternatingLeastSquares.load(os.path.join(directory, "als.npz"))
        state = joblib_load(directory)
        new.h, new.ui = state["history"], state["user_items"]
        return new


class TorchGRU4Rec(System):
    """GRU over each user's item sequence, next-item cross-entropy over all items at every position (GRU4Rec with
    full softmax, as in its later 'GRU4Rec with cross-entropy' variant), Adam."""

    name = "PyTorch GRU4Rec"

    def fit(self, train_path):
        torch = self.torch = torch_setup(self.threads, self.seed)
        nn = torch.nn
        p = GRU_PARAMS
        df = read_csv(train_path)
        self.h = History(df)
        n = len(self.h.items) + 1  # 0 = padding; item i -> i + 1
        L = p["max_len"]
        self.net = _gru_net(torch, n)
        # training windows: each user's history cut (from its end) into pieces of L+1 items overlapping by one,
        # so every interaction is a target once; left-padded
        windows = []
        for s in self.h.seq.values():
            s = s + 1
            for end in range(len(s), 1, -L):
                windows.append(s[max(0, end - L - 1):end])
        X = np.zeros((len(windows), L), np.int64)
        Y = np.zeros((len(windows), L), np.int64)
        for i, w in enumerate(windows):
            X[i, L - len(w) + 1:] = w[:-1]
            Y[i, L - len(w) + 1:] = w[1:]
        X, Y = torch.from_numpy(X), torch.from_numpy(Y)
        opt = torch.optim.Adam(self.net.parameters(), lr=p["lr"])
        g = torch.Generator().manual_seed(self.seed)
        self.net.train()
        for _ in range(p["epochs"]):
            perm = torch.randperm(len(X), generator=g)
            for s in range(0, len(X), 64):
                b = perm[s:s + 64]
                logits = self.net(X[b])
                loss = nn.functional.cross_entropy(logits.reshape(-1, n), Y[b].reshape(-1), ignore_index=0)
                opt.zero_grad()
                loss.backward()
                opt.step()
        self.net.eval()
        self.notes = (f"emb {p['dim']} -> GRU {p['hidden']} -> softmax over items, dropout 0.25, Adam lr {p['lr']}, "
                      f"batch 64 windows of {L} items covering all history, {p['epochs']} epochs")

    def _scores(self, users) -> np.ndarray:
        L = GRU_PARAMS["max_len"]
        X = np.zeros((len(users), L), np.int64)
        for i, u in enumerate(users):
            s = self.h.seen(u)[-L:] + 1
            if len(s):
                X[i, L - len(s):] = s
        with self.torch.inference_mode():
            return self.net(self.torch.from_numpy(X))[:, -1, 1:].numpy()

    def predict_batch(self, test_path):
        users = read_csv(test_path, usecols=["user_id"])["user_id"].to_numpy()
        out = []
        for s in range(0, len(users), 256):
            chunk = users[s:s + 256]
            out += [self.h.top_k_unseen(u, sc) for u, sc in zip(chunk, self._scores(chunk))]
        return out

    def predict_one(self, row):
        return self.h.top_k_unseen(row["user_id"], self._scores([row["user_id"]])[0])

    def save(self, directory):  # torch.save(state_dict) + the History (ids, each user's input sequence)
        self.torch.save(self.net.state_dict(), os.path.join(directory, "model.pt"))
        joblib_dump({"history": self.h}, directory)

    def load(self, directory):
        new = self.blank()
        new.torch = torch = torch_setup(self.threads, self.seed)
        new.h = joblib_load(directory)["history"]
        new.net = _gru_net(torch, len(new.h.items) + 1)
        new.net.load_state_dict(torch.load(os.path.join(directory, "model.pt")))
        new.net.eval()
        return new


def _gru_net(torch, n: int):
    """Embedding (n ids, 0 = padding) -> dropout -> GRU -> linear over the n ids, at every position."""
    nn, p = torch.nn, GRU_PARAMS

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(n, p["dim"], padding_idx=0)
            self.drop = nn.Dropout(0.25)
            self.gru = nn.GRU(p["dim"], p["hidden"], batch_first=True)
            self.out = nn.Linear(p["hidden"], n)

        def forward(self, x):
            h, _ = self.gru(self.drop(self.emb(x)))
            return self.out(h)

    return Net()


class UdtRecommender(UdtSystem):
    name = "udt"

    def fit(self, train_path):
        udt = require_udt_classifier()
        self.h = History(read_csv(train_path))  # only to filter each user's seen items, as for every peer
        self.model = udt.Classifier(
            columns={"user_id": udt.Categorical(), "item_id": udt.Categorical(), "timestamp": udt.Date()},
            target="item_id", temporal={"user_id": ["item_id"]})
        self.model.fit(train_path)
        self.to_item_index = self._item_index(self.model)

    def _item_index(self, model) -> np.ndarray:
        return np.array([self.h.item_index.get(int(c), -1) for c in model.classes_])

    def load(self, directory):
        new = super().load(directory)
        new.h = self.h  # the runner's seen-items filter, not part of udt's model (see the module docstring)
        new.to_item_index = new._item_index(new.model)
        return new

    def _rank(self, user, proba_row) -> list[str]:
        scores = np.full(len(self.h.items), -np.inf)
        ok = self.to_item_index >= 0
        scores[self.to_item_index[ok]] = np.asarray(proba_row)[ok]
        return self.h.top_k_unseen(user, scores)

    def predict_batch(self, test_path):
        users = read_csv(test_path, usecols=["user_id"])["user_id"].to_numpy()
        proba = np.asarray(self.model.predict_proba(test_path))
        return [self._rank(u, p) for u, p in zip(users, proba)]

    def predict_one(self, row):
        seen = {str(self.h.items[i]) for i in self.h.seen(row["user_id"])}
        top = self.model.predict(row, top_k=min(K + len(seen), len(self.model.classes_)))
        return [str(x) for x in np.ravel(np.asarray(top, dtype=object)) if str(x) not in seen][:K]


def _run(ctx, system):
    return evaluate_system(ctx, system, truth, score, single_rows, "recall@10")


def popularity(ctx):
    return _run(ctx, Popularity(ctx))


def implicit_als(ctx):
    return _run(ctx, ImplicitALS(ctx))


def torch_gru4rec(ctx):
    return _run(ctx, TorchGRU4Rec(ctx))


def udt(ctx):
    return _run(ctx, UdtRecommender(ctx))
