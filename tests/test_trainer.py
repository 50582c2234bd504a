"""The epoch loop's own logic (shuffling, CSR gathering, early stopping, Ctrl-C), on a recording network.

The recording network implements the engine's training surface (train_batch / end_epoch /
weights / rebuild_index) in numpy so these tests pin down the trainer independently of the
engine; end-to-end training on the real engine is covered by the classifier tests.
"""
import numpy as np
import pytest

from udt.training.metrics import MetricSpec
from udt.ingest.batch import CsrBatch
from udt.training.trainer import EarlyStopping, InMemoryData, StreamingData, Trainer, load_training_data


class RecordingNetwork:
    def __init__(self, interrupt_at_batch=None):
        self.batches, self.epochs_ended = [], 0
        self.weight = np.zeros(1)
        self.interrupt_at_batch = interrupt_at_batch

    def train_batch(self, indices, values, offsets, label_indices, label_offsets, label_values=None,
                    row_weights=None):
        if self.interrupt_at_batch is not None and len(self.batches) == self.interrupt_at_batch:
            raise KeyboardInterrupt
        assert offsets.dtype == np.int64 and indices.dtype == np.uint32 and values.dtype == np.float32
        assert offsets[0] == 0 and offsets[-1] == len(indices) and label_offsets[-1] == len(label_indices)
        self.batches.append((indices.copy(), offsets.copy(), label_indices.copy()))
        self.weight += 1
        return 1.0 / len(self.batches)

    def end_epoch(self):
        self.epochs_ended += 1

    lsh_params = {"K": 1, "L": 1, "R": 1}
    index_rebuilds = 0
    input_dim, hidden_dim, output_dim, output_sparsity = 1000, 4, 1000, 1.0  # what the engine workspace is sized by

    def weights(self):
        return {"w": self.weight}  # a view, as the engine's

    def rebuild_index(self):
        self.index_rebuilds += 1


def make_rows(n, sorted_labels=True):
    """Row i has features [i, i+1, ..., i + i%3] and label i (so rows are identifiable after shuffling)."""
    lengths = np.arange(n) % 3 + 1
    offsets = np.r_[0, np.cumsum(lengths)].astype(np.int64)
    indices = np.concatenate([np.arange(i, i + l) for i, l in enumerate(lengths)]).astype(np.uint32)
    labels = np.arange(n, dtype=np.uint32) if sorted_labels else np.random.default_rng(0).permutation(n)
    return CsrBatch(indices, np.ones(len(indices), np.float32), offsets, labels.astype(np.uint32),
                    np.arange(n + 1, dtype=np.int64), None)


def test_take_gathers_exact_rows():
    rows = make_rows(10)
    sub = rows.take(np.array([7, 2, 5]))
    assert sub.n_rows == 3
    assert list(sub.label_indices) == [7, 2, 5]
    assert [list(sub.indices[sub.offsets[i]:sub.offsets[i + 1]]) for i in range(3)] == [[7, 8], [2, 3, 4], [5, 6, 7]]


def test_concat_of_slices_restores_rows():
    rows = make_rows(9)
    parts = [rows.take(np.arange(0, 4)), rows.take(np.arange(4, 9))]
    joined = CsrBatch.concat(parts)
    for name in ("indices", "offsets", "label_indices", "label_offsets"):
        assert np.array_equal(getattr(joined, name), getattr(rows, name))


def test_in_memory_epochs_are_full_distinct_permutations():
    data = InMemoryData(make_rows(100))
    epochs = [np.concatenate([b.label_indices for b in data.epoch_batches(16, np.random.default_rng(e))])
              for e in range(2)]
    for order in epochs:
        assert sorted(order) == list(range(100))
    assert not np.array_equal(epochs[0], epochs[1])
    # A label-sorted input is spread over the whole epoch: the first batch spans the label range.
    assert np.ptp(epochs[0][:16]) > 50


def test_streaming_buffer_is_bounded_and_emits_every_row_once():
    rows = make_rows(1000)
    chunks = [rows.take(np.arange(s, s + 100)) for s in range(0, 1000, 100)]
    data = StreamingData(lambda: iter(chunks), buffer_rows=300)
    batches = list(data.epoch_batches(32, np.random.default_rng(1)))
    seen = np.concatenate([b.label_indices for b in batches])
    assert sorted(seen) == list(range(1000))
    assert np.ptp(seen[:32]) > 32  # mixed, not in file order
    # Bounded: a row is emitted at most (buffer + chunk) rows after its arrival would require.
    first_positions = np.argsort(seen)
    assert first_positions[999] > 500


def test_load_training_data_falls_back_to_streaming_over_budget():
    rows = make_rows(200)
    chunks = [rows.take(np.arange(s, s + 50)) for s in range(0, 200, 50)]
    assert isinstance(load_training_data(iter(chunks), lambda: iter(chunks), 1 << 30), InMemoryData)
    streamed = load_training_data(iter(chunks), lambda: iter(chunks), 0)
    assert isinstance(streamed, StreamingData) and streamed.n_rows == 200
    with pytest.raises(ValueError, match="no rows"):
        load_training_data(iter([]), lambda: iter([]), 1 << 30)


def test_trainer_runs_epochs_and_records_history():
    net = RecordingNetwork()
    history = Trainer(net, batch_size=32, seed=0, progress=False).run(InMemoryData(make_rows(100)), 3, [])
    assert [h["epoch"] for h in history] == [1, 2, 3]
    assert net.epochs_ended == 3 and len(net.batches) == 3 * 4
    assert all(h["rows"] == 100 and h["rows_per_second"] > 0 for h in history)


def test_same_seed_same_batches():
    orders = []
    for _ in range(2):
        net = RecordingNetwork()
        Trainer(net, batch_size=16, seed=5, progress=False).run(InMemoryData(make_rows(50)), 2, [])
        orders.append(np.concatenate([b[2] for b in net.batches]))
    assert np.array_equal(*orders)


def test_early_stopping_stops_and_restores_best_weights():
    scores = iter([0.5, 0.7, 0.6, 0.65, 0.9])
    net = RecordingNetwork()
    trainer = Trainer(net, batch_size=50, seed=0, progress=False, validate=lambda: {"accuracy": next(scores)},
                      early_stopping=EarlyStopping(MetricSpec("accuracy"), patience=2))
    history = trainer.run(InMemoryData(make_rows(100)), 5, [])
    assert [h["val_accuracy"] for h in history] == [0.5, 0.7, 0.6, 0.65]
    assert trainer.stopped_early and trainer.restored_best
    assert net.weight[0] == 4  # weights after epoch 2 (2 batches per epoch), not after epoch 4
    assert net.index_rebuilds == 1  # the LSH tables were rebuilt from the restored weights


def test_early_stopping_on_a_lower_is_better_metric():
    losses = iter([0.9, 0.5, 0.7])
    net = RecordingNetwork()
    trainer = Trainer(net, batch_size=100, seed=0, progress=False, validate=lambda: {"log_loss": next(losses)},
                      early_stopping=EarlyStopping(MetricSpec("log_loss"), patience=5))
    trainer.run(InMemoryData(make_rows(100)), 3, [])
    assert not trainer.stopped_early and trainer.restored_best and net.weight[0] == 2


def test_ctrl_c_stops_cleanly_and_keeps_history():
    net = RecordingNetwork(interrupt_at_batch=5)
    trainer = Trainer(net, batch_size=25, seed=0, progress=False)
    with pytest.warns(RuntimeWarning, match="interrupted"):
        history = trainer.run(InMemoryData(make_rows(100)), 3, [])
    assert trainer.interrupted
    assert [h["epoch"] for h in history] == [1, 2] and history[-1]["interrupted"]
    assert len(net.batches) == 5


@pytest.mark.parametrize("scaling", ["none", "l2", "log-l2", "log-idf-l2"])
def test_feature_scaling_rows_and_single_row_agree_bit_for_bit(scaling):
    from udt.ingest.row_scaling import scale_features
    rng = np.random.default_rng(3)
    lengths = rng.integers(0, 40, 50)
    offsets = np.r_[0, np.cumsum(lengths)].astype(np.int64)
    values = rng.integers(1, 60, offsets[-1]).astype(np.float32) * rng.choice([1.0, 0.37], offsets[-1]).astype(
        np.float32)
    weights = rng.uniform(1, 9, offsets[-1]).astype(np.float32) if scaling == "log-idf-l2" else None
    batch = scale_features(values, offsets, scaling, weights)
    for r in range(50):
        row = slice(offsets[r], offsets[r + 1])
        one = scale_features(values[row], np.array([0, lengths[r]], np.int64), scaling,
                             None if weights is None else weights[row])
        assert one.tobytes() == batch[offsets[r]:offsets[r + 1]].tobytes()
        if scaling != "none" and lengths[r]:
            assert np.linalg.norm(one) == pytest.approx(1.0, rel=1e-5)
    if scaling == "log-l2":
        assert scale_features(np.array([1.0, 0.5, np.e], np.float32), np.array([0, 3]), "log-l2") == pytest.approx(
            np.array([1.0, 0.5, 2.0]) / np.sqrt(5.25), rel=1e-6)


def test_feature_scaling_matches_the_formula_and_rejects_bad_input():
    from udt.ingest.row_scaling import scale_features
    rng = np.random.default_rng(5)
    offsets = np.array([0, 3, 3, 10], np.int64)  # the middle row is empty
    values = rng.uniform(0.1, 30, 10).astype(np.float32)
    weights = rng.uniform(1, 5, 10).astype(np.float32)
    got = scale_features(values, offsets, "log-idf-l2", weights)
    v = (np.minimum(values, 1) + np.log(np.maximum(values, 1))).astype(np.float64) * weights
    for a, b in zip(offsets[:-1], offsets[1:]):
        assert got[a:b] == pytest.approx(v[a:b] / np.linalg.norm(v[a:b]), rel=1e-6)
    assert scale_features(values, offsets, "l2")[:3] == pytest.approx(values[:3] / np.linalg.norm(values[:3]), rel=1e-6)
    zeros = scale_features(np.zeros(3, np.float32), np.array([0, 3]), "l2")
    assert zeros.tolist() == [0, 0, 0]  # a zero row stays zero rather than becoming NaN
    with pytest.raises(ValueError, match="feature scaling must be one of"):
        scale_features(values, offsets, "tfidf")
    with pytest.raises(ValueError, match="end at len"):
        scale_features(values, np.array([0, 3, 9]), "l2")
    with pytest.raises(ValueError, match="must not decrease"):
        scale_features(values, np.array([0, 5, 3, 10]), "l2")
    with pytest.raises(ValueError, match="one value per feature"):
        scale_features(values, offsets, "log-idf-l2", weights[:4])


def test_idf_weights_and_log_idf_l2_scaling():
    from udt.ingest.row_scaling import idf_weights, scale_features
    idf = idf_weights(np.array([9, 0, 1]), 9)
    assert idf == pytest.approx([1.0, np.log(10) + 1, np.log(5) + 1], rel=1e-6)  # ln((1 + n) / (1 + df)) + 1
    offsets = np.array([0, 2], np.int64)
    values = np.array([1.0, np.e], np.float32)  # log: 1 and 2
    scaled = scale_features(values, offsets, "log-idf-l2", idf[[0, 2]])
    expect = np.array([1.0, 2.0 * idf[2]])
    assert scaled == pytest.approx(expect / np.linalg.norm(expect), rel=1e-6)
    assert scale_features(values, offsets, "log-idf-l2").tobytes() == scale_features(values, offsets, "log-l2").tobytes()
