"""The saved-model file: one versioned, checksummed file holding JSON metadata and numpy arrays.

Every version starts with the same preamble (integers little-endian):

    b"UDTMODEL"            8 bytes  magic, identifies the file type
    format_version         u32      the writer's container format
    header_length          u64      length of the JSON header that follows

then the format's own layout: v2, written now, lays its arrays out to be memory-mapped and checks them
per array (udt.model_file.format_v2); v1, every file written before, is a safetensors payload under one
trailing sha256 (udt.model_file.format_v1), still read.

Why this shape: the magic and version are read before anything else so a foreign or newer file is
refused with a precise message; every byte is covered by a checksum, so a flipped or missing byte is
refused before it is used, naming the array it hit; JSON and raw arrays are data-only, so loading never
executes code from the file (no pickle anywhere). Writes go to a temporary file in the same directory
that is fsynced and then renamed over the target, so a crash mid-save leaves the previous file intact
(and a process that has the previous file mapped keeps its pages).
"""
from __future__ import annotations

import io
import os
import tempfile
from typing import Any, BinaryIO, Mapping

import numpy as np

from udt.model_file import format_v1, format_v2

MAGIC = b"UDTMODEL"
FORMAT_VERSION = format_v2.VERSION
_PREAMBLE = format_v2.PREAMBLE
_MAX_HEADER_BYTES = 1 << 30
_CODES = {np.dtype(v) for v in format_v1.DTYPES.values()}


class ModelFileError(ValueError):
    """A model file that cannot be loaded: not a udt model, truncated, corrupted or too new."""


def _package_version() -> str:
    try:
        from importlib.metadata import version
        return version("udt")
    except Exception:  # not installed as a distribution (e.g. running from a source tree)
        return "unknown"


def _checked_arrays(arrays: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Little-endian arrays of a dtype the file can hold, by name (2-D ones may be strided views: the
    writer pads their rows anyway)."""
    out = {}
    for name, arr in arrays.items():
        if not isinstance(name, str):
            raise TypeError(f"array names must be strings, got {name!r}")
        if not isinstance(arr, np.ndarray) or arr.dtype == object:
            raise TypeError(f"array {name!r} must be a numeric numpy array, got {type(arr).__name__}"
                            f"{'' if not isinstance(arr, np.ndarray) else ' of dtype object'}")
        a = arr
        if a.dtype.byteorder == ">":
            a = a.astype(a.dtype.newbyteorder("<"))
        if a.dtype not in _CODES:
            raise TypeError(f"array {name!r} has dtype {a.dtype}, which a model file cannot hold")
        out[name] = a
    return out


def _write_model(f: BinaryIO, metadata: Mapping[str, Any], arrays: Mapping[str, np.ndarray],
                 format_version: int = FORMAT_VERSION) -> None:
    if format_version not in (1, FORMAT_VERSION):
        raise ValueError(f"format_version={format_version!r}: udt writes formats 1 and {FORMAT_VERSION}")
    write = format_v2.write_v2 if format_version == FORMAT_VERSION else format_v1.write_v1
    write(f, metadata, _checked_arrays(arrays), _package_version(), MAGIC)


def _read_model(f: BinaryIO, size: int, source: str, fd: int | None = None,
                verify: bool = True) -> tuple[dict, dict[str, np.ndarray]]:
    """Parse a file produced by _write_model (or an earlier udt) from `f` (`size` bytes), refusing anything
    that is not exactly that. With `fd`, format v2's large arrays are mapped from it, not read."""
    start = f.read(_PREAMBLE.size)
    if len(start) < len(MAGIC) or start[:len(MAGIC)] != MAGIC:
        raise ModelFileError(f"{source} is not a udt model file (it does not start with {MAGIC!r})")
    if size < _PREAMBLE.size + format_v2.DIGEST_BYTES:
        raise ModelFileError(f"{source} is truncated: {size} bytes is shorter than any udt model file")
    _, version, header_length = _PREAMBLE.unpack(start)
    if version > FORMAT_VERSION:
        raise ModelFileError(f"{source} was written in udt model format v{version}, but this udt reads formats "
                             f"up to v{FORMAT_VERSION}; upgrade udt to load it")
    if version < 1:
        raise ModelFileError(f"{source} has an invalid format version {version}")
    if header_length > _MAX_HEADER_BYTES or _PREAMBLE.size + header_length + format_v2.DIGEST_BYTES > size:
        raise ModelFileError(f"{source} is truncated or corrupted: its header claims {header_length} bytes "
                             f"but the file has {size} bytes")
    header_end = _PREAMBLE.size + header_length
    if version == 1:
        return format_v1.read_v1(f, size, source, start, header_end, ModelFileError)
    return format_v2.read_v2(f, size, source, start, header_end, fd, verify, ModelFileError)


def encode_model(metadata: Mapping[str, Any], arrays: Mapping[str, np.ndarray],
                 format_version: int = FORMAT_VERSION) -> bytes:
    """The complete file contents for `metadata` (JSON-able) and `arrays` (name -> numpy array);
    format_version=1 for a udt older than format v2 to read."""
    buffer = io.BytesIO()
    _write_model(buffer, metadata, arrays, format_version)
    return buffer.getvalue()


def decode_model(blob: bytes, source: str = "<bytes>") -> tuple[dict, dict[str, np.ndarray]]:
    """Parse file contents produced by `encode_model`, refusing anything that is not exactly that."""
    return _read_model(io.BytesIO(blob), len(blob), source)


def save_model_file(path: str | os.PathLike, metadata: Mapping[str, Any], arrays: Mapping[str, np.ndarray],
                    format_version: int = FORMAT_VERSION) -> None:
    """Write the model file atomically: temp file in the same directory, fsync, then os.replace.
    The arrays are written from their own memory, one after another (no copy of the whole model)."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    prefix = f".{os.path.basename(path)}.udt-tmp."
    _remove_abandoned(directory, prefix)
    fd, tmp = tempfile.mkstemp(prefix=f"{prefix}{os.getpid()}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            _write_model(f, metadata, arrays, format_version)
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


def load_model_file(path: str | os.PathLike, verify: bool = True) -> tuple[dict, dict[str, np.ndarray]]:
    """Read and verify a model file; returns (metadata, arrays). Arrays of 1 MiB or more of a v2 file are
    copy-on-write mappings of the file (writable; writes stay in this process). verify=False skips the
    arrays' checksums (the header's is always checked): for measuring, not for serving."""
    path = os.fspath(path)
    if os.path.isdir(path):
        raise ModelFileError(f"{path} is a directory, not a udt model file")
    with open(path, "rb") as f:
        return _read_model(f, os.fstat(f.fileno()).st_size, path, fd=f.fileno(), verify=verify)
