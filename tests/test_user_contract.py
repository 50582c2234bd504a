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


def test_timestamp_and_history_length_reach_the_featurizer():
    from classifier_data import sequence_table
    import udt.columns as col
    table = sequence_table(n_users=20, length=6, n_items=10).rename(columns={"time": "seconds"})
    columns = {"user": col.Categorical(), "item": col.Categorical(), "seconds": col.Numeric()}
    with pytest.raises(ValueError, match="timestamp=<column>"):     # the advice in this message ...
        Classifier(columns=columns, target="item", temporal={"user": ["item"]}).fit(table, progress=False)
    model = Classifier(columns=columns, target="item", temporal={"user": ["item"]}, timestamp="seconds",
                       history_length=3, hidden_dim=16, epochs=2).fit(table, progress=False)   # ... can be followed
    assert model.featurizer_.timestamp == "seconds" and model.featurizer_.history_length == 3


def test_sparse_inference_takes_a_fraction_and_label_augmentation_an_option():
    from classifier_data import many_class_table
    import udt.columns as col
    table = many_class_table(n_classes=120, per_class=4)
    model = Classifier(columns={"text": col.Text(), "label": col.Categorical()}, target="label", sparsity=0.2,
                       label_augmentation=False, input_dim=5000, hidden_dim=32, epochs=4).fit(table, progress=False)
    assert model.network_.config["label_augmentation"] is False
    wide = model.predict(table, top_k=1, sparse_inference=1.0)
    assert np.array_equal(wide, model.predict(table, top_k=1, sparse_inference=False))  # every output evaluated
    assert model.predict(table.iloc[:5], top_k=1, sparse_inference=0.05).shape == (5, 1)
    for bad in (0.0, 1.5, "yes"):
        with pytest.raises(ValueError, match="sparse_inference"):
            model.predict(table.iloc[:5], sparse_inference=bad)


def test_accuracy_of_a_multi_label_target_is_refused_not_silently_precision():
    from classifier_data import multi_label_table
    import udt.columns as col
    table = multi_label_table(200)
    model = Classifier(columns={"text": col.Text(), "topics": col.Categorical(delimiter=" ")}, target="topics",
                       input_dim=5000, hidden_dim=16, epochs=2).fit(table, progress=False)
    with pytest.raises(ValueError, match="accuracy is not defined for a multi-label target"):
        model.evaluate(table, metrics=["accuracy"])
    assert 0 <= model.evaluate(table, metrics=["precision@1"])["precision@1"] <= 1


def test_validation_fraction_holds_out_training_rows():
    from classifier_data import REGRESSION_COLUMNS, regression_table
    from udt import Regressor
    table = adult_sample(2000)
    model = Classifier(columns=adult_columns(), target="income", epochs=3, hidden_dim=16,
                       early_stopping_patience=None).fit(table, validation=0.2, progress=False)
    assert model.model_.n_train_rows == 1600 and all("val_accuracy" in row for row in model.history_)
    again = Classifier(columns=adult_columns(), target="income", epochs=3, hidden_dim=16,
                       early_stopping_patience=None).fit(table, validation=0.2, progress=False)
    assert [r["val_accuracy"] for r in again.history_] == [r["val_accuracy"] for r in model.history_]  # seeded
    regressor = Regressor(columns=REGRESSION_COLUMNS, target="y", epochs=3).fit(regression_table(500),
                                                                                 validation=0.2, progress=False)
    assert regressor.history_[-1]["val_rmse"] < 20   # scored in the target's own units (values ~100)
    for bad in (0.0, 1.0, 1.5):
        with pytest.raises(ValueError, match="validation="):
            Classifier(columns=adult_columns(), target="income").fit(table, validation=bad, progress=False)
    with pytest.raises(ValueError, match="memory_budget_mb"):
        Classifier(columns=adult_columns(), target="income", memory_budget_mb=0).fit(table, validation=0.1,
                                                                                     progress=False)


def test_a_record_batch_reader_is_a_source():
    import pyarrow as pa
    table = pa.Table.from_pandas(adult_sample(1000), preserve_index=False)
    model = Classifier(columns=adult_columns(), target="income", epochs=1, hidden_dim=16)
    model.fit(pa.RecordBatchReader.from_batches(table.schema, table.to_batches(max_chunksize=300)), progress=False)
    reader = pa.RecordBatchReader.from_batches(table.schema, table.to_batches(max_chunksize=300))
    assert np.array_equal(model.predict(reader), model.predict(table))


def test_a_target_with_a_class_for_most_rows_is_warned_about(monkeypatch):
    """Issue 16: 1M distinct classes grew to 6.4 GB silently. The rule, scaled down for a test."""
    import pandas as pd
    import udt.training.fit as fit
    monkeypatch.setattr(fit, "ID_LIKE_CLASSES", 300)
    table = pd.DataFrame({"t": [f"w{i} common" for i in range(400)], "y": [f"id{i}" for i in range(400)]})
    import udt
    with pytest.warns(UserWarning, match="400 classes for 400 training rows.*id column.*GB"):
        Classifier(columns={"t": udt.Text(), "y": udt.Categorical()}, target="y", input_dim=1000, hidden_dim=8,
                   epochs=1).fit(table, progress=False)


def test_sparse_inference_on_a_dense_output_layer_is_refused_when_fitting():
    with pytest.raises(ValueError, match="sparse_inference=True needs a sparse output layer"):
        Classifier(columns=adult_columns(), target="income", sparse_inference=True, epochs=1).fit(
            adult_sample(200), progress=False)
