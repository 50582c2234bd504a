"""Model files of the previous content version load and predict as they did; pickle, deepcopy and joblib
go through the model file's bytes."""
import copy
import io
import pickle
from pathlib import Path

import joblib
import numpy as np
import pytest

from udt import load
from udt.model_file.estimator_file import CONTENT_VERSION
from udt.model_file.serialization import ModelFileError, load_model_file, save_model_file
from classifier_data import regression_table, sequence_table, text_table

DATA = Path(__file__).parent / "data"


def test_version_1_files_load_and_predict_as_when_saved():
    """Written by udt at 2348e49 (content version 1): tests/data/v1_*.udt with their predictions."""
    text = load(DATA / "v1_text_classifier.udt")
    assert text.featurizer_.scaling == "log-idf-l2" and text.featurizer_.idf is not None
    assert np.allclose(text.predict_proba(text_table(30, seed=5)), np.load(DATA / "v1_text_classifier_proba.npy"))
    temporal = load(DATA / "v1_temporal_classifier.udt")
    queries = sequence_table(n_users=10, length=5, n_items=8).groupby("user").tail(1).drop(columns="item")
    assert np.array_equal(temporal.predict(queries, top_k=3, exclude_seen=True).astype(str),
                          np.load(DATA / "v1_temporal_top3.npy"))
    regressor = load(DATA / "v1_regressor.udt")
    assert np.allclose(regressor.predict(regression_table(20, seed=9)), np.load(DATA / "v1_regressor_pred.npy"))


def test_a_newer_content_version_is_refused_naming_it(tmp_path):
    metadata, arrays = load_model_file(DATA / "v1_regressor.udt")
    metadata["content_version"] = CONTENT_VERSION + 1
    save_model_file(tmp_path / "new.udt", metadata, arrays)
    with pytest.raises(ModelFileError, match=f"content version {CONTENT_VERSION + 1}"):
        load(tmp_path / "new.udt")


@pytest.mark.parametrize("how", ["pickle", "deepcopy", "joblib"])
def test_fitted_models_pickle_deepcopy_and_joblib(how):
    model = load(DATA / "v1_text_classifier.udt")
    if how == "pickle":
        twin = pickle.loads(pickle.dumps(model))
    elif how == "deepcopy":
        twin = copy.deepcopy(model)
    else:
        buffer = io.BytesIO()
        joblib.dump(model, buffer)
        buffer.seek(0)
        twin = joblib.load(buffer)
    table = text_table(30, seed=5)
    assert np.array_equal(twin.predict_proba(table), model.predict_proba(table))
    assert twin.get_params() == model.get_params()
    twin.partial_fit(text_table(30, seed=6))  # the copy trains on its own
    assert not np.array_equal(twin.predict_proba(table), model.predict_proba(table))


def test_unfitted_models_pickle_too():
    from udt import Classifier
    from classifier_data import TEXT_COLUMNS
    twin = pickle.loads(pickle.dumps(Classifier(columns=TEXT_COLUMNS, target="topic", hidden_dim=8)))
    assert twin.hidden_dim == 8 and "model_" not in vars(twin)


def test_a_file_claiming_a_network_it_does_not_hold_is_refused_before_allocating(tmp_path):
    """A few KB that say input_dim=2**20, hidden_dim=1024 used to build 4.4 GB before refusing (issue 16)."""
    import resource
    metadata, arrays = load_model_file(DATA / "v1_regressor.udt")
    metadata["network"] = dict(metadata["network"], input_dim=2**20, hidden_dim=1024)
    save_model_file(tmp_path / "claims.udt", metadata, arrays)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(ModelFileError, match=r"embedding.weight.*expected \(1048576, 1024\)"):
        load(tmp_path / "claims.udt")
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200_000  # KB: nothing near 4 GB
