"""Continued training with labels the model has never seen grows the output layer (public API only)."""
import warnings

import numpy as np
import pytest

import udt.columns as col
from udt import Classifier, load
from classifier_data import WORDS, many_class_table, text_table


def test_new_labels_in_partial_fit_grow_the_output_layer(tmp_path):
    table = text_table(600)
    first = table[table.topic != "food"]
    model = Classifier(columns={"text": col.Text(), "topic": col.Categorical()}, target="topic", input_dim=5000,
                       hidden_dim=32, epochs=6).fit(first, progress=False)
    assert list(model.classes_) == ["sports", "tech"]
    before = model.predict_proba(first.iloc[:50])
    with pytest.warns(UserWarning, match=r"1 new label\(s\) \('food'\); the output layer grew from 2 to 3"):
        model.partial_fit(table)
    assert list(model.classes_) == ["sports", "tech", "food"] and model.network_.output_dim == 3
    for _ in range(5):
        model.partial_fit(table)
    food = table[table.topic == "food"]
    assert (model.predict(food) == "food").mean() > 0.9       # nothing dropped: the new class is learned
    assert (model.predict(first) == first.topic).mean() > 0.9  # and the old ones kept
    model.save(tmp_path / "grown.udt")
    assert list(load(tmp_path / "grown.udt").classes_) == ["sports", "tech", "food"]


def test_a_sparse_output_layer_grows_its_lsh_tables():
    table = many_class_table(n_classes=200, per_class=6)
    labels = sorted(table.label.unique())
    old = table[table.label.isin(labels[:150])]
    model = Classifier(columns={"text": col.Text(), "label": col.Categorical()}, target="label", sparsity=0.1,
                       input_dim=5000, hidden_dim=32, epochs=8, learning_rate=1e-2).fit(old, progress=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        for _ in range(8):
            model.partial_fit(table)
    assert model.network_.output_dim == 200 and model.network_.lsh_params is not None
    new = table[~table.label.isin(labels[:150])]
    assert (model.predict(new, sparse_inference=False) == new.label).mean() > 0.8
    assert (model.predict(new, sparse_inference=True) == new.label).mean() > 0.6


def test_continued_training_with_the_centroid_head_keeps_its_accuracy():
    """Regression: every partial_fit re-centred the head and trained on from centroid rows (1.0 -> 0.34)."""
    table = many_class_table(n_classes=200, per_class=6)
    model = Classifier(columns={"text": col.Text(), "label": col.Categorical()}, target="label", sparsity=0.1,
                       input_dim=5000, hidden_dim=32, epochs=8, learning_rate=1e-2).fit(table, progress=False)
    assert model.model_.output_head["output_head"] == "centroid"
    for _ in range(8):
        model.partial_fit(table)
    assert (model.predict(table, sparse_inference=False) == table.label).mean() > 0.95
