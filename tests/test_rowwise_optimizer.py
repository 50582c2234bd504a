"""The embedding table's row-wise optimizer (engine/src/rowwise_rms.h): one second moment per row,
no momentum. Checked against a float64 numpy model of the same steps, including the decay of rows
that sat out some batches, and through saving, loading and distributed merges."""
import math

import numpy as np
import pytest

import udt
from udt.engine import Network
from udt.training.distributed import RayConfig
from udt.training.sparse_merge import AdamSettings, merge_row_blocks

from classifier_data import SMALL, TEXT_COLUMNS, text_table

IN, HID, OUT = 30, 8, 5


def _one_hot_batch(rows):
    """One sample per listed embedding row, each reading only that row (value 1)."""
    rows = np.asarray(rows, np.uint32)
    return rows, np.ones(len(rows), np.float32), np.arange(len(rows) + 1, dtype=np.int64)


def test_rowwise_steps_follow_the_closed_form_with_idle_decay():
    lr, b2, eps = 1e-2, 0.999, 1e-7
    net = Network(IN, HID, OUT, seed=4, learning_rate=lr, beta2=b2, eps=eps, embedding_optimizer="rowwise",
                  n_threads=1)
    state = net.state_arrays()
    w = state["embedding.weight"].astype(np.float64)
    v = np.zeros(IN)
    last = np.zeros(IN, np.int64)
    schedule = [[1, 2], [2], [3], [1], [2, 3], [1]]   # row 1 sits out steps 2-3, row 3 steps 4
    for t, rows in enumerate(schedule, start=1):
        before = net.state_arrays()
        x = _one_hot_batch(rows)
        labels = np.zeros(len(rows), np.uint32)
        net.train_batch(*x, labels, np.arange(len(rows) + 1))
        after = net.state_arrays()
        # A one-hot sample's row moves by -lr_t g / (sqrt(v) + eps_t): recover g from the move and the
        # reported v, then check that v is what the recursion (with the idle rows' decay) gives for that g.
        for r in rows:
            if last[r]:
                v[r] *= b2 ** (t - 1 - last[r])
            moved = after["embedding.weight"][r].astype(np.float64) - before["embedding.weight"][r]
            correction = math.sqrt(1 - b2 ** t)
            v_new = float(after["embedding.rowwise_v"][r])
            g = -moved * (math.sqrt(v_new) + eps * correction) / (lr * correction)
            v[r] = b2 * v[r] + (1 - b2) * np.mean(g * g)
            assert v_new == pytest.approx(v[r], rel=1e-4), (t, r)
            w[r] += moved
            last[r] = t
            assert int(after["embedding.rowwise_steps"][r]) == t
        untouched = np.setdiff1d(np.arange(IN), rows)
        assert np.array_equal(after["embedding.weight"][untouched], before["embedding.weight"][untouched])
        assert np.array_equal(after["embedding.rowwise_v"][untouched], before["embedding.rowwise_v"][untouched])


def test_a_rare_feature_moves_as_far_as_with_adam():
    """One hit: Adam's step plus its momentum tail, against the row-wise single step (rowwise_rms.h)."""
    hit, idle = 5, 200
    moves = {}
    for optimizer in ("adam", "rowwise"):
        net = Network(IN, HID, OUT, seed=1, embedding_optimizer=optimizer, n_threads=1)
        common = _one_hot_batch([0, 1, 2])
        labels = np.array([0, 1, 2], np.uint32), np.arange(4)
        for _ in range(50):                      # warm the global step up
            net.train_batch(*common, *labels)
        start = net.state_arrays()["embedding.weight"][hit].copy()
        net.train_batch(*_one_hot_batch([hit, 0]), np.array([3, 0], np.uint32), np.arange(3))
        for _ in range(idle):                    # the rare row's Adam tail is applied when it is next used
            net.train_batch(*common, *labels)
        net.train_batch(*_one_hot_batch([hit]), np.array([3], np.uint32), np.arange(2), np.zeros(1, np.float32))
        moves[optimizer] = np.linalg.norm(net.state_arrays()["embedding.weight"][hit] - start)
    assert 0.5 < moves["rowwise"] / moves["adam"] < 2.0, moves


def test_rowwise_model_is_a_third_of_the_size_and_round_trips(tmp_path):
    adam = udt.Classifier(columns=TEXT_COLUMNS, target="topic", **SMALL).fit(text_table(300), progress=False)
    rowwise = udt.Classifier(columns=TEXT_COLUMNS, target="topic", embedding_optimizer="rowwise", **SMALL)
    rowwise.fit(text_table(300), progress=False)
    assert rowwise.model_.plan.embedding_optimizer == "rowwise"
    nbytes = {name: sum(a.nbytes for a in m.network_.state_arrays().values()) for name, m in
              (("adam", adam), ("rowwise", rowwise))}
    table = rowwise.network_.input_dim * rowwise.network_.hidden_dim * 4
    assert nbytes["adam"] - nbytes["rowwise"] >= 2 * table - 8 * rowwise.network_.input_dim
    assert rowwise.evaluate(text_table(200, seed=9), metrics=["accuracy"])["accuracy"] > 0.8
    path = tmp_path / "m.udt"
    rowwise.save(path)
    loaded = udt.load(path)
    a, b = rowwise.network_.state_arrays(), loaded.network_.state_arrays()
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)
    loaded.fit(text_table(100, seed=3), progress=False)             # continued training keeps its optimizer
    assert loaded.network_.config["embedding_optimizer"] == "rowwise"


def test_merge_decays_an_older_rowwise_contribution_before_averaging():
    adam = AdamSettings(learning_rate=1e-2, beta1=0.9, beta2=0.999, eps=1e-7, catch_up=True)
    w = np.ones((1, 4), np.float32)

    def block(step, weight, v):
        return {"rows": np.array([7]), "steps": np.array([step], np.uint64), "embedding.weight": weight,
                "embedding.rowwise_v": np.array([v], np.float32)}

    merged = merge_row_blocks([block(1000, w.copy(), 0.5), block(1005, w + 1, 0.25)], "embedding_rowwise", adam)
    np.testing.assert_allclose(merged["embedding.weight"], w + 0.5)       # no momentum: no drift to add
    np.testing.assert_allclose(merged["embedding.rowwise_v"], [(0.5 * 0.999 ** 5 + 0.25) / 2], rtol=1e-6)
    assert merged["steps"].tolist() == [1005]


def test_one_rowwise_worker_is_single_process_training_bit_for_bit():
    def fit(distributed=None):
        model = udt.Classifier(columns=TEXT_COLUMNS, target="topic", embedding_optimizer="rowwise", **SMALL)
        return model.fit(text_table(400), distributed=distributed, progress=False)

    single, one = fit(), fit(RayConfig(num_workers=1, sync_every=3, backend="local"))
    sa, sb = single.network_.state_arrays(), one.network_.state_arrays()
    assert sa.keys() == sb.keys() and "embedding.rowwise_v" in sa
    assert all(sa[k].tobytes() == sb[k].tobytes() for k in sa)
    two = fit(RayConfig(num_workers=2, sync_every=3, backend="local"))
    test = text_table(200, seed=11)
    assert two.evaluate(test, metrics=["accuracy"])["accuracy"] > single.evaluate(test, metrics=["accuracy"])[
        "accuracy"] - 0.05
