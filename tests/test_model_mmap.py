"""Model file format v2: large arrays are mapped copy-on-write and adopted by the engine without a copy,
each array is checked by its own CRCs in one pass, and files of format v1 still load and predict as saved."""
import hashlib
import json
import struct
from pathlib import Path

import numpy as np
import pytest

import udt
from udt.model_file import format_v2
from udt.model_file.serialization import ModelFileError, load_model_file, save_model_file
from classifier_data import SMALL, TEXT_COLUMNS, text_table

DATA = Path(__file__).parent / "data"


def _mapped_ranges(path) -> list[tuple[int, int]]:
    """Address ranges of this process mapped from `path` (/proc/self/maps)."""
    inode = Path(path).stat().st_ino
    ranges = []
    for line in Path("/proc/self/maps").read_text().splitlines():
        fields = line.split()
        if len(fields) >= 5 and fields[4] == str(inode):
            begin, end = (int(x, 16) for x in fields[0].split("-"))
            ranges.append((begin, end))
    return ranges


def _inside(address: int, ranges) -> bool:
    return any(begin <= address < end for begin, end in ranges)


def _header(blob: bytes) -> tuple[dict, int]:
    """(header dict, offset of the first data byte) of a v2 file."""
    (length,) = struct.unpack_from("<Q", blob, 12)
    header = json.loads(blob[20:20 + length])
    return header, -(-(20 + length + 32) // header["alignment"]) * header["alignment"]


def _arrays():
    rng = np.random.default_rng(0)
    return {"big": rng.normal(size=(3000, 100)).astype(np.float32),  # 1.2 MB: mapped, rows padded to 112
            "small": rng.normal(size=(7, 5)).astype(np.float32),
            "ids": np.arange(1 << 19, dtype=np.uint32),                 # 2 MiB: mapped, 1-d
            "scalar": np.array(3, np.int64)}


@pytest.fixture
def path(tmp_path):
    p = tmp_path / "m.udt"
    save_model_file(p, {"k": 1}, _arrays())
    return p


def test_large_arrays_are_page_aligned_mappings_with_padded_rows_and_round_trip(path):
    header, data_start = _header(path.read_bytes())
    big = header["arrays"]["big"]
    assert big["row_bytes"] == 448 and (data_start + big["offset"]) % 65536 == 0
    meta, arrays = load_model_file(path)
    assert meta == {"k": 1}
    for name, a in _arrays().items():
        assert arrays[name].dtype == a.dtype and np.array_equal(arrays[name], a), name
    ranges = _mapped_ranges(path)
    assert _inside(arrays["big"].ctypes.data, ranges) and _inside(arrays["ids"].ctypes.data, ranges)
    assert not _inside(arrays["small"].ctypes.data, ranges)  # small arrays are read, not mapped
    assert arrays["big"].strides == (448, 4) and arrays["big"].ctypes.data % 64 == 0


def test_writing_a_mapped_array_never_writes_the_file(path):
    before = path.read_bytes()
    _, arrays = load_model_file(path)
    arrays["big"][...] = 7.0
    arrays["ids"][:10] = 0
    del arrays
    assert path.read_bytes() == before
    _, again = load_model_file(path)
    assert np.array_equal(again["big"], _arrays()["big"])


def _flip(path, position: int) -> None:
    blob = bytearray(path.read_bytes())
    blob[position] ^= 0x10
    path.write_bytes(bytes(blob))


@pytest.mark.parametrize("name, where", [("big", 0), ("big", -1), ("ids", 100_000), ("small", 3), ("scalar", 0)])
def test_a_flipped_byte_in_an_array_names_the_file_and_the_array(path, name, where):
    header, data_start = _header(path.read_bytes())
    entry = header["arrays"][name]
    span = entry["shape"][0] * entry["row_bytes"] if "row_bytes" in entry else \
        int(np.prod(entry["shape"])) * np.dtype(format_v2.DTYPES[entry["dtype"]]).itemsize
    _flip(path, data_start + entry["offset"] + (where % span))
    with pytest.raises(ModelFileError, match=rf"m\.udt is corrupted: array '{name}' does not match its checksum"):
        load_model_file(path)


def test_a_flipped_byte_in_the_header_or_its_checksum_or_the_padding_is_refused(path):
    blob = path.read_bytes()
    header, data_start = _header(blob)
    (length,) = struct.unpack_from("<Q", blob, 12)
    for position, message in ((20 + length // 2, "header does not match its checksum"),
                              (20 + length + 5, "header does not match its checksum"),
                              (data_start - 1, "padding bytes"),
                              (data_start + header["arrays"]["big"]["offset"] - 1, "padding bytes")):
        path.write_bytes(blob)
        _flip(path, position)
        with pytest.raises(ModelFileError, match=f"m.udt is corrupted: .*{message}"):
            load_model_file(path)


@pytest.mark.parametrize("cut", [1, 1000, 65536, 2_000_000])
def test_a_truncated_file_says_truncated_before_mapping_anything(path, cut):
    blob = path.read_bytes()
    path.write_bytes(blob[:len(blob) - cut])
    with pytest.raises(ModelFileError, match=r"m\.udt is truncated"):
        load_model_file(path)


def _resigned(blob: bytes, header: dict) -> bytes:
    """The file `blob` with `header` in place of its own, checksummed, its data moved to the new data start."""
    old, data_start = _header(blob)
    text = json.dumps(header, separators=(",", ":")).encode()
    body = struct.pack("<8sIQ", b"UDTMODEL", 2, len(text)) + text
    body += hashlib.sha256(body).digest()
    return body + bytes(-len(body) % old["alignment"]) + blob[data_start:]


def test_a_crafted_header_with_a_valid_checksum_is_refused_naming_what_is_wrong(path):
    blob = path.read_bytes()
    header, _ = _header(blob)
    for change, message in ((lambda h: h["arrays"]["big"].update(offset=h["arrays"]["ids"]["offset"]), "overlaps"),
                            (lambda h: h["arrays"]["big"].update(row_bytes=100), "row_bytes"),
                            (lambda h: h["arrays"]["ids"].update(shape=[1 << 40]), "outside the data"),
                            (lambda h: h["arrays"]["ids"].update(crc32c=[]), "checksums"),
                            (lambda h: h.update(alignment=3), "alignment")):
        crafted = json.loads(json.dumps(header))
        change(crafted)
        path.write_bytes(_resigned(blob, crafted))
        with pytest.raises(ModelFileError, match=f"m.udt is corrupted: its header is not valid .*{message}"):
            load_model_file(path)


def _fit(**options):
    return udt.Classifier(columns=TEXT_COLUMNS, target="topic", **dict(SMALL, **options)).fit(
        text_table(300, seed=0), progress=False)


def test_a_loaded_classifier_predicts_from_the_files_pages_and_trains_without_writing_the_file(tmp_path):
    model = _fit(hidden_dim=24)  # 24 floats: rows padded to the engine's stride of 32
    path = tmp_path / "m.udt"
    model.save(path)
    before = hashlib.sha256(path.read_bytes()).digest()
    loaded = udt.load(path)
    table = text_table(30, seed=5)
    assert np.array_equal(loaded.predict_proba(table), model.predict_proba(table))
    weights = loaded.model_.network.weights()
    ranges = _mapped_ranges(path)
    assert _inside(weights["embedding.weight"].ctypes.data, ranges)  # adopted: the engine reads the file's pages
    views = loaded.model_.network.state_views()
    assert _inside(views["embedding.adam_m"].ctypes.data, ranges)
    loaded.partial_fit(text_table(60, seed=6))
    assert not np.array_equal(loaded.predict_proba(table), model.predict_proba(table))
    model.partial_fit(text_table(60, seed=6))  # continued training from the file equals continuing in memory
    assert np.allclose(loaded.predict_proba(table), model.predict_proba(table), atol=1e-6)
    del loaded, weights, views
    assert hashlib.sha256(path.read_bytes()).digest() == before


@pytest.mark.parametrize("form", [dict(optimizer_state=False), dict(optimizer_state=False, precision="bfloat16"),
                                  dict(optimizer_state=False, precision="int8")])
def test_deployment_forms_load_reduced_precision_widened_into_memory_of_its_own(tmp_path, form):
    model = _fit()
    path = tmp_path / "m.udt"
    model.save(path, **form)
    loaded = udt.load(path)
    table = text_table(30, seed=5)
    assert np.allclose(loaded.predict_proba(table), model.predict_proba(table), atol=0.05)
    adopted = _inside(loaded.model_.network.weights()["embedding.weight"].ctypes.data, _mapped_ranges(path))
    assert adopted == ("precision" not in form)


def test_a_file_of_format_v1_loads_and_predicts_as_when_saved_and_resaves_as_v2(tmp_path):
    """Written by the udt before format v2 (container v1, content version 2): tests/data/v1_format_*."""
    source = DATA / "v1_format_text_classifier.udt"
    assert struct.unpack_from("<I", source.read_bytes(), 8)[0] == 1
    table = text_table(30, seed=5)
    expected = np.load(DATA / "v1_format_text_classifier_proba.npy")
    old = udt.load(source)
    assert np.array_equal(old.predict_proba(table), expected)
    old.save(tmp_path / "v2.udt")
    assert struct.unpack_from("<I", (tmp_path / "v2.udt").read_bytes(), 8)[0] == 2
    assert np.array_equal(udt.load(tmp_path / "v2.udt").predict_proba(table), expected)


def test_a_corrupted_weight_in_a_saved_classifier_is_a_model_file_error_naming_the_array(tmp_path):
    path = tmp_path / "m.udt"
    _fit().save(path)
    header, data_start = _header(path.read_bytes())
    _flip(path, data_start + header["arrays"]["network/embedding.weight"]["offset"] + 12345)
    with pytest.raises(ModelFileError, match=r"m\.udt is corrupted: array 'network/embedding.weight'"):
        udt.load(path)


def test_reduced_precision_files_store_lsh_ids_in_16_bits_and_sparse_inference_is_unchanged(tmp_path):
    from classifier_data import many_class_table
    table = many_class_table(n_classes=200, per_class=6)
    model = udt.Classifier(target="label", **dict(SMALL, sparsity=0.1)).fit(table, progress=False)
    assert model.model_.network.lsh_params is not None
    model.save(tmp_path / "f32.udt", optimizer_state=False)
    model.save(tmp_path / "bf16.udt", optimizer_state=False, precision="bfloat16")
    header, _ = _header((tmp_path / "bf16.udt").read_bytes())
    assert header["arrays"]["network/lsh.buckets"]["dtype"] == "U16"
    assert header["metadata"]["weight_encoding"]["network/lsh.buckets"] == "uint16-ids"
    f32, bf16 = udt.load(tmp_path / "f32.udt"), udt.load(tmp_path / "bf16.udt")
    assert np.array_equal(bf16.model_.network.state_views()["lsh.buckets"],
                          f32.model_.network.state_views()["lsh.buckets"])
    queries = table.drop(columns="label").head(50)
    assert (bf16.predict(queries, sparse_inference=True) == f32.predict(queries, sparse_inference=True)).mean() > 0.95


def test_a_file_system_that_cannot_map_files_gets_the_arrays_read_instead(path, monkeypatch):
    from udt import _core

    def refuse(*args):
        raise RuntimeError("mmap of a model file: No such device")

    monkeypatch.setattr(_core.engine, "map_file", refuse)
    _, arrays = load_model_file(path)
    assert np.array_equal(arrays["big"], _arrays()["big"]) and not _mapped_ranges(path)


def _crc32c_reference(data: bytes) -> int:
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ (0x82F63B78 if c & 1 else 0)
        table.append(c)
    crc = 0xFFFFFFFF
    for b in data:
        crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def test_crc32c_matches_the_definition_across_its_three_stream_blocks():
    from udt import _core
    assert _core.engine.crc32c(b"123456789") == 0xE3069283  # the standard check value
    data = np.random.default_rng(1).integers(0, 256, 3 * 8192 * 2 + 100, dtype=np.uint8).tobytes()
    for begin, end in ((0, 0), (0, 7), (3, 3 * 8192 - 1), (0, 3 * 8192), (1, 3 * 8192 + 2), (5, len(data))):
        assert _core.engine.crc32c(data[begin:end]) == _crc32c_reference(data[begin:end]), (begin, end)
    half = len(data) // 3  # continuing from an earlier CRC gives the CRC of the whole
    assert _core.engine.crc32c(data[half:], _core.engine.crc32c(data[:half])) == _crc32c_reference(data)


def test_lsh_tables_of_a_mapped_file_are_used_in_place(tmp_path):
    from udt.engine import Network
    from udt.model_file.serialization import load_model_file, save_model_file
    net = Network(400, 16, 20_000, output_sparsity=0.02, seed=1, lsh_l=64)
    rng = np.random.default_rng(0)
    x = rng.integers(0, 400, 600).astype(np.uint32)
    offsets = np.arange(0, 601, 6)
    net.train_batch(x, None, offsets, rng.integers(0, 20_000, 100).astype(np.uint32), np.arange(101))
    config, arrays = net.state()
    assert arrays["lsh.buckets"].nbytes >= 1 << 20          # large enough to be mapped
    path = tmp_path / "net.udt"
    save_model_file(path, {"config": config}, arrays)
    meta, loaded_arrays = load_model_file(path)
    loaded = Network.from_state(meta["config"], loaded_arrays)
    assert _inside(loaded.state_views()["lsh.buckets"].ctypes.data, _mapped_ranges(path))
    expected = net.predict(x, None, offsets, top_k=5, sparse=True)
    got = loaded.predict(x, None, offsets, top_k=5, sparse=True)
    assert np.array_equal(expected[0], got[0]) and np.array_equal(expected[1], got[1])
    before = path.read_bytes()
    loaded.train_batch(x, None, offsets, rng.integers(0, 20_000, 100).astype(np.uint32), np.arange(101))
    loaded.index_labels(x, None, offsets, rng.integers(0, 20_000, 100).astype(np.uint32), np.arange(101))
    assert path.read_bytes() == before                      # copy-on-write: training never writes the file
