"""CsrBatch: the one batch type from the featurizer to the engine.

Training, prediction, validation and distributed training all pass rows as a CsrBatch: hashed input
features and their labels, both in CSR form, exactly as the engine reads them.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np


GATHER_BLOCK = 1 << 18  # elements gathered per step: take's temporaries stay a few MB whatever it takes


def _gather(offsets: np.ndarray, rows: np.ndarray, sources: list, dtypes: list):
    """CSR rows `rows` of the arrays in `sources` (which share `offsets`): (gathered arrays, new offsets).
    Copies in blocks of GATHER_BLOCK elements, so taking N bytes of rows costs N plus a few MB, not 3N of
    int64 positions."""
    starts = offsets[rows]
    lengths = offsets[rows + 1] - starts
    new_offsets = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum(lengths, out=new_offsets[1:])
    total = int(new_offsets[-1])
    out = [np.empty(total, d) for d in dtypes]
    shift = starts - new_offsets[:-1]
    bounds = np.searchsorted(new_offsets, np.arange(0, total, GATHER_BLOCK), "right") - 1
    for a, b in zip(bounds, list(bounds[1:]) + [len(rows)]):
        if a == b:
            continue
        lo, hi = int(new_offsets[a]), int(new_offsets[b])
        positions = np.repeat(shift[a:b], lengths[a:b])
        positions += np.arange(lo, hi, dtype=np.int64)
        for source, target in zip(sources, out):
            np.take(source, positions, out=target[lo:hi])
    return out, new_offsets


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
        arrays = (self.indices, self.values, self.offsets, self.label_indices, self.label_offsets, self.label_values,
                  self.row_weights)
        return sum(a.nbytes for a in arrays if a is not None)

    def row_nbytes(self) -> np.ndarray:
        """Bytes each row holds (its features, labels, offsets and weight): nbytes == row_nbytes().sum() + 16,
        the two offsets arrays' leading zeros. What the streaming shuffle buffer counts."""
        features = np.diff(self.offsets) * (self.indices.itemsize + self.values.itemsize)
        per_label = self.label_indices.itemsize + (0 if self.label_values is None else self.label_values.itemsize)
        fixed = self.offsets.itemsize + self.label_offsets.itemsize + (
            0 if self.row_weights is None else self.row_weights.itemsize)
        return features + np.diff(self.label_offsets) * per_label + fixed

    def take(self, rows: np.ndarray) -> "CsrBatch":
        rows = np.asarray(rows, dtype=np.int64)
        (indices, values), offsets = _gather(self.offsets, rows, [self.indices, self.values],
                                             [self.indices.dtype, self.values.dtype])
        labels = [self.label_indices] + ([] if self.label_values is None else [self.label_values])
        label_arrays, label_offsets = _gather(self.label_offsets, rows, labels, [a.dtype for a in labels])
        return CsrBatch(indices, values, offsets, label_arrays[0], label_offsets,
                        label_arrays[1] if len(label_arrays) > 1 else None,
                        row_weights=None if self.row_weights is None else self.row_weights[rows])

    @staticmethod
    def concat(batches: list["CsrBatch"], consume: bool = False) -> "CsrBatch":
        """The rows of `batches`, in order, in one batch (the batch itself when there is one).

        consume=True uses the batches up: the list is emptied and each source array is let go as soon as it is
        copied, array by array, so joining N bytes of rows holds about 1.5 N at its peak (the sources and the
        largest output array) instead of 2 N. The caller must hold no other reference to the batches."""
        if not batches:
            raise ValueError("no batches to concatenate")
        if len(batches) == 1:
            return batches.pop() if consume else batches[0]
        has_values = [b.label_values is not None for b in batches]
        if any(has_values) and not all(has_values):
            raise ValueError("cannot concatenate batches with and without label values")
        with_weights = any(b.row_weights is not None for b in batches)
        first = batches[0]
        feature_spans = [(int(b.offsets[0]), int(b.offsets[-1])) for b in batches]
        label_spans = [(int(b.label_offsets[0]), int(b.label_offsets[-1])) for b in batches]
        row_spans = [(0, b.n_rows) for b in batches]
        offsets, label_offsets = _stack_offsets(batches, "offsets"), _stack_offsets(batches, "label_offsets")

        def join(name, spans, dtype, fill=None):
            out = np.empty(sum(hi - lo for lo, hi in spans), dtype)
            at = 0
            for b, (lo, hi) in zip(batches, spans):
                source = getattr(b, name)
                out[at:at + hi - lo] = fill if source is None else source[lo:hi]
                at += hi - lo
                if consume:
                    setattr(b, name, None)
            return out

        joined = CsrBatch(join("indices", feature_spans, first.indices.dtype),
                          join("values", feature_spans, first.values.dtype), offsets,
                          join("label_indices", label_spans, first.label_indices.dtype), label_offsets,
                          join("label_values", label_spans, first.label_values.dtype) if all(has_values) else None,
                          sum(b.n_unseen_labels for b in batches),
                          join("row_weights", row_spans, np.float32, fill=1.0) if with_weights else None)
        if consume:
            batches.clear()
        return joined


def _stack_offsets(batches: list, name: str) -> np.ndarray:
    out, row, base = np.zeros(sum(b.n_rows for b in batches) + 1, np.int64), 0, 0
    for b in batches:
        off = getattr(b, name)
        out[row + 1:row + len(off)] = off[1:] - off[0] + base
        row, base = row + len(off) - 1, base + int(off[-1] - off[0])
    return out
