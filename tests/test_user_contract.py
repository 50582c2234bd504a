"""What users of a real ML library expect, through the public API only: partial rows everywhere a row is
accepted, empty inputs, a decision threshold for two classes."""
import numpy as np
import pandas as pd
import pytest

from udt import Classifier, DataError
from classifier_data import adult_columns, adult_sample


@pytest.fixture(scope="module")
def adult():
    return Classifier(columns=adult_columns(), target="income", epochs=2, hidden_dim=32).fit(adult_sample(3000),
                                                                                               progress=False)


def test_partial_rows_are_accepted_by_every_single_row_call(adult):
    row = {"age": 39, "occupation": "Adm-clerical"}           # the other columns are missing values
    full = {name: None for name in adult_columns() if name != "income"} | row
    label = adult.predict(row)
    assert label in adult.classes_ and adult.predict(full) == label
    proba = adult.predict_proba(row)
    assert proba.shape == (1, 2) and np.allclose(proba, adult.predict_proba(pd.DataFrame([full])), atol=1e-6)
    labels, scores = adult.predict_proba(row, top_k=2)
    assert labels.shape == (1, 2) and scores[0, 0] >= scores[0, 1]
    assert adult.predict(row, top_k=2)[0] == label


def test_empty_tables_give_empty_results(adult):
    empty = adult_sample(5).iloc[:0].drop(columns="income")
    assert adult.predict(empty).shape == (0,)
    assert adult.predict_proba(empty).shape == (0, 2)
    assert adult.predict(empty, top_k=2).shape == (0, 2)
    labels, scores = adult.predict_proba(empty, top_k=2)
    assert labels.shape == scores.shape == (0, 2)
    with pytest.raises(DataError, match="no rows|none"):
        adult.evaluate(adult_sample(5).iloc[:0])
    with pytest.raises(DataError, match="no rows"):
        Classifier(columns=adult_columns(), target="income").fit(adult_sample(5).iloc[:0])


def test_threshold_moves_the_decision_of_a_binary_classifier(adult):
    table = adult_sample(4000).iloc[3000:]
    positive = adult.classes_[1]
    p = adult.predict_proba(table)[:, 1]
    default = adult.predict(table)
    assert np.array_equal(default == positive, p >= 0.5)
    adult.set_params(threshold=0.2)
    try:
        low = adult.predict(table)
        assert np.array_equal(low == positive, p >= 0.2) and (low == positive).sum() > (default == positive).sum()
        row = table.drop(columns="income").iloc[0].to_dict()
        assert adult.predict(row) == (positive if adult.predict_proba(row)[0, 1] >= 0.2 else adult.classes_[0])
    finally:
        adult.set_params(threshold=0.5)
