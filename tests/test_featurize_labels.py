"""Targets: label vocabularies, multi-label, regression, unseen labels; save/load; config errors."""
import json
import os

import numpy as np
import pytest

from udt.columns import Categorical, Numeric, Text
from udt.errors import ConfigError, DataError
from udt.ingest.batch import CsrBatch
from udt.ingest.featurize import TableFeaturizer

ADULT = os.path.join(os.path.dirname(__file__), "data", "adult_sample.csv")


def labels_of(fb):
    return [fb.label_indices[fb.label_offsets[i]:fb.label_offsets[i + 1]].tolist() for i in range(fb.n_rows)]


def test_string_labels_sorted_and_decoded():
    data = {"t": ["a", "b", "c"], "y": ["pear", "apple", "pear"]}
    fz = TableFeaturizer({"t": Text(), "y": Categorical()}, target="y").fit(data)
    assert fz.task == "single" and fz.n_classes == 2 and list(fz.classes_) == ["apple", "pear"]
    fb = fz.transform(data)
    assert labels_of(fb) == [[1], [0], [1]] and fb.label_values is None
    assert list(fz.decode(np.array([[1, 0]]))[0]) == ["pear", "apple"]


def test_integer_labels_sort_numerically_from_text_or_ints():
    for labels in (["10", "9", "-1"], [10, 9, -1]):
        fz = TableFeaturizer({"t": Text(), "y": Categorical()}, target="y").fit({"t": ["a"] * 3, "y": labels})
        assert fz.classes_.dtype == np.int64 and list(fz.classes_) == [-1, 9, 10]
        assert labels_of(fz.transform({"t": ["a"] * 3, "y": labels})) == [[2], [1], [0]]


def test_multi_label_with_delimiter():
    data = {"t": ["a", "b"], "y": ["x y", "z"]}
    fz = TableFeaturizer({"t": Text(), "y": Categorical(delimiter=" ")}, target="y").fit(data)
    assert fz.task == "multi" and labels_of(fz.transform(data)) == [[0, 1], [2]]


def test_declared_n_classes():
    fz = TableFeaturizer({"t": Text(), "y": Categorical(n_classes=5)}, target="y").fit({"t": ["a"], "y": [3]})
    assert list(fz.classes_) == [0, 1, 2, 3, 4]
    with pytest.raises(DataError, match="outside the declared classes 0..4"):
        fz.transform({"t": ["a"], "y": [7]})


def test_unseen_label_is_counted_with_a_warning():
    fz = TableFeaturizer({"t": Text(), "y": Categorical()}, target="y").fit({"t": ["a", "b"], "y": ["x", "y"]})
    with pytest.warns(UserWarning, match="1 label value"):
        fb = fz.transform({"t": ["a", "b"], "y": ["x", "new"]})
    assert labels_of(fb) == [[0], []] and fb.n_unseen_labels == 1


def test_missing_label_is_an_error():
    with pytest.raises(DataError, match="expected a label, got a missing value") as e:
        TableFeaturizer({"t": Text(), "y": Categorical()}, target="y").fit({"t": ["a", "b"], "y": ["x", None]})
    assert e.value.row == 2 and e.value.column == "y"


def test_regression_targets():
    data = {"t": ["a", "b"], "price": ["1.5", "-2"]}
    fz = TableFeaturizer({"t": Text(), "price": Numeric()}, target="price").fit(data)
    fb = fz.transform(data)
    assert fz.task == "regression" and fz.n_classes == 1
    assert labels_of(fb) == [[0], [0]] and fb.label_values.tolist() == [1.5, -2.0]
    with pytest.raises(ConfigError, match="needs a Categorical target"):
        fz.decode([0])
    with pytest.raises(DataError, match="expected a numeric target, got 'cheap'"):
        fz.transform({"t": ["a"], "price": ["cheap"]})


def test_predict_without_target_column():
    fz = TableFeaturizer({"t": Text(), "y": Categorical()}, target="y").fit({"t": ["a"], "y": ["x"]})
    fb = next(fz.transform_batches({"t": ["a b"]}, with_labels=False))
    assert len(fb.label_indices) == 0 and fb.label_offsets.tolist() == [0, 0] and fb.n_rows == 1
    with pytest.raises(DataError, match="missing column 'y'"):
        fz.transform({"t": ["a b"]})


def test_state_round_trip_is_json_and_gives_identical_features():
    cats = ["workclass", "education", "sex", "income"]
    fz = TableFeaturizer({**{c: Categorical() for c in cats}, "age": Numeric(), "hours_per_week": Numeric()},
                         target="income", input_dim=50_000, seed=7, crosses=True).fit(ADULT)
    meta, arrays = fz.state()
    clone = TableFeaturizer.from_state(json.loads(json.dumps(meta)), arrays)
    a, b = fz.transform(ADULT), clone.transform(ADULT)
    for name in ("indices", "values", "offsets", "label_indices", "label_offsets"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert list(clone.classes_) == list(fz.classes_) and clone.crosses_ == fz.crosses_ and len(fz.crosses_) == 10


def test_batches_concatenate_to_the_whole():
    fz = TableFeaturizer({"age": Numeric(), "sex": Categorical(), "income": Categorical()}, target="income").fit(ADULT)
    whole = fz.transform(ADULT, batch_rows=1000)
    parts = CsrBatch.concat(list(fz.transform_batches(ADULT, batch_rows=7)))
    for name in ("indices", "values", "offsets", "label_indices", "label_offsets"):
        np.testing.assert_array_equal(getattr(whole, name), getattr(parts, name))
    assert whole.n_rows == 300


def test_threads_do_not_change_features():
    cols = {"age": Numeric(), "education": Categorical(), "occupation": Categorical()}
    one = TableFeaturizer(cols, n_threads=1).fit(ADULT).transform(ADULT)
    many = TableFeaturizer(cols, n_threads=4).fit(ADULT).transform(ADULT)
    np.testing.assert_array_equal(one.indices, many.indices)
    np.testing.assert_array_equal(one.offsets, many.offsets)


@pytest.mark.parametrize("kwargs, message", [
    (dict(columns={"t": Text()}, target="y"), "target 'y' is not one of the columns: t"),
    (dict(columns={"t": Text(), "y": Text()}, target="y"), "must be udt.Categorical"),
    (dict(columns={"t": "text"}), "expected a column type"),
    (dict(columns={"t": Text()}, input_dim=0), "input_dim"),
    (dict(columns={"a": Categorical(), "b": Categorical()}, crosses=[("a", "z")]), "cross"),
])
def test_configuration_errors(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        TableFeaturizer(**kwargs).fit({"t": ["x"], "y": ["1"], "a": ["1"], "b": ["2"]})


def test_transform_before_fit():
    with pytest.raises(RuntimeError, match="not fitted"):
        TableFeaturizer({"t": Text()}).transform_row({"t": "x"})
