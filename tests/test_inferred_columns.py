"""Column types inferred from the data, and array-like input (public API only)."""
import numpy as np
import pandas as pd
import pytest

import udt
from udt import Classifier, Regressor, load
from classifier_data import adult_sample, regression_table, text_table


def test_types_are_inferred_when_columns_are_omitted(tmp_path, capsys):
    table = text_table(600)
    table["tags"] = ["a;b", "b;c", "c", "a;c", "b"] * 120
    table["added"] = pd.date_range("2024-01-01", periods=600, freq="h").strftime("%Y-%m-%dT%H:%M")
    model = Classifier(target="topic", hidden_dim=16, epochs=4).fit(table, progress=False)
    columns = model.featurizer_.columns
    # 600 rows: the default bins are coarsened to what they fill (udt.selection.numeric_resolution); 200 rows
    # per class: unigrams (udt.selection.text_ngrams)
    assert columns["text"] == udt.Text(ngrams=1) and columns["price"] == udt.Numeric(bins=(4,))
    assert columns["shop"] == udt.Categorical()
    assert columns["tags"] == udt.Categorical(delimiter=";") and columns["added"] == udt.Date()
    assert columns["topic"] == udt.Categorical() and model.columns is None   # the constructor's value is kept
    assert model.score(table.drop(columns="topic"), table["topic"]) > 0.9
    model.summary()
    out = capsys.readouterr().out
    assert "text=Text(" in out and "tags=Categorical(delimiter=';'" in out and out.count("(inferred)") == 6
    model.save(tmp_path / "m.udt")
    assert load(tmp_path / "m.udt").featurizer_.columns == columns


def test_summary_marks_inferred_columns(capsys):
    model = Classifier(columns={"text": udt.Text(), "price": None}, target="topic", hidden_dim=16,
                       epochs=2).fit(text_table(300), progress=False)
    model.summary()
    out = capsys.readouterr().out
    assert "price=Numeric(" in out and "(inferred)" in out and "shop" not in model.featurizer_.columns  # partial


def test_a_regressor_infers_a_numeric_target():
    table = regression_table(400)
    model = Regressor(target="y", epochs=3).fit(table, progress=False)
    assert model.featurizer_.columns["y"] == udt.Numeric() and model.featurizer_.columns["color"] == udt.Categorical()


def test_numpy_input_fits_and_predicts():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 3))
    y = np.where(X[:, 0] + 0.5 * X[:, 1] > 0, "pos", "neg")
    model = Classifier(epochs=5).fit(X, y, progress=False)
    assert list(model.featurizer_.input_names) == ["x0", "x1", "x2"] and model.n_features_in_ == 3
    assert model.predict(X).shape == (400,) and (model.predict(X) == y).mean() > 0.9
    assert model.predict_proba(X[:5].tolist()).shape == (5, 2)
    with pytest.raises(ValueError, match="X has 2 features, but Classifier is expecting 3 features as input"):
        model.predict(X[:, :2])
    with pytest.raises(ValueError, match="2-d array"):
        Classifier().fit(X[:, 0], y)
    regressor = Regressor(epochs=5).fit(X, X[:, 0] * 3.0, progress=False)
    assert np.corrcoef(regressor.predict(X), X[:, 0])[0, 1] > 0.8  # 400 rows, 5 epochs: 0.87


def test_a_target_is_needed():
    with pytest.raises(ValueError, match="requires y to be passed"):
        Classifier().fit(adult_sample(50))
