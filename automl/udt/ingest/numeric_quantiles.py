"""Quantiles of a Numeric column learned in one streaming pass over the training data.

Numeric(scale="quantile") places a value by its rank among the training values; the C++ featurizer
interpolates between these edges (featurizers/src/column_features.cc, numeric_position).  Files can be
larger than memory, so the edges come from a bounded uniform sample; the exact minimum and maximum
are tracked beside it and become the outer edges.
"""
from __future__ import annotations

import numpy as np

N_QUANTILES = 257          # edges at ranks 0, 1/256, ..., 1: 256 equal-mass intervals
# Values kept per column: a quantile of a 131k sample is within ~0.14% in rank (one standard error at the
# median), a third of the 0.39% between edges, in 1 MB per column (1M values took 8-16 MB each, the largest
# part of a streamed tabular fit's memory beside the model: benchmarks/streaming_rss.py).
SAMPLE_CAP = 1 << 17


class ValueSample:
    """A uniform random sample of at most `cap` values of a stream (Bernoulli sampling at a rate that
    halves whenever the sample fills up: every value seen so far then has the same chance to be in it),
    plus the exact count, minimum and maximum."""

    def __init__(self, cap: int = SAMPLE_CAP, seed: int = 0):
        self.cap = int(cap)
        self.rate = 1.0
        self.count = 0
        self.lo = self.hi = None
        self._parts: list[np.ndarray] = []
        self._kept = 0
        self._rng = np.random.default_rng(seed)

    def add(self, values: np.ndarray) -> None:
        values = np.asarray(values, np.float64)
        if values.size == 0:
            return
        self.count += values.size
        lo, hi = float(values.min()), float(values.max())
        self.lo = lo if self.lo is None else min(self.lo, lo)
        self.hi = hi if self.hi is None else max(self.hi, hi)
        if self.rate < 1.0:
            values = values[self._rng.random(values.size) < self.rate]
        self._parts.append(values)
        self._kept += values.size
        while self._kept > self.cap:
            self._parts = [p[self._rng.random(p.size) < 0.5] for p in self._parts]
            self._kept = sum(p.size for p in self._parts)
            self.rate /= 2

    def quantiles(self, n: int = N_QUANTILES) -> list[float]:
        """The distinct values among n quantiles at equally spaced ranks, the first and last the exact
        min and max; [] when empty.  Repeats collapse: a value that fills many quantiles (a column
        that is mostly 0) gets one edge, so the featurizer's bins resolve the other values."""
        if self.count == 0:
            return []
        edges = np.quantile(np.concatenate(self._parts), np.linspace(0.0, 1.0, n))
        edges[0], edges[-1] = self.lo, self.hi
        return np.unique(edges).tolist()
