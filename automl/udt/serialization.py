"""The saved-model file: one versioned file holding JSON metadata and numpy arrays.

Layout (all integers little-endian):

    b"UDTMODEL"            8 bytes  magic, identifies the file type
    format_version         u32      FORMAT_VERSION of the writer
    header_length          u64      length of the JSON header
    header                 JSON     {"metadata": {...}, "payload_length": n, "udt_version": "..."}
    payload                n bytes  safetensors blob of every array (safetensors.numpy)
    sha256                 32 bytes digest of every byte before it

Why this shape: the magic and version are read before anything else so a foreign or newer file is
refused with a precise message; the trailing checksum covers header and payload, so any flipped or
missing byte is detected before parsing; JSON and safetensors are both data-only formats, so
loading never executes code from the file (no pickle anywhere).  Writes go to a temporary file in
the same directory that is fsynced and then renamed over the target, so a crash mid-save leaves the
previous file intact.
"""
from __future__ import annotations

import hashlib
import json
import os
import struct
import tempfile
from typing import Any, Mapping

import numpy as np
import safetensors.numpy

MAGIC = b"UDTMODEL"
FORMAT_VERSION = 1
_PREAMBLE = struct.Struct("<8sIQ")  # magic, format_version, header_length
_DIGEST_BYTES = 32
_MAX_HEADER_BYTES = 1 << 30


class ModelFileError(ValueError):
    """A model file that cannot be loaded: not a udt model, truncated, corrupted or too new."""


def _package_version() -> str:
    try:
        from importlib.metadata import version
        return version("udt")
    except Exception:  # not installed as a distribution (e.g. running from a source tree)
        return "unknown"


def encode_model(metadata: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> bytes:
    """The complete file contents for `metadata` (JSON-able) and `arrays` (name -> numpy array)."""
    for name, arr in arrays.items():
        if not isinstance(name, str):
            raise TypeError(f"array names must be strings, got {name!r}")
        if not isinstance(arr, np.ndarray) or arr.dtype == object:
            raise TypeError(f"array {name!r} must be a numeric numpy array, got {type(arr).__name__}"
                            f"{'' if not isinstance(arr, np.ndarray) else ' of dtype object'}")
    # np.ascontiguousarray would turn 0-d arrays into 1-d ones; np.require keeps the shape.
    payload = safetensors.numpy.save({k: np.require(v, requirements="C") for k, v in arrays.items()}) if arrays else b""
    try:
        header = json.dumps({"metadata": metadata, "payload_length": len(payload),
                             "udt_version": _package_version()},
                            allow_nan=True, separators=(",", ":")).encode("utf-8")
    except TypeError as exc:
        raise TypeError(f"model metadata must be JSON-serialisable: {exc}") from None
    body = _PREAMBLE.pack(MAGIC, FORMAT_VERSION, len(header)) + header + payload
    return body + hashlib.sha256(body).digest()


def decode_model(blob: bytes, source: str = "<bytes>") -> tuple[dict, dict[str, np.ndarray]]:
    """Parse file contents produced by `encode_model`, refusing anything that is not exactly that."""
    if len(blob) < len(MAGIC) or blob[:len(MAGIC)] != MAGIC:
        raise ModelFileError(f"{source} is not a udt model file (it does not start with {MAGIC!r})")
    if len(blob) < _PREAMBLE.size + _DIGEST_BYTES:
        raise ModelFileError(f"{source} is truncated: {len(blob)} bytes is shorter than any udt model file")
    _, version, header_length = _PREAMBLE.unpack_from(blob)
    if version > FORMAT_VERSION:
        raise ModelFileError(f"{source} was written in udt model format v{version}, but this udt reads formats "
                             f"up to v{FORMAT_VERSION}; upgrade udt to load it")
    if version < 1:
        raise ModelFileError(f"{source} has an invalid format version {version}")
    if header_length > _MAX_HEADER_BYTES or _PREAMBLE.size + header_length + _DIGEST_BYTES > len(blob):
        raise ModelFileError(f"{source} is truncated or corrupted: its header claims {header_length} bytes "
                             f"but the file has {len(blob)} bytes")
    body, digest = blob[:-_DIGEST_BYTES], blob[-_DIGEST_BYTES:]
    header_end = _PREAMBLE.size + header_length
    try:
        header = json.loads(body[_PREAMBLE.size:header_end].decode("utf-8"))
        expected_payload = int(header["payload_length"])
    except (ValueError, KeyError, TypeError):
        header, expected_payload = None, None
    if expected_payload is not None and header_end + expected_payload != len(body):
        if header_end + expected_payload > len(body):
            raise ModelFileError(f"{source} is truncated: expected {header_end + expected_payload + _DIGEST_BYTES} "
                                 f"bytes, found {len(blob)}")
        raise ModelFileError(f"{source} is corrupted: {len(body) - header_end - expected_payload} unexpected "
                             f"extra bytes")
    if hashlib.sha256(body).digest() != digest:
        raise ModelFileError(f"{source} is corrupted: its checksum does not match its contents")
    if header is None or not isinstance(header.get("metadata"), dict):
        raise ModelFileError(f"{source} is corrupted: its header is not valid model metadata")
    payload = body[header_end:]
    try:
        arrays = dict(safetensors.numpy.load(payload)) if payload else {}
    except Exception as exc:  # safetensors reports malformed payloads with its own error types
        raise ModelFileError(f"{source} is corrupted: its weights cannot be read ({exc})") from None
    return header["metadata"], arrays


def save_model_file(path: str | os.PathLike, metadata: Mapping[str, Any],
                    arrays: Mapping[str, np.ndarray]) -> None:
    """Write the model file atomically: temp file in the same directory, fsync, then os.replace."""
    path = os.fspath(path)
    blob = encode_model(metadata, arrays)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(blob)
            f.flush()
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


def load_model_file(path: str | os.PathLike) -> tuple[dict, dict[str, np.ndarray]]:
    """Read and verify a model file; returns (metadata, arrays)."""
    path = os.fspath(path)
    if os.path.isdir(path):
        raise ModelFileError(f"{path} is a directory, not a udt model file")
    with open(path, "rb") as f:
        blob = f.read()
    return decode_model(blob, source=path)
