"""A regression target's transform (udt.training.target_transform): chosen from the training target, saved with
the model, undone by every prediction."""
import numpy as np
import pandas as pd
import pytest

import udt.columns as col
from udt.interfaces.classifier import Regressor, load
from udt.training import target_transform as tt

COLUMNS = {"x": col.Numeric(), "kind": col.Categorical(), "price": col.Numeric()}


def priced_table(n=800, seed=0, shift=0.0) -> pd.DataFrame:
    """price = exp(x + [kind == b]) + shift: positive and right-skewed when shift is 0."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 3, n)
    kind = rng.choice(["a", "b"], n)
    price = np.exp(x + (kind == "b") + rng.normal(0, 0.05, n)) + shift
    return pd.DataFrame({"x": x, "kind": kind, "price": price})


def _chosen(values, weights=None):
    stats = tt.TargetStatistics()
    for _ in stats.observe([(np.asarray(values, np.float32), weights)]):
        pass
    return stats.transform()


def test_log_is_chosen_for_a_positive_skewed_target_only():
    rng = np.random.default_rng(1)
    assert _chosen(np.exp(rng.normal(0, 1, 5000))) == tt.LOG           # log-normal: log is symmetric
    assert _chosen(rng.normal(100, 10, 5000)) is None                   # symmetric already: log skews it left
    skewed_but_not_positive = np.exp(rng.normal(0, 1, 5000))
    skewed_but_not_positive[0] = 0.0
    assert _chosen(skewed_but_not_positive) is None                     # log undefined at 0
    assert _chosen([]) is None


def test_streamed_statistics_match_one_chunk():
    values = np.exp(np.random.default_rng(2).normal(3, 1, 3000))
    one, parts = tt.TargetStatistics(), tt.TargetStatistics()
    list(one.observe([(values, None)]))
    list(parts.observe([(values[:1000], None), (values[1000:], None)]))
    assert parts.log_mean_std() == pytest.approx(one.log_mean_std())
    assert parts.log_mean_std() == pytest.approx((np.log(values).mean(), np.log(values).std()))


def test_standardised_round_trip():
    values = np.array([1.0, 10.0, 1000.0])
    for transform in tt.TRANSFORMS:
        z = tt.standardised(values, [2.0, 3.0], transform)
        assert tt.unstandardised(z, [2.0, 3.0], transform) == pytest.approx(values, rel=1e-5)
    assert np.isfinite(tt.unstandardised(np.array([1e6]), [0.0, 1.0], tt.LOG)).all()  # no overflow to inf


def test_regressor_learns_a_skewed_target_as_its_log_and_the_file_keeps_it(tmp_path):
    train, test = priced_table(seed=0), priced_table(300, seed=1)
    kwargs = dict(columns=COLUMNS, target="price", epochs=20, seed=0)
    logged = Regressor(**kwargs).fit(train, progress=False)
    plain = Regressor(target_transform="none", **kwargs).fit(train, progress=False)
    assert logged.model_.target_transform == tt.LOG and plain.model_.target_transform is None
    mae = lambda m: float(np.mean(np.abs(m.predict(test.drop(columns="price")) - test["price"])))  # noqa: E731
    assert mae(logged) < mae(plain)      # multiplicative effects are additive in the log
    assert logged.evaluate(test, metrics=["mae"])["mae"] == pytest.approx(mae(logged), rel=1e-5)
    logged.save(tmp_path / "r.udt")
    loaded = load(tmp_path / "r.udt")
    assert loaded.model_.target_transform == tt.LOG
    assert np.array_equal(loaded.predict(test), logged.predict(test))


def test_a_target_with_values_at_or_below_zero_is_not_logged():
    model = Regressor(columns=COLUMNS, target="price", epochs=2).fit(priced_table(shift=-1.5), progress=False)
    assert model.model_.target_transform is None
    with pytest.raises(ValueError, match="target_transform='log' needs"):
        Regressor(columns=COLUMNS, target="price", epochs=2, target_transform="log").fit(
            priced_table(shift=-1.5), progress=False)


def test_continued_training_keeps_the_transform():
    model = Regressor(columns=COLUMNS, target="price", epochs=3, warm_start=True).fit(priced_table(), progress=False)
    scale = list(model.model_.target_scale)
    model.fit(priced_table(seed=3), epochs=2, validation=0.2, metrics=["mae"], progress=False)
    assert model.model_.target_transform == tt.LOG and model.model_.target_scale == scale
    # the held-out rows are scored in the target's own units, as evaluate scores them
    assert model.history_[-1]["val_mae"] < priced_table()["price"].std()
