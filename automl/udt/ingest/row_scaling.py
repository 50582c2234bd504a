"""How feature values reach the network: per-row scaling and IDF weights (the C++ kernel
featurizers/src/row_scaling.cc does the work)."""
from __future__ import annotations

from typing import Optional

import numpy as np

from udt import _core

SCALINGS = ("none", "l2", "log-l2", "log-idf-l2")


def idf_weights(document_frequency: np.ndarray, n_rows: int) -> np.ndarray:
    """Inverse document frequency per feature id, ln((1 + n) / (1 + df)) + 1 (scikit-learn's smoothed
    form): 1 for a feature in every row, ~ln(n) for one seen once, and ln(1 + n) + 1 for one never
    seen in training (a new word keeps full weight, so warm-start training can still learn it)."""
    df = np.asarray(document_frequency, np.float64)
    return (np.log((1.0 + n_rows) / (1.0 + df)) + 1.0).astype(np.float32)


def add_idf(values: np.ndarray, indices: np.ndarray, offsets: np.ndarray, idf: np.ndarray) -> np.ndarray:
    """"log-l2" values as "log-idf-l2" makes them, for rows scaled before the IDF weights existed: the row
    scaling is linear, so multiplying by the IDF and normalising again equals log, IDF, normalise."""
    return scale_features(values * idf[indices], offsets, "l2")


def scale_features(values: np.ndarray, offsets: np.ndarray, scaling: str,
                   weights: Optional[np.ndarray] = None) -> np.ndarray:
    """Feature values as the network sees them (a scaled float32 copy).

    "log-l2": counts become 1 + log(count) (a word seen 100 times is not 100 times the evidence),
    then every row is scaled to unit L2 norm so long and short documents reach the hidden layer
    at the same scale; "log-idf-l2": the same with each value also multiplied by its feature's
    weight in `weights` (one per value: the IDF of its feature id, see idf_weights) before the
    row scaling, so words common to many rows count less (TF-IDF); without weights it equals
    "log-l2".  "l2": only the row scaling; "none": values unchanged.
    """
    if scaling == "none":  # the kernel would only copy; it validates every other name
        return np.asarray(values, np.float32)
    return _core.featurizers.scale_rows(values, offsets, scaling, weights)
