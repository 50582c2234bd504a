"""udt.Classifier end to end on small generated and real (UCI Adult sample) data."""
import threading

import numpy as np
import pandas as pd
import pytest

import udt.columns as col
from udt.interfaces.classifier import Classifier
from classifier_data import SMALL, TEXT_COLUMNS, adult_columns, adult_sample, text_table


@pytest.fixture(scope="module")
def table():
    return text_table()


@pytest.fixture(scope="module")
def model(table):
    return Classifier(columns=TEXT_COLUMNS, target="topic", **SMALL).fit(table.iloc[:600], progress=False)


def test_learns_the_topic_and_reports_classes(model, table):
    assert list(model.classes_) == ["food", "sports", "tech"]
    test = table.iloc[600:]
    assert model.evaluate(test, metrics=["accuracy"])["accuracy"] > 0.95
    pred = model.predict(test.drop(columns="topic"))
    assert pred.shape == (300,) and set(pred) <= set(model.classes_)


def test_network_is_built_with_the_chosen_embedding_init(model):
    assert model.plan_.embedding_init_scale == 0.3  # dense output layer (model_selection)
    assert model.network_.config["embedding_init_scale"] == 0.3


def test_predict_dict_matches_predict_table(model, table):
    rows = table.iloc[600:640]
    batch = model.predict(rows.drop(columns="topic"))
    single = [model.predict(r) for r in rows.drop(columns="topic").to_dict("records")]
    assert list(batch) == single
    assert model.predict({"text": "goal ball match"}) == "sports"  # missing columns are missing values


def test_top_k_and_probabilities(model, table):
    rows = table.iloc[600:650]
    top = model.predict(rows, top_k=2)
    assert top.shape == (50, 2) and np.all(top[:, 0] == model.predict(rows))
    proba = model.predict_proba(rows)
    assert proba.shape == (50, 3) and np.allclose(proba.sum(axis=1), 1, atol=1e-5)
    assert np.all(model.classes_[proba.argmax(axis=1)] == top[:, 0])
    labels, scores = model.predict_proba(rows, top_k=3)
    assert labels.shape == scores.shape == (50, 3) and np.all(np.diff(scores, axis=1) <= 0)
    assert model.predict({"text": "cpu code"}, top_k=2)[0] == "tech"


def test_evaluate_metrics(model, table):
    scores = model.evaluate(table.iloc[600:], metrics=["accuracy", "precision@1", "recall@2", "log_loss"])
    assert scores["accuracy"] == scores["precision@1"]
    assert scores["recall@2"] >= scores["accuracy"] and scores["log_loss"] < 0.5
    recall_beyond = model.evaluate(table.iloc[600:], metrics=["recall@5"])["recall@5"]
    assert recall_beyond == 1.0  # @k beyond the 3 classes covers every class


def test_fit_on_csv_file_equals_fit_on_frame_and_fit_x_y(table, tmp_path):
    path = tmp_path / "train.csv"
    table.iloc[:600].to_csv(path, index=False)
    probes = table.iloc[600:700]
    from_file = Classifier(columns=TEXT_COLUMNS, target="topic", **SMALL).fit(str(path), progress=False)
    from_frame = Classifier(columns=TEXT_COLUMNS, target="topic", **SMALL).fit(table.iloc[:600], progress=False)
    train = table.iloc[:600]
    from_xy = Classifier(columns=TEXT_COLUMNS, target="topic", **SMALL).fit(
        train.drop(columns="topic"), train["topic"], progress=False)
    p = [m.predict_proba(probes) for m in (from_file, from_frame, from_xy)]
    assert np.array_equal(p[0], p[1]) and np.array_equal(p[1], p[2])


def test_label_sorted_file_trains_as_well_as_shuffled(table):
    train, test = table.iloc[:600], table.iloc[600:]
    shuffled = Classifier(columns=TEXT_COLUMNS, target="topic", **SMALL).fit(train, progress=False)
    by_label = Classifier(columns=TEXT_COLUMNS, target="topic", **SMALL).fit(
        train.sort_values("topic", kind="stable"), progress=False)
    a = shuffled.evaluate(test)["accuracy"]
    b = by_label.evaluate(test)["accuracy"]
    assert b > 0.95 and abs(a - b) < 0.03


def test_validation_history_and_early_stopping(table):
    model = Classifier(columns=TEXT_COLUMNS, target="topic", **dict(SMALL, epochs=6))
    model.fit(table.iloc[:600], validation=table.iloc[600:], metrics=["accuracy", "log_loss"], progress=False)
    assert 1 <= len(model.history_) <= 6
    first = model.history_[0]
    assert {"epoch", "loss", "rows_per_second", "val_accuracy", "val_log_loss"} <= set(first)
    assert model.history_[-1]["loss"] < first["loss"]


def test_early_stopping_on_noise_stops_before_the_last_epoch():
    rng = np.random.default_rng(0)
    noise = pd.DataFrame({"x": rng.integers(0, 1000, 400).astype(str), "y": rng.choice(["a", "b"], 400)})
    model = Classifier(columns={"x": col.Categorical(), "y": col.Categorical()}, target="y",
                       **dict(SMALL, epochs=30, learning_rate=0.05), early_stopping_patience=1,
                       output_head="trained")  # "auto" might swap in class centroids after the best epoch
    model.fit(noise.iloc[:300], validation=noise.iloc[300:], metrics=["log_loss"], progress=False)
    assert model.model_.stopped_early and len(model.history_) < 30
    # The best epoch's weights came back: scoring the validation rows again gives its value.
    best = min(h["val_log_loss"] for h in model.history_)
    assert best < model.history_[-1]["val_log_loss"]
    assert model.evaluate(noise.iloc[300:], metrics=["log_loss"])["log_loss"] == pytest.approx(best, rel=1e-6)


def test_continuing_fit_and_partial_fit(table):
    model = Classifier(columns=TEXT_COLUMNS, target="topic", warm_start=True, **dict(SMALL, epochs=1))
    model.fit(table.iloc[:300], progress=False)
    network = model.network_
    model.fit(table.iloc[300:600], progress=False)
    assert model.network_ is network and [h["epoch"] for h in model.history_] == [1, 2]
    model.partial_fit(table.iloc[:300])
    assert [h["epoch"] for h in model.history_] == [1, 2, 3]
    assert model.evaluate(table.iloc[600:])["accuracy"] > 0.9
    fresh = Classifier(columns=TEXT_COLUMNS, target="topic", **dict(SMALL, epochs=1))
    fresh.fit(table.iloc[:300], progress=False)
    first = fresh.network_
    fresh.fit(table.iloc[:300], progress=False)  # without warm_start fit starts over
    assert fresh.network_ is not first and len(fresh.history_) == 1


def test_ctrl_c_during_fit_leaves_a_usable_model(table, monkeypatch):
    from udt import engine
    calls = {"n": 0}
    original = engine.Network.train_batch

    def interrupt_on_third(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return original(self, *args, **kwargs)

    monkeypatch.setattr(engine.Network, "train_batch", interrupt_on_third)
    model = Classifier(columns=TEXT_COLUMNS, target="topic", **SMALL)
    with pytest.warns(RuntimeWarning, match="interrupted"):
        model.fit(table.iloc[:600], progress=False)
    assert model.model_.interrupted and model.history_[-1]["interrupted"]
    assert len(model.predict(table.iloc[600:610])) == 10


def test_concurrent_predict_gives_the_same_answers(model, table):
    rows = table.iloc[600:].drop(columns="topic")
    records = rows.to_dict("records")
    expected_batch = model.predict(rows)
    expected_rows = [model.predict(r) for r in records]
    failures = []

    def work():
        for _ in range(3):
            if not np.array_equal(model.predict(rows), expected_batch):
                failures.append("batch")
            if [model.predict(r) for r in records] != expected_rows:
                failures.append("rows")

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures


def test_adult_sample_reaches_a_sensible_accuracy():
    data = adult_sample(4000)
    model = Classifier(columns=adult_columns(), target="income", hidden_dim=64, input_dim=50_000)
    model.fit(data.iloc[:3000], progress=False)
    scores = model.evaluate(data.iloc[3000:], metrics=["accuracy", "roc_auc"])
    assert scores["accuracy"] > 0.80 and scores["roc_auc"] > 0.85


def test_summary_reports_the_architecture(model, capsys):
    model.summary()
    out = capsys.readouterr().out
    assert "udt.Classifier" in out and "hidden_dim        32" in out and "(set)" in out and "(auto)" in out
    assert "feature scaling   log-l2       (auto)" in out


def test_single_row_predict_is_fast(model):
    import time
    row = {"text": "cpu code kernel laptop", "price": 12.0, "shop": "shop1"}
    for _ in range(200):
        model.predict(row)
    times = []
    for _ in range(1000):
        t0 = time.perf_counter()
        model.predict(row)
        times.append(time.perf_counter() - t0)
    # The target is 0.02 ms on a quiet machine; the bound here leaves room for a loaded CI box.
    assert sorted(times)[500] < 0.0005


def test_fit_on_arrow_table_and_list_of_files(table, tmp_path):
    import pyarrow as pa
    train = table.iloc[:600]
    train.iloc[:300].to_csv(tmp_path / "a.csv", index=False)
    train.iloc[300:].to_csv(tmp_path / "b.csv", index=False)
    probes = table.iloc[600:650]
    reference = Classifier(columns=TEXT_COLUMNS, target="topic", **SMALL).fit(train, progress=False)
    from_arrow = Classifier(columns=TEXT_COLUMNS, target="topic", **SMALL).fit(
        pa.Table.from_pandas(train, preserve_index=False), progress=False)
    from_files = Classifier(columns=TEXT_COLUMNS, target="topic", **SMALL).fit(
        [str(tmp_path / "a.csv"), str(tmp_path / "b.csv")], progress=False)
    assert np.array_equal(from_arrow.predict_proba(probes), reference.predict_proba(probes))
    assert np.array_equal(from_files.predict_proba(probes), reference.predict_proba(probes))


def test_streaming_through_the_shuffle_buffer_when_over_the_memory_budget(table):
    model = Classifier(columns=TEXT_COLUMNS, target="topic", memory_budget_mb=0, **SMALL)
    model.fit(table.iloc[:600].sort_values("topic", kind="stable"), progress=False)
    assert all(h["rows"] == 600 for h in model.history_)
    assert model.evaluate(table.iloc[600:])["accuracy"] > 0.9



@pytest.fixture(scope="module")
def idf_model(table):
    return Classifier(columns=TEXT_COLUMNS, target="topic", feature_scaling="log-idf-l2", **SMALL).fit(
        table.iloc[:600], progress=False)


def test_text_rows_are_tf_idf_weighted(idf_model):
    """log-idf-l2: filler words in many rows weigh less than topic words, and the single-row
    path and the batch path apply the same weights."""
    model = idf_model
    assert model.featurizer_.scaling == "log-idf-l2" and model.featurizer_.idf.shape == (model.featurizer_.input_dim,)
    idx, val = model.featurizer_.transform_row({"text": "the goal"})
    the, goal = (set(model.featurizer_.transform_row({"text": w})[0]) for w in ("the", "goal"))
    the, goal = list(the - goal), list(goal - the)  # the word's own id (the other ids mark missing columns)
    assert model.featurizer_.idf[the] < model.featurizer_.idf[goal]  # "the" is in more rows than "goal"
    assert np.isclose(np.linalg.norm(val), 1.0)
    rows = model.featurizer_.transform(pd.DataFrame([{"text": "the goal", "price": None, "shop": None}]),
                                       with_labels=False)
    assert rows.values.tobytes() == val.tobytes()


def test_auto_scaling_uses_idf_only_when_classes_have_few_rows(model, table):
    assert model.featurizer_.scaling == "log-l2" and model.featurizer_.idf is None  # 200 rows per class
    few = table.iloc[:300].assign(topic=[f"{t}{i % 40}" for i, t in enumerate(table.topic.iloc[:300])])
    fitted = Classifier(columns=TEXT_COLUMNS, target="topic", **SMALL).fit(few, progress=False)
    assert fitted.featurizer_.scaling == "log-idf-l2" and fitted.featurizer_.idf is not None  # 120 classes, 2.5 rows each
    assert fitted.evaluate(few.iloc[:50], metrics=["accuracy"])["accuracy"] >= 0


def test_auto_scaling_uses_idf_for_long_documents(table, tmp_path):
    """Many rows per class but long rows (120 filler words before each 7-word text): IDF, whether the
    rows come from a table or a CSV file and whether they are held in memory or streamed."""
    filler = " ".join(f"w{i}" for i in range(120))
    long = table.iloc[:300].assign(text=[f"{filler} {t}" for t in table.text.iloc[:300]])
    long.to_csv(tmp_path / "long.csv", index=False)
    in_memory = Classifier(columns=TEXT_COLUMNS, target="topic", **SMALL).fit(long, progress=False)
    streamed = Classifier(columns=TEXT_COLUMNS, target="topic", memory_budget_mb=0, **SMALL).fit(
        str(tmp_path / "long.csv"), progress=False)
    assert in_memory.featurizer_.scaling == streamed.featurizer_.scaling == "log-idf-l2"
    assert np.array_equal(in_memory.featurizer_.idf, streamed.featurizer_.idf)
    short = Classifier(columns=TEXT_COLUMNS, target="topic", **SMALL).fit(table.iloc[:300], progress=False)
    assert short.featurizer_.scaling == "log-l2"


def test_tf_idf_model_survives_save_and_load(idf_model, table, tmp_path):
    from udt.interfaces.classifier import load
    idf_model.save(tmp_path / "m.udt")
    loaded = load(tmp_path / "m.udt")
    assert loaded.featurizer_.scaling == "log-idf-l2" and np.array_equal(loaded.featurizer_.idf, idf_model.featurizer_.idf)
    assert np.array_equal(loaded.predict_proba(table.iloc[600:]), idf_model.predict_proba(table.iloc[600:]))
    assert loaded.predict({"text": "goal ball"}) == idf_model.predict({"text": "goal ball"})


def test_streamed_fit_counts_the_same_idf(idf_model, table):
    streamed = Classifier(columns=TEXT_COLUMNS, target="topic", feature_scaling="log-idf-l2", memory_budget_mb=0,
                          **SMALL).fit(table.iloc[:600], progress=False)
    assert np.array_equal(streamed.featurizer_.idf, idf_model.featurizer_.idf)
    assert streamed.evaluate(table.iloc[600:])["accuracy"] > 0.9
