"""Model files of container format v1 (every file udt wrote before format v2): JSON header,
safetensors payload, trailing sha256 over every byte before it. udt writes them only when asked (below).

    b"UDTMODEL" | u32 1 | u64 header_length | header JSON {"metadata", "payload_length", "udt_version"}
    | payload (safetensors: u64 length, JSON of dtype/shape/data_offsets per array, the arrays' bytes) | sha256

The whole file is hashed in one streamed pass, then each array is read into memory of its own (copied:
the payload's 8-byte alignment does not let the engine adopt it; format v2 does). udt writes v1 only when
asked (save_model_file(..., format_version=1)): for a udt older than format v2 to read.
"""
from __future__ import annotations

import hashlib
import json
import struct
from typing import BinaryIO

import numpy as np

DIGEST_BYTES = 32
_CHUNK = 1 << 24  # bytes hashed per read while verifying
# safetensors dtype codes -> numpy dtypes (little-endian); format v2 uses the same codes
DTYPES = {"BOOL": "|b1", "U8": "|u1", "I8": "|i1", "U16": "<u2", "I16": "<i2", "F16": "<f2",
          "U32": "<u4", "I32": "<i4", "F32": "<f4", "U64": "<u8", "I64": "<i8", "F64": "<f8"}
NOT_A_HEADER = (ValueError, KeyError, TypeError, OverflowError, RecursionError)  # 1e999, [[[[...]]]]


def write_v1(f: BinaryIO, metadata: dict, arrays: dict[str, np.ndarray], udt_version: str, magic: bytes) -> None:
    """Writes a v1 file: arrays (little-endian, of DTYPES) widest items first, as safetensors orders them."""
    codes = {np.dtype(v): k for k, v in DTYPES.items()}
    order = sorted(arrays, key=lambda n: (-arrays[n].dtype.itemsize, n))
    contiguous = [np.require(arrays[n], requirements="C") for n in order]
    entries, offset = {}, 0
    for name, a in zip(order, contiguous):
        entries[name] = {"dtype": codes[a.dtype], "shape": list(a.shape), "data_offsets": [offset, offset + a.nbytes]}
        offset += a.nbytes
    tensor_header = json.dumps(entries, separators=(",", ":")).encode("utf-8") if arrays else b""
    tensor_header += b" " * (-len(tensor_header) % 8)
    tensor_header = struct.pack("<Q", len(tensor_header)) + tensor_header if arrays else b""
    try:
        header = json.dumps({"metadata": metadata, "payload_length": len(tensor_header) + offset,
                             "udt_version": udt_version}, allow_nan=True, separators=(",", ":")).encode("utf-8")
    except TypeError as exc:
        raise TypeError(f"model metadata must be JSON-serialisable: {exc}") from None
    digest = hashlib.sha256()
    for chunk in [struct.pack("<8sIQ", magic, 1, len(header)) + header + tensor_header] + \
            [memoryview(a.reshape(-1).view(np.uint8)) for a in contiguous if a.nbytes]:
        f.write(chunk)
        digest.update(chunk)
    f.write(digest.digest())


def read_v1(f: BinaryIO, size: int, source: str, preamble: bytes, header_end: int, error) -> tuple[dict, dict]:
    """(metadata, arrays) of a v1 file whose preamble has been read; `error(message)` makes the
    ModelFileError to raise (naming `source`)."""
    if header_end + DIGEST_BYTES > size:
        raise error(f"{source} is truncated or corrupted: its header claims {header_end - len(preamble)} bytes "
                    f"but the file has {size} bytes")
    header_bytes = f.read(header_end - len(preamble))
    body_length = size - DIGEST_BYTES
    try:
        header = json.loads(header_bytes.decode("utf-8"))
        expected_payload = int(header["payload_length"])
    except NOT_A_HEADER:
        header, expected_payload = None, None
    if expected_payload is not None and header_end + expected_payload != body_length:
        if header_end + expected_payload > body_length:
            raise error(f"{source} is truncated: expected {header_end + expected_payload + DIGEST_BYTES} "
                        f"bytes, found {size}")
        raise error(f"{source} is corrupted: {body_length - header_end - expected_payload} unexpected extra bytes")
    digest = hashlib.sha256(preamble + header_bytes)
    remaining = body_length - header_end
    while remaining > 0:
        chunk = f.read(min(_CHUNK, remaining))
        if not chunk:
            raise error(f"{source} is truncated: it ended while being read")
        digest.update(chunk)
        remaining -= len(chunk)
    if f.read(DIGEST_BYTES) != digest.digest():
        raise error(f"{source} is corrupted: its checksum does not match its contents")
    if header is None or not isinstance(header.get("metadata"), dict):
        raise error(f"{source} is corrupted: its header is not valid model metadata")
    f.seek(header_end)
    try:
        arrays = _read_tensors(f, body_length - header_end)
    except (*NOT_A_HEADER, AttributeError, IndexError) as exc:
        raise error(f"{source} is corrupted: its weights cannot be read ({exc})") from None
    return header["metadata"], arrays


def _read_tensors(f: BinaryIO, payload_length: int) -> dict[str, np.ndarray]:
    """The arrays of a safetensors payload of `payload_length` bytes at f's position, each read
    into an array of its own. The byte ranges must tile the data exactly, as safetensors requires."""
    if payload_length == 0:
        return {}
    if payload_length < 8:
        raise ValueError("the payload is shorter than its header length")
    (n,) = struct.unpack("<Q", f.read(8))
    if n > payload_length - 8:
        raise ValueError(f"the array header claims {n} bytes, more than the payload holds")
    entries = json.loads(f.read(n).decode("utf-8"))
    if not isinstance(entries, dict):
        raise ValueError("the array header is not a JSON object")
    data_length = payload_length - 8 - n
    layout = []
    for name, info in entries.items():
        if name == "__metadata__":
            continue
        dtype = np.dtype(DTYPES[info["dtype"]])
        shape = tuple(int(d) for d in info["shape"])
        begin, end = (int(o) for o in info["data_offsets"])
        if min(shape, default=0) < 0 or end - begin != int(np.prod(shape, dtype=np.int64)) * dtype.itemsize:
            raise ValueError(f"array {name!r}: {end - begin} bytes for shape {shape} of {dtype}")
        layout.append((begin, end, name, dtype, shape))
    layout.sort()
    position = 0
    for begin, end, name, _, _ in layout:
        if begin != position:
            raise ValueError(f"array {name!r} starts at byte {begin}, expected {position}")
        position = end
    if position != data_length:
        raise ValueError(f"the arrays cover {position} of the payload's {data_length} data bytes")
    arrays = {}
    for begin, end, name, dtype, shape in layout:
        a = np.empty(shape, dtype)
        if end > begin and f.readinto(memoryview(a.reshape(-1).view(np.uint8))) != end - begin:
            raise ValueError(f"array {name!r} ends past the end of the file")
        arrays[name] = a
    return arrays
