"""Reading tables: CSV and Parquet files streamed as pyarrow record batches (bounded
memory), pandas DataFrames, pyarrow Tables, dicts and lists of row dicts.

CSV rules: any one-character delimiter (sniffed from the header line when not given among
',', tab, ';', '|'); fields quoted with '"' where '""' is a literal quote (RFC 4180; no
backslash escapes); newlines inside quoted fields; CRLF or LF line ends (blank lines hold
no fields and are not rows); UTF-8 with or without a BOM; gzip-compressed when the name
ends in ".gz". Every column is read as text; the featurizers parse numbers and dates
themselves so a bad value is reported with its row and column. Invalid UTF-8 is an error
naming the line (never silently replaced).
"""
import codecs
import csv
import gzip
import io
import os
import zlib

import pyarrow as pa
import pyarrow.csv as pacsv

from udt import _core
from udt.errors import DataError
from udt.ingest.arrow_columns import column_view

DEFAULT_BATCH_ROWS = 8192
# Arrow's streaming CSV reader keeps up to 32 read blocks queued ahead of the consumer (its background reader's
# fixed queue), so the block size sets the reader's memory: 4 MB blocks held 144 MB of Arrow memory while udt
# trained on a 640 MB file, 256 KB blocks 9 MB, at the same speed (3.5 s to parse 640 MB either way). A row
# longer than a block is read by growing the block for the rest of the file (_csv_batches).
_CSV_BLOCK_BYTES = 256 << 10
_MAX_CSV_BLOCK_BYTES = 1 << 30
# Every batch handed on holds at most this many bytes of column data (and at least one row): rows of 1,000
# words make 8,192-row batches of 50 MB, and more once featurized.
PIECE_BYTES = 1 << 20
# What reading holds at a time besides what its consumer keeps: the block the CSV reader parses, the one it
# reads, and one piece handed on (udt.training.memory_budget counts it in the budget).
READ_BYTES_IN_FLIGHT = 2 * _CSV_BLOCK_BYTES + PIECE_BYTES
_PARQUET_SUFFIXES = (".parquet", ".pq", ".parq")
_SNIFF_DELIMITERS = (",", "\t", ";", "|")

_MAX_HEADER_BYTES = 64 << 20  # a header line longer than this is not a CSV header


class BatchSource:
    """One record batch with where it came from: `origin` (a file path or None),
    `first_row`, the 1-based data row number of its first row within that origin, and the
    CSV `delimiter` (None for other sources)."""

    __slots__ = ("batch", "origin", "first_row", "delimiter")

    def __init__(self, batch, origin, first_row, delimiter=None):
        self.batch, self.origin, self.first_row, self.delimiter = batch, origin, first_row, delimiter

    def line_of_row(self, row):
        """Physical line (from 1) where data row `row` starts in a CSV origin, else None.
        Re-reads the file: for error messages only."""
        if self.origin is None or self.delimiter is None:
            return None
        try:
            with io.TextIOWrapper(_open_binary(self.origin), newline="", encoding="utf-8-sig",
                                  errors="replace") as f:
                reader = csv.reader(f, delimiter=self.delimiter)
                start, seen = 1, -1  # the header is row 0
                for record in reader:
                    if record:
                        seen += 1
                        if seen == row:
                            return start
                    start = reader.line_num + 1
        except (csv.Error, OSError, EOFError):  # the line is a courtesy: never let it hide the real error
            return None
        return None


def read_batches(source, columns=None, batch_rows=DEFAULT_BATCH_ROWS, delimiter=None):
    """Yields pyarrow RecordBatches of at most `batch_rows` rows (and about PIECE_BYTES) from `source`: a CSV or
    Parquet path (or a list of paths), a pandas DataFrame, a pyarrow Table or RecordBatch,
    a dict of columns, a dict for one row, or a list of row dicts. `columns` selects (and
    requires) these column names."""
    for part in iter_sources(source, required=columns, optional=(), batch_rows=batch_rows, delimiter=delimiter):
        yield part.batch


def count_words(batch, columns) -> int:
    """Whitespace-separated words in `columns` of a record batch (missing values count 0 words)."""
    words = 0
    for name in columns:
        values = batch.column(batch.schema.get_field_index(name))
        if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
            try:
                values = values.cast(pa.string())
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                raise DataError(f"expected text, got values of type {values.type} that are not UTF-8 text",
                                column=name) from None
        for chunk in (values.chunks if isinstance(values, pa.ChunkedArray) else [values]):
            view, keep = column_view(chunk)
            words += _core.featurizers.count_words(view, len(chunk))  # a C++ scan: a regex took ~0.1 s per MB
    return words


def iter_sources(source, required, optional=(), batch_rows=DEFAULT_BATCH_ROWS, delimiter=None):
    """Like read_batches, yielding BatchSource. Columns in `required` must exist (DataError
    naming the missing one and listing the available ones); columns in `optional` are read
    when present. With required=None every column is read."""
    if isinstance(source, (str, os.PathLike)):
        yield from _file_batches(os.fspath(source), required, optional, batch_rows, delimiter)
    elif isinstance(source, (list, tuple)) and source and all(isinstance(s, (str, os.PathLike)) for s in source):
        for path in source:
            yield from _file_batches(os.fspath(path), required, optional, batch_rows, delimiter)
    else:
        table = to_table(source)
        names = _select(table.schema.names, required, optional, origin=None)
        table = table.select(names)
        first = 1  # an empty table yields nothing: predicting on it gives an empty result
        for batch in table.to_batches(max_chunksize=batch_rows):
            for piece in _pieces(batch, batch_rows):
                yield BatchSource(piece, None, first)
                first += piece.num_rows


def _pieces(batch, batch_rows):
    """Zero-copy slices of `batch` of at most `batch_rows` rows and about PIECE_BYTES each (at least one row)."""
    n = batch.num_rows
    rows = batch_rows
    if n and batch.nbytes > PIECE_BYTES:
        rows = max(1, min(batch_rows, int(PIECE_BYTES * n // batch.nbytes)))
    for start in range(0, n, rows):
        yield batch.slice(start, rows)


def to_table(source):
    """A pyarrow Table from an in-memory source (DataFrame, Table, RecordBatch, dict, list of dicts)."""
    if isinstance(source, pa.Table):
        return source
    if isinstance(source, pa.RecordBatch):
        return pa.Table.from_batches([source])
    if isinstance(source, pa.RecordBatchReader):  # read once; fit's passes then share the table
        return source.read_all()
    if isinstance(source, dict):
        if source and all(_is_column(v) for v in source.values()):
            return pa.table({k: _column_array(v) for k, v in source.items()})
        return pa.Table.from_pylist([source])  # one row
    if isinstance(source, list) and source and all(isinstance(r, dict) for r in source):
        return pa.Table.from_pylist(source)
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - pandas is a dependency
        pd = None
    if pd is not None and isinstance(source, pd.DataFrame):
        try:
            return pa.Table.from_pandas(source, preserve_index=False)
        except (pa.ArrowException, OverflowError, UnicodeError, TypeError, ValueError) as e:
            raise _frame_error(source, e) from None
    raise DataError(
        f"cannot read data from {type(source).__name__}; expected a CSV or Parquet path, a pandas DataFrame, "
        "a pyarrow Table or RecordBatchReader, a dict or a list of row dicts"
    )


def _frame_error(frame, error) -> DataError:
    """The column of a DataFrame that Arrow cannot convert, with what it holds (Arrow's message names a
    column only sometimes)."""
    for name in frame.columns:
        try:
            pa.array(frame[name], from_pandas=True)
        except (pa.ArrowException, OverflowError, UnicodeError, TypeError, ValueError) as e:
            kinds = sorted({type(v).__name__ for v in frame[name].head(1000)})
            return DataError(f"cannot read the values ({type(e).__name__}: {str(e)[:200]}); the column holds "
                             f"{', '.join(kinds)} values: expected one type of numbers, strings, dates or booleans",
                             column=str(name))
    return DataError(f"cannot read the table ({type(error).__name__}: {str(error)[:200]})")


def _is_column(v):
    return isinstance(v, (list, tuple, pa.Array, pa.ChunkedArray)) or (
        hasattr(v, "__array__") and getattr(v, "ndim", 0) == 1
    )


def _column_array(v):
    return v if isinstance(v, (pa.Array, pa.ChunkedArray)) else pa.array(list(v) if isinstance(v, tuple) else v)


def _select(available, required, optional, origin):
    if required is None:
        return list(available)
    missing = [c for c in required if c not in available]
    if missing:
        raise DataError(
            f"missing column '{missing[0]}'; the columns are: {', '.join(repr(a) for a in available)}",
            file=origin,
            column=missing[0],
        )
    return list(required) + [c for c in optional if c in available and c not in required]


def _file_batches(path, required, optional, batch_rows, delimiter):
    if not os.path.exists(path):
        raise DataError("no such file", file=path)
    if path.lower().endswith(_PARQUET_SUFFIXES):
        yield from _parquet_batches(path, required, optional, batch_rows)
    else:
        yield from _csv_batches(path, required, optional, batch_rows, delimiter)


def _parquet_batches(path, required, optional, batch_rows):
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as e:
        raise DataError(f"not a readable Parquet file ({e})", file=path) from None
    names = _select(pf.schema_arrow.names, required, optional, origin=path)
    meta = pf.metadata
    if meta.num_rows:  # rows per read from the file's own bytes per row (uncompressed), so a read is bounded too
        row_bytes = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups)) / meta.num_rows
        batch_rows = max(1, min(batch_rows, int(PIECE_BYTES / max(row_bytes, 1.0))))
    first = 1
    for batch in pf.iter_batches(batch_size=batch_rows, columns=names):
        for piece in _pieces(batch, batch_rows):
            yield BatchSource(piece, path, first)
            first += piece.num_rows
    if first == 1:
        raise DataError("the file has no data rows", file=path)


class _QuoteCheckedFile(io.RawIOBase):
    """A binary file that feeds every byte pyarrow reads through a CsvQuoteScanner."""

    def __init__(self, path, delimiter, skip_bytes):
        self._f = _open_binary(path)
        self._f.read(skip_bytes)
        self.scanner = _core.featurizers.CsvQuoteScanner(delimiter)
        self.rows_read = 0  # data rows the reader over this stream has returned

    def readable(self):
        return True

    def readinto(self, buffer):
        n = self._f.readinto(buffer)
        if n:
            self.scanner.feed(memoryview(buffer)[:n])
        return n

    def close(self):
        self._f.close()
        super().close()


def _open_binary(path):
    return gzip.open(path, "rb") if path.lower().endswith(".gz") else open(path, "rb")


def _sniff(head_text):
    first_line = head_text.split("\n", 1)[0]
    counts = {d: first_line.count(d) for d in _SNIFF_DELIMITERS}
    best = max(counts, key=counts.get)
    return best if counts[best] > 0 else ","


def _csv_batches(path, required, optional, batch_rows, delimiter):
    with _open_binary(path) as f:
        try:
            head = f.read(1 << 16)
            while b"\n" not in head and len(head) < _MAX_HEADER_BYTES:  # a header line longer than the first read
                more = f.read(1 << 20)
                if not more:
                    break
                head += more
        except (OSError, EOFError, zlib.error) as e:
            raise DataError(f"cannot read the file ({e})", file=path) from None
    bom = len(codecs.BOM_UTF8) if head.startswith(codecs.BOM_UTF8) else 0
    text = head[bom:].decode("utf-8", errors="replace")
    if not text.strip():
        raise DataError("the file is empty (expected a header line and data rows)", file=path)
    if delimiter is None:
        delimiter = _sniff(text)
    elif not isinstance(delimiter, str) or len(delimiter) != 1 or delimiter in "\"\r\n":
        raise DataError(f"invalid CSV delimiter {delimiter!r}: expected one character other than a quote or newline")
    try:
        header = next(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as e:  # e.g. a header field over csv's 128 KB limit: not a header
        raise DataError(f"the header line is not a CSV header ({e})", file=path, line=1) from None
    names = _select(header, required, optional, origin=path)
    first, block = 1, _CSV_BLOCK_BYTES
    while True:
        stream, bad_rows = _QuoteCheckedFile(path, delimiter, bom), []
        try:
            for batch in _csv_reader(stream, delimiter, names, block, bad_rows):
                skip = min(first - 1 - stream.rows_read, batch.num_rows)  # rows handed on before a restart
                stream.rows_read += batch.num_rows
                for piece in _pieces(batch.slice(skip), batch_rows):
                    yield BatchSource(piece, path, first, delimiter)
                    first += piece.num_rows
            break
        except pa.ArrowInvalid as e:
            if "straddl" in str(e) and not bad_rows and block < _MAX_CSV_BLOCK_BYTES:
                # A row longer than the read block: read again with 8x the block, from where this read stopped.
                block *= 8
                continue
            raise _csv_error(path, str(e), bad_rows, stream.scanner) from None
        except (pa.ArrowKeyError, KeyError) as e:  # the header we read and the one Arrow reads disagree
            raise DataError(f"the header line could not be read as column names ({e}); expected a UTF-8 header "
                            f"line naming the columns", file=path, line=1) from None
        except (EOFError, OSError, zlib.error) as e:  # e.g. a truncated .gz, found while reading
            raise DataError(f"cannot read the file ({e})", file=path) from None
        finally:
            stream.close()
    if stream.scanner.in_quotes:
        raise DataError(
            f"unterminated quote: the quoted field opened on line {stream.scanner.open_quote_line} "
            "is never closed before the end of the file (expected a closing '\"')",
            file=path, line=stream.scanner.open_quote_line,
        )
    if first == 1:
        raise DataError("the file has a header but no data rows", file=path)


def _csv_reader(stream, delimiter, names, block_bytes, bad_rows):
    """Arrow's streaming CSV reader over `stream`, every column as text, in blocks of `block_bytes`. Serial
    (use_threads=False): threads add a decoded block in flight per core and parse no faster than udt trains.
    Its blocks come from the system allocator, which gives them back when freed: Arrow's default (mimalloc)
    kept ~20 MB of freed blocks resident through a streamed fit of a 640 MB file that never held 1 MB of them
    at once (benchmarks/streaming_rss.py)."""
    def on_invalid_row(row):
        bad_rows.append(row)
        return "error"

    return pacsv.open_csv(
        stream,
        read_options=pacsv.ReadOptions(block_size=block_bytes, use_threads=False),
        parse_options=pacsv.ParseOptions(
            delimiter=delimiter, quote_char='"', double_quote=True, escape_char=False,
            newlines_in_values=True, invalid_row_handler=on_invalid_row,
        ),
        convert_options=pacsv.ConvertOptions(
            include_columns=names, column_types={n: pa.string() for n in names}, strings_can_be_null=False,
        ),
        memory_pool=pa.system_memory_pool(),
    )


def _csv_error(path, message, bad_rows, scanner):
    """A DataError with the line number: the quote scanner counted every record's fields as the reader
    read, so a row with the wrong count is located without reading the file again."""
    if bad_rows:
        bad = bad_rows[0]
        scanner.finish()
        return DataError(
            f"expected {bad.expected_columns} fields, got {bad.actual_columns}: {bad.text[:100]!r}",
            file=path, line=scanner.first_bad_line or None,
        )
    if "UTF8" in message or "UTF-8" in message:
        line = _first_invalid_utf8_line(path)
        return DataError("invalid UTF-8 text (expected UTF-8 encoded data)", file=path, line=line)
    return DataError(f"could not parse the CSV: {message}", file=path)


def _first_invalid_utf8_line(path):
    decoder = codecs.getincrementaldecoder("utf-8")()
    line = 1
    with _open_binary(path) as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as e:
                return line + chunk.count(b"\n", 0, e.start)
            line += chunk.count(b"\n")
    return None


def neighbor_lists(edges, src="src", dst="dst", undirected=True, delimiter=" "):
    """{node id: "id id ..."} from an edge list (any source read_batches takes), for a udt.Neighbors()
    column: `df["neighbors"] = df["node_id"].map(neighbor_lists("edges.csv")).fillna("")`.
    Duplicate edges are kept once; with `undirected`, each edge also links dst -> src."""
    import numpy as np
    import pyarrow.compute as pc

    sources, targets = [], []
    for part in iter_sources(edges, [src, dst]):
        for name, out in ((src, sources), (dst, targets)):
            column = part.batch.column(name)
            try:
                out.append(np.asarray(pc.cast(column, pa.int64())))
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                raise DataError("expected integer node ids", file=part.origin, column=name) from None
    a, b = np.concatenate(sources), np.concatenate(targets)
    if undirected:
        a, b = np.concatenate([a, b]), np.concatenate([b, a])
    if len(a) and min(a.min(), b.min()) < 0:
        raise DataError("expected non-negative integer node ids, found a negative one", column=src)
    if len(a) and max(a.max(), b.max()) >= 1 << 31:
        raise DataError("node ids must be below 2**31", column=src)
    keys = np.unique((a << 32) | b)  # sorted by source, then target; duplicates gone
    heads, tails = (keys >> 32).tolist(), (keys & 0xFFFFFFFF).astype(str).tolist()
    starts = np.flatnonzero(np.r_[True, np.diff(keys >> 32) != 0]).tolist() + [len(keys)]
    return {heads[s]: delimiter.join(tails[s:e]) for s, e in zip(starts[:-1], starts[1:])}
