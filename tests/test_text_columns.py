"""Text columns tokenized by the rows per class: unigrams for few, no punctuation for a handful
(udt.selection.text_columns)."""
import numpy as np
import pandas as pd
import pytest

import udt
from udt.ingest.labels import LabelEncoder
from udt.ingest.featurize import TableFeaturizer
from udt.selection import text_columns
from classifier_data import text_table

FAST = dict(hidden_dim=32, epochs=3, batch_size=64, learning_rate=5e-3, n_threads=1)


def columns(text=None):
    return {"text": text or udt.Text(), "shop": udt.Categorical(), "topic": udt.Categorical()}


def fitted(cols, task, counts):
    return text_columns.fitted_columns(cols, "topic", task, np.asarray(counts))


def test_the_rules_read_the_median_class_and_keep_declared_values():
    assert text_columns.median_rows_per_class(np.array([0, 5, 300, 1000, 0])) == 300  # absent classes ignored
    few, handful = text_columns.UNIGRAMS_BELOW - 1, text_columns.WORDS_ONLY_BELOW - 1
    out, why = fitted(columns(), "single", [few] * 3)
    assert out["text"] == udt.Text(ngrams=1) and set(why) == {"text_ngrams"} and out["shop"] == udt.Categorical()
    assert fitted(columns(), "single", [few + 1] * 3) == (columns(), {})
    out, why = fitted(columns(), "single", [handful] * 3)
    assert out["text"] == udt.Text(ngrams=1, tokenizer="words") and set(why) == {"text_ngrams", "text_tokenizer"}
    out, why = fitted(columns(), "multi", [handful] * 3)               # labels: punctuation only (measured)
    assert out["text"] == udt.Text(tokenizer="words") and set(why) == {"text_tokenizer"}
    assert fitted(columns(), "multi", [few] * 3) == (columns(), {})
    declared = columns(udt.Text(ngrams=3, tokenizer="char-3", lowercase=False))
    assert fitted(declared, "single", [1] * 3) == (declared, {})      # declared values are kept
    assert fitted(columns(), "regression", [1]) == (columns(), {})
    assert fitted({"shop": udt.Categorical(), "topic": udt.Categorical()}, "single", [1]) == (
        {"shop": udt.Categorical(), "topic": udt.Categorical()}, {})  # no text
    two = dict(columns(), title=udt.Text(tokenizer="words"))
    out, why = fitted(two, "single", [handful] * 3)                   # each column by its own declaration
    assert out["text"] == udt.Text(ngrams=1, tokenizer="words") and out["title"] == udt.Text(ngrams=1, tokenizer="words")


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
    assert model.featurizer_.columns["text"] == cols["text"] and "text_ngrams" not in model.plan_.reasons


def test_a_handful_of_rows_per_class_drops_punctuation(capsys):
    table = text_table(300).assign(topic=lambda t: [f"{x}{i % 60}" for i, x in enumerate(t.topic)])  # 5 rows each
    model = udt.Classifier(columns=columns(), target="topic", **FAST).fit(table, progress=False)
    assert model.featurizer_.columns["text"] == udt.Text(ngrams=1, tokenizer="words")
    model.summary()
    out = capsys.readouterr().out
    assert "text tokenizer    words" in out and "text n-grams      1" in out
    again = udt.Classifier(columns=columns(udt.Text(tokenizer="words", ngrams=1)), target="topic", **FAST).fit(
        table, progress=False)
    np.testing.assert_array_equal(model.predict_proba(table.head(20)), again.predict_proba(table.head(20)))
