"""The `udt` command line: train -> evaluate -> predict, column declarations, config files, errors."""
import json

import pandas as pd
import pytest

from udt.interfaces.cli import build_column, main, parse_column_arg
from classifier_data import regression_table, text_table

SMALL_FLAGS = ["--input-dim", "20000", "--hidden-dim", "32", "--epochs", "4", "--batch-size", "64",
               "--learning-rate", "0.005"]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli")
    table = text_table()
    table.iloc[:600].to_csv(d / "train.csv", index=False)
    table.iloc[600:].to_csv(d / "test.csv", index=False)
    table.iloc[600:].drop(columns="topic").to_csv(d / "unlabeled.csv", index=False)
    return d


@pytest.fixture(scope="module")
def trained(files):
    model = files / "topic.udt"
    code = main(["train", str(files / "train.csv"), "--model", str(model), "--target", "topic",
                 "--column", "text:text", "--column", "price:numeric", "--column", "shop:categorical",
                 "--column", "topic:categorical", "--no-progress", *SMALL_FLAGS])
    assert code == 0 and model.exists()
    return model


def test_train_evaluate_predict(files, trained, capsys):
    capsys.readouterr()
    assert main(["evaluate", str(trained), str(files / "test.csv"), "--metrics", "accuracy,recall@2"]) == 0
    scores = json.loads(capsys.readouterr().out)
    assert scores["accuracy"] > 0.95 and scores["recall@2"] >= scores["accuracy"]
    out = files / "pred.csv"
    assert main(["predict", str(trained), str(files / "unlabeled.csv"), "--output", str(out)]) == 0
    pred = pd.read_csv(out)
    truth = pd.read_csv(files / "test.csv")["topic"]
    assert list(pred.columns) == ["prediction"] and (pred["prediction"] == truth).mean() > 0.95


def test_predict_top_k_and_proba(files, trained, capsys):
    capsys.readouterr()
    assert main(["predict", str(trained), str(files / "unlabeled.csv"), "--top-k", "2", "--proba"]) == 0
    from io import StringIO
    frame = pd.read_csv(StringIO(capsys.readouterr().out))
    assert list(frame.columns) == ["label_1", "label_2", "score_1", "score_2"]
    assert (frame["score_1"] >= frame["score_2"]).all()
    assert main(["predict", str(trained), str(files / "unlabeled.csv"), "--proba"]) == 0
    proba = pd.read_csv(StringIO(capsys.readouterr().out))
    assert list(proba.columns) == ["food", "sports", "tech"]


def test_columns_from_json_and_toml_files(files, tmp_path, capsys):
    config = {"target": "topic", "columns": {"text": "text", "price": {"type": "numeric", "bins": [4, 16]},
                                             "shop": "categorical", "topic": "categorical"},
              "options": {"hidden_dim": 16}}
    (tmp_path / "cols.json").write_text(json.dumps(config))
    (tmp_path / "cols.toml").write_text(
        'target = "topic"\n[columns]\ntext = "text"\nshop = "categorical"\ntopic = "categorical"\n'
        'price = { type = "numeric", bins = [4, 16] }\n[options]\nhidden_dim = 16\n')
    import importlib.util
    names = ["cols.json"] + (["cols.toml"] if importlib.util.find_spec("tomllib") else [])  # TOML: Python 3.11+
    for name in names:
        model = tmp_path / f"{name}.udt"
        assert main(["train", str(files / "train.csv"), "--columns", str(tmp_path / name), "--model", str(model),
                     "--no-progress", "--epochs", "3", "--input-dim", "20000", "--batch-size", "64"]) == 0
        from udt.interfaces.classifier import load
        loaded = load(model)
        assert loaded.hidden_dim == 16 and loaded.columns["price"].bins == [4, 16]


def test_regression_task(tmp_path, capsys):
    regression_table(600).to_csv(tmp_path / "r.csv", index=False)
    assert main(["train", str(tmp_path / "r.csv"), "--task", "regression", "--target", "y", "--model",
                 str(tmp_path / "r.udt"), "--column", "x1:numeric", "--column", "x2:numeric",
                 "--column", "color:categorical", "--column", "y:numeric", "--no-progress", "--epochs", "10",
                 "--input-dim", "5000", "--batch-size", "64"]) == 0
    capsys.readouterr()
    assert main(["evaluate", str(tmp_path / "r.udt"), str(tmp_path / "r.csv"), "--metrics", "r2,mae"]) == 0
    assert json.loads(capsys.readouterr().out)["r2"] > 0.8


def test_column_argument_parsing():
    assert parse_column_arg("tags:categorical:delimiter=;") == ("tags", {"type": "categorical", "delimiter": ";"})
    assert parse_column_arg("t:Text:ngrams=1,lowercase=false") == ("t", {"type": "Text", "ngrams": 1,
                                                                          "lowercase": False})
    assert build_column("tags", {"type": "categorical", "delimiter": ";"}).delimiter == ";"
    with pytest.raises(ValueError, match="valid types: categorical, date, neighbors, nodeid, numeric, sequence, "
                                         "text"):
        build_column("x", "texte")
    with pytest.raises(ValueError, match="name:type"):
        parse_column_arg("justaname")


@pytest.mark.parametrize("argv, message", [
    (["train", "missing.csv", "--model", "m.udt", "--target", "y", "--column", "y:categorical"], "no such file"),
    (["train", "x.csv", "--model", "m.udt", "--column", "y:categorical"], "no target"),
    (["train", "x.csv", "--model", "m.udt", "--target", "y"], "no columns declared"),
    (["train", "x.csv", "--model", "m.udt", "--target", "y", "--column", "y:categorical", "--hidden-dim", "0"],
     "invalid hidden_dim=0"),
    (["evaluate", "not-a-model.udt", "x.csv"], "No such file|no such file"),
])
def test_errors_exit_2_with_one_line(argv, message, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "x.csv").write_text("y\na\nb\n")
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("udt ") and "error" in err and len(err.splitlines()) == 1
    import re
    assert re.search(message, err)


def test_unknown_config_key(tmp_path, capsys):
    (tmp_path / "c.json").write_text(json.dumps({"target": "y", "colums": {}}))
    (tmp_path / "x.csv").write_text("y\na\n")
    assert main(["train", str(tmp_path / "x.csv"), "--columns", str(tmp_path / "c.json"), "--model",
                 str(tmp_path / "m.udt")]) == 2
    assert "unknown key(s) colums; valid keys: target, task, columns, options" in capsys.readouterr().err


def test_explain_prints_one_json_line_per_row(files, trained, capsys):
    capsys.readouterr()
    assert main(["explain", str(trained), str(files / "unlabeled.csv"), "--top", "3"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(lines) == 300 and all(len(r["explanations"]) == 3 for r in lines)
    top = lines[0]["explanations"][0]
    assert set(top) == {"column", "token", "score"} and top["score"] >= lines[0]["explanations"][1]["score"]


def test_predict_into_a_closed_pipe_is_not_an_error(trained, files, tmp_path):
    """`udt predict ... | head -1` used to print '[Errno 32] Broken pipe' and exit 2."""
    import subprocess
    import sys
    many = tmp_path / "many.csv"   # 30,000 predictions: more than a pipe's buffer holds
    text_table(30_000).drop(columns="topic").to_csv(many, index=False)
    command = f"{sys.executable} -m udt.interfaces.cli predict {trained} {many} | head -1"
    done = subprocess.run(["bash", "-c", f"set -o pipefail; {command}"], capture_output=True, text=True, timeout=120)
    assert done.stderr == "" and done.stdout.count("\n") == 1


def test_train_reports_the_scores_of_the_epoch_it_keeps(files, tmp_path, capsys, monkeypatch):
    """Early stopping restores the best epoch; the JSON line reports that epoch, not the last one."""
    from udt.interfaces.classifier import Classifier
    history = [{"epoch": 1, "loss": 0.9, "val_accuracy": 0.70, "best": True},
               {"epoch": 2, "loss": 0.5, "val_accuracy": 0.80, "best": True},
               {"epoch": 3, "loss": 0.4, "val_accuracy": 0.75}]
    real_fit = Classifier.fit

    def fit_then_replace_history(self, *args, **kwargs):
        real_fit(self, *args, **kwargs)
        self.model_.history[:] = history
        return self
    monkeypatch.setattr(Classifier, "fit", fit_then_replace_history)
    capsys.readouterr()
    assert main(["train", str(files / "train.csv"), "--model", str(tmp_path / "m.udt"), "--target", "topic",
                 "--column", "text:text", "--column", "topic:categorical", "--no-progress", *SMALL_FLAGS]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["kept_epoch"] == 2 and report["val_accuracy"] == 0.80 and report["epochs"] == 3


def test_train_takes_sample_weights_class_weights_and_a_validation_fraction(files, tmp_path, capsys):
    table = pd.read_csv(files / "train.csv").assign(w=1.0)
    table.to_csv(tmp_path / "weighted.csv", index=False)
    capsys.readouterr()
    assert main(["train", str(tmp_path / "weighted.csv"), "--model", str(tmp_path / "w.udt"), "--target", "topic",
                 "--column", "text:text", "--column", "topic:categorical", "--sample-weight", "w",
                 "--class-weight", "balanced", "--validation", "0.2", "--no-progress", *SMALL_FLAGS]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["val_accuracy"] > 0.9
    from udt.interfaces.classifier import load
    model = load(tmp_path / "w.udt")
    assert model.class_weight == "balanced" and model.model_.n_train_rows == 480
