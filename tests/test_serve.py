"""`udt serve`: predictions over HTTP from a saved model, concurrent requests, and clear 400s for bad input."""
import json
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pandas as pd
import pytest

from udt.interfaces.classifier import Classifier, load
from udt.columns import Categorical, Numeric, Text
from udt.interfaces.serve import ModelService, make_server
from classifier_data import text_table

ROOT_DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    table = text_table()
    model = Classifier({"text": Text(), "price": Numeric(), "shop": Categorical(), "topic": Categorical()},
                       "topic", input_dim=20000, hidden_dim=32, epochs=4, batch_size=64, learning_rate=0.005)
    model.fit(table.iloc[:600], progress=False)
    path = tmp_path_factory.mktemp("serve") / "topic.udt"
    model.save(path)
    loaded = load(path)
    server = make_server(ModelService(loaded, str(path)), port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    yield url, loaded, table.iloc[600:]
    server.shutdown()
    server.server_close()


def _call(url, path, body=None):
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    req = urllib.request.Request(url + path, data=data, method="POST" if data is not None else "GET")
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def _rows(test: pd.DataFrame, n: int) -> list[dict]:
    return [{k: (v.item() if hasattr(v, "item") else v) for k, v in r.items()}
            for r in test.drop(columns="topic").iloc[:n].to_dict("records")]


def test_health(served):
    url, model, _ = served
    status, body = _call(url, "/health")
    assert status == 200 and body["status"] == "ok" and body["classes"] == len(model.classes_)


def test_predictions_equal_the_python_api(served):
    url, model, test = served
    rows = _rows(test, 20)
    status, body = _call(url, "/predict", {"rows": rows})
    assert status == 200
    assert body["predictions"] == [model.predict(r) for r in rows]
    status, body = _call(url, "/predict", {"row": rows[0], "top_k": 2})
    labels, scores = model.predict_proba(rows[0], top_k=2)
    assert status == 200 and [p["label"] for p in body["prediction"]] == list(labels[0])
    assert body["prediction"][0]["score"] == pytest.approx(float(scores[0][0]))


def test_concurrent_requests(served):
    url, model, test = served
    rows = _rows(test, 40)
    expected = [model.predict(r) for r in rows]
    results = [None] * 8

    def client(i):
        results[i] = _call(url, "/predict", {"rows": rows})

    threads = [threading.Thread(target=client, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(r == (200, {"predictions": expected}) for r in results)


@pytest.mark.parametrize("body, message", [
    (b"{not json", "not valid JSON"),
    ({"rows": [{"text": "a"}], "row": {"text": "a"}}, "exactly one of"),
    ({"rows": "abc"}, "'rows' must be a list"),
    ({"rows": [1]}, "row 0: expected an object"),
    ({"rows": [{"text": "ok"}, {"colour": "red"}]}, "row 1:"),
    ({"row": {"text": "a"}, "top_k": 0}, "'top_k' must be a positive integer"),
    ({"row": {"text": "a"}, "limit": 3}, "unknown key(s) limit"),
])
def test_bad_requests_get_400_with_the_reason(served, body, message):
    url, _, _ = served
    status, answer = _call(url, "/predict", body)
    assert status == 400 and message in answer["error"]
    assert _call(url, "/health")[0] == 200  # still serving


def test_unknown_endpoint_is_404(served):
    url, _, _ = served
    assert _call(url, "/nope")[0] == 404
    assert _call(url, "/nope", {"row": {}})[0] == 404


def test_the_module_docstring_example_answers(tmp_path):
    """`{"rows": [{"age": 39, "occupation": "Adm-clerical"}], "top_k": 2}` from udt.interfaces.serve's docstring: a partial row
    with top_k gets the two labels with scores, best first (issue 15: it answered 400)."""
    from classifier_data import adult_columns
    data = pd.read_csv(ROOT_DATA / "adult_sample.csv").drop(columns="split")
    model = Classifier(adult_columns(), "income", input_dim=20000, hidden_dim=32, epochs=2, batch_size=64)
    model.fit(data, progress=False)
    server = make_server(ModelService(model, tmp_path / "adult.udt"), port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        status, body = _call(url, "/predict", {"rows": [{"age": 39, "occupation": "Adm-clerical"}], "top_k": 2})
        assert status == 200 and len(body["predictions"]) == 1
        answer = body["predictions"][0]
        assert sorted(p["label"] for p in answer) == sorted(model.classes_)
        assert answer[0]["score"] >= answer[1]["score"]
        assert _call(url, "/health")[1]["model"] == "adult.udt"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_explain_endpoint_matches_the_python_api(served):
    url, model, test = served
    rows = _rows(test, 3)
    status, body = _call(url, "/explain", {"rows": rows, "top": 2})
    assert status == 200 and len(body["explanations"]) == 3
    expected = [r.as_dict() for r in model.explain(rows, top=2)]
    for got, want in zip(body["explanations"], expected):
        assert got["target_class"] == want["target_class"]
        assert [(e["column"], e["token"]) for e in got["explanations"]] == \
               [(e["column"], e["token"]) for e in want["explanations"]]
    status, one = _call(url, "/explain", {"row": {"text": "goal team"}, "level": "column"})
    assert status == 200 and one["explanation"]["explanations"][0]["column"] == "text"
    for bad, message in [({"rows": rows, "top": 0}, "'top'"), ({"row": 3}, "expected an object"), ({"rows": rows, "k": 1}, "k"),
                         ({"row": {"text": "x"}, "level": "word"}, "level")]:
        status, answer = _call(url, "/explain", bad)
        assert status == 400 and message in answer["error"], (bad, answer)
