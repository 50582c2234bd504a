"""CsrBatch: the one batch type from the featurizer to the engine.

Training, prediction, validation and distributed training all pass rows as a CsrBatch: hashed input
features and their labels, both in CSR form, exactly as the engine reads them.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np


def _gather_rows(offsets: np.ndarray, rows: np.ndarray):
    """Positions of the elements of CSR `rows`, and the new offsets, fully vectorised."""
    starts = offsets[rows]
    lengths = offsets[rows + 1] - starts
    new_offsets = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum(lengths, out=new_offsets[1:])
    positions = np.arange(new_offsets[-1], dtype=np.int64) + np.repeat(starts - new_offsets[:-1], lengths)
    return positions, new_offsets


@dataclass
class CsrBatch:
    """Rows of hashed input features plus their labels.

    indices uint32 feature ids, values float32 (as the network sees them: scaled), offsets int64
    (n_rows + 1); label_indices uint32 label ids (0 for regression), label_offsets int64 (n_rows + 1;
    all zeros for rows without labels); label_values float32 regression targets, else None.
    n_unseen_labels counts label values outside the training vocabulary (left out of label_indices);
    row_weights: float32 per row (sample and class weights), or None for all 1.
    """

    indices: np.ndarray
    values: np.ndarray
    offsets: np.ndarray
    label_indices: np.ndarray
    label_offsets: np.ndarray
    label_values: Optional[np.ndarray] = None
    n_unseen_labels: int = 0
    row_weights: Optional[np.ndarray] = None

    @property
    def n_rows(self) -> int:
        return len(self.offsets) - 1

    @property
    def nbytes(self) -> int:
        arrays = (self.indices, self.values, self.offsets, self.label_indices, self.label_offsets, self.label_values)
        return sum(a.nbytes for a in arrays if a is not None)

    def take(self, rows: np.ndarray) -> "CsrBatch":
        rows = np.asarray(rows, dtype=np.int64)
        pos, offsets = _gather_rows(self.offsets, rows)
        lpos, loffsets = _gather_rows(self.label_offsets, rows)
        return CsrBatch(self.indices[pos], self.values[pos], offsets, self.label_indices[lpos], loffsets,
                        None if self.label_values is None else self.label_values[lpos],
                        row_weights=None if self.row_weights is None else self.row_weights[rows])

    @staticmethod
    def concat(batches: list["CsrBatch"]) -> "CsrBatch":
        if len(batches) == 1:
            return batches[0]

        def stack_offsets(name):
            parts, base = [np.zeros(1, np.int64)], 0
            for b in batches:
                off = getattr(b, name)
                parts.append(off[1:] - off[0] + base)
                base += off[-1] - off[0]
            return np.concatenate(parts)

        has_values = [b.label_values is not None for b in batches]
        if any(has_values) and not all(has_values):
            raise ValueError("cannot concatenate batches with and without label values")
        has_weights = [b.row_weights is not None for b in batches]
        weights = None
        if any(has_weights):
            weights = np.concatenate([b.row_weights if b.row_weights is not None else np.ones(b.n_rows, np.float32)
                                      for b in batches])
        return CsrBatch(np.concatenate([b.indices[b.offsets[0]:b.offsets[-1]] for b in batches]),
                        np.concatenate([b.values[b.offsets[0]:b.offsets[-1]] for b in batches]),
                        stack_offsets("offsets"),
                        np.concatenate([b.label_indices[b.label_offsets[0]:b.label_offsets[-1]] for b in batches]),
                        stack_offsets("label_offsets"),
                        np.concatenate([b.label_values[b.label_offsets[0]:b.label_offsets[-1]] for b in batches])
                        if all(has_values) else None,
                        sum(b.n_unseen_labels for b in batches), weights)
