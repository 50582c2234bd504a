"""The benchmark harness's helpers (benchmarks/peers/harness.py and friends) on tiny synthetic data.

Fast and peer-free: only numpy, pandas and scikit-learn (udt's own dependencies); tests that need an optional
package skip when it is missing.
"""
from __future__ import annotations

import json
import math
import os
import sys
import time

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks.peers import harness  # noqa: E402
from benchmarks.peers.harness import (RESULT_KEYS, Result, accuracy, measure_latency, ndcg_at_k,  # noqa: E402
                                      precision_at_k, recall_at_k, run_in_child, top_k_indices)


# ------------------------------------------------------------------------------------------------ metrics

def test_accuracy_compares_as_strings():
    assert accuracy([1, 2, 3, 4], ["1", "2", "0", "4"]) == 0.75
    with pytest.raises(ValueError):
        accuracy([1, 2], [1])


def test_precision_at_k_single_and_multi_label():
    ranked = [["a", "b", "c"], ["x", "y", "z"], ["p", "q", "r"]]
    # one label per row: hits at rank 1, rank 2, none
    assert precision_at_k(["a", "y", "s"], ranked, 1) == pytest.approx(1 / 3)
    assert precision_at_k(["a", "y", "s"], ranked, 3) == pytest.approx((1 + 1 + 0) / 3 / 3)
    # multi-label: row 0 has two relevant labels in its top 3
    assert precision_at_k([{"a", "c"}, {"z"}, {"q", "r"}], ranked, 3) == pytest.approx((2 + 1 + 2) / 3 / 3)
    # fewer predictions than k count as misses
    assert precision_at_k(["a"], [["a"]], 5) == pytest.approx(1 / 5)


def test_recall_and_ndcg_at_k():
    ranked = [[5, 3, 9], [1, 2, 4]]
    assert recall_at_k([3, 7], ranked, 2) == pytest.approx(0.5)
    assert recall_at_k([{3, 9}, {7, 4}], ranked, 3) == pytest.approx((1.0 + 0.5) / 2)
    # one relevant item at rank 2 -> 1/log2(3); at rank 1 -> 1
    assert ndcg_at_k([3], [ranked[0]], 3) == pytest.approx(1 / math.log2(3))
    assert ndcg_at_k([5], [ranked[0]], 3) == pytest.approx(1.0)
    assert ndcg_at_k([7], [ranked[0]], 3) == 0.0
    # two relevant, found at ranks 1 and 3: (1 + 1/2) / (1 + 1/log2 3)
    assert ndcg_at_k([{5, 9}], [ranked[0]], 3) == pytest.approx(1.5 / (1 + 1 / math.log2(3)))
    with pytest.raises(ValueError):
        recall_at_k([1, 2], [[1]], 1)


def test_top_k_indices_matches_a_full_sort():
    rng = np.random.default_rng(0)
    scores = rng.normal(size=(50, 300))
    expect = np.argsort(-scores, axis=1, kind="stable")[:, :7]
    np.testing.assert_array_equal(top_k_indices(scores, 7), expect)
    assert top_k_indices(scores[:, :3], 10).shape == (50, 3)


# -------------------------------------------------------------------------------------- timing and memory

def test_measure_latency_times_each_call_after_warmup():
    calls = []

    def predict_one(row):
        calls.append(row)
        time.sleep(0.002)

    lat = measure_latency(predict_one, list(range(30)), warmup=5)
    assert len(calls) == 35 and lat.n == 30
    assert 1.5 <= lat.p50_ms <= lat.p99_ms
    assert lat.mean_ms >= 1.5
    with pytest.raises(ValueError):
        measure_latency(predict_one, [])


def test_percentile_matches_numpy():
    v = [5.0, 1.0, 3.0, 2.0, 4.0]
    assert harness.percentile(v, 50) == 3.0
    assert harness.percentile(v, 99) == pytest.approx(np.percentile(v, 99))
    assert math.isnan(harness.percentile([], 50))


def test_peak_rss_grows_with_an_allocation():
    before = harness.peak_rss_mb()
    block = np.ones(64 * 1024 * 1024 // 8)  # 64 MiB, touched
    after = harness.peak_rss_mb()
    assert before > 0 and after >= before + 32
    del block


def test_thread_env_is_passive_with_two_threads():
    env = harness.thread_env(2)
    assert env["OMP_WAIT_POLICY"] == "PASSIVE"
    assert env["OMP_NUM_THREADS"] == env["MKL_NUM_THREADS"] == env["OPENBLAS_NUM_THREADS"] == "2"


def test_result_to_dict_has_the_json_contract():
    d = Result(task="t", dataset="d", system="s", metric_name="accuracy", metric=float("nan"),
               train_s=np.float32(1.5), metrics={"accuracy": np.float64(0.5)}).to_dict()
    assert set(RESULT_KEYS) <= set(d)
    assert d["metric"] is None and d["train_s"] == 1.5 and isinstance(d["metrics"]["accuracy"], float)
    json.dumps(d)


# ------------------------------------------------------------------------------------------ child processes

def test_run_in_child_ok_failed_unavailable_timeout():
    status, payload, rss = run_in_child("json:loads", ('{"a": 1}',), timeout_s=60)
    assert status == "ok" and payload == {"a": 1} and rss > 0
    status, payload, _ = run_in_child("json:loads", ("{bad",), timeout_s=60)
    assert status == "failed" and "JSONDecodeError" in payload
    status, payload, _ = run_in_child("benchmarks.peers.base:require", ("no_such_module_for_udt_tests",), 60)
    assert status == "unavailable" and "no_such_module_for_udt_tests" in payload
    status, payload, _ = run_in_child("time:sleep", (30,), timeout_s=3)
    assert status == "timeout"


# ------------------------------------------------------------------------------- run.py, tasks, report

def test_select_by_task_family_system_and_pair():
    from benchmarks.run import select

    assert select(["news20"], [], False)[0] == ("news20", "fasttext")
    assert {t for t, _ in select(["xc"], [], False)} == {"debsearch", "wordnet"}
    assert select(["adult:lightgbm"], [], False) == [("adult", "lightgbm")]
    assert all(s != "udt" for _, s in select(["adult"], [], True))
    assert ("adult", "udt") not in select(["adult"], ["udt"], False)


def test_prepare_debgraph_builds_undirected_neighbors(tmp_path):
    import pandas as pd

    from benchmarks.peers.tasks import TASKS, prepare

    g = tmp_path / "data" / "graph"
    g.mkdir(parents=True)
    pd.DataFrame({"node_id": [0, 1, 2, 3], "package": ["a", "b", "c", "d"], "section": ["x", "y", "x", "y"],
                  "split": ["train", "train", "test", "valid"], "text": ["t a", "t b", "t c", "t d"]}
                 ).to_csv(g / "debian_nodes.csv", index=False)
    pd.DataFrame({"src": [0, 0, 1, 2], "dst": [1, 1, 2, 2], "relation": ["Depends"] * 4}
                 ).to_csv(g / "debian_edges.csv", index=False)
    info = prepare(TASKS["debgraph"], str(tmp_path / "data"), str(tmp_path / "work"), quick=False)
    train = pd.read_csv(info["train"], keep_default_na=False, dtype={"neighbors": str})
    test = pd.read_csv(info["test"], keep_default_na=False, dtype={"neighbors": str})
    assert list(train.node_id) == [0, 1] and list(test.node_id) == [2]
    assert list(train.neighbors) == ["1", "0 2"] and list(test.neighbors) == ["1"]  # dedup, no self loop
    assert prepare(TASKS["debgraph"], str(tmp_path / "data"), str(tmp_path / "work"), quick=False) == info


def _tiny_text_task(tmp_path):
    import pandas as pd

    rng = np.random.default_rng(0)
    words = {"sport": "ball goal team match score", "tech": "cpu code chip compile kernel"}
    rows = []
    for i in range(120):
        label = "sport" if i % 2 else "tech"
        rows.append({"text": " ".join(rng.choice(words[label].split(), 6)), "label": label})
    df = pd.DataFrame(rows)
    df[:80].to_csv(tmp_path / "train.csv", index=False)
    df[80:].to_csv(tmp_path / "test.csv", index=False)
    return {"task": "news20", "dataset": "tiny", "train": str(tmp_path / "train.csv"),
            "test": str(tmp_path / "test.csv"), "work": str(tmp_path), "threads": 2, "seed": 0,
            "latency_rows": 10, "quick": True}


def test_a_real_peer_runs_in_a_child_and_reports_every_key(tmp_path):
    pytest.importorskip("sklearn")
    ctx = _tiny_text_task(tmp_path)
    status, rows, _ = run_in_child("benchmarks.peers.text:tfidf_linearsvc", (ctx,), timeout_s=120)
    assert status == "ok", rows
    (row,) = rows
    assert set(RESULT_KEYS) <= set(row)
    assert row["system"] == "TF-IDF+LinearSVC" and row["metric"] == 1.0
    assert row["train_s"] > 0 and 0 < row["latency_ms_p50"] <= row["latency_ms_p99"] and row["peak_rss_mb"] > 0
    # the pipeline was saved with joblib in the child, loaded back, and answered as the fitted one did
    assert row["model_file_mb"] > 0 and row["load_s"] > 0 and row["model_file_note"] is None
    assert row["model_file_inference_mb"] is None  # one form only: udt alone has an inference-only file
    assert not any("model-file" in name for name in os.listdir(tmp_path / "tmp"))  # the files are removed


def test_udt_runner_fails_gracefully_or_runs(tmp_path):
    """Until udt.Classifier lands (or while the extension is stale) the row says why; never a crash."""
    ctx = _tiny_text_task(tmp_path)
    status, payload, _ = run_in_child("benchmarks.peers.text:udt", (ctx,), timeout_s=300)
    assert status in ("ok", "unavailable", "failed")
    if status == "unavailable":
        assert "udt" in payload


def test_report_table_and_plot(tmp_path):
    from benchmarks.peers.report import task_table, write_report

    ok = Result(task="news20", dataset="20NG", system="fastText", metric_name="accuracy", metric=0.8, train_s=3.0,
                latency_ms_mean=0.2, latency_ms_p50=0.1, latency_ms_p99=0.9, peak_rss_mb=100.0,
                throughput_rows_s=5000.0, metrics={"accuracy": 0.8}, notes="lr=1").to_dict()
    bad = Result(task="news20", dataset="20NG", system="udt", metric_name="accuracy", status="unavailable",
                 error="udt.Classifier not available").to_dict()
    table = task_table([ok, bad])
    assert "| fastText | 0.8000 | 3.0 | 0.200 / 0.100 / 0.900 | 5,000 | 100 | – | – |" in table
    assert "**unavailable**: udt.Classifier not available" in table
    pytest.importorskip("matplotlib")
    import datetime as dt

    write_report(str(tmp_path / "r.md"), [ok, bad], harness.machine_description(),
                 dt.datetime.now(dt.timezone.utc), "quick")
    assert (tmp_path / "r_news20.png").stat().st_size > 1000
    assert "## news20" in (tmp_path / "r.md").read_text()


def test_table_encoder_codes_and_one_hot_rows_match_batches():
    import pandas as pd

    from benchmarks.peers.tabular import TableEncoder

    df = pd.DataFrame({"age": [20, 40, 60], "job": ["a", "b", "a"], "income": ["<=50K", ">50K", "<=50K"]})
    enc = TableEncoder().fit(df)
    np.testing.assert_allclose(enc.codes_matrix(df)[1], enc.codes_row({"age": 40, "job": "b"})[0])
    np.testing.assert_allclose(enc.onehot_matrix(df)[2], enc.onehot_row({"age": 60, "job": "a"})[0], rtol=1e-6)
    assert np.isnan(enc.codes_row({"age": 1, "job": "unseen"})[0, enc.columns.index("job")])


def test_fasttext_input_lines():
    from benchmarks.peers.common import fasttext_normalize

    assert fasttext_normalize("Hello, World!\nNew line") == "hello , world ! new line"


def test_fasttext_input_file_is_shuffled_and_labelled(tmp_path):
    from benchmarks.peers.common import write_fasttext_file

    path = tmp_path / "ft.txt"
    write_fasttext_file(str(path), [f"doc {i}" for i in range(50)], [[str(i % 2)] for i in range(50)], seed=0)
    lines = path.read_text().splitlines()
    assert len(lines) == 50 and all(line.startswith("__label__") for line in lines)
    assert [line.split()[-1] for line in lines] != [str(i) for i in range(50)]  # not in file order


def test_from_json_merges_runs_later_rows_win(tmp_path):
    from benchmarks.run import main

    run = {"started_utc": "2026-01-01T00:00:00+00:00", "mode": "full", "machine": {"loadavg": [1.0, 1.0, 1.0]}}

    def row(task, system, metric):
        return dict(Result(task=task, dataset="d", system=system, metric_name="accuracy", metric=metric,
                           train_s=1.0).to_dict(), run=run)

    (tmp_path / "a.json").write_text(json.dumps([row("adult", "LightGBM", 0.1), row("news20", "fastText", 0.5)]))
    (tmp_path / "b.json").write_text(json.dumps([row("adult", "LightGBM", 0.9)]))
    out = tmp_path / "m.json"
    assert main(["--from-json", f"{tmp_path / 'a.json'},{tmp_path / 'b.json'}", "--json", str(out)]) == 0
    merged = json.loads(out.read_text())
    assert [(r["task"], r["metric"]) for r in merged] == [("news20", 0.5), ("adult", 0.9)]  # task order, b wins


# ------------------------------------------------------------------------------ model files (save / load)

FAKE_PAYLOAD = 3 * 2**18  # bytes of the fake's weights file: 0.75 MiB


def _fake_system_class(answer_after_load=None, fail_load=False, inference=False):
    """A System whose model is one stored answer, saved in a file of a known size; counts its calls."""
    from benchmarks.peers.base import System

    class Fake(System):
        name = "fake"
        calls = {"fit": 0, "save": 0, "load": 0, "save_inference": 0}

        def fit(self, train_path):
            self.calls["fit"] += 1
            self.answer = "sport"

        def predict_batch(self, test_path):
            return ["sport"] * 40

        def predict_one(self, row):
            return self.answer

        def save(self, directory):
            self.calls["save"] += 1
            with open(os.path.join(directory, "weights.bin"), "wb") as f:
                f.write(self.answer.encode().ljust(FAKE_PAYLOAD, b"\0"))

        def load(self, directory):
            self.calls["load"] += 1
            if fail_load:
                raise OSError("truncated file\nsecond line")
            new = self.blank()
            with open(os.path.join(directory, "weights.bin"), "rb") as f:
                new.answer = answer_after_load or f.read().rstrip(b"\0").decode()
            return new

        def save_inference(self, directory):
            self.calls["save_inference"] += 1
            if not inference:
                return False
            with open(os.path.join(directory, "weights.bin"), "wb") as f:
                f.write(b"\0" * (FAKE_PAYLOAD // 3))
            return True

    return Fake


def _evaluate_fake(tmp_path, system_cls):
    from benchmarks.peers.base import evaluate_system

    ctx = _tiny_text_task(tmp_path)
    system = system_cls(ctx)
    (row,) = evaluate_system(ctx, system, truth=lambda path: np.array(["sport"] * 40),
                             score=lambda y, p: {"accuracy": accuracy(y, p)},
                             single_rows=lambda path, n: [f"text {i}" for i in range(n)], metric_name="accuracy")
    json.dumps(row)
    return row, system


def test_evaluate_system_saves_loads_and_times_the_model_file(tmp_path):
    from benchmarks.peers.base import LOAD_REPEATS

    row, system = _evaluate_fake(tmp_path, _fake_system_class(inference=True))
    assert system.calls == {"fit": 1, "save": 1, "load": LOAD_REPEATS, "save_inference": 1}
    assert row["model_file_mb"] == 0.75 and row["model_file_inference_mb"] == 0.25
    assert row["load_s"] is not None and row["load_s"] >= 0 and row["model_file_note"] is None
    assert row["metric"] == 1.0 and row["peak_rss_mb"] > 0  # the other measurements are untouched
    assert not any("model-file" in name for name in os.listdir(tmp_path / "tmp"))


def test_a_loaded_copy_that_answers_differently_is_noted(tmp_path):
    row, _ = _evaluate_fake(tmp_path, _fake_system_class(answer_after_load="tech"))
    assert row["model_file_mb"] == 0.75 and row["model_file_inference_mb"] is None
    assert row["model_file_note"] == "the loaded model answered differently on 10 of 10 rows"


def test_a_system_that_cannot_save_or_load_gets_none_and_the_reason(tmp_path):
    from benchmarks.peers.base import System

    row, _ = _evaluate_fake(tmp_path, _fake_system_class(fail_load=True))
    assert row["model_file_mb"] is None and row["load_s"] is None and row["model_file_inference_mb"] is None
    assert row["model_file_note"] == "save/load failed: OSError: truncated file"
    assert row["metric"] == 1.0  # a failed save does not fail the row

    class NoSave(_fake_system_class()):
        save = System.save
        load = System.load

    row, system = _evaluate_fake(tmp_path, NoSave)
    assert row["model_file_mb"] is None and row["load_s"] is None
    assert row["model_file_note"] == "no model file: fake: this runner has no save/load"
    assert system.calls["load"] == 0


def test_blank_copies_settings_not_fitted_state(tmp_path):
    system = _fake_system_class()(_tiny_text_task(tmp_path))
    system.fit("unused.csv")
    new = system.blank()
    assert type(new) is type(system) and new.ctx is system.ctx and new.threads == system.threads
    assert not hasattr(new, "answer")
