"""Text columns at unigrams when the median class has few training rows (udt.selection.text_ngrams)."""
import numpy as np
import pandas as pd
import pytest

import udt
from udt.ingest.labels import LabelEncoder
from udt.ingest.featurize import TableFeaturizer
from udt.selection import text_ngrams
from classifier_data import text_table

FAST = dict(hidden_dim=32, epochs=3, batch_size=64, learning_rate=5e-3, n_threads=1)


def columns(text=None):
    return {"text": text or udt.Text(), "shop": udt.Categorical(), "topic": udt.Categorical()}


def test_the_rule_counts_the_median_class_and_keeps_declared_ngrams():
    assert text_ngrams.median_rows_per_class(np.array([0, 5, 300, 1000, 0])) == 300  # absent classes ignored
    below, at = text_ngrams.UNIGRAMS_BELOW - 1, text_ngrams.UNIGRAMS_BELOW
    assert text_ngrams.wants_unigrams(columns(), "topic", "single", below)
    assert not text_ngrams.wants_unigrams(columns(), "topic", "single", at)
    assert not text_ngrams.wants_unigrams(columns(), "topic", "multi", below)        # measured on single-label only
    assert not text_ngrams.wants_unigrams(columns(udt.Text(ngrams=3)), "topic", "single", below)   # declared
    assert not text_ngrams.wants_unigrams({"shop": udt.Categorical(), "topic": udt.Categorical()}, "topic",
                                          "single", below)                           # no text
    out = text_ngrams.unigram_columns(columns(udt.Text(tokenizer="char-3", lowercase=False)))
    assert out["text"] == udt.Text(tokenizer="char-3", ngrams=1, lowercase=False) and out["shop"] == udt.Categorical()
    mixed = dict(columns(), title=udt.Text(ngrams=3))                  # each column by its own declaration
    assert text_ngrams.wants_unigrams(mixed, "topic", "single", below)
    out = text_ngrams.unigram_columns(mixed)
    assert out["text"] == udt.Text(ngrams=1) and out["title"] == udt.Text(ngrams=3)


def test_the_statistics_pass_counts_rows_per_class():
    fz = TableFeaturizer(columns(), target="topic").fit(pd.DataFrame(
        {"text": ["a"] * 6, "shop": ["s"] * 6, "topic": ["b", "a", "b", "c", "b", "a"]}), classes=["z"])
    assert list(fz.labels_.classes_) == ["a", "b", "c", "z"] and fz.labels_.counts_.tolist() == [2, 3, 1, 0]
    declared = TableFeaturizer({"text": udt.Text(), "y": udt.Categorical(n_classes=3)}, target="y").fit(
        pd.DataFrame({"text": ["a"] * 4, "y": [2, 0, 2, 2]}))
    assert declared.labels_.counts_.tolist() == [1, 0, 3]
    back = TableFeaturizer.from_state(*fz.state())
    assert back.labels_.counts_ is None  # a loaded model has no statistics pass to count


def test_few_rows_per_class_train_on_unigrams_exactly_as_declared_unigrams(tmp_path, capsys):
    table = text_table(300)  # 3 topics, 100 rows each
    auto = udt.Classifier(columns=columns(), target="topic", **FAST).fit(table, progress=False)
    assert auto.featurizer_.columns["text"] == udt.Text(ngrams=1)
    assert "text_ngrams" in auto.plan_.reasons and auto.columns["text"] == udt.Text()   # the declared spec is kept
    auto.summary()
    assert "text n-grams      1" in capsys.readouterr().out
    declared = udt.Classifier(columns=columns(udt.Text(ngrams=1)), target="topic", **FAST).fit(table, progress=False)
    assert "text_ngrams" not in declared.plan_.reasons
    test = text_table(60, seed=4)
    np.testing.assert_array_equal(auto.predict_proba(test), declared.predict_proba(test))
    assert auto.score(test.drop(columns="topic"), test.topic) > 0.9
    auto.save(tmp_path / "m.udt")
    loaded = udt.load(tmp_path / "m.udt")
    assert loaded.featurizer_.columns["text"] == udt.Text(ngrams=1)
    np.testing.assert_array_equal(loaded.predict_proba(test), auto.predict_proba(test))
    loaded.partial_fit(test, progress=False)  # continued training keeps the featurizer
    assert loaded.featurizer_.columns["text"] == udt.Text(ngrams=1)


def test_streamed_rows_get_the_same_featurizer(tmp_path):
    table = text_table(300)
    table.to_csv(tmp_path / "t.csv", index=False)
    streamed = udt.Classifier(columns=columns(), target="topic", memory_budget_mb=0, **FAST).fit(
        str(tmp_path / "t.csv"), progress=False)
    assert streamed.featurizer_.columns["text"] == udt.Text(ngrams=1)


@pytest.mark.parametrize("case", ["many rows per class", "declared bigrams of 3", "multi-label", "regression"])
def test_bigrams_are_kept(case):
    if case == "many rows per class":
        table, cols, target = text_table(1500), columns(), "topic"   # 500 rows per class
    elif case == "declared bigrams of 3":
        table, cols, target = text_table(300), columns(udt.Text(ngrams=3)), "topic"
    elif case == "multi-label":
        table = text_table(300).assign(topic=lambda t: t.topic + " " + t.shop)
        cols, target = dict(columns(), topic=udt.Categorical(delimiter=" ")), "topic"
    else:
        table, cols, target = text_table(300), dict(columns(), price=udt.Numeric()), "price"
    model = (udt.Regressor if case == "regression" else udt.Classifier)(columns=cols, target=target, **FAST)
    model.fit(table, progress=False)
    assert model.featurizer_.columns["text"].ngrams == cols["text"].ngrams and "text_ngrams" not in model.plan_.reasons
