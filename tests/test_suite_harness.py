"""The calibration suite's arithmetic and report (benchmarks/suite.py) on synthetic rows and tiny frames.

No real data, no network; the LightGBM part skips when lightgbm is missing."""
from __future__ import annotations

import json
import math
import os
import re
import sys

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks import suite  # noqa: E402
from benchmarks.peers import suite_tasks  # noqa: E402

LAST_LINE = re.compile(r"^suite: (\d+)/(\d+) tasks at par, mean gap (-?\d+\.\d+) pt, worst gap (-?\d+\.\d+) pt$")


def row(task, metric_name, udt, peer, holdout=False):
    return suite.finish_row({"task": task, "metric_name": metric_name, "udt": udt, "peer": peer,
                             "holdout": holdout})


def test_gap_is_points_of_udt_minus_peer():
    assert suite.gap("accuracy", 0.85, 0.87) == pytest.approx(-2.0)
    assert suite.gap("precision@1", 0.40, 0.3855) == pytest.approx(1.45)
    assert suite.gap("recall@10", 0.061, 0.079) == pytest.approx(-1.8)


def test_regression_gap_is_relative_mae_and_negative_when_udt_is_worse():
    assert suite.gap("mae", 110.0, 100.0) == pytest.approx(-10.0)  # udt's MAE higher: worse, negative
    assert suite.gap("mae", 90.0, 100.0) == pytest.approx(10.0)
    assert suite.gap("mae", 100.0, 100.0) == 0.0


def test_at_par_rule():
    assert suite.at_par("accuracy", 0.860, 0.870)  # exactly 1 point behind
    assert suite.at_par("accuracy", 0.95, 0.90)  # ahead
    assert not suite.at_par("accuracy", 0.8589, 0.870)
    assert suite.at_par("mae", 105.0, 100.0)  # exactly 1.05x
    assert suite.at_par("mae", 80.0, 100.0)
    assert not suite.at_par("mae", 105.1, 100.0)


def test_failed_side_counts_in_n_but_not_in_the_gaps():
    rows = [row("a", "accuracy", 0.9, 0.9), row("b", "accuracy", None, 0.8)]
    assert rows[1]["gap"] is None and rows[1]["at_par"] is False
    assert suite.summarize(rows) == (1, 2, 0.0, 0.0)


def test_last_line_format_and_holdout_line():
    rows = [row("a", "accuracy", 0.80, 0.82), row("b", "mae", 110.0, 100.0), row("c", "accuracy", 0.9, 0.9, True),
            row("d", "precision@1", 0.5, 0.45)]
    lines = suite.summary_lines(rows)
    assert lines[-1] == "suite: 2/4 tasks at par, mean gap -1.75 pt, worst gap -10.00 pt"
    m = LAST_LINE.match(lines[-1])
    assert m and m.group(1, 2) == ("2", "4")
    assert lines[0] == "non-holdout: 1/3 tasks at par, mean gap -2.33 pt, worst gap -10.00 pt"


def test_holdout_is_three_calibration_tasks_drawn_once():
    import random

    cal = sorted(t.name for t in suite_tasks.SUITE.values() if t.calibration)
    assert len(cal) == 10 and len(suite_tasks.SUITE) == 17
    assert tuple(sorted(random.Random(13).sample(cal, 3))) == suite.HOLDOUT


def test_mae_and_p_at_1():
    assert suite_tasks.mae([1.0, 2.0, 4.0], [2.0, 2.0, 1.0]) == pytest.approx(4 / 3)
    assert suite_tasks.p_at_1([{"a", "b"}, {"c"}], [["b", "x"], ["a"]]) == 0.5


def test_report_renders_and_keeps_notes(tmp_path):
    rows = [row("spam", "accuracy", 0.94, 0.95, True), row("ames", "mae", 18000.0, 15000.0)]
    for r in rows:
        r.update(peer_name="LightGBM", load_start=1.0, load_end=1.5, udt_train_s=1.0, peer_train_s=2.0,
                 data={"n_train": 10, "n_test": 5, "columns": 3},
                 udt_result={"status": "ok", "notes": "x"}, peer_result={"status": "failed", "error": "boom"})
    doc = {"run": {"date": "2026-01-01", "commit": "abc", "holdout": list(suite.HOLDOUT)}, "tasks": rows}
    path = tmp_path / "SUITE.md"
    path.write_text("old\n## Notes\nkeep me\n")
    suite.write_report(doc, str(path))
    text = path.read_text()
    assert "**HOLDOUT**" in text and "keep me" in text and "failed: boom" in text
    assert suite.summary_line(rows) in text
    js = tmp_path / "s.json"
    suite.write_json(doc, str(js))
    assert json.loads(js.read_text())["tasks"][0]["task"] == "spam"


def _tiny_table(tmp_path, regression: bool):
    rng = np.random.default_rng(0)
    n = 120
    x = rng.normal(size=n)
    df = pd.DataFrame({"x": x, "c": np.where(x > 0, "hi", "lo"),
                       "y": x * 3 + 1 if regression else np.where(x > 0, "pos", "neg")})
    df.iloc[:90].to_csv(tmp_path / "train.csv", index=False)
    df.iloc[90:].to_csv(tmp_path / "test.csv", index=False)
    return str(tmp_path / "train.csv"), str(tmp_path / "test.csv")


@pytest.mark.parametrize("regression", [False, True])
def test_lightgbm_default_peer_on_a_tiny_frame(tmp_path, regression):
    pytest.importorskip("lightgbm")
    train, test = _tiny_table(tmp_path, regression)
    peer = suite_tasks.LightGBMDefault({"threads": 1}, "y", regression)
    peer.fit(train)
    pred = peer.predict_batch(test)
    assert len(pred) == 30
    if not regression:
        assert set(pred) <= {"pos", "neg"}
        assert math.isfinite(suite_tasks.SUITE["spam"].score(np.array(["pos"] * 30), pred))
