"""Load and hostile-connection benchmark of `udt serve` (loopback only; bounded in requests and time; stops by itself).

  OMP_WAIT_POLICY=PASSIVE python benchmarks/serve_load.py                         # the server in automl/udt/serve.py
  OMP_WAIT_POLICY=PASSIVE python benchmarks/serve_load.py --serve-module /tmp/serve_before.py   # another version
  python benchmarks/serve_load.py --clients 1,8,32 --requests 2000 --hostile 1000 --json out.json

It fits a small classifier on tests/data/adult_sample.csv (14 columns, 2 classes), saves it, and starts the server in
a child process (`make_server(ModelService(model, path), "127.0.0.1", 0)` of the chosen serve.py), so client and
server do not share a GIL. Then:

1. load: for each client count N, N threads each keep one http.client connection (re-opened by http.client when the
   server closes it, as an HTTP/1.0 server does after every response; `--close` asks for that) and POST /predict
   {"rows": [one row]} until `--requests` requests in total are answered or `--seconds` pass. Reports p50/p99
   latency (ms), requests/s and non-200 answers or connection errors.
2. burst: `--burst` connections are opened at once from one thread (non-blocking connects) and each sends
   GET /health; counts those answered 200 and those reset or refused (a small listen backlog resets them).
3. hostile: `--hostile` connections are opened and held: half idle (nothing sent), half slow-loris (a partial
   request head, then one header byte a second). While they are held, GET /health is timed 30 times on fresh
   connections (10 s timeout each), and one POST /predict; the server's thread count and RSS are read from /proc.
   After `--hold` seconds (default 35: past udt's idle and request timeouts), counts the ones still open.

Every phase has a time limit; the child server is killed at the end (or when this process exits), and the child
also exits by itself after `--max-seconds`. The client and the server share the machine's cores: the numbers are
for comparing server versions on one machine, not absolute capacity. The load average is printed at start and end.
"""
from __future__ import annotations

import argparse
import errno
import http.client
import json
import os
import selectors
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
ADULT = os.path.join(ROOT, "tests", "data", "adult_sample.csv")
NUMERIC = ["age", "fnlwgt", "education_num", "capital_gain", "capital_loss", "hours_per_week"]
CATEGORICAL = ["workclass", "education", "marital_status", "occupation", "relationship", "race", "sex",
               "native_country"]


def fit_model(path: str) -> list[dict]:
    """Fits and saves a small Adult classifier; returns test rows (dicts without the target) for the requests."""
    import pandas as pd
    import udt
    data = pd.read_csv(ADULT)
    columns = {name: udt.Numeric() for name in NUMERIC}
    columns.update({name: udt.Categorical() for name in CATEGORICAL})
    columns["income"] = udt.Categorical()
    train, test = data[data["split"] == "train"], data[data["split"] != "train"]
    if len(test) == 0:
        train, test = data.iloc[:200], data.iloc[200:]
    model = udt.Classifier(columns, "income", input_dim=20_000, hidden_dim=64, epochs=3, batch_size=64)
    model.fit(train.drop(columns="split"), progress=False)
    model.save(path)
    rows = test.drop(columns=["split", "income"]).to_dict("records")
    return [{k: (v.item() if hasattr(v, "item") else v) for k, v in r.items()} for r in rows]


# ---------------------------------------------------------------------------------------------------------------------
# The server child process.

def run_server(model_path: str, serve_module: str | None, max_seconds: float) -> None:
    if serve_module:
        import importlib.util
        import udt  # noqa: F401 - the package the copied module's relative imports resolve against
        spec = importlib.util.spec_from_file_location("udt._serve_under_test", serve_module)
        serve = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = serve
        spec.loader.exec_module(serve)
    else:
        from udt.interfaces import serve
    from udt.interfaces.classifier import load
    server = serve.make_server(serve.ModelService(load(model_path), model_path), "127.0.0.1", 0)
    threading.Timer(max_seconds, lambda: os._exit(3)).start()  # never outlives the benchmark
    print(f"PORT {server.server_address[1]}", flush=True)
    server.serve_forever()


def proc_status(pid: int) -> dict:
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key in ("Threads", "VmRSS"):
                    out[key] = value.strip()
    except OSError:
        pass
    return out


# ---------------------------------------------------------------------------------------------------------------------
# Clients.

def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]


def load_phase(port: int, rows: list[dict], clients: int, total: int, seconds: float, close: bool = False) -> dict:
    bodies = [json.dumps({"rows": [r]}).encode() for r in rows]
    latencies: list[float] = []
    errors: dict[str, int] = {}
    lock = threading.Lock()
    issued = [0]
    headers = {"Content-Type": "application/json", **({"Connection": "close"} if close else {})}
    stop_at = time.monotonic() + seconds

    def client(seed: int):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        i = seed
        while True:
            with lock:
                if issued[0] >= total or time.monotonic() > stop_at:
                    break
                issued[0] += 1
            body = bodies[i % len(bodies)]
            i += 1
            start = time.perf_counter()
            try:
                conn.request("POST", "/predict", body, headers)
                resp = conn.getresponse()
                resp.read()
                elapsed = time.perf_counter() - start
                key = None if resp.status == 200 else f"http {resp.status}"
                if resp.will_close:
                    conn.close()
            except (OSError, http.client.HTTPException) as exc:
                elapsed, key = None, type(exc).__name__
                conn.close()
            with lock:
                if key is None:
                    latencies.append(elapsed)
                else:
                    errors[key] = errors.get(key, 0) + 1
        conn.close()

    threads = [threading.Thread(target=client, args=(i * 7,), daemon=True) for i in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + 15)
    wall = time.perf_counter() - start
    ms = [x * 1000 for x in latencies]
    return {"clients": clients, "connection": "close" if close else "keep-alive", "ok": len(ms), "errors": errors,
            "p50_ms": round(pct(ms, 50), 2), "p99_ms": round(pct(ms, 99), 2), "req_per_s": round(len(ms) / wall, 1)}


def burst_phase(port: int, n: int, seconds: float = 20.0) -> dict:
    """n connections at once, each sends GET /health; how many get a 200, how many are reset/refused/time out."""
    sel = selectors.DefaultSelector()
    request = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    state = {}
    failed: dict[str, int] = {}
    for _ in range(n):
        s = socket.socket()
        s.setblocking(False)
        rc = s.connect_ex(("127.0.0.1", port))
        if rc not in (0, errno.EINPROGRESS):
            failed[errno.errorcode.get(rc, str(rc))] = failed.get(errno.errorcode.get(rc, str(rc)), 0) + 1
            s.close()
            continue
        state[s] = [b"", False]
        sel.register(s, selectors.EVENT_WRITE)
    ok = 0
    deadline = time.monotonic() + seconds
    while state and time.monotonic() < deadline:
        for key, events in sel.select(timeout=0.5):
            s = key.fileobj
            try:
                if events & selectors.EVENT_WRITE:
                    s.sendall(request)
                    sel.modify(s, selectors.EVENT_READ)
                    continue
                chunk = s.recv(65536)
                if chunk:
                    state[s][0] += chunk
                    continue
                ok += state[s][0].startswith(b"HTTP/1.1 200") or state[s][0].startswith(b"HTTP/1.0 200")
                if not state[s][0]:
                    failed["closed without answer"] = failed.get("closed without answer", 0) + 1
            except OSError as exc:
                name = errno.errorcode.get(exc.errno, type(exc).__name__)
                if state[s][0].startswith((b"HTTP/1.1 200", b"HTTP/1.0 200")):
                    ok += 1
                else:
                    failed[name] = failed.get(name, 0) + 1
            sel.unregister(s)
            s.close()
            del state[s]
    for s in list(state):
        failed["timeout"] = failed.get("timeout", 0) + 1
        sel.unregister(s)
        s.close()
    sel.close()
    return {"connections": n, "answered_200": ok, "failed": failed}


def timed_get_health(port: int, timeout: float = 10.0) -> float | None:
    start = time.perf_counter()
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        conn.request("GET", "/health")
        resp = conn.getresponse()
        resp.read()
        conn.close()
        return (time.perf_counter() - start) * 1000 if resp.status == 200 else None
    except (OSError, http.client.HTTPException):
        return None


def hostile_phase(port: int, server_pid: int, n: int, rows: list[dict], hold: float, seconds: float = 60.0) -> dict:
    opened = time.monotonic()
    socks, refused = [], 0
    for i in range(n):
        s = socket.socket()
        s.settimeout(2)
        try:
            s.connect(("127.0.0.1", port))
            if i % 2:  # slow loris: a partial head, then a byte a second
                s.sendall(b"POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            s.setblocking(False)
            socks.append(s)
        except OSError:
            refused += 1
            s.close()
    stop = threading.Event()

    def trickle():
        while not stop.wait(1.0):
            for s in socks[1::2]:
                try:
                    s.send(b"a")
                except OSError:
                    pass

    trickler = threading.Thread(target=trickle, daemon=True)
    trickler.start()
    time.sleep(1.0)
    status = proc_status(server_pid)
    deadline = time.monotonic() + seconds
    health = []
    for _ in range(30):
        if time.monotonic() > deadline:
            break
        health.append(timed_get_health(port))
    predict_ms = None
    start = time.perf_counter()
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("POST", "/predict", json.dumps({"rows": rows[:1]}))
        resp = conn.getresponse()
        resp.read()
        conn.close()
        if resp.status == 200:
            predict_ms = round((time.perf_counter() - start) * 1000, 2)
    except (OSError, http.client.HTTPException):
        pass
    # How many of the hostile connections the server still holds open `hold` seconds after they were opened.
    time.sleep(max(0.0, opened + hold - time.monotonic()))
    alive = 0
    for s in socks:
        try:
            s.recv(1)  # b"" (closed) or the start of an answer such as a 408: the server let it go
        except BlockingIOError:
            alive += 1  # nothing to read: still open
        except OSError:
            pass
    stop.set()
    trickler.join(5)
    for s in socks:
        s.close()
    ok = [h for h in health if h is not None]
    return {"connections": n, "refused_or_failed_to_open": refused, "server_threads": status.get("Threads"),
            "server_rss": status.get("VmRSS"), "health_answered": f"{len(ok)}/{len(health)}",
            "health_p50_ms": round(pct(ok, 50), 2), "health_max_ms": round(max(ok), 2) if ok else None,
            "predict_ms": predict_ms, f"still_open_after_{hold:g}s": alive}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--serve-module", help="path of a serve.py to benchmark instead of udt.interfaces.serve")
    ap.add_argument("--clients", default="1,8,32", help="comma-separated concurrent client counts")
    ap.add_argument("--requests", type=int, default=2000, help="requests per client count")
    ap.add_argument("--seconds", type=float, default=20.0, help="time limit per client count")
    ap.add_argument("--close", action="store_true", help="send Connection: close (a new connection per request, as "
                    "an HTTP/1.0 server forces anyway); default: keep the connection when the server allows")
    ap.add_argument("--burst", type=int, default=1000, help="simultaneous connections in the burst phase (0: skip)")
    ap.add_argument("--hostile", type=int, default=1000, help="idle / slow-loris connections (0: skip)")
    ap.add_argument("--hold", type=float, default=35.0, help="seconds the hostile connections are held before "
                    "counting how many the server still keeps open")
    ap.add_argument("--max-seconds", type=float, default=300.0, help="the whole run's limit; the server exits then")
    ap.add_argument("--json", help="write the results here")
    ap.add_argument("--_server", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args._server:
        run_server(args._server, args.serve_module, args.max_seconds)
        return 0

    result = {"load_avg_start": [round(x, 2) for x in os.getloadavg()],
              "serve_module": args.serve_module or "udt.interfaces.serve", "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),
              "cpus": os.cpu_count()}
    with tempfile.TemporaryDirectory() as tmp:
        model_path = os.path.join(tmp, "adult.udt")
        rows = fit_model(model_path)
        cmd = [sys.executable, os.path.abspath(__file__), "--_server", model_path,
               "--max-seconds", str(args.max_seconds)]
        if args.serve_module:
            cmd += ["--serve-module", os.path.abspath(args.serve_module)]
        child = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
        try:
            line = child.stdout.readline()
            if not line.startswith("PORT "):
                raise SystemExit(f"the server did not start: {line!r}")
            port = int(line.split()[1])
            result["load"] = []
            for n in [int(x) for x in args.clients.split(",") if x]:
                load_phase(port, rows, n, min(50, args.requests), 5, args.close)  # warm up
                phase = load_phase(port, rows, n, args.requests, args.seconds, args.close)
                print("load", json.dumps(phase), flush=True)
                result["load"].append(phase)
            if args.burst:
                result["burst"] = burst_phase(port, args.burst)
                print("burst", json.dumps(result["burst"]), flush=True)
                time.sleep(1)
            if args.hostile:
                result["hostile"] = hostile_phase(port, child.pid, args.hostile, rows, args.hold)
                print("hostile", json.dumps(result["hostile"]), flush=True)
        finally:
            child.kill()
            child.wait(10)
    result["load_avg_end"] = [round(x, 2) for x in os.getloadavg()]
    print("load average start", result["load_avg_start"], "end", result["load_avg_end"])
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
