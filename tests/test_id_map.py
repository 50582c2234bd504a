"""The input layer sized to the data (featurizers/src/id_map.h, udt.training.fit._size_input): the training
rows' feature ids get rows of their own, any other id shares an overflow row, and rows featurized before
the map existed are mapped exactly as the featurizer maps them afterwards."""
import numpy as np
import pandas as pd
import pytest

import udt
from udt import _core
from udt.engine import STATE
from udt.ingest.featurize import TableFeaturizer
from udt.ingest.row_scaling import scale_features
from udt.selection.model_selection import HASHED_IDS, MAX_INPUT_ROWS, id_map_shape

from classifier_data import TEXT_COLUMNS, text_table

FAST = dict(hidden_dim=32, epochs=4, batch_size=64, learning_rate=5e-3)


def test_a_first_fit_sizes_the_input_layer_to_the_distinct_feature_ids(capsys):
    model = udt.Classifier(columns=TEXT_COLUMNS, target="topic", **FAST).fit(text_table(600), progress=False)
    fz, net = model.model_.featurizer, model.network_
    vocabulary, overflow = fz.id_map
    assert fz.input_dim == HASHED_IDS and net.input_dim == fz.n_features == len(vocabulary) + overflow
    counted = np.unique(TableFeaturizer.from_state(*_without_map(fz)).transform(text_table(600)).indices)
    assert len(vocabulary) == len(counted) and set(vocabulary) == set(counted)   # each id its own row
    assert (len(vocabulary), overflow) == id_map_shape(len(counted), has_text=True)
    model.summary()
    assert f"{len(counted):,} distinct feature ids in training" in capsys.readouterr().out
    weights = net.weights()[STATE.embedding_weight]
    assert not weights[len(vocabulary):].any() and weights[:len(vocabulary)].any()   # overflow rows start at 0
    assert model.evaluate(text_table(300, seed=5), metrics=["accuracy"])["accuracy"] > 0.9


def _without_map(fz):
    meta, arrays = fz.state()
    meta = dict(meta, scaling="none")
    return meta, {k: v for k, v in arrays.items() if not k.startswith("id_map/") and k != "idf"}


def test_rows_mapped_after_featurizing_equal_rows_featurized_with_the_map():
    """Training maps rows it featurized before the map existed; prediction featurizes with it. They must agree,
    also where a row's ids meet in an overflow row (a vocabulary far smaller than the data forces that)."""
    fz = TableFeaturizer(TEXT_COLUMNS, target="topic", input_dim=HASHED_IDS).fit(text_table(300))
    table = text_table(300, seed=3)
    before = fz.transform(table)
    counter = _core.featurizers.VocabularyCounter()
    counter.add(before.indices)
    fz.set_id_map(counter.choose(10), 3)                  # 10 own rows, everything else in 3 shared rows
    n_hashed = len(before.indices)
    mapped = fz.map_rows(before)
    direct = fz.transform(table)
    assert np.array_equal(mapped.offsets, direct.offsets) and np.array_equal(mapped.indices, direct.indices)
    np.testing.assert_array_equal(mapped.values, direct.values)
    assert mapped.indices.max() < 13 and len(mapped.indices) < n_hashed   # overflow ids merged
    for r in range(direct.n_rows):                        # ... so each row holds an id once
        ids = direct.indices[direct.offsets[r]:direct.offsets[r + 1]]
        assert len(ids) == len(set(ids))
    fz.set_scaling("log-l2")
    row = table.iloc[0].to_dict()
    ids, values = fz.transform_row(row)
    first = slice(direct.offsets[0], direct.offsets[1])
    assert ids.tolist() == direct.indices[first].tolist()
    np.testing.assert_allclose(values, scale_features(direct.values[first], np.array([0, len(ids)]), "log-l2"))


def test_the_vocabulary_keeps_the_most_frequent_ids_first():
    counter = _core.featurizers.VocabularyCounter()
    counter.add(np.array([5, 9, 7, 9, 7, 9], np.uint32))
    counter.add(np.array([3], np.uint32))
    assert counter.n_distinct == 4
    assert counter.choose(10).tolist() == [9, 7, 5, 3]    # by count, ties by first appearance
    assert counter.choose(2).tolist() == [9, 7]
    with pytest.raises(ValueError, match="twice"):
        TableFeaturizer(TEXT_COLUMNS, target="topic").fit(text_table(30)).set_id_map(np.array([4, 4]), 2)
    with pytest.raises(udt.errors.ConfigError, match="overflow"):
        TableFeaturizer(TEXT_COLUMNS, target="topic").fit(text_table(30)).set_id_map(np.array([4]), 0)


def test_id_map_shape_caps_the_rows():
    assert id_map_shape(731, has_text=False) == (731, 91)
    assert id_map_shape(3, has_text=False) == (3, 16)
    cap = MAX_INPUT_ROWS[True]
    assert id_map_shape(5_000_000, has_text=True) == (0, cap)    # past the cap: every id hashed into it


def test_values_first_seen_in_continued_training_learn_in_overflow_rows(tmp_path):
    rng = np.random.default_rng(0)

    def table(shops, n):
        shop = rng.choice(shops, n)
        return pd.DataFrame({"shop": shop, "label": np.where(np.isin(shop, shops[::2]), "even", "odd")})

    columns = {"shop": udt.Categorical(), "label": udt.Categorical()}
    model = udt.Classifier(columns=columns, target="label", **FAST).fit(table(["a", "b", "c", "d"], 400),
                                                                         progress=False)
    vocabulary, overflow = model.model_.featurizer.id_map
    new = table(["w", "x", "y", "z"], 400)
    model.save(tmp_path / "m.udt")
    loaded = udt.load(tmp_path / "m.udt")
    assert np.array_equal(loaded.model_.featurizer.id_map[0], vocabulary)
    assert (loaded.predict(new) == model.predict(new)).all()
    for _ in range(3):
        loaded.partial_fit(new, progress=False)
    assert loaded.network_.input_dim == len(vocabulary) + overflow          # the layer keeps its size
    assert loaded.network_.weights()[STATE.embedding_weight][len(vocabulary):].any()   # new ids trained
    assert (loaded.predict(new) == new["label"]).mean() > 0.95


def test_a_set_input_dim_hashes_without_a_map():
    model = udt.Classifier(columns=TEXT_COLUMNS, target="topic", input_dim=5000, **FAST).fit(text_table(200),
                                                                                             progress=False)
    assert model.model_.featurizer.id_map is None and model.network_.input_dim == 5000


def test_counting_stops_past_the_vocabulary_limit_and_hashing_takes_over(monkeypatch):
    counter = _core.featurizers.VocabularyCounter(3)
    counter.add(np.array([1, 2, 3, 4, 5, 6], np.uint32))
    assert counter.saturated and counter.n_distinct == 4            # stopped at limit + 1
    import udt.selection.model_selection as ms
    monkeypatch.setitem(ms.MAX_INPUT_ROWS, True, 32)              # a text table of at most 32 rows
    assert ms.vocabulary_limit(True) == 16 and ms.id_map_shape(17, True) == (0, 32)   # 16 + 16 overflow rows
    model = udt.Classifier(columns=TEXT_COLUMNS, target="topic", **FAST).fit(text_table(300), progress=False)
    assert model.featurizer_.distinct_ids_ is None                  # more distinct ids than the limit
    vocabulary, overflow = model.model_.featurizer.id_map
    assert len(vocabulary) == 0 and overflow == 32 == model.network_.input_dim   # plain hashing into the cap
    assert model.network_.weights()[STATE.embedding_weight].any()               # trained rows, not zeroed
    assert model.evaluate(text_table(300, seed=5), metrics=["accuracy"])["accuracy"] > 0.6
