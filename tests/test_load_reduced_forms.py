"""What loading a compact model file hands the engine: LSH tables in 16 bits, read in place from the file at every
precision, and bfloat16 / int8 weights widened in C++ into memory the network adopts (no second float32 copy)."""
import numpy as np
import pytest

import udt
from udt import _core
from udt.engine import Network
from udt.model_file.serialization import ModelFileError
from classifier_data import SMALL, many_class_table
from test_model_mmap import _header, _inside, _mapped_ranges


@pytest.fixture(scope="module")
def table():
    return many_class_table(n_classes=200, per_class=6)


def _sparse_model(table):
    model = udt.Classifier(target="label", **dict(SMALL, sparsity=0.1)).fit(table, progress=False)
    assert model.model_.network.lsh_params is not None
    return model


def test_a_float32_file_stores_16_bit_tables_that_predict_in_place_and_train_on(table, tmp_path):
    model = _sparse_model(table)
    path = tmp_path / "full.udt"
    model.save(path)
    header, _ = _header(path.read_bytes())
    assert header["arrays"]["network/lsh.buckets"]["dtype"] == "U16"     # lossless: ids and counters fit
    loaded = udt.load(path)
    buckets = loaded.model_.network.state_views()["lsh.buckets"]
    assert buckets.dtype == np.uint16 and _inside(buckets.ctypes.data, _mapped_ranges(path))
    assert np.array_equal(buckets, model.model_.network.state_views()["lsh.buckets"].astype(np.uint16))
    queries = table.drop(columns="label").head(80)
    assert np.array_equal(loaded.predict_proba(queries, sparse_inference=True),
                          model.predict_proba(queries, sparse_inference=True))
    more = many_class_table(n_classes=200, per_class=2, seed=5)
    loaded.partial_fit(more)       # the first rebuild gives the tables 32-bit words of their own
    model.partial_fit(more)
    assert loaded.model_.network.state_views()["lsh.buckets"].dtype == np.uint32
    assert np.allclose(loaded.predict_proba(queries, sparse_inference=True),
                       model.predict_proba(queries, sparse_inference=True), atol=1e-6)


def test_a_loaded_16_bit_index_saves_again_as_it_is(table, tmp_path):
    model = _sparse_model(table)
    model.save(tmp_path / "a.udt", optimizer_state=False)
    loaded = udt.load(tmp_path / "a.udt")
    loaded.save(tmp_path / "b.udt", optimizer_state=False)
    again = udt.load(tmp_path / "b.udt")
    assert np.array_equal(again.model_.network.state_views()["lsh.buckets"],
                          loaded.model_.network.state_views()["lsh.buckets"])
    queries = table.drop(columns="label").head(40)
    assert np.array_equal(again.predict(queries, sparse_inference=True), model.predict(queries, sparse_inference=True))


def test_16_bit_tables_with_an_id_past_the_outputs_are_refused_and_copies_are_widened():
    net = Network(50, 16, 300, output_sparsity=0.1, seed=1, lsh_l=4)
    lsh = net.lsh_params
    words = np.zeros((lsh["L"] << lsh["K"]) * (lsh["R"] + 1), np.uint16)
    words[0], words[1] = 1, 300                                     # one id, == output_dim
    with pytest.raises(ValueError, match="id >= output_dim"):
        net._net.restore_lsh_from(lsh["L"], lsh["R"], words)
    words[1] = 299
    assert not net._net.restore_lsh_from(lsh["L"], lsh["R"], words)  # not a mapped file: copied
    restored = net.state_views()["lsh.buckets"]
    assert restored.dtype == np.uint32 and np.array_equal(restored, words)  # into 32-bit words of its own


def _bf16_reference(bits: np.ndarray) -> np.ndarray:
    return (bits.astype(np.uint32) << np.uint32(16)).view(np.float32)


@pytest.mark.parametrize("cols", [16, 24, 1])
def test_widening_matches_the_definitions_in_rows_of_the_engines_stride(cols):
    rng = np.random.default_rng(cols)
    values = rng.normal(size=(3000, cols)).astype(np.float32)
    values[0, 0] = 1e-40                                            # a subnormal survives as its top bits
    bits = (values.view(np.uint32) >> np.uint32(16)).astype(np.uint16)
    wide, nonfinite = _core.engine.widen_weights(bits)
    stride = -(-cols // 16) * 16
    assert wide.shape == (3000, cols) and wide.dtype == np.float32 and wide.strides == (stride * 4, 4)
    assert np.array_equal(wide, _bf16_reference(bits)) and nonfinite == 0
    q = rng.integers(-127, 128, size=(3000, cols)).astype(np.int8)
    scale = rng.uniform(0.001, 0.1, 3000).astype(np.float32)
    assert np.array_equal(_core.engine.widen_weights(q, scale)[0], q.astype(np.float32) * scale[:, None])


def test_widening_counts_nan_or_infinite_values_and_refuses_bad_shapes():
    q = np.ones((40, 16), np.int8)
    with pytest.raises(ValueError, match="one float32 scale per row"):
        _core.engine.widen_weights(q, np.ones(39, np.float32))
    with pytest.raises(ValueError, match="2-d uint16"):
        _core.engine.widen_weights(np.zeros((4, 4), np.float32))
    bits = np.zeros((40, 16), np.uint16)
    bits[7, 3], bits[9, 0] = 0x7FC0, 0xFF80                         # a NaN and -inf
    assert _core.engine.widen_weights(bits)[1] == 2
    scale = np.ones(40, np.float32)
    scale[2] = np.inf
    assert _core.engine.widen_weights(q, scale)[1] == 16           # the whole row
    assert _core.engine.count_nonfinite(np.array([1.0, np.nan, np.inf, -np.inf, 0.0], np.float32)) == 3


@pytest.mark.filterwarnings("ignore:invalid value encountered in cast")  # int8 of a NaN row: saved, refused on load
@pytest.mark.parametrize("precision", ["float32", "bfloat16", "int8"])
def test_a_file_with_a_nan_or_infinite_weight_is_refused_at_every_precision(table, tmp_path, precision):
    model = _sparse_model(table)
    model.model_.network.weights()["output.weight"][3, 1] = np.inf if precision != "int8" else np.nan
    model.save(tmp_path / "bad.udt", optimizer_state=False, precision=precision)
    with pytest.raises(ModelFileError, match="output.weight.* NaN or infinite"):
        udt.load(tmp_path / "bad.udt")


def test_a_widened_matrix_is_adopted_by_the_network_without_a_copy():
    net = Network(500, 24, 10, seed=1)
    bits = np.full((500, 24), 0x3F80, np.uint16)                  # 1.0
    wide, _ = _core.engine.widen_weights(bits)
    assert net._net.adopt_state_array("embedding.weight", wide)
    assert net.weights()["embedding.weight"].ctypes.data == wide.ctypes.data
    assert np.all(net.weights()["embedding.weight"] == 1.0)
