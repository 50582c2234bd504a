"""`udt serve` against hostile and careless clients: every mistake gets a 4xx with {"error": ...} before the server
does the work it would cost, idle and slow-loris connections hold no threads and time out, and /health keeps
answering. Loopback only; each server is shut down and each socket closed by the test that opened it."""
import contextlib
import json
import random
import socket
import threading
import time

import pytest

from udt.interfaces.classifier import Classifier
from udt.interfaces.serve import Limits, ModelService, make_server
from classifier_data import SMALL, TEXT_COLUMNS, text_table

ROW = {"text": "ball goal team", "price": 10.0, "shop": "shop1"}


@pytest.fixture(scope="module")
def model():
    model = Classifier(TEXT_COLUMNS, "topic", **SMALL)
    model.fit(text_table(300), progress=False)
    return model


@contextlib.contextmanager
def running(service, **limits):
    server = make_server(service, port=0, limits=Limits(**limits))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
        assert not thread.is_alive()


@pytest.fixture(scope="module")
def strict(model, tmp_path_factory):
    """A server with small limits: 1 MB bodies, 50 rows; the model 'lives' in a private directory."""
    path = tmp_path_factory.mktemp("private-model-dir") / "topic.udt"
    with running(ModelService(model, path, max_rows=50), max_body_bytes=1 << 20) as port:
        yield port, path


class Client:
    """A raw loopback connection, read through one buffered reader so that pipelined responses are not lost."""

    def __init__(self, port, timeout=5.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.stream = self.sock.makefile("rb")

    def sendall(self, data: bytes):
        self.sock.sendall(data)

    def closed_by_server(self) -> bool:
        try:
            return self.stream.read(1) == b""
        except ConnectionResetError:
            return True

    def response(self) -> tuple[int, dict, bytes]:
        """The next response: (status, lower-cased headers, body); status 0 if the server closed instead."""
        try:
            status_line = self.stream.readline()
        except ConnectionResetError:
            return 0, {}, b""
        if not status_line:
            return 0, {}, b""
        headers = {}
        while (line := self.stream.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        return int(status_line.split()[1]), headers, self.stream.read(int(headers.get("content-length", 0)))

    def close(self):
        self.stream.close()
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


connect = Client


def exchange(port, data: bytes, timeout=5.0) -> tuple[int, dict, dict]:
    with connect(port, timeout) as sock:
        sock.sendall(data)
        status, headers, body = sock.response()
    return status, headers, (json.loads(body) if body else {})


def post(port, body, extra: bytes = b"") -> tuple[int, dict]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    status, _, answer = exchange(port, b"POST /predict HTTP/1.1\r\nHost: t\r\nConnection: close\r\n" + extra +
                                 b"Content-Length: %d\r\n\r\n" % len(data) + data)
    return status, answer


def health(port, timeout=5.0) -> tuple[int, dict]:
    status, _, body = exchange(port, b"GET /health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", timeout)
    return status, body


@pytest.mark.parametrize("header, status, message", [
    (b"Content-Length: -1\r\n", 400, "whole number"),
    (b"Content-Length: abc\r\n", 400, "whole number"),
    (b"Content-Length: 5\r\nContent-Length: 6\r\n", 400, "whole number"),
    (b"", 411, "Content-Length"),
    (b"Transfer-Encoding: chunked\r\n", 411, "Content-Length"),
    (b"Content-Length: 150000000\r\n", 413, "limit of 1048576 bytes"),
    (b"Content-Length: " + b"9" * 40 + b"\r\n", 413, "limit of 1048576 bytes"),
])
def test_bad_content_length_is_refused_before_the_body(strict, header, status, message):
    port, _ = strict
    start = time.monotonic()
    # Only the head is sent: the answer must not wait for a body.
    got, headers, body = exchange(port, b"POST /predict HTTP/1.1\r\nHost: t\r\n" + header + b"\r\n")
    assert time.monotonic() - start < 1.0
    assert got == status and message in body["error"]
    assert headers["connection"] == "close"
    assert health(port)[0] == 200


def test_a_body_within_the_limit_is_served(strict):
    port, _ = strict
    status, answer = post(port, {"row": {**ROW, "text": "ball " * 150_000}})  # 750 KB of text
    assert status == 200 and answer["prediction"] in ("sports", "tech", "food")


def test_expect_100_continue_gets_the_go_ahead_then_the_answer(strict):
    port, _ = strict
    body = json.dumps({"rows": [ROW]}).encode()
    with connect(port) as sock:
        sock.sendall(b"POST /predict HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: %d\r\n\r\n"
                     % len(body))
        assert sock.response()[0] == 100
        sock.sendall(body)
        status, _, answer = sock.response()
    assert status == 200 and len(json.loads(answer)["predictions"]) == 1


@pytest.mark.parametrize("literal", [b"NaN", b"Infinity", b"-Infinity", b"1e999"])
def test_nan_and_infinity_literals_are_refused(strict, literal):
    port, _ = strict
    status, answer = post(port, b'{"row": {"text": "ball", "price": ' + literal + b"}}")
    assert status == 400 and "not valid JSON" in answer["error"]
    assert literal.decode().lstrip("-") in answer["error"]


def test_rows_per_request_are_bounded(strict):
    port, _ = strict
    status, answer = post(port, {"rows": [ROW] * 51})
    assert status == 413 and "51 rows" in answer["error"] and "limit of 50 rows" in answer["error"]
    status, answer = post(port, {"rows": [ROW] * 50})
    assert status == 200 and len(answer["predictions"]) == 50


def test_health_sends_no_filesystem_path(strict):
    port, path = strict
    with connect(port) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        raw = sock.stream.read()
    assert b"200 OK" in raw
    for part in path.parent.parts[1:]:
        assert part.encode() not in raw
    body = json.loads(raw.partition(b"\r\n\r\n")[2])
    assert body["model"] == "topic.udt" and "/" not in json.dumps(body)


@pytest.mark.parametrize("request_bytes, status", [
    (b"\x00\x01garbage\r\n\r\n", 400),
    (b"GET /health\r\n\r\n", 400),
    (b"GET /health HTTP/2.0\r\n\r\n", 505),
    (b"GET /health HTTP/1.1\r\nX: " + b"a" * 40_000 + b"\r\n\r\n", 431),
    (b"GET /health HTTP/1.1\r\n" + b"X: a\r\n" * 200 + b"\r\n", 431),
    (b"GET /health HTTP/1.1\r\nbad header\r\n\r\n", 400),
    (b"PUT /predict HTTP/1.1\r\nContent-Length: 0\r\n\r\n", 405),
    (b"GET /predict HTTP/1.1\r\n\r\n", 405),
    (b"POST /health HTTP/1.1\r\nContent-Length: 0\r\n\r\n", 405),
    (b"GET /nope HTTP/1.1\r\n\r\n", 404),
    (b"POST /predict HTTP/1.1\r\nExpect: magic\r\nContent-Length: 2\r\n\r\n{}", 417),
])
def test_protocol_mistakes_get_4xx_with_an_error(strict, request_bytes, status):
    port, _ = strict
    got, _, body = exchange(port, request_bytes)
    assert got == status and body["error"]


def test_keep_alive_and_pipelined_requests(strict):
    port, _ = strict
    body = json.dumps({"row": ROW}).encode()
    one = b"POST /predict HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n" % len(body) + body
    with connect(port) as sock:
        sock.sendall(one + one + b"GET /health HTTP/1.1\r\nHost: t\r\n\r\n")
        answers = [sock.response() for _ in range(3)]
    assert [a[0] for a in answers] == [200, 200, 200]
    assert all(a[1]["connection"] == "keep-alive" for a in answers)


def test_hostile_connections_hold_no_threads_and_health_still_answers(model):
    with running(ModelService(model, "m.udt"), threads=2) as port:
        threads_before = threading.active_count()
        socks = []
        try:
            for i in range(200):
                sock = connect(port)
                if i % 2:  # slow loris: a request head that never ends
                    sock.sendall(b"POST /predict HTTP/1.1\r\nHost: t\r\nX-Slow: ")
                socks.append(sock)
            for sock in socks[1::2]:
                sock.sendall(b"a")
            for _ in range(5):
                start = time.monotonic()
                assert health(port, timeout=1.0)[0] == 200
                assert time.monotonic() - start < 1.0
            assert post(port, {"row": ROW})[0] == 200
            # The event loop holds the connections; only the fixed worker pool (2) may have started.
            assert threading.active_count() <= threads_before + 2
        finally:
            for sock in socks:
                sock.close()


def test_idle_and_slow_connections_time_out():
    with running(_StubService(), idle_timeout=0.3, request_timeout=0.5) as port:
        idle, slow_head, slow_body = connect(port), connect(port), connect(port)
        with idle, slow_head, slow_body:
            slow_head.sendall(b"GET /health HTTP/1.1\r\nHost: t\r\n")
            slow_body.sendall(b"POST /predict HTTP/1.1\r\nContent-Length: 100\r\n\r\n{\"rows\": ")
            start = time.monotonic()
            assert idle.closed_by_server()  # quietly
            assert slow_head.response()[0] == 408
            assert slow_body.response()[0] == 408
            assert time.monotonic() - start < 2.0
        assert health(port)[0] == 200


def test_at_the_connection_limit_the_longest_waiting_connection_makes_room():
    with running(_StubService(), max_connections=20) as port:
        socks = [connect(port) for _ in range(20)]
        try:
            for sock in socks:  # answered and kept alive: each connection is registered, and idle, in this order
                sock.sendall(b"GET /health HTTP/1.1\r\nHost: t\r\n\r\n")
                assert sock.response()[0] == 200
            assert health(port)[0] == 200  # the 21st connection is served...
            assert socks[0].closed_by_server()  # ...and the oldest idle one was closed for it
            socks[-1].sendall(b"GET /health HTTP/1.1\r\nHost: t\r\n\r\n")
            assert socks[-1].response()[0] == 200
        finally:
            for sock in socks:
                sock.close()


def test_when_the_admitted_requests_are_at_their_limit_the_next_gets_503():
    stub = _StubService(block=True)
    with running(stub, threads=1, max_queued=1) as port:
        first = {}
        thread = threading.Thread(target=lambda: first.update(answer=post(port, {"row": ROW})))
        thread.start()
        assert stub.entered.wait(5)
        status, headers, body = exchange(port, b"POST /predict HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}")
        assert status == 503 and headers["retry-after"] == "1" and "busy" in body["error"]
        assert health(port)[0] == 200  # /health does not queue behind predictions
        stub.release.set()
        thread.join(5)
        assert first["answer"][0] == 200


def test_a_server_bug_is_a_500_without_details(model, capsys):
    class Broken(ModelService):
        def predict(self, body):
            raise RuntimeError("secret detail /srv/models")

    with running(Broken(model, "m.udt")) as port:
        status, answer = post(port, {"row": ROW})
        assert status == 500 and "RuntimeError" in answer["error"] and "/srv" not in answer["error"]
        assert health(port)[0] == 200
    assert "secret detail" in capsys.readouterr().err  # the details go to the server's log


def test_random_bytes_never_get_a_5xx_or_stop_the_server():
    rng = random.Random(16)
    pieces = [b"GET ", b"POST ", b"/predict", b"/health", b" HTTP/1.1", b" HTTP/1.0", b"\r\n", b"\n", b"\r\n\r\n",
              b"Content-Length: ", b"-1", b"10", b"abc", b"Expect: 100-continue", b"Connection: close",
              b"Transfer-Encoding: chunked", b'{"rows": [{"text": "a"}]}', b"NaN", b":", b" ", b"\x00", b"\xff"]
    with running(_StubService(), idle_timeout=0.5, request_timeout=0.5) as port:
        for _ in range(60):
            data = b"".join(rng.choice(pieces) for _ in range(rng.randrange(1, 14)))
            with connect(port, timeout=3) as sock:
                sock.sendall(data)
                sock.sock.shutdown(socket.SHUT_WR)  # no more bytes: the server must answer or close, not wait
                status = sock.response()[0]
            assert status < 500 or status == 503, data
        assert health(port)[0] == 200


class _StubService:
    """A stand-in for ModelService: answers every /predict body with 200 (after `release` if `block`)."""

    def __init__(self, block=False):
        self.entered, self.release, self.block = threading.Event(), threading.Event(), block

    def health(self):
        return {"status": "ok", "model": "stub.udt", "task": "classification", "classes": 2}

    def answer(self, body, endpoint="predict"):
        self.entered.set()
        if self.block:
            self.release.wait(5)
        return 200, {"prediction": "x"}


@pytest.mark.parametrize("limits", [dict(max_body_bytes=-1), dict(threads=-1), dict(idle_timeout=0),
                                    dict(backlog=True), dict(request_timeout="30")])
def test_invalid_limits_are_refused(limits):
    with pytest.raises(ValueError, match=f"server limit {next(iter(limits))}="):
        Limits(**limits)


def test_invalid_max_rows_is_refused(model):
    with pytest.raises(ValueError, match="max_rows=0"):
        ModelService(model, "m.udt", max_rows=0)
