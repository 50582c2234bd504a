"""The fuzzer's explicit cases (tests/test_fuzz.py runs them): one input per distinct finding of a fuzz run, kept
so that each finding stays fixed whatever the random seeds draw. A builder returns a case's inputs (a file's bytes,
a frame, or a function of the base model files that returns a mutated, re-signed model file)."""
from __future__ import annotations

import random

import fuzz_inputs as fi

EXPLICIT = {}


def explicit(target):
    def register(builder):
        EXPLICIT[builder.__name__] = (target, builder)
        return builder
    return register


@explicit("csv")
def csv_field_over_128k_before_a_malformed_row():
    """Issue 16 item 7: a >128 KB field, then a row with too many fields."""
    data = b"text,topic\n" + b"x" * 140_000 + b",t0\nok,t1\na,b,c,d\nok,t0\n"
    return {"spec": fi.estimator_spec("text") | {"columns": {"text": "Text", "topic": "Categorical"}},
            "suffix": ".csv", "data": data}


@explicit("csv")
def csv_truncated_gzip():
    data = fi.gzip.compress(fi.to_csv_bytes(fi.base_table("text", random.Random(0), 30)), mtime=0)
    return {"spec": fi.estimator_spec("text"), "suffix": ".csv.gz", "data": data[:len(data) // 2]}


@explicit("frame")
def frame_label_beyond_int64():
    return {"spec": {"kind": "Classifier", "target": "y", "options": {}, "columns": {"x": "Text", "y": "Categorical"}},
            "frame": fi.pd.DataFrame({"x": ["a b", "c d", "e f"], "y": fi.pd.Series([2 ** 64, 1, 2], dtype=object)})}


@explicit("frame")
def frame_non_utf8_bytes_in_text():
    return {"spec": {"kind": "Classifier", "target": "y", "options": {}, "columns": {"x": "Text", "y": "Categorical"}},
            "frame": fi.pd.DataFrame({"x": [b"caf\xe9", b"ok", b"\xff"], "y": ["a", "b", "a"]})}


@explicit("frame")
def frame_non_utf8_bytes_inferred():
    return {"spec": {"kind": "Classifier", "target": "y", "options": {}, "columns": None},
            "frame": fi.pd.DataFrame({"x": [b"caf\xe9", b"ok", b"\xff"], "y": ["a", "b", "a"]})}


@explicit("csv")
def csv_header_longer_than_64k_inferred_columns():
    """The header is read from the file's first 64 KB, so a longer header line names a truncated column."""
    data = b"text,topic," + b"c" * 70_000 + b"\n" + b"a b,t0,1\nc d,t1,2\ne f,t0,3\n"
    return {"spec": fi.estimator_spec("inferred"), "suffix": ".csv", "data": data}


@explicit("csv")
def csv_header_field_over_128k():
    """A header name over csv's 128 KB field limit (udt parses the header line with Python's csv module)."""
    data = b"text,topic," + b"c" * 140_000 + b"\n" + b"a b,t0,1\nc d,t1,2\ne f,t0,3\n"
    return {"spec": fi.estimator_spec("inferred"), "suffix": ".csv", "data": data}


@explicit("csv")
def csv_header_invalid_utf8_inferred_columns():
    """udt decodes the header with errors='replace'; pyarrow names the column differently."""
    return {"spec": fi.estimator_spec("inferred"), "suffix": ".csv",
            "data": b"text,top\xffic\na b,t0\nc d,t1\ne f,t0\n"}


@explicit("csv")
def csv_double_bom_inferred_columns():
    return {"spec": fi.estimator_spec("inferred"), "suffix": ".csv",
            "data": b"\xef\xbb\xbf\xef\xbb\xbftext,topic\na b,t0\nc d,t1\ne f,t0\n"}


@explicit("csv")
def csv_gzip_truncated_after_the_first_64k():
    """The first 64 KB are read under a try; a truncation after them reaches the reader as a bare EOFError."""
    rows = b"".join(b"word%d other,t%d\n" % (i, i % 3) for i in range(20_000))
    data = fi.gzip.compress(b"text,topic\n" + rows, mtime=0)
    return {"spec": fi.estimator_spec("text") | {"columns": {"text": "Text", "topic": "Categorical"}},
            "suffix": ".csv.gz", "data": data[:len(data) * 3 // 4]}


def _frame(columns, target, **data):
    return {"spec": {"kind": "Classifier", "target": target, "options": {}, "columns": columns},
            "frame": fi.pd.DataFrame(data)}


@explicit("frame")
def frame_mixed_str_and_int_object_column():
    return _frame({"x": "Categorical", "y": "Categorical"}, "y",
                  x=fi.pd.Series(["a", 1, "b"], dtype=object), y=["p", "q", "p"])


@explicit("frame")
def frame_tz_timestamp_in_object_column():
    ts = fi.pd.Timestamp("2020-01-01T03:00", tz="Asia/Kolkata")
    return _frame({"x": "Numeric", "y": "Categorical"}, "y", x=fi.pd.Series([1.0, ts, 2.0], dtype=object),
                  y=["p", "q", "p"])


@explicit("frame")
def frame_category_dtype_target():
    return _frame({"x": "Text", "y": "Categorical"}, "y", x=["a b", "c d", "e f", "a c"],
                  y=fi.pd.Categorical(["p", "q", "p", "q"]))


@explicit("frame")
def frame_bool_target():
    """A bool (or duration, or pandas category) target column crashes the featurizer's label view, most
    runs (with thousands of rows it reads as empty labels instead): see CRASH_RETRIES."""
    return _frame({"x": "Text", "y": "Categorical"}, "y", x=["a b", "c d", "e f", "a c"], y=[True, False] * 2)


def _resigned(base, edit):
    """A base model file with `edit(header)` applied to its header JSON, re-signed."""
    def build(bases):
        blob = dict(bases)[base]
        version, header, payload = fi.split_model(blob)
        raws = []
        edit(header, raws)
        return fi.sign(version, fi.dumps_with_raw(header, raws), payload)
    build.base = base   # the rows predicted after a successful load are this base's
    return build


def _raw(raws, text):
    raws.append(text)
    return fi._RAW % (len(raws) - 1)


@explicit("frame")
def frame_duration_target():
    return _frame({"x": "Text", "y": "Categorical"}, "y", x=["a b", "c d", "e f", "a c"],
                  y=[fi.pd.Timedelta("1D"), fi.pd.Timedelta("2D")] * 2)


@explicit("frame")
def frame_lone_surrogate_in_object_column():
    return _frame({"x": "Text", "y": "Categorical"}, "y", x=fi.pd.Series(["a b", "\ud800x", "c"], dtype=object),
                  y=["p", "q", "p"])


@explicit("frame")
def frame_regression_target_1e308():
    """A finite target whose scaling overflows: the engine refuses non-finite labels with a bare ValueError."""
    return {"spec": fi.estimator_spec("regress"),
            "frame": fi.pd.DataFrame({"x1": [1.0, 2.0, 3.0], "color": ["r", "g", "b"], "y": [1e308] * 3})}


@explicit("model")
def model_payload_length_1e999():
    return _resigned("v1_text", lambda h, r: h.update(payload_length=_raw(r, "1e999")))


@explicit("model")
def model_deeply_nested_header():
    return _resigned("v1_text", lambda h, r: h["metadata"].update(fuzz=_raw(r, "[" * 100_000 + "]" * 100_000)))


@explicit("model")
def model_params_sparse_inference_invalid():
    """A re-signed file whose plan (v1: architecture) sparse_inference is out of range loads; predict then raises."""
    return _resigned("v1_text", lambda h, r: h["metadata"]["architecture"].update(sparse_inference=-1))


@explicit("model")
def model_featurizer_n_threads_2_pow_64():
    """Loads; the first predict passes 2**64 threads to the C++ featurizer, which raises TypeError."""
    return _resigned("v1_temporal", lambda h, r: h["metadata"]["featurizer"].update(n_threads=2 ** 64))


@explicit("model")
def model_target_n_classes_1e20():
    """A Categorical target's n_classes of 10**20: load builds [str(i) for i in range(n_classes)] (hangs,
    then runs out of memory). Runs with a short timeout and the worker's memory limit."""
    return _resigned("v1_text", lambda h, r: h["metadata"]["featurizer"]["columns"]["topic"].update(n_classes=10 ** 20))


@explicit("model")
def model_label_classes_a_string():
    """featurizer.labels.classes = "float32": loads; predict indexes 7 characters with 8 outputs (IndexError)."""
    return _resigned("v1_temporal", lambda h, r: h["metadata"]["featurizer"]["labels"].update(classes="float32"))


@explicit("model")
def model_featurizer_input_dim_above_the_network():
    """featurizer.input_dim 2001 over a 1000-input network: loads; predict's engine check raises a bare
    ValueError ('inputs: row 0 has index 1067, expected < 1000')."""
    return _resigned("v1_regressor", lambda h, r: h["metadata"]["featurizer"].update(input_dim=2001))


SLOW_EXPLICIT = {"model_target_n_classes_1e20": 6}   # per-case timeout (s) of cases known to hang
