"""`udt serve`: a saved model behind a small JSON-over-HTTP endpoint (standard library only).

  udt serve adult.udt --port 8080
  curl -s localhost:8080/predict -d '{"rows": [{"age": 39, "occupation": "Adm-clerical"}], "top_k": 2}'

Endpoints:
  GET  /health    {"status": "ok", "model": path, "task": ..., "classes": n}
  POST /predict   body {"rows": [row, ...]} or {"row": row}, where a row maps column names to values; optional
                  "top_k" (classifiers: the k best labels with scores, best first) and "sparse_inference".
                  Answers {"predictions": [...]} (one entry per row) or, for "row", {"prediction": ...}.

Requests are served on threads and share one model (predict is thread-safe). A bad request (invalid JSON, an
unknown column, a value of the wrong type, ...) gets status 400 and {"error": "..."} naming the row and what was
wrong; the server keeps running.
"""
from __future__ import annotations

import json
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np

MAX_BODY_BYTES = 64 << 20


class RequestError(ValueError):
    """A client mistake: answered with 400 and the message."""


def _jsonable(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return [_jsonable(v) for v in value.tolist()]
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


class ModelService:
    """Turns request bodies into predictions of one loaded model."""

    def __init__(self, model, path: str):
        from .classifier import Classifier
        self.model = model
        self.path = path
        self.is_classifier = isinstance(model, Classifier)

    def health(self) -> dict:
        info = {"status": "ok", "model": self.path, "task": "classification" if self.is_classifier else "regression"}
        if self.is_classifier:
            info["classes"] = int(len(self.model.classes_))
        return info

    def predict(self, body: dict) -> dict:
        if not isinstance(body, dict):
            raise RequestError("the request body must be a JSON object with 'rows' (a list of objects) or 'row'")
        unknown = set(body) - {"rows", "row", "top_k", "sparse_inference"}
        if unknown:
            raise RequestError(f"unknown key(s) {', '.join(sorted(unknown))}; valid keys: rows, row, top_k, "
                               f"sparse_inference")
        if ("rows" in body) == ("row" in body):
            raise RequestError("give exactly one of 'rows' (a list of objects) or 'row' (one object)")
        single = "row" in body
        rows = [body["row"]] if single else body["rows"]
        if not isinstance(rows, list):
            raise RequestError("'rows' must be a list of objects")
        top_k = body.get("top_k")
        if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1):
            raise RequestError(f"'top_k' must be a positive integer, got {top_k!r}")
        if top_k is not None and not self.is_classifier:
            raise RequestError("'top_k' applies to classifiers only")
        sparse = body.get("sparse_inference")
        if sparse is not None and not isinstance(sparse, bool):
            raise RequestError(f"'sparse_inference' must be true or false, got {sparse!r}")
        out = []
        for i, row in enumerate(rows):
            if not isinstance(row, dict):
                raise RequestError(f"row {i}: expected an object of column values, got {type(row).__name__}")
            try:
                out.append(self._predict_row(row, top_k, sparse))
            except (ValueError, TypeError, KeyError) as exc:
                raise RequestError(f"row {i}: {exc}") from None
        return {"prediction": out[0]} if single else {"predictions": out}

    def _predict_row(self, row: dict, top_k, sparse):
        if not self.is_classifier:
            return _jsonable(self.model.predict(row))
        if top_k is None:
            return _jsonable(self.model.predict(row, sparse_inference=sparse))
        labels, scores = self.model.predict_proba(row, top_k=top_k, sparse_inference=sparse)
        return [{"label": _jsonable(lab), "score": float(s)} for lab, s in zip(labels[0], scores[0])]


def make_server(service: ModelService, host: str = "127.0.0.1", port: int = 8080) -> ThreadingHTTPServer:
    """A threading HTTP server bound to (host, port) (port 0: any free port); call serve_forever()."""

    class Handler(BaseHTTPRequestHandler):
        server_version = "udt-serve"

        def log_message(self, format, *args):  # noqa: A002 - quiet by default: one line per request is noise
            pass

        def _send(self, status: HTTPStatus, payload: dict):
            data = json.dumps(payload).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):  # noqa: N802 - the http.server API
            if self.path.rstrip("/") == "/health":
                self._send(HTTPStatus.OK, service.health())
            else:
                self._send(HTTPStatus.NOT_FOUND, {"error": f"no such endpoint: GET {self.path}; try /health"})

        def do_POST(self):  # noqa: N802
            if self.path.rstrip("/") != "/predict":
                self._send(HTTPStatus.NOT_FOUND, {"error": f"no such endpoint: POST {self.path}; try /predict"})
                return
            try:
                length = int(self.headers.get("Content-Length") or 0)
                if length > MAX_BODY_BYTES:
                    raise RequestError(f"request body of {length} bytes is over the {MAX_BODY_BYTES}-byte limit")
                try:
                    body = json.loads(self.rfile.read(length) or b"null")
                except ValueError as exc:
                    raise RequestError(f"the request body is not valid JSON: {exc}") from None
                self._send(HTTPStatus.OK, service.predict(body))
            except RequestError as exc:
                self._send(HTTPStatus.BAD_REQUEST, {"error": str(exc)})
            except Exception as exc:  # noqa: BLE001 - a server bug must answer, not hang the client
                self._send(HTTPStatus.INTERNAL_SERVER_ERROR, {"error": f"{type(exc).__name__}: {exc}"})

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    return server


def serve(model_path: str, host: str = "127.0.0.1", port: int = 8080, ready: threading.Event | None = None) -> None:
    """Loads the model and serves it until interrupted."""
    from .classifier import load
    service = ModelService(load(model_path), model_path)
    server = make_server(service, host, port)
    print(f"udt serve: {model_path} on http://{server.server_address[0]}:{server.server_address[1]} "
          f"(POST /predict, GET /health)", flush=True)
    if ready is not None:
        ready.set()
    try:
        server.serve_forever()
    finally:
        server.server_close()
