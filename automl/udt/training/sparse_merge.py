"""Merging replicas of a sparse network: which rows changed, and what they become.

Data-parallel training (udt.training.distributed) keeps one replica of the network per worker. Between two
merges each worker reports the parameter rows it touched: an embedding row, an output row with its
bias, the hidden bias; a row was touched when its Adam step counter changed. Rows nobody touched
are equal everywhere. Then:

* A row one worker touched takes that worker's row exactly: a rare feature's update is neither
  diluted nor rounded. These rows make up most of a text model's traffic and travel as the
  worker's own report.
* A row several workers touched takes the value at the last merge plus the sum of their deltas
  (merge "sum": every worker's progress is kept, as if the updates had run one after another,
  like SLIDE's lock-free threads) or their mean ("mean", classic model averaging). Its Adam m and
  v become the workers' mean and its step their max. With catch-up Adam, a contribution whose row
  last moved before that max is first brought forward in closed form by the zero-gradient steps
  dense Adam would have taken (as the engine does when it next uses the row), so every
  contribution describes the same step.
* Without Adam state in the reports (RayConfig(sync_adam=False)) only weights travel, and each
  replica keeps its own moments and steps, as DiLoCo-style local optimisers do.

Every replica applies the same merge (apply_merge), so they stay identical.
"""
from __future__ import annotations

import dataclasses
import itertools
from typing import Optional

import numpy as np

from udt._core import engine as _core_engine
from udt.engine import STATE

__all__ = ["PARAMETER_GROUPS", "ADAM_STATE", "AdamSettings", "active_groups", "row_views", "touched_block", "apply_merge",
           "merge_row_blocks", "plan_merge"]

# Every mergeable array of the engine's state is indexed by parameter row; a group is the arrays
# that share one per-row step counter (the hidden bias is a group of one row): each tuple is a
# parameter, then its moments. A network has the embedding's Adam group or its row-wise group
# (engine option embedding_optimizer), never both: active_groups(views) says which.
S = STATE  # the engine's exported array names
PARAMETER_GROUPS = {
    "embedding": (S.embedding_adam_steps, ((S.embedding_weight, S.embedding_adam_m, S.embedding_adam_v),)),
    "embedding_rowwise": (S.embedding_rowwise_steps, ((S.embedding_weight, S.embedding_rowwise_v),)),
    "hidden_bias": (S.embedding_bias_adam_steps,
                    ((S.embedding_bias, S.embedding_bias_adam_m, S.embedding_bias_adam_v),)),
    "output": (S.output_adam_steps, ((S.output_weight, S.output_adam_m, S.output_adam_v),
                                     (S.output_bias, S.output_bias_adam_m, S.output_bias_adam_v))),
}
PER_REPLICA = (S.lsh_buckets,)   # each replica's own; the driver takes worker 0's at epoch ends
ADAM_STATE = tuple(dict.fromkeys(name for steps, triples in PARAMETER_GROUPS.values()
                                 for name in (steps, *itertools.chain.from_iterable(t[1:] for t in triples))))
ROWWISE_GROUPS = {"embedding_rowwise"}  # moments without momentum: catching up only decays v (rowwise_rms.h)


def active_groups(views: dict) -> list[str]:
    """The groups this network has (its views hold their step counters)."""
    return [group for group, (steps, _) in PARAMETER_GROUPS.items() if steps in views]


def _group_arrays(group: str) -> list[str]:
    return [name for triple in PARAMETER_GROUPS[group][1] for name in triple]


def row_views(network) -> dict[str, np.ndarray]:
    """The network's zero-copy state views, each indexed by parameter row."""
    views = network.state_views()
    known = {steps for steps, _ in PARAMETER_GROUPS.values()} | set(PER_REPLICA)
    known |= {name for group in PARAMETER_GROUPS for name in _group_arrays(group)}
    unknown = sorted(set(views) - known)
    if unknown:  # a new engine state array must be merged or declared per-replica, never dropped
        raise RuntimeError(f"the engine has state arrays distributed training does not merge: {unknown}")
    for name in _group_arrays("hidden_bias"):
        views[name] = views[name].reshape(1, -1)
    return views


def touched_block(views: dict, group: str, synced_steps: np.ndarray, adam_state: bool = True) -> dict:
    """The rows of `group` whose step counter differs from `synced_steps`, with their parameters
    and (adam_state) their Adam moments and steps."""
    steps = views[PARAMETER_GROUPS[group][0]]
    rows = np.flatnonzero(steps != synced_steps)
    block = {"rows": rows, "steps": steps[rows]} if adam_state else {"rows": rows}
    for arrays in PARAMETER_GROUPS[group][1]:
        for name in arrays if adam_state else arrays[:1]:
            block[name] = views[name][rows]
    return block


def _write_rows(views: dict, group: str, block: Optional[dict]) -> None:
    if block is None or not len(block["rows"]):
        return
    rows = block["rows"]
    for name, values in block.items():
        if name != "rows":
            views[PARAMETER_GROUPS[group][0] if name == "steps" else name][rows] = values


def apply_merge(views: dict, merge: dict, reports: list, skip: Optional[int] = None) -> None:
    """Writes one merge into a network: every worker's touched rows (but worker `skip`'s, which that
    worker already holds), then the merged rows several workers touched over them."""
    for group in merge["shared"]:
        for rank, report in enumerate(reports):
            if rank != skip:
                _write_rows(views, group, report["groups"][group])
        _write_rows(views, group, merge["shared"][group])


@dataclasses.dataclass(frozen=True)
class AdamSettings:
    learning_rate: float
    beta1: float
    beta2: float
    eps: float
    catch_up: bool

    @classmethod
    def of(cls, network_config: dict) -> "AdamSettings":
        c = network_config
        return cls(c["learning_rate"], c["beta1"], c["beta2"], c["eps"], c["adam_catch_up"])


def _per_row(x: np.ndarray, ndim: int) -> np.ndarray:
    return x.reshape((-1,) + (1,) * (ndim - 1))


def _writable(a: np.ndarray) -> np.ndarray:
    return a if a.flags.writeable else a.copy()  # arrays read from Ray's object store are read-only


def _catch_up(block: dict, group: str, target_steps: np.ndarray, adam: AdamSettings) -> dict:
    """`block` with each row whose step is below `target_steps` moved up to it by the zero-gradient
    Adam steps in between: the engine's own closed form (udt._core.engine.adam_catch_up, the code
    the engine runs when it next updates the row). Writable arrays of the block are updated in place."""
    lag = np.flatnonzero((block["steps"] < target_steps) & (block["steps"] > 0))
    if not len(lag):
        return block
    last, target = block["steps"][lag], target_steps[lag]
    out = dict(block)
    if group in ROWWISE_GROUPS:  # no momentum, so no drift: v decays by beta2 per idle step
        for _, v in PARAMETER_GROUPS[group][1]:
            out[v] = _writable(block[v])
            out[v][lag] *= np.power(np.float64(adam.beta2), (target - last).astype(np.float64)).astype(np.float32)
        out["steps"] = np.maximum(block["steps"], target_steps)
        return out
    for triple in PARAMETER_GROUPS[group][1]:
        rows = [block[name].take(lag, axis=0) for name in triple]   # fresh C-contiguous copies
        _core_engine.adam_catch_up(*rows, last, target, adam.learning_rate, adam.beta1, adam.beta2, adam.eps)
        for name, moved in zip(triple, rows):
            out[name] = _writable(block[name])
            out[name][lag] = moved
    out["steps"] = np.maximum(block["steps"], target_steps)
    return out


def merge_row_blocks(blocks: list, group: str, adam: Optional[AdamSettings] = None,
                     old: Optional[dict] = None) -> Optional[dict]:
    """Merges the touched rows of one parameter group reported by each worker (None or empty: the
    worker touched nothing). Returns the union of rows, each the mean of the workers that touched
    it (exactly their row when one did), steps the max; None when no worker touched the group.
    With `adam.catch_up`, a shared row's older contributions are first caught up to that max
    (writable block arrays are updated in place). With `old` (the arrays at the last merge,
    indexed by row), parameters (not Adam moments) take the sum of the workers' deltas instead of
    their mean."""
    blocks = [b for b in blocks if b is not None and len(b["rows"])]
    if not blocks:
        return None
    if len(blocks) == 1:
        return dict(blocks[0])
    union = np.unique(np.concatenate([b["rows"] for b in blocks]))
    where = [np.searchsorted(union, b["rows"]) for b in blocks]
    count = np.zeros(len(union), np.int64)
    for w in where:
        count[w] += 1
    shared = np.flatnonzero(count > 1)
    merged = {"rows": union}
    if "steps" in blocks[0]:   # blocks with Adam state (RayConfig.sync_adam)
        steps = merged["steps"] = np.zeros(len(union), np.uint64)
        for w, b in zip(where, blocks):
            steps[w] = np.maximum(steps[w], b["steps"])
        if adam is not None and adam.catch_up:
            blocks = [_catch_up(b, group, np.where(count[w] > 1, steps[w], b["steps"]), adam)
                      for w, b in zip(where, blocks)]
    parameters = {arrays[0] for arrays in PARAMETER_GROUPS[group][1]}
    for name in [n for n in _group_arrays(group) if n in blocks[0]]:
        first = blocks[0][name]
        if len(first) == len(union) and first.flags.writeable:
            acc, start = first, 1        # worker 0 has every row (so in union order): sum into its copy
        else:
            acc, start = np.empty((len(union),) + first.shape[1:], first.dtype), 0
        seen = np.zeros(len(union), bool)
        seen[:] = start == 1
        for w, b in zip(where[start:], blocks[start:]):  # fixed worker order: the same sums on every backend
            new = ~seen[w]
            if new.all():
                acc[w] = b[name]         # the first contribution is copied, so a lone row stays exact
            elif not new.any():
                acc[w] += b[name]
            else:
                acc[w[new]] = b[name][new]
                acc[w[~new]] += b[name][~new]
            seen[w] = True
        k = _per_row(count[shared].astype(acc.dtype), acc.ndim)
        if len(shared) == len(union):
            if old is not None and name in parameters:   # sum of deltas: sum(new_i) - (k - 1) * old
                acc -= (k - 1) * old[name][union]
            else:
                acc /= k
        elif old is not None and name in parameters:
            acc[shared] -= (k - 1) * old[name][union[shared]]
        else:
            acc[shared] /= k
        merged[name] = acc
    return merged


def plan_merge(reports: list, adam: Optional[AdamSettings], old: Optional[dict] = None) -> dict:
    """One merge from the workers' round reports: per group, the merged rows that more than one
    worker touched (rows only one worker touched travel as that worker's report), and the new
    global step. `old`: the driver's row views before this merge, for RayConfig(merge="sum")."""
    shared = {}
    for group in reports[0]["groups"]:
        blocks = [r["groups"][group] for r in reports]
        rows = [b["rows"] for b in blocks if len(b["rows"])]
        if len(rows) < 2:
            shared[group] = None
            continue
        count = np.bincount(np.concatenate(rows))
        subsets = []   # each worker's shared rows, copied (so the merge may update them in place)
        for b in blocks:
            keep = np.flatnonzero(count[b["rows"]] > 1) if len(b["rows"]) else []
            subsets.append({k: v.take(keep, axis=0) for k, v in b.items()} if len(keep) else None)
        shared[group] = merge_row_blocks(subsets, group, adam, old)
    return {"shared": shared, "batches": max(r["batches"] for r in reports)}
