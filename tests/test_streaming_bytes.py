"""Streaming fit bounded in bytes: the budget's shares, the shuffle buffer's byte bound, batches within their
share with the engine's workspace, every row once per epoch, a seeded order, read pieces bounded in bytes,
text-heavy rows under a tiny budget, a too-small budget refused, and a streamed fit that still learns.

Peak resident memory is measured by benchmarks/streaming_rss.py, not here.
"""
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import udt
from udt.ingest import data as ingest_data
from udt.ingest.batch import CsrBatch
from udt.training.memory_budget import EngineWorkspace, MemoryShares, memory_shares, min_budget_bytes
from udt.training.trainer import InMemoryData, StreamingData, load_training_data, shuffle_buffer_bytes


def rows_of(n, width=lambda i: i % 5 + 1, first=0):
    """Row i has `width(i)` features and label first + i, so every row is identifiable after shuffling."""
    lengths = np.array([width(i) for i in range(n)], np.int64)
    offsets = np.r_[0, np.cumsum(lengths)].astype(np.int64)
    return CsrBatch(np.arange(offsets[-1], dtype=np.uint32), np.ones(offsets[-1], np.float32), offsets,
                    np.arange(first, first + n, dtype=np.uint32), np.arange(n + 1, dtype=np.int64))


def chunked(n, chunk_rows, **kw):
    return [rows_of(min(chunk_rows, n - s), first=s, **kw) for s in range(0, n, chunk_rows)]


def epoch_labels(data, batch_size, seed):
    return np.concatenate([b.label_indices for b in data.epoch_batches(batch_size, np.random.default_rng(seed))])


def test_row_nbytes_adds_up_to_nbytes():
    rows = rows_of(50)
    rows.row_weights = np.ones(50, np.float32)
    assert rows.row_nbytes().sum() + 16 == rows.nbytes
    assert rows.take(np.arange(10, 30)).nbytes == rows.row_nbytes()[10:30].sum() + 16


def test_concat_of_pieces_restores_the_rows_with_their_values_and_weights():
    rows = rows_of(100)
    rows.label_values = np.arange(100, dtype=np.float32)
    rows.row_weights = np.linspace(0, 1, 100).astype(np.float32)
    parts = [rows.take(np.arange(a, b)) for a, b in ((0, 30), (30, 31), (31, 100))]
    joined = CsrBatch.concat(parts)
    consumed = CsrBatch.concat(parts, consume=True)
    assert parts == []  # used up: the list is emptied, each source array let go once copied
    for name in ("indices", "values", "offsets", "label_indices", "label_offsets", "label_values", "row_weights"):
        assert np.array_equal(getattr(joined, name), getattr(rows, name)), name
        assert np.array_equal(getattr(consumed, name), getattr(rows, name)), name


@pytest.mark.parametrize("buffer_bytes", [2_000, 10_000, 50_000])
def test_the_shuffle_buffer_never_holds_more_than_its_bound(buffer_bytes):
    chunks = chunked(3000, 128)
    data = StreamingData(lambda: iter(chunks), buffer_bytes=buffer_bytes)
    seen = epoch_labels(data, 32, 0)
    assert 0 < data.held_bytes_peak <= buffer_bytes
    # The bound is used, not just respected: the buffer fills to within one (split) chunk of it.
    assert data.held_bytes_peak > buffer_bytes // 2
    assert sorted(seen) == list(range(3000))


def test_chunks_larger_than_the_buffer_are_split():
    chunks = chunked(2000, 1000)  # each chunk ~40 KB
    data = StreamingData(lambda: iter(chunks), buffer_bytes=8_000)
    seen = epoch_labels(data, 16, 3)
    assert data.held_bytes_peak <= 8_000
    assert sorted(seen) == list(range(2000))


def test_every_row_once_per_epoch_and_a_seed_gives_one_order():
    chunks = chunked(5000, 200, width=lambda i: 1 + (i * 7) % 40)  # rows of very different sizes
    data = StreamingData(lambda: iter(chunks), buffer_bytes=40_000)
    first, again, other = epoch_labels(data, 64, 1), epoch_labels(data, 64, 1), epoch_labels(data, 64, 2)
    assert sorted(first) == list(range(5000)) and sorted(other) == list(range(5000))
    assert np.array_equal(first, again)
    assert not np.array_equal(first, other)


def test_rows_are_mixed_across_the_buffer_not_in_file_order():
    chunks = chunked(5000, 100)
    data = StreamingData(lambda: iter(chunks), buffer_bytes=30_000)  # about 1,000 rows
    seen = epoch_labels(data, 50, 0)
    rows_held = 30_000 // int(rows_of(100).row_nbytes().mean())
    # A batch draws from across the buffer, not from one chunk ...
    assert np.median([np.ptp(seen[s:s + 50]) for s in range(0, 5000, 50)]) > 300
    # ... and a row leaves at most a few buffer-fulls after it arrived (bounded, as the bytes are).
    position = np.argsort(seen)
    assert np.max(np.arange(5000) - position) < 4 * rows_held


def test_in_memory_within_half_the_budget_else_streamed_with_a_byte_buffer():
    size = sum(c.nbytes for c in chunked(1000, 100))
    kept = load_training_data(iter(chunked(1000, 100)), lambda: iter(chunked(1000, 100)), 2 * size)
    assert isinstance(kept, InMemoryData) and kept.n_rows == 1000
    assert np.array_equal(kept.rows.label_indices, np.arange(1000))
    streamed = load_training_data(iter(chunked(1000, 100)), lambda: iter(chunked(1000, 100)), 0)
    assert isinstance(streamed, StreamingData) and streamed.n_rows == 1000
    assert streamed.buffer_bytes == shuffle_buffer_bytes(0) == memory_shares(0).buffer
    assert streamed.batch_bytes == memory_shares(0).batch
    assert shuffle_buffer_bytes(0) > 0  # a budget of 0 streams through the smallest buffer
    assert shuffle_buffer_bytes(3 << 30) < 3 << 30


@pytest.mark.parametrize("budget_mb", [0, 8, 16, 32, 64, 2048])
def test_the_shares_of_a_streamed_fit_add_up_to_the_budget(budget_mb):
    shares = memory_shares(budget_mb << 20)
    smallest = memory_shares(min_budget_bytes())
    assert shares.streamed_total == max(budget_mb << 20, min_budget_bytes())
    assert min(shares.reading, shares.slack, shares.buffer, shares.batch) > 0
    assert shares.buffer >= smallest.buffer >= 1 << 20 and shares.batch >= smallest.batch >= 1 << 20
    assert shares.in_memory == (budget_mb << 20) // 2
    # the default budget streams through a buffer of more than a quarter of it (it was a quarter)
    assert budget_mb != 2048 or shares.buffer > 512 << 20


def test_a_budget_too_small_to_stream_is_refused_with_the_smallest_that_works():
    smallest_mb = -(-min_budget_bytes() // 2**20)
    rows = lambda n: chunked(n, 1000, width=lambda i: 40)  # noqa: E731  (50,000 rows: ~17 MB)
    with pytest.raises(ValueError, match=f"memory_budget_mb=4 is too small.*at least {smallest_mb} MB"):
        load_training_data(iter(rows(50_000)), lambda: iter(rows(50_000)), 4 << 20)
    # the same budget holds rows that fit in half of it, and the smallest budget streams them
    assert isinstance(load_training_data(iter(rows(2000)), lambda: iter(rows(2000)), 4 << 20), InMemoryData)
    assert isinstance(load_training_data(iter(rows(50_000)), lambda: iter(rows(50_000)), smallest_mb << 20),
                      StreamingData)
    with pytest.raises(ValueError, match="memory_budget_mb=4 is too small"):
        udt.Classifier(columns=COLUMNS, target="topic", memory_budget_mb=4, **SMALL).fit(
            text_task(3000, 0, words_per_row=300), progress=False)


def test_text_heavy_batches_with_the_engine_workspace_stay_within_their_share():
    """Rows of 2,000 features (~16 KB) and a plan batch of 256 rows (4 MB, more with the engine's workspace)
    through a batch share of 300 KB: batches are cut by bytes and workspace, never over the share."""
    chunks = chunked(3000, 150, width=lambda i: 1000 + (i * 37) % 2000)
    workspace = EngineWorkspace(per_row=10 * 64 * 4, per_feature=12)
    data = StreamingData(lambda: iter(chunks), buffer_bytes=2_000_000, batch_bytes=300_000)
    batches = list(data.epoch_batches(256, np.random.default_rng(0), workspace))
    costs = [b.nbytes + workspace.bytes(b.n_rows, len(b.indices)) for b in batches]
    assert max(costs) <= 300_000 and data.batch_bytes_peak == max(costs)
    assert max(b.n_rows for b in batches) < 256 and min(b.n_rows for b in batches) >= 1
    assert data.held_bytes_peak <= 2_000_000
    assert sorted(np.concatenate([b.label_indices for b in batches])) == list(range(3000))
    # small rows fill the plan's batch size (256 x ~2.6 KB with the workspace): the share only cuts batches
    # that would not fit
    small = StreamingData(lambda: iter(chunked(3000, 150)), buffer_bytes=2_000_000, batch_bytes=1_000_000)
    assert max(b.n_rows for b in small.epoch_batches(256, np.random.default_rng(0), workspace)) == 256


def test_take_from_several_batches_copies_their_rows_once_in_order():
    a, b = rows_of(30), rows_of(20, first=30)
    a.label_values, b.label_values = np.arange(30, dtype=np.float32), np.arange(30, 50, dtype=np.float32)
    b.row_weights = np.full(20, 2.0, np.float32)
    taken = CsrBatch.take_from([a, b, a], [np.array([5, 1]), np.array([19, 0]), np.array([], np.int64)])
    expected = CsrBatch.concat([a.take(np.array([5, 1])), b.take(np.array([19, 0]))])
    for name in ("indices", "values", "offsets", "label_indices", "label_offsets", "label_values"):
        assert np.array_equal(getattr(taken, name), getattr(expected, name)), name
    assert taken.row_weights.tolist() == [1.0, 1.0, 2.0, 2.0]  # rows without weights weigh 1


def test_read_pieces_are_bounded_in_bytes(monkeypatch):
    monkeypatch.setattr(ingest_data, "PIECE_BYTES", 64 << 10)
    words = " ".join(["word"] * 1000)  # ~5 KB a row
    table = pa.table({"text": [words] * 500, "label": ["a", "b"] * 250})
    pieces = list(ingest_data.read_batches(table, batch_rows=8192))
    assert sum(p.num_rows for p in pieces) == 500
    assert max(p.nbytes for p in pieces) <= 64 << 10
    assert len(pieces) > 10


def test_csv_rows_longer_than_the_read_block_are_read(tmp_path, monkeypatch):
    monkeypatch.setattr(ingest_data, "_CSV_BLOCK_BYTES", 4 << 10)
    long_row = " ".join(f"w{i}" for i in range(3000))  # ~17 KB, four times the read block
    rows = [(f"r{i}", long_row if i == 37 else f"short {i}") for i in range(100)]
    path = tmp_path / "long.csv"
    pd.DataFrame(rows, columns=["id", "text"]).to_csv(path, index=False)
    read = pa.concat_tables(pa.Table.from_batches([b]) for b in ingest_data.read_batches(str(path)))
    assert read.column("id").to_pylist() == [f"r{i}" for i in range(100)]
    assert read.column("text")[37].as_py() == long_row


def text_task(n, seed, words_per_row=300):
    """Rows of `words_per_row` words, one in ten from the row's topic: learnable, and ~2 KB a row."""
    rng = np.random.default_rng(seed)
    filler = np.array([f"f{i}" for i in range(5000)])
    topics = ["sport", "food", "music", "travel"]
    labels = rng.integers(0, len(topics), n)
    texts = []
    for label in labels:
        words = filler[rng.integers(0, len(filler), words_per_row)]
        words[rng.integers(0, words_per_row, words_per_row // 10)] = [
            f"{topics[label]}{k}" for k in rng.integers(0, 20, words_per_row // 10)]
        texts.append(" ".join(words))
    return pd.DataFrame({"text": texts, "topic": [topics[i] for i in labels]})


COLUMNS = {"text": udt.Text(), "topic": udt.Categorical()}
SMALL = dict(hidden_dim=32, input_dim=1 << 15, epochs=3, seed=3)


def test_text_heavy_rows_with_a_tiny_budget_stream_and_learn(tmp_path, monkeypatch):
    import udt.training.fit as fit
    loaded = []
    monkeypatch.setattr(fit, "load_training_data", lambda *a: loaded.append(load_training_data(*a)) or loaded[-1])
    train, test = text_task(1500, 0), text_task(300, 1)
    train.to_csv(tmp_path / "train.csv", index=False)
    twice = [str(tmp_path / "train.csv")] * 2  # the same file passed twice: 3,000 rows
    in_memory = udt.Classifier(columns=COLUMNS, target="topic", **SMALL).fit(twice, progress=False)
    # 0, the smallest footprint: 3,000 rows of 300 words are streamed, through a buffer of about 1.5 MB (about
    # 300 rows) and batches of at most 1 MB with the engine's workspace.
    streamed = udt.Classifier(columns=COLUMNS, target="topic", memory_budget_mb=0, **SMALL).fit(
        twice, progress=False)
    assert isinstance(loaded[0], InMemoryData) and isinstance(loaded[1], StreamingData)
    shares = memory_shares(0)
    assert loaded[1].buffer_bytes == shares.buffer and 0 < loaded[1].held_bytes_peak <= shares.buffer
    assert 0 < loaded[1].batch_bytes_peak <= shares.batch
    assert all(h["rows"] == 3000 for h in streamed.history_)
    accuracy = {name: m.evaluate(test)["accuracy"] for name, m in (("memory", in_memory), ("stream", streamed))}
    assert accuracy["memory"] > 0.85, accuracy
    assert accuracy["stream"] > accuracy["memory"] - 0.05, accuracy


def test_a_batch_larger_than_half_the_buffer_is_emitted_smaller():
    """Rows of 100 features (~830 bytes) and batches of 64 rows (~53 KB) through a 20 KB buffer: each batch
    holds about half the buffer, and rows still stay behind to mix with the next chunks."""
    chunks = chunked(600, 10, width=lambda i: 100)
    data = StreamingData(lambda: iter(chunks), buffer_bytes=20_000)
    batches = list(data.epoch_batches(64, np.random.default_rng(0)))
    row = rows_of(1, width=lambda i: 100).nbytes - 16
    assert max(b.nbytes for b in batches) <= 10_000 + row
    assert sorted(np.concatenate([b.label_indices for b in batches])) == list(range(600))
    assert data.held_bytes_peak <= 20_000
    # mixed across buffer-fulls: some row leaves after rows that arrived more than a buffer-full later
    seen = np.concatenate([b.label_indices for b in batches])
    assert np.max(np.maximum.accumulate(seen) - seen) > 20_000 // row


def test_engine_tables_larger_than_the_batch_share_are_refused_unless_the_budget_is_0():
    tables = EngineWorkspace(per_row=100, per_feature=12, fixed=900_000)  # a model's tables: 0.9 MB
    for budget in (32 << 20, 0):
        data = StreamingData.within(memory_shares(budget), lambda: iter(chunked(2000, 100)), 2000)
        data.batch_bytes = 1_000_000  # as if the budget's batch share were 1 MB
        batches = data.epoch_batches(64, np.random.default_rng(0), tables)
        if budget:
            with pytest.raises(ValueError, match=r"memory_budget_mb=32 leaves batches 1\.0 MB.*take 0\.9 MB"):
                next(batches)
        else:  # the smallest footprint: the tables come on top, the rows get a quarter of the share
            assert sum(b.n_rows for b in batches) == 2000 and data.batch_bytes_peak <= 900_000 + 250_000
