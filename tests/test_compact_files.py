"""Deployment forms of the model file: without optimizer state, with bfloat16 or int8 weights."""
import os

import numpy as np
import pytest

from udt import Classifier, load
from classifier_data import TEXT_COLUMNS, SMALL, adult_columns, adult_sample, text_table


@pytest.fixture(scope="module")
def model():
    return Classifier(columns=TEXT_COLUMNS, target="topic", **SMALL).fit(text_table(600), progress=False)


def test_without_optimizer_state_the_file_is_a_third_and_predicts_the_same(model, tmp_path):
    model.save(tmp_path / "full.udt")
    model.save(tmp_path / "inference.udt", optimizer_state=False)
    full, small = os.path.getsize(tmp_path / "full.udt"), os.path.getsize(tmp_path / "inference.udt")
    assert small < 0.4 * full
    table = text_table(200, seed=3)
    served = load(tmp_path / "inference.udt")
    assert np.array_equal(served.predict_proba(table), model.predict_proba(table))
    with pytest.raises(ValueError, match="saved without its optimizer state"):
        served.partial_fit(text_table(50))
    served.save(tmp_path / "again.udt")   # an inference-only model saves as one
    assert os.path.getsize(tmp_path / "again.udt") == small


@pytest.mark.parametrize("precision, ratio, tolerance", [("bfloat16", 0.55, 5e-3), ("int8", 0.3, 2e-2)])
def test_reduced_precision_weights(model, tmp_path, precision, ratio, tolerance):
    model.save(tmp_path / "f32.udt", optimizer_state=False)
    model.save(tmp_path / "small.udt", optimizer_state=False, precision=precision)
    assert os.path.getsize(tmp_path / "small.udt") < ratio * os.path.getsize(tmp_path / "f32.udt")
    table = text_table(200, seed=3)
    small = load(tmp_path / "small.udt")
    assert np.abs(small.predict_proba(table) - model.predict_proba(table)).max() < tolerance
    assert (small.predict(table) == model.predict(table)).mean() > 0.99
    weights = small.network_.weights()["embedding.weight"]
    assert weights.dtype == np.float32  # widened for the engine


def test_a_bad_precision_is_refused(model, tmp_path):
    with pytest.raises(ValueError, match="precision='float16'"):
        model.save(tmp_path / "x.udt", precision="float16")
