"""Deployment forms of a model file's arrays: without the optimizer state, and with reduced-precision weights.

A model file holds what prediction needs (weights, biases, LSH tables, featurizer state) and, unless the
user says otherwise, what continued training needs: the Adam moments and per-row steps, twice the size of
the weights. `save(path, optimizer_state=False)` leaves those out; such a file predicts exactly as the full
one and refuses continued training with a message that says why.

`precision` stores the two weight matrices (the embedding and the output layer, nearly all of a model's
bytes) in fewer bits; loading widens them back to float32 for the engine (in C++, in parallel, straight into
memory the network adopts: engine/src/reduced_precision.h):
  - "bfloat16": the top 16 bits of each float32, rounded to nearest even (relative error <= 2^-9);
  - "int8": per row, round(w / s) with s = max |w| / 127 and s kept as float32 (error <= s / 2 per weight).
At every precision the LSH tables' words (neuron ids and per-bucket counters) are stored in 16 bits when every
one fits, losslessly ("uint16-ids"): with many outputs and tables they are most of an inference file (debsearch:
668 tables of 2^14 buckets, 1.46 of 2.38 GB at float32). The engine reads 16-bit tables as they are, mapped from
the file (continued training widens them at its first rebuild). The quality cost of each precision is measured in
benchmarks/compact_models.py; sizes and load times in benchmarks/model_load.py.
"""
from __future__ import annotations

import numpy as np

from typing import Collection

from udt import _core
from udt.engine import STATE, is_optimizer_state

PRECISIONS = ("float32", "bfloat16", "int8")
REDUCIBLE = (STATE.embedding_weight, STATE.output_weight)  # engine arrays stored at reduced precision
_NONFINITE = "state array {name!r} holds NaN or infinite weights"


def reduce(name: str, array: np.ndarray, precision: str) -> tuple[dict[str, np.ndarray], str | None]:
    """({stored name: array}, encoding or None) for one engine array at `precision`."""
    if name.split("/")[-1] == STATE.lsh_buckets and array.dtype == np.uint16:  # the engine's tables are 16-bit
        return {name: array}, "uint16-ids"
    if name.split("/")[-1] == STATE.lsh_buckets and array.dtype == np.uint32 and (
            array.size == 0 or int(array.max()) <= 0xFFFF):
        return {name: array.astype(np.uint16)}, "uint16-ids"
    if precision == "float32" or name.split("/")[-1] not in REDUCIBLE or array.dtype != np.float32:
        return {name: array}, None
    if precision == "bfloat16":
        bits = np.ascontiguousarray(array).view(np.uint32)
        rounded = bits + (np.uint32(0x7FFF) + ((bits >> np.uint32(16)) & np.uint32(1)))  # nearest, ties to even
        return {name: (rounded >> np.uint32(16)).astype(np.uint16)}, "bfloat16"
    rows = array.reshape(array.shape[0], -1)
    scale = np.abs(rows).max(axis=1) / 127.0
    safe = np.where(scale > 0, scale, 1.0).astype(np.float32)
    quantized = np.clip(np.rint(rows / safe[:, None]), -127, 127).astype(np.int8).reshape(array.shape)
    return {name: quantized, name + ".scale": scale.astype(np.float32)}, "int8"


def widen(name: str, arrays: dict[str, np.ndarray], encoding: str) -> np.ndarray:
    """The array the engine takes for `name` stored with `encoding`: float32 weights (in rows of the engine's
    stride, which the network adopts without another copy), or 16-bit LSH tables as they are."""
    stored = arrays[name]
    if encoding == "uint16-ids":
        if stored.dtype != np.uint16:
            raise ValueError(f"{name}: 16-bit LSH ids must be stored as uint16, got {stored.dtype}")
        return stored
    if encoding == "bfloat16":
        if stored.dtype != np.uint16 or stored.ndim != 2:
            raise ValueError(f"{name}: bfloat16 weights must be a 2-d uint16 array, got {stored.dtype} {stored.shape}")
        wide, nonfinite = _core.engine.widen_weights(np.ascontiguousarray(stored))
    elif encoding == "int8":
        scale = arrays.get(name + ".scale")
        if stored.dtype != np.int8 or stored.ndim != 2 or scale is None or scale.shape != (stored.shape[0],):
            raise ValueError(f"{name}: int8 weights need a 2-d int8 array and one float32 scale per row")
        wide, nonfinite = _core.engine.widen_weights(np.ascontiguousarray(stored), np.asarray(scale, np.float32))
    else:
        raise ValueError(f"{name}: unknown weight encoding {encoding!r}; expected one of "
                         f"{', '.join(PRECISIONS[1:] + ('uint16-ids',))}")
    if nonfinite:
        raise ValueError(_NONFINITE.format(name=name))
    return wide


def check_finite(arrays: dict[str, np.ndarray], checked: Collection[str] = ()) -> None:
    """ValueError when a network weight of a model file is NaN or infinite (it would be served as scores).
    Float32 weights are counted here (C++, parallel, no temporary); `checked` ones (widened) already were."""
    for name, array in arrays.items():
        engine_name = name.split("/")[-1]
        if (name not in checked and array.dtype == np.float32 and engine_name in _core.engine.STATE_ARRAYS
                and not is_optimizer_state(engine_name) and _core.engine.count_nonfinite(array)):
            raise ValueError(_NONFINITE.format(name=name))

