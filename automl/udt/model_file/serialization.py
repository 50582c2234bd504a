"""The saved-model file: one versioned file holding JSON metadata and numpy arrays.

Layout (all integers little-endian):

    b"UDTMODEL"            8 bytes  magic, identifies the file type
    format_version         u32      FORMAT_VERSION of the writer
    header_length          u64      length of the JSON header
    header                 JSON     {"metadata": {...}, "payload_length": n, "udt_version": "..."}
    payload                n bytes  every array in the safetensors layout (empty without arrays)
    sha256                 32 bytes digest of every byte before it

Why this shape: the magic and version are read before anything else so a foreign or newer file is
refused with a precise message; the trailing checksum covers header and payload, so any flipped or
missing byte is detected before parsing; JSON and safetensors are both data-only formats, so
loading never executes code from the file (no pickle anywhere).  Writes go to a temporary file in
the same directory that is fsynced and then renamed over the target, so a crash mid-save leaves the
previous file intact.

The payload is the safetensors layout (u64 header length, JSON header of dtype, shape and byte
offsets per array, then the arrays' bytes), written and read here array by array: the safetensors
package converts through one `bytes` of the whole payload, and with the copies around it a 3.8 GB
model (debsearch: 63k classes, 2^20 inputs, Adam moments) peaked at 16 GB loading and more saving.
Streaming, saving adds nothing to the model's memory and loading holds its arrays once.  Files are
interchangeable with that package's (tests/test_serialization.py reads each with the other).
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import struct
import tempfile
from typing import Any, BinaryIO, Mapping

import numpy as np

MAGIC = b"UDTMODEL"
FORMAT_VERSION = 1
_PREAMBLE = struct.Struct("<8sIQ")  # magic, format_version, header_length
_DIGEST_BYTES = 32
_MAX_HEADER_BYTES = 1 << 30
_CHUNK = 1 << 24  # bytes hashed per read while verifying
# safetensors dtype codes -> numpy dtypes (little-endian)
_DTYPES = {"BOOL": "|b1", "U8": "|u1", "I8": "|i1", "U16": "<u2", "I16": "<i2", "F16": "<f2",
           "U32": "<u4", "I32": "<i4", "F32": "<f4", "U64": "<u8", "I64": "<i8", "F64": "<f8"}
_CODES = {np.dtype(v): k for k, v in _DTYPES.items()}


class ModelFileError(ValueError):
    """A model file that cannot be loaded: not a udt model, truncated, corrupted or too new."""


def _package_version() -> str:
    try:
        from importlib.metadata import version
        return version("udt")
    except Exception:  # not installed as a distribution (e.g. running from a source tree)
        return "unknown"


def _checked_arrays(arrays: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """C-contiguous little-endian arrays of a dtype the payload can hold, by name."""
    out = {}
    for name, arr in arrays.items():
        if not isinstance(name, str):
            raise TypeError(f"array names must be strings, got {name!r}")
        if not isinstance(arr, np.ndarray) or arr.dtype == object:
            raise TypeError(f"array {name!r} must be a numeric numpy array, got {type(arr).__name__}"
                            f"{'' if not isinstance(arr, np.ndarray) else ' of dtype object'}")
        a = np.require(arr, requirements="C")  # np.ascontiguousarray would turn 0-d arrays into 1-d ones
        if a.dtype.byteorder == ">":
            a = a.astype(a.dtype.newbyteorder("<"))
        if a.dtype not in _CODES:
            raise TypeError(f"array {name!r} has dtype {a.dtype}, which a model file cannot hold")
        out[name] = a
    return out


def _tensor_header(arrays: dict[str, np.ndarray]) -> tuple[bytes, list[np.ndarray]]:
    """The payload's safetensors header and the arrays in payload order: widest items first, as the
    safetensors package orders them, so every array starts aligned to its item size."""
    order = sorted(arrays, key=lambda n: (-arrays[n].dtype.itemsize, n))
    entries, offset = {}, 0
    for name in order:
        a = arrays[name]
        entries[name] = {"dtype": _CODES[a.dtype], "shape": list(a.shape), "data_offsets": [offset, offset + a.nbytes]}
        offset += a.nbytes
    header = json.dumps(entries, separators=(",", ":")).encode("utf-8")
    header += b" " * (-len(header) % 8)  # the data starts 8-byte aligned
    return struct.pack("<Q", len(header)) + header, [arrays[n] for n in order]


def _write_model(f: BinaryIO, metadata: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
    checked = _checked_arrays(arrays)
    tensor_header, ordered = _tensor_header(checked) if checked else (b"", [])
    payload_length = len(tensor_header) + sum(a.nbytes for a in ordered)
    try:
        header = json.dumps({"metadata": metadata, "payload_length": payload_length,
                             "udt_version": _package_version()},
                            allow_nan=True, separators=(",", ":")).encode("utf-8")
    except TypeError as exc:
        raise TypeError(f"model metadata must be JSON-serialisable: {exc}") from None
    digest = hashlib.sha256()

    def put(chunk) -> None:
        f.write(chunk)
        digest.update(chunk)

    put(_PREAMBLE.pack(MAGIC, FORMAT_VERSION, len(header)) + header + tensor_header)
    for a in ordered:
        if a.nbytes:
            put(memoryview(a.reshape(-1).view(np.uint8)))  # the array's own bytes, no copy
    f.write(digest.digest())


def _read_model(f: BinaryIO, size: int, source: str) -> tuple[dict, dict[str, np.ndarray]]:
    """Parse a file produced by _write_model from `f` (`size` bytes), refusing anything that is not
    exactly that: the preamble and header are checked, then the checksum over a streamed pass,
    then the arrays are read straight into their own memory."""
    start = f.read(_PREAMBLE.size)
    if len(start) < len(MAGIC) or start[:len(MAGIC)] != MAGIC:
        raise ModelFileError(f"{source} is not a udt model file (it does not start with {MAGIC!r})")
    if size < _PREAMBLE.size + _DIGEST_BYTES:
        raise ModelFileError(f"{source} is truncated: {size} bytes is shorter than any udt model file")
    _, version, header_length = _PREAMBLE.unpack(start)
    if version > FORMAT_VERSION:
        raise ModelFileError(f"{source} was written in udt model format v{version}, but this udt reads formats "
                             f"up to v{FORMAT_VERSION}; upgrade udt to load it")
    if version < 1:
        raise ModelFileError(f"{source} has an invalid format version {version}")
    if header_length > _MAX_HEADER_BYTES or _PREAMBLE.size + header_length + _DIGEST_BYTES > size:
        raise ModelFileError(f"{source} is truncated or corrupted: its header claims {header_length} bytes "
                             f"but the file has {size} bytes")
    header_bytes = f.read(header_length)
    header_end, body_length = _PREAMBLE.size + header_length, size - _DIGEST_BYTES
    try:
        header = json.loads(header_bytes.decode("utf-8"))
        expected_payload = int(header["payload_length"])
    except (ValueError, KeyError, TypeError, OverflowError, RecursionError):  # 1e999, [[[[...]]]]: not a header
        header, expected_payload = None, None
    if expected_payload is not None and header_end + expected_payload != body_length:
        if header_end + expected_payload > body_length:
            raise ModelFileError(f"{source} is truncated: expected {header_end + expected_payload + _DIGEST_BYTES} "
                                 f"bytes, found {size}")
        raise ModelFileError(f"{source} is corrupted: {body_length - header_end - expected_payload} unexpected "
                             f"extra bytes")
    digest = hashlib.sha256(start + header_bytes)
    remaining = body_length - header_end
    while remaining > 0:
        chunk = f.read(min(_CHUNK, remaining))
        if not chunk:
            raise ModelFileError(f"{source} is truncated: it ended while being read")
        digest.update(chunk)
        remaining -= len(chunk)
    if f.read(_DIGEST_BYTES) != digest.digest():
        raise ModelFileError(f"{source} is corrupted: its checksum does not match its contents")
    if header is None or not isinstance(header.get("metadata"), dict):
        raise ModelFileError(f"{source} is corrupted: its header is not valid model metadata")
    f.seek(header_end)
    try:
        arrays = _read_tensors(f, body_length - header_end)
    except (ValueError, KeyError, TypeError, OverflowError, RecursionError, AttributeError, IndexError) as exc:
        raise ModelFileError(f"{source} is corrupted: its weights cannot be read ({exc})") from None
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
        dtype = np.dtype(_DTYPES[info["dtype"]])
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


def encode_model(metadata: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> bytes:
    """The complete file contents for `metadata` (JSON-able) and `arrays` (name -> numpy array)."""
    buffer = io.BytesIO()
    _write_model(buffer, metadata, arrays)
    return buffer.getvalue()


def decode_model(blob: bytes, source: str = "<bytes>") -> tuple[dict, dict[str, np.ndarray]]:
    """Parse file contents produced by `encode_model`, refusing anything that is not exactly that."""
    return _read_model(io.BytesIO(blob), len(blob), source)


def save_model_file(path: str | os.PathLike, metadata: Mapping[str, Any],
                    arrays: Mapping[str, np.ndarray]) -> None:
    """Write the model file atomically: temp file in the same directory, fsync, then os.replace.
    The arrays are written from their own memory, one after another (no copy of the whole model)."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    prefix = f".{os.path.basename(path)}.udt-tmp."
    _remove_abandoned(directory, prefix)
    fd, tmp = tempfile.mkstemp(prefix=f"{prefix}{os.getpid()}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            _write_model(f, metadata, arrays)
            f.flush()
            os.fchmod(f.fileno(), _file_mode(path))
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    try:  # make the rename itself durable; not every platform lets us open a directory
        dir_fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


def _file_mode(path: str) -> int:
    """The permissions a saved file gets: those of the file it replaces, else what the umask gives a new
    file (mkstemp's 0600 would make every saved model private)."""
    try:
        return os.stat(path).st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _remove_abandoned(directory: str, prefix: str) -> None:
    """Deletes temp files of earlier saves to the same path whose process is gone (a save killed mid-write
    cannot clean up after itself; the next save does). A live writer's file is left alone."""
    for name in os.listdir(directory):
        if not (name.startswith(prefix) and name.endswith(".tmp")):
            continue
        pid = name[len(prefix):].split(".", 1)[0]
        if not pid.isdigit() or int(pid) == os.getpid() or _alive(int(pid)):
            continue
        try:
            os.unlink(os.path.join(directory, name))
        except OSError:
            pass


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, owned by someone else
        return True
    return True


def load_model_file(path: str | os.PathLike) -> tuple[dict, dict[str, np.ndarray]]:
    """Read and verify a model file; returns (metadata, arrays)."""
    path = os.fspath(path)
    if os.path.isdir(path):
        raise ModelFileError(f"{path} is a directory, not a udt model file")
    with open(path, "rb") as f:
        return _read_model(f, os.fstat(f.fileno()).st_size, path)
