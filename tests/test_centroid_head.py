"""The centroid output head (udt.training.centroid_head): class means of the hidden activations as output rows."""
import numpy as np
import pandas as pd
import pytest

import udt.columns as col
from udt.training.centroid_head import CENTERING, class_embedding_sums, set_centroid_head, training_batches
from udt.interfaces.classifier import Classifier, Regressor, load
from udt.engine import Network
from udt.ingest.batch import CsrBatch
from udt.training.trainer import InMemoryData

SEARCH = dict(input_dim=1 << 16, hidden_dim=32, epochs=10, batch_size=64, learning_rate=5e-3)


def search_tables(n_classes=120, seed=0):
    """Documents of three sentences each, with shared filler, queried by short summaries of their own words."""
    rng = np.random.default_rng(seed)
    filler = [f"w{i}" for i in range(300)]
    train, queries = [], []
    for c in range(n_classes):
        own = [f"d{c}t{j}" for j in range(6)]
        for _ in range(3):
            words = list(rng.choice(own, 2)) + list(rng.choice(filler, 8))
            rng.shuffle(words)
            train.append({"text": " ".join(words), "doc": f"doc{c}"})
        queries.append({"text": " ".join(rng.choice(own, 2, replace=False)), "doc": f"doc{c}"})
    return pd.DataFrame(train), pd.DataFrame(queries)


def _batch(rows, labels, dim, seed):
    rng = np.random.default_rng(seed)
    offsets = np.arange(0, 3 * rows + 1, 3, dtype=np.int64)
    indices = rng.integers(0, dim, 3 * rows).astype(np.uint32)
    values = rng.uniform(0.5, 1.5, 3 * rows).astype(np.float32)
    label_offsets = np.concatenate([[0], np.cumsum([len(x) for x in labels])]).astype(np.int64)
    label_indices = np.concatenate([np.asarray(x, np.uint32) for x in labels])
    return CsrBatch(indices, values, offsets, label_indices, label_offsets)


def test_class_sums_add_each_rows_activation_to_each_of_its_labels():
    net = Network(500, 8, 6, loss="sigmoid", seed=1)
    labels_a = [[0], [2, 5], [], [2]]
    labels_b = [[5, 0, 2], [1]]
    a, b = _batch(4, labels_a, 500, 1), _batch(2, labels_b, 500, 2)
    sums, counts = class_embedding_sums(net, [a, b])
    expected, expected_counts = np.zeros((6, 8)), np.zeros(6, np.int64)
    for batch, labels in ((a, labels_a), (b, labels_b)):
        hidden = net.embed(batch.indices, batch.values, batch.offsets)
        for row, ids in enumerate(labels):
            for i in ids:
                expected[i] += hidden[row]
                expected_counts[i] += 1
    np.testing.assert_allclose(sums, expected, rtol=1e-6)
    np.testing.assert_array_equal(counts, expected_counts)


def test_centroid_rows_point_at_class_means_and_rows_without_data_stay():
    net = Network(500, 8, 6, loss="softmax", seed=3)
    batch = _batch(40, [[i % 4] for i in range(40)], 500, 4)  # classes 4 and 5 have no rows
    before = {k: v.copy() for k, v in net.weights().items()}
    length = np.median(np.linalg.norm(before["output.weight"], axis=1))
    assert set_centroid_head(net, lambda: training_batches(InMemoryData(batch), rows_per_batch=16)) == 4
    after = net.weights()
    hidden = net.embed(batch.indices, batch.values, batch.offsets).astype(np.float64)
    center = CENTERING * hidden.mean(axis=0)
    for c in range(4):
        direction = (hidden[c::4] - center).sum(axis=0)
        row = direction / np.linalg.norm(direction) * length
        np.testing.assert_allclose(after["output.weight"][c], row, rtol=1e-4, atol=1e-6)
        # the class prior stays, and the bias takes the center out of the query: (h - center) . row
        assert after["output.bias"][c] == pytest.approx(before["output.bias"][c] - row @ center, rel=1e-4, abs=1e-6)
        np.testing.assert_allclose(hidden @ after["output.weight"][c] + after["output.bias"][c],
                                   (hidden - center) @ row + before["output.bias"][c], rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(after["output.weight"][4:], before["output.weight"][4:])
    np.testing.assert_array_equal(after["output.bias"][4:], before["output.bias"][4:])


def test_sigmoid_centroids_share_one_fitted_scale_and_offset():
    net = Network(500, 8, 6, loss="sigmoid", seed=5)
    batch = _batch(60, [[i % 3, 3 + i % 2] for i in range(60)], 500, 6)  # class 5 has no rows
    before = {k: v.copy() for k, v in net.weights().items()}
    assert set_centroid_head(net, lambda: iter([batch])) == 5
    after = net.weights()
    lengths = np.linalg.norm(after["output.weight"][:5], axis=1)
    np.testing.assert_allclose(lengths, lengths[0], rtol=1e-5)
    # one offset for all: each bias is it minus the row's score of the center (see the softmax test)
    hidden = net.embed(batch.indices, batch.values, batch.offsets).astype(np.float64)
    pair_mean = (2 * hidden.sum(axis=0)) / (2 * len(hidden))  # each row has two labels
    offsets = after["output.bias"][:5] + after["output.weight"][:5] @ (CENTERING * pair_mean)
    np.testing.assert_allclose(offsets, offsets[0], rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(after["output.weight"][5], before["output.weight"][5])
    assert after["output.bias"][5] == before["output.bias"][5]


def test_multi_label_centroid_head_ranks_and_thresholds_sensibly():
    """Each document has two labels of its own: with the centroids the queries still find them, and
    predict()'s 0.5 threshold returns a label or two, not every label that looks similar."""
    train, queries = search_tables(n_classes=120)
    for frame in (train, queries):
        frame["doc"] = [f"{d} alias{d[3:]}" for d in frame["doc"]]
    model = Classifier(columns={"text": col.Text(), "doc": col.Categorical(delimiter=" ")}, target="doc",
                       output_head="centroid", **SEARCH).fit(train, progress=False)
    assert model.evaluate(queries, metrics=["precision@1"])["precision@1"] > 0.1  # chance: 1/120
    sizes = [len(labels) for labels in model.predict(queries)]
    assert 1 <= np.mean(sizes) <= 4
    scores = model.predict_proba(queries)
    assert np.all((scores > 0) & (scores < 1))


def test_auto_head_without_validation_follows_the_rows_per_class(capsys):
    train, queries = search_tables()  # 120 documents, a few rows each
    model = Classifier(columns={"text": col.Text(), "doc": col.Categorical()}, target="doc", **SEARCH)
    model.fit(train, progress=False)
    assert model.model_.output_head == {"output_head": "centroid", "rule": "fewer than 10 training rows per class"}
    model.summary()
    assert "output head       centroid (auto: fewer than 10 training rows per class)" in capsys.readouterr().out
    few_docs, _ = search_tables(n_classes=10)
    many = pd.concat([few_docs] * 4, ignore_index=True)  # 12 rows per document
    model = Classifier(columns={"text": col.Text(), "doc": col.Categorical()}, target="doc", **SEARCH)
    model.fit(many, progress=False)
    assert model.model_.output_head == {"output_head": "trained", "rule": "at least 10 training rows per class"}


def test_auto_head_keeps_whichever_scores_better_on_validation():
    train, queries = search_tables()
    model = Classifier(columns={"text": col.Text(), "doc": col.Categorical()}, target="doc", **SEARCH)
    model.fit(train, validation=queries, metrics=["precision@1"], progress=False)
    head = model.model_.output_head
    assert head["metric"] == "precision@1" and head["output_head"] in ("trained", "centroid")
    winner = max(("trained", "centroid"), key=lambda h: (head[h], h == "trained"))  # a tie keeps the trained rows
    assert head["output_head"] == winner
    # The kept rows are the ones scored: the validation set scores the winner's value again.
    assert model.evaluate(queries, metrics=["precision@1"])["precision@1"] == pytest.approx(head[winner])


def test_centroid_head_on_request_is_used_saved_and_reported(tmp_path, capsys):
    train, queries = search_tables()
    columns = {"text": col.Text(), "doc": col.Categorical()}
    trained = Classifier(columns=columns, target="doc", output_head="trained", **SEARCH).fit(train, progress=False)
    centroid = Classifier(columns=columns, target="doc", output_head="centroid", **SEARCH).fit(train, progress=False)
    assert trained.model_.output_head == {"output_head": "trained"} and centroid.model_.output_head == {"output_head": "centroid"}
    # Same seed, same training: only the output rows differ, and the queries find their documents.
    np.testing.assert_array_equal(trained.network_.weights()["embedding.weight"],
                                  centroid.network_.weights()["embedding.weight"])
    assert centroid.evaluate(queries, metrics=["precision@1"])["precision@1"] > 0.3  # chance: 1/120
    path = tmp_path / "m.udt"
    centroid.save(path)
    loaded = load(path)
    assert loaded.model_.output_head == {"output_head": "centroid"}
    np.testing.assert_array_equal(loaded.predict(queries), centroid.predict(queries))
    loaded.summary()
    assert "output head       centroid" in capsys.readouterr().out


@pytest.mark.parametrize("memory_budget_mb", [2048, 0])
def test_sparse_inference_after_the_centroid_head(memory_budget_mb, monkeypatch):
    """The LSH index is rebuilt from the replaced rows: by index_labels when the rows are in memory, by
    rebuild_index when they were streamed (index_labels needs every row at once)."""
    calls = []
    for name in ("rebuild_index", "index_labels"):
        original = getattr(Network, name)
        monkeypatch.setattr(Network, name, lambda self, *a, _f=original, _n=name, **kw: calls.append(_n) or _f(self, *a, **kw))
    train, queries = search_tables(n_classes=300)
    model = Classifier(columns={"text": col.Text(), "doc": col.Categorical()}, target="doc", output_head="centroid",
                       sparsity=0.5, memory_budget_mb=memory_budget_mb, **SEARCH).fit(train, progress=False)
    assert calls[-1] == ("index_labels" if memory_budget_mb else "rebuild_index")
    lsh = model.network_.lsh_params  # the index pass builds 4 x the training tables
    assert lsh["L"] == (4 * lsh["training_L"] if memory_budget_mb else lsh["training_L"])
    dense = model.predict(queries, sparse_inference=False)
    sparse = model.predict(queries, sparse_inference=True)
    truth = queries["doc"].to_numpy()
    assert np.mean(dense == truth) > 0.5 and np.mean(sparse == truth) > 0.4  # chance: 1/300


def test_saved_sparse_model_keeps_its_inference_index(tmp_path):
    """The index pass's 4 x L tables are saved and restored as they are: sparse predictions of the loaded
    model are identical, and training it further goes back to the training tables."""
    train, queries = search_tables(n_classes=300)
    model = Classifier(columns={"text": col.Text(), "doc": col.Categorical()}, target="doc", sparsity=0.5,
                       warm_start=True, **SEARCH).fit(train, progress=False)
    model.save(tmp_path / "m.udt")
    loaded = load(tmp_path / "m.udt")
    lsh = loaded.network_.lsh_params
    assert (lsh["L"], lsh["R"]) == (model.network_.lsh_params["L"], model.network_.lsh_params["R"])
    assert lsh["L"] == 4 * lsh["training_L"]
    np.testing.assert_array_equal(loaded.predict(queries, top_k=3, sparse_inference=True),
                                  model.predict(queries, top_k=3, sparse_inference=True))
    loaded.fit(train, epochs=1, progress=False)  # trains on the training tables, then indexes again
    assert loaded.network_.lsh_params["L"] == 4 * lsh["training_L"]


def test_regressor_refuses_a_centroid_head():
    table = pd.DataFrame({"x": ["a", "b"] * 20, "y": np.arange(40.0)})
    model = Regressor(columns={"x": col.Categorical(), "y": col.Numeric()}, target="y", output_head="centroid")
    with pytest.raises(ValueError, match="output_head='centroid' needs classes"):
        model.fit(table, progress=False)
