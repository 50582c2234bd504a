"""CsrBatch: the one batch type from the featurizer to the engine.

Training, prediction, validation and distributed training all pass rows as a CsrBatch: hashed input
features and their labels, both in CSR form, exactly as the engine reads them.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np


GATHER_BLOCK = 1 << 18  # elements gathered per step: take's temporaries stay a few MB whatever it takes


def _row_spans(offsets: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(first element, length) of each of the CSR rows `rows`."""
    starts = offsets[rows]
    return starts, offsets[rows + 1] - starts


def _gather_into(starts: np.ndarray, lengths: np.ndarray, sources: list, targets: list, at: int) -> None:
    """Copies the CSR rows given by (starts, lengths) of the arrays in `sources` (which share their offsets)
    one after another into `targets` from element `at`, in blocks of GATHER_BLOCK elements: taking N bytes of
    rows costs N plus a few MB, not 3N of int64 positions."""
    ends = np.cumsum(lengths)  # where each row ends, counted from `at`
    total = int(ends[-1]) if len(ends) else 0
    shift = starts - (ends - lengths)
    cuts = np.searchsorted(ends, np.arange(0, total, GATHER_BLOCK), "right")
    for a, b in zip(cuts, list(cuts[1:]) + [len(lengths)]):
        if a == b:
            continue
        lo, hi = int(ends[a] - lengths[a]), int(ends[b - 1])
        positions = np.repeat(shift[a:b], lengths[a:b])
        positions += np.arange(lo, hi, dtype=np.int64)
        for source, target in zip(sources, targets):
            np.take(source, positions, out=target[at + lo:at + hi])


def _offsets_of(lengths: np.ndarray) -> np.ndarray:
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    return offsets


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
        return CsrBatch.take_from([self], [rows])

    @staticmethod
    def take_from(batches: list["CsrBatch"], rows: list) -> "CsrBatch":
        """Rows rows[i] of batches[i], for each i in turn, as one new batch. Each array is allocated once and
        filled batch by batch, so gathering N bytes of rows from many batches holds N (plus a few MB), not the
        2N of taking from each and joining the takes."""
        rows = [np.asarray(r, dtype=np.int64) for r in rows]
        taken_from = [b for b, r in zip(batches, rows) if len(r)] or batches[:1]
        has_values = {b.label_values is not None for b in taken_from}
        if len(has_values) > 1:
            raise ValueError("cannot take rows from batches with and without label values")
        with_values = has_values == {True}
        with_weights = any(b.row_weights is not None for b in taken_from)
        features = [_row_spans(b.offsets, r) for b, r in zip(batches, rows)]
        labels = [_row_spans(b.label_offsets, r) for b, r in zip(batches, rows)]
        offsets = _offsets_of(np.concatenate([n for _, n in features] + [np.zeros(0, np.int64)]))
        label_offsets = _offsets_of(np.concatenate([n for _, n in labels] + [np.zeros(0, np.int64)]))
        first = batches[0]
        out = CsrBatch(np.empty(offsets[-1], first.indices.dtype), np.empty(offsets[-1], first.values.dtype), offsets,
                       np.empty(label_offsets[-1], first.label_indices.dtype), label_offsets,
                       np.empty(label_offsets[-1], np.float32) if with_values else None,
                       row_weights=np.empty(len(offsets) - 1, np.float32) if with_weights else None)
        at = label_at = row_at = 0
        for b, r, (starts, lengths), (label_starts, label_lengths) in zip(batches, rows, features, labels):
            if not len(r):
                continue
            _gather_into(starts, lengths, [b.indices, b.values], [out.indices, out.values], at)
            label_sources = [b.label_indices] + ([b.label_values] if with_values else [])
            label_targets = [out.label_indices] + ([out.label_values] if with_values else [])
            _gather_into(label_starts, label_lengths, label_sources, label_targets, label_at)
            if with_weights:
                out.row_weights[row_at:row_at + len(r)] = 1.0 if b.row_weights is None else b.row_weights[r]
            at, label_at, row_at = at + int(lengths.sum()), label_at + int(label_lengths.sum()), row_at + len(r)
        return out

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
