"""Statistics fit takes from streamed chunks without holding them all (udt.training.fit)."""
import numpy as np

from udt.training.fit import _weighted_mean_std


def test_streamed_mean_and_std_equal_numpy_on_the_whole_column():
    rng = np.random.default_rng(0)
    values = rng.normal(1e6, 250.0, 10_000).astype(np.float32)
    weights = rng.uniform(0, 3, 10_000).astype(np.float32)
    cuts = [0, 7, 3000, 3000, 9999, 10_000]      # uneven chunks, an empty one
    chunks = [(values[a:b], weights[a:b]) for a, b in zip(cuts, cuts[1:])]
    mean, std, largest = _weighted_mean_std(iter(chunks))
    x, w = values.astype(np.float64), weights.astype(np.float64)
    expected = np.average(x, weights=w)
    assert np.isclose(mean, expected, rtol=1e-12)
    assert np.isclose(std, np.sqrt(np.average((x - expected) ** 2, weights=w)), rtol=1e-9)
    assert largest == float(np.abs(x).max())
    unweighted, _, _ = _weighted_mean_std([(values[:10], None), (values[10:], None)])
    assert np.isclose(unweighted, x.mean(), rtol=1e-12)
    assert _weighted_mean_std([]) == (0.0, 0.0, 0.0)
