"""The bounded uniform sample behind Numeric(scale="quantile")."""
import numpy as np
import pytest

from udt.ingest.numeric_quantiles import ValueSample


def test_small_stream_is_kept_whole_and_quantiles_are_exact_at_the_ends():
    s = ValueSample(cap=1000)
    s.add(np.array([5.0, 1.0, 3.0]))
    s.add(np.array([]))
    s.add(np.array([2.0, 4.0]))
    assert (s.count, s.lo, s.hi, s.rate) == (5, 1.0, 5.0, 1.0)
    assert s.quantiles(5) == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert ValueSample().quantiles() == []


def test_long_sorted_stream_is_sampled_uniformly_within_the_cap():
    # A sorted stream is the hard case: a sample biased toward early or late values shows at once.
    s = ValueSample(cap=20_000, seed=1)
    for start in range(0, 1_000_000, 10_000):
        s.add(np.arange(start, start + 10_000, dtype=np.float64))
    assert s.count == 1_000_000 and (s.lo, s.hi) == (0.0, 999_999.0)
    kept = s._kept
    assert 10_000 <= kept <= 20_000 and s.rate < 0.05
    q = s.quantiles(11)
    assert q[0] == 0.0 and q[-1] == 999_999.0
    assert q[1:-1] == pytest.approx([100_000 * i for i in range(1, 10)], rel=0.03)


def test_repeated_values_collapse_to_one_edge():
    s = ValueSample()
    s.add(np.r_[np.zeros(900), np.arange(1, 101)])
    q = s.quantiles()
    assert q[0] == 0.0 and q.count(0.0) == 1 and q == sorted(set(q)) and q[-1] == 100.0
