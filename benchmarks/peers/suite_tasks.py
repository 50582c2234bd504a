"""The calibration suite's tasks (`benchmarks/suite.py`): one udt system at its defaults and one peer per dataset.

The seven original benchmark tasks reuse the loaders, peers and udt runners of `tasks.py`, `text.py`, `tabular.py`,
`recommendation.py`, `xc.py` and `graph.py` unchanged. The ten calibration tasks of `../shared/data/fetch.py` are
defined here: a preparation that only selects rows and columns (train.csv / test.csv, outside every timing), a
udt system that declares each column by its type in the training file (numbers -> `Numeric`, strings ->
`Categorical`, free text -> `Text`) and nothing else, and the peer a practitioner would try first:
- tabular classification / regression: LightGBM at its library defaults (`LGBMClassifier()` / `LGBMRegressor()`,
  string columns as pandas categoricals, LightGBM's native categorical handling);
- text: TF-IDF (1-2-grams, min_df=2, sublinear tf, as in `text.py`) + `LinearSVC()` at its default C=1 (`text.py`'s
  C=3 was picked on a validation split of news20/polarity; the new tasks get no tuning, on either side);
- multi-label (movies: a title + 16 numeric/rating columns): the same TF-IDF on the title, plus standardised numeric
  columns (missing -> 0 with a missing indicator) and one-hot mpaa, -> one-vs-rest LinearSVC, ranked by decision
  function for P@1.

`run_system(task, side, data_dir, work_dir)` runs one system in the calling process (suite.py spawns a fresh process
per system with 2 threads) and returns its record: metric, train_s (reading train.csv + featurizing + training),
predict_s, n_train, n_test, notes.
"""
from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from . import graph, recommendation, tabular, tasks, text, xc
from .base import System, read_csv, require, require_udt_classifier
from .harness import accuracy, precision_at_k, recall_at_k

PREP_VERSION = 1

# ------------------------------------------------------------------------------------------------ metrics


def mae(y_true, y_pred) -> float:
    y_true = np.asarray(y_true, dtype=np.float64)
    y_pred = np.asarray(y_pred, dtype=np.float64)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"mae: {len(y_true)} targets but {len(y_pred)} predictions")
    return float(np.mean(np.abs(y_true - y_pred)))


def p_at_1(y_sets, ranked) -> float:
    return precision_at_k(y_sets, ranked, 1)


# ---------------------------------------------------------------------------------------- task descriptions


@dataclass(frozen=True)
class SuiteTask:
    name: str
    kind: str  # "classification" | "multilabel" | "xc" | "recommendation" | "regression"
    metric_name: str  # accuracy | precision@1 | recall@10 | mae
    calibration: bool  # one of fetch.py's ten calibration tasks (candidates for the holdout)
    description: str
    peer_name: str
    prepare: Callable[[str, str], dict] = field(repr=False, compare=False)
    make: Callable[[str, dict], System] = field(repr=False, compare=False)  # (side, ctx) -> System
    truth: Callable[[str], Any] = field(repr=False, compare=False)
    score: Callable[[Any, Any], float] = field(repr=False, compare=False)


# ------------------------------------------------------------------------------------ calibration data prep


def _split_by_column(path: str, out: str, drop: tuple[str, ...] = ()) -> dict:
    df = read_csv(path)
    cols = [c for c in df.columns if c != "split" and c not in drop]
    tr, te = df[df.split == "train"][cols], df[df.split == "test"][cols]
    tasks._split_write(tr, te, out)
    return {"n_train": len(tr), "n_test": len(te)}


def _tabular_prep(file: str):
    return lambda data, out: _split_by_column(os.path.join(data, "tabular", file), out)


def _text_prep(file: str):
    return lambda data, out: _split_by_column(os.path.join(data, "text", file), out)


# target column of each tabular file (the column before `split`)
TABULAR_TARGET = {"spam": "type", "caravan": "CARAVAN", "letter": "lettr", "shuttle": "Class",
                  "diamonds": "price", "ames": "Sale_Price", "movies": "genres"}


def _is_numeric(series) -> bool:
    import pandas as pd

    return bool(pd.api.types.is_numeric_dtype(series.dtype)) and not pd.api.types.is_bool_dtype(series.dtype)


# ------------------------------------------------------------------------------------------ tabular systems


class UdtTable(System):
    """udt.Classifier / udt.Regressor at its defaults; every column declared by its type in train.csv."""

    name = "udt"

    def __init__(self, ctx, target: str, regression: bool, multilabel: bool = False, text_columns=()):
        super().__init__(ctx)
        self.target, self.regression, self.multilabel = target, regression, multilabel
        self.text_columns = set(text_columns)

    def fit(self, train_path):
        udt = require_udt_classifier()
        df = read_csv(train_path)
        columns: dict[str, Any] = {}
        for c in df.columns:
            if c == self.target:
                continue
            if c in self.text_columns:
                columns[c] = udt.Text()
            elif _is_numeric(df[c]):
                columns[c] = udt.Numeric()
            else:
                columns[c] = udt.Categorical()
        if self.regression:
            columns[self.target] = udt.Numeric()
            self.model = udt.Regressor(columns=columns, target=self.target)
        else:
            columns[self.target] = udt.Categorical(delimiter=" ") if self.multilabel else udt.Categorical()
            self.model = udt.Classifier(columns=columns, target=self.target)
        self.model.fit(df)  # the frame read above: reading the file is inside train time either way
        kinds = {}
        for c, col in columns.items():
            if c == self.target:
                continue
            kinds[type(col).__name__] = kinds.get(type(col).__name__, 0) + 1
        self.notes = f"{type(self.model).__name__} defaults; inputs declared " + ", ".join(f"{v} {k}" for k, v in sorted(kinds.items()))

    def predict_batch(self, test_path):
        df = read_csv(test_path).drop(columns=[self.target])
        if self.regression:
            return np.asarray(self.model.predict(df), dtype=np.float64)
        if self.multilabel:
            return [[str(x) for x in np.ravel(np.asarray(r, dtype=object))] for r in self.model.predict(df, top_k=1)]
        return np.asarray(self.model.predict(df)).astype(str)


class LightGBMDefault(System):
    """LightGBM with its library defaults; string columns as pandas categoricals (categories fixed on train)."""

    name = "LightGBM"

    def __init__(self, ctx, target: str, regression: bool):
        super().__init__(ctx)
        self.target, self.regression = target, regression

    def _frame(self, df):
        X = df.drop(columns=[self.target], errors="ignore").copy()
        for c, cats in self.categories.items():
            X[c] = X[c].astype(str).where(df[c].notna()).astype("category").cat.set_categories(cats)
        return X

    def fit(self, train_path):
        lgb = require("lightgbm")
        df = read_csv(train_path)
        self.categories = {c: sorted(df[c].dropna().astype(str).unique()) for c in df.columns
                           if c != self.target and not _is_numeric(df[c])}
        X = self._frame(df)
        if self.regression:
            self.model = lgb.LGBMRegressor(n_jobs=self.threads, random_state=self.seed, verbose=-1)
            self.model.fit(X, df[self.target].to_numpy(np.float64))
        else:
            self.model = lgb.LGBMClassifier(n_jobs=self.threads, random_state=self.seed, verbose=-1)
            self.model.fit(X, df[self.target].astype(str).to_numpy())
        self.notes = (f"LGBM{'Regressor' if self.regression else 'Classifier'}() defaults, "
                      f"{len(self.categories)} categorical columns native")

    def predict_batch(self, test_path):
        p = self.model.predict(self._frame(read_csv(test_path)))
        return np.asarray(p, dtype=np.float64) if self.regression else np.asarray(p).astype(str)


# --------------------------------------------------------------------------------------------- text systems


def _tfidf():
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True, dtype=np.float32)


class UdtTextColumns(System):
    """udt.Classifier at its defaults on a text column (+ any other declared columns) -> label."""

    name = "udt"

    def __init__(self, ctx, extra: dict[str, str] | None = None):
        super().__init__(ctx)
        self.extra = extra or {}

    def fit(self, train_path):
        udt = require_udt_classifier()
        columns = {"text": udt.Text(), "label": udt.Categorical()}
        columns.update({c: getattr(udt, kind)() for c, kind in self.extra.items()})
        self.model = udt.Classifier(columns=columns, target="label")
        df = read_csv(train_path, dtype={c: str for c in self.extra})
        df["text"] = df["text"].fillna("").astype(str)
        self.model.fit(df)
        self.notes = "defaults; text: Text" + "".join(f", {c}: {k}" for c, k in self.extra.items())

    def predict_batch(self, test_path):
        df = read_csv(test_path, dtype={c: str for c in self.extra}).drop(columns=["label"])
        df["text"] = df["text"].fillna("").astype(str)
        return np.asarray(self.model.predict(df)).astype(str)


class TfidfSVCDefault(System):
    """TF-IDF (1-2-grams) + LinearSVC() (C=1); `extra` categorical columns one-hot encoded beside the text."""

    name = "TF-IDF+LinearSVC"

    def __init__(self, ctx, extra: tuple[str, ...] = ()):
        super().__init__(ctx)
        self.extra = list(extra)

    def _pipe(self):
        from sklearn.compose import ColumnTransformer
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import OneHotEncoder
        from sklearn.svm import LinearSVC

        parts = [("text", _tfidf(), "text")]
        if self.extra:
            parts.append(("cat", OneHotEncoder(handle_unknown="ignore", dtype=np.float32), self.extra))
        return make_pipeline(ColumnTransformer(parts), LinearSVC())

    def _frame(self, path):
        df = read_csv(path, dtype={c: str for c in self.extra})
        df["text"] = df["text"].fillna("").astype(str)
        for c in self.extra:
            df[c] = df[c].fillna("").astype(str)
        return df

    def fit(self, train_path):
        require("sklearn", "scikit-learn")
        df = self._frame(train_path)
        self.pipe = self._pipe()
        self.pipe.fit(df, df["label"].astype(str).to_numpy())
        self.notes = "TfidfVectorizer(ngram_range=(1,2), min_df=2, sublinear_tf) + LinearSVC() (C=1)" + (
            f"; one-hot {', '.join(self.extra)}" if self.extra else "")

    def predict_batch(self, test_path):
        return np.asarray(self.pipe.predict(self._frame(test_path))).astype(str)


def _text_truth(path):
    return read_csv(path, usecols=["label"])["label"].astype(str).to_numpy()


# ------------------------------------------------------------------------------------- movies (multi-label)

MOVIES_TEXT = "title"
MOVIES_CATEGORICAL = ("mpaa",)


class MoviesOvRSVC(System):
    """One-vs-rest LinearSVC on TF-IDF(title) + standardised numerics (+ missing indicators) + one-hot mpaa."""

    name = "TF-IDF+LinearSVC OvR"

    def fit(self, train_path):
        from sklearn.multiclass import OneVsRestClassifier
        from sklearn.preprocessing import MultiLabelBinarizer, OneHotEncoder
        from sklearn.svm import LinearSVC

        df = read_csv(train_path)
        target = TABULAR_TARGET["movies"]
        self.numeric = [c for c in df.columns if c not in (target, MOVIES_TEXT, *MOVIES_CATEGORICAL)]
        num = df[self.numeric].to_numpy(np.float64)
        self.mean = np.nanmean(num, 0)
        self.std = np.nanstd(num, 0) + 1e-9
        self.vec = _tfidf()
        self.onehot = OneHotEncoder(handle_unknown="ignore", dtype=np.float32)
        self.vec.fit(df[MOVIES_TEXT].fillna("").astype(str))
        self.onehot.fit(df[list(MOVIES_CATEGORICAL)].fillna("").astype(str))
        self.mlb = MultiLabelBinarizer()
        Y = self.mlb.fit_transform(df[target].astype(str).str.split())
        self.model = OneVsRestClassifier(LinearSVC(), n_jobs=1).fit(self._features(df), Y)
        self.notes = ("TF-IDF(title, 1-2-grams) + standardised numerics (NaN -> 0, + indicators) + one-hot mpaa -> "
                      f"OneVsRest(LinearSVC()) over {len(self.mlb.classes_)} labels, top decision value = P@1")

    def _features(self, df):
        import scipy.sparse as sp

        num = (df[self.numeric].to_numpy(np.float64) - self.mean) / self.std
        missing = np.isnan(num).astype(np.float32)
        num = np.nan_to_num(num, nan=0.0).astype(np.float32)
        return sp.hstack([self.vec.transform(df[MOVIES_TEXT].fillna("").astype(str)), sp.csr_matrix(num),
                          sp.csr_matrix(missing),
                          self.onehot.transform(df[list(MOVIES_CATEGORICAL)].fillna("").astype(str))], format="csr")

    def predict_batch(self, test_path):
        scores = self.model.decision_function(self._features(read_csv(test_path)))
        return [[str(self.mlb.classes_[i])] for i in np.argmax(scores, axis=1)]


def _movies_truth(path):
    t = TABULAR_TARGET["movies"]
    return [set(v.split()) for v in read_csv(path, usecols=[t])[t].astype(str)]


# ----------------------------------------------------------------------------------------- the seventeen tasks


def _tab_truth(target: str, regression: bool):
    def truth(path):
        col = read_csv(path, usecols=[target])[target]
        return col.to_numpy(np.float64) if regression else col.astype(str).to_numpy()
    return truth


def _accuracy(y, p) -> float:
    return accuracy(y, np.asarray(p).astype(str))


def _tabular_task(name: str, regression: bool, description: str) -> SuiteTask:
    target = TABULAR_TARGET[name]

    def make(side, ctx):
        if side == "udt":
            return UdtTable(ctx, target, regression)
        return LightGBMDefault(ctx, target, regression)

    return SuiteTask(name, "regression" if regression else "classification", "mae" if regression else "accuracy",
                     True, description, "LightGBM (defaults)", _tabular_prep(f"{name}.csv"), make,
                     _tab_truth(target, regression), mae if regression else _accuracy)


def _text_task(name: str, description: str, extra: dict[str, str] | None = None) -> SuiteTask:
    extra = extra or {}

    def make(side, ctx):
        return UdtTextColumns(ctx, extra) if side == "udt" else TfidfSVCDefault(ctx, tuple(extra))

    return SuiteTask(name, "classification", "accuracy", True, description, "TF-IDF+LinearSVC (C=1)",
                     _text_prep(f"{name}.csv"), make, _text_truth, _accuracy)


def _original_prep(name: str):
    """The benchmark's own preparation (tasks.py), full mode."""
    def prep(data, out):
        return tasks.TASKS[name].prepare(data, out, False)
    return prep


def _xc_score(y, ranked) -> float:
    return p_at_1(y, ranked)


SUITE: dict[str, SuiteTask] = {t.name: t for t in [
    # the seven original tasks: benchmarks/peers as they are
    SuiteTask("news20", "classification", "accuracy", False, "20 Newsgroups, 20 topics",
              "TF-IDF+LinearSVC (text.py, C=3)", _original_prep("news20"),
              lambda s, c: text.UdtText(c) if s == "udt" else text.TfidfLinearSVC(c), text.truth, _accuracy),
    SuiteTask("polarity", "classification", "accuracy", False, "IMDB + RT sentiment",
              "TF-IDF+LinearSVC (text.py, C=3)", _original_prep("polarity"),
              lambda s, c: text.UdtText(c) if s == "udt" else text.TfidfLinearSVC(c), text.truth, _accuracy),
    SuiteTask("adult", "classification", "accuracy", False, "UCI Adult income",
              "LightGBM (tabular.py: 1000 trees, lr 0.02)", _original_prep("adult"),
              lambda s, c: tabular.UdtTabular(c) if s == "udt" else tabular.LightGBM(c), tabular.truth, _accuracy),
    SuiteTask("movielens", "recommendation", "recall@10", False, "MovieLens-100K next item",
              "implicit ALS", _original_prep("movielens"),
              lambda s, c: recommendation.UdtRecommender(c) if s == "udt" else recommendation.ImplicitALS(c),
              recommendation.truth, lambda y, r: recall_at_k(y, r, 10)),
    SuiteTask("wordnet", "xc", "precision@1", False, "WordNet hypernyms, 17k labels, multi-label",
              "napkinXC PLT on TF-IDF", _original_prep("wordnet"),
              lambda s, c: xc.UdtXC(c) if s == "udt" else xc.NapkinPLT(c), xc.make_truth("wordnet"), _xc_score),
    SuiteTask("debsearch", "xc", "precision@1", False, "Debian package search, 63k classes",
              "TF-IDF centroid", _original_prep("debsearch"),
              lambda s, c: xc.UdtXC(c) if s == "udt" else xc.TfidfCentroid(c), xc.make_truth("debsearch"),
              _xc_score),
    SuiteTask("debgraph", "classification", "accuracy", False, "Debian package sections with graph neighbours",
              "LogReg TF-IDF + neighbour labels", _original_prep("debgraph"),
              lambda s, c: graph.UdtGraph(c, neighbors=True) if s == "udt" else graph.LogRegTextNeighbors(c),
              graph.truth, _accuracy),
    # the ten calibration tasks of fetch.py
    _tabular_task("spam", False, "Spambase, 57 numeric columns, binary"),
    _tabular_task("caravan", False, "CoIL 2000 insurance, 85 columns, binary (6% positive)"),
    _tabular_task("letter", False, "letter recognition, 16 integer columns, 26 classes"),
    _tabular_task("shuttle", False, "Statlog shuttle, 9 numeric columns, 7 classes"),
    _tabular_task("diamonds", True, "diamond prices (US$), 9 mixed columns"),
    _tabular_task("ames", True, "Ames house prices (US$), 73 mixed columns"),
    SuiteTask("movies", "multilabel", "precision@1", True, "IMDb films -> genres (7 labels, multi-label)",
              "TF-IDF+LinearSVC one-vs-rest", _tabular_prep("movies.csv"),
              lambda s, c: (UdtTable(c, "genres", False, multilabel=True, text_columns=(MOVIES_TEXT,))
                            if s == "udt" else MoviesOvRSVC(c)), _movies_truth, p_at_1),
    _text_task("friends", "Friends lines -> speaker, 123 classes", {"episode": "Categorical"}),
    _text_task("fortunes", "fortune quotes -> file, 39 classes"),
    _text_task("austen", "Austen paragraphs -> novel, 6 classes"),
]}


# ------------------------------------------------------------------------------------------------ running


def prepare(task: SuiteTask, data_dir: str, work_dir: str) -> dict:
    """Write (once) the task's train.csv / test.csv under work_dir/<task>; returns their paths and sizes."""
    out = os.path.join(work_dir, task.name)
    stamp = os.path.join(out, "prepared.json")
    want = {"suite_version": PREP_VERSION, "bench_version": tasks.PREP_VERSION, "data": os.path.abspath(data_dir)}
    if os.path.exists(stamp):
        with open(stamp) as f:
            info = json.load(f)
        if all(info.get(k) == v for k, v in want.items()):
            return info
    os.makedirs(out, exist_ok=True)
    got = task.prepare(data_dir, out)
    info = dict(want, n_train=got.get("n_train"), n_test=got.get("n_test"), dir=out,
                train=os.path.join(out, "train.csv"), test=os.path.join(out, "test.csv"))
    with open(stamp, "w") as f:
        json.dump(info, f)
    return info


def _with_udt_options(extra: dict) -> None:
    """suite.py --udt-options: every udt estimator this process builds gets `extra` on top of its options."""
    import udt
    for name in ("Classifier", "Regressor"):
        cls = getattr(udt, name)
        setattr(udt, name, lambda *a, _cls=cls, **kw: _cls(*a, **{**kw, **extra}))


def run_system(task_name: str, side: str, data_dir: str, work_dir: str, seed: int = 0) -> dict:
    """Fit one system (side "udt" or "peer") on the task's train.csv and score it on test.csv."""
    task = SUITE[task_name]
    info = prepare(task, data_dir, work_dir)
    ctx = {"task": task.name, "dataset": task.description, "train": info["train"], "test": info["test"],
           "work": work_dir, "threads": 2, "seed": seed, "quick": False}
    system = task.make(side, ctx)
    if side == "udt" and os.environ.get("UDT_SUITE_OPTIONS"):
        _with_udt_options(json.loads(os.environ["UDT_SUITE_OPTIONS"]))
    t0 = time.perf_counter()
    system.fit(info["train"])
    t1 = time.perf_counter()
    preds = system.predict_batch(info["test"])
    t2 = time.perf_counter()
    y = task.truth(info["test"])
    fitted = getattr(getattr(system, "model", None), "model_", None)  # a udt estimator's fitted state
    search = [dict(t) for t in getattr(fitted, "search", None) or []]
    return {"system": system.name, "metric": float(task.score(y, preds)), "train_s": t1 - t0, "predict_s": t2 - t1,
            "n_train": info.get("n_train"), "n_test": len(y), "notes": system.notes,
            **({"plan_search": search} if search else {})}


def describe(task_name: str, data_dir: str, work_dir: str) -> dict:
    """Shape of a task's training data, for the report: rows, columns, classes, rows per class, text length."""
    import pandas as pd

    task = SUITE[task_name]
    info = prepare(task, data_dir, work_dir)
    df = pd.read_csv(info["train"], keep_default_na=False, na_values=[""])
    d: dict[str, Any] = {"n_train": len(df), "n_test": info.get("n_test"), "columns": len(df.columns) - 1}
    target = {"news20": "label", "polarity": "label", "adult": "income", "movielens": "item_id",
              "wordnet": "hypernyms", "debsearch": "package", "debgraph": "section"}.get(
        task_name, TABULAR_TARGET.get(task_name, "label"))
    col = df[target].astype(str)
    labels = col.str.split() if task.kind in ("multilabel", "xc") and task_name != "debsearch" else col.map(
        lambda v: [v])
    counts = pd.Series([lab for ls in labels for lab in ls]).value_counts()
    if task.kind != "regression":
        d.update(classes=int(len(counts)), rows_per_class_median=float(counts.median()),
                 rows_per_class_min=int(counts.min()), largest_class_share=float(counts.iloc[0] / len(df)))
    texts = [c for c in ("text", "gloss", "title") if c in df.columns]
    if texts:
        d["text_chars_median"] = float(df[texts[0]].fillna("").astype(str).str.len().median())
    return d

