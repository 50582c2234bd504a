"""Sample and class weights, through the public API."""
import numpy as np
import pytest

from udt import Classifier, DataError, Regressor
from classifier_data import REGRESSION_COLUMNS, adult_columns, adult_sample, regression_table


def _imbalanced(n_positive=60, seed=0):
    """UCI Adult cut to ~3% positives."""
    table = adult_sample(4000)
    positive = table[table.income == ">50K"].sample(n_positive, random_state=seed)
    import pandas as pd
    return np.random.default_rng(seed), pd.concat([table[table.income == "<=50K"], positive]).sample(
        frac=1, random_state=seed)


def _recall(model, table):
    predicted = model.predict(table.drop(columns="income"))
    return float(np.mean(predicted[table.income.to_numpy() == ">50K"] == ">50K"))


def test_class_weight_balanced_lifts_minority_recall():
    _, train = _imbalanced()
    test = adult_sample(8000).iloc[4000:]
    kwargs = dict(columns=adult_columns(), target="income", epochs=6, hidden_dim=32)
    plain = Classifier(**kwargs).fit(train, progress=False)
    balanced = Classifier(class_weight="balanced", **kwargs).fit(train, progress=False)
    assert balanced.model_.class_weights[list(balanced.classes_).index(">50K")] > 10
    assert _recall(balanced, test) > _recall(plain, test) + 0.2, (_recall(plain, test), _recall(balanced, test))


def test_sample_weight_array_equals_class_weight_and_a_column_works_too():
    _, train = _imbalanced()
    kwargs = dict(columns=adult_columns(), target="income", epochs=2, hidden_dim=16)
    by_class = Classifier(class_weight={">50K": 5.0}, **kwargs).fit(train, progress=False)
    weights = np.where(train.income == ">50K", 5.0, 1.0)
    by_row = Classifier(**kwargs).fit(train.drop(columns="income"), train.income, sample_weight=weights,
                                      progress=False)
    by_column = Classifier(**kwargs).fit(train.assign(w=weights), sample_weight="w", progress=False)
    table = adult_sample(300)
    # sample weights are normalised to mean 1, class weights are not: same direction, different scale
    assert np.array_equal(by_row.predict_proba(table), by_column.predict_proba(table))
    assert not np.array_equal(by_row.predict_proba(table), Classifier(**kwargs).fit(train, progress=False)
                              .predict_proba(table))
    assert by_class.model_.class_weights.max() == 5.0


def test_zero_weight_rows_do_not_train():
    table = regression_table(600)
    weights = np.ones(600)
    table_noisy = table.copy()
    table_noisy.loc[:299, "y"] = 10_000.0          # garbage targets, weighted 0
    weights[:300] = 0.0
    model = Regressor(columns=REGRESSION_COLUMNS, target="y", epochs=10).fit(
        table_noisy.drop(columns="y"), table_noisy.y, sample_weight=weights, progress=False)
    assert np.abs(model.predict(table.iloc[300:]) - table.y.iloc[300:]).mean() < 10


def test_bad_weights_are_refused_clearly():
    table = adult_sample(200)
    model = Classifier(columns=adult_columns(), target="income", epochs=1)
    with pytest.raises(DataError, match="row 3.*column '__udt_sample_weight__'.*finite number >= 0"):
        model.fit(table, sample_weight=np.r_[1, 1, -1.0, np.ones(197)], progress=False)
    with pytest.raises(ValueError, match="200 rows"):
        model.fit(table, sample_weight=np.ones(5), progress=False)
    with pytest.raises(ValueError, match="not a class"):
        Classifier(columns=adult_columns(), target="income", class_weight={"rich": 2.0}).fit(table, progress=False)
    with pytest.raises(ValueError, match="class_weight"):
        Classifier(columns=adult_columns(), target="income", class_weight="equal").fit(table, progress=False)
    with pytest.raises(ValueError, match="needs classes"):
        Regressor(columns=REGRESSION_COLUMNS, target="y", class_weight="balanced").fit(regression_table(50),
                                                                                     progress=False)
