"""udt.interfaces.explain: occlusion explanations rank a planted signal first, for tables, text and regression."""
import json

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError

import udt.columns as col
from udt.interfaces.classifier import Classifier, Regressor
from udt.interfaces.explain import Explanation, RowExplanation, explain

SMALL = dict(input_dim=20_000, hidden_dim=32, epochs=5, batch_size=64, learning_rate=5e-3)
FILLER = "the a of and with very new old big small this that some any here there".split()


def tabular_table(n=1200, seed=0):
    """`signal` alone decides the label; `noise_x`, `noise_cat`, `day` and `tags` are unrelated to it."""
    rng = np.random.default_rng(seed)
    signal = rng.choice(["red", "green", "blue"], n)
    label = pd.Series(signal).map({"red": "yes", "green": "no", "blue": "maybe"})
    tags = [";".join(rng.choice(["t1", "t2", "t3", "t4"], 2, replace=False)) for _ in range(n)]
    days = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 365, n), unit="D")
    return pd.DataFrame({"signal": signal, "noise_x": rng.normal(0, 1, n), "noise_cat": rng.choice(list("abcdef"), n),
                         "day": days.strftime("%Y-%m-%d"), "tags": tags, "label": label})


TABULAR_COLUMNS = {"signal": col.Categorical(), "noise_x": col.Numeric(), "noise_cat": col.Categorical(),
                   "day": col.Date(), "tags": col.Categorical(delimiter=";"), "label": col.Categorical()}


def text_table(n=1200, seed=1):
    """Filler documents; one planted word (zebra / walrus / falcon) decides the class."""
    rng = np.random.default_rng(seed)
    planted = {"zebra": "savanna", "walrus": "arctic", "falcon": "sky"}
    words, rows = list(planted), []
    for i in range(n):
        word = words[i % 3]
        text = list(rng.choice(FILLER, 7)) + [word]
        rng.shuffle(text)
        rows.append({"text": " ".join(text), "shop": f"shop{rng.integers(0, 4)}", "habitat": planted[word]})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def tabular():
    table = tabular_table()
    model = Classifier(columns=TABULAR_COLUMNS, target="label", **SMALL).fit(table.iloc[:1000], progress=False)
    return model, table.iloc[1000:].reset_index(drop=True)


@pytest.fixture(scope="module")
def text():
    table = text_table()
    columns = {"text": col.Text(), "shop": col.Categorical(), "habitat": col.Categorical()}
    model = Classifier(columns=columns, target="habitat", **SMALL).fit(table.iloc[:1000], progress=False)
    return model, table.iloc[1000:].reset_index(drop=True)


def test_planted_column_is_ranked_first(tabular):
    model, test = tabular
    assert model.evaluate(test, metrics=["accuracy"])["accuracy"] > 0.95
    results = explain(model, test.head(40))
    assert len(results) == 40
    assert all(r[0].column == "signal" for r in results)
    assert all(r[0].token == s for r, s in zip(results, test.signal.head(40)))  # token = the value


def test_one_row_gives_a_list_a_batch_a_list_of_lists(tabular):
    model, test = tabular
    row = test.iloc[0].to_dict()
    one = explain(model, row)
    assert isinstance(one, RowExplanation) and isinstance(one, list)
    assert all(isinstance(e, Explanation) for e in one)
    assert one.target_class == model.predict(row)
    assert one.value == pytest.approx(model.predict_proba(test.head(1))[0].max(), abs=1e-6)
    batch = explain(model, test.head(5))
    assert isinstance(batch, list) and len(batch) == 5 and all(isinstance(r, RowExplanation) for r in batch)
    assert batch[0] == one
    assert explain(model, test.iloc[0]) == one  # a pandas Series is one row too
    assert explain(model, test.head(5).to_dict("list")) == batch  # a dict of columns is a batch
    as_dicts = explain(model, test.head(5).to_dict("records"))
    assert as_dicts == batch
    assert explain(model, test.head(0)) == [] and explain(model, []) == []


def test_entries_sorted_by_score_and_target_never_explained(tabular, text):
    for model, test in (tabular, text):
        for result in explain(model, test.head(20)):  # the rows include the target column
            scores = [e.score for e in result]
            assert scores == sorted(scores, reverse=True)
            assert model.target not in {e.column for e in result}
            assert {e.column for e in result} <= set(model.columns) - {model.target}


def test_multi_valued_column_is_explained_by_value(tabular):
    model, test = tabular
    result = explain(model, test.iloc[0].to_dict())
    tags = [e.token for e in result if e.column == "tags"]
    assert sorted(tags) == sorted(test.tags[0].split(";"))
    by_column = explain(model, test.iloc[0].to_dict(), level="column")
    assert sorted(e.column for e in by_column) == ["day", "noise_cat", "noise_x", "signal", "tags"]
    assert [e.token for e in by_column if e.column == "tags"] == [None]
    assert by_column[0].column == "signal"


def test_score_is_the_drop_in_the_explained_class_probability(tabular):
    model, test = tabular
    row = test.iloc[3].drop("label").to_dict()
    result = explain(model, row, target_class="maybe")
    assert result.target_class == "maybe"
    proba = lambda r: model.predict_proba(pd.DataFrame([r]))[0][list(model.classes_).index("maybe")]  # noqa: E731
    assert result.value == pytest.approx(proba(row), abs=1e-6)
    signal = next(e for e in result if e.column == "signal")
    assert signal.score == pytest.approx(proba(row) - proba({**row, "signal": None}), abs=1e-6)
    tag = next(e for e in result if e.column == "tags")
    rest = ";".join(t for t in row["tags"].split(";") if t != tag.token)
    assert tag.score == pytest.approx(proba(row) - proba({**row, "tags": rest}), abs=1e-6)
    per_row = explain(model, test.head(3), target_class=["yes", "no", "maybe"])
    assert [r.target_class for r in per_row] == ["yes", "no", "maybe"]


def test_planted_word_is_the_top_token(text):
    model, test = text
    results = explain(model, test.head(60))
    planted = [next(w for w in t.split() if w in ("zebra", "walrus", "falcon")) for t in test.text.head(60)]
    assert [(r[0].column, r[0].token) for r in results] == [("text", w) for w in planted]
    assert all(r.target_class == h for r, h in zip(results, test.habitat.head(60)))


def test_tokens_are_the_model_words(text):
    model, _ = text
    result = explain(model, {"text": "Zebra, the ZEBRA-zebra! and of", "shop": "shop1"})
    tokens = [e.token for e in result if e.column == "text"]
    assert sorted(tokens) == ["and", "of", "the", "zebra"]  # lowercased like the featurizer, each word once
    assert result[0].token == "zebra" and result.target_class == "savanna"
    # every occurrence, in any case, is removed: the rest no longer says savanna
    proba = model.predict_proba(pd.DataFrame([{"text": ",  the -! and of", "shop": "shop1"}]))[0]
    idx = list(model.classes_).index("savanna")
    assert result[0].score == pytest.approx(result.value - proba[idx], abs=1e-6)


@pytest.mark.parametrize("tokenizer, tokens", [
    ("words-punct", ["!", ",", "the", "zebra"]),  # each punctuation character is a token too
    ("char-3", ["the", "zebra!", "zebra,"]),      # char-k columns are explained by whole words
])
def test_other_tokenizers(tokenizer, tokens):
    table = text_table(n=600)[["text", "habitat"]]
    columns = {"text": col.Text(tokenizer=tokenizer), "habitat": col.Categorical()}
    model = Classifier(columns=columns, target="habitat", **SMALL).fit(table, progress=False)
    result = explain(model, {"text": "Zebra, the zebra!"})
    assert sorted(e.token for e in result) == tokens
    planted = explain(model, table.head(30))
    assert all(r[0].token == next(w for w in t.split() if w in ("zebra", "walrus", "falcon"))
               for r, t in zip(planted, table.text.head(30)))


def test_top_columns_and_json(text):
    model, test = text
    result = explain(model, test.iloc[0].to_dict(), top=2)
    assert len(result) == 2
    only_shop = explain(model, test.iloc[0].to_dict(), columns=["shop"])
    assert [e.column for e in only_shop] == ["shop"]
    data = json.loads(json.dumps(result.as_dict()))
    assert set(data) == {"target_class", "value", "explanations"}
    assert data["explanations"][0] == {"column": "text", "token": result[0].token, "score": result[0].score}
    missing = explain(model, {"text": "zebra"})  # absent columns are missing and get no entry
    assert [e.column for e in missing] == ["text"]


def test_regressor_ranks_the_driving_column_first():
    rng = np.random.default_rng(3)
    n = 1500
    x1, x2 = rng.uniform(0, 10, n), rng.uniform(0, 10, n)
    table = pd.DataFrame({"x1": x1, "x2": x2, "color": rng.choice(["r", "g", "b"], n), "y": 50 + 8 * x1 + 0.1 * x2})
    columns = {"x1": col.Numeric(), "x2": col.Numeric(), "color": col.Categorical(), "y": col.Numeric()}
    model = Regressor(columns=columns, target="y", **SMALL).fit(table.iloc[:1200], progress=False)
    test = table.iloc[1200:].reset_index(drop=True)
    far = test[(test.x1 - 5).abs() > 2.5].head(20)  # removing x1 moves these predictions the most
    results = explain(model, far)
    assert all(r[0].column == "x1" for r in results)
    for r, (_, row) in zip(results, far.iterrows()):
        assert r.target_class is None
        assert r.value == pytest.approx(model.predict(far.loc[[row.name]])[0], rel=1e-5)
        assert "y" not in {e.column for e in r}
        magnitudes = [abs(e.score) for e in r]
        assert magnitudes == sorted(magnitudes, reverse=True)
    with pytest.raises(ValueError, match="target_class"):
        explain(model, far, target_class=1.0)


def test_clear_errors(tabular):
    model, test = tabular
    with pytest.raises(NotFittedError, match="not fitted"):
        explain(Classifier(columns=TABULAR_COLUMNS, target="label"), test.head(1))
    with pytest.raises(TypeError, match="Classifier or udt.Regressor"):
        explain(object(), test.head(1))
    with pytest.raises(ValueError, match="unknown column 'colour'.*'signal'"):
        explain(model, {"colour": "red"})
    with pytest.raises(ValueError, match="unknown column 'nope' in columns="):
        explain(model, test.head(1), columns=["nope"])
    with pytest.raises(ValueError, match="is the target"):
        explain(model, test.head(1), columns=["label"])
    with pytest.raises(ValueError, match="target_class 'purple' is not one of"):
        explain(model, test.head(1), target_class="purple")
    with pytest.raises(ValueError, match="2 labels for 3 rows"):
        explain(model, test.head(3), target_class=["yes", "no"])
    with pytest.raises(ValueError, match="level"):
        explain(model, test.head(1), level="word")
    with pytest.raises(ValueError, match="top"):
        explain(model, test.head(1), top=0)


def test_chunking_does_not_change_results(text, monkeypatch):
    import udt.interfaces.explain
    model, test = text
    whole = explain(model, test.head(12))
    monkeypatch.setattr(udt.interfaces.explain, "_CHUNK_ROWS", 5)  # a row's copies now span several model calls
    assert explain(model, test.head(12)) == whole
