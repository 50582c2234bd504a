"""Reading CSV/Parquet/DataFrames: edge cases, and every data error with its location."""
import os

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from udt.columns import Categorical, Numeric, Text
from udt.ingest.data import read_batches
from udt.errors import DataError
from udt.ingest.featurize import TableFeaturizer

ADULT = os.path.join(os.path.dirname(__file__), "data", "adult_sample.csv")


def write(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode())
    return str(path)


def rows(path, **kw):
    return pa.Table.from_batches(list(read_batches(path, **kw))).to_pylist()


def test_quotes_escaped_quotes_newlines_crlf_bom(tmp_path):
    path = write(tmp_path, "a.csv", b'\xef\xbb\xbfid,text\r\n1,"say ""hi""\r\nthen, go"\r\n2,plain\r\n')
    assert rows(path) == [{"id": "1", "text": 'say "hi"\r\nthen, go'}, {"id": "2", "text": "plain"}]


@pytest.mark.parametrize("delimiter", ["\t", ";", "|"])
def test_delimiters_are_sniffed_or_given(tmp_path, delimiter):
    path = write(tmp_path, "a.csv", f"a{delimiter}b\n1{delimiter}x,y\n")
    assert rows(path) == [{"a": "1", "b": "x,y"}]
    assert rows(path, delimiter=delimiter) == [{"a": "1", "b": "x,y"}]


def test_batches_are_bounded(tmp_path):
    path = write(tmp_path, "a.csv", "a\n" + "".join(f"{i}\n" for i in range(1000)))
    sizes = [b.num_rows for b in read_batches(path, batch_rows=300)]
    assert sizes == [300, 300, 300, 100]


def test_empty_file_and_header_only(tmp_path):
    with pytest.raises(DataError, match="empty") as e:
        list(read_batches(write(tmp_path, "e.csv", "")))
    assert e.value.file.endswith("e.csv")
    with pytest.raises(DataError, match="header but no data rows"):
        list(read_batches(write(tmp_path, "h.csv", "a,b\r\n")))


def test_missing_declared_column_lists_file_columns(tmp_path):
    path = write(tmp_path, "a.csv", "text,label\nhi,1\n")
    fz = TableFeaturizer({"body": Text(), "label": Categorical()}, target="label")
    with pytest.raises(DataError) as e:
        fz.fit(path)
    assert e.value.column == "body" and "'text', 'label'" in str(e.value) and "a.csv" in str(e.value)


@pytest.mark.parametrize("body, line, got", [("1,2\n3,4,5\n", 3, 3), ('1,"a\nb"\n3\n', 4, 1)])
def test_wrong_field_count_names_line_expected_and_got(tmp_path, body, line, got):
    path = write(tmp_path, "a.csv", "a,b\n" + body)
    with pytest.raises(DataError) as e:
        list(read_batches(path))
    assert e.value.line == line and f"expected 2 fields, got {got}" in str(e.value)


def test_unterminated_quote_at_end_of_file(tmp_path):
    path = write(tmp_path, "a.csv", 'a,b\n1,ok\n2,"never closed\n3,x\n')
    with pytest.raises(DataError, match="unterminated quote") as e:
        list(read_batches(path))
    assert e.value.line == 3
    # A quote inside an unquoted field is literal, not an opening quote.
    assert rows(write(tmp_path, "b.csv", 'a,b\n1,5\'11" tall\n')) == [{"a": "1", "b": "5'11\" tall"}]


def test_invalid_utf8_is_an_error_with_line(tmp_path):
    path = write(tmp_path, "a.csv", b"a,b\n1,ok\n2,caf\xe9\n")
    with pytest.raises(DataError, match="invalid UTF-8") as e:
        list(read_batches(path))
    assert e.value.line == 3


def test_non_numeric_value_reports_file_row_column(tmp_path):
    path = write(tmp_path, "a.csv", "x,y\n1,a\n2,b\nlots,c\n")
    with pytest.raises(DataError) as e:
        TableFeaturizer({"x": Numeric(), "y": Categorical()}, target="y").fit(path)
    err = e.value
    assert (err.row, err.column, os.path.basename(err.file)) == (3, "x", "a.csv") and "'lots'" in str(err)
    assert err.line == 4 and "line 4, row 3, column 'x'" in str(err)


def test_error_line_counts_newlines_inside_quoted_fields(tmp_path):
    path = write(tmp_path, "a.csv", 'x,t\n1,"two\nlines"\n2,ok\nbad,"x"\n')
    with pytest.raises(DataError) as e:
        TableFeaturizer({"x": Numeric(), "t": Text()}).fit(path)
    assert (e.value.row, e.value.line) == (3, 5)


def test_error_rows_count_across_batches(tmp_path):
    path = write(tmp_path, "a.csv", "x\n" + "1\n" * 10 + "bad\n")
    fz = TableFeaturizer({"x": Numeric(range=(0, 1))})
    fz.fit(write(tmp_path, "ok.csv", "x\n1\n"))
    with pytest.raises(DataError) as e:
        list(fz.transform_batches(path, batch_rows=4))
    assert e.value.row == 11


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        list(read_batches(str(tmp_path / "nope.csv")))


def adult_featurizer():
    cats = ["workclass", "education", "marital_status", "occupation", "relationship", "race", "sex",
            "native_country", "income"]
    nums = ["age", "fnlwgt", "education_num", "capital_gain", "capital_loss", "hours_per_week"]
    return TableFeaturizer({**{c: Categorical() for c in cats}, **{c: Numeric() for c in nums}}, target="income")


def same_batches(a, b):
    assert a.n_rows == b.n_rows
    for name in ("indices", "values", "offsets", "label_indices", "label_offsets"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)


def test_csv_parquet_dataframe_table_give_identical_features(tmp_path):
    df = pd.read_csv(ADULT)  # typed columns: ints stay ints, "?" stays text
    parquet = str(tmp_path / "adult.parquet")
    pq.write_table(pa.Table.from_pandas(df, preserve_index=False), parquet, row_group_size=77)
    results = []
    for source in (ADULT, parquet, df, pa.Table.from_pandas(df), df.to_dict(orient="list")):
        fz = adult_featurizer().fit(source)
        results.append(fz.transform(source, batch_rows=100))
        assert list(fz.classes_) == ["<=50K", ">50K"]
    for other in results[1:]:
        same_batches(results[0], other)


def test_dict_row_matches_batch_row():
    fz = adult_featurizer().fit(ADULT)
    fb = fz.transform(ADULT)
    df = pd.read_csv(ADULT)
    for i in (0, 17, 299):
        row = {k: v for k, v in df.iloc[i].to_dict().items() if k != "split"}
        idx, val = fz.transform_row(row)
        np.testing.assert_array_equal(idx, fb.indices[fb.offsets[i]:fb.offsets[i + 1]])
        np.testing.assert_array_equal(val, fb.values[fb.offsets[i]:fb.offsets[i + 1]])


def test_gzip_csv_and_lists_of_files(tmp_path):
    import gzip
    plain = write(tmp_path, "a.csv", "x,y\n1,a\n2,b\n")
    packed = str(tmp_path / "b.csv.gz")
    with gzip.open(packed, "wb") as f:
        f.write(b"x,y\n3,c\n")
    assert [r["y"] for r in rows([plain, packed])] == ["a", "b", "c"]


def test_parquet_missing_column_and_no_rows(tmp_path):
    path = str(tmp_path / "t.parquet")
    pq.write_table(pa.table({"x": pa.array([], pa.int64())}), path)
    with pytest.raises(DataError, match="no data rows"):
        list(read_batches(path))
    with pytest.raises(DataError, match="missing column 'y'; the columns are: 'x'"):
        list(read_batches(path, columns=["y"]))


def test_unparseable_date_in_file_names_row_and_value(tmp_path):
    from udt.columns import Date
    path = write(tmp_path, "d.csv", "when\n2024-01-01\n2024-02-30\n")
    with pytest.raises(DataError) as e:
        TableFeaturizer({"when": Date()}).fit(path).transform(path)
    assert (e.value.row, e.value.column) == (2, "when") and "'2024-02-30'" in str(e.value)


def test_numbers_with_spaces_signs_exponents_and_missing_markers(tmp_path):
    path = write(tmp_path, "n.csv", "x\n 1.5 \n+2\n-3e2\n?\nNA\n\n")
    fz = TableFeaturizer({"x": Numeric(interpolate=False)}).fit(path)  # one bin per resolution
    assert fz.numeric_ranges_["x"] == (-300.0, 2.0)
    fb = fz.transform(path)
    assert fb.n_rows == 5  # a blank line holds no fields: it is not a row
    row = [fb.indices[fb.offsets[i]:fb.offsets[i + 1]].tolist() for i in range(5)]
    assert row[3] == row[4] and len(row[3]) == 1 and len(row[0]) == 4  # "?" and "NA" are missing values


def test_arrow_types_are_read_like_their_text():
    from udt.columns import Date
    typed = pd.DataFrame({
        "cat": pd.Categorical(["a", "b", None]), "flag": [True, False, True],
        "small": np.array([1, 2, 3], dtype=np.int8), "big": np.array([7, 8, 9], dtype=np.uint32),
        "when": pd.to_datetime(["2024-01-01 10:00:00", "2024-02-03 00:00:00", "2024-03-04 05:06:07"]),
        "x": np.array([0.5, np.nan, 2.0], dtype=np.float32),
    })
    text = {"cat": ["a", "b", ""], "flag": ["true", "false", "true"], "small": ["1", "2", "3"],
            "big": ["7", "8", "9"], "when": ["2024-01-01T10:00:00", "2024-02-03T00:00:00", "2024-03-04T05:06:07"],
            "x": ["0.5", "", "2"]}
    cols = {"cat": Categorical(), "flag": Categorical(), "small": Categorical(), "big": Numeric(range=(0, 10)),
            "when": Date(), "x": Numeric(range=(0, 4))}
    a = TableFeaturizer(cols).fit(typed).transform(typed)
    b = TableFeaturizer(cols).fit(text).transform(text)
    np.testing.assert_array_equal(a.indices, b.indices)
    np.testing.assert_array_equal(a.values, b.values)


def test_the_statistics_pass_counts_words_of_the_text_columns_together(tmp_path, monkeypatch):
    import udt.ingest.featurize as featurize
    from udt.columns import Numeric, Text
    from udt.ingest.data import count_words
    frame = pd.DataFrame({"a": ["one two three", None, "  four  "], "b": ["x y", "z", ""], "n": [1, 22, 333]})
    assert count_words(pa.RecordBatch.from_pandas(frame), ["n"]) == 3  # read as text
    columns = {"a": Text(), "b": Text(), "n": Numeric()}
    fz = featurize.TableFeaturizer(columns).fit(frame)
    assert fz.words_per_row_ == pytest.approx((4 + 3) / 3)  # a missing value has no words
    frame.to_csv(tmp_path / "t.csv", index=False)
    assert featurize.TableFeaturizer(columns).fit(str(tmp_path / "t.csv")).words_per_row_ == pytest.approx(7 / 3)
    monkeypatch.setattr(featurize, "WORD_COUNT_ROWS", 1)
    assert featurize.TableFeaturizer({"a": Text()}).fit(frame).words_per_row_ == 3.0  # the first row only
