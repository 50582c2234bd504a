"""Each column type's features on hand-made rows: exact ids, salts, determinism."""
import os
import subprocess
import sys

import numpy as np
import pytest

import featurize_reference as ref
from udt.columns import Categorical, ColumnSpec, Date, Neighbors, NodeId, Numeric, Sequence, Text
from udt.errors import ConfigError, DataError
from udt.ingest.featurize import TableFeaturizer

DIM = 100_000


def fitted(columns, data, **kw):
    return TableFeaturizer(columns, input_dim=kw.pop("input_dim", DIM), crosses=kw.pop("crosses", False), **kw).fit(data)


def ids(fz, row):
    return set(fz.transform_row(row)[0].tolist())


def test_categorical_ids_match_reference_hash():
    fz = fitted({"color": Categorical()}, {"color": ["red", "blue"]})
    assert ids(fz, {"color": "red"}) == {ref.categorical_id("color", "red", DIM)}
    assert ids(fz, {"color": " red "}) == ids(fz, {"color": "red"})  # surrounding spaces do not matter


def test_integer_and_string_categories_hash_alike():
    fz = fitted({"zip": Categorical()}, {"zip": ["1", "2"]})
    assert ids(fz, {"zip": 94110}) == ids(fz, {"zip": "94110"}) == ids(fz, {"zip": 94110.0})


def test_text_unigrams_and_bigrams_exact():
    fz = fitted({"t": Text()}, {"t": ["x"]})
    idx, val = fz.transform_row({"t": "Hello, World"})
    expected = {ref.text_unigram_id("t", "hello", DIM), ref.text_unigram_id("t", "world", DIM),
                ref.text_bigram_id("t", "hello", "world", DIM)}
    assert set(idx.tolist()) == expected
    assert np.all(val == 1.0)
    normalized = fitted({"t": Text(normalize=True)}, {"t": ["x"]}).transform_row({"t": "Hello, World"})[1]
    np.testing.assert_allclose(normalized, 1 / np.sqrt(3), rtol=1e-6)  # unit L2 norm


def test_text_counts_repeated_tokens_and_ids_are_unique():
    spam = ref.text_unigram_id("t", "spam", DIM)
    raw = fitted({"t": Text(ngrams=1)}, {"t": ["x"]})
    idx, val = raw.transform_row({"t": "spam spam spam eggs"})
    assert len(set(idx.tolist())) == len(idx)  # each id once
    assert dict(zip(idx.tolist(), val.tolist()))[spam] == 3.0
    normalized = fitted({"t": Text(ngrams=1, normalize=True)}, {"t": ["x"]})
    idx, val = normalized.transform_row({"t": "spam spam spam eggs"})
    damped = 1 + np.log(3)  # counts are damped, then the column is scaled to unit L2 norm
    assert dict(zip(idx.tolist(), val.tolist()))[spam] == pytest.approx(damped / np.sqrt(damped**2 + 1))


def test_lowercase_option():
    lower = fitted({"t": Text(ngrams=1)}, {"t": ["x"]})
    cased = fitted({"t": Text(ngrams=1, lowercase=False)}, {"t": ["x"]})
    assert ids(lower, {"t": "Apple"}) == ids(lower, {"t": "apple"})
    assert ids(cased, {"t": "Apple"}) != ids(cased, {"t": "apple"})


def test_words_punct_keeps_punctuation_tokens():
    words = fitted({"t": Text(ngrams=1)}, {"t": ["x"]})
    punct = fitted({"t": Text(tokenizer="words-punct", ngrams=1)}, {"t": ["x"]})
    assert len(ids(words, {"t": "wait!"})) == 1
    assert ids(punct, {"t": "wait!"}) == {ref.text_unigram_id("t", "wait", DIM), ref.text_unigram_id("t", "!", DIM)}


def test_char_k_grams_are_code_points():
    fz = fitted({"t": Text(tokenizer="char-3", ngrams=1)}, {"t": ["x"]})
    assert ids(fz, {"t": "abcd"}) == {ref.text_unigram_id("t", "abc", DIM), ref.text_unigram_id("t", "bcd", DIM)}
    # "é" is two UTF-8 bytes but one code point: "héllo" has 3 trigrams, and spaces runs fold.
    assert len(ids(fz, {"t": "héll"})) == 2
    assert ids(fz, {"t": "a  b"}) == ids(fz, {"t": "a b"})


def test_salts_keep_columns_apart():
    fz = fitted({"a": Categorical(), "b": Categorical()}, {"a": ["x"], "b": ["x"]})
    assert not ids(fz, {"a": "x"}) & ids(fz, {"b": "x"})


def test_seed_changes_ids():
    a = fitted({"c": Categorical()}, {"c": ["x"]}, seed=0)
    b = fitted({"c": Categorical()}, {"c": ["x"]}, seed=1)
    assert ids(a, {"c": "x"}) != ids(b, {"c": "x"})


def test_multi_valued_categorical():
    fz = fitted({"tags": Categorical(delimiter=";")}, {"tags": ["a;b"]})
    assert ids(fz, {"tags": "a; b;;"}) == {ref.categorical_id("tags", "a", DIM), ref.categorical_id("tags", "b", DIM)}


def test_numeric_bins_scaled_value_and_missing():
    fz = fitted({"x": Numeric(bins=(2, 4), interpolate=False)}, {"x": [0.0, 10.0]})
    idx, val = fz.transform_row({"x": 7.5})
    assert len(idx) == 3  # one bin per resolution + the scaled value
    assert sorted(val.tolist()) == [0.75, 1.0, 1.0]
    assert len(ids(fz, {"x": 6.0}) & ids(fz, {"x": 9.9})) == 2  # same coarse bin [5, 10) + the scaled-value id
    assert ids(fz, {"x": 6.0}) != ids(fz, {"x": 9.9})  # different fine bins [5, 7.5) and [7.5, 10]
    missing = ids(fz, {"x": None})
    assert len(missing) == 1 and ids(fz, {"x": "NaN"}) == missing == ids(fz, {"x": float("nan")}) == ids(fz, {})
    assert fz.numeric_ranges_["x"] == (0.0, 10.0)


def weights(fz, row) -> dict:
    idx, val = fz.transform_row(row)
    out = {}
    for i, v in zip(idx.tolist(), val.tolist()):
        out[i] = out.get(i, 0.0) + v
    return out


def test_numeric_interpolated_bins_weigh_the_two_nearest_bin_centres():
    # Position x / 10; bin centres of the 4-bin resolution at 1.25, 3.75, 6.25, 8.75, of the 2-bin one at 2.5, 7.5.
    fz = fitted({"x": Numeric(bins=(2, 4))}, {"x": [0.0, 10.0]})
    assert fz.columns["x"].interpolate  # the default
    hard = fitted({"x": Numeric(bins=(2, 4), interpolate=False)}, {"x": [0.0, 10.0]})
    scaled = weights(fz, {"x": 0.1}).keys() & weights(fz, {"x": 10.0}).keys()
    assert len(scaled) == 1
    for x in (0.0, 1.25, 2.0, 5.0, 6.0, 7.5, 9.0, 10.0):
        w = weights(fz, {"x": x})
        w.pop(next(iter(scaled)), None)
        assert sum(w.values()) == pytest.approx(2.0)  # each resolution's weights sum to 1
        assert all(0.0 < v <= 1.0 for v in w.values())
    # At a bin centre, below the first centre and above the last: one bin per resolution, as without interpolation.
    for x in (1.25, 8.75, 0.0, 10.0):
        assert sorted(weights(fz, {"x": x}).values()) == sorted(weights(hard, {"x": x}).values())
    w = weights(fz, {"x": 5.0})  # halfway between centres at both resolutions: four bins of 0.5
    assert sorted(w.values()) == [0.5] * 5
    # 6.0: 4 bins, 0.9 of the way from the centre 3.75 to 6.25 -> 0.1 and 0.9; 2 bins, 0.7 of the way from 2.5 to
    # 7.5 -> 0.3 and 0.7; the scaled value 0.6.
    assert sorted(round(v, 5) for v in weights(fz, {"x": 6.0}).values()) == [0.1, 0.3, 0.6, 0.7, 0.9]
    # The features change continuously with the value: across a bin edge, hard bins swap ids, these barely move.
    def l1(a, b):
        return sum(abs(a.get(k, 0.0) - b.get(k, 0.0)) for k in a.keys() | b.keys())
    assert l1(weights(fz, {"x": 4.999}), weights(fz, {"x": 5.001})) < 0.01
    assert l1(weights(hard, {"x": 4.999}), weights(hard, {"x": 5.001})) > 3.9


def test_numeric_files_before_interpolation_keep_one_bin():
    """A featurizer state of version 3 (no `interpolate` recorded) featurizes as it did when it was saved."""
    data = {"x": [float(v) for v in range(100)]}
    hard = fitted({"x": Numeric(interpolate=False)}, data)
    meta, arrays = fitted({"x": Numeric()}, data).state()
    assert meta["version"] == 4 and meta["columns"]["x"]["interpolate"] is True
    meta = dict(meta, version=3, columns={"x": {k: v for k, v in meta["columns"]["x"].items() if k != "interpolate"}})
    old = TableFeaturizer.from_state(meta, arrays)
    assert old.columns["x"].interpolate is False
    for v in (0.0, 12.3, 50.5, 99.0):
        assert weights(old, {"x": v}) == weights(hard, {"x": v})


def test_numeric_declared_range_and_clipping():
    fz = fitted({"x": Numeric(bins=4, range=(0, 100))}, {"x": [5.0, 6.0]})
    assert fz.numeric_ranges_["x"] == (0.0, 100.0)
    assert ids(fz, {"x": 1000}) == ids(fz, {"x": 100})


def test_numeric_quantile_scale_spreads_a_skewed_column():
    # 90% zeros, then values growing geometrically: min/max scaling squeezes all but the largest
    # few into the first bins; quantiles give the zero one position and spread the rest by rank.
    values = [0.0] * 900 + [float(2 ** (i / 10)) for i in range(100)]
    for scale in ("auto", "quantile"):
        fz = fitted({"x": Numeric(bins=(4, 16), scale=scale)}, {"x": values})
        assert fz.numeric_quantiles_["x"][0] == 0.0 and fz.numeric_quantiles_["x"][-1] == max(values)
        scaled_id = ids(fz, {"x": 2.0}) & ids(fz, {"x": 2 ** 9.5})  # bins differ, the scaled-value id does not
        assert len(scaled_id) == 1

        def position(v):
            idx, val = fz.transform_row({"x": v})
            return float(val[idx == next(iter(scaled_id))].sum())  # 0 when the scaled value is not emitted
        assert fz.transform_row({"x": 0.0})[1].tolist() == [1.0, 1.0]  # position 0: bins only, no scaled value
        assert position(2 ** 5.0) == pytest.approx(0.5, abs=0.03)  # the median of the non-zero values
        assert position(2 ** 2.5) < position(2 ** 5.0) < position(2 ** 7.5)
        assert position(1e9) == 1.0 and fz.transform_row({"x": -5.0})[1].tolist() == [1.0, 1.0]  # clipped
    linear = fitted({"x": Numeric(bins=(4, 16), scale="linear")}, {"x": values})
    assert "x" not in linear.numeric_quantiles_
    assert min(linear.transform_row({"x": 2 ** 5.0})[1]) == pytest.approx(2 ** 5.0 / max(values), rel=1e-5)
    declared = fitted({"x": Numeric(range=(0, 1))}, {"x": values})  # a declared range is linear
    assert "x" not in declared.numeric_quantiles_


def test_numeric_scale_option_is_validated():
    with pytest.raises(ConfigError, match="scale='log'"):
        Numeric(scale="log")
    with pytest.raises(ConfigError, match="when a range is declared"):
        Numeric(scale="quantile", range=(0, 1))


def test_numeric_quantiles_survive_the_featurizer_state_round_trip():
    fz = fitted({"x": Numeric()}, {"x": [0.0] * 50 + list(range(1, 51))})
    meta, arrays = fz.state()
    back = TableFeaturizer.from_state(meta, arrays)
    assert back.numeric_quantiles_ == fz.numeric_quantiles_
    for v in (0, 3, 17.5, 49, 500):
        a, b = fz.transform_row({"x": v}), back.transform_row({"x": v})
        assert a[0].tolist() == b[0].tolist() and a[1].tobytes() == b[1].tobytes()


def test_non_numeric_value_in_numeric_column_names_row_column_value():
    with pytest.raises(DataError) as e:
        fitted({"x": Numeric()}, {"x": ["1", "2", "abc"]})
    assert e.value.row == 3 and e.value.column == "x" and "'abc'" in str(e.value)
    fz = fitted({"x": Numeric()}, {"x": ["1", "2"]})
    with pytest.raises(DataError, match="expected a number, got 'oops'"):
        fz.transform_row({"x": "oops"})


def test_date_fields():
    fz = fitted({"d": Date()}, {"d": ["2024-01-01"]})
    date_only = fz.transform_row({"d": "2024-03-07"})[0]
    with_time = fz.transform_row({"d": "2024-03-07T13:45:00"})[0]
    assert len(date_only) == 5 and len(with_time) == 6  # year month weekday day week (+ hour)
    assert set(date_only) < set(with_time)
    assert ids(fz, {"d": "2024/03/07"}) == set(date_only.tolist())
    # Unix seconds (int or digit text) mean the same instant.
    assert ids(fz, {"d": 1709819100}) == ids(fz, {"d": "2024-03-07T13:45:00Z"}) == ids(fz, {"d": "1709819100"})


@pytest.mark.parametrize("bad", ["2024-13-01", "2023-02-29", "yesterday", "2024-03-07T25:00", "07/03/2024"])
def test_unparseable_date_is_an_error(bad):
    fz = fitted({"d": Date()}, {"d": ["2024-01-01"]})
    with pytest.raises(DataError, match="expected an ISO date"):
        fz.transform_row({"d": bad})


def test_sequence_token_times_position_most_recent_first():
    fz = fitted({"s": Sequence()}, {"s": ["a b"]})
    ab, ba = ids(fz, {"s": "a b"}), ids(fz, {"s": "b a"})
    assert len(ab) == 4 and len(ab & ba) == 2  # the bag part is shared, positions differ
    # Appending an element shifts older positions: "b" stays at position 0 in "a b" and "x a b".
    assert len(ab & ids(fz, {"s": "x a b"})) == 4
    short = fitted({"s": Sequence(max_length=1)}, {"s": ["a b"]})
    assert len(ids(short, {"s": "a b c"})) == 2


def test_feature_crosses_and_off_switch():
    data = {"a": ["x", "y"], "b": ["u", "v"], "n": [1, 2]}
    cols = {"a": Categorical(), "b": Categorical(), "n": Numeric(bins=2)}
    off = fitted(cols, data, crosses=False)
    auto = fitted(cols, data, crosses=True)
    one = fitted(cols, data, crosses=[("a", "b")])
    row = {"a": "x", "b": "u", "n": 1}
    assert len(ids(auto, row)) == len(ids(off, row)) + 3
    assert len(ids(one, row)) == len(ids(off, row)) + 1 and ids(off, row) < ids(one, row)
    assert auto.crosses_ == [("a", "b"), ("a", "n"), ("b", "n")]
    assert fitted(cols, data, crosses="auto").crosses_ == auto.crosses_
    assert TableFeaturizer(cols).fit(data).crosses_ == []  # off by default: measured not to help on Adult
    # A cross distinguishes combinations that the separate features cannot.
    assert ids(one, {"a": "x", "b": "v"}) - ids(off, {"a": "x", "b": "v"}) != ids(one, row) - ids(off, row)


def test_all_ids_below_input_dim():
    fz = fitted({"t": Text(tokenizer="char-2")}, {"t": ["x"]}, input_dim=7)
    idx, _ = fz.transform_row({"t": "the quick brown fox"})
    assert idx.max() < 7


def test_same_ids_in_another_process():
    code = ("from udt.ingest.featurize import TableFeaturizer; from udt.columns import Text, Categorical;"
            "fz = TableFeaturizer({'t': Text(), 'c': Categorical()}, crosses=False).fit({'t': ['a'], 'c': ['b']});"
            "print(fz.transform_row({'t': 'Deterministic hashing, please', 'c': 'k9'})[0].tolist())")
    here = fitted({"t": Text(), "c": Categorical()}, {"t": ["a"], "c": ["b"]})
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env=dict(os.environ, PYTHONHASHSEED="123")).stdout  # another str-hash seed too
    assert out.strip() == str(here.transform_row({"t": "Deterministic hashing, please", "c": "k9"})[0].tolist())


@pytest.mark.parametrize("make, message", [
    (lambda: Text(tokeniser="words"), "valid options: tokenizer, ngrams, lowercase, normalize"),
    (lambda: Text(tokenizer="chars"), "'char-k'"),
    (lambda: Text(ngrams=0), "from 1 to 4"),
    (lambda: Categorical(delim=","), "valid options: delimiter, n_classes"),
    (lambda: Numeric(bins=1), "from 2 to"),
    (lambda: Numeric(range=(5, 1)), "low < high"),
    (lambda: Date(format="%Y"), "valid options: (none)"),
    (lambda: Sequence(delimiter=""), "non-empty string"),
    (lambda: Neighbors(delimiter=None), "non-empty string"),
])
def test_invalid_column_options(make, message):
    with pytest.raises(ConfigError) as e:
        make()
    assert message in str(e.value)


def test_column_spec_round_trip():
    for spec in (Text(tokenizer="char-4", ngrams=1), Categorical(delimiter="|"), Numeric(bins=(4, 16), range=(0, 1)),
                 Date(), Sequence(max_length=5), NodeId(), Neighbors(delimiter=",")):
        assert ColumnSpec.from_dict(spec.to_dict()) == spec
    assert repr(Text()) == "Text(tokenizer='words', ngrams=2, lowercase=True, normalize=False)"


def test_node_id_must_be_non_negative_integer():
    cols = {"id": NodeId(), "nb": Neighbors(), "c": Categorical()}
    fz = fitted(cols, {"id": [0, 1], "nb": ["1", "0"], "c": ["a", "b"]})
    for bad in (-1, "x", "1.5", 2.5):
        with pytest.raises(DataError, match="non-negative integer node id"):
            fz.transform_row({"id": bad, "nb": "", "c": "a"})
    with pytest.raises(DataError, match="non-negative integer node ids"):
        fz.transform_row({"id": 3, "nb": "1 -2", "c": "a"})


def test_unknown_key_in_row_lists_declared_columns():
    fz = fitted({"a": Categorical(), "y": Categorical()}, {"a": ["x"], "y": ["1"]}, target="y")
    fz.transform_row({"a": "x", "y": "1"})  # the target is accepted and ignored
    with pytest.raises(DataError, match="unknown column 'b'; declared columns: 'a'"):
        fz.transform_row({"a": "x", "b": 1})


def test_duplicates_merge_the_same_in_small_and_large_spaces():
    text = {"t": "to be or not to be, that is the question to be"}
    for dim in (1000, 3_000_000):
        fz = fitted({"t": Text(ngrams=1)}, {"t": ["x"]}, input_dim=dim)
        idx, val = fz.transform_row(text)
        assert len(set(idx.tolist())) == len(idx) and idx.max() < dim
        assert sorted(val.tolist()) == [1.0] * 6 + [3.0, 3.0]
        normalized = fitted({"t": Text(ngrams=1, normalize=True)}, {"t": ["x"]}, input_dim=dim).transform_row(text)[1]
        damped = np.where(np.array(sorted(val)) > 1, 1 + np.log(sorted(val)), sorted(val))
        np.testing.assert_allclose(sorted(normalized), damped / np.linalg.norm(damped), rtol=1e-6)
    big = fitted({"t": Text(ngrams=1)}, {"t": ["x"]}, input_dim=3_000_000)
    idx, val = big.transform_row(text)
    assert dict(zip(idx.tolist(), val.tolist()))[ref.text_unigram_id("t", "be", 3_000_000)] == 3.0


def test_random_values_never_crash():
    # Every column type on random text, numbers and odd objects: features or a DataError, nothing else.
    rng = np.random.default_rng(0)
    cols = {"t": Text(tokenizer="char-3"), "w": Text(tokenizer="words-punct"), "c": Categorical(delimiter=","),
            "n": Numeric(), "d": Date(), "s": Sequence(), "id": NodeId(), "nb": Neighbors()}
    fz = fitted(cols, {k: ["1"] for k in cols})
    alphabet = list("ab 09-:T.,;\"'\n\t+eE?") + ["é", "\u2603", "\x00", "\U0001f600"]
    values = ["".join(rng.choice(alphabet, size=rng.integers(0, 30))) for _ in range(300)]
    values += [None, 0, -1, 2**70, 1e308, float("inf"), float("-inf"), True, b"\xff", (1, 2), 3.5]
    for i, v in enumerate(values):
        row = {k: values[(i * 7 + j) % len(values)] for j, k in enumerate(cols)}
        row["id"] = i  # a valid own id, so the other columns get exercised
        try:
            idx, val = fz.transform_row(row)
            assert idx.dtype == np.uint32 and val.dtype == np.float32 and np.all(idx < DIM)
        except DataError as e:
            assert e.column in cols
