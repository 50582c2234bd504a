"""Per-prediction explanations by occlusion: which columns, words and values decided a prediction.

    udt.interfaces.explain.explain(model, {"title": "oak dining table", "price": 249.0})
    -> [Explanation(column='title', token='oak', score=0.41), Explanation(column='price', token=249.0, ...), ...]

The question each score answers is "how much does the prediction change when this piece of the input
is taken away?". A piece is
  - a word of a Text column: every occurrence of it is deleted from the text (for the "words" and
    "words-punct" tokenizers the words are exactly the featurizer's tokens, split and ASCII-lowercased
    as featurizers/src/tokenize.cc does, so "Goal" and "goal" are one word when the column lowercases;
    "words-punct" adds each punctuation character; "char-k" columns are explained by whole
    whitespace-separated words, whose deletion removes all the k-grams inside them);
  - a value of a multi-valued column (Categorical with a delimiter, Sequence, Neighbors): every
    occurrence of it is removed from the list;
  - the whole cell of any other column (Categorical, Numeric, Date, NodeId): set missing, which is
    what the model sees for a missing value (Numeric and Date: their learned "missing" feature).

Why occlusion: it is model-agnostic (it reads only predict_proba / predict), exact rather than a local
linear approximation of a network whose input is hashed, normalised (log + L2, sometimes IDF) and
passed through a ReLU layer, and its score has a unit a user can read: probability, or the target's
own unit for a regressor. Its limits are the usual ones: pieces are removed one at a time, so two
words that each suffice for the prediction both score low (redundancy hides importance); a removed
word also removes the bigrams it formed and joins its neighbours into a new bigram (so "for" can rank
high in "for sale"); and a whole-column score includes its crosses and, for a temporal key, the key's
history (the history is read by key). A temporal model's timestamp column is no exception: set
missing, the row reads the key's whole history (a missing timestamp at prediction means "now"), so its
score measures the date features and the history cut-off together.

Cost: one model call per batch of rows. All perturbed copies of every row (1 + one per piece) go
into one table and one predict_proba (or predict) call, split only when it exceeds `_CHUNK_ROWS`
rows, `_CHUNK_BYTES` of text or `_CHUNK_SCORES` class scores (predict_proba's output is dense:
with 63,000 classes a call takes 530 rows). On 20 Newsgroups (demos/explain_news20.py, 2 cores) a
test document has about 140 distinct words, and explaining 200 of them (27,512 model rows) takes
1-3 s, 5-16 ms per document; its longest documents (54,000 characters, 1,950 distinct words) take
about 1 s each.
"""
from __future__ import annotations

import datetime
import decimal
import math
import numbers
import os
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from udt.columns import Categorical, Neighbors, Sequence, Text

LEVELS = ("token", "column")
_CHUNK_ROWS = 8192
_CHUNK_BYTES = 32 << 20
_CHUNK_SCORES = 1 << 25  # class scores per call (128 MB of float32): fewer rows for many classes

# featurizers/src/tokenize.cc: a word is a maximal run of ASCII letters/digits and non-ASCII
# characters (every byte >= 0x80 of their UTF-8 is a word byte); "words-punct" also makes each
# printable ASCII punctuation character a token; lowercasing is ASCII only.
_WORDS = re.compile(r"[A-Za-z0-9\u0080-\U0010ffff]+")
_WORDS_PUNCT = re.compile(r"[A-Za-z0-9\u0080-\U0010ffff]+|[!-/:-@\[-`{-~]")
_SPACE_SEPARATED = re.compile(r"[^ \t\n\r\f\v]+")  # char-k folds exactly these into one space
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_PART_STRIP = " \t\r\n"  # what for_each_part (column_features.h) trims from each delimited part


@dataclass(frozen=True)
class Explanation:
    """One piece of a row's input and how much the prediction depends on it.

    column: the input column.
    token: what was removed: the word (Text), the value (Categorical, Numeric, Date, NodeId, one
        element of a multi-valued column), or None when the whole column was removed
        (level="column" on a Text or multi-valued column).
    score: the model's output on the full row minus its output with this piece removed: the drop in
        the explained class's probability (classifiers), or in the predicted value (regressors).
        Positive: the piece supports the prediction; negative: it argues against it.
    """

    column: str
    token: Any
    score: float

    def as_dict(self) -> dict:
        """JSON-able form: {"column": str, "token": str | int | float | bool | None, "score": float}."""
        return {"column": self.column, "token": _jsonable(self.token), "score": float(self.score)}


class RowExplanation(list):
    """The Explanations of one row, most important first (a list), with what they explain:

    target_class: the class whose probability the scores are drops of (classifiers; None for regressors).
    value: the model's output on the full row: that class's probability, or the predicted value.
    """

    def __init__(self, entries, target_class, value):
        super().__init__(entries)
        self.target_class = target_class
        self.value = value

    def as_dict(self) -> dict:
        """JSON-able form: {"target_class": label | None, "value": float, "explanations": [entry, ...]}."""
        return {"target_class": _jsonable(self.target_class), "value": float(self.value),
                "explanations": [e.as_dict() for e in self]}

    def __repr__(self):
        return (f"RowExplanation(target_class={self.target_class!r}, value={self.value!r}, "
                f"{list.__repr__(self)})")


def explain(model, rows, *, top=None, target_class=None, level="token", columns=None):
    """Attributes each prediction of a fitted udt.Classifier or udt.Regressor to its input pieces.

    rows: one row as a dict (a missing key is a missing value) or a pandas Series, or many: a pandas
        DataFrame, a list of row dicts, a pyarrow Table, or a CSV/Parquet path. They may hold the
        target column, which is ignored (it is never explained); any other column must be one the
        model declares.
    top: keep only the `top` most important entries of each row (None: all).
    target_class (classifiers): the class to explain; None explains each row's most probable class
        (the argmax of predict_proba, i.e. exact dense inference). For a batch, one label for every
        row or a sequence of one label per row.
    level: "token" (default): one entry per word of a Text column, per value of a multi-valued
        column, and per single-valued column (token = its value). "column": one entry per column,
        the whole cell removed (token = the value for single-valued columns, else None).
    columns: the input columns to explain (default: all); the others stay in every copy of the row.

    Returns, for one row, a RowExplanation: a list of Explanation(column, token, score), most important
    first, with .target_class and .value; for a batch, a list of them, one per row. Cells that are
    missing (or empty text) get no entry: removing them changes nothing.

    score = output(full row) - output(row with the piece removed), where the output is the
    probability of target_class (predict_proba; for multi-label targets the class's sigmoid score),
    or the predicted value of a regressor. Classifier entries are sorted by score, highest first
    (what supports the class most comes first; negative scores, evidence against it, come last).
    Regressor entries are sorted by |score|, highest first, since a piece that lowers the
    prediction matters as much as one that raises it. Ties keep column order, then token order.
    """
    from sklearn.base import is_classifier as sklearn_is_classifier, is_regressor
    if not (hasattr(type(model), "explain") and (sklearn_is_classifier(model) or is_regressor(model))):
        raise TypeError(f"explain() needs a fitted udt.Classifier or udt.Regressor, got {type(model).__name__}")
    from sklearn.utils.validation import check_is_fitted
    check_is_fitted(model, msg=f"this udt.{type(model).__name__} is not fitted yet; call fit() before explain()")
    is_classifier = sklearn_is_classifier(model)
    target = model.model_.featurizer.target
    if level not in LEVELS:
        raise ValueError(f"invalid level={level!r}: expected one of {', '.join(repr(v) for v in LEVELS)}")
    if top is not None and (not isinstance(top, numbers.Integral) or isinstance(top, bool) or top < 1):
        raise ValueError(f"invalid top={top!r}: expected None or an integer >= 1")
    if target_class is not None and not is_classifier:
        raise ValueError("target_class applies to classifiers; a udt.Regressor explains its predicted value")

    specs = {name: spec for name, spec in _column_types(model).items() if name != target}
    explained = _explained_columns(columns, specs, target)
    import pandas as pd
    if isinstance(rows, pd.Series):  # df.iloc[i]: one row
        rows = rows.to_dict()
    single = isinstance(rows, dict) and all(_is_scalar(v) for v in rows.values())  # else a dict of columns
    table = _input_table(rows, specs, target)
    n = table.num_rows
    targets = _target_ids(model, target_class, n, single) if is_classifier else None
    if n == 0:
        return []

    py_rows = table.to_pylist()
    max_rows = max(1, min(_CHUNK_ROWS, _CHUNK_SCORES // len(model.classes_))) if is_classifier else _CHUNK_ROWS
    plans = _Plans(py_rows, specs, explained, level, max_rows)
    values = np.empty(n)        # the output on each full row
    chosen = np.empty(n, np.int64)  # the explained class id of each row
    scores = [[] for _ in range(n)]
    for chunk in plans.chunks():
        out = _predict(model, table, py_rows, chunk, is_classifier)
        for item, prediction in zip(chunk, out):
            r = item.row
            if item.column is None:  # the full row: comes before its pieces
                if is_classifier:
                    chosen[r] = targets[r] if targets is not None else int(np.argmax(prediction))
                    values[r] = float(prediction[chosen[r]])
                else:
                    values[r] = prediction
                continue
            occluded = float(prediction[chosen[r]] if is_classifier else prediction)
            scores[r].append(Explanation(item.column, item.token, float(values[r] - occluded)))

    classes = model.classes_ if is_classifier else None
    key = (lambda e: -e.score) if is_classifier else (lambda e: -abs(e.score))
    results = []
    for r in range(n):
        entries = sorted(scores[r], key=key)  # stable: ties keep column, then token order
        if top is not None:
            entries = entries[:top]
        label = _python_value(classes[chosen[r]]) if is_classifier else None
        results.append(RowExplanation(entries, label, float(values[r])))
    return results[0] if single else results


# ----------------------------------------------------------------------------- input
def _column_types(model):
    """The column types the fitted model featurizes with: its featurizer's, which also hold any types
    inferred from the data when `columns` was omitted or partial."""
    return model.model_.featurizer.columns


def _explained_columns(columns, specs, target):
    if columns is None:
        return list(specs)
    if isinstance(columns, str):
        columns = [columns]
    columns = list(columns)
    for name in columns:
        if name == target:
            raise ValueError(f"column {name!r} is the target; explain() attributes predictions to input columns: "
                             f"{', '.join(repr(c) for c in specs)}")
        if name not in specs:
            raise ValueError(f"unknown column {name!r} in columns=; the model's input columns are: "
                             f"{', '.join(repr(c) for c in specs)}")
    return [name for name in specs if name in columns]


def _input_table(rows, specs, target):
    """`rows` as a pyarrow Table of exactly the input columns (absent ones all missing)."""
    import pandas as pd

    from udt.ingest.data import read_batches, to_table

    if isinstance(rows, (str, os.PathLike)) or (
            isinstance(rows, (list, tuple)) and rows and all(isinstance(p, (str, os.PathLike)) for p in rows)):
        table = pa.Table.from_batches(list(read_batches(rows)))
    elif isinstance(rows, (list, tuple)) and len(rows) == 0:
        return pa.table({name: pa.nulls(0, pa.string()) for name in specs})
    elif isinstance(rows, dict) and not rows:
        table = pa.table({name: pa.nulls(1, pa.string()) for name in list(specs)[:1]})
    elif isinstance(rows, dict) and all(_is_scalar(v) for v in rows.values()):
        table = pa.Table.from_pylist([rows])  # one row; to_table would read a dict of lists as columns
    else:
        if isinstance(rows, (list, tuple)) and not all(isinstance(r, dict) for r in rows):
            raise TypeError("explain() takes a row dict, a list of row dicts, a DataFrame, a pyarrow Table or a path; "
                            f"got a {type(rows).__name__} of {type(rows[0]).__name__}")
        if isinstance(rows, pd.DataFrame) and len(rows) == 0:
            return pa.table({name: pa.nulls(0, pa.string()) for name in specs})
        table = to_table(rows)
    unknown = [c for c in table.schema.names if c not in specs and c != target]
    if unknown:
        raise ValueError(f"unknown column {unknown[0]!r}; the model's input columns are: "
                         f"{', '.join(repr(c) for c in specs)}" + (f" (and the target {target!r})" if target else ""))
    arrays = {}
    for name, spec in specs.items():
        if name not in table.schema.names:
            arrays[name] = pa.nulls(table.num_rows, pa.string())
            continue
        array = table.column(name)
        if pa.types.is_null(array.type) or (isinstance(spec, Text) and not (
                pa.types.is_string(array.type) or pa.types.is_large_string(array.type))):
            array = pc.cast(array, pa.string())  # tokenized as text, like the featurizer's canonical text
        if pa.types.is_dictionary(array.type):
            array = array.dictionary_decode()
        arrays[name] = array
    return pa.table(arrays)


def _is_scalar(v):
    return not isinstance(v, (list, tuple, dict, set, pa.Array, pa.ChunkedArray)) and getattr(v, "ndim", 0) == 0


def _target_ids(model, target_class, n, single):
    if target_class is None:
        return None
    classes = list(model.classes_)
    per_row = not single and not isinstance(target_class, (str, bytes)) and (
        isinstance(target_class, (list, tuple)) or getattr(target_class, "ndim", 0) == 1)
    wanted = list(target_class) if per_row else [target_class] * n
    if per_row and len(wanted) != n:
        raise ValueError(f"target_class has {len(wanted)} labels for {n} rows; give one label, or one per row")
    index = {}
    for i, c in enumerate(classes):
        index.setdefault(_python_value(c), i)
    ids = []
    for label in wanted:
        i = index.get(_python_value(label))
        if i is None:
            shown = ", ".join(repr(_python_value(c)) for c in classes[:20]) + (", ..." if len(classes) > 20 else "")
            raise ValueError(f"target_class {label!r} is not one of the model's classes: {shown}")
        ids.append(i)
    return np.asarray(ids, np.int64)


# ----------------------------------------------------------------------------- perturbations
class _Item:
    """One copy of a row: the full row (column None) or the row with one piece removed."""

    __slots__ = ("row", "column", "token", "value", "nbytes")

    def __init__(self, row, column, token, value, nbytes):
        self.row, self.column, self.token, self.value, self.nbytes = row, column, token, value, nbytes


class _Plans:
    """The copies of every row, generated lazily and grouped into chunks of one model call each."""

    def __init__(self, py_rows, specs, explained, level, max_rows):
        self.py_rows, self.specs, self.explained, self.level = py_rows, specs, explained, level
        self.max_rows = max_rows

    def items(self):
        for r, row in enumerate(self.py_rows):
            row_bytes = sum(len(v) for v in row.values() if isinstance(v, str))
            yield _Item(r, None, None, None, row_bytes)
            for name in self.explained:
                cell = row[name]
                others = row_bytes - (len(cell) if isinstance(cell, str) else 0)
                for token, value in _pieces(self.specs[name], cell, self.level):
                    yield _Item(r, name, token, value, others + (len(value) if isinstance(value, str) else 0))

    def chunks(self):
        chunk, size = [], 0
        for item in self.items():
            if chunk and (len(chunk) >= self.max_rows or size + item.nbytes > _CHUNK_BYTES):
                yield chunk
                chunk, size = [], 0
            chunk.append(item)
            size += item.nbytes
        if chunk:
            yield chunk


def _pieces(spec, value, level):
    """(token, the cell with that token removed) for each piece of one cell; nothing for a missing cell."""
    if _is_missing(value):
        return []
    if isinstance(spec, Text):
        return [] if level == "column" and not value.strip() else (
            [(None, None)] if level == "column" else _text_pieces(spec, value))
    delimiter = spec.delimiter if isinstance(spec, (Categorical, Sequence, Neighbors)) else None
    if delimiter is None or not isinstance(value, str):
        if isinstance(value, str) and not value.strip(_PART_STRIP):
            return []  # the featurizer reads a blank value as missing
        return [(value, None)]
    parts = [p.strip(_PART_STRIP) for p in value.split(delimiter)]
    parts = [p for p in parts if p]
    if not parts:
        return []
    if level == "column":
        return [(None, None)]
    out = []
    for token in dict.fromkeys(parts):
        rest = [p for p in parts if p != token]
        out.append((token, delimiter.join(rest) if rest else None))
    return out


def _text_pieces(spec, text):
    """Yields each distinct word of `text` (the model's form: lowercased when the column lowercases)
    and the text with all its occurrences deleted."""
    pattern = (_SPACE_SEPARATED if spec.tokenizer.startswith("char-")
               else _WORDS_PUNCT if spec.tokenizer == "words-punct" else _WORDS)
    spans = {}  # key -> [(start, end), ...] of its occurrences, in text order
    for m in pattern.finditer(text):
        key = m.group().translate(_ASCII_LOWER) if spec.lowercase else m.group()
        spans.setdefault(key, []).append(m.span())
    for key, occurrences in spans.items():  # slices of the text between the occurrences: O(occurrences)
        kept, last = [], 0
        for start, end in occurrences:
            kept.append(text[last:start])
            last = end
        kept.append(text[last:])
        yield key, "".join(kept)  # lazily: a long document's copies are built one chunk at a time


def _is_missing(value):
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and value == ""


# ----------------------------------------------------------------------------- prediction
def _predict(model, table, py_rows, chunk, is_classifier):
    """The model's output on every copy of the chunk: (len, n_classes) probabilities or (len,) values."""
    copies = pa.array([item.row for item in chunk], pa.int64())
    base = table.take(copies)
    changed = {}
    for i, item in enumerate(chunk):
        if item.column is not None:
            changed.setdefault(item.column, []).append(i)
    for name, positions in changed.items():
        cells = [py_rows[item.row][name] for item in chunk]
        for i in positions:
            cells[i] = chunk[i].value
        field = table.schema.field(name)
        base = base.set_column(base.schema.get_field_index(name), field, pa.array(cells, type=field.type))
    if is_classifier:
        return np.asarray(model.predict_proba(base))
    return np.asarray(model.predict(base), np.float64)


def _python_value(v):
    return v.item() if isinstance(v, np.generic) else v


def _jsonable(v):
    v = _python_value(v)
    if v is None or isinstance(v, (str, bool, int)):
        return v
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if isinstance(v, (datetime.date, datetime.datetime, datetime.time)):
        return v.isoformat()
    if isinstance(v, decimal.Decimal):
        return float(v)
    if isinstance(v, bytes):
        return v.decode("utf-8", errors="replace")
    return str(v)


__all__ = ["explain", "Explanation", "RowExplanation", "LEVELS"]
