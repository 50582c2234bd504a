"""Issue 16, error paths and semantics: every public entry point answers bad input with udt's own error
types naming where the problem is, and equal inputs are featurized equally (public API)."""
import gzip
import hashlib
import json
import struct

import pandas as pd
import pytest

import udt
from udt import DataError
from udt.model_file.serialization import ModelFileError
from classifier_data import ROOT

SMALL = dict(input_dim=2000, hidden_dim=8, epochs=1)
TEXT = {"t": udt.Text(), "y": udt.Categorical()}


def test_a_huge_field_before_a_malformed_row_still_names_the_row(tmp_path):
    """It raised csv's 'field larger than field limit' (the error path re-read the file with csv)."""
    path = tmp_path / "big.csv"
    path.write_text('t,y\n"' + "x" * 200_000 + '",a\nb,c,d\ne,f\n')
    with pytest.raises(DataError, match=r"line 3: expected 2 fields, got 3"):
        udt.Classifier(TEXT, "y", **SMALL).fit(str(path), progress=False)


def test_a_quoted_newline_does_not_shift_the_line_named(tmp_path):
    path = tmp_path / "q.csv"
    path.write_text('t,y\n"two\nlines",a\nok,b\nx,y,z\n')
    with pytest.raises(DataError, match=r"line 5: expected 2 fields, got 3"):
        udt.Classifier(TEXT, "y", **SMALL).fit(str(path), progress=False)


def test_labels_beyond_int64_are_kept_as_text(tmp_path):
    path = tmp_path / "int.csv"
    path.write_text("t,y\na,1\nb,99999999999999999999999\n")
    model = udt.Classifier(TEXT, "y", **SMALL).fit(str(path), progress=False)
    assert list(model.classes_) == ["1", "99999999999999999999999"]


def test_a_truncated_gzip_names_the_file(tmp_path):
    blob = gzip.compress(b"t,y\n" + b"a,b\n" * 20000)
    (tmp_path / "cut.csv.gz").write_bytes(blob[: len(blob) // 2])
    with pytest.raises(DataError, match="cut.csv.gz"):
        udt.Classifier(TEXT, "y", **SMALL).fit(str(tmp_path / "cut.csv.gz"), progress=False)


def test_bytes_that_are_not_utf8_name_the_column():
    frame = pd.DataFrame({"t": [b"fine", b"\xff\xfe bad"], "y": ["a", "b"]})
    with pytest.raises(DataError, match="column 't'"):
        udt.Classifier(TEXT, "y", **SMALL).fit(frame, progress=False)


def _resigned(tmp_path, transform) -> str:
    raw = (ROOT / "tests" / "data" / "v1_regressor.udt").read_bytes()
    magic, version, length = struct.unpack("<8sIQ", raw[:20])
    header = transform(json.loads(raw[20:20 + length]))
    head = header if isinstance(header, bytes) else json.dumps(header).encode()
    blob = struct.pack("<8sIQ", magic, version, len(head)) + head + raw[20 + length:-32]
    path = tmp_path / "crafted.udt"
    path.write_bytes(blob + hashlib.sha256(blob).digest())
    return str(path)


@pytest.mark.parametrize("name, transform", [
    ("payload length 1e999", lambda h: json.dumps(h).replace('"payload_length": ', '"payload_length": 1e999, "_": ')
     .encode()),
    ("deeply nested header", lambda h: json.dumps(h)[:-1].encode() + b', "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"),
    ("metadata not an object", lambda h: dict(h, metadata=[1, 2])),
    ("columns not an object", lambda h: dict(h, metadata=dict(h["metadata"], columns=[1, 2]))),
    ("network threads out of bounds", lambda h: dict(h, metadata=dict(
        h["metadata"], network=dict(h["metadata"]["network"], n_threads=10**6)))),
    ("numeric range of one value", lambda h: dict(h, metadata=dict(h["metadata"], featurizer=dict(
        h["metadata"]["featurizer"], numeric_ranges={"x1": [1]})))),
])
def test_crafted_model_files_with_valid_checksums_are_refused_as_model_file_errors(tmp_path, name, transform):
    with pytest.raises(ModelFileError, match="crafted.udt"):
        udt.load(_resigned(tmp_path, transform))


def test_the_same_instant_is_featurized_the_same_from_a_frame_and_from_json_text():
    train = pd.DataFrame({"d": pd.to_datetime(["2020-01-01T00:00Z", "2020-06-01T12:00Z"]), "y": ["a", "b"]})
    model = udt.Classifier({"d": udt.Date(), "y": udt.Categorical()}, "y", **SMALL).fit(train, progress=False)
    aware = model.featurizer_.transform(pd.DataFrame({"d": [pd.Timestamp("2020-01-01T03:00+05:30")]}),
                                        with_labels=False)
    text = model.featurizer_.transform_row({"d": "2020-01-01T03:00+05:30"})
    assert sorted(aware.indices.tolist()) == sorted(text[0].tolist())
    assert model.predict_proba({"d": "2019-12-31T21:30Z"}).tolist() == \
        model.predict_proba({"d": "2020-01-01T03:00+05:30"}).tolist()


def test_labels_0_and_minus_0_stay_two_classes_through_save_and_load(tmp_path):
    table = pd.DataFrame({"t": ["a", "b", "c"] * 10, "y": ["0", "-0", "1"] * 10})
    model = udt.Classifier(TEXT, "y", **SMALL).fit(table, progress=False)
    model.save(tmp_path / "m.udt")
    loaded = udt.load(tmp_path / "m.udt")
    assert list(loaded.classes_) == list(model.classes_) == ["-0", "0", "1"]
    assert loaded.evaluate(table) == model.evaluate(table)


def test_bool_category_and_duration_targets_train_without_crashing():
    """featurize_batch read a converted label array after it was freed (SIGSEGV; found by tests/test_fuzz.py):
    run in a subprocess so a crash fails this test, not the run."""
    import subprocess
    import sys
    code = """
import numpy as np, pandas as pd, udt
for target in [pd.Series([True, False] * 50), pd.Series(["a", "b"] * 50, dtype="category"),
               pd.Series(pd.to_timedelta(np.arange(100) % 3, unit="s"))]:
    frame = pd.DataFrame({"t": [f"w{i % 7} x" for i in range(100)], "y": target})
    model = udt.Classifier({"t": udt.Text(), "y": udt.Categorical()}, "y", input_dim=1000, hidden_dim=8, epochs=1)
    model.fit(frame, progress=False)
    assert len(model.classes_) in (2, 3) and len(model.predict(frame.drop(columns="y"))) == 100
print("ok")
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]
