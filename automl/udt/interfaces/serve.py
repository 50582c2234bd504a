"""`udt serve`: a saved model behind a small JSON-over-HTTP endpoint (standard library only).

  udt serve adult.udt --port 8080
  curl -s localhost:8080/predict -d '{"rows": [{"age": 39, "occupation": "Adm-clerical"}], "top_k": 2}'

Endpoints:
  GET  /health    {"status": "ok", "model": file name, "task": ..., "classes": n}; "model" is the model file's
                  name without its directory (no filesystem path is ever sent).
  POST /predict   body {"rows": [row, ...]} or {"row": row}, where a row maps column names to values; optional
                  "top_k" (classifiers: the k best labels with scores, best first) and "sparse_inference".
                  Answers {"predictions": [...]} (one entry per row) or, for "row", {"prediction": ...}. A
                  prediction that is not a finite number is sent as null (JSON has no NaN).
  POST /explain   body {"rows": [...]} or {"row": row}; optional "top", "target_class", "level" ("token" or
                  "column") and "columns" (udt.interfaces.explain). Answers {"explanations": [...]} or {"explanation": ...},
                  each {"target_class", "value", "explanations": [{"column", "token", "score"}, ...]}.

Every client mistake gets a 4xx status and {"error": "..."} saying what was wrong, and the server keeps running:
400 for invalid JSON (NaN and Infinity included: they are not JSON), an unknown key or column, a value of the wrong
type (naming the row); 411 without a Content-Length; 400 for a Content-Length that is not a whole number; 413 for a
body over `max_body_bytes` or more than `max_rows` rows (the message names the limit); 404 / 405 for an unknown
endpoint or method; 408 for a request that does not arrive in time; 431 for an oversized request head; 503 (with
Retry-After) when the server already holds its limit of admitted requests. 500 means a bug in udt.

How it holds up under load and hostile clients. One asyncio event loop owns every connection: it reads each request
completely (head, then body, each under a deadline) before any thread sees it, and only then hands the JSON parsing
and the prediction to a bounded pool of worker threads (`threads`). An idle or slow (slow-loris) connection therefore
costs a socket and a coroutine, not a thread: with 1,000 of them open, /health answers in under a millisecond
(benchmarks/serve_load.py; numbers in benchmarks/README.md). The Content-Length is checked before any body byte is
read, so an oversized or malformed one is refused at once, and a client sending `Expect: 100-continue` (curl does
for large bodies) never sends a refused body. Requests admitted but not yet answered are bounded in number and
in body bytes, and bodies over LARGE_BODY_BYTES are parsed one at a time (parsed JSON can take ~25 times the
memory of its text), so memory stays bounded however many clients push at once; past the limits, 503. At
`max_connections`, the connection that has waited longest for its next request is closed to make room. The listen
backlog is `backlog` (the kernel caps it at net.core.somaxconn), so a burst of connections queues instead of being
reset. HTTP/1.1 keep-alive is supported; a connection idle for `idle_timeout` seconds is closed.

Requests share one model (predict is thread-safe).
"""
from __future__ import annotations

import asyncio
import collections
import json
import math
import os
import re
import sys
import threading
import traceback
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from email.utils import formatdate
from http import HTTPStatus
from urllib.parse import urlsplit

import numpy as np

MAX_BODY_BYTES = 64 << 20
MAX_ROWS = 10_000
# Parsed JSON takes up to ~25x its text (64 MB of `{},` parse to 1.5 GB; 60 MB of typical rows to 340 MB, measured
# with CPython 3.11's json), and the row limit can only be checked after parsing. So bodies larger than this are
# parsed and predicted one at a time: the worst case is one large body's objects plus the small ones in flight.
LARGE_BODY_BYTES = 1 << 20


@dataclass(frozen=True)
class Limits:
    """What one server accepts. Every limit is enforced before the work it protects is done."""

    max_body_bytes: int = MAX_BODY_BYTES  # a larger Content-Length gets 413 before a byte of the body is read
    threads: int = 0                      # worker threads for parsing + predicting; 0: the number of CPUs (at least 2)
    max_queued: int = 256                 # requests admitted (being read, waiting for or holding a worker); 503 beyond
    max_queued_bytes: int = 256 << 20     # their body bytes together; 503 beyond (a single request is always admitted)
    max_connections: int = 10_000         # open connections (also kept under the open-file limit)
    backlog: int = 1024                   # listen backlog: connections the kernel queues before accept
    idle_timeout: float = 15.0            # seconds a connection may wait before the first byte of a request
    request_timeout: float = 30.0         # seconds from a request's first byte to its last (head and body), and to
    #                                       write the answer; a slower request gets 408 and its connection is closed
    max_head_bytes: int = 32 << 10        # request line + headers; 431 beyond
    max_headers: int = 100                # header lines; 431 beyond

    def __post_init__(self):
        for name, value in vars(self).items():
            if name.endswith("_timeout"):
                valid, expected = isinstance(value, (int, float)) and value > 0, "seconds > 0"
            else:
                least = 0 if name == "threads" else 1
                valid, expected = isinstance(value, int) and value >= least, f"an integer >= {least}"
            if not valid or isinstance(value, bool):
                raise ValueError(f"server limit {name}={value!r}: expected {expected}")

    def worker_threads(self) -> int:
        return self.threads if self.threads > 0 else max(2, os.cpu_count() or 1)

    def connection_limit(self) -> int:
        try:
            import resource
            soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        except (ImportError, OSError, ValueError):  # not on this platform
            return self.max_connections
        if soft == resource.RLIM_INFINITY:
            return self.max_connections
        return max(16, min(self.max_connections, soft - 64))  # keep descriptors for the model, workers, logs


class RequestError(ValueError):
    """A client mistake: answered with `status` (400 unless said otherwise) and the message."""

    def __init__(self, message: str, status: HTTPStatus = HTTPStatus.BAD_REQUEST):
        super().__init__(message)
        self.status = HTTPStatus(status)


# Exceptions a model raises for a bad value in a row: the client's mistake, answered 400 naming the row.
_ROW_ERRORS = (ValueError, TypeError, KeyError, OverflowError, RecursionError)


def _jsonable(value):
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, np.ndarray):
        return [_jsonable(v) for v in value.tolist()]
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def _refuse_constant(name: str):
    raise RequestError(f"the request body is not valid JSON: {name} is not a JSON value (JSON has no NaN or "
                       f"Infinity; send null for a missing value)")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise RequestError(f"the request body is not valid JSON: the number {text[:40]} is beyond the range of a "
                           f"double")
    return value


def parse_json(body: bytes):
    """The request body as JSON, strictly: NaN, Infinity and numbers that overflow a double are refused."""
    try:
        return json.loads(body or b"null", parse_constant=_refuse_constant, parse_float=_finite_float)
    except RequestError:
        raise
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError, int too long; deep nesting
        if isinstance(exc, RecursionError):
            exc = "nested too deeply"
        raise RequestError(f"the request body is not valid JSON: {exc}") from None


class ModelService:
    """Turns request bodies into predictions of one loaded model; `max_rows` bounds the rows of one request (413
    beyond), and with it the time one request holds a worker thread."""

    def __init__(self, model, path: str | os.PathLike | None = None, *, max_rows: int = MAX_ROWS):
        from udt.interfaces.classifier import Classifier
        self.model = model
        self.name = os.path.basename(os.fspath(path)) if path is not None else None
        if isinstance(max_rows, bool) or not isinstance(max_rows, int) or max_rows < 1:
            raise ValueError(f"max_rows={max_rows!r}: expected an integer >= 1")
        self.max_rows = max_rows
        self.is_classifier = isinstance(model, Classifier)

    def health(self) -> dict:
        info = {"status": "ok", "model": self.name, "task": "classification" if self.is_classifier else "regression"}
        if self.is_classifier:
            info["classes"] = int(len(self.model.classes_))
        return info

    def _rows(self, body, options: tuple) -> tuple[list, bool]:
        """(rows, whether the body gave one "row") of a request body with "rows" or "row" and `options`."""
        if not isinstance(body, dict):
            raise RequestError("the request body must be a JSON object with 'rows' (a list of objects) or 'row'")
        unknown = set(body) - {"rows", "row", *options}
        if unknown:
            raise RequestError(f"unknown key(s) {', '.join(sorted(unknown))}; valid keys: rows, row, "
                               f"{', '.join(options)}")
        if ("rows" in body) == ("row" in body):
            raise RequestError("give exactly one of 'rows' (a list of objects) or 'row' (one object)")
        single = "row" in body
        rows = [body["row"]] if single else body["rows"]
        if not isinstance(rows, list):
            raise RequestError("'rows' must be a list of objects")
        if len(rows) > self.max_rows:
            raise RequestError(f"{len(rows)} rows in one request is over the limit of {self.max_rows} rows per "
                               f"request; split it into smaller requests", HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
        return rows, single

    @staticmethod
    def _positive(body, key):
        value = body.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise RequestError(f"'{key}' must be a positive integer, got {value!r}")
        return value

    def predict(self, body) -> dict:
        rows, single = self._rows(body, ("top_k", "sparse_inference"))
        top_k = self._positive(body, "top_k")
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
            except _ROW_ERRORS as exc:
                raise RequestError(f"row {i}: {_short(exc)}") from None
        return {"prediction": out[0]} if single else {"predictions": out}

    def _predict_row(self, row: dict, top_k, sparse):
        if not self.is_classifier:
            return _jsonable(self.model.predict(row))
        if top_k is None:
            return _jsonable(self.model.predict(row, sparse_inference=sparse))
        labels, scores = self.model.predict_proba(row, top_k=top_k, sparse_inference=sparse)
        return [{"label": _jsonable(lab), "score": _jsonable(float(s))} for lab, s in zip(labels[0], scores[0])]

    def explain(self, body) -> dict:
        """Which columns and words decided each row's prediction (udt.interfaces.explain), as JSON."""
        rows, single = self._rows(body, ("top", "target_class", "level", "columns"))
        for i, row in enumerate(rows):
            if not isinstance(row, dict):
                raise RequestError(f"row {i}: expected an object of column values, got {type(row).__name__}")
        top = self._positive(body, "top")
        try:
            result = self.model.explain(rows, top=top, target_class=body.get("target_class"),
                                        level=body.get("level", "token"), columns=body.get("columns"))
        except _ROW_ERRORS as exc:
            raise RequestError(_short(exc)) from None
        entries = [_jsonable(r.as_dict()) for r in result]
        return {"explanation": entries[0]} if single else {"explanations": entries}

    def answer(self, body: bytes, endpoint: str = "predict") -> tuple[HTTPStatus, dict]:
        """(status, JSON payload) for a POST /predict or /explain body; runs on a worker thread."""
        try:
            return HTTPStatus.OK, (self.explain if endpoint == "explain" else self.predict)(parse_json(body))
        except RequestError as exc:
            return exc.status, {"error": str(exc)}
        except Exception as exc:  # noqa: BLE001 - a bug in udt: answer it, log it, keep serving
            traceback.print_exc(file=sys.stderr)
            return HTTPStatus.INTERNAL_SERVER_ERROR, {"error": f"internal error ({type(exc).__name__}); the server's "
                                                              f"log has the details"}


def _short(exc: BaseException) -> str:
    text = str(exc) if not isinstance(exc, RecursionError) else "a value nested too deeply"
    return text if len(text) <= 500 else text[:500] + "..."


# ---------------------------------------------------------------------------------------------------------------------
# HTTP/1.1 on asyncio streams: the subset a JSON API needs (Content-Length bodies, keep-alive, Expect: 100-continue).

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_DIGITS = re.compile(r"[0-9]+")
_VERSION = re.compile(r"HTTP/[0-9]\.[0-9]")


class _HttpError(Exception):
    """Answer `status` with {"error": message} and close the connection."""

    def __init__(self, status: HTTPStatus, message: str, headers: tuple = ()):
        super().__init__(message)
        self.status, self.message, self.headers = HTTPStatus(status), message, headers


class _Request:
    __slots__ = ("method", "target", "path", "version", "headers")

    def __init__(self, lines: list[bytes]):
        request_line = lines[0].decode("latin-1").rstrip("\r\n")
        parts = request_line.split(" ")
        if len(parts) != 3 or not _TOKEN.fullmatch(parts[0]) or not _VERSION.fullmatch(parts[2]):
            raise _HttpError(HTTPStatus.BAD_REQUEST, f"malformed request line {request_line[:100]!r}")
        self.method, self.target, self.version = parts
        if self.version not in ("HTTP/1.0", "HTTP/1.1"):
            raise _HttpError(HTTPStatus.HTTP_VERSION_NOT_SUPPORTED, f"{self.version} is not supported; use HTTP/1.1")
        self.path = urlsplit(self.target).path.rstrip("/") if self.target.startswith(("/", "http")) else None
        self.headers: dict[str, list[str]] = {}
        for raw in lines[1:]:
            name, sep, value = raw.decode("latin-1").rstrip("\r\n").partition(":")
            if not sep or not _TOKEN.fullmatch(name):
                raise _HttpError(HTTPStatus.BAD_REQUEST, f"malformed header line {raw[:100].decode('latin-1')!r}")
            self.headers.setdefault(name.lower(), []).append(value.strip(" \t"))

    def header(self, name: str) -> str | None:
        values = self.headers.get(name)
        return None if values is None else ",".join(values)

    def has_body(self) -> bool:
        return "transfer-encoding" in self.headers or self.content_length(None) not in (None, 0)

    def content_length(self, limit: int | None) -> int | None:
        """The declared body length (None if absent); 400 if it is not one whole number, 413 if over `limit`."""
        values = self.headers.get("content-length")
        if values is None:
            return None
        texts = {v.strip() for value in values for v in value.split(",")}
        text = texts.pop() if len(texts) == 1 else None
        if text is None or not _DIGITS.fullmatch(text):
            shown = ", ".join(repr(v[:40]) for v in values)
            raise _HttpError(HTTPStatus.BAD_REQUEST, f"Content-Length must be one whole number of bytes, got {shown}")
        if limit is not None and (len(text) > 18 or int(text) > limit):
            raise _HttpError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"request body of {text} bytes is over the limit "
                                                                  f"of {limit} bytes per request")
        return int(text) if len(text) <= 18 else 1 << 62

    def keep_alive(self) -> bool:
        tokens = {t.strip().lower() for t in (self.header("connection") or "").split(",")}
        return "keep-alive" in tokens if self.version == "HTTP/1.0" else "close" not in tokens


def _response(status: HTTPStatus, payload: dict, keep_alive: bool, headers: tuple = ()) -> bytes:
    body = json.dumps(payload, allow_nan=False).encode("utf-8")
    status = HTTPStatus(status)
    lines = [f"HTTP/1.1 {status.value} {status.phrase}", "Server: udt-serve", f"Date: {formatdate(usegmt=True)}",
             "Content-Type: application/json", f"Content-Length: {len(body)}",
             f"Connection: {'keep-alive' if keep_alive else 'close'}", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class _Connection:
    __slots__ = ("reader", "writer")

    def __init__(self, reader, writer):
        self.reader, self.writer = reader, writer


class Server:
    """The HTTP server: make_server() builds it bound and listening; serve_forever() runs it on the calling thread
    until shutdown() (from another thread); server_close() releases the socket and the worker threads. The same
    methods as socketserver's servers, so it drops in where http.server's did."""

    def __init__(self, service: ModelService, host: str = "127.0.0.1", port: int = 8080,
                 limits: Limits | None = None):
        import socket
        self.service = service
        self.limits = limits or Limits()
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.socket = socket.create_server((host, port), family=family, backlog=self.limits.backlog)
        self.server_address = self.socket.getsockname()[:2]
        self._pool = ThreadPoolExecutor(self.limits.worker_threads(), thread_name_prefix="udt-serve")
        self._connection_limit = self.limits.connection_limit()
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._shutdown_requested = False
        self._done = threading.Event()
        # Event-loop state (touched only on the loop's thread):
        self._open: dict[asyncio.Task, _Connection] = {}
        self._waiting: collections.OrderedDict[_Connection, None] = collections.OrderedDict()  # evictable, oldest first
        self._queued = 0
        self._queued_bytes = 0
        self._large: asyncio.Lock | None = None  # one large body at a time (LARGE_BODY_BYTES); made on the loop

    # -- the socketserver-like surface ---------------------------------------------------------------------------

    def serve_forever(self) -> None:
        try:
            asyncio.run(self._serve())
        finally:
            self._done.set()

    def shutdown(self) -> None:
        """Stops serve_forever() and waits until it has returned (call it from another thread)."""
        with self._lock:
            self._shutdown_requested = True
            running = self._loop is not None and not self._done.is_set()
            if running:
                self._loop.call_soon_threadsafe(self._stop.set)
        if running:
            self._done.wait()

    def server_close(self) -> None:
        self.socket.close()
        self._pool.shutdown(wait=False, cancel_futures=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.server_close()

    # -- the event loop --------------------------------------------------------------------------------------------

    async def _serve(self) -> None:
        stop = asyncio.Event()
        with self._lock:
            if self._shutdown_requested:
                return
            self._loop, self._stop = asyncio.get_running_loop(), stop
        self._large = asyncio.Lock()
        server = await asyncio.start_server(self._accept, sock=self.socket, limit=self.limits.max_head_bytes,
                                            backlog=self.limits.backlog)
        try:
            await stop.wait()
        finally:
            server.close()
            for task, conn in list(self._open.items()):
                # Closing the transport as well as cancelling: asyncio.wait_for (3.10, 3.11) can swallow a
                # cancellation that races with its inner read, and that connection would then wait out its timeout.
                conn.writer.transport.abort()
                task.cancel()
            if self._open:
                await asyncio.wait(list(self._open), timeout=5)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        conn = _Connection(reader, writer)
        self._open[task] = conn
        try:
            if len(self._open) > self._connection_limit and not self._evict_one():
                await self._send(conn, _response(HTTPStatus.SERVICE_UNAVAILABLE, {
                    "error": "too many open connections; retry shortly"}, False, ("Retry-After: 1",)), 1.0)
                return
            await self._serve_connection(conn)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        except Exception:  # noqa: BLE001 - a bug here must not take the server down
            traceback.print_exc(file=sys.stderr)
        finally:
            self._waiting.pop(conn, None)
            self._open.pop(task, None)
            writer.transport.abort()

    def _evict_one(self) -> bool:
        """Closes the connection that has waited longest for a request, to make room for a new one."""
        if not self._waiting:
            return False
        oldest, _ = self._waiting.popitem(last=False)
        oldest.writer.transport.abort()
        return True

    async def _serve_connection(self, conn: _Connection) -> None:
        limits, loop = self.limits, asyncio.get_running_loop()
        while True:
            self._waiting[conn] = None  # evictable until its request head is complete
            try:
                first = await asyncio.wait_for(conn.reader.readexactly(1), limits.idle_timeout)
            except asyncio.TimeoutError:
                return  # idle: close quietly
            deadline = loop.time() + limits.request_timeout
            try:
                lines = await asyncio.wait_for(self._read_head(conn.reader, first), limits.request_timeout)
                self._waiting.pop(conn, None)
                if lines is None:
                    return  # the client closed mid-head
                request = _Request(lines)
                keep_alive = await self._handle(conn, request, deadline)
            except asyncio.TimeoutError:
                await self._send(conn, _response(HTTPStatus.REQUEST_TIMEOUT, {
                    "error": f"the request did not arrive within {limits.request_timeout:g} s"}, False), 1.0)
                return
            except _HttpError as exc:
                await self._send(conn, _response(exc.status, {"error": exc.message}, False, exc.headers),
                                 limits.request_timeout)
                await self._linger(conn)
                return
            if not keep_alive:
                return

    async def _read_head(self, reader: asyncio.StreamReader, first: bytes) -> list[bytes] | None:
        limits = self.limits
        lines, size = [], 0
        line = first
        while True:
            if not line.endswith(b"\n"):
                try:
                    line += await reader.readline()
                except ValueError:  # a line longer than the stream's limit (max_head_bytes)
                    raise _HttpError(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE,
                                     f"request head over {limits.max_head_bytes} bytes") from None
                if not line.endswith(b"\n"):
                    return None
            size += len(line)
            if size > limits.max_head_bytes or len(lines) > limits.max_headers:
                raise _HttpError(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE,
                                 f"request head over {limits.max_head_bytes} bytes or {limits.max_headers} headers")
            if line in (b"\r\n", b"\n"):
                if lines:
                    return lines
            else:
                lines.append(line)
            line = b""

    async def _handle(self, conn: _Connection, request: _Request, deadline: float) -> bool:
        """Answers one request; returns whether the connection may carry another."""
        if request.path == "/health":
            if request.method != "GET":
                raise _HttpError(HTTPStatus.METHOD_NOT_ALLOWED, f"{request.method} /health: use GET", ("Allow: GET",))
            keep_alive = request.keep_alive() and not request.has_body()
            await self._send(conn, _response(HTTPStatus.OK, self.service.health(), keep_alive), self._left(deadline))
            return keep_alive
        if request.path not in ("/predict", "/explain"):
            raise _HttpError(HTTPStatus.NOT_FOUND,
                             f"no such endpoint: {request.method} {request.target[:200]}; try GET /health, POST "
                             f"/predict or POST /explain")
        if request.method != "POST":
            raise _HttpError(HTTPStatus.METHOD_NOT_ALLOWED, f"{request.method} {request.path}: use POST",
                             ("Allow: POST",))
        return await self._post(conn, request, deadline, request.path[1:])

    async def _post(self, conn: _Connection, request: _Request, deadline: float, endpoint: str) -> bool:
        limits = self.limits
        if "transfer-encoding" in request.headers:
            if "content-length" in request.headers:
                raise _HttpError(HTTPStatus.BAD_REQUEST, "a request may not have both Transfer-Encoding and "
                                                         "Content-Length")
            raise _HttpError(HTTPStatus.LENGTH_REQUIRED, "send the body with a Content-Length header (chunked "
                                                         "transfer encoding is not supported)")
        length = request.content_length(limits.max_body_bytes)
        if length is None:
            raise _HttpError(HTTPStatus.LENGTH_REQUIRED, f"POST /{endpoint} needs a Content-Length header")
        expect = (request.header("expect") or "").strip().lower()
        if expect and (expect != "100-continue" or request.version != "HTTP/1.1"):
            raise _HttpError(HTTPStatus.EXPECTATION_FAILED, f"unsupported Expect: {expect[:40]!r}")
        over_bytes = self._queued and self._queued_bytes + length > limits.max_queued_bytes
        if self._queued >= limits.max_queued or over_bytes:
            raise _HttpError(HTTPStatus.SERVICE_UNAVAILABLE, f"server busy: {self._queued} requests in progress; "
                                                             f"retry shortly", ("Retry-After: 1",))
        self._queued += 1
        self._queued_bytes += length
        try:
            if expect:
                conn.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            body = await asyncio.wait_for(conn.reader.readexactly(length), self._left(deadline))
            run = asyncio.get_running_loop().run_in_executor
            if length <= LARGE_BODY_BYTES:
                status, payload = await run(self._pool, self.service.answer, body, endpoint)
            else:
                async with self._large:
                    status, payload = await run(self._pool, self.service.answer, body, endpoint)
        finally:
            self._queued -= 1
            self._queued_bytes -= length
        keep_alive = request.keep_alive()
        await self._send(conn, _response(status, payload, keep_alive), self.limits.request_timeout)
        return keep_alive

    def _left(self, deadline: float) -> float:
        left = deadline - asyncio.get_running_loop().time()
        if left <= 0:
            raise asyncio.TimeoutError
        return left

    async def _send(self, conn: _Connection, data: bytes, timeout: float) -> None:
        conn.writer.write(data)
        try:
            await asyncio.wait_for(conn.writer.drain(), timeout)
        except asyncio.TimeoutError:
            raise ConnectionError("the client does not read its answer") from None

    async def _linger(self, conn: _Connection, seconds: float = 2.0) -> None:
        """After an error answered before the request was read in full: stop writing, then read and drop what the
        client is still sending for a moment before closing, so that closing does not reset the connection (and
        lose the answer) while the client is still writing."""
        try:
            if conn.writer.can_write_eof():
                conn.writer.write_eof()
            loop = asyncio.get_running_loop()
            end = loop.time() + seconds
            while loop.time() < end:
                if not await asyncio.wait_for(conn.reader.read(1 << 16), end - loop.time()):
                    return
        except (asyncio.TimeoutError, OSError):
            pass


def make_server(service: ModelService, host: str = "127.0.0.1", port: int = 8080, *,
                limits: Limits | None = None) -> Server:
    """A server bound to (host, port) (port 0: any free port) and listening; call serve_forever()."""
    return Server(service, host, port, limits)


def serve(model_path: str, host: str = "127.0.0.1", port: int = 8080, ready: threading.Event | None = None, *,
          max_rows: int = MAX_ROWS, max_body_bytes: int = MAX_BODY_BYTES, threads: int = 0,
          idle_timeout: float = 15.0, request_timeout: float = 30.0, max_connections: int = 10_000) -> None:
    """Loads the model and serves it until interrupted. `max_rows` is ModelService's; the other keyword options are
    those of Limits."""
    from udt.interfaces.classifier import load
    limits = Limits(max_body_bytes=max_body_bytes, threads=threads, idle_timeout=idle_timeout,
                    request_timeout=request_timeout, max_connections=max_connections)
    service = ModelService(load(model_path), model_path, max_rows=max_rows)
    server = make_server(service, host, port, limits=limits)
    print(f"udt serve: {model_path} on http://{server.server_address[0]}:{server.server_address[1]} "
          f"(POST /predict, POST /explain, GET /health; {limits.worker_threads()} worker threads, at most {max_rows} rows and "
          f"{max_body_bytes} bytes per request)", flush=True)
    if ready is not None:
        ready.set()
    try:
        server.serve_forever()
    finally:
        server.server_close()
