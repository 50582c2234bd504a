"""Gradient checks: the engine's gradients against finite differences of a float64 numpy
model of the same network.

The gradient is read off Adam's state after one step: m = (1 - beta1) * g, exactly.
The numpy model is first checked to reproduce the engine's outputs, so its loss is the
engine's loss.
"""
import numpy as np
import pytest

from udt.engine import Network

IN, HID, OUT, N = 40, 12, 7, 6


def _batch(seed):
    rng = np.random.default_rng(seed)
    nnz = rng.integers(2, 6, N)
    offsets = np.concatenate([[0], np.cumsum(nnz)]).astype(np.int64)
    indices = np.concatenate([rng.choice(IN, k, replace=False) for k in nnz]).astype(np.uint32)
    values = rng.uniform(0.5, 1.5, offsets[-1]).astype(np.float32)
    return indices, values, offsets


def _labels(loss, seed):
    rng = np.random.default_rng(seed + 100)
    if loss == "softmax":
        ids = rng.integers(0, OUT, N)
        return ids.astype(np.uint32), None, np.arange(N + 1, dtype=np.int64)
    if loss == "sigmoid":
        per = rng.integers(1, 4, N)
        ids = np.concatenate([rng.choice(OUT, k, replace=False) for k in per]).astype(np.uint32)
        return ids, None, np.concatenate([[0], np.cumsum(per)]).astype(np.int64)
    ids = np.tile(np.arange(OUT, dtype=np.uint32), N)  # regression: a target for every output
    return ids, rng.standard_normal(N * OUT).astype(np.float32), np.arange(0, N * OUT + 1, OUT, dtype=np.int64)


def _hidden(p, indices, values, offsets):
    h = np.zeros((N, HID))
    for r in range(N):
        s = slice(offsets[r], offsets[r + 1])
        h[r] = p["b1"] + values[s] @ p["W1"][indices[s]]
    return np.maximum(h, 0)


def _forward(p, indices, values, offsets):
    return _hidden(p, indices, values, offsets) @ p["W2"].T + p["b2"]


def test_embedding_init_scale_scales_the_initial_rows():
    default = Network(IN, HID, OUT, seed=4).weights()["embedding.weight"]
    scaled = Network(IN, HID, OUT, seed=4, embedding_init_scale=0.25).weights()["embedding.weight"]
    np.testing.assert_array_equal(scaled, default * 0.25)  # a power of two: exact in float
    assert np.std(default) == pytest.approx(1 / np.sqrt(HID), rel=0.1)


def test_embed_is_the_hidden_activation():
    net = Network(IN, HID, OUT, seed=3)
    label_ids, _, label_offsets = _labels("softmax", 1)
    net.train_batch(*_batch(1), label_ids, label_offsets)  # move the weights off their initial values
    indices, values, offsets = _batch(2)
    s = net.state_arrays()
    p = {"W1": s["embedding.weight"].astype(np.float64), "b1": s["embedding.bias"].astype(np.float64)}
    h = net.embed(indices, values, offsets)
    assert h.shape == (N, HID) and h.dtype == np.float32
    np.testing.assert_allclose(h, _hidden(p, indices, values, offsets), rtol=1e-5, atol=1e-6)
    assert (h == 0).any() and (h > 0).any()  # ReLU applied, not everything clipped


def _loss(loss, z, lab_ids, lab_vals, lab_off):
    total = 0.0
    for r in range(N):
        ids = lab_ids[lab_off[r]:lab_off[r + 1]]
        if loss == "softmax":
            zr = z[r] - z[r].max()
            logp = zr - np.log(np.exp(zr).sum())
            total -= logp[ids].mean()
        elif loss == "sigmoid":
            y = np.zeros(OUT)
            y[ids] = 1.0
            p = 1 / (1 + np.exp(-z[r]))
            total -= (y * np.log(p) + (1 - y) * np.log(1 - p)).sum()
        else:
            y = np.zeros(OUT)
            y[ids] = lab_vals[lab_off[r]:lab_off[r + 1]]
            total += 0.5 * ((z[r] - y) ** 2).sum()
    return total / N


@pytest.mark.parametrize("loss", ["softmax", "sigmoid", "mse"])
def test_gradients_match_finite_differences(loss):
    net = Network(IN, HID, OUT, loss=loss, seed=5, learning_rate=1e-3, beta1=0.9)
    indices, values, offsets = _batch(1)
    lab_ids, lab_vals, lab_off = _labels(loss, 1)
    s = net.state_arrays()
    p = {"W1": s["embedding.weight"].astype(np.float64), "b1": s["embedding.bias"].astype(np.float64),
         "W2": s["output.weight"].astype(np.float64), "b2": s["output.bias"].astype(np.float64)}

    z = _forward(p, indices, values, offsets)
    engine_out = net.predict_scores(indices, values, offsets)
    expected = {"softmax": lambda z: np.exp(z - z.max(1, keepdims=True)) / np.exp(z - z.max(1, keepdims=True)).sum(1, keepdims=True),
                "sigmoid": lambda z: 1 / (1 + np.exp(-z)), "mse": lambda z: z}[loss](z)
    np.testing.assert_allclose(engine_out, expected, rtol=1e-4, atol=1e-5)

    engine_loss = net.train_batch(indices, values, offsets, lab_ids, lab_off, lab_vals)
    assert engine_loss == pytest.approx(_loss(loss, z, lab_ids, lab_vals, lab_off), rel=1e-4)

    after = net.state_arrays()
    grads = {"W1": after["embedding.adam_m"] / 0.1, "b1": after["embedding.bias_adam_m"] / 0.1,
             "W2": after["output.adam_m"] / 0.1, "b2": after["output.bias_adam_m"] / 0.1}
    rng = np.random.default_rng(7)
    eps = 1e-5
    touched_rows = np.unique(indices)
    for name in ("W1", "b1", "W2", "b2"):
        for _ in range(12):
            if name == "W1":
                coord = (int(rng.choice(touched_rows)), int(rng.integers(HID)))
            else:
                coord = tuple(int(rng.integers(n)) for n in p[name].shape)
            plus, minus = {k: v.copy() for k, v in p.items()}, {k: v.copy() for k, v in p.items()}
            plus[name][coord] += eps
            minus[name][coord] -= eps
            numeric = (_loss(loss, _forward(plus, indices, values, offsets), lab_ids, lab_vals, lab_off)
                       - _loss(loss, _forward(minus, indices, values, offsets), lab_ids, lab_vals, lab_off)) / (2 * eps)
            analytic = float(grads[name][coord])
            assert analytic == pytest.approx(numeric, rel=2e-3, abs=2e-6), (name, coord)


def test_untouched_rows_are_not_updated():
    net = Network(IN, HID, OUT, seed=2)
    indices, values, offsets = _batch(3)
    before = net.state_arrays()["embedding.weight"]
    net.train_batch(indices, values, offsets, np.zeros(N, np.uint32), np.arange(N + 1))
    after = net.state_arrays()
    untouched = np.setdiff1d(np.arange(IN), indices)
    assert np.array_equal(after["embedding.weight"][untouched], before[untouched])
    assert (after["embedding.adam_steps"][untouched] == 0).all()
    assert (after["embedding.adam_steps"][np.unique(indices)] == 1).all()
