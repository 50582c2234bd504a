"""Predict while the same model trains (issue 16, finding 1).

A sparse model used to crash here (SIGSEGV, "double free"): training reallocated the LSH
buckets and redrew the hash functions under a running predict. The engine's Network now
holds a readers-writer lock (network.h): predicts see the model as of a completed batch.
Each case runs in a subprocess, so a crash fails the test instead of the test run.
"""
import pytest

from fresh_process import survives


_run = survives  # tests/fresh_process.py


CLASSIFIER = """
    import threading
    import numpy as np, pandas as pd
    import udt

    def rows(n, seed, n_classes=60):
        r = np.random.default_rng(seed)
        labels = r.integers(0, n_classes, n)
        words = [f"w{i}" for i in range(300)]
        text = [" ".join([f"c{l}", f"c{l}"] + list(r.choice(words, 6))) for l in labels]
        return pd.DataFrame({"text": text, "label": [f"L{l}" for l in labels]})

    model = udt.Classifier(columns={"text": udt.Text(), "label": udt.Categorical()}, target="label",
                           sparsity=0.2, epochs=1, seed=0)
    model.fit(rows(400, 1))
    queries = rows(50, 9).drop(columns=["label"])
    classes = set(model.classes_)
    stop, errors, done = threading.Event(), [], [0]

    def loop():
        while not stop.is_set():
            try:
                predicted = model.predict(queries)
                assert len(predicted) == len(queries) and set(predicted) <= classes
                done[0] += 1
            except Exception as e:  # an exception is a failure too, not only a crash
                errors.append(repr(e))
                stop.set()

    thread = threading.Thread(target=loop)
    thread.start()
    for i in range(3):
        model.partial_fit(rows(400, 10 + i))
    stop.set()
    thread.join()
    assert not errors, errors
    print("predicts", done[0])
"""


def test_classifier_predict_during_partial_fit_does_not_crash():
    out = _run(CLASSIFIER)
    assert int(out.split()[-1]) >= 1


ENGINE = """
    import threading
    import numpy as np
    from udt.engine import Network

    rng = np.random.default_rng(0)
    n, d_in, d_out = 2000, 5000, 3000
    nnz = rng.integers(3, 12, n)
    off = np.concatenate([[0], np.cumsum(nnz)]).astype(np.int64)
    x = rng.integers(0, d_in, off[-1]).astype(np.uint32)
    y = rng.integers(0, d_out, n).astype(np.uint32)
    y_off = np.arange(n + 1, dtype=np.int64)
    net = Network(d_in, 32, d_out, output_sparsity=0.05, seed=1, rebuild_interval=1, rehash_every=1)
    q = (x[:off[64]], None, off[:65])
    stop, errors, done = threading.Event(), [], [0]

    def reader():
        while not stop.is_set():
            try:
                ids, scores = net.predict(*q, top_k=5, sparse=bool(done[0] % 2))
                assert ((ids >= 0) & (ids < d_out)).all() and np.isfinite(scores).all()
                net.predict_scores(*q)
                net.embed(*q)
                net.lsh_params, net.batches_trained, net.state_views()
                done[0] += 1
            except Exception as e:
                errors.append(repr(e))
                stop.set()

    threads = [threading.Thread(target=reader) for _ in range(2)]
    for t in threads:
        t.start()
    for epoch in range(3):
        for b in range(0, n, 256):
            net.train_batch(x[off[b]:off[min(n, b + 256)]], None, off[b:min(n, b + 256) + 1] - off[b],
                            y[b:b + 256], y_off[:min(256, n - b) + 1])
        # The index pass reallocates the tables (4 x L); the next batch restores the training shape.
        net.index_labels(x, None, off, y, y_off, num_tables=4 * net.lsh_params["training_L"])
        net.end_epoch()
    stop.set()
    for t in threads:
        t.join()
    assert not errors, errors
    print("predicts", done[0])
"""


def test_engine_predict_during_training_and_index_passes_does_not_crash():
    out = _run(ENGINE)
    assert int(out.split()[-1]) >= 1


# The featurizer's temporal history: a training pass records events (rehashing the per-key map)
# while predict reads histories. TableFeaturizer holds a state lock (table_featurizer_state.cc).
# Without it this crashed 2 runs in 3.
HISTORY = """
    import threading
    import numpy as np
    from udt.columns import Categorical, Date
    from udt.ingest.featurize import TableFeaturizer

    rng = np.random.default_rng(0)
    def events(n, seed):
        r = np.random.default_rng(seed)
        days = r.integers(0, 300, n)
        return {"user": [f"u{u}" for u in r.integers(0, 20000, n)], "item": [f"i{i}" for i in r.integers(0, 500, n)],
                "time": [str(np.datetime64("2024-01-01") + int(d)) for d in days]}
    fz = TableFeaturizer({"user": Categorical(), "item": Categorical(), "time": Date()}, target="item",
                         temporal={"user": ["item"]}, crosses=False).fit(events(2000, 1))
    queries = events(500, 2)
    rows = [{"user": u, "time": t} for u, t in zip(queries["user"][:50], queries["time"][:50])]
    stop, errors, done = threading.Event(), [], [0]
    def reader():
        while not stop.is_set():
            try:
                fb = fz.transform(queries, update_history=False)
                assert fb.n_rows == 500
                for row in rows[:5]:
                    fz.transform_row(row)
                done[0] += 1
            except Exception as e:
                errors.append(repr(e)); stop.set()
    threads = [threading.Thread(target=reader) for _ in range(2)]
    for t in threads: t.start()
    for i in range(6):
        fz.transform(events(40000, 10 + i))          # records 40k events over 20k keys
    stop.set()
    for t in threads: t.join()
    assert not errors, errors
    print("transforms", done[0])
"""


def test_featurizing_while_history_is_recorded_does_not_crash():
    out = _run(HISTORY)
    assert int(out.split()[-1]) >= 1


def test_predict_during_a_refit_serves_the_last_complete_model_and_before_the_first_fit_says_not_fitted():
    """A new fit builds its model aside and swaps it in whole (udt.training.fitted): predicts made meanwhile
    use the previous model; during a first fit they raise NotFittedError (it used to be AttributeError)."""
    _run("""
    import threading
    import numpy as np, pandas as pd
    import udt
    from sklearn.exceptions import NotFittedError

    r = np.random.default_rng(0)
    table = pd.DataFrame({"x": r.normal(size=3000), "c": r.choice(list("abc"), 3000)})
    table["y"] = np.where(table.x > 0, "pos", "neg")
    model = udt.Classifier(columns={"x": udt.Numeric(), "c": udt.Categorical(), "y": udt.Categorical()},
                           target="y", epochs=3)
    outcomes, stop = [], threading.Event()

    def loop():
        while not stop.is_set():
            try:
                outcomes.append(model.predict({"x": 1.0, "c": "a"}))
            except NotFittedError:
                outcomes.append("not fitted")
            except Exception as e:
                outcomes.append(repr(e))
                stop.set()

    thread = threading.Thread(target=loop)
    thread.start()
    model.fit(table, progress=False)           # first fit: "not fitted" until it completes
    for seed in range(3):
        model.set_params(seed=seed)
        model.fit(table, progress=False)       # refits: the previous model serves meanwhile
    stop.set()
    thread.join()
    assert set(outcomes) <= {"pos", "neg", "not fitted"}, set(outcomes)
    first_label = outcomes.index("pos") if "pos" in outcomes else len(outcomes)
    assert "not fitted" not in outcomes[first_label:], "a complete model was unserved again"
    """)
