"""The report of benchmarks/engine_xc.py: one summary row per setting (its JSON keys), the targets checked
against it, and the human-readable table."""
from __future__ import annotations

import json

JSON_KEYS = ("dataset", "labels", "udt_train_sps", "torch_train_sps", "train_speedup", "udt_p1", "torch_p1",
             "udt_sparse_p1", "udt_latency_ms", "udt_sparse_latency_ms", "torch_latency_ms", "udt_peak_rss_mb",
             "torch_peak_rss_mb")


def _get(d, *keys):
    for k in keys:
        if not isinstance(d, dict) or k not in d:
            return None
        d = d[k]
    return d


def summary_row(res: dict) -> dict:
    u, t = res.get("udt"), res.get("torch")
    if u is not None and "error" in u:
        u = None
    if t is not None and "error" in t:
        t = None
    usps, tsps = _get(u, "train_sps"), _get(t, "train_sps")
    row = {
        "dataset": res["name"], "labels": res["labels"],
        "udt_train_sps": usps, "torch_train_sps": tsps,
        "train_speedup": (usps / tsps) if usps and tsps else None,
        "udt_p1": _get(u, "dense", "p1"), "torch_p1": _get(t, "dense", "p1"), "udt_sparse_p1": _get(u, "sparse", "p1"),
        "udt_latency_ms": _get(u, "dense", "latency", "mean_ms"),
        "udt_sparse_latency_ms": _get(u, "sparse", "latency", "mean_ms"),
        "torch_latency_ms": _get(t, "dense", "latency", "mean_ms"),
        "udt_peak_rss_mb": _get(u, "peak_rss_mb"), "torch_peak_rss_mb": _get(t, "peak_rss_mb"),
    }
    assert tuple(row) == JSON_KEYS
    return row


def check_targets(row: dict) -> list[tuple[str, str, str]]:
    """[(target, PASS/FAIL/n/a, detail)] for one setting."""
    out = []
    r = row
    if r["labels"] >= 200_000:
        if r["train_speedup"] is None or r["udt_p1"] is None or r["torch_p1"] is None:
            out.append(("train speedup >= 10x, P@1 within 1 pt of torch", "FAIL", "missing measurement"))
        else:
            ok = r["train_speedup"] >= 10 and r["udt_p1"] >= r["torch_p1"] - 0.01
            out.append(("train speedup >= 10x, P@1 within 1 pt of torch", "PASS" if ok else "FAIL",
                        f"speedup {r['train_speedup']:.1f}x, P@1 udt {100 * r['udt_p1']:.2f} vs torch "
                        f"{100 * r['torch_p1']:.2f}"))
    else:
        out.append(("train speedup >= 10x, P@1 within 1 pt of torch", "n/a",
                    f"{r['labels']:,} labels < 200k (speedup {r['train_speedup']:.1f}x)"
                    if r["train_speedup"] else "below 200k labels"))
    if None in (r["udt_sparse_latency_ms"], r["torch_latency_ms"], r["udt_sparse_p1"], r["udt_p1"]):
        out.append(("sparse inference >= 10x faster than torch, P@1 within 1 pt of dense", "FAIL",
                    "missing measurement"))
    else:
        sp = r["torch_latency_ms"] / r["udt_sparse_latency_ms"]
        ok = sp >= 10 and r["udt_sparse_p1"] >= r["udt_p1"] - 0.01
        out.append(("sparse inference >= 10x faster than torch, P@1 within 1 pt of dense", "PASS" if ok else "FAIL",
                    f"{sp:.1f}x ({r['udt_sparse_latency_ms']:.3f} vs {r['torch_latency_ms']:.3f} ms), P@1 sparse "
                    f"{100 * r['udt_sparse_p1']:.2f} vs dense {100 * r['udt_p1']:.2f}"))
    if r["udt_peak_rss_mb"] is None or r["torch_peak_rss_mb"] is None:
        out.append(("peak RSS <= torch's", "FAIL", "missing measurement"))
    else:
        ok = r["udt_peak_rss_mb"] <= r["torch_peak_rss_mb"]
        out.append(("peak RSS <= torch's", "PASS" if ok else "FAIL",
                    f"{r['udt_peak_rss_mb']:,.0f} vs {r['torch_peak_rss_mb']:,.0f} MiB"))
    return out


def _f(x, fmt):
    return "-" if x is None else format(x, fmt)


def print_table(res: dict, out) -> None:
    u = res.get("udt") if res.get("udt") and "error" not in res["udt"] else None
    t = res.get("torch") if res.get("torch") and "error" not in res["torch"] else None
    p = lambda x: _f(None if x is None else 100 * x, ".2f")  # noqa: E731
    print(f"\n## {res['sizes']}", file=out)
    if u:
        print(f"   udt LSH: {json.dumps(u.get('lsh_params'))}", file=out)
    if res.get("torch_init"):
        print(f"   torch init: {res['torch_init']}; optimizer {_get(t, 'optimizer') or '-'}", file=out)
    for sysname in ("udt", "torch"):
        r = res.get(sysname)
        if r and "error" in r:
            print(f"   {sysname}: ERROR {r['error']}", file=out)
    hdr = f"   {'':34s}{'udt dense':>14s}{'udt sparse':>14s}{'torch':>14s}"
    print(hdr, file=out)
    lines = [
        ("train samples/s", _f(_get(u, "train_sps"), ",.0f"), "", _f(_get(t, "train_sps"), ",.0f")),
        ("train time s (load s)", f"{_f(_get(u, 'train_s'), '.1f')} ({_f(_get(u, 'load_s'), '.1f')})", "",
         f"{_f(_get(t, 'train_s'), '.1f')} ({_f(_get(t, 'load_s'), '.1f')})"),
        ("last-epoch loss (udt: active set)", _f((_get(u, "epoch_losses") or [None])[-1], ".4f"), "",
         _f((_get(t, "epoch_losses") or [None])[-1], ".4f")),
        ("P@1 %", p(_get(u, "dense", "p1")), p(_get(u, "sparse", "p1")), p(_get(t, "dense", "p1"))),
        ("P@5 %", p(_get(u, "dense", "p5")), p(_get(u, "sparse", "p5")), p(_get(t, "dense", "p5"))),
        ("hit@5 (recall@5) %", p(_get(u, "dense", "hit5")), p(_get(u, "sparse", "hit5")), p(_get(t, "dense", "hit5"))),
        ("batch eval s", _f(_get(u, "dense", "eval_s"), ".1f"), _f(_get(u, "sparse", "eval_s"), ".1f"),
         _f(_get(t, "dense", "eval_s"), ".1f")),
        ("1-sample latency mean ms", _f(_get(u, "dense", "latency", "mean_ms"), ".3f"),
         _f(_get(u, "sparse", "latency", "mean_ms"), ".3f"), _f(_get(t, "dense", "latency", "mean_ms"), ".3f")),
        ("1-sample latency p99 ms", _f(_get(u, "dense", "latency", "p99_ms"), ".3f"),
         _f(_get(u, "sparse", "latency", "p99_ms"), ".3f"), _f(_get(t, "dense", "latency", "p99_ms"), ".3f")),
        ("peak RSS MiB (own process)", _f(_get(u, "peak_rss_mb"), ",.0f"), "", _f(_get(t, "peak_rss_mb"), ",.0f")),
        ("process wall s", _f(_get(u, "wall_s"), ".1f"), "", _f(_get(t, "wall_s"), ".1f")),
    ]
    for label, a, b, c in lines:
        print(f"   {label:34s}{a:>14s}{b:>14s}{c:>14s}", file=out)
    row = summary_row(res)
    if row["train_speedup"]:
        print(f"   train speedup udt/torch: {row['train_speedup']:.1f}x", file=out)
