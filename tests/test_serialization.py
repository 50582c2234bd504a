"""The model file format: round trip, atomic write, and every way a file can be bad."""
import json
import os
import struct

import numpy as np
import pytest

from udt.model_file import serialization as ser
from udt.model_file.serialization import ModelFileError, load_model_file, save_model_file

META = {"kind": "Classifier", "classes": ["<=50K", ">50K"], "options": {"seed": 3, "lr": 1e-3},
        "nested": {"inf": float("inf")}}


def _arrays():
    rng = np.random.default_rng(0)
    return {
        "engine/w": rng.normal(size=(7, 5)).astype(np.float32),
        "engine/ids": np.arange(10, dtype=np.uint32),
        "engine/steps": np.array(12, dtype=np.int64),
        "featurizer/empty": np.zeros(0, np.float64),
        "flags": np.array([True, False]),
    }


@pytest.fixture
def model_path(tmp_path):
    path = tmp_path / "m.udt"
    save_model_file(path, META, _arrays())
    return path


def test_round_trip_is_exact(model_path):
    meta, arrays = load_model_file(model_path)
    assert meta == META
    expected = _arrays()
    assert set(arrays) == set(expected)
    for name, arr in expected.items():
        assert arrays[name].dtype == arr.dtype and arrays[name].shape == arr.shape
        assert arrays[name].tobytes() == arr.tobytes()


def test_non_contiguous_arrays_are_saved(tmp_path):
    a = np.arange(20, dtype=np.float32).reshape(4, 5)[:, ::2]
    save_model_file(tmp_path / "x.udt", {}, {"a": a})
    assert np.array_equal(load_model_file(tmp_path / "x.udt")[1]["a"], a)


def test_save_is_atomic_and_leaves_no_temp_files(model_path, monkeypatch):
    before = model_path.read_bytes()

    def failing_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(ser.os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk full"):
        save_model_file(model_path, {"other": 1}, {})
    assert model_path.read_bytes() == before
    assert os.listdir(model_path.parent) == ["m.udt"]


def test_rejects_unserialisable_inputs(tmp_path):
    with pytest.raises(TypeError, match="JSON"):
        save_model_file(tmp_path / "x.udt", {"f": object()}, {})
    with pytest.raises(TypeError, match="dtype object"):
        save_model_file(tmp_path / "x.udt", {}, {"a": np.array(["x"], dtype=object)})
    assert not (tmp_path / "x.udt").exists()


@pytest.mark.parametrize("keep", [0, 5, 8, 19, 40, -33, -1])
def test_truncated_file_is_refused(model_path, keep):
    blob = model_path.read_bytes()
    model_path.write_bytes(blob[:keep] if keep >= 0 else blob[:len(blob) + keep])
    with pytest.raises(ModelFileError, match="truncated|not a udt model|corrupted"):
        load_model_file(model_path)


def test_truncated_payload_says_truncated(model_path):
    blob = model_path.read_bytes()
    model_path.write_bytes(blob[:-100])
    with pytest.raises(ModelFileError, match="truncated"):
        load_model_file(model_path)


@pytest.mark.parametrize("where", ["header", "payload", "checksum"])
def test_flipped_byte_is_refused(model_path, where):
    blob = bytearray(model_path.read_bytes())
    header_len = struct.unpack_from("<Q", blob, 12)[0]
    pos = {"header": 20 + header_len // 2, "payload": len(blob) - 60, "checksum": len(blob) - 1}[where]
    blob[pos] ^= 0x40
    model_path.write_bytes(bytes(blob))
    with pytest.raises(ModelFileError, match="corrupted"):
        load_model_file(model_path)


def test_appended_bytes_are_refused(model_path):
    model_path.write_bytes(model_path.read_bytes() + b"\0\0\0")
    with pytest.raises(ModelFileError, match="corrupted"):
        load_model_file(model_path)


def test_foreign_files_are_refused(tmp_path):
    for name, content in {"pickle.pkl": b"\x80\x04\x95" + b"\0" * 64, "text.txt": b"hello world" * 10,
                          "empty": b"", "st.safetensors": ser.encode_model({}, {})[20:]}.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(ModelFileError, match="not a udt model file"):
            load_model_file(tmp_path / name)
    with pytest.raises(ModelFileError, match="directory"):
        load_model_file(tmp_path)


def test_newer_format_version_is_refused(model_path):
    blob = bytearray(model_path.read_bytes())
    struct.pack_into("<I", blob, 8, ser.FORMAT_VERSION + 1)
    model_path.write_bytes(bytes(blob))
    with pytest.raises(ModelFileError, match=f"v{ser.FORMAT_VERSION + 1}.*upgrade udt"):
        load_model_file(model_path)


def test_valid_checksum_but_bad_header_is_refused(tmp_path):
    # A file crafted with a correct checksum over garbage must still be refused, not crash.
    import hashlib
    header = b"not json"
    body = struct.pack("<8sIQ", ser.MAGIC, 1, len(header)) + header
    (tmp_path / "x.udt").write_bytes(body + hashlib.sha256(body).digest())
    with pytest.raises(ModelFileError, match="header"):
        load_model_file(tmp_path / "x.udt")


def test_valid_checksum_but_bad_payload_is_refused(tmp_path):
    import hashlib
    payload = b"\x10\0\0\0\0\0\0\0{garbage}......"
    header = json.dumps({"metadata": {}, "payload_length": len(payload)}).encode()
    body = struct.pack("<8sIQ", ser.MAGIC, 1, len(header)) + header + payload
    (tmp_path / "x.udt").write_bytes(body + hashlib.sha256(body).digest())
    with pytest.raises(ModelFileError, match="weights cannot be read"):
        load_model_file(tmp_path / "x.udt")


def test_loading_never_unpickles(model_path, monkeypatch):
    import pickle

    def forbidden(*a, **k):
        raise AssertionError("pickle used while loading")

    monkeypatch.setattr(pickle, "loads", forbidden)
    monkeypatch.setattr(pickle, "load", forbidden)
    load_model_file(model_path)


def test_format_v1_files_with_a_safetensors_payload_still_load():
    """Every file udt wrote before format v2 is a safetensors payload under a trailing sha256; a payload
    that package wrote loads here."""
    safetensors_numpy = pytest.importorskip("safetensors.numpy")
    import hashlib
    payload = safetensors_numpy.save(_arrays())
    header = json.dumps({"metadata": META, "payload_length": len(payload)}).encode()
    body = struct.pack("<8sIQ", ser.MAGIC, 1, len(header)) + header + payload
    meta, arrays = ser.decode_model(body + hashlib.sha256(body).digest())
    assert meta == META and {k: v.tobytes() for k, v in arrays.items()} == {k: v.tobytes() for k, v in _arrays().items()}


def test_saving_and_loading_do_not_copy_the_whole_model(tmp_path):
    """Saving writes the arrays from their own memory and loading reads each into its own array once,
    so a model the size of the machine's memory can still be saved and loaded (tracemalloc counts
    numpy's allocations)."""
    import tracemalloc
    big = np.arange(8 << 20, dtype=np.float32)  # 32 MB
    tracemalloc.start()
    try:
        save_model_file(tmp_path / "big.udt", META, {"w": big, "b": np.ones(3, np.int64)})
        _, saving_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        _, arrays = load_model_file(tmp_path / "big.udt")
        _, loading_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert np.array_equal(arrays["w"], big)
    assert saving_peak < big.nbytes / 4, saving_peak
    assert loading_peak < 1.25 * big.nbytes, loading_peak  # the loaded array itself, nothing more



def test_saved_files_keep_the_mode_of_the_file_they_replace_and_new_ones_follow_the_umask(tmp_path):
    import stat
    path = tmp_path / "m.udt"
    path.write_text("old")
    os.chmod(path, 0o644)
    save_model_file(path, {"a": 1}, {})
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o644
    umask = os.umask(0o022)
    try:
        save_model_file(tmp_path / "new.udt", {"a": 1}, {})
    finally:
        os.umask(umask)
    assert stat.S_IMODE(os.stat(tmp_path / "new.udt").st_mode) == 0o644


def test_a_save_killed_mid_write_leaves_a_temp_file_that_the_next_save_removes(tmp_path):
    import signal
    import subprocess
    import sys
    import time
    path = tmp_path / "big.udt"
    code = ("import numpy as np, sys; from udt.model_file.serialization import save_model_file; "
            "save_model_file(sys.argv[1], {}, {'w': np.zeros(1 << 28, np.float32)})")  # 1 GB: still writing
    child = subprocess.Popen([sys.executable, "-c", code, str(path)])
    deadline = time.time() + 60
    while time.time() < deadline and not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]:
        time.sleep(0.05)
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert [p for p in os.listdir(tmp_path) if p.endswith(".tmp")], "the kill came after the save finished"
    save_model_file(path, {"a": 1}, {})
    assert sorted(os.listdir(tmp_path)) == ["big.udt"]
