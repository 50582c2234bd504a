"""One accounting of memory_budget_mb: what each part of fit's data handling may hold, besides the interpreter
and the model.

In memory (the featurized rows fit in `in_memory`, half the budget) the rows are held whole; joining their
chunks takes 1.5 times that (CsrBatch.concat(consume=True)), which leaves a quarter for batches. Otherwise the
rows are re-read every epoch and streamed (StreamingData), and the budget is shared out whole:

    reading   the CSV reader's blocks and one read piece of column data (udt.ingest.data.READ_BYTES_IN_FLIGHT)
              and the piece's featurized chunk (text featurizes to ~2.5x its bytes): READING_BYTES
    fixed     what a streamed fit holds besides the rows whatever the budget: freed heap the passes before
              training leave between live objects (~7 MB), the featurizer's and engine's tables, the mix's
              transients: FIXED_BYTES, 16 MB (benchmarks/streaming_rss.py measured ~24 MB beyond the buffer and
              the batch at budgets of 16 to 64 MB, the reading share included)
    slack     what the allocators keep resident while batches, chunks and mixes of many sizes come and go: 1/8
    buffer    the shuffle buffer's rows, each counted with what mixing it takes (the row order, sizes and
              costs: udt.training.trainer.ORDER_BYTES_PER_ROW): half of the rest
    batch     one batch as the engine trains on it and the workspace the engine holds for a batch of that
              size, with its tables sized by the model (EngineWorkspace): the other half; a batch has fewer
              rows than the plan's batch_size where they would not fit

so the shares add up to the budget. A budget of 0 streams with the smallest shares (MIN_BUFFER_BYTES,
MIN_BATCH_BYTES); a budget above 0 but below those (min_budget_bytes) is refused, with the smallest that works,
when the rows have to be streamed.
"""
from __future__ import annotations

from dataclasses import dataclass

from udt.ingest.data import PIECE_BYTES, READ_BYTES_IN_FLIGHT

IN_MEMORY_SHARE = 2  # featurized rows are kept in memory up to budget / 2
SLACK_SHARE = 8  # allocator slack: budget / 8
BUFFER_PARTS, BATCH_PARTS = 1, 1  # the rest, shared 1:1 between the shuffle buffer and one batch
FIXED_BYTES = 16 << 20
# The reader's blocks and piece in flight, and the piece's featurized chunk (unigrams and bigrams of text
# rows, 8 bytes each, take ~2.5 times the text's bytes).
READING_BYTES = READ_BYTES_IN_FLIGHT + 3 * PIECE_BYTES
MIN_BUFFER_BYTES = 1 << 20  # what a budget of 0 streams through
MIN_BATCH_BYTES = 1 << 20
# The engine's per-row scratch (engine/src/network.cc, resize_scratch): the hidden activations, their
# gradients and kBackwardChunks (8) partial gradients, hidden_dim floats each; its per-feature scratch: the
# input rows regrouped by feature (row_groups.h: sample and position, 4 bytes each, plus up to 12 bytes per
# distinct id, counted as 4 a feature); per active output neuron the id, its gradient and its regrouping.
_HIDDEN_ROWS_PER_SAMPLE = 2 + 8
_BYTES_PER_FEATURE = 4 + 4 + 4
_BYTES_PER_ACTIVE_OUTPUT = 4 + 4 + 8
_BYTES_PER_SAMPLE = 3 * 24 + 64  # three std::vector headers and the malloc headers of their storage
_BYTES_PER_TABLE_ROW = 8  # row_groups.h's cursor: one uint64 per input feature id and per output neuron


@dataclass(frozen=True)
class EngineWorkspace:
    """Bytes the engine holds while it trains on a batch: per_row for each row, per_feature for each feature
    (non-zero input) of the batch, and `fixed` whatever the batch (tables sized by the model). It keeps the
    largest batch's workspace until the network goes."""

    per_row: int
    per_feature: int
    fixed: int = 0

    @staticmethod
    def of(network) -> "EngineWorkspace":
        active = max(1, int(-(-network.output_sparsity * network.output_dim // 1)))
        tables = (network.lsh_params or {}).get("L", 0)
        per_row = (_HIDDEN_ROWS_PER_SAMPLE * network.hidden_dim * 4 + active * _BYTES_PER_ACTIVE_OUTPUT
                   + tables * 4 + _BYTES_PER_SAMPLE)
        fixed = _BYTES_PER_TABLE_ROW * (network.input_dim + network.output_dim)
        return EngineWorkspace(per_row=per_row, per_feature=_BYTES_PER_FEATURE, fixed=fixed)

    def bytes(self, n_rows: int, n_features: int) -> int:
        """The workspace of a batch of n_rows rows and n_features features, less the fixed tables."""
        return self.per_row * n_rows + self.per_feature * n_features


NO_WORKSPACE = EngineWorkspace(0, 0)


@dataclass(frozen=True)
class MemoryShares:
    """The budget's shares (bytes); see the module docstring. in_memory + its joining is the in-memory path's;
    reading + slack + buffer + batch == budget for a streamed fit (at least the smallest shares)."""

    budget: int
    in_memory: int
    reading: int
    fixed: int
    slack: int
    buffer: int
    batch: int

    @property
    def streamed_total(self) -> int:
        return self.reading + self.fixed + self.slack + self.buffer + self.batch

    def check_streamable(self) -> "MemoryShares":
        """These shares, or a ValueError for a budget above 0 too small to stream in (rows that fit in the
        in-memory share need no streaming)."""
        smallest = min_budget_bytes()
        if 0 < self.budget < smallest:
            raise ValueError(f"memory_budget_mb={self.budget / 2**20:g} is too small to stream the training rows "
                             f"(they exceed half of it): the reader, what fit holds whatever the budget, allocator "
                             f"slack, a shuffle buffer and one batch with the engine's workspace need at least {-(-smallest // 2**20)} MB; pass at least that, or 0 for that "
                             f"smallest footprint")
        return self


def min_budget_bytes() -> int:
    """The smallest budget whose buffer and batch shares reach MIN_BUFFER_BYTES and MIN_BATCH_BYTES."""
    return budget_for_batch_share(MIN_BATCH_BYTES, MIN_BUFFER_BYTES)


def budget_for_batch_share(batch_bytes: int, buffer_bytes: int = 0) -> int:
    """The smallest budget whose batch share holds batch_bytes (and whose buffer share holds buffer_bytes)."""
    rest = max(-(-buffer_bytes * (BUFFER_PARTS + BATCH_PARTS) // BUFFER_PARTS),
               -(-batch_bytes * (BUFFER_PARTS + BATCH_PARTS) // BATCH_PARTS))
    # budget - budget // SLACK_SHARE - READING_BYTES - FIXED_BYTES >= rest
    return -(-(rest + READING_BYTES + FIXED_BYTES) * SLACK_SHARE // (SLACK_SHARE - 1)) + SLACK_SHARE


def memory_shares(budget_bytes: int) -> MemoryShares:
    """The shares of a memory budget in bytes. Streaming shares are those of min_budget_bytes() for a smaller
    budget: 0 streams with the smallest footprint, a budget in between is refused by check_streamable."""
    budget = int(budget_bytes)
    if budget < 0:
        raise ValueError(f"memory budget of {budget} bytes: expected >= 0")
    effective = max(budget, min_budget_bytes())
    slack = effective // SLACK_SHARE
    rest = effective - slack - READING_BYTES - FIXED_BYTES
    buffer = rest * BUFFER_PARTS // (BUFFER_PARTS + BATCH_PARTS)
    return MemoryShares(budget=budget, in_memory=budget // IN_MEMORY_SHARE, reading=READING_BYTES,
                        fixed=FIXED_BYTES, slack=slack, buffer=buffer, batch=rest - buffer)
