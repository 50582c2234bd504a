"""Seen items of temporal models (udt.training.seen_items): repeats are counted, and predict's exclude_seen="auto"
drops a key's seen labels only when the training rows rarely repeated them (a ratings log, not a purchase log)."""
import numpy as np
import pandas as pd
import pytest

import udt.columns as col
from udt.interfaces.classifier import Classifier, load
from udt.training.seen_items import REPEATS_RARE, SeenItems

from classifier_data import SMALL


def test_record_counts_rows_that_repeat_their_keys_label():
    seen = SeenItems()
    seen.record(["a", "a", "b", "a"], [1, 2, 1, 1])     # a's second 1 repeats
    seen.record(["b", "b", "c"], [1, 3, -1])             # b's 1 repeats across calls; -1 is not recorded
    assert (seen.rows, seen.repeats) == (6, 2) and not seen.repeats_rare
    meta, arrays = seen.state()
    again = SeenItems.from_state(meta, arrays)
    assert (again.rows, again.repeats) == (6, 2) and again.by_key.keys() == seen.by_key.keys()
    old = SeenItems.from_state({"keys": meta["keys"]}, arrays)   # a file written before the counts
    assert old.rows is None and not old.repeats_rare
    old.record(["a"], [9])
    assert old.rows is None
    with pytest.raises(ValueError, match="repeat counts"):
        SeenItems.from_state(dict(meta, repeats=7), arrays)


def log(repeat: bool, n_users=40, per_user=12, seed=0):
    """Each user walks a ring of 30 items; with `repeat` every other event returns to the previous item."""
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(n_users):
        start = int(rng.integers(0, 30))
        items = [(start + i // 2 if repeat else start + i) % 30 for i in range(per_user)]
        rows += [{"user": f"u{u}", "item": f"i{it}", "time": f"2024-01-{1 + t:02d}"} for t, it in enumerate(items)]
    return pd.DataFrame(rows)


def test_auto_excludes_seen_labels_only_when_repeats_are_rare(tmp_path):
    columns = {"user": col.Categorical(), "item": col.Categorical(), "time": col.Date()}
    for repeat in (False, True):
        table = log(repeat)
        model = Classifier(columns=columns, target="item", temporal={"user": ["item"]},
                           **dict(SMALL, epochs=3)).fit(table, progress=False)
        seen = model.model_.seen
        assert seen.repeats_rare == (not repeat) and (seen.repeats < REPEATS_RARE * seen.rows) == (not repeat)
        queries = table.groupby("user").tail(1).drop(columns="item")
        auto = model.predict(queries, top_k=3)
        assert np.array_equal(auto, model.predict(queries, top_k=3, exclude_seen=not repeat))
        if not repeat:
            for user, row in zip(queries["user"], auto):
                assert not set(row) & set(table.loc[table.user == user, "item"])
            model.save(tmp_path / "m.udt")
            assert np.array_equal(load(tmp_path / "m.udt").predict(queries, top_k=3), auto)
    with pytest.raises(ValueError, match="exclude_seen='yes'"):
        model.predict(queries, exclude_seen="yes")


def test_a_key_that_has_seen_almost_every_label_still_gets_k_of_them():
    seen = SeenItems()
    seen.record(["a", "a", "a"], [0, 1, 2])             # of the 4 labels, "a" has seen 3
    ids = np.array([[2, 0, 3, 1]])
    scores = np.array([[0.4, 0.3, 0.2, 0.1]], np.float32)
    out_ids, out_scores = seen.drop(ids, scores, ["a"], k=2)
    assert out_ids.tolist() == [[3, 2]] and out_scores.tolist() == [[np.float32(0.2), np.float32(0.4)]]
    assert seen.drop(ids, scores, ["b"], k=2)[0].tolist() == [[2, 0]]   # a key with nothing seen


def test_predict_proba_top_k_ranks_as_predict_does_seen_labels_included():
    columns = {"user": col.Categorical(), "item": col.Categorical(), "time": col.Date()}
    table = log(repeat=False)
    model = Classifier(columns=columns, target="item", temporal={"user": ["item"]},
                       **dict(SMALL, epochs=3)).fit(table, progress=False)
    queries = table.groupby("user").tail(1).drop(columns="item")
    for exclude in ("auto", True, False):
        labels, scores = model.predict_proba(queries, top_k=3, exclude_seen=exclude)
        assert np.array_equal(labels, model.predict(queries, top_k=3, exclude_seen=exclude))
        assert labels.shape == scores.shape == (len(queries), 3) and np.all(np.diff(scores, axis=1) <= 0)
    unseen, _ = model.predict_proba(queries, top_k=3)          # auto: a ratings-like log drops seen items
    plain, _ = model.predict_proba(queries, top_k=3, exclude_seen=False)
    assert not np.array_equal(unseen, plain)
    for user, row in zip(queries["user"], unseen):
        assert not set(row) & set(table.loc[table.user == user, "item"])
    one = queries.iloc[0].to_dict()
    labels, scores = model.predict_proba(one, top_k=3)
    assert list(labels[0]) == model.predict(one, top_k=3) and scores.shape == (1, 3)
    with pytest.raises(ValueError, match="exclude_seen='no'"):
        model.predict_proba(queries, top_k=3, exclude_seen="no")
    with pytest.raises(ValueError, match="exclude_seen=True ranks the top_k labels"):
        model.predict_proba(queries, exclude_seen=True)
    assert model.predict_proba(queries).shape == (len(queries), len(model.classes_))  # auto: every class
