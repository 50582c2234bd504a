"""udt.training.metrics checked against scikit-learn's implementations and hand-computed cases."""
import numpy as np
import pytest
from sklearn import metrics as skm

from udt.training import metrics as m


@pytest.fixture
def rng():
    return np.random.default_rng(7)


def test_accuracy_matches_sklearn(rng):
    y = rng.integers(0, 5, 500)
    p = np.where(rng.random(500) < 0.6, y, rng.integers(0, 5, 500))
    assert m.accuracy(y, p) == pytest.approx(skm.accuracy_score(y, p))
    assert m.accuracy(np.array(["a", "b"]), np.array(["a", "c"])) == 0.5


def test_accuracy_rejects_shape_mismatch():
    with pytest.raises(ValueError, match="shape"):
        m.accuracy([1, 2, 3], [1, 2])


def test_precision_recall_at_k_single_label_match_top_k_accuracy(rng):
    n, c = 400, 12
    scores = rng.random((n, c))
    y = rng.integers(0, c, n)
    ranked = np.argsort(-scores, axis=1)
    for k in (1, 3, 5):
        sk = skm.top_k_accuracy_score(y, scores, k=k, labels=np.arange(c))
        assert m.recall_at_k(y, ranked, k) == pytest.approx(sk)
        assert m.precision_at_k(y, ranked, k) == pytest.approx(sk / k)


def test_precision_recall_at_k_multi_label_by_hand():
    y = [[0, 1], [2], [3, 4, 5]]
    ranked = np.array([[1, 7, 0], [9, 8, 2], [6, 7, 8]])
    assert m.precision_at_k(y, ranked, 1) == pytest.approx((1 + 0 + 0) / 3)
    assert m.precision_at_k(y, ranked, 3) == pytest.approx((2 / 3 + 1 / 3 + 0) / 3)
    assert m.recall_at_k(y, ranked, 3) == pytest.approx((1.0 + 1.0 + 0.0) / 3)
    assert m.recall_at_k(y, ranked, 1) == pytest.approx((0.5 + 0 + 0) / 3)


def test_ranking_counts_repeated_predictions_and_labels_once():
    assert m.precision_at_k([[3, 3]], np.array([[3, 3]]), 2) == pytest.approx(0.5)
    assert m.recall_at_k([[3, 3]], np.array([[3, 3]]), 2) == pytest.approx(1.0)


def test_recall_skips_rows_without_labels():
    assert m.recall_at_k([[], [1]], np.array([[0], [1]]), 1) == 1.0
    with pytest.raises(ValueError, match="at least one row"):
        m.recall_at_k([[], []], np.array([[0], [1]]), 1)


def test_at_k_needs_enough_predictions():
    with pytest.raises(ValueError, match="at least 5"):
        m.precision_at_k(np.array([1]), np.array([[1, 2]]), 5)


def test_roc_auc_matches_sklearn_with_ties(rng):
    y = rng.integers(0, 2, 1000)
    s = np.round(rng.random(1000) + 0.3 * y, 1)  # coarse rounding creates many ties
    assert m.roc_auc_binary(y, s) == pytest.approx(skm.roc_auc_score(y, s))


def test_roc_auc_needs_both_classes():
    with pytest.raises(ValueError, match="one class"):
        m.roc_auc_binary([1, 1], [0.2, 0.3])


def test_log_loss_matches_sklearn(rng):
    p = rng.random((300, 4))
    p /= p.sum(axis=1, keepdims=True)
    y = rng.integers(0, 4, 300)
    assert m.log_loss(y, p) == pytest.approx(skm.log_loss(y, p, labels=np.arange(4)), rel=1e-9)


def test_log_loss_clips_zero_probability():
    assert np.isfinite(m.log_loss([0], np.array([[0.0, 1.0]])))


def test_regression_metrics_match_sklearn(rng):
    t = rng.normal(size=200)
    p = t + rng.normal(scale=0.3, size=200)
    assert m.mae(t, p) == pytest.approx(skm.mean_absolute_error(t, p))
    assert m.rmse(t, p) == pytest.approx(np.sqrt(skm.mean_squared_error(t, p)))
    assert m.r2(t, p) == pytest.approx(skm.r2_score(t, p))


def test_parse_metric_names_and_errors():
    assert m.parse_metric("Precision@5").name == "precision@5"
    assert m.parse_metric("recall@10").k == 10
    assert not m.parse_metric("log_loss").higher_is_better
    assert m.parse_metric("r2", "regression").higher_is_better
    with pytest.raises(ValueError, match="valid metrics: accuracy"):
        m.parse_metric("f1")
    with pytest.raises(ValueError, match="valid metrics: mae"):
        m.parse_metric("accuracy", "regression")
    with pytest.raises(ValueError, match="binary"):
        m.parse_metric("roc_auc", "multi")
    assert [s.name for s in m.parse_metrics("accuracy, precision@3", "single")] == ["accuracy", "precision@3"]
    assert [s.name for s in m.parse_metrics(None, "multi")] == ["precision@1"]


def test_classification_metric_dispatch(rng):
    y = rng.integers(0, 2, 100)
    proba = rng.random((100, 2))
    proba /= proba.sum(axis=1, keepdims=True)
    ranked = np.argsort(-proba, axis=1)
    assert m.classification_metric(m.MetricSpec("accuracy"), y, ranked, proba) == pytest.approx(
        skm.accuracy_score(y, proba.argmax(axis=1)))
    assert m.classification_metric(m.MetricSpec("roc_auc"), y, ranked, proba) == pytest.approx(
        skm.roc_auc_score(y, proba[:, 1]))
