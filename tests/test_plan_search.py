"""The plan search (udt.training.plan_search): deterministic, within its budget, pinned options honoured, one
candidate is a plain fit (public API, plus the search's own function for the budget)."""
import time

import numpy as np
import pytest

from udt import Classifier
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
    pinned = dict(learning_rate=1e-3, hidden_dim=64, epochs=4)
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
