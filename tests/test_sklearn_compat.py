"""Classifier and Regressor as scikit-learn estimators: params, clone, Pipeline, cross_val_score, GridSearchCV."""
import numpy as np
import pytest
from sklearn.base import clone, is_classifier, is_regressor
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from udt.interfaces.classifier import Classifier, Regressor
from classifier_data import REGRESSION_COLUMNS, SMALL, TEXT_COLUMNS, regression_table, text_table


@pytest.fixture(scope="module")
def xy():
    table = text_table(600)
    return table.drop(columns="topic"), table["topic"]


def test_types_and_constructor_stores_params_as_given():
    assert is_classifier(Classifier()) and is_regressor(Regressor())
    model = Classifier(columns="not validated yet", target=42, hidden_dim=-1)
    assert model.columns == "not validated yet" and model.hidden_dim == -1  # fit validates, not __init__


def test_get_params_set_params_round_trip():
    model = Classifier(columns=TEXT_COLUMNS, target="topic", **SMALL)
    params = model.get_params()
    assert params["hidden_dim"] == SMALL["hidden_dim"] and params["target"] == "topic"
    other = Classifier().set_params(**params)
    assert other.get_params() == params
    with pytest.raises(ValueError, match="Invalid parameter"):
        model.set_params(hiden_dim=3)


def test_clone_copies_params_and_no_learned_state(xy):
    model = Classifier(columns=TEXT_COLUMNS, target="topic", **SMALL).fit(*xy, progress=False)
    copy = clone(model)
    assert copy.get_params().keys() == model.get_params().keys()
    assert copy.columns == model.columns and copy.columns is not model.columns
    assert not hasattr(copy, "network_")


def test_score_is_accuracy(xy):
    X, y = xy
    model = Classifier(columns=TEXT_COLUMNS, target="topic", **SMALL).fit(X, y, progress=False)
    assert model.score(X, y) == pytest.approx(np.mean(model.predict(X) == y.to_numpy()))


def test_pipeline(xy):
    X, y = xy
    shout = FunctionTransformer(lambda frame: frame.assign(text=frame["text"].str.upper()))
    pipe = Pipeline([("prepare", shout), ("udt", Classifier(columns=TEXT_COLUMNS, target="topic", **SMALL))])
    pipe.fit(X, y)
    assert pipe.score(X, y) > 0.9


def test_cross_val_score(xy):
    X, y = xy
    scores = cross_val_score(Classifier(columns=TEXT_COLUMNS, target="topic", **SMALL), X, y,
                             cv=KFold(3, shuffle=True, random_state=0))
    assert len(scores) == 3 and np.all(scores > 0.9)


def test_grid_search(xy):
    X, y = xy
    search = GridSearchCV(Classifier(columns=TEXT_COLUMNS, target="topic", **SMALL),
                          {"hidden_dim": [8, 32], "learning_rate": [5e-3]}, cv=2)
    search.fit(X, y)
    assert search.best_params_["hidden_dim"] in (8, 32) and search.best_score_ > 0.9
    assert search.best_estimator_.predict(X.iloc[:3]).shape == (3,)


def test_regressor_in_cross_val_score():
    table = regression_table(900)
    scores = cross_val_score(Regressor(columns=REGRESSION_COLUMNS, target="y", input_dim=5000, hidden_dim=32,
                                       epochs=15, batch_size=64), table.drop(columns="y"), table["y"], cv=3)
    assert np.all(scores > 0.8)  # R^2


def test_fit_x_y_with_validation_tuple(xy):
    X, y = xy
    model = Classifier(columns=TEXT_COLUMNS, target="topic", **SMALL)
    model.fit(X.iloc[:400], y.iloc[:400], validation=(X.iloc[400:], y.iloc[400:]), metrics=["accuracy"],
              progress=False)
    assert model.history_[-1]["val_accuracy"] > 0.9


# scikit-learn's own estimator checks, run on both estimators at their defaults. Every check passes but
# these, each with the reason it cannot (scikit-learn's own SGD estimators list the same one).
CANNOT_PASS = {
    "check_sample_weight_equivalence_on_dense_data":
        "training is mini-batch SGD over a shuffled epoch: a row of weight 2 takes one step of twice the "
        "gradient, its duplicate two steps in different batches, and a row of weight 0 still takes a batch "
        "slot, so the two fits agree in expectation, not to 1e-7 (tests/test_weights.py checks the effect)",
}


def _expected_failed_checks(estimator):
    return CANNOT_PASS


from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402


@parametrize_with_checks([Classifier(), Regressor()], expected_failed_checks=_expected_failed_checks)
def test_scikit_learn_estimator_checks(estimator, check):
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        check(estimator)
