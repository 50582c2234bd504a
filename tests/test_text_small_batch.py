"""The text softmax's batch below 256 and its square-root learning rate (udt.selection.model_selection, batch_size
and learning_rate): more, smaller steps for a few thousand rows of text, scaled so that an epoch adds the same noise."""
import math

from udt.selection.model_selection import auto_learning_rate, choose_architecture


def _text(n_rows, n_classes, **options):
    return choose_architecture(n_rows, n_classes, "single", has_text=True, normalized_rows=True, **options)


def test_a_small_multi_class_text_set_takes_n_over_128_rows_a_step_at_a_smaller_rate():
    austen = _text(7_873, 6)   # calibration suite: Austen paragraphs -> novel
    assert austen.batch_size == 64 and austen.learning_rate == 2.5e-3
    assert austen.epochs == 7  # those of 5e-3: ceil(250_000 * 0.2 / 7_873), not the 10 of 2.5e-3
    assert "batch 64" in austen.reasons["learning_rate"]
    news = _text(11_293, 20)   # above the small-data rows: the floor of 256 keeps its fit within 3 s
    assert news.batch_size == 256 and news.learning_rate == 5e-3 and news.epochs == 5
    assert _text(8_000, 20).batch_size == 64


def test_larger_text_sets_binary_targets_and_tables_keep_their_batch_and_rate():
    friends = _text(46_698, 123)
    assert friends.batch_size == 512 and friends.learning_rate == 5e-3
    assert _text(38_058, 58).batch_size == 256 and _text(38_058, 58).learning_rate == 5e-3  # debgraph
    assert _text(26_856, 2).batch_size == 1024 and _text(26_856, 2).learning_rate == 5e-3   # polarity
    letter = choose_architecture(16_000, 26, "single")
    assert letter.batch_size == 256 and letter.learning_rate == 1e-3


def test_the_rate_follows_a_batch_the_user_set_and_epochs_follow_a_rate_the_user_set():
    assert _text(50_000, 2, batch_size=16).learning_rate == 5e-3 * math.sqrt(16 / 256)
    assert _text(50_000, 2, batch_size=4096).learning_rate == 5e-3  # never above 5e-3
    assert auto_learning_rate(False, 16) == 1e-3                    # unnormalised rows: 1e-3 at any batch
    set_rate = _text(7_873, 6, learning_rate=1e-3)
    assert set_rate.learning_rate == 1e-3 and set_rate.epochs == 10  # the user's own rate decides the epochs
