"""Tabular classification (UCI Adult, 14 mixed columns -> income): LightGBM, scikit-learn
HistGradientBoostingClassifier, PyTorch MLP on one-hot features, udt. The metric is accuracy.

Single-row latency takes the row as a dict of raw column values (what a service receives); each peer turns it into
its own input with plain dict lookups (the fastest honest path, no one-row DataFrame)."""
from __future__ import annotations

import os
from typing import Any

import numpy as np

from .base import System, UdtSystem, evaluate_system, read_csv, require, require_udt_classifier, torch_setup
from .common import joblib_dump, joblib_load
from .harness import accuracy

TARGET = "income"
# Picked on a 10% validation split of train (benchmarks/peers/tune.py): grids of (rounds, learning rate) and MLP epochs.
LGBM_PARAMS = dict(n_estimators=1000, learning_rate=0.02, num_leaves=31)
HGB_PARAMS = dict(max_iter=300, learning_rate=0.05)
MLP_EPOCHS = 5


def truth(test_path: str) -> np.ndarray:
    return read_csv(test_path, usecols=[TARGET])[TARGET].astype(str).to_numpy()


def single_rows(test_path: str, n: int) -> list[dict[str, Any]]:
    df = read_csv(test_path).drop(columns=[TARGET])
    order = np.random.default_rng(0).permutation(len(df))[:n]
    return [df.iloc[i].to_dict() for i in order]


def score(y, preds) -> dict[str, float]:
    return {"accuracy": accuracy(y, np.asarray(preds).astype(str))}


class TableEncoder:
    """Numeric columns as floats; categorical (string) columns as integer codes (unknown -> NaN) or one-hot."""

    def fit(self, df) -> "TableEncoder":
        self.columns = [c for c in df.columns if c != TARGET]
        self.categorical = [c for c in self.columns if df[c].dtype.kind not in "iuf"]
        self.numeric = [c for c in self.columns if c not in self.categorical]
        self.codes = {c: {v: i for i, v in enumerate(sorted(df[c].astype(str).unique()))} for c in self.categorical}
        num = df[self.numeric].to_numpy(np.float64)
        self.mean, self.std = num.mean(0), num.std(0) + 1e-9
        self.onehot_offset, off = {}, len(self.numeric)
        for c in self.categorical:
            self.onehot_offset[c] = off
            off += len(self.codes[c])
        self.onehot_dim = off
        return self

    @property
    def categorical_index(self) -> list[int]:
        return [self.columns.index(c) for c in self.categorical]

    def codes_matrix(self, df) -> np.ndarray:
        out = np.empty((len(df), len(self.columns)), np.float64)
        for j, c in enumerate(self.columns):
            if c in self.codes:
                out[:, j] = df[c].astype(str).map(self.codes[c]).astype(float).to_numpy()
            else:
                out[:, j] = df[c].to_numpy(np.float64)
        return out

    def codes_row(self, row: dict[str, Any]) -> np.ndarray:
        return np.array([[self.codes[c].get(str(row[c]), np.nan) if c in self.codes else float(row[c])
                          for c in self.columns]])

    def onehot_matrix(self, df) -> np.ndarray:
        out = np.zeros((len(df), self.onehot_dim), np.float32)
        out[:, :len(self.numeric)] = (df[self.numeric].to_numpy(np.float64) - self.mean) / self.std
        rows = np.arange(len(df))
        for c in self.categorical:
            idx = df[c].astype(str).map(self.codes[c]).to_numpy()
            ok = ~np.isnan(idx.astype(float))
            out[rows[ok], self.onehot_offset[c] + idx[ok].astype(int)] = 1.0
        return out

    def onehot_row(self, row: dict[str, Any]) -> np.ndarray:
        out = np.zeros((1, self.onehot_dim), np.float32)
        out[0, :len(self.numeric)] = (np.array([float(row[c]) for c in self.numeric]) - self.mean) / self.std
        for c in self.categorical:
            i = self.codes[c].get(str(row[c]))
            if i is not None:
                out[0, self.onehot_offset[c] + i] = 1.0
        return out


class CodedModel(System):
    """A scikit-learn-API model on the integer-coded matrix with categorical feature indices."""

    def make(self, enc: TableEncoder):  # pragma: no cover - interface
        raise NotImplementedError

    def fit_params(self, enc: TableEncoder) -> dict[str, Any]:
        return {}

    def fit(self, train_path):
        df = read_csv(train_path)
        self.enc = TableEncoder().fit(df)
        self.model = self.make(self.enc)
        self.model.fit(self.enc.codes_matrix(df), df[TARGET].astype(str).to_numpy(), **self.fit_params(self.enc))

    def predict_batch(self, test_path):
        return self.model.predict(self.enc.codes_matrix(read_csv(test_path)))

    def predict_one(self, row):
        return self.model.predict(self.enc.codes_row(row))[0]

    def save(self, directory):  # the estimator and the column encoding its inputs need
        joblib_dump({"encoder": self.enc, "model": self.model}, directory)

    def load(self, directory):
        new = self.blank()
        state = joblib_load(directory)
        new.enc, new.model = state["encoder"], state["model"]
        return new


class LightGBM(CodedModel):
    name = "LightGBM"

    def make(self, enc):
        lgb = require("lightgbm")
        self.notes = f"LGBMClassifier({LGBM_PARAMS}), native categorical features"
        return lgb.LGBMClassifier(**LGBM_PARAMS, n_jobs=self.threads, random_state=self.seed, verbose=-1)

    def fit_params(self, enc):
        return {"categorical_feature": enc.categorical_index}


class HistGB(CodedModel):
    name = "sklearn HistGB"

    def make(self, enc):
        from sklearn.ensemble import HistGradientBoostingClassifier

        mask = np.zeros(len(enc.columns), bool)
        mask[enc.categorical_index] = True
        self.notes = f"HistGradientBoostingClassifier({HGB_PARAMS}), native categorical features, early stopping"
        return HistGradientBoostingClassifier(categorical_features=mask, random_state=self.seed, **HGB_PARAMS)


class TorchMLP(System):
    name = "PyTorch MLP (one-hot)"

    def fit(self, train_path):
        torch = torch_setup(self.threads, self.seed)
        nn = torch.nn
        df = read_csv(train_path)
        self.enc = TableEncoder().fit(df)
        X = torch.from_numpy(self.enc.onehot_matrix(df))
        self.classes = np.array(sorted(df[TARGET].astype(str).unique()), dtype=object)
        y = torch.from_numpy(np.searchsorted(self.classes, df[TARGET].astype(str).to_numpy()).astype(np.int64))
        self.net = _mlp(nn, X.shape[1], len(self.classes))
        opt = torch.optim.Adam(self.net.parameters(), lr=1e-3)
        g = torch.Generator().manual_seed(self.seed)
        for _ in range(MLP_EPOCHS):
            perm = torch.randperm(len(X), generator=g)
            for s in range(0, len(X), 256):
                b = perm[s:s + 256]
                loss = nn.functional.cross_entropy(self.net(X[b]), y[b])
                opt.zero_grad()
                loss.backward()
                opt.step()
        self.net.eval()
        self.torch = torch
        self.notes = (f"one-hot + standardized numerics ({X.shape[1]} dims) -> 256-256 ReLU; Adam 1e-3, batch 256, "
                      f"{MLP_EPOCHS} epochs")

    def _predict(self, X: np.ndarray):
        with self.torch.inference_mode():
            return self.classes[self.net(self.torch.from_numpy(X)).argmax(1).numpy()]

    def predict_batch(self, test_path):
        return self._predict(self.enc.onehot_matrix(read_csv(test_path)))

    def predict_one(self, row):
        return self._predict(self.enc.onehot_row(row))[0]

    def save(self, directory):  # torch.save(state_dict) + the one-hot encoding and class names
        self.torch.save(self.net.state_dict(), os.path.join(directory, "model.pt"))
        joblib_dump({"encoder": self.enc, "classes": self.classes}, directory, "encoder.joblib")

    def load(self, directory):
        new = self.blank()
        new.torch = torch = torch_setup(self.threads, self.seed)
        state = joblib_load(directory, "encoder.joblib")
        new.enc, new.classes = state["encoder"], state["classes"]
        new.net = _mlp(torch.nn, new.enc.onehot_dim, len(new.classes))
        new.net.load_state_dict(torch.load(os.path.join(directory, "model.pt")))
        new.net.eval()
        return new


def _mlp(nn, n_in: int, n_out: int):
    return nn.Sequential(nn.Linear(n_in, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, n_out))


ADULT_COLUMNS = {
    "age": "Numeric", "workclass": "Categorical", "fnlwgt": "Numeric", "education": "Categorical",
    "education_num": "Numeric", "marital_status": "Categorical", "occupation": "Categorical",
    "relationship": "Categorical", "race": "Categorical", "sex": "Categorical", "capital_gain": "Numeric",
    "capital_loss": "Numeric", "hours_per_week": "Numeric", "native_country": "Categorical",
    "income": "Categorical",
}


class UdtTabular(UdtSystem):
    name = "udt"

    def fit(self, train_path):
        udt = require_udt_classifier()
        columns = {c: getattr(udt, kind)() for c, kind in ADULT_COLUMNS.items()}
        self.model = udt.Classifier(columns=columns, target=TARGET)
        self.model.fit(train_path)

    def predict_batch(self, test_path):
        return np.asarray(self.model.predict(test_path)).astype(str)

    def predict_one(self, row):
        return self.model.predict(row)


def _run(ctx, system):
    return evaluate_system(ctx, system, truth, score, single_rows, "accuracy")


def lightgbm(ctx):
    return _run(ctx, LightGBM(ctx))


def hist_gradient_boosting(ctx):
    return _run(ctx, HistGB(ctx))


def torch_mlp_onehot(ctx):
    return _run(ctx, TorchMLP(ctx))


def udt(ctx):
    return _run(ctx, UdtTabular(ctx))
