"""Synthetic extreme-classification data: power-law label frequencies over learnable sparse "prototype" features.

The generative process (all randomness from one `numpy.random.default_rng(seed)`, so a seed gives the same arrays in
every process):

1. Prototypes.  Every label owns `n_proto` (default 8) feature ids drawn uniformly from [0, input_dim).  Different
   labels may share ids (with 670k labels x 8 ids over 100k dims each id is shared by ~50 labels), but a label's whole
   set of 8 is, with overwhelming probability, unique -- the task is learnable, not memorisable from one feature.
2. Label frequencies.  Labels are ranked by a random permutation; the label of rank r (1-based) is drawn with
   probability proportional to r^-alpha (Zipf, default alpha = 1.0).  Head labels are frequent, the long tail rare:
   exactly the shape of real extreme-classification data.
3. A sample of label y.  Each of y's prototype ids is kept independently with probability `keep` (default 0.7; at
   least one is always kept), then `noise_min..noise_max` (default 4..12) noise ids are drawn uniformly from
   [0, input_dim).  Ids are de-duplicated within a sample and sorted; every value is 1.0.
4. Train and test are consecutive draws from the same stream (train first), so the test split is held out and
   identically distributed.

Signal: a sample carries on average keep x n_proto = 5.6 of its label's 8 prototype ids against ~8 noise ids; the
nearest-prototype oracle (argmax over labels of |sample ids & prototype ids|) gets P@1 close to 1, while a model has to
learn each label's prototype from the (few, for tail labels) samples that label gets.  A hidden layer of 128-256 units
must compress this, so accuracy depends on how many times a label was seen: head labels are learnt, the tail is not.

Usage:  python benchmarks/synthetic_xc.py --labels 200000 --train 50000 --test 5000   (prints summary statistics)
"""
from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _bench_util import Csr, XcData  # noqa: E402


@dataclass(frozen=True)
class SyntheticSpec:
    n_labels: int
    n_train: int
    n_test: int
    input_dim: int = 100_000
    alpha: float = 1.0
    n_proto: int = 8
    keep: float = 0.7
    noise_min: int = 4
    noise_max: int = 12
    seed: int = 0


def zipf_probabilities(n_labels: int, alpha: float) -> np.ndarray:
    """p[r] proportional to (r + 1)^-alpha for ranks r = 0..n_labels-1."""
    w = np.arange(1, n_labels + 1, dtype=np.float64) ** -alpha
    return w / w.sum()


def make_synthetic(spec: SyntheticSpec) -> tuple[XcData, np.ndarray]:
    """(dataset, prototypes (n_labels, n_proto) uint32).  See the module docstring for the process."""
    if spec.n_labels < 1 or spec.n_train < 0 or spec.n_test < 0 or spec.input_dim < 1:
        raise ValueError(f"bad synthetic spec {spec}")
    if not 0.0 < spec.keep <= 1.0 or not 0 <= spec.noise_min <= spec.noise_max:
        raise ValueError(f"need 0 < keep <= 1 and 0 <= noise_min <= noise_max, got {spec}")
    rng = np.random.default_rng(spec.seed)
    protos = rng.integers(0, spec.input_dim, size=(spec.n_labels, spec.n_proto), dtype=np.int64).astype(np.uint32)
    label_of_rank = rng.permutation(spec.n_labels)
    cdf = np.cumsum(zipf_probabilities(spec.n_labels, spec.alpha))
    cdf[-1] = 1.0

    n = spec.n_train + spec.n_test
    ranks = np.minimum(np.searchsorted(cdf, rng.random(n), side="right"), spec.n_labels - 1)
    y = label_of_rank[ranks].astype(np.int64)

    kept = rng.random((n, spec.n_proto)) < spec.keep
    kept[~kept.any(axis=1), 0] = True
    n_noise = rng.integers(spec.noise_min, spec.noise_max + 1, size=n)
    noise = rng.integers(0, spec.input_dim, size=(n, spec.noise_max), dtype=np.int64)
    noise_used = np.arange(spec.noise_max)[None, :] < n_noise[:, None]

    ids = np.concatenate([protos[y].astype(np.int64), noise], axis=1)
    used = np.concatenate([kept, noise_used], axis=1)
    sentinel = np.int64(spec.input_dim)
    ids = np.where(used, ids, sentinel)
    ids.sort(axis=1)
    dup = np.zeros_like(used)
    dup[:, 1:] = ids[:, 1:] == ids[:, :-1]
    ids[dup] = sentinel
    ids.sort(axis=1)
    valid = ids < sentinel
    counts = valid.sum(axis=1)
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    indices = ids[valid].astype(np.uint32)  # row-major: rows in order, ids sorted within a row
    values = np.ones(len(indices), dtype=np.float32)
    x = Csr(indices, values, offsets)

    tr = x.slice(0, spec.n_train)
    te = x.slice(spec.n_train, n)
    data = XcData(
        name=f"synthetic-{spec.n_labels // 1000}k", input_dim=spec.input_dim, n_labels=spec.n_labels,
        x_train=Csr(tr.indices.copy(), tr.values.copy(), tr.offsets.copy()), y_train=y[:spec.n_train].copy(),
        x_test=Csr(te.indices.copy(), te.values.copy(), te.offsets.copy()), y_test=y[spec.n_train:].copy(),
        info={"generator": "synthetic_xc", **spec.__dict__},
    )
    return data, protos


def nearest_prototype_top1(x: Csr, protos: np.ndarray, input_dim: int) -> np.ndarray:
    """The oracle: for each row, the label whose prototype ids overlap the row's ids most (ties -> lowest label id)."""
    n_labels, n_proto = protos.shape
    # inverted index: feature id -> labels owning it
    flat = protos.reshape(-1).astype(np.int64)
    owner = np.repeat(np.arange(n_labels, dtype=np.int64), n_proto)
    order = np.argsort(flat, kind="stable")
    flat, owner = flat[order], owner[order]
    start = np.searchsorted(flat, np.arange(input_dim + 1))
    out = np.empty(x.n, dtype=np.int64)
    for i in range(x.n):
        feats = x.indices[x.offsets[i]:x.offsets[i + 1]].astype(np.int64)
        cand = np.concatenate([owner[start[f]:start[f + 1]] for f in feats]) if len(feats) else np.zeros(0, np.int64)
        if len(cand) == 0:
            out[i] = 0
            continue
        labels, votes = np.unique(cand, return_counts=True)
        out[i] = labels[np.argmax(votes)]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--labels", type=int, default=200_000)
    ap.add_argument("--train", type=int, default=50_000)
    ap.add_argument("--test", type=int, default=5_000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    spec = SyntheticSpec(args.labels, args.train, args.test, seed=args.seed)
    data, protos = make_synthetic(spec)
    counts = np.bincount(data.y_train, minlength=spec.n_labels)
    nnz = np.diff(data.x_train.offsets)
    print(f"{data.name}: train {data.x_train.n} test {data.x_test.n} labels {spec.n_labels}  "
          f"distinct train labels {int((counts > 0).sum())}  labels seen >= 5 times {int((counts >= 5).sum())}  "
          f"nnz/row mean {nnz.mean():.1f}")
    m = min(2000, data.x_test.n)
    oracle = nearest_prototype_top1(data.x_test.slice(0, m), protos, spec.input_dim)
    seen = counts[data.y_test[:m]] > 0
    print(f"oracle P@1 {np.mean(oracle == data.y_test[:m]):.4f}   test rows whose label occurs in train {seen.mean():.4f}")


if __name__ == "__main__":
    main()
