"""A regression target's transform before it is standardised: log for a positive target that log makes more
symmetric (prices, counts, sizes), none otherwise.

The network is trained on squared error. On a right-skewed target its largest values dominate that loss and a
few expensive rows pull every prediction; on the log scale an error is relative, the way such targets vary,
and exp of the predicted log is near the conditional median, which is what MAE scores. The transform is chosen
when every training target is > 0 and the log's skewness is smaller in magnitude than the target's own.
Calibration suite (benchmarks/SUITE.md), MAE at the defaults otherwise (numeric_resolution and tail averaging
in place), none -> log, seeds 0 / 1, load ~3.8:
  ames      (skewness 1.59, of the log -0.11)   15,593 / 15,872 -> 15,162 / 15,136   (LightGBM 14,997)
  diamonds  (skewness 1.62, of the log  0.12)      291.6 / 292.6 ->    283.9 / 284.2  (LightGBM 284.4)
They are the suite's only regression tasks, both positive and skewed; a target with a value <= 0 is never
logged, and a symmetric one is left as it is (its log would be skewed).
"""
from __future__ import annotations

from typing import Iterable, Optional

import numpy as np

LOG = "log"
TRANSFORMS = (None, LOG)
_LARGEST_EXPONENT = 709.0  # exp beyond this overflows float64


class TargetStatistics:
    """What choosing the transform needs, gathered while another reader streams the target's chunks once:
    `observe` passes (values, weights or None) chunks through; then `transform()` and `log_mean_std()`."""

    def __init__(self):
        self.raw, self.logged = _Moments(), _Moments()
        self.positive = True

    def observe(self, chunks: Iterable[tuple[np.ndarray, Optional[np.ndarray]]]):
        for values, weights in chunks:
            x = np.asarray(values, np.float64)
            if x.size and self.positive:
                if (x > 0).all():
                    w = np.ones_like(x) if weights is None else np.asarray(weights, np.float64)
                    self.raw.add(x, w)
                    self.logged.add(np.log(x), w)
                else:
                    self.positive = False
            yield values, weights

    def transform(self) -> Optional[str]:
        """LOG when every target is > 0 and the log is the more symmetric (module docstring), else None."""
        if not self.positive or not self.raw.weight > 0:
            return None
        return LOG if abs(self.logged.skewness()) < abs(self.raw.skewness()) else None

    def log_mean_std(self) -> tuple[float, float]:
        return self.logged.mean_std()


def forward(values: np.ndarray, transform: Optional[str]) -> np.ndarray:
    """The target in the units the network learns, before standardising."""
    values = np.asarray(values, np.float64)
    return np.log(values) if transform == LOG else values


def inverse(values: np.ndarray, transform: Optional[str]) -> np.ndarray:
    """Predictions (after un-standardising) back in the target's own units."""
    values = np.asarray(values, np.float64)
    return np.exp(np.minimum(values, _LARGEST_EXPONENT)) if transform == LOG else values


def standardised(values: np.ndarray, scale, transform: Optional[str]) -> np.ndarray:
    """Targets as the network learns them: transformed, then standardised with scale = [mean, std]."""
    mean, std = scale
    return ((forward(values, transform) - mean) / std).astype(np.float32)


def unstandardised(values: np.ndarray, scale, transform: Optional[str]) -> np.ndarray:
    """The inverse of `standardised`, in float64: network outputs in the target's own units."""
    mean, std = scale
    return inverse(np.asarray(values, np.float64) * std + mean, transform)


class _Moments:
    """Weighted power sums about a shift (the first chunk's mean, so that the sums stay small): skewness in one
    pass over chunks."""

    def __init__(self):
        self.shift = None
        self.weight = 0.0
        self.sums = np.zeros(3)

    def add(self, x: np.ndarray, w: np.ndarray) -> None:
        if self.shift is None:
            self.shift = float(np.average(x, weights=w)) if w.sum() > 0 else float(x.mean())
        d = x - self.shift
        self.weight += float(w.sum())
        self.sums += [float((w * d).sum()), float((w * d * d).sum()), float((w * d ** 3).sum())]

    def mean_std(self) -> tuple[float, float]:
        m1, m2, _ = self.sums / self.weight
        return self.shift + m1, float(np.sqrt(max(m2 - m1 * m1, 0.0)))

    def skewness(self) -> float:
        m1, m2, m3 = self.sums / self.weight
        var = m2 - m1 * m1
        if not var > 0:
            return 0.0
        return float((m3 - 3 * m1 * m2 + 2 * m1 ** 3) / var ** 1.5)
