"""The plan search (udt.training.plan_search): deterministic, within its budget, pinned options honoured, one
candidate is a plain fit (public API, plus the search's own function for the budget)."""
import time
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

import udt.columns as col
import udt
from udt import Classifier
from udt.ingest.batch import CsrBatch
from udt.selection.model_selection import choose_architecture
from udt.training import plan_search
from udt.training.metrics import parse_metrics
from udt.training.trainer import InMemoryData
from classifier_data import TEXT_COLUMNS, adult_columns, adult_sample, text_table


def _fit(**options):
    return Classifier(columns=adult_columns(), target="income", **options).fit(adult_sample(3000), progress=False)


def test_the_search_is_deterministic_and_reported(capsys):
    a, b = _fit(time_budget=30), _fit(time_budget=30)
    assert [(t["candidate"], t["rows"], t["score"]) for t in a.model_.search] == \
           [(t["candidate"], t["rows"], t["score"]) for t in b.model_.search]
    assert a.plan_ == b.plan_
    table = adult_sample(4000).iloc[3000:]
    assert np.array_equal(a.predict_proba(table), b.predict_proba(table))
    names = {t["candidate"] for t in a.model_.search}
    assert {"rules", "learning_rate x0.5", "learning_rate x2", "hidden_dim x0.5", "hidden_dim x2", "epochs x2"} <= names
    assert a.model_.search[0]["rows"] < a.model_.search[-1]["rows"]  # successive halving: later rungs see more rows
    a.summary()
    assert "plan search" in capsys.readouterr().out


def test_pinned_options_are_not_searched_and_one_candidate_is_a_plain_fit():
    pinned = dict(learning_rate=1e-3, hidden_dim=64, epochs=4, crosses=[])  # crosses=[]: none, pinned
    searched = _fit(time_budget=30, **pinned)
    assert searched.model_.search == []            # nothing left to choose: no trial
    plain = _fit(**pinned)
    table = adult_sample(4000).iloc[3000:]
    assert np.array_equal(searched.predict_proba(table), plain.predict_proba(table))


def test_text_searches_its_scaling_too():
    model = Classifier(columns=TEXT_COLUMNS, target="topic", input_dim=5000, time_budget=30).fit(
        text_table(900), progress=False)
    assert any(t["candidate"].startswith("feature_scaling") for t in model.model_.search)
    assert model.featurizer_.scaling == model.plan_.feature_scaling


def test_the_search_stops_at_its_budget():
    start = time.perf_counter()
    model = _fit(time_budget=0.01)
    seconds = time.perf_counter() - start
    assert len(model.model_.search) == 1             # one trial started, then the budget was spent
    plain_start = time.perf_counter()
    _fit()
    assert seconds < 3 * (time.perf_counter() - plain_start) + 1.0


def test_the_budget_is_validated():
    with pytest.raises(ValueError, match="time_budget"):
        _fit(time_budget=-1)


def _xor_table(n=3000, seed=5) -> pd.DataFrame:
    """The label is the parity of two categorical columns: no single column tells anything, their cross
    tells everything."""
    rng = np.random.default_rng(seed)
    a, b, noise = rng.integers(0, 6, n), rng.integers(0, 6, n), rng.integers(0, 50, n)
    return pd.DataFrame({"a": [f"a{v}" for v in a], "b": [f"b{v}" for v in b], "noise": noise.astype(float),
                         "y": np.where((a + b) % 2 == 0, "even", "odd")})


XOR_COLUMNS = {"a": col.Categorical(), "b": col.Categorical(), "noise": col.Numeric(), "y": col.Categorical()}


def test_the_default_search_can_add_crosses_and_the_model_keeps_them(tmp_path):
    train, test = _xor_table(3000), _xor_table(1000, seed=6)
    model = Classifier(columns=XOR_COLUMNS, target="y", hidden_dim=16).fit(train, progress=False)
    assert model.model_.search and model.model_.search[-1]["candidate"] == "crosses auto"
    assert model.featurizer_.crosses_                  # the winner's featurizer replaced fit's
    assert (model.predict(test) == test["y"]).mean() > 0.95
    plain = Classifier(columns=XOR_COLUMNS, target="y", hidden_dim=16, time_budget=0).fit(train)
    assert plain.model_.search == [] and not plain.featurizer_.crosses_
    path = tmp_path / "m.udt"
    model.save(path)
    again = udt.load(path)
    assert np.array_equal(again.predict_proba(test), model.predict_proba(test))


def test_pinned_crosses_are_not_searched():
    model = Classifier(columns=XOR_COLUMNS, target="y", hidden_dim=16, crosses=[]).fit(_xor_table(2000))
    assert all(t["candidate"] != "crosses auto" for t in model.model_.search)


def test_the_auto_budget_counts_work_not_seconds():
    """"auto" bounds the search's training work (rows x epochs x width x features per row) by AUTO_SHARE of
    the rules' plan's fit: each trial's work is recomputed here from its rows."""
    model = _fit()                                   # time_budget="auto", the default
    plan, trials = model.plan_, model.model_.search
    assert len(trials) >= 2
    rows = {t["rows"] for t in trials}
    first = min(rows)
    n_train = 3000 - min(plan_search.HELD_OUT_MAX, int(plan_search.HELD_OUT_SHARE * 3000))
    assert first <= n_train and all(r in (first, min(n_train, first * plan_search.GROWTH)) for r in rows)
    again = _fit()
    assert [(t["candidate"], t["rows"], t["score"]) for t in trials] == \
           [(t["candidate"], t["rows"], t["score"]) for t in again.model_.search]


def test_search_keeps_the_rules_plan_unless_a_challenger_beats_its_noise():
    class Metric:
        higher_is_better = True
    # 0.835 on 3,000 held-out rows: one standard error is 0.0068, and the rules' plan is credited with two
    assert plan_search._merit(0.835, 0, Metric, 3000) > plan_search._merit(0.837, 1, Metric, 3000)
    assert plan_search._merit(0.835, 0, Metric, 3000) > plan_search._merit(0.845, 1, Metric, 3000)  # 1.5 SE
    assert plan_search._merit(0.835, 0, Metric, 3000) < plan_search._merit(0.85, 1, Metric, 3000)   # 2.2 SE
    Metric.higher_is_better = False                 # MAE: 1% of the rules' score
    assert plan_search._merit(100.0, 0, Metric, 3000) > plan_search._merit(99.5, 1, Metric, 3000)
    assert plan_search._merit(100.0, 0, Metric, 3000) < plan_search._merit(98.0, 1, Metric, 3000)


def _rows(n=30000, seed=7):
    rng = np.random.default_rng(seed)
    nnz = 12
    return CsrBatch(rng.integers(0, 500, n * nnz).astype(np.uint32), np.ones(n * nnz, np.float32),
                    np.arange(0, n * nnz + 1, nnz, dtype=np.int64), rng.integers(0, 2, n).astype(np.uint32),
                    np.arange(n + 1, dtype=np.int64))


def test_a_work_budget_is_never_overrun_after_the_first_rung(monkeypatch):
    """search's work budget: trials are counted (rows x epochs x width x features per row), not timed; a rung
    that the budget cannot finish is not started. Scores here are a fixed function of the plan, no training."""
    data = InMemoryData(_rows())
    plan = choose_architecture(data.n_rows, 2, "single")
    options = plan_search.candidates(plan, has_text=False, max_hidden=4096)
    assert len(options) >= 5
    done = []

    def fake(plan, rows, held, *rest):
        done.append(plan_search.work(plan, rows) + plan_search.work(replace(plan, epochs=1), held))
        return plan.learning_rate * plan.hidden_dim / plan.epochs   # a deterministic, plan-only score

    monkeypatch.setattr(plan_search, "_train_and_score", fake)
    metric = parse_metrics(None, "single")[0]
    budgets = [0.3, 1.0, 3.0]
    runs = []
    for share in budgets:
        done.clear()
        budget = share * plan_search.work(plan, data.rows)
        winner, trials = plan_search.search(options, data, "single", metric, 0, None, budget_work=budget)
        first = [t for t in trials if t.rows == trials[0].rows]
        assert len(first) == len(options)                 # the first rung is always whole
        assert len(trials) == len(first) or sum(done) <= budget
        runs.append((trials[0].rows, len(trials)))
        again = plan_search.search(options, data, "single", metric, 0, None, budget_work=budget)
        assert again[0].name == winner.name and [t.rows for t in again[1]] == [t.rows for t in trials]
    assert runs[0][0] < runs[1][0] < runs[2][0]            # more budget, more rows per trial
