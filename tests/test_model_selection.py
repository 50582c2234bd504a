"""The architecture chooser's documented rules."""
import dataclasses
import math

import pytest

from udt.selection.model_selection import Plan, choose_architecture, summary_text


def test_small_dense_classification():
    a = choose_architecture(30_000, 2, "single")
    assert a.loss == "softmax" and a.output_dim == 2
    assert a.output_sparsity == 1.0 and not a.sparse_inference
    assert a.input_dim == 100_000 and a.hidden_dim == 256
    assert a.batch_size == 1024  # nearest power of two to 30000 / 32 = 937.5
    assert a.epochs == 9  # ceil(250_000 / 30_000)
    assert a.learning_rate == 1e-3
    assert set(a.auto) == {"input_dim", "hidden_dim", "sparsity", "sparse_inference", "batch_size",
                           "learning_rate", "epochs", "embedding_optimizer"}
    assert a.embedding_optimizer == "adam"      # 100_000 x 256: Adam's moments take 205 MB


def test_large_embedding_tables_keep_row_wise_optimizer_state():
    text = choose_architecture(11_293, 20, "single", has_text=True, normalized_rows=True, n_features=1_027_393,
                               distinct_features=913_239)
    assert text.input_dim == 1_027_393 and text.embedding_optimizer == "rowwise"   # 20 Newsgroups
    assert "913,239 distinct feature ids" in text.reasons["input_dim"]
    assert choose_architecture(32_561, 2, "single", n_features=822).embedding_optimizer == "adam"   # UCI Adult
    polarity = choose_architecture(26_856, 2, "single", has_text=True, normalized_rows=True, n_features=1 << 20)
    assert polarity.hidden_dim == 64 and polarity.embedding_optimizer == "adam"   # 537 MB of moments: Adam
    small_text = choose_architecture(2_282, 20, "single", has_text=True, n_features=1 << 22)
    assert small_text.embedding_optimizer == "adam"   # a big table but few rows
    pinned = choose_architecture(11_293, 20, "single", n_features=1_027_393, embedding_optimizer="adam")
    assert pinned.embedding_optimizer == "adam" and "embedding_optimizer" not in pinned.auto


def test_extreme_label_space_is_sparse_and_sparsity_shrinks_with_classes():
    a = choose_architecture(200_000, 50_000, "single")
    assert a.output_sparsity == pytest.approx(0.01 * math.sqrt(65536 / 50_000))
    assert a.sparse_inference
    b = choose_architecture(200_000, 1_000_000, "multi")
    assert b.output_sparsity < a.output_sparsity and b.loss == "softmax"
    assert a.output_sparsity * 50_000 == pytest.approx(0.01 * math.sqrt(65536 * 50_000))  # ~650 active
    assert choose_architecture(10, 8191, "single").output_sparsity == 1.0
    # multi-label samples half as many outputs as single-label at the same label count
    assert choose_architecture(200_000, 50_000, "multi").output_sparsity == pytest.approx(a.output_sparsity / 2)


def test_embedding_starts_smaller_unless_the_target_is_multi_label():
    assert choose_architecture(30_000, 20, "single").embedding_init_scale == 0.3
    assert choose_architecture(1000, 1, "regression").embedding_init_scale == 0.3
    assert choose_architecture(200_000, 50_000, "single").embedding_init_scale == 0.3  # sparse output layer
    assert choose_architecture(60_000, 17_000, "multi").embedding_init_scale == 1.0
    assert choose_architecture(60_000, 20, "multi").embedding_init_scale == 1.0
    # files saved before the field existed were trained with the engine's default
    old = choose_architecture(1000, 3, "single").to_dict()
    del old["embedding_init_scale"]
    assert Plan.from_dict(old).embedding_init_scale == 1.0


def test_multi_label_with_few_rows_per_label_samples_its_outputs_from_1024_labels():
    few = choose_architecture(15_000, 7_359, "multi")  # ~2 rows per label
    assert few.output_sparsity == pytest.approx(0.005 * math.sqrt(65536 / 7_359)) and few.sparse_inference
    assert few.hidden_dim == 256 and few.batch_size == 256  # the sparse output layer's rules
    assert choose_architecture(15_000, 1_000, "multi").output_sparsity == 1.0    # under 1,024 labels
    assert choose_architecture(100_000, 7_359, "multi").output_sparsity == 1.0   # >= 10 rows per label
    assert choose_architecture(15_000, 7_359, "single").output_sparsity == 1.0   # softmax: dense below 8192


def test_regression_has_one_dense_output():
    a = choose_architecture(1000, 1, "regression")
    assert a.output_dim == 1 and a.loss == "mse" and a.output_sparsity == 1.0


def test_a_softmax_over_many_classes_takes_smaller_batches_than_a_binary_one():
    assert choose_architecture(38_058, 58, "single").batch_size == 256    # Debian sections: 38_058 / 128 = 297
    assert choose_architecture(38_058, 2, "single").batch_size == 1024    # binary: 38_058 / 32 = 1189
    assert choose_architecture(38_058, 1, "regression").batch_size == 1024
    assert choose_architecture(38_058, 58, "multi").batch_size == 1024    # multi-label keeps n / 32


def test_more_rows_give_fewer_epochs_and_bigger_batches():
    small, big = choose_architecture(5_000, 10, "single"), choose_architecture(2_000_000, 10, "single")
    assert small.epochs > big.epochs and small.batch_size < big.batch_size
    assert big.batch_size == 2048 and small.batch_size == 128    # 5,000 / 32 ~ 156: about 32 steps an epoch
    assert small.epochs == 10 and big.epochs == 3
    assert choose_architecture(2_282, 20, "single").batch_size == 64
    assert choose_architecture(11_293, 20, "single").batch_size == 256   # 20 Newsgroups: unchanged
    assert choose_architecture(100, 2, "single").batch_size == 16        # never below MIN_BATCH


def test_text_gets_a_bigger_input_and_normalised_rows_a_bigger_step():
    text = choose_architecture(10_000, 20, "single", has_text=True, normalized_rows=True)
    assert text.input_dim == 1 << 20 and text.hidden_dim == 128
    assert text.batch_size == 256 and text.learning_rate == 5e-3  # 10,000 rows: not small data, the floor of 256
    small = choose_architecture(6_000, 20, "single", has_text=True, normalized_rows=True)
    assert small.batch_size == 64 and small.learning_rate == 2.5e-3  # n / 128, a step sqrt(64 / 256) as big
    assert choose_architecture(40_000, 20, "single", has_text=True, normalized_rows=True).learning_rate == 5e-3
    assert choose_architecture(10_000, 2, "single", has_text=True).hidden_dim == 64
    assert text.epochs == 5  # ceil(250_000 * 0.2 / 10_000)
    extreme = choose_architecture(200_000, 50_000, "single", has_text=True, normalized_rows=True)
    assert extreme.hidden_dim == 256


def test_explicit_values_are_kept_and_not_marked_auto():
    a = choose_architecture(1000, 5, "single", hidden_dim=64, epochs=2, learning_rate=0.01, sparsity=0.5)
    assert (a.hidden_dim, a.epochs, a.learning_rate, a.output_sparsity) == (64, 2, 0.01, 0.5)
    assert "hidden_dim" not in a.auto and "input_dim" in a.auto
    assert a.sparse_inference  # follows the explicit sparsity


def test_round_trip_and_parameter_count():
    a = choose_architecture(1000, 5, "single", input_dim=10, hidden_dim=4)
    assert Plan.from_dict(a.to_dict()) == a
    assert a.n_parameters == 10 * 4 + 4 + 4 * 5 + 5


def test_empty_training_set_is_an_error():
    with pytest.raises(ValueError, match="empty"):
        choose_architecture(0, 2, "single")


def test_summary_text_reports_choices():
    a = choose_architecture(1000, 5, "single", hidden_dim=64)
    text = summary_text(a, kind="Classifier", target="y", n_rows=1000, columns={"x": object()},
                        lsh_params={"K": 4, "L": 8}, history=[{"epoch": 1, "loss": 0.5}])
    assert "hidden_dim        64" in text and "(set)" in text
    assert "(auto; auto_batch_size: n=1,000 rows, c=5 classes, no text, dense output layer)" in text
    assert f"{a.n_parameters:,}" in text and "K=4" in text and "loss=0.5" in text


def test_the_plan_is_a_pure_function_of_statistics_and_options():
    """Every auto value resolved with the rule and statistics that chose it; set values kept, no reason."""
    from udt.selection.model_selection import DataStats, choose_plan
    from udt.options import OPTIONS
    options = {o.name: o.default for o in OPTIONS}
    stats = DataStats(n_rows=11_314, n_classes=20, task="single", has_text=True, words_per_row=269.0)
    plan = choose_plan(stats, options)
    assert plan == choose_plan(stats, options)
    assert plan.feature_scaling == "log-idf-l2" and plan.reasons["feature_scaling"].startswith("auto_feature_scaling")
    assert set(plan.reasons) == set(plan.auto) and "hidden_dim" in plan.auto
    pinned = choose_plan(stats, dict(options, hidden_dim=300, feature_scaling="log-l2"))
    assert pinned.hidden_dim == 300 and "hidden_dim" not in pinned.reasons and pinned.feature_scaling == "log-l2"
    assert Plan.from_dict(plan.to_dict()) == plan


def test_many_classes_with_few_rows_get_more_epochs_wider_hidden_and_big_batches():
    movielens = choose_architecture(99_000, 1_680, "single")
    assert movielens.batch_size == 512 and movielens.hidden_dim == 128  # 8 * 99_000 / 1_680 = 471
    assert movielens.epochs == 5  # 59 rows per class (< 100): more than the 3 that 99k rows alone would get
    extreme = choose_architecture(207_000, 63_000, "single", has_text=True, normalized_rows=True)
    # sparse output: ~256 steps per epoch (207k / 256 = 809 -> 1024), hidden 256; catch-up Adam needs
    # no larger step for rare rows
    assert extreme.batch_size == 1024 and extreme.learning_rate == 5e-3 and extreme.epochs == 5
    assert extreme.hidden_dim == 256 and extreme.sparse_inference
    assert extreme.output_sparsity == pytest.approx(0.01 * math.sqrt(65536 / 63_000))
    wordnet = choose_architecture(65_656, 17_000, "multi", has_text=True, normalized_rows=True)
    assert wordnet.batch_size == 256 and wordnet.epochs == 10  # 65_656 / 256 = 256; sigmoids learn slower
    big = choose_architecture(4_000_000, 50_000, "single")
    assert big.batch_size == 2048 and big.hidden_dim == 256  # 4M / 256, capped


def test_output_head_without_validation_is_the_centroid_only_for_few_rows_per_class():
    from udt.selection.model_selection import auto_output_head
    assert auto_output_head(207_708, 63_427)[0] == "centroid"  # debsearch: 3.3 rows per class
    assert auto_output_head(65_656, 15_741)[0] == "centroid"   # WordNet
    assert auto_output_head(11_293, 20) == ("trained", "at least 10 training rows per class")  # 20 Newsgroups
    assert auto_output_head(99_057, 1_682)[0] == "trained"     # MovieLens: 59 rows per item


def test_text_scaling_uses_idf_when_classes_have_few_rows_or_rows_are_long():
    from udt.selection.model_selection import auto_feature_scaling
    assert auto_feature_scaling(False, 1000, 500) == "none"
    assert auto_feature_scaling(False, 1000, 2, words_per_row=500) == "none"  # no text, no IDF
    assert auto_feature_scaling(True, 207_000, 63_000) == "log-idf-l2"  # 3.3 rows per class
    assert auto_feature_scaling(True, 38_000, 58, words_per_row=61) == "log-l2"  # Debian sections
    assert auto_feature_scaling(True, 11_293, 20, words_per_row=269) == "log-idf-l2"  # 20 Newsgroups
    assert auto_feature_scaling(True, 1000, 1) == "log-l2"  # regression


def test_train_this_plan_on_these_rows_and_score_it():
    """The step model selection builds on: fit_model with a given Plan, then score_rows on held-out rows."""
    from classifier_data import TEXT_COLUMNS, text_table
    from udt.options import OPTIONS
    from udt.training import metrics
    from udt.training.fit import featurized_rows, fit_model
    from udt.training.scoring import score_rows
    options = {o.name: o.default for o in OPTIONS}
    table, held_out = text_table(600), text_table(200, seed=7)
    chosen = fit_model(TEXT_COLUMNS, "topic", options, table)
    again = fit_model(TEXT_COLUMNS, "topic", options, table, plan=chosen.plan)
    narrower = fit_model(TEXT_COLUMNS, "topic", options, table,
                         plan=dataclasses.replace(chosen.plan, hidden_dim=8, epochs=2))
    specs = metrics.parse_metrics(["accuracy"], "single")

    def score(fitted):
        return score_rows(fitted, featurized_rows(fitted, held_out), specs, sparse=False)["accuracy"]

    assert score(again) == score(chosen) > 0.9        # the same plan trains the same model
    assert narrower.network.hidden_dim == 8 and narrower.history[-1]["epoch"] == 2 and 0 < score(narrower) <= 1
