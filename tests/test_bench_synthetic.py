"""The synthetic extreme-classification generator of benchmarks/ is deterministic, power-law and learnable.

Fast (well under 5 s) and needs neither torch nor the compiled engine.
"""
import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "benchmarks"))
from synthetic_xc import SyntheticSpec, make_synthetic, nearest_prototype_top1  # noqa: E402


def _arrays(data):
    return [data.x_train.indices, data.x_train.values, data.x_train.offsets, data.y_train,
            data.x_test.indices, data.x_test.values, data.x_test.offsets, data.y_test]


def test_same_seed_same_data_other_seed_other_data():
    spec = SyntheticSpec(n_labels=20_000, n_train=3000, n_test=500, seed=3)
    a, pa = make_synthetic(spec)
    b, pb = make_synthetic(spec)
    for x, y in zip(_arrays(a) + [pa], _arrays(b) + [pb]):
        assert x.dtype == y.dtype and np.array_equal(x, y)
    c, _ = make_synthetic(SyntheticSpec(n_labels=20_000, n_train=3000, n_test=500, seed=4))
    assert not np.array_equal(a.y_train, c.y_train)
    assert not np.array_equal(a.x_train.indices[:100], c.x_train.indices[:100])


def test_csr_is_well_formed():
    data, _ = make_synthetic(SyntheticSpec(n_labels=1000, n_train=2000, n_test=300, input_dim=5000, seed=1))
    for x, y in ((data.x_train, data.y_train), (data.x_test, data.y_test)):
        assert x.indices.dtype == np.uint32 and x.values.dtype == np.float32 and x.offsets.dtype == np.int64
        assert x.offsets[0] == 0 and x.offsets[-1] == len(x.indices) and np.all(np.diff(x.offsets) >= 1)
        assert x.indices.max() < 5000 and len(y) == x.n and y.min() >= 0 and y.max() < 1000
        for i in range(0, x.n, 97):  # ids distinct and sorted within a row
            row = x.indices[x.offsets[i]:x.offsets[i + 1]]
            assert np.all(np.diff(row.astype(np.int64)) > 0)


@pytest.mark.parametrize("alpha", [0.8, 1.0, 1.2])
def test_label_frequencies_follow_the_power_law(alpha):
    n_labels = 5000
    data, _ = make_synthetic(SyntheticSpec(n_labels=n_labels, n_train=200_000, n_test=0, alpha=alpha, seed=0))
    counts = np.sort(np.bincount(data.y_train, minlength=n_labels))[::-1]
    ranks = np.arange(1, 301)  # the head, where counts are large enough to estimate the slope well
    slope = np.polyfit(np.log(ranks), np.log(counts[:300]), 1)[0]
    assert abs(slope + alpha) < 0.1, (alpha, slope)
    # heavy head, long tail: the top 1% of labels carry a large share of the samples, many labels are rare
    assert counts[: n_labels // 100].sum() > (0.2 if alpha < 1 else 0.4) * counts.sum()
    assert np.median(counts) < 0.5 * counts.mean()


def test_learnable_nearest_prototype_oracle_is_accurate():
    data, protos = make_synthetic(SyntheticSpec(n_labels=50_000, n_train=1000, n_test=400, seed=2))
    pred = nearest_prototype_top1(data.x_test, protos, data.input_dim)
    assert np.mean(pred == data.y_test) > 0.95
    # and the signal is not trivial: a sample's ids are mostly not its label's full prototype
    nnz = np.diff(data.x_test.offsets)
    assert 8 <= nnz.mean() <= 20


def test_test_split_is_held_out_and_identically_distributed():
    data, _ = make_synthetic(SyntheticSpec(n_labels=2000, n_train=40_000, n_test=40_000, seed=5))
    # the same label distribution: the 20 most frequent training labels are also very frequent in test
    top_train = np.argsort(-np.bincount(data.y_train, minlength=2000))[:20]
    test_counts = np.bincount(data.y_test, minlength=2000)
    assert np.all(test_counts[top_train] >= np.sort(test_counts)[::-1][100])
    # held out: test rows are fresh draws, not copies of training rows
    tr = {tuple(data.x_train.indices[data.x_train.offsets[i]:data.x_train.offsets[i + 1]]) for i in range(2000)}
    te = [tuple(data.x_test.indices[data.x_test.offsets[i]:data.x_test.offsets[i + 1]]) for i in range(2000)]
    assert sum(t in tr for t in te) < 20
