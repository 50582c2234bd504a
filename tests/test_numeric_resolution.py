"""Numeric columns at the default bins get resolutions the training rows can fill (udt.selection.numeric_resolution)."""
import numpy as np
import pandas as pd

import udt.columns as col
from udt.interfaces.classifier import Classifier, Regressor, load
from udt.selection import numeric_resolution as nr


def test_resolutions_are_capped_by_rows_per_bin():
    default = list(nr.DEFAULT_RESOLUTIONS)
    assert default == [8, 32, 128]
    assert nr.resolutions(default, 2_315) == [8, 16]         # Ames: 145 rows per bin at 16, 72 at 32
    assert nr.resolutions(default, 12_800) == default        # 100 rows per bin at 128
    assert nr.resolutions(default, 12_799) == [8, 32, 64]
    assert nr.resolutions(default, 700) == [4]               # 8 bins would hold 87 rows each
    assert nr.resolutions(default, 10) == [2]
    assert nr.resolutions([4, 64], 500) == [4, 64]           # declared otherwise: kept
    assert nr.rows_needed() == 12_800


def table(n, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 1, n)
    return pd.DataFrame({"x": x, "z": rng.normal(size=n), "y": 5 * x + rng.normal(0, 0.1, n)})


def test_fit_bins_a_small_table_coarsely_and_the_model_file_keeps_it(tmp_path, capsys):
    columns = {"x": col.Numeric(), "z": col.Numeric(bins=(4, 256)), "y": col.Numeric()}
    model = Regressor(columns=columns, target="y", epochs=2).fit(table(1_000), progress=False)
    specs = model.model_.featurizer.columns
    assert specs["x"].resolutions == [8]                     # 125 rows per bin
    assert specs["z"].resolutions == [4, 256]                # declared: kept
    assert columns["x"].resolutions == [8, 32, 128]          # the user's spec is not modified
    assert "numeric_resolution" in model.plan_.reasons["numeric_bins"]
    model.summary()
    assert "(x) [8, 32, 128] -> [8]" in capsys.readouterr().out
    model.save(tmp_path / "m.udt")
    loaded = load(tmp_path / "m.udt")
    assert loaded.model_.featurizer.columns["x"].resolutions == [8]
    assert np.array_equal(loaded.predict(table(50, seed=1)), model.predict(table(50, seed=1)))


def test_a_large_table_keeps_the_default_bins(tmp_path):
    data = table(13_000)
    data["label"] = np.where(data["x"] > 0.5, "hi", "lo")
    columns = {"x": col.Numeric(), "z": col.Numeric(), "label": col.Categorical()}
    path = tmp_path / "t.csv"
    data.drop(columns="y").to_csv(path, index=False)           # a file: rows counted from its batches
    model = Classifier(columns=columns, target="label", epochs=1, time_budget=0).fit(str(path), progress=False)
    assert model.model_.featurizer.columns["x"].resolutions == [8, 32, 128]
    assert "numeric_bins" not in model.plan_.reasons


def test_the_rule_changes_only_the_bins():
    columns = {"x": col.Numeric(interpolate=False, scale="linear"), "y": col.Numeric()}
    fitted, changed = nr.fitted_columns(columns, "y", 1_000)
    assert fitted["x"] == col.Numeric(bins=(8,), interpolate=False, scale="linear") and "x" in changed
