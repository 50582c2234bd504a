"""Column types inferred from the data, for columns the user did not declare.

`udt.Classifier(target="label").fit(df)` declares nothing: each column's type is read from a sample of
the data (the first SAMPLE_ROWS rows), by its Arrow type first and its values second:
  - numbers (and strings that all parse as numbers) -> Numeric; the target of a Classifier -> Categorical;
  - booleans -> Categorical;
  - dates and timestamps (and strings that all parse as ISO dates) -> Date;
  - strings whose values are lists of short repeated items joined by one of MULTI_DELIMITERS ("a;b;c")
    -> Categorical(delimiter=...);
  - strings of several words on average (MIN_TEXT_WORDS), or mostly distinct -> Text;
  - other strings -> Categorical.
Declared columns are kept as declared. summary() lists which columns were inferred and as what.
"""
from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from udt.columns import Categorical, Date, Numeric, Text
from udt.ingest.data import read_batches
from udt.errors import ConfigError, DataError

SAMPLE_ROWS = 10_000
MIN_TEXT_WORDS = 3.0       # mean words per value from which a string column is text
DISTINCT_TEXT_SHARE = 0.5  # ... or this share of distinct values among several-word strings
MULTI_DELIMITERS = (";", "|")


def infer_columns(source, declared: dict | None, target: str | None, numeric_target: bool) -> tuple[dict, list]:
    """(columns, inferred names): the declared columns plus a type for every other column of `source`.
    numeric_target: the target is a regression target (Numeric), else a class label (Categorical)."""
    declared = dict(declared or {})
    sample = _sample(source)
    columns, inferred = {}, []
    for name in sample.column_names:
        if name in declared:
            columns[name] = declared[name]
            continue
        values = sample.column(name)
        if name == target:
            columns[name] = Numeric() if numeric_target else Categorical()
        else:
            columns[name] = _column_type(values)
        inferred.append(name)
    missing = [n for n in declared if n not in columns]
    if missing:
        raise ConfigError(f"declared column(s) {missing} are not in the data; its columns are: "
                          f"{', '.join(sample.column_names)}")
    if target is not None and target not in columns:
        raise ConfigError(f"target {target!r} is not a column of the data; its columns are: "
                          f"{', '.join(sample.column_names)}")
    return columns, inferred


def _sample(source) -> pa.Table:
    batches, rows = [], 0
    for batch in read_batches(source):
        batches.append(batch.slice(0, SAMPLE_ROWS - rows))
        rows += batches[-1].num_rows
        if rows >= SAMPLE_ROWS:
            break
    if not batches:
        raise ConfigError("cannot infer column types from data without rows")
    names = batches[0].schema.names
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise DataError(f"the data names column(s) {', '.join(map(repr, repeated[:5]))} more than once; column "
                        f"names must be unique to infer their types")
    return pa.Table.from_batches(batches)


def _column_type(values: pa.ChunkedArray):
    t = values.type
    if pa.types.is_boolean(t):
        return Categorical()
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t):
        return Numeric()
    if pa.types.is_temporal(t):
        return Date()
    if pa.types.is_dictionary(t):
        try:
            values = values.cast(t.value_type)
        except (pa.ArrowNotImplementedError, pa.ArrowInvalid):  # e.g. a dictionary of lists: not decodable
            return Categorical()  # the featurizer names the column if it cannot read it either
        t = values.type
    if not (pa.types.is_string(t) or pa.types.is_large_string(t)):
        return Categorical()
    present = pc.drop_null(values)
    present = pc.filter(present, pc.not_equal(pc.utf8_trim_whitespace(present), ""))
    if len(present) == 0:
        return Categorical()
    if _all_parse(present, pa.float64()):
        return Numeric()
    if _looks_like_dates(present):
        return Date()
    delimiter = _list_delimiter(present)
    if delimiter is not None:
        return Categorical(delimiter=delimiter)
    words = pc.mean(pc.count_substring_regex(present, r"\S+")).as_py()
    distinct = len(pc.unique(present)) / len(present)
    if words >= MIN_TEXT_WORDS or (words > 1.0 and distinct >= DISTINCT_TEXT_SHARE):
        return Text()
    return Categorical()


def _all_parse(values, arrow_type) -> bool:
    try:
        pc.cast(values, arrow_type)
        return True
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return False


def _looks_like_dates(values) -> bool:
    iso = pc.match_substring_regex(values, r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$")
    return bool(pc.all(iso).as_py())


def _list_delimiter(values):
    """A delimiter that joins most values into lists of short items repeated across rows, else None."""
    for delimiter in MULTI_DELIMITERS:
        has = pc.match_substring(values, delimiter)
        if pc.mean(has.cast(pa.float64())).as_py() < 0.2:
            continue
        items = pc.list_flatten(pc.split_pattern(values, delimiter))
        items = pc.utf8_trim_whitespace(items)
        if len(items) and len(pc.unique(items)) <= 0.5 * len(items) and \
                pc.mean(pc.count_substring_regex(items, r"\S+")).as_py() <= 3:
            return delimiter
    return None
