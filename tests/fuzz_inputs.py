"""Deterministic fuzz inputs for udt's CSV reader, featurizers and model-file reader (issue 16, item 7).

Not a test module: tests/test_fuzz.py drives these. Every case is a pure function of (target, seed):
`csv_case(seed)`, `frame_case(seed)` and `model_case(seed, bases)` build the same input on every run and
machine, so a failing seed printed by a run reproduces anywhere. Randomness is `random.Random(seed)` only.

- CSV cases: a small table in one of a few schemas (text/numeric/categorical/date, temporal, graph,
  inferred columns, regression), written as CSV and mutated at the byte level: byte flips, truncation,
  inserted quotes, newlines, CRs and delimiters, huge fields, invalid UTF-8, BOMs, duplicated or dropped
  lines, gzip (sometimes truncated).
- DataFrame cases: the same tables as pandas frames with odd cells: mixed object dtypes, NaN and inf,
  huge ints (beyond int64), non-UTF-8 bytes, tz-aware timestamps, None, bools, lists and dicts, -0.0.
- Model-file cases: a valid model file (udt.model_file.serialization's layout: magic, version, header
  JSON, safetensors payload, trailing sha256) whose header JSON fields (dims, lsh params, offsets, dtypes,
  shapes, nested JSON, 1e999, negative lengths, ...) or array bytes are mutated, then RE-SIGNED (header
  length, payload_length and sha256 recomputed) so the checksum passes and the mutation reaches the parser.
  A few cases mutate raw bytes without re-signing, to keep the checksum path covered.
"""
from __future__ import annotations

import copy
import gzip
import hashlib
import json
import random
import struct

import numpy as np
import pandas as pd

MAGIC = b"UDTMODEL"
_PREAMBLE = struct.Struct("<8sIQ")
_DIGEST = 32

# ------------------------------------------------------------------ base tables
WORDS = "ball goal team cpu code chip bread soup oven the a of new old".split()
SCHEMAS = ("text", "temporal", "graph", "inferred", "regress")


def base_table(schema: str, rng: random.Random, n: int | None = None) -> dict[str, list]:
    """A small clean table (column name -> list of str/int/float) for `schema`."""
    n = n or rng.randint(6, 40)
    if schema == "text" or schema == "inferred":
        return {"text": [" ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 6))) for _ in range(n)],
                "price": [round(rng.uniform(-5, 50), 3) for _ in range(n)],
                "shop": [f"shop{rng.randint(0, 4)}" for _ in range(n)],
                "when": [f"2020-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}" for _ in range(n)],
                "topic": [f"t{i % 3}" for i in range(n)]}
    if schema == "temporal":
        return {"user": [f"u{rng.randint(0, 5)}" for _ in range(n)],
                "item": [f"i{rng.randint(0, 7)}" for _ in range(n)],
                "time": [1_600_000_000 + 3600 * i for i in range(n)]}
    if schema == "graph":
        return {"id": list(range(n)),
                "nb": [" ".join(str(rng.randint(0, n - 1)) for _ in range(rng.randint(0, 3))) for _ in range(n)],
                "word": [rng.choice(WORDS) for _ in range(n)],
                "label": [f"L{i % 3}" for i in range(n)]}
    if schema == "regress":
        return {"x1": [rng.uniform(0, 10) for _ in range(n)], "color": [rng.choice("rgb") for _ in range(n)],
                "y": [rng.uniform(90, 130) for _ in range(n)]}
    raise ValueError(schema)


def estimator_spec(schema: str) -> dict:
    """What test_fuzz builds the estimator from, as plain data: kind, target, column types by name,
    and extra options. Column types are udt class names (the runner maps them)."""
    if schema == "text":
        return {"kind": "Classifier", "target": "topic", "options": {},
                "columns": {"text": "Text", "price": "Numeric", "shop": "Categorical", "when": "Date",
                            "topic": "Categorical"}}
    if schema == "inferred":
        return {"kind": "Classifier", "target": "topic", "options": {}, "columns": None}
    if schema == "temporal":
        return {"kind": "Classifier", "target": "item", "options": {"temporal": {"user": ["item"]}},
                "columns": {"user": "Categorical", "item": "Categorical", "time": "Date"}}
    if schema == "graph":
        return {"kind": "Classifier", "target": "label", "options": {},
                "columns": {"id": "NodeId", "nb": "Neighbors", "word": "Categorical", "label": "Categorical"}}
    if schema == "regress":
        return {"kind": "Regressor", "target": "y", "options": {},
                "columns": {"x1": "Numeric", "color": "Categorical", "y": "Numeric"}}
    raise ValueError(schema)


# ------------------------------------------------------------------ CSV
def to_csv_bytes(table: dict[str, list], delimiter: str = ",") -> bytes:
    names = list(table)
    lines = [delimiter.join(names)]
    for i in range(len(table[names[0]])):
        cells = []
        for name in names:
            s = str(table[name][i])
            if any(c in s for c in (delimiter, '"', "\n", "\r")):
                s = '"' + s.replace('"', '""') + '"'
            cells.append(s)
        lines.append(delimiter.join(cells))
    return ("\n".join(lines) + "\n").encode("utf-8")


_INVALID_UTF8 = (b"\xff", b"\xc3", b"\xe2\x82", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80", b"\xc0\xaf", b"\x80")


def _insert(data: bytes, rng: random.Random, piece: bytes) -> bytes:
    at = rng.randint(0, len(data))
    return data[:at] + piece + data[at:]


def mutate_csv_bytes(data: bytes, rng: random.Random, delimiter: str = ",") -> tuple[bytes, list[str]]:
    """1-3 byte-level mutations; returns the bytes and the names of what was done."""
    done = []
    for _ in range(rng.randint(1, 3)):
        op = rng.choice(("flip", "truncate", "quote", "newline", "cr", "delimiter", "huge", "utf8", "bom",
                         "dup_line", "drop_line", "nul", "delete", "quoted_newline", "empty", "blank_lines",
                         "huge_line", "many_columns"))
        done.append(op)
        if op == "flip" and data:
            b = bytearray(data)
            for _ in range(rng.randint(1, 4)):
                i = rng.randrange(len(b))
                b[i] ^= 1 << rng.randrange(8)
            data = bytes(b)
        elif op == "truncate":
            data = data[:rng.randint(0, len(data))]
        elif op == "quote":
            data = _insert(data, rng, rng.choice((b'"', b'""', b'"""', b'"x"y')))
        elif op == "newline":
            data = _insert(data, rng, b"\n")
        elif op == "cr":
            data = _insert(data, rng, rng.choice((b"\r", b"\r\n", b"\n\r")))
        elif op == "delimiter":
            data = _insert(data, rng, rng.choice((delimiter.encode(), b",", b";", b"\t", b"|")) * rng.randint(1, 3))
        elif op == "huge":
            size = rng.choice((1 << 10, 70_000, 140_000, 300_000))
            data = _insert(data, rng, rng.choice((b"x", b"ab ", b"7", b'"')) * (size // 2))
        elif op == "utf8":
            data = _insert(data, rng, rng.choice(_INVALID_UTF8))
        elif op == "bom":
            data = b"\xef\xbb\xbf" + data if rng.random() < 0.7 else _insert(data, rng, b"\xef\xbb\xbf")
        elif op in ("dup_line", "drop_line"):
            lines = data.split(b"\n")
            if lines:
                i = rng.randrange(len(lines))
                lines[i:i + 1] = [lines[i], lines[i]] if op == "dup_line" else []
            data = b"\n".join(lines)
        elif op == "nul":
            data = _insert(data, rng, b"\x00" * rng.randint(1, 3))
        elif op == "delete" and data:
            i = rng.randrange(len(data))
            data = data[:i] + data[i + rng.randint(1, 20):]
        elif op == "quoted_newline":
            data = _insert(data, rng, b'"a\nb,c"')
        elif op == "empty":
            data = b"" if rng.random() < 0.5 else data.split(b"\n", 1)[0] + b"\n"
        elif op == "blank_lines":
            data = _insert(data, rng, b"\n" * rng.randint(2, 5))
        elif op == "huge_line":
            lines = data.split(b"\n")
            i = rng.randrange(len(lines))
            lines[i] = lines[i] + (b"," + b"z" * rng.randint(1, 50)) * rng.choice((1, 10, 200))
            data = b"\n".join(lines)
        elif op == "many_columns":
            data = data.split(b"\n", 1)[0] + (b",c" * rng.randint(1, 50)) + b"\n" + (data.split(b"\n", 1) + [b""])[1]
    return data, done


def csv_case(seed: int) -> dict:
    """{'schema', 'spec', 'suffix' ('.csv' or '.csv.gz'), 'data' (file bytes), 'ops'} for CSV seed `seed`."""
    rng = random.Random(seed)
    schema = rng.choice(SCHEMAS)
    delimiter = rng.choice((",", ",", ",", "\t", ";", "|"))
    data = to_csv_bytes(base_table(schema, rng), delimiter)
    data, ops = mutate_csv_bytes(data, rng, delimiter)
    suffix = ".csv"
    if rng.random() < 0.15:
        suffix = ".csv.gz"
        data = gzip.compress(data, mtime=0)
        if rng.random() < 0.5:
            cut = rng.randint(0, len(data) - 1)
            data = data[:cut]
            ops.append(f"gzip_truncate@{cut}")
        else:
            ops.append("gzip")
    return {"schema": schema, "spec": estimator_spec(schema), "suffix": suffix, "data": data, "ops": ops}


# ------------------------------------------------------------------ DataFrames
class _Opaque:
    """An object pyarrow cannot convert, with a repr that is the same on every run."""

    def __repr__(self):
        return "<opaque>"


def _odd_value(rng: random.Random):
    return rng.choice((
        float("nan"), float("inf"), float("-inf"), -0.0, 0, -1, 2 ** 63, 2 ** 64 + 1, -(2 ** 70), 10 ** 30,
        1e308, 5e-324, None, True, False, "", " ", "nan", "inf", "1e999", "-0", "\x00", "é", "\ud800x",
        b"\xff\xfe", b"caf\xe9", b"ok", [1, 2], {"a": 1}, (1,), np.int64(-5), np.uint64(2 ** 64 - 1),
        np.float32("nan"), pd.NaT, pd.Timestamp("2020-01-01T03:00", tz="Asia/Kolkata"),
        pd.Timestamp("1677-09-22"), pd.Timedelta("1D"), "2020-13-45", "2020-01-01T03:00+05:30",
        "x" * rng.choice((10, 70_000)), 1.5, complex(1, 2), _Opaque(),
    ))


def _encodable(s: str) -> bool:
    """False for strings pandas' default (Arrow-backed) string dtype cannot hold, e.g. lone surrogates."""
    try:
        s.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def mutate_frame(table: dict[str, list], rng: random.Random) -> tuple[pd.DataFrame, list[str]]:
    table = {k: list(v) for k, v in table.items()}
    names = list(table)
    n = len(table[names[0]])
    done = []
    for _ in range(rng.randint(1, 4)):
        op = rng.choice(("cell", "cell", "cell", "column", "tz_column", "huge_int_column", "bytes_column",
                         "float_column", "drop_column", "empty", "bool_column", "categorical_dtype"))
        col = rng.choice(names)
        done.append(f"{op}:{col}")
        if op == "cell" and n:
            table[col][rng.randrange(n)] = _odd_value(rng)
        elif op == "column":
            v = _odd_value(rng)
            table[col] = [v] * n
        elif op == "tz_column":
            tz = rng.choice(("UTC", "Asia/Kolkata", "America/New_York"))
            table[col] = list(pd.date_range("2020-01-01", periods=n, freq="h", tz=tz))
        elif op == "huge_int_column":
            table[col] = [rng.choice((2 ** 63, 2 ** 64, -(2 ** 63) - 1, 7)) + i for i in range(n)]
        elif op == "bytes_column":
            table[col] = [rng.choice((b"\xff", b"abc", b"caf\xe9", b"\xc3")) for _ in range(n)]
        elif op == "float_column":
            table[col] = [rng.choice((0.5, float("nan"), float("inf"), -0.0, 1e300)) for _ in range(n)]
        elif op == "drop_column" and len(table) > 1:
            del table[col]
            names.remove(col)
        elif op == "empty":
            keep = rng.choice((0, 1))
            table = {k: v[:keep] for k, v in table.items()}
            n = len(table[names[0]])
        elif op == "bool_column":
            table[col] = [bool(i % 2) for i in range(n)]
        elif op == "categorical_dtype":
            done[-1] += "(pandas category)"
    frame = pd.DataFrame({k: pd.Series(v, dtype=object) if any(not isinstance(x, (int, float, str)) or
                                                               (isinstance(x, str) and not _encodable(x)) for x in v)
                          else v for k, v in table.items()})
    for d in done:
        if d.endswith("(pandas category)"):
            c = d.split(":", 1)[1].split("(")[0]
            if c in frame:
                try:
                    frame[c] = frame[c].astype("category")
                except (TypeError, ValueError):
                    pass
    return frame, done


def frame_case(seed: int) -> dict:
    """{'schema', 'spec', 'frame' (pandas DataFrame), 'ops'} for DataFrame seed `seed`."""
    rng = random.Random(seed)
    schema = rng.choice(SCHEMAS)
    frame, ops = mutate_frame(base_table(schema, rng), rng)
    return {"schema": schema, "spec": estimator_spec(schema), "frame": frame, "ops": ops}


# ------------------------------------------------------------------ model files
def split_model(blob: bytes) -> tuple[int, dict, bytes]:
    """(format_version, header dict, payload bytes) of a valid model file."""
    magic, version, hlen = _PREAMBLE.unpack_from(blob)
    assert magic == MAGIC
    header = json.loads(blob[_PREAMBLE.size:_PREAMBLE.size + hlen])
    payload = blob[_PREAMBLE.size + hlen:len(blob) - _DIGEST]
    return version, header, payload


def split_payload(payload: bytes) -> tuple[dict, bytes]:
    """(safetensors entries, data bytes) of a payload."""
    if not payload:
        return {}, b""
    (n,) = struct.unpack_from("<Q", payload)
    return json.loads(payload[8:8 + n]), payload[8 + n:]


def join_payload(entries: dict, data: bytes, raw: bytes | None = None) -> bytes:
    text = raw if raw is not None else json.dumps(entries, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data


_RAW = "__fuzz_raw_%d__"


def dumps_with_raw(obj, raws: list[str]) -> bytes:
    """json.dumps where strings _RAW % i are replaced by the raw JSON text raws[i] (e.g. 1e999, or a
    nesting deeper than json.dumps could produce)."""
    text = json.dumps(obj, separators=(",", ":"), allow_nan=True)
    for i, raw in enumerate(raws):
        text = text.replace(json.dumps(_RAW % i), raw)
    return text.encode("utf-8")


def sign(version: int, header_bytes: bytes, payload: bytes, header_length: int | None = None) -> bytes:
    """A model file with a correct sha256 over everything before it (the checksum has no key)."""
    hlen = len(header_bytes) if header_length is None else header_length
    body = _PREAMBLE.pack(MAGIC, version, hlen) + header_bytes + payload
    return body + hashlib.sha256(body).digest()


def resign(blob: bytes) -> bytes:
    """Recompute the sha256 of a (mutated) file whose digest is stale."""
    body = blob[:-_DIGEST] if len(blob) >= _DIGEST else blob
    return body + hashlib.sha256(body).digest()


def _leaves(obj, path=()):
    """Every (path, value) in nested dicts/lists, containers included, in a deterministic order."""
    yield path, obj
    if isinstance(obj, dict):
        for k in sorted(obj, key=str):
            yield from _leaves(obj[k], path + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj[:20]):
            yield from _leaves(v, path + (i,))


def _set(obj, path, value):
    for k in path[:-1]:
        obj = obj[k]
    obj[path[-1]] = value


def _delete(obj, path):
    for k in path[:-1]:
        obj = obj[k]
    del obj[path[-1]]


_INTERESTING_KEYS = ("dim", "lsh", "offset", "n_threads", "shape", "dtype", "length", "classes", "labels",
                     "history", "graph", "k", "l", "r", "seed", "version", "batch", "sparsity", "quantiles",
                     "ranges", "bins", "delimiter", "columns", "target", "encoding", "temporal", "seen", "keys")


def _odd_json(rng: random.Random, raws: list[str], old=None):
    choices = [0, -1, 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 63 - 1, 2 ** 64, -(2 ** 63), 1 << 40, -(1 << 40),
               0.5, -0.0, float("nan"), float("inf"), None, True, False, "", "x", "Text", "float32", "F32",
               [], {}, [1, 2, 3], {"a": None}, [None], [[[]]], "raw:1e999", "raw:-1e999", "raw:deep", "raw:big",
               "raw:nested_obj"]
    v = rng.choice(choices)
    if isinstance(old, (int, float)) and not isinstance(old, bool) and rng.random() < 0.3:
        v = rng.choice((old * 2 + 1, old - 1, -old, old * 1000, int(old) + 1 if old == old and abs(old) != float("inf") else 0))
    if isinstance(v, str) and v.startswith("raw:"):
        kind = v[4:]
        raw = {"1e999": "1e999", "-1e999": "-1e999",
               "deep": "[" * rng.choice((200, 5000, 200_000)) + "]" * 0,  # filled below
               "big": "9" * rng.choice((20, 400, 5000)),
               "nested_obj": '{"a":' * 3000 + "0" + "}" * 3000}[kind]
        if kind == "deep":
            depth = len(raw)
            raw = "[" * depth + "]" * depth
        raws.append(raw)
        return _RAW % (len(raws) - 1)
    return copy.deepcopy(v)


def mutate_metadata(header: dict, rng: random.Random, raws: list[str]) -> list[str]:
    """Mutates header['metadata'] in place (1-3 edits of a leaf or container); names what was done."""
    meta = header["metadata"]
    paths = [p for p, _ in _leaves(meta) if p]
    keyed = [p for p in paths if any(s in str(p[-1]).lower() for s in _INTERESTING_KEYS)
             or any(s in str(k).lower() for k in p for s in ("network", "lsh", "featurizer", "graph", "history"))]
    done = []
    for _ in range(rng.randint(1, 3)):
        if not paths:
            break
        path = rng.choice(keyed if keyed and rng.random() < 0.7 else paths)
        try:
            old = meta
            for k in path:
                old = old[k]
        except (KeyError, IndexError, TypeError):
            continue
        op = rng.random()
        if op < 0.75:
            new = _odd_json(rng, raws, old)
            _set(meta, path, new)
            done.append(f"set {'/'.join(map(str, path))}={str(new)[:40]}")
        elif op < 0.85:
            _delete(meta, path)
            done.append(f"delete {'/'.join(map(str, path))}")
        elif op < 0.92 and isinstance(old, dict):
            old["fuzz_extra"] = _odd_json(rng, raws)
            done.append(f"add key under {'/'.join(map(str, path))}")
        elif isinstance(old, list) and old:
            rng.shuffle(old) if rng.random() < 0.5 else old.append(copy.deepcopy(old[-1]))
            done.append(f"reorder/extend {'/'.join(map(str, path))}")
        else:
            _set(meta, path, _odd_json(rng, raws))
            done.append(f"set {'/'.join(map(str, path))}")
        paths = [p for p, _ in _leaves(meta) if p]
        keyed = [p for p in paths if p in keyed] or paths
    return done


def mutate_entries(entries: dict, data: bytes, rng: random.Random, raws: list[str]) -> tuple[dict, bytes, list[str]]:
    """Mutates the safetensors header (dtype, shape, data_offsets, names) and keeps it otherwise valid."""
    names = sorted(n for n in entries if n != "__metadata__")
    done = []
    if not names:
        return entries, data, done
    name = rng.choice(names)
    info = entries[name]
    op = rng.choice(("dtype", "shape", "offsets", "drop", "rename", "negative_shape", "huge_shape", "extra",
                     "shape_consistent", "dtype_consistent"))
    done.append(f"entries {op} {name}")
    if op == "dtype":
        info["dtype"] = rng.choice(("F32", "F64", "U32", "I64", "U64", "U8", "BOOL", "F16", "X9", "", 7))
    elif op == "shape":
        info["shape"] = rng.choice(([], [0], [1], [10 ** 6], [-1], [2, -2], "3", [1.5], [[1]], [None]))
    elif op == "offsets":
        b, e = info["data_offsets"]
        info["data_offsets"] = rng.choice(([e, b], [b, e + 8], [-8, e], [b, 2 ** 64], [0, 0], "x", [b],
                                           [b - 4, e - 4], [b, e, 0], _odd_json(rng, raws)))
    elif op == "drop":
        del entries[name]
    elif op == "rename":
        entries[rng.choice(("engine/bogus", "network/embedding.weight", "featurizer/x", name + "x"))] = \
            entries.pop(name)
    elif op == "negative_shape":
        info["shape"] = [-(abs(d) or 1) for d in info["shape"]] or [-1]
    elif op == "huge_shape":
        info["shape"] = [2 ** 62, 4] if rng.random() < 0.5 else [2 ** 32, 2 ** 32]
    elif op == "extra":
        entries["fuzz/extra"] = {"dtype": "F32", "shape": [2], "data_offsets": [len(data), len(data) + 8]}
        data += b"\x00" * 8
    elif op in ("shape_consistent", "dtype_consistent"):
        # keep byte length consistent so the layout check passes and the mismatch reaches the model
        b, e = info["data_offsets"]
        nbytes = e - b
        if op == "shape_consistent":
            item = {"F64": 8, "I64": 8, "U64": 8, "F32": 4, "I32": 4, "U32": 4, "F16": 2, "U16": 2, "I16": 2}.get(
                info["dtype"], 1)
            count = nbytes // item
            info["shape"] = rng.choice(([count], [1, count], [count, 1], [0] if count == 0 else [count]))
        else:
            sizes = {"F64": 8, "I64": 8, "U64": 8, "F32": 4, "I32": 4, "U32": 4, "U8": 1, "I8": 1}
            fits = [d for d, s in sizes.items() if nbytes % s == 0]
            info["dtype"] = rng.choice(fits)
            info["shape"] = [nbytes // sizes[info["dtype"]]]
    return entries, data, done


def mutate_array_bytes(entries: dict, data: bytes, rng: random.Random) -> tuple[bytes, list[str]]:
    """Overwrites part of one array's bytes with flips, NaN/inf, huge values, 0xFF or offsets like 1 << 40."""
    names = sorted(n for n in entries if n != "__metadata__" and entries[n]["data_offsets"][1]
                   > entries[n]["data_offsets"][0])
    if not names:
        return data, []
    # arrays that index other arrays (offsets, ids, params) are the interesting ones
    key = [n for n in names if any(s in n for s in ("offset", "lsh", "history", "graph", "seen", "keys", "steps",
                                                    "buckets", "params", "labels", "schedule", "batches"))]
    name = rng.choice(key if key and rng.random() < 0.7 else names)
    b, e = entries[name]["data_offsets"]
    item = {"F64": 8, "I64": 8, "U64": 8, "F32": 4, "I32": 4, "U32": 4}.get(entries[name]["dtype"], 1)
    buf = bytearray(data)
    op = rng.choice(("flip", "ff", "zero", "value", "value", "nan"))
    count = (e - b) // item
    i = rng.randrange(count) if count else 0
    at = b + i * item
    if op == "flip":
        buf[rng.randrange(b, e)] ^= 1 << rng.randrange(8)
    elif op == "ff":
        buf[at:e] = b"\xff" * (e - at)
    elif op == "zero":
        buf[b:e] = b"\x00" * (e - b)
    elif op == "value":
        v = rng.choice((1 << 40, 2 ** 31, 2 ** 32 - 1, 2 ** 63 - 1, -1, -(1 << 40), 3, 0))
        fmt = {8: "<q" if entries[name]["dtype"] in ("I64",) else "<Q", 4: "<I" if entries[name]["dtype"] != "I32"
               else "<i", 1: "<B"}[item]
        if entries[name]["dtype"] in ("F32", "F64"):
            packed = struct.pack("<f" if item == 4 else "<d", float(v))
        else:
            try:
                packed = struct.pack(fmt, v)
            except struct.error:
                packed = struct.pack(fmt, v & ((1 << (8 * item - (1 if fmt.islower() else 0))) - 1))
        buf[at:at + item] = packed
        op = f"value {v} at [{i}]"
    elif op == "nan":
        if entries[name]["dtype"] == "F32":
            buf[at:at + 4] = struct.pack("<f", rng.choice((float("nan"), float("inf"), -float("inf"), 3e38)))
        else:
            buf[at:at + item] = b"\xff" * item
    return bytes(buf), [f"array {name}: {op}"]


def model_case(seed: int, bases: list[tuple[str, bytes]]) -> dict:
    """{'base' (its name), 'data' (the mutated, usually re-signed file), 'ops'} for model seed `seed`.

    `bases` is a list of (name, valid model file bytes); the seed picks one. Most cases are re-signed so
    the checksum passes; ~10% mutate raw bytes, truncate, or edit the preamble without fixing the
    digest, to cover the checks made before it."""
    rng = random.Random(seed)
    base_name, blob = bases[rng.randrange(len(bases))]
    version, header, payload = split_model(blob)
    entries, data = split_payload(payload)
    raws: list[str] = []
    kind = rng.random()
    ops: list[str] = []
    if kind < 0.05:  # raw damage, not re-signed: must be refused by the checksum/length checks
        b = bytearray(blob)
        for _ in range(rng.randint(1, 5)):
            b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
        return {"base": base_name, "data": bytes(b), "ops": ["raw flips, stale checksum"]}
    if kind < 0.09:
        cut = rng.randint(0, len(blob) - 1)
        out = blob[:cut]
        if rng.random() < 0.5:
            out = resign(out) if len(out) >= _DIGEST else out
            return {"base": base_name, "data": out, "ops": [f"truncated at {cut}, re-signed"]}
        return {"base": base_name, "data": out, "ops": [f"truncated at {cut}"]}
    if kind < 0.13:  # the preamble and the outer header, re-signed
        op = rng.choice(("version", "header_length", "payload_length", "not_json", "header_array", "deep_header",
                         "no_metadata"))
        ops.append(f"preamble {op}")
        hbytes = dumps_with_raw(header, raws)
        if op == "version":
            return {"base": base_name, "data": sign(rng.choice((0, 2, 2 ** 32 - 1)), hbytes, payload), "ops": ops}
        if op == "header_length":
            return {"base": base_name, "data": sign(version, hbytes, payload,
                                                    header_length=rng.choice((0, len(hbytes) - 1, len(hbytes) + 1,
                                                                              2 ** 63, 2 ** 64 - 1))), "ops": ops}
        if op == "payload_length":
            header["payload_length"] = _odd_json(rng, raws, header["payload_length"])
        elif op == "not_json":
            return {"base": base_name, "data": sign(version, b"\xff{not json" + hbytes[:20], payload), "ops": ops}
        elif op == "header_array":
            return {"base": base_name, "data": sign(version, b"[" * 100_000 + b"]" * 100_000, payload), "ops": ops}
        elif op == "deep_header":
            header["metadata"]["fuzz_deep"] = _RAW % len(raws)
            raws.append("[" * 100_000 + "]" * 100_000)
        elif op == "no_metadata":
            header["metadata"] = rng.choice((None, [], "x", 1))
        return {"base": base_name, "data": sign(version, dumps_with_raw(header, raws), payload), "ops": ops}
    payload_raw = None
    if kind < 0.55:
        ops += mutate_metadata(header, rng, raws)
    elif kind < 0.75:
        entries, data, more = mutate_entries(entries, data, rng, raws)
        ops += more
        if rng.random() < 0.2:  # the safetensors header itself as odd JSON
            payload_raw = rng.choice((b"[1,2]", b"{\"a\":" * 2000 + b"0" + b"}" * 2000, b"\xff\xfe", b"null",
                                      b'{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,1e999]}}'))
            ops.append("safetensors header replaced")
    elif kind < 0.92:
        data, more = mutate_array_bytes(entries, data, rng)
        ops += more
    else:
        ops += mutate_metadata(header, rng, raws)
        data, more = mutate_array_bytes(entries, data, rng)
        ops += more
    if raws and any(isinstance(e, dict) and any(_RAW % i in json.dumps(e) for i in range(len(raws)))
                    for e in entries.values()):
        payload_raw = dumps_with_raw(entries, raws)
    new_payload = join_payload(entries, data, payload_raw) if payload else payload
    header["payload_length"] = len(new_payload)
    return {"base": base_name, "data": sign(version, dumps_with_raw(header, raws), new_payload), "ops": ops}
