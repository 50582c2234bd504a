"""Multi-label targets tokenize punctuation marks too, unless labels have a handful of rows
(udt.selection.text_tokenizer)."""
import numpy as np

import udt
from udt.selection import text_tokenizer
from classifier_data import text_table

FAST = dict(hidden_dim=32, epochs=3, batch_size=64, learning_rate=5e-3, n_threads=1)


def columns(text=None):
    return {"text": text or udt.Text(), "tags": udt.Categorical(delimiter=" ")}


def tagged(n=300, per_label=None):
    table = text_table(n)
    if per_label is None:  # 3 topics and 5 shops as labels: 60 or more rows each
        tags = table.topic + " " + table.shop
    else:                  # n / per_label distinct labels, per_label rows each
        tags = [f"t{i // per_label}" for i in range(n)]
    return table.assign(text=table.text + "! (" + table.shop + ")", tags=tags)[["text", "tags"]]


def test_the_rule_reads_the_median_label_and_keeps_declared_tokenizers():
    enough, few = text_tokenizer.WORDS_ONLY_BELOW, text_tokenizer.WORDS_ONLY_BELOW - 1
    assert text_tokenizer.wants_punctuation(columns(), "tags", "multi", enough)
    assert not text_tokenizer.wants_punctuation(columns(), "tags", "multi", few)
    assert not text_tokenizer.wants_punctuation(columns(), "tags", "single", 10_000)   # single-label: words
    assert not text_tokenizer.wants_punctuation(columns(udt.Text(tokenizer="char-3")), "tags", "multi", enough)
    mixed = dict(columns(), title=udt.Text(tokenizer="char-3", ngrams=1))
    out = text_tokenizer.punctuation_columns(mixed)
    assert out["text"] == udt.Text(tokenizer="words-punct") and out["title"] == mixed["title"]
    assert out["tags"] == udt.Categorical(delimiter=" ")


def test_multi_label_text_trains_with_punctuation_exactly_as_declared(capsys):
    table = tagged()
    auto = udt.Classifier(columns=columns(), target="tags", **FAST).fit(table, progress=False)
    assert auto.featurizer_.columns["text"] == udt.Text(tokenizer="words-punct")
    assert "text_tokenizer" in auto.plan_.reasons and auto.columns["text"] == udt.Text()
    auto.summary()
    assert "text tokenizer    words-punct" in capsys.readouterr().out
    declared = udt.Classifier(columns=columns(udt.Text(tokenizer="words-punct")), target="tags", **FAST).fit(
        table, progress=False)
    np.testing.assert_array_equal(auto.predict_proba(table.head(30)), declared.predict_proba(table.head(30)))


def test_labels_with_a_handful_of_rows_keep_words():
    model = udt.Classifier(columns=columns(), target="tags", **FAST).fit(tagged(per_label=5), progress=False)
    assert model.featurizer_.columns["text"] == udt.Text() and "text_tokenizer" not in model.plan_.reasons


def test_single_label_text_keeps_words():
    table = text_table(300)
    model = udt.Classifier(columns={"text": udt.Text(), "topic": udt.Categorical()}, target="topic", **FAST).fit(
        table[["text", "topic"]], progress=False)
    assert model.featurizer_.columns["text"].tokenizer == "words"
