"""Bad arguments raise clear errors and never crash the process."""
import numpy as np
import pytest

from udt.engine import Network

ONE_ROW = (np.array([1, 2], np.uint32), None, np.array([0, 2]))


def _train(net, indices, offsets, labels, label_offsets, values=None):
    return net.train_batch(indices, values, offsets, labels, label_offsets)


@pytest.mark.parametrize("dims,message", [((0, 8, 4), "input_dim"), ((10, 0, 4), "hidden_dim"),
                                          ((10, 8, 0), "output_dim"), ((10, -1, 4), "hidden_dim")])
def test_zero_or_negative_dims(dims, message):
    with pytest.raises(ValueError, match=message):
        Network(*dims)


@pytest.mark.parametrize("sparsity", [0.0, -0.1, 1.5, "dense", float("nan")])
def test_sparsity_outside_unit_interval(sparsity):
    with pytest.raises(ValueError, match="output_sparsity"):
        Network(10, 8, 100, output_sparsity=sparsity)


def test_unknown_option_lists_the_valid_ones():
    with pytest.raises(TypeError, match="valid options.*learning_rate"):
        Network(10, 8, 4, learnin_rate=0.1)


@pytest.mark.parametrize("name,value", [("loss", "hinge"), ("hash_family", "minhash"), ("bucket_policy", "lru")])
def test_bad_choices_name_the_alternatives(name, value):
    with pytest.raises(ValueError, match=name):
        Network(10, 8, 4, **{name: value})


@pytest.mark.parametrize("share", [-0.1, 1.0, 1.5])
def test_random_negatives_outside_unit_interval(share):
    with pytest.raises(ValueError, match="random_negatives must be in \\[0, 1\\)"):
        Network(10, 8, 100, output_sparsity=0.1, random_negatives=share)


@pytest.mark.parametrize("scale", [0.0, -1.0, float("inf")])
def test_embedding_init_scale_must_be_positive(scale):
    with pytest.raises(ValueError, match="embedding_init_scale"):
        Network(10, 8, 4, embedding_init_scale=scale)


def test_label_not_below_output_dim():
    net = Network(10, 8, 4)
    with pytest.raises(ValueError, match="label_indices must be < 4"):
        _train(net, *ONE_ROW[::2], np.array([4]), np.array([0, 1]))


def test_negative_indices_and_labels():
    net = Network(10, 8, 4)
    with pytest.raises(ValueError, match="non-negative"):
        _train(net, np.array([1, -2]), np.array([0, 2]), np.array([0]), np.array([0, 1]))
    with pytest.raises(ValueError, match="non-negative"):
        _train(net, *ONE_ROW[::2], np.array([-1]), np.array([0, 1]))


def test_feature_index_out_of_range():
    net = Network(10, 8, 4)
    with pytest.raises(ValueError, match="indices must be < 10"):
        _train(net, np.array([3, 10]), np.array([0, 2]), np.array([0]), np.array([0, 1]))


@pytest.mark.parametrize("offsets", [[0, 3], [1, 2], [0, 2, 1, 2]])
def test_mismatched_or_decreasing_offsets(offsets):
    net = Network(10, 8, 4)
    labels = np.zeros(len(offsets) - 1, np.uint32)
    with pytest.raises(ValueError, match="offsets"):
        _train(net, np.array([1, 2], np.uint32), np.array(offsets), labels, np.arange(len(offsets)))


def test_label_rows_must_match_input_rows():
    net = Network(10, 8, 4)
    with pytest.raises(ValueError, match="labels have 2 rows but inputs have 1"):
        _train(net, *ONE_ROW[::2], np.array([0, 1]), np.array([0, 1, 2]))


def test_values_length_must_match_indices():
    net = Network(10, 8, 4)
    with pytest.raises(ValueError, match="one value per index"):
        _train(net, *ONE_ROW[::2], np.array([0]), np.array([0, 1]), values=np.ones(3))
    with pytest.raises(ValueError, match="non-finite"):
        _train(net, *ONE_ROW[::2], np.array([0]), np.array([0, 1]), values=np.array([1.0, np.nan]))


def test_float_indices_are_refused():
    net = Network(10, 8, 4)
    with pytest.raises(TypeError, match="integers"):
        _train(net, np.array([1.0, 2.0]), np.array([0, 2]), np.array([0]), np.array([0, 1]))


def test_predict_argument_errors():
    net = Network(10, 8, 4)
    with pytest.raises(ValueError, match="top_k"):
        net.predict(*ONE_ROW, top_k=0)
    with pytest.raises(ValueError, match="top_k"):
        net.predict(*ONE_ROW, top_k=5)
    with pytest.raises(ValueError, match="sparse inference needs an LSH index"):
        net.predict(*ONE_ROW, sparse=True)
    sparse = Network(10, 8, 100, output_sparsity=0.1)
    with pytest.raises(ValueError, match="inference sparsity"):
        sparse.predict(*ONE_ROW, sparse=True, sparsity=2.0)


def test_regression_needs_dense_output():
    with pytest.raises(ValueError, match="mse"):
        Network(10, 8, 100, loss="mse", output_sparsity=0.5)


def test_empty_batch_is_a_no_op():
    net = Network(10, 8, 4)
    assert _train(net, np.array([], np.uint32), np.array([0]), np.array([], np.uint32), np.array([0])) == 0.0
    ids, scores = net.predict(np.array([], np.uint32), None, np.array([0]))
    assert ids.shape == (0, 1)
