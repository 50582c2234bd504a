"""Shared helpers for the benchmarks: deterministic text hashing, CSR datasets, batching, metrics, timing, memory.

Only numpy and the standard library: importable without torch and without udt (the synthetic-generator test uses it).
"""
from __future__ import annotations

import json
import os
import re
import resource
import time
from dataclasses import dataclass

import numpy as np

# --------------------------------------------------------------------------------------------------------------------
# Deterministic hashing of strings (FNV-1a 64 over UTF-8 bytes, seeded), vectorised over many strings with numpy.

_FNV_OFFSET = np.uint64(0xCBF29CE484222325)
_FNV_PRIME = np.uint64(0x100000001B3)


def fnv1a64(strings: list[str], seed: int = 0) -> np.ndarray:
    """FNV-1a 64-bit hash of each string's UTF-8 bytes, the offset basis XOR-ed with `seed`, then a murmur3 finaliser
    (so `hash % dim` uses well-mixed bits).  Same input, same output, in every process and on every machine."""
    n = len(strings)
    if n == 0:
        return np.zeros(0, dtype=np.uint64)
    encoded = [s.encode("utf-8") for s in strings]
    lengths = np.fromiter((len(b) for b in encoded), dtype=np.int64, count=n)
    order = np.argsort(-lengths, kind="stable")  # longest first: at byte position j the live strings are a prefix
    sorted_lengths = lengths[order]
    buf = np.frombuffer(b"".join(encoded[i] for i in order), dtype=np.uint8)
    starts = np.zeros(n, dtype=np.int64)
    np.cumsum(sorted_lengths[:-1], out=starts[1:])
    h = np.full(n, _FNV_OFFSET ^ np.uint64(seed & 0xFFFFFFFFFFFFFFFF), dtype=np.uint64)
    max_len = int(sorted_lengths[0])
    # live[j] = number of strings longer than j
    live = n - np.searchsorted(sorted_lengths[::-1], np.arange(max_len), side="right")
    with np.errstate(over="ignore"):
        for j in range(max_len):
            k = int(live[j])
            h[:k] ^= buf[starts[:k] + j].astype(np.uint64)
            h[:k] *= _FNV_PRIME
        # murmur3 fmix64
        h ^= h >> np.uint64(33)
        h *= np.uint64(0xFF51AFD7ED558CCD)
        h ^= h >> np.uint64(33)
        h *= np.uint64(0xC4CEB9FE1A85EC53)
        h ^= h >> np.uint64(33)
    out = np.empty(n, dtype=np.uint64)
    out[order] = h
    return out


_TOKEN = re.compile(r"[a-z0-9]+")


def text_to_csr(texts, input_dim: int, seed: int = 0, max_tokens: int = 512):
    """Hash each text's lowercase unigrams and bigrams (alphanumeric tokens, the first `max_tokens` tokens) into
    [0, input_dim).  Returns CSR (indices uint32, values float32, offsets int64): distinct ids per row, value 1.0.
    A bigram is hashed as the string "w1 w2", so it never collides with a unigram by construction of the key."""
    vocab: dict[str, int] = {}
    rows: list[list[int]] = []
    for text in texts:
        toks = _TOKEN.findall(str(text).lower())[:max_tokens]
        grams = toks + [a + " " + b for a, b in zip(toks, toks[1:])]
        rows.append([vocab.setdefault(g, len(vocab)) for g in grams])
    keys = list(vocab.keys())
    ids = (fnv1a64(keys, seed) % np.uint64(input_dim)).astype(np.uint32)
    lengths = np.fromiter((len(r) for r in rows), dtype=np.int64, count=len(rows))
    flat = np.fromiter((g for r in rows for g in r), dtype=np.int64, count=int(lengths.sum()))
    row_of = np.repeat(np.arange(len(rows), dtype=np.int64), lengths)
    return dedupe_csr(row_of, ids[flat], len(rows))


def dedupe_csr(row_of: np.ndarray, col: np.ndarray, n_rows: int):
    """CSR of the distinct (row, col) pairs, columns sorted within a row, every value 1.0."""
    key = row_of.astype(np.int64) * (1 << 32) + col.astype(np.int64)
    key = np.unique(key)
    rows = key >> 32
    indices = (key & 0xFFFFFFFF).astype(np.uint32)
    offsets = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n_rows), out=offsets[1:])
    return indices, np.ones(len(indices), dtype=np.float32), offsets


# --------------------------------------------------------------------------------------------------------------------
# Datasets as CSR arrays, saved once by the parent and memory-mapped by every worker process.

@dataclass
class Csr:
    indices: np.ndarray  # uint32
    values: np.ndarray  # float32
    offsets: np.ndarray  # int64, len n+1, offsets[0] == 0

    @property
    def n(self) -> int:
        return len(self.offsets) - 1

    def take(self, rows: np.ndarray) -> "Csr":
        """Rows in the given order, as a fresh contiguous CSR."""
        rows = np.asarray(rows, dtype=np.int64)
        starts = self.offsets[rows]
        lengths = self.offsets[rows + 1] - starts
        offsets = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        gather = np.repeat(starts - offsets[:-1], lengths) + np.arange(offsets[-1], dtype=np.int64)
        return Csr(self.indices[gather], self.values[gather], offsets)

    def slice(self, a: int, b: int) -> "Csr":
        """Rows [a, b) with offsets rebased to 0 (views of the data arrays)."""
        o = self.offsets
        return Csr(self.indices[o[a]:o[b]], self.values[o[a]:o[b]], o[a:b + 1] - o[a])


@dataclass
class XcData:
    """A single-label extreme-classification dataset."""

    name: str
    input_dim: int
    n_labels: int
    x_train: Csr
    y_train: np.ndarray  # int64
    x_test: Csr
    y_test: np.ndarray
    info: dict

    def save(self, path: str) -> None:
        np.savez(path, x_train_indices=self.x_train.indices, x_train_values=self.x_train.values,
                 x_train_offsets=self.x_train.offsets, y_train=self.y_train,
                 x_test_indices=self.x_test.indices, x_test_values=self.x_test.values,
                 x_test_offsets=self.x_test.offsets, y_test=self.y_test,
                 meta=np.frombuffer(json.dumps({"name": self.name, "input_dim": self.input_dim,
                                                "n_labels": self.n_labels, "info": self.info}).encode(), np.uint8))

    @staticmethod
    def load(path: str) -> "XcData":
        z = np.load(path)
        meta = json.loads(bytes(z["meta"]).decode())
        return XcData(meta["name"], meta["input_dim"], meta["n_labels"],
                      Csr(z["x_train_indices"], z["x_train_values"], z["x_train_offsets"]), z["y_train"],
                      Csr(z["x_test_indices"], z["x_test_values"], z["x_test_offsets"]), z["y_test"], meta["info"])


def epoch_order(n: int, seed: int, epoch: int) -> np.ndarray:
    """The sample order of one epoch; both systems use exactly this order (hence exactly the same batches)."""
    return np.random.default_rng([seed, epoch, 0xBA7C4]).permutation(n)


# --------------------------------------------------------------------------------------------------------------------
# Metrics and measurements.

def precision_at_k(topk: np.ndarray, y: np.ndarray, k: int) -> float:
    """Precision@k for one true label per row: (true label among the top k) / k, averaged over rows."""
    topk = np.asarray(topk)[:, :k]
    return float((topk == np.asarray(y).reshape(-1, 1)).any(axis=1).mean() / k)


def hit_at_k(topk: np.ndarray, y: np.ndarray, k: int) -> float:
    """Fraction of rows whose true label is among the top k (= recall@k with one label per row)."""
    topk = np.asarray(topk)[:, :k]
    return float((topk == np.asarray(y).reshape(-1, 1)).any(axis=1).mean())


def latency_stats(seconds: list[float]) -> dict:
    ms = np.asarray(seconds) * 1e3
    return {"mean_ms": float(ms.mean()), "p50_ms": float(np.percentile(ms, 50)),
            "p99_ms": float(np.percentile(ms, 99)), "n": int(len(ms))}


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MiB (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def load_average() -> tuple[float, float, float]:
    try:
        return os.getloadavg()
    except OSError:
        return (float("nan"),) * 3


class Timer:
    def __enter__(self):
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.t0
