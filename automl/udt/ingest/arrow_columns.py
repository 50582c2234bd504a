"""Arrow arrays as buffer addresses for the C++ featurizers (no per-row Python).

The C++ side reads six layouts directly: utf8 / large_utf8 (and binary alike), int64,
int32, float64, float32. Other types are cast here once per batch: small integers to
int64, timestamps and dates to int64 Unix seconds, dictionaries decoded, booleans and
anything else to text.
"""
import pyarrow as pa
import pyarrow.compute as pc

from udt.errors import DataError

UTF8, LARGE_UTF8, INT64, INT32, FLOAT64, FLOAT32 = range(6)


def column_view(array, column=None, origin=None):
    """(view tuple for C++, array to keep alive while the view is used)."""
    array = _normalize(array, column, origin)
    t = array.type
    buffers = array.buffers()
    validity = buffers[0].address if buffers[0] is not None and array.null_count else 0
    if pa.types.is_string(t) or pa.types.is_binary(t):
        layout = UTF8
    elif pa.types.is_large_string(t) or pa.types.is_large_binary(t):
        layout = LARGE_UTF8
    else:
        layout = {pa.int64(): INT64, pa.int32(): INT32, pa.float64(): FLOAT64, pa.float32(): FLOAT32}[t]
        return (layout, len(array), array.offset, validity, 0, _address(buffers[1])), array
    return (layout, len(array), array.offset, validity, _address(buffers[1]), _address(buffers[2])), array


def null_view(n_rows):
    """A view of an all-missing text column (an optional column absent from the data)."""
    return column_view(pa.nulls(n_rows, pa.string()))


def _address(buffer):
    return buffer.address if buffer is not None else 0


def _normalize(array, column, origin):
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    t = array.type
    if t in (pa.int64(), pa.int32(), pa.float64(), pa.float32()):
        return array
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return array
    if pa.types.is_binary(t) or pa.types.is_large_binary(t):  # bytes must be UTF-8 text
        try:
            return array.cast(pa.large_string() if pa.types.is_large_binary(t) else pa.string())
        except pa.ArrowInvalid:
            raise DataError("invalid UTF-8 text (expected strings or UTF-8 encoded bytes)", file=origin,
                            column=column) from None
    try:
        if pa.types.is_dictionary(t):
            return _normalize(array.dictionary_decode(), column, origin)
        if pa.types.is_null(t):
            return pa.nulls(len(array), pa.string())
        if pa.types.is_integer(t):
            return pc.cast(array, pa.int64(), safe=False)
        if pa.types.is_floating(t) or pa.types.is_decimal(t):
            return pc.cast(array, pa.float64())
        if pa.types.is_timestamp(t) or pa.types.is_date(t):
            seconds = pc.cast(array, pa.timestamp("s", tz=getattr(t, "tz", None)), safe=False)
            return pc.cast(seconds, pa.int64())
        return pc.cast(array, pa.string())
    except pa.ArrowException as e:
        raise DataError(f"cannot read a column of type {t} ({e})", file=origin, column=column) from None
