"""The epoch loop: shuffled mini-batches into the engine, progress, validation, early stopping.

Training data arrives as CSR chunks from the featurizer.  When the featurized data set fits in a
memory budget it is kept in memory and fully reshuffled every epoch (a file sorted by label then
trains exactly as well as a shuffled one); otherwise it is re-streamed every epoch through a
bounded shuffle buffer.  Ctrl-C ends training between two engine calls, so the network is always
left in a consistent, usable state.
"""
from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator, Optional

import numpy as np

from udt.ingest.batch import CsrBatch
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

    def epoch_batches(self, batch_size: int, rng: np.random.Generator) -> Iterator[CsrBatch]:
        for rows in self.epoch_row_ids(batch_size, rng):
            yield self.rows.take(rows)


class StreamingData:
    """A training set re-featurized every epoch, mixed by a bounded shuffle buffer.

    The buffer fills to `buffer_rows`, is shuffled, emits its first half and keeps the second half
    to mix with the rows that arrive next, so memory stays bounded whatever the data size.
    """

    def __init__(self, make_chunks: Callable[[], Iterable[CsrBatch]], buffer_rows: int = 262_144,
                 n_rows: Optional[int] = None):
        self.make_chunks = make_chunks
        self.buffer_rows = buffer_rows
        self.n_rows = n_rows

    def epoch_batches(self, batch_size: int, rng: np.random.Generator) -> Iterator[CsrBatch]:
        pending, pending_rows = [], 0
        for chunk in self.make_chunks():
            pending.append(chunk)
            pending_rows += chunk.n_rows
            if pending_rows >= self.buffer_rows:
                buffer = CsrBatch.concat(pending)
                order = rng.permutation(buffer.n_rows)
                emit = (buffer.n_rows // 2 // batch_size) * batch_size or buffer.n_rows // 2
                for start in range(0, emit, batch_size):
                    yield buffer.take(order[start:start + batch_size])
                pending = [buffer.take(order[emit:])]
                pending_rows = pending[0].n_rows
        if pending_rows:
            buffer = CsrBatch.concat(pending)
            order = rng.permutation(buffer.n_rows)
            for start in range(0, buffer.n_rows, batch_size):
                yield buffer.take(order[start:start + batch_size])


def load_training_data(chunks: Iterable[CsrBatch], make_chunks: Callable[[], Iterable[CsrBatch]],
                       memory_budget_bytes: int, buffer_rows: int = 262_144):
    """Featurize once into memory when it fits the budget; otherwise fall back to streaming."""
    kept, size, n_rows = [], 0, 0
    chunks = iter(chunks)
    for chunk in chunks:
        kept.append(chunk)
        size += chunk.nbytes
        n_rows += chunk.n_rows
        if size > memory_budget_bytes:
            kept.clear()
            n_rows += sum(c.n_rows for c in chunks)  # finish counting rows without keeping them
            return StreamingData(make_chunks, buffer_rows, n_rows)
    if not kept:
        raise ValueError("the training data has no rows")
    return InMemoryData(CsrBatch.concat(kept))


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
        """Trains epoch number `epoch`, yielding (rows, summed loss) after every round."""
        for batch in data.epoch_batches(batch_size, rng):
            loss = self.network.train_batch(batch.indices, batch.values, batch.offsets, batch.label_indices,
                                            batch.label_offsets, batch.label_values, batch.row_weights)
            yield batch.n_rows, float(loss) * batch.n_rows
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
