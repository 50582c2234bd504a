"""Container format v2: a model file whose arrays are memory-mapped on load, not read.

    b"UDTMODEL" | u32 2 | u64 header_length | header JSON | sha256 of every byte before it (32 bytes)
    | zeros up to `alignment` | the arrays, each at its `offset` from there, zeros between them

    header: {"metadata": {...}, "udt_version": "...", "alignment": A, "data_length": n, "crc_chunk": C,
             "arrays": {name: {"dtype": "F32", "shape": [r, c], "offset": o, "row_bytes": b,
                               "crc32c": ["1f2e3d4c", ...]}}}

Why this shape (safetensors, numpy.memmap and FBGEMM's weight files make the same choices):
  - An array of 1 MiB or more starts on a 64 KiB boundary (a page on every platform), so it is mapped
    straight from the file (MAP_PRIVATE: copy-on-write, writes never reach the file) and the engine adopts
    the mapping instead of copying it (udt.engine.Network.from_state): a large model is ready as soon as its
    pages are checked, and server processes that load the same file share its page-cache pages.
  - A 2-D float32 array's rows are padded with zeros to a multiple of 64 bytes (`row_bytes`): the engine's
    row stride (16 floats, engine/src/aligned_matrix.h), so a weight matrix is adopted as it lies in the file.
  - Checksums: the header (metadata and array table) is covered by a sha256 checked before it is parsed;
    each array by one CRC-32C per `crc_chunk` bytes (hardware CRC, several GB/s per core), checked at load,
    in parallel, in the same pass that brings the mapped pages in; the bytes between arrays must be zero.
    So every byte of the file is checked and the file is read once (v1 hashed the whole file, then read
    it again to copy it). Not lazily at first use: a corrupted weight would have been served by then, and
    the first predictions fault the same pages in anyway.
  - The CRCs are in the header but computed while the arrays are written: the header is written with
    fixed-width placeholders and rewritten in place afterwards, so saving reads each array once.
A mapped file must not be truncated in place while a process uses it (the kernel would fault the process);
udt's saves replace a file by renaming a new one over it, which leaves mapped copies intact.
"""
from __future__ import annotations

import hashlib
import json
import os
import struct
from concurrent.futures import ThreadPoolExecutor
from typing import Any, BinaryIO, Mapping

import numpy as np

from udt import _core
from udt.model_file.format_v1 import DTYPES, NOT_A_HEADER

VERSION = 2
PREAMBLE = struct.Struct("<8sIQ")  # magic, format_version, header_length
DIGEST_BYTES = 32
_CODES = {np.dtype(v): k for k, v in DTYPES.items()}
_ALIGN = 64              # every array starts on a cache line; 2-D rows are padded to it
_MAP_ALIGN = 1 << 16     # arrays of _MAP_MIN bytes or more start on a 64 KiB boundary and are mapped
_MAP_MIN = 1 << 20
_CRC_CHUNK = 1 << 26     # one CRC per 64 MiB: chunks are checked in parallel
_BLOCK = 1 << 24         # bytes per write when rows are padded
_CRC_PLACEHOLDER = "00000000"
_PAGE = int(_core.engine.PAGE_SIZE)


def _up(n: int, align: int) -> int:
    return -(-n // align) * align


def _row_bytes(a: np.ndarray) -> int | None:
    """A 2-D array's stored row length: float32 rows padded to the engine's stride (it adopts them), others
    as they are (int8 and bfloat16 weights are widened on load, padding would only grow the file)."""
    if a.ndim != 2:
        return None
    return _up(a.shape[1] * 4, _ALIGN) if a.dtype == np.float32 else a.shape[1] * a.itemsize


def _span(shape, itemsize: int, row_bytes: int | None) -> int:
    if row_bytes is not None:
        return shape[0] * row_bytes
    return int(np.prod(shape, dtype=np.int64)) * itemsize


def _pieces(a: np.ndarray, row_bytes: int | None):
    """The array's bytes as stored, in pieces: 2-D rows padded to row_bytes through a bounded buffer
    (a strided engine view needs no contiguous copy first)."""
    if a.size == 0:
        return
    if row_bytes is not None and (row_bytes != a.shape[1] * a.itemsize or not a.flags.c_contiguous):
        rows = max(1, _BLOCK // row_bytes)
        buffer = np.zeros((min(rows, a.shape[0]), row_bytes), np.uint8)
        typed = buffer.view(a.dtype)
        for i in range(0, a.shape[0], rows):
            block = a[i:i + rows]
            typed[:len(block), :a.shape[1]] = block
            yield memoryview(buffer[:len(block)]).cast("B")
        return
    yield memoryview(np.require(a, requirements="C").reshape(-1).view(np.uint8))


class _Crcs:
    """CRC-32C of each _CRC_CHUNK bytes of a stream fed in pieces of any size."""

    def __init__(self):
        self.done, self.crc, self.filled = [], 0, 0

    def update(self, view: memoryview) -> None:
        while len(view):
            take = min(len(view), _CRC_CHUNK - self.filled)
            self.crc = _core.engine.crc32c(view[:take], self.crc)
            self.filled, view = self.filled + take, view[take:]
            if self.filled == _CRC_CHUNK:
                self.done.append(self.crc)
                self.crc = self.filled = 0

    def result(self) -> list[str]:
        return [f"{c:08x}" for c in self.done + ([self.crc] if self.filled else [])]


def write_v2(f: BinaryIO, metadata: Mapping[str, Any], arrays: Mapping[str, np.ndarray], udt_version: str,
             magic: bytes) -> None:
    """Writes the file to the seekable `f` at its position; arrays are little-endian, of DTYPES."""
    plan, entries, offset = [], {}, 0
    for name in sorted(arrays):
        a = arrays[name]
        row_bytes = _row_bytes(a)
        span = _span(a.shape, a.itemsize, row_bytes)
        offset = _up(offset, _MAP_ALIGN if span >= _MAP_MIN else _ALIGN)
        entries[name] = {"dtype": _CODES[a.dtype], "shape": list(a.shape), "offset": offset,
                         **({"row_bytes": row_bytes} if row_bytes is not None else {}),
                         "crc32c": [_CRC_PLACEHOLDER] * -(-span // _CRC_CHUNK)}
        plan.append((name, a, row_bytes, offset))
        offset += span
    alignment = _MAP_ALIGN if offset >= _MAP_MIN else _ALIGN

    def header() -> bytes:
        try:
            return json.dumps({"metadata": metadata, "udt_version": udt_version, "alignment": alignment,
                               "data_length": offset, "crc_chunk": _CRC_CHUNK, "arrays": entries},
                              allow_nan=True, separators=(",", ":")).encode("utf-8")
        except TypeError as exc:
            raise TypeError(f"model metadata must be JSON-serialisable: {exc}") from None

    first = header()
    preamble = PREAMBLE.pack(magic, VERSION, len(first))
    start = f.tell()
    data_start = _up(len(preamble) + len(first) + DIGEST_BYTES, alignment)
    f.write(preamble + first + bytes(data_start - len(preamble) - len(first)))
    written = 0
    for name, a, row_bytes, begin in plan:
        f.write(bytes(begin - written))
        crcs = _Crcs()
        for piece in _pieces(a, row_bytes):
            f.write(piece)
            crcs.update(piece)
        written = begin + _span(a.shape, a.itemsize, row_bytes)
        entries[name]["crc32c"] = crcs.result()
    end = f.tell()
    final = header()
    assert len(final) == len(first), "CRC placeholders are fixed width"
    f.seek(start + len(preamble))
    f.write(final + hashlib.sha256(preamble + final).digest())
    f.seek(end)


def _layout(header: Any) -> tuple[int, int, list[tuple]]:
    """(alignment, data_length, [(offset, span, name, dtype, shape, row_bytes, crcs)] by offset) of a
    parsed header; ValueError / KeyError / TypeError on anything the writer would not have written."""
    if not isinstance(header, dict) or not isinstance(header.get("metadata"), dict):
        raise ValueError("its header is not valid model metadata")
    alignment, data_length, chunk = (header[k] for k in ("alignment", "data_length", "crc_chunk"))
    for key, value in (("alignment", alignment), ("data_length", data_length), ("crc_chunk", chunk)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ValueError(f"{key}={value!r} is not a byte count")
    if alignment not in (_ALIGN, _MAP_ALIGN) or chunk != _CRC_CHUNK:
        raise ValueError(f"alignment={alignment}, crc_chunk={chunk}: not values udt writes")
    if not isinstance(header["arrays"], dict):
        raise ValueError("its array table is not a JSON object")
    layout = []
    for name, info in header["arrays"].items():
        dtype = np.dtype(DTYPES[info["dtype"]])
        shape = tuple(info["shape"])
        offset, row_bytes, crcs = info["offset"], info.get("row_bytes"), info["crc32c"]
        if len(shape) > 32 or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape):
            raise ValueError(f"array {name!r} has shape {list(shape)}")
        if len(shape) == 2:
            if not isinstance(row_bytes, int) or row_bytes < shape[1] * dtype.itemsize or row_bytes % dtype.itemsize:
                raise ValueError(f"array {name!r}: row_bytes={row_bytes!r} for {shape[1]} values of {dtype}")
        elif row_bytes is not None:
            raise ValueError(f"array {name!r} of {len(shape)} dimensions has row_bytes")
        span = _span(shape, dtype.itemsize, row_bytes)
        if not isinstance(offset, int) or isinstance(offset, bool) or offset % _ALIGN or not 0 <= offset <= \
                data_length - span:
            raise ValueError(f"array {name!r} at offset {offset!r} ({span} bytes) is outside the data")
        if not isinstance(crcs, list) or len(crcs) != -(-span // chunk) or not all(
                isinstance(c, str) and len(c) == 8 for c in crcs):
            raise ValueError(f"array {name!r} has {crcs!r} for checksums")
        layout.append((offset, span, name, dtype, shape, row_bytes, [int(c, 16) for c in crcs]))
    layout.sort(key=lambda e: (e[0], e[1]))
    end = 0
    for offset, span, name, *_ in layout:
        if offset < end:
            raise ValueError(f"array {name!r} overlaps the array before it")
        end = offset + span
    return alignment, data_length, layout


def read_v2(f: BinaryIO, size: int, source: str, preamble: bytes, header_end: int, fd: int | None,
            verify: bool, error) -> tuple[dict, dict[str, np.ndarray]]:
    """(metadata, arrays) of a v2 file whose preamble has been read. Arrays of _MAP_MIN bytes or more are
    copy-on-write mappings of `fd` (when given), the rest are read; `error(message)` makes the
    ModelFileError to raise."""
    if header_end + DIGEST_BYTES > size:
        raise error(f"{source} is truncated: its header claims {header_end - len(preamble)} bytes but the file has "
                    f"{size} bytes")
    header_bytes = f.read(header_end - len(preamble))
    if f.read(DIGEST_BYTES) != hashlib.sha256(preamble + header_bytes).digest():
        raise error(f"{source} is corrupted: its header does not match its checksum")
    try:
        header = json.loads(header_bytes.decode("utf-8"))
        alignment, data_length, layout = _layout(header)
    except (*NOT_A_HEADER, AttributeError, IndexError) as exc:
        raise error(f"{source} is corrupted: its header is not valid ({exc})") from None
    data_start = _up(header_end + DIGEST_BYTES, alignment)
    if data_start + data_length != size:
        if data_start + data_length > size:
            raise error(f"{source} is truncated: expected {data_start + data_length} bytes, found {size}")
        raise error(f"{source} is corrupted: {size - data_start - data_length} unexpected extra bytes")
    position = header_end + DIGEST_BYTES
    arrays, checks = {}, []
    for offset, span, name, dtype, shape, row_bytes, crcs in layout:
        _check_zeros(f, position, data_start + offset, source, error)
        position = data_start + offset + span
        raw = None
        if span >= _MAP_MIN and fd is not None and (data_start + offset) % _PAGE == 0:
            try:
                raw = _core.engine.map_file(fd, data_start + offset, span)
            except RuntimeError:  # a file system that cannot map files: read the array instead
                raw = None
        if raw is None:
            raw = np.empty(span, np.uint8)
            f.seek(data_start + offset)
            if f.readinto(memoryview(raw)) != span:
                raise error(f"{source} is truncated: it ended inside array {name!r}")
        strides = None if row_bytes is None else (row_bytes, dtype.itemsize)
        arrays[name] = np.ndarray(shape, dtype, buffer=raw, strides=strides)
        checks += [(name, raw, data_start + offset, i, crc) for i, crc in enumerate(crcs)]
    _check_zeros(f, position, size, source, error)
    if verify:
        _verify(checks, source, error)
    return header["metadata"], arrays


def _check_zeros(f: BinaryIO, begin: int, end: int, source: str, error) -> None:
    """The padding between arrays (no checksum covers it) must be zero."""
    f.seek(begin)
    while begin < end:
        chunk = f.read(min(end - begin, 1 << 20))
        if not chunk:
            raise error(f"{source} is truncated: it ended at byte {begin}")
        if chunk.count(0) != len(chunk):
            raise error(f"{source} is corrupted: padding bytes at {begin}..{begin + len(chunk)} are not zero")
        begin += len(chunk)


def _verify(checks: list[tuple], source: str, error) -> None:
    """Every chunk's CRC, chunks in parallel (the CRC releases the GIL): one pass over the file."""
    def bad(check) -> bool:
        _, raw, _, i, expected = check
        return _core.engine.crc32c(raw[i * _CRC_CHUNK:(i + 1) * _CRC_CHUNK]) != expected

    total = sum(min(_CRC_CHUNK, len(c[1]) - c[3] * _CRC_CHUNK) for c in checks)
    if total > _CRC_CHUNK and len(checks) > 1:
        with ThreadPoolExecutor(min(len(checks), os.cpu_count() or 1)) as pool:
            failed = [c for c, b in zip(checks, pool.map(bad, checks)) if b]
    else:
        failed = [c for c in checks if bad(c)]
    if failed:
        name, _, begin, i, _ = failed[0]
        first = begin + i * _CRC_CHUNK
        raise error(f"{source} is corrupted: array {name!r} does not match its checksum (bytes {first}.."
                    f"{first + min(_CRC_CHUNK, len(failed[0][1]) - i * _CRC_CHUNK)} of the file)")
