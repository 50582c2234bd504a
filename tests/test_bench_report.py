"""The benchmark report's model-file columns ("file MB", "load s"): rendered from results with the keys, and from
older JSONs without them (shown as "–"), through run.py's --from-json path. Peer-free; plots are stubbed out so
that the markdown is tested without matplotlib."""
from __future__ import annotations

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks.peers import report  # noqa: E402
from benchmarks.peers.harness import Result  # noqa: E402

RUN = {"started_utc": "2026-12-04T12:00:00+00:00", "mode": "quick",
       "machine": {"loadavg": [1.0, 1.0, 1.0], "loadavg_end": [2.0, 2.0, 2.0], "threads_per_system": 2}}


def _row(system, metric=0.87, **model_file):
    return Result(task="adult", dataset="UCI Adult", system=system, metric_name="accuracy", metric=metric,
                  train_s=2.0, latency_ms_mean=0.01, latency_ms_p50=0.006, latency_ms_p99=0.02, peak_rss_mb=500.0,
                  throughput_rows_s=1e5, metrics={"accuracy": metric}, **model_file).to_dict()


def _old_row(system):
    """A row as a JSON written before the model-file keys existed."""
    row = _row(system, 0.8724)
    for key in ("model_file_mb", "load_s", "model_file_inference_mb", "model_file_note"):
        del row[key]
    return row


def test_task_table_shows_file_size_and_load_time():
    udt = _row("udt", model_file_mb=293.8, load_s=0.95, model_file_inference_mb=97.7)
    lgbm = _row("LightGBM", 0.8724, model_file_mb=2.4671, load_s=0.0123)
    missing = _row("ALS", model_file_note="save/load failed: OSError: disk full")
    failed = Result(task="adult", dataset="UCI Adult", system="PyTorch", metric_name="accuracy", status="timeout",
                    error="no answer within 300 s").to_dict()
    table = report.task_table([udt, lgbm, missing, failed])
    head, rule, *body = table.splitlines()
    assert head.endswith("| batch rows/s | peak RSS MB | file MB | load s |")
    assert rule.count("---|") == head.count("|") - 1
    assert "| 100,000 | 500 | 293.8 (inference 97.7) | 0.950 |" in body[0]
    assert body[1].endswith("| 500 | 2.47 | 0.0123 |")
    assert body[2].endswith("| 500 | – | – |")
    assert body[3].count("–") == len(head.split("|")) - 4 and "**timeout**: no answer within 300 s" in body[3]
    assert "- **ALS**: model file: save/load failed: OSError: disk full" in table


def test_task_table_from_rows_without_the_keys():
    table = report.task_table([_old_row("LightGBM"), _row("udt", model_file_mb=12.25, load_s=0.2)])
    lines = table.splitlines()
    assert "| file MB | load s |" in lines[0]
    assert lines[2].endswith("| 100,000 | 500 | – | – |")
    assert lines[3].endswith("| 100,000 | 500 | 12.2 | 0.200 |")  # ",.1f" from 10 up, else 3 digits


def test_from_json_renders_old_and_new_results(tmp_path, monkeypatch):
    from benchmarks.run import main

    monkeypatch.setattr(report, "plot_task", lambda rows, path: False)
    old, new = tmp_path / "old.json", tmp_path / "new.json"
    old.write_text(json.dumps([dict(_old_row("LightGBM"), run=RUN), dict(_old_row("udt"), run=RUN)]))
    new.write_text(json.dumps([dict(_row("udt", model_file_mb=0.5, load_s=0.03, model_file_inference_mb=0.25),
                                    run=RUN)]))

    assert main(["--from-json", str(old), "--report", str(tmp_path / "old.md")]) == 0
    text = (tmp_path / "old.md").read_text()
    assert "file MB = the saved model a user would deploy" in text
    udt_line = next(line for line in text.splitlines() if line.startswith("| udt |"))
    assert udt_line.endswith("| 500 | – | – |")

    assert main(["--from-json", f"{old},{new}", "--report", str(tmp_path / "merged.md"),
                 "--json", str(tmp_path / "merged.json")]) == 0
    lines = (tmp_path / "merged.md").read_text().splitlines()
    assert next(x for x in lines if x.startswith("| udt |")).endswith("| 0.500 (inference 0.250) | 0.0300 |")
    assert next(x for x in lines if x.startswith("| LightGBM |")).endswith("| – | – |")
    merged = {r["system"]: r for r in json.loads((tmp_path / "merged.json").read_text())}
    assert merged["udt"]["model_file_mb"] == 0.5 and "model_file_mb" not in merged["LightGBM"]
