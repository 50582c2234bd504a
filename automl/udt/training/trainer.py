"""The epoch loop: shuffled mini-batches into the engine, progress, validation, early stopping.

Training data arrives as CSR chunks from the featurizer.  When the featurized data set fits in half
the memory budget it is kept in memory and fully reshuffled every epoch (a file sorted by label then
trains exactly as well as a shuffled one); otherwise it is re-streamed every epoch through a shuffle
buffer bounded in bytes.  Ctrl-C ends training between two engine calls, so the network is always
left in a consistent, usable state.

The memory budget (memory_budget_mb) bounds what fit holds besides the interpreter and the model; how it is
shared out (in memory: rows up to half of it; streamed: the reader, allocator slack, the shuffle buffer and one
batch with the engine's workspace for it) is udt.training.memory_budget's one accounting.
"""
from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator, Optional

import numpy as np

from udt.ingest.batch import CsrBatch
from udt.training.memory_budget import NO_WORKSPACE, EngineWorkspace, MemoryShares, budget_for_batch_share, memory_shares
from udt.training.metrics import MetricSpec

try:
    from tqdm.auto import tqdm
except ImportError:  # tqdm is a declared dependency; degrade to no progress bar rather than fail
    tqdm = None


class InMemoryData:
    """A featurized training set held in memory; every epoch is a fresh full permutation."""

    def __init__(self, rows: CsrBatch):
        self.rows = rows
        self.n_rows = rows.n_rows

    def epoch_row_ids(self, batch_size: int, rng: np.random.Generator) -> Iterator[np.ndarray]:
        """The rows of each batch of an epoch (distributed workers take them from their own copy)."""
        order = rng.permutation(self.n_rows)
        for start in range(0, self.n_rows, batch_size):
            yield order[start:start + batch_size]

    def epoch_batches(self, batch_size: int, rng: np.random.Generator,
                      workspace: EngineWorkspace = NO_WORKSPACE) -> Iterator[CsrBatch]:
        for rows in self.epoch_row_ids(batch_size, rng):
            yield self.rows.take(rows)


def _return_freed_memory(streaming: bool = False) -> None:
    """Hands memory freed by the passes before this one back to the system (a no-op without glibc). Streaming,
    it also keeps glibc's malloc serving every allocation from 128 KB up (its default threshold) with its own
    mapping, unmapped when freed. By default glibc raises that threshold to the largest block freed so far (up
    to 32 MB), after which the buffer's chunks, batches and kept rows, allocated and freed in different orders,
    fragment the heap and stay resident: a 64 MB budget's text fit peaked 22 MB higher (82 MB over the model and
    the code against 60 MB), for the same live data. Only then: the setting holds for the rest of the process
    (glibc cannot turn the raising back on), and every large temporary then costs fresh pages; for fits in memory
    that was 20% of 20 Newsgroups' fit (3.54-3.78 s against 2.87-3.11 s, alternating, load 2-3)."""
    global _libc
    if _libc is None:
        try:
            import ctypes
            _libc = ctypes.CDLL(None)
            if not hasattr(_libc, "gnu_get_libc_version"):
                _libc = False
        except (OSError, AttributeError):
            _libc = False
    if _libc:
        if streaming:
            _libc.mallopt(-3, 128 << 10)  # M_MMAP_THRESHOLD; setting it turns off the dynamic raising
        _libc.malloc_trim(0)  # e.g. the statistics pass's numeric samples, freed in many small pieces


_libc = None
ORDER_BYTES_PER_ROW = 32  # what a mix adds per held row: its int64 row order, sizes and costs, cut into batches


def shuffle_buffer_bytes(memory_budget_bytes: int) -> int:
    """The streaming shuffle buffer's bound for a memory budget (udt.training.memory_budget)."""
    return memory_shares(memory_budget_bytes).buffer


class StreamingData:
    """A training set re-featurized every epoch, mixed by a shuffle buffer bounded in bytes.

    The buffer takes chunks while they fit in `buffer_bytes` (a chunk over half of it is split first); when the
    next one would not fit, the buffer is shuffled, its rows are emitted in that order until what remains fits in
    half the bound, and the rest stays to mix with the rows that arrive next. So rows mix across buffer-fulls of
    the file, the buffer never holds more than `buffer_bytes` (unless one row is larger than half of it), and the
    order is a function of the data and the rng. A row counts its bytes (CsrBatch.row_nbytes) plus
    ORDER_BYTES_PER_ROW, what mixing it takes. buffer_rows, if given, bounds the rows held too.

    A batch holds at most `batch_bytes` with the engine's workspace for it (epoch_batches' `workspace`): its
    rows, the batch_size asked for or fewer, are cut so. held_bytes_peak and batch_bytes_peak: the most bytes
    the buffer has held and a batch has taken (with its workspace), for tests and benchmarks.
    """

    def __init__(self, make_chunks: Callable[[], Iterable[CsrBatch]], buffer_bytes: int = 64 << 20,
                 n_rows: Optional[int] = None, buffer_rows: Optional[int] = None,
                 batch_bytes: Optional[int] = None):
        batch_bytes = buffer_bytes // 2 if batch_bytes is None else batch_bytes
        if buffer_bytes < 1 or batch_bytes < 1 or (buffer_rows is not None and buffer_rows < 2):
            raise ValueError(f"shuffle buffer of {buffer_bytes} bytes, {buffer_rows} rows, batches of {batch_bytes} "
                             f"bytes: expected >= 1 byte, >= 2 rows, >= 1 byte")
        self.make_chunks = make_chunks
        self.buffer_bytes = int(buffer_bytes)
        self.batch_bytes = int(batch_bytes)
        self.buffer_rows = buffer_rows
        self.n_rows = n_rows
        self.held_bytes_peak = 0
        self.batch_bytes_peak = 0
        self.budget = None  # the memory budget the shares come from, for error messages (None: given directly)

    @staticmethod
    def within(shares: MemoryShares, make_chunks: Callable[[], Iterable[CsrBatch]],
               n_rows: Optional[int] = None) -> "StreamingData":
        data = StreamingData(make_chunks, shares.buffer, n_rows, batch_bytes=shares.batch)
        data.budget = shares.budget
        return data

    def epoch_batches(self, batch_size: int, rng: np.random.Generator,
                      workspace: EngineWorkspace = NO_WORKSPACE) -> Iterator[CsrBatch]:
        limit, rows_limit = self.buffer_bytes, self.buffer_rows or np.iinfo(np.int64).max
        keep_bytes, keep_rows = limit - limit // 2, rows_limit // 2
        held, held_bytes, held_rows = [], 0, 0
        _return_freed_memory(streaming=True)
        mix = _Mix(batch_size, rng, workspace, self.batch_bytes, self.budget)
        for chunk in _split(self.make_chunks(), limit // 2):
            size = _held_size(chunk)
            if held and (held_bytes + size > limit or held_rows + chunk.n_rows > rows_limit):
                kept = yield from mix.run(held, keep_bytes, keep_rows)
                held = [kept] if kept is not None else []
                held_bytes, held_rows = (_held_size(kept), kept.n_rows) if kept is not None else (0, 0)
                del kept  # the buffer holds it now: the next mix lets it go with the buffer's other chunks
            held.append(chunk)
            held_bytes, held_rows = held_bytes + size, held_rows + chunk.n_rows
            self.held_bytes_peak = max(self.held_bytes_peak, held_bytes)
            del chunk  # the buffer holds it now; the last chunk must not outlive its turn in the buffer
        if held:
            yield from mix.run(held, 0, 0)
        self.batch_bytes_peak = max(self.batch_bytes_peak, mix.batch_bytes_peak)


def _held_size(chunk: CsrBatch) -> int:
    return chunk.nbytes + ORDER_BYTES_PER_ROW * chunk.n_rows


def _split(chunks: Iterable[CsrBatch], max_bytes: int) -> Iterator[CsrBatch]:
    """The chunks, each over `max_bytes` (counted as the buffer counts them) cut into runs of consecutive rows
    of at most that (at least one row)."""
    for chunk in chunks:
        if _held_size(chunk) <= max_bytes:
            yield chunk
            continue
        ends = np.cumsum(chunk.row_nbytes() + ORDER_BYTES_PER_ROW)  # ends[i]: bytes of rows 0..i
        start = 0
        while start < chunk.n_rows:
            # rows [start, stop) hold at most max_bytes (16: the offsets' leading zeros)
            before = int(ends[start - 1]) if start else 0
            stop = max(start + 1, int(np.searchsorted(ends, before + max_bytes - 16, "right")))
            yield chunk.take(np.arange(start, stop))
            start = stop


class _Mix:
    """Mixes buffer-fulls into batches of at most batch_size rows and `batch_bytes` bytes with the engine's
    workspace for them (at least one row each)."""

    def __init__(self, batch_size: int, rng: np.random.Generator, workspace: EngineWorkspace, batch_bytes: int,
                 budget: Optional[int]):
        # The engine's model-sized tables take their part of the batch share first; at least a quarter is left
        # for the rows. A budget of 0 (the smallest footprint) takes them on top rather than refuse.
        rows_bytes = batch_bytes - workspace.fixed
        if rows_bytes < batch_bytes // 4:
            if budget:
                raise ValueError(f"memory_budget_mb={budget / 2**20:g} leaves batches {batch_bytes / 2**20:.1f} MB, "
                                 f"and the engine's tables for this model take {workspace.fixed / 2**20:.1f} MB of "
                                 f"that whatever the batch: pass memory_budget_mb="
                                 f"{-(-budget_for_batch_share(4 * workspace.fixed // 3) // 2**20)} or more")
            rows_bytes = batch_bytes // 4
        self.batch_size, self.rng, self.workspace = batch_size, rng, workspace
        self.batch_bytes = rows_bytes  # what the rows and their per-batch workspace may take
        self.batch_bytes_peak = 0

    def run(self, held: list, keep_bytes: int, keep_rows: int):
        """Shuffles the rows of the held chunks, yields batches in that order until the rest fits in keep_bytes
        and keep_rows (0: until none is left), and returns the rest as one chunk (None when nothing is left).
        The list is emptied.

        The chunks are never concatenated: a batch gathers its rows from the chunks they are in, and the rest
        is taken chunk by chunk, each chunk let go once taken from, so mixing a buffer of N bytes holds N plus
        a batch, not the 2N of a concatenated copy."""
        starts = np.r_[0, np.cumsum([c.n_rows for c in held])]
        n = int(starts[-1])
        order = self.rng.permutation(n)
        row_bytes = np.concatenate([c.row_nbytes() for c in held])[order]
        ends = self._batch_ends(held, order, row_bytes)
        emit = n
        if keep_bytes:  # the fewest whole batches to emit for the rest to fit (in rows, and in held bytes)
            np.cumsum(row_bytes + ORDER_BYTES_PER_ROW, out=row_bytes)  # bytes of the first k + 1 rows of `order`
            by_bytes = int(np.searchsorted(row_bytes, row_bytes[-1] + 16 - keep_bytes, "left")) + 1
            emit = int(ends[min(len(ends) - 1, np.searchsorted(ends, max(by_bytes, n - keep_rows), "left"))])
        del row_bytes
        start = 0
        for end in ends[:np.searchsorted(ends, emit, "right")]:
            yield _gather(held, starts, order[start:end])
            start = end
        rest = np.sort(order[emit:])
        del order
        bounds = np.searchsorted(rest, starts)
        pieces = []
        for i in range(len(held)):
            if bounds[i + 1] > bounds[i]:
                pieces.append(held[i].take(rest[bounds[i]:bounds[i + 1]] - starts[i]))
            held[i] = None  # the buffer held the only reference: the chunk's memory goes now
        held.clear()
        return CsrBatch.concat(pieces, consume=True) if pieces else None

    def _batch_ends(self, held: list, order: np.ndarray, row_bytes: np.ndarray) -> np.ndarray:
        """Where each batch of `order` ends: batch_size rows, or fewer where their bytes and the engine's
        workspace for them would exceed batch_bytes (at least one row)."""
        n = len(order)
        if self.workspace.per_feature:
            features = np.concatenate([np.diff(c.offsets) for c in held])[order]
            cost = row_bytes + self.workspace.per_row + self.workspace.per_feature * features
            del features
        else:
            cost = row_bytes + self.workspace.per_row
        np.cumsum(cost, out=cost)  # cost of rows 0..k of `order`
        ends, start, spent = [], 0, 0
        while start < n:  # cut by cost: rows of very different sizes make batches of different lengths
            cap = int(np.searchsorted(cost, spent + self.batch_bytes - 16, "right"))
            end = min(n, start + self.batch_size, max(start + 1, cap))
            self.batch_bytes_peak = max(self.batch_bytes_peak, int(cost[end - 1]) - spent + 16 + self.workspace.fixed)
            ends.append(end)
            start, spent = end, int(cost[end - 1])
        return np.asarray(ends, np.int64)


def _gather(held: list, starts: np.ndarray, rows: np.ndarray) -> CsrBatch:
    """Rows `rows` (numbered across the held chunks, which start at row `starts`) as one batch, grouped by the
    chunk they are in (the order within a batch does not change its gradient), copied once."""
    chunk = np.searchsorted(starts, rows, "right") - 1
    by_chunk = np.argsort(chunk, kind="stable")
    rows, chunk = rows[by_chunk], chunk[by_chunk]
    cuts = [0, *(np.flatnonzero(np.diff(chunk)) + 1).tolist(), len(rows)]
    return CsrBatch.take_from([held[chunk[a]] for a in cuts[:-1]],
                              [rows[a:b] - starts[chunk[a]] for a, b in zip(cuts[:-1], cuts[1:])])


def load_training_data(chunks: Iterable[CsrBatch], make_chunks: Callable[[], Iterable[CsrBatch]],
                       memory_budget_bytes: int):
    """Featurize once into memory when the rows fit in the budget's in-memory share; otherwise stream them
    through a shuffle buffer and batches of the budget's shares (udt.training.memory_budget), counting the rows
    on the way. The chunks are used up (joined with CsrBatch.concat(consume=True)): pass chunks nothing else
    holds. ValueError for a budget too small to stream in (MemoryShares.check_streamable)."""
    shares = memory_shares(memory_budget_bytes)
    _return_freed_memory()  # before this pass keeps chunks, which would otherwise fragment the heap
    kept, size, n_rows = [], 0, 0
    chunks = iter(chunks)
    for chunk in chunks:
        kept.append(chunk)
        size += chunk.nbytes
        n_rows += chunk.n_rows
        del chunk
        if size > shares.in_memory:
            kept.clear()
            _return_freed_memory(streaming=True)  # the kept chunks, before the rest of this pass
            n_rows += sum(c.n_rows for c in chunks)  # finish counting rows without keeping them
            return StreamingData.within(shares.check_streamable(), make_chunks, n_rows)
    if not kept:
        raise ValueError("the training data has no rows")
    return InMemoryData(CsrBatch.concat(kept, consume=True))


@dataclass
class EarlyStopping:
    """Stop when `metric` has not improved for `patience` epochs; optionally restore the best weights."""

    metric: MetricSpec
    patience: int = 2
    restore_best: bool = True


class LocalRounds:
    """Runs training in this process: every batch is one round of one engine call. The Trainer's
    strategy for running rounds; udt.training.distributed.DistributedRounds runs them on a pool of workers."""

    def __init__(self, network):
        self.network = network

    def start(self, data) -> None:
        pass

    def epoch(self, data, batch_size: int, rng: np.random.Generator, epoch: int) -> Iterator[tuple[int, float]]:
        """Trains epoch number `epoch`, yielding (rows, summed loss) after every round. Streamed batches are
        cut so the engine's workspace for them stays within the budget's batch share."""
        for batch in data.epoch_batches(batch_size, rng, EngineWorkspace.of(self.network)):
            loss = self.network.train_batch(batch.indices, batch.values, batch.offsets, batch.label_indices,
                                            batch.label_offsets, batch.label_values, batch.row_weights)
            yield batch.n_rows, float(loss) * batch.n_rows
            del batch  # before the next one is made: two batches of long text rows are a buffer's worth
        self.network.end_epoch()

    def epoch_stats(self, seconds: float) -> dict:
        """Extra history fields of the epoch that just ran (or was interrupted)."""
        return {}

    def stop(self, interrupted: bool) -> None:
        pass


class Trainer:
    """Runs epochs of mini-batch training on an engine Network and records one history row per epoch.
    `rounds` runs the batches (LocalRounds by default, or udt.training.distributed.DistributedRounds)."""

    def __init__(self, network, *, batch_size: int, seed: int, progress: bool = True,
                 validate: Optional[Callable[[], dict]] = None, early_stopping: Optional[EarlyStopping] = None,
                 rounds=None):
        self.network = network
        self.batch_size = batch_size
        self.seed = seed
        self.progress = progress and tqdm is not None
        self.validate = validate
        self.early_stopping = early_stopping
        self.rounds = rounds if rounds is not None else LocalRounds(network)
        self.interrupted = False
        self.stopped_early = False
        self.restored_best = False

    def _train_epoch(self, data, rng, epoch: int, label: str) -> dict:
        bar = tqdm(total=data.n_rows, desc=label, unit="rows", unit_scale=True, leave=True, dynamic_ncols=True,
                   mininterval=0.5) if self.progress else None
        loss_sum, rows_seen, start = 0.0, 0, time.perf_counter()
        try:
            for rows, round_loss in self.rounds.epoch(data, self.batch_size, rng, epoch):
                loss_sum += round_loss
                rows_seen += rows
                if bar is not None:
                    bar.update(rows)
                    bar.set_postfix(loss=f"{loss_sum / max(rows_seen, 1):.4f}", refresh=False)
        finally:
            seconds = time.perf_counter() - start
            if bar is not None:
                bar.close()
            self._last_partial = {"epoch": epoch, "loss": loss_sum / max(rows_seen, 1), "rows": rows_seen,
                                  "train_seconds": seconds, "rows_per_second": rows_seen / max(seconds, 1e-9),
                                  **self.rounds.epoch_stats(seconds)}
        return self._last_partial

    def run(self, data, epochs: int, history: list, first_epoch: int = 1) -> list:
        """Train for `epochs` epochs, appending one dict per epoch to `history` (returned)."""
        try:
            self.rounds.start(data)
        except KeyboardInterrupt:
            self.interrupted = True
            warnings.warn("training interrupted by Ctrl-C before it started; the model is unchanged",
                          RuntimeWarning, stacklevel=2)
            return history
        try:
            return self._epochs(data, epochs, history, first_epoch)
        finally:
            self.rounds.stop(self.interrupted)

    def _epochs(self, data, epochs: int, history: list, first_epoch: int) -> list:
        best, best_state, waited = None, None, 0
        stopper = self.early_stopping if self.validate is not None else None
        self._last_partial = None
        try:
            for epoch in range(first_epoch, first_epoch + epochs):
                rng = np.random.default_rng([self.seed, epoch])
                row = self._train_epoch(data, rng, epoch, f"epoch {epoch}/{first_epoch + epochs - 1}")
                if self.validate is not None:
                    row.update({f"val_{k}": v for k, v in self.validate().items()})
                history.append(row)
                if self.progress:
                    shown = {k: v for k, v in row.items() if k == "loss" or k.startswith("val_")}
                    tqdm.write(f"epoch {epoch}: " + ", ".join(f"{k}={v:.4f}" for k, v in shown.items()))
                if stopper is None:
                    continue
                value = row[f"val_{stopper.metric.name}"]
                improved = best is None or (value > best if stopper.metric.higher_is_better else value < best)
                if improved:
                    best, waited = value, 0
                    best_state = None  # free the old copy before taking the new one
                    if stopper.restore_best and epoch < first_epoch + epochs - 1:
                        best_state = self._snapshot()
                    row["best"] = True
                else:
                    waited += 1
                    if waited >= stopper.patience:
                        self.stopped_early = True
                        break
        except KeyboardInterrupt:
            # The engine call that was running has finished (the interrupt is delivered between Python
            # bytecodes), so the network holds consistent weights: keep them and return normally.
            self.interrupted = True
            partial = self._last_partial
            if partial is not None and (not history or history[-1]["epoch"] != partial["epoch"]):
                history.append(dict(partial, interrupted=True))
            warnings.warn("training interrupted by Ctrl-C; the model keeps the weights learned so far",
                          RuntimeWarning, stacklevel=4)
            return history
        if best_state is not None:  # the best epoch was not the last one: go back to it
            self._restore(best_state)
            self.restored_best = True
        return history

    def _snapshot(self) -> dict:
        """A copy of the learned parameters, which is all prediction uses. Not the Adam moments (twice
        the parameters' size: 4 GB more for a 2^20 x 512 model) -- like Keras's restore_best_weights,
        the restored model keeps the optimizer state of its last epoch, which only matters to further
        training."""
        return {k: np.array(v, copy=True) for k, v in self.network.weights().items()}

    def _restore(self, snapshot: dict) -> None:
        views = self.network.weights()
        for name, values in snapshot.items():
            views[name][...] = values
        if self.network.lsh_params is not None:
            self.network.rebuild_index()  # the LSH tables follow the restored weights
