"""Label sets from a multi-label softmax head (udt.training.label_sets): the fitted share scale and predict."""
import numpy as np

import udt.columns as col
from udt.ingest.batch import CsrBatch
from udt.interfaces.classifier import Classifier, load
from udt.training.label_sets import fit_share_scale, set_sizes

from classifier_data import SMALL, multi_label_table


class FixedScores:
    """A stand-in network: every row's best-first labels and softmax shares are given."""
    output_dim = 4

    def __init__(self, ids, scores):
        self.ids, self.scores = np.asarray(ids, np.int32), np.asarray(scores, np.float32)

    def predict(self, indices, values, offsets, top_k):
        return self.ids[:, :top_k], self.scores[:, :top_k]


def rows_with_labels(label_sets):
    offsets = np.concatenate([[0], np.cumsum([len(s) for s in label_sets])]).astype(np.int64)
    n = len(label_sets)
    return CsrBatch(np.zeros(n, np.uint32), np.ones(n, np.float32), np.arange(n + 1, dtype=np.int64),
                    np.concatenate([np.asarray(s, np.uint32) for s in label_sets]), offsets)


def test_the_scale_that_recovers_each_rows_label_set_wins():
    # Two-label rows split their mass; one-label rows put it on one label: shares x 2 >= 0.5 keeps both.
    ids = [[0, 1, 2, 3], [2, 3, 0, 1], [1, 0, 2, 3]]
    scores = [[0.45, 0.45, 0.05, 0.05], [0.4, 0.4, 0.1, 0.1], [0.9, 0.04, 0.03, 0.03]]
    truth = [[0, 1], [2, 3], [1]]
    scale = fit_share_scale(FixedScores(ids, scores), rows_with_labels(truth))
    sizes = set_sizes(np.asarray(scores), 0.5, scale)
    assert sizes.tolist() == [2, 2, 1]
    assert set_sizes(np.asarray(scores), 0.5, 0.01).tolist() == [1, 1, 1]     # always the best label


def test_a_multi_label_model_keeps_its_scale_through_save_and_load(tmp_path):
    table = multi_label_table()
    model = Classifier(columns={"text": col.Text(), "topics": col.Categorical(delimiter=" ")}, target="topics",
                       **dict(SMALL, epochs=8)).fit(table.iloc[:700], progress=False)
    assert model.plan_.loss == "softmax" and model.model_.label_share_scale > 1.0
    model.save(tmp_path / "m.udt")
    loaded = load(tmp_path / "m.udt")
    assert loaded.model_.label_share_scale == model.model_.label_share_scale
    test = table.iloc[700:].drop(columns="topics")
    assert [sorted(p) for p in loaded.predict(test)] == [sorted(p) for p in model.predict(test)]
