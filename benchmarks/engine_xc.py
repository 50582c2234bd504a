"""udt's sparse (SLIDE/BOLT) engine against dense PyTorch on CPU, on extreme classification.

Both systems train the same network -- sparse input (hashed features, 100k dims) -> hidden layer (ReLU) -> N outputs,
softmax cross-entropy -- with the same initialisation scale, Adam with the same learning rate, the same batches in
the same order, the same number of epochs and the same number of threads:

* udt:   `udt.engine.Network`, output sparsity "auto" (LSH-retrieved active neurons, K/L/R autotuned).
* torch: EmbeddingBag(mode="sum", per_sample_weights) + bias + ReLU + Linear, dense softmax over all N outputs,
         torch.optim.Adam (fused when available), torch.set_num_threads(threads).

Settings:
  debsearch       real data, `xml/debsearch_{train,test}.csv` of `../shared/data/fetch.py`: a Debian package's
                  description sentences (train) / one-line summary (test) -> the package (63k classes).  Text is
                  lower-cased, split into alphanumeric tokens, and its unigrams + bigrams are hashed (seeded
                  FNV-1a 64, in numpy) into the 100k input dims.
  synthetic-200k  `synthetic_xc.py`: power-law label frequencies, learnable per-label prototype features (see there).
  synthetic-670k  the same with 670k labels.

Each system runs in its own process (spawned with subprocess, OMP_WAIT_POLICY=PASSIVE set before torch is imported),
which reports its own peak RSS (getrusage ru_maxrss).  Data are hashed/generated once by the parent, written to a
temporary .npz and loaded by every worker; hashing / generation / loading / per-epoch shuffling are timed separately
from training.  Reported per setting: train samples/s of both and the ratio; P@1 and P@5 on the held-out split after the
same epochs (udt with dense = exact and with sparse = LSH inference); mean / p99 single-sample latency of udt dense,
udt sparse and torch; peak RSS of each process.  Then the targets are checked and printed PASS/FAIL (never an error exit):
  1. train speedup >= 10x at >= 200k labels, with udt P@1 (dense inference) at most 1 point below torch's;
  2. sparse inference >= 10x faster than torch (mean single-sample latency), with P@1 at most 1 point below udt dense;
  3. udt's peak RSS <= torch's.

Usage:
  python benchmarks/engine_xc.py                 # full run (< 20 min on 2 cores), human-readable table
  python benchmarks/engine_xc.py --quick         # small sizes, ~1-2 min
  python benchmarks/engine_xc.py --json          # one JSON object per setting on stdout (everything else on stderr)
  python benchmarks/engine_xc.py --only synthetic-200k --epochs 2 --hidden 256 --threads 2 --data DIR
In --json output P@1 values are fractions in [0, 1], latencies milliseconds, RSS MiB, throughputs samples/s.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time

os.environ["OMP_WAIT_POLICY"] = "PASSIVE"  # before any import that could load an OpenMP runtime (torch)

import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from _bench_util import (Csr, Timer, XcData, epoch_order, hit_at_k, latency_stats, load_average,  # noqa: E402
                         peak_rss_mb, precision_at_k, text_to_csr)
from engine_xc_report import check_targets, print_table, summary_row  # noqa: E402

INPUT_DIM = 100_000

# Sizes.  PyTorch's dense output layer costs ~6*hidden*N flops per training sample (670k x 128: ~0.5 GFLOP) and its
# Adam step touches every weight, so on 2 cores it trains ~1700 samples/s at 63k labels, ~330 at 200k and ~115 at
# 670k (hidden 128, batch 1024).  The full-run sizes below keep the whole run under 20 minutes on 2 cores.
# Dense exact evaluation over every class is also costly (test rows x N x hidden MACs), hence the test subsets.
FULL = {
    "debsearch": dict(epochs=2, batch=1024, lr=1e-2, n_classes=None, test_max=10_000, latency_n=500),
    "synthetic-200k": dict(labels=200_000, train=24_000, test=5_000, epochs=2, batch=512, lr=2e-3, latency_n=300),
    "synthetic-670k": dict(labels=670_000, train=10_000, test=3_000, epochs=2, batch=512, lr=2e-3, latency_n=150),
}
QUICK = {
    "debsearch": dict(epochs=1, batch=1024, lr=1e-2, n_classes=16_384, test_max=4_000, latency_n=200),
    "synthetic-200k": dict(labels=200_000, train=6_000, test=2_000, epochs=1, batch=512, lr=2e-3, latency_n=100),
}
SETTINGS = tuple(FULL)


def log(*a) -> None:
    print(*a, file=sys.stderr, flush=True)


# ====================================================================================================================
# Data preparation (parent process)

def default_data_dir() -> str:
    return os.environ.get("UDT_DATASETS") or os.path.expanduser("~/.cache/udt-datasets")


def prepare_debsearch(data_dir: str, n_classes: int | None, test_max: int | None, seed: int) -> XcData:
    import csv
    csv.field_size_limit(1 << 30)
    paths = [os.path.join(data_dir, "xml", f"debsearch_{s}.csv") for s in ("train", "test")]
    for p in paths:
        if not os.path.exists(p):
            raise SystemExit(f"missing {p}: run `python ../shared/data/fetch.py {data_dir}` (or pass --data DIR)")
    rows = []
    for p in paths:
        with open(p, newline="", encoding="utf-8") as f:
            r = csv.reader(f)
            header = next(r)
            if header[:2] != ["package", "text"]:
                raise SystemExit(f"{p}: expected columns package,text, got {header}")
            rows.append([(row[0], row[1]) for row in r])
    train, test = rows
    classes = sorted({p for p, _ in train} | {p for p, _ in test})
    if n_classes is not None and n_classes < len(classes):  # --quick: a fixed random subset of the classes
        keep = np.random.default_rng(seed).choice(len(classes), n_classes, replace=False)
        classes = [classes[i] for i in sorted(keep)]
        keep_set = set(classes)
        train = [t for t in train if t[0] in keep_set]
        test = [t for t in test if t[0] in keep_set]
    if test_max is not None and len(test) > test_max:  # a fixed random subset of the test rows, in file order
        test = [test[i] for i in sorted(np.random.default_rng(seed + 1).choice(len(test), test_max, replace=False))]
    cid = {c: i for i, c in enumerate(classes)}
    xs = []
    for part in (train, test):
        xs.append(Csr(*text_to_csr([t for _, t in part], INPUT_DIM, seed=seed)))
    y_tr = np.array([cid[p] for p, _ in train], dtype=np.int64)
    y_te = np.array([cid[p] for p, _ in test], dtype=np.int64)
    return XcData("debsearch", INPUT_DIM, len(classes), xs[0], y_tr, xs[1], y_te,
                  {"source": "xml/debsearch_{train,test}.csv", "features": "lowercase unigrams+bigrams, FNV-1a"})


def prepare(name: str, cfg: dict, args) -> XcData:
    if name == "debsearch":
        return prepare_debsearch(args.data, cfg.get("n_classes"), cfg.get("test_max"), args.seed)
    from synthetic_xc import SyntheticSpec, make_synthetic
    data, _ = make_synthetic(SyntheticSpec(cfg["labels"], cfg["train"], cfg["test"], input_dim=INPUT_DIM,
                                           seed=args.seed))
    return data


# ====================================================================================================================
# Workers (each in its own process)

def _latency_rows(data: XcData, n: int) -> list[int]:
    return list(range(min(n, data.x_test.n)))


def _train_loop(data: XcData, cfg: dict, step) -> dict:
    """Run `epochs` epochs of `step(batch_csr, batch_labels)`; shuffling is timed apart from training."""
    bs = cfg["batch"]
    train_s = shuffle_s = 0.0
    losses = []
    n = data.x_train.n
    for epoch in range(cfg["epochs"]):
        with Timer() as t:
            order = epoch_order(n, cfg["seed"], epoch)
            x = data.x_train.take(order)
            y = data.y_train[order]
            prepared = cfg["prepare_epoch"](x, y)
        shuffle_s += t.seconds
        total, batches = 0.0, 0
        with Timer() as t:
            for a in range(0, n, bs):
                b = min(a + bs, n)
                total += float(step(prepared, a, b))
                batches += 1
            cfg["end_epoch"]()
        train_s += t.seconds
        losses.append(total / max(batches, 1))
        log(f"    [{cfg['system']}] epoch {epoch + 1}/{cfg['epochs']}: mean loss {losses[-1]:.4f}  "
            f"{n / t.seconds:,.0f} samples/s")
    return {"train_s": train_s, "shuffle_s": shuffle_s, "train_samples": n * cfg["epochs"],
            "train_sps": n * cfg["epochs"] / train_s, "epoch_losses": losses}


def _eval_topk(predict_batch, x: Csr, y: np.ndarray, batch: int) -> dict:
    tops = []
    with Timer() as t:
        for a in range(0, x.n, batch):
            tops.append(predict_batch(x.slice(a, min(a + batch, x.n))))
    top = np.concatenate(tops)
    return {"p1": precision_at_k(top, y, 1), "p5": precision_at_k(top, y, 5), "hit5": hit_at_k(top, y, 5),
            "eval_s": t.seconds}


def _latency(call, inputs: list, warmup: int = 10) -> dict:
    for i in range(min(warmup, len(inputs))):
        call(inputs[i])
    times = []
    for inp in inputs:
        t0 = time.perf_counter()
        call(inp)
        times.append(time.perf_counter() - t0)
    return latency_stats(times)


def worker_udt_probe(data_path: str, cfg: dict) -> dict:
    """Build (not train) the udt network and report its initial weight statistics, so torch can use the same scale."""
    from udt.engine import Network
    meta = XcData.load(data_path)
    net = Network(input_dim=meta.input_dim, hidden_dim=cfg["hidden"], output_dim=meta.n_labels,
                  output_sparsity="auto", loss="softmax", learning_rate=cfg["lr"], seed=cfg["seed"],
                  n_threads=cfg["threads"])
    stats = {}
    for name, arr in net.state_arrays().items():
        arr = np.asarray(arr)
        if arr.dtype.kind == "f" and arr.size > 0 and arr.ndim <= 2:
            stats[name] = {"shape": list(arr.shape), "mean": float(arr.mean()), "std": float(arr.std()),
                           "absmax": float(np.abs(arr).max())}
    return {"init_stats": stats, "lsh_params": _jsonable(net.lsh_params), "config": _jsonable(net.config)}


def _jsonable(x):
    return json.loads(json.dumps(x, default=lambda o: o.item() if hasattr(o, "item") else str(o)))


def worker_udt(data_path: str, cfg: dict) -> dict:
    import udt.engine
    from udt.engine import Network
    with Timer() as tl:
        data = XcData.load(data_path)
    net = Network(input_dim=data.input_dim, hidden_dim=cfg["hidden"], output_dim=data.n_labels,
                  output_sparsity="auto", loss="softmax", learning_rate=cfg["lr"], seed=cfg["seed"],
                  n_threads=cfg["threads"])
    n_max = max(data.x_train.n, cfg["batch"]) + 1
    label_offsets = np.arange(n_max, dtype=np.int64)

    def prepare_epoch(x: Csr, y: np.ndarray):
        return x, y.astype(np.uint32)

    def step(prepared, a, b):
        x, y = prepared
        xb = x.slice(a, b)
        return net.train_batch(xb.indices, xb.values, xb.offsets, y[a:b], label_offsets[:b - a + 1])

    cfg = dict(cfg, system="udt", prepare_epoch=prepare_epoch, end_epoch=net.end_epoch)
    res = _train_loop(data, cfg, step)
    # The sparse-inference index (rebuilt tables + every training row's label in its buckets) is part of
    # building the model, so its time counts as training time.
    with Timer() as ti:
        net.index_labels(data.x_train.indices, data.x_train.values, data.x_train.offsets,
                         data.y_train.astype(np.uint32), np.arange(data.x_train.n + 1, dtype=np.int64))
    res["index_s"] = ti.seconds
    res["train_s"] += ti.seconds
    res["train_sps"] = res["train_samples"] / res["train_s"]
    res["load_s"] = tl.seconds
    res["lsh_params"] = _jsonable(net.lsh_params)

    def pred(sparse):
        return lambda xb: net.predict(xb.indices, xb.values, xb.offsets, top_k=5, sparse=sparse)[0]

    res["dense"] = _eval_topk(pred(False), data.x_test, data.y_test, 2048)
    res["sparse"] = _eval_topk(pred(True), data.x_test, data.y_test, 2048)
    singles = [data.x_test.slice(i, i + 1) for i in _latency_rows(data, cfg["latency_n"])]
    res["dense"]["latency"] = _latency(lambda xb: net.predict(xb.indices, xb.values, xb.offsets, top_k=5,
                                                              sparse=False), singles)
    res["sparse"]["latency"] = _latency(lambda xb: net.predict(xb.indices, xb.values, xb.offsets, top_k=5,
                                                               sparse=True), singles)
    res["engine_module"] = getattr(udt.engine, "__file__", "?")
    res["peak_rss_mb"] = peak_rss_mb()
    return res


def worker_torch(data_path: str, cfg: dict) -> dict:
    with Timer() as ti:
        import torch
        import torch.nn.functional as F
    torch.set_num_threads(cfg["threads"])
    torch.manual_seed(cfg["seed"])
    with Timer() as tl:
        data = XcData.load(data_path)
    D, H, N = data.input_dim, cfg["hidden"], data.n_labels

    class DenseXc(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = torch.nn.EmbeddingBag(D, H, mode="sum")
            self.hidden_bias = torch.nn.Parameter(torch.zeros(H))
            self.out = torch.nn.Linear(H, N)

        def forward(self, idx, off, w):
            return self.out(torch.relu(self.emb(idx, off, per_sample_weights=w) + self.hidden_bias))

    model = DenseXc()
    init = cfg["init"]
    with torch.no_grad():
        for param, spec in ((model.emb.weight, init["hidden_weight"]), (model.out.weight, init["output_weight"])):
            if spec["dist"] == "uniform":
                param.uniform_(-spec["bound"], spec["bound"])
            else:
                param.normal_(0.0, spec["std"])
        model.hidden_bias.fill_(init["hidden_bias"])
        model.out.bias.fill_(init["output_bias"])
    adam = dict(lr=cfg["lr"], betas=(init["beta1"], init["beta2"]), eps=init["eps"])  # udt's Adam hyper-parameters
    try:
        opt = torch.optim.Adam(model.parameters(), fused=True, **adam)
        opt_kind = "Adam(fused)"
    except (RuntimeError, TypeError, ValueError):
        opt = torch.optim.Adam(model.parameters(), **adam)
        opt_kind = "Adam"
    opt_kind += f" lr {adam['lr']} betas {adam['betas']} eps {adam['eps']}"

    def to_torch(x: Csr):  # -> the model's (indices, offsets, per_sample_weights)
        # EmbeddingBag takes the n row starts (not the n+1 CSR offsets) unless include_last_offset=True
        return (torch.from_numpy(x.indices.astype(np.int64)), torch.from_numpy(x.offsets[:-1]),
                torch.from_numpy(x.values))

    def prepare_epoch(x: Csr, y: np.ndarray):
        return (torch.from_numpy(x.indices.astype(np.int64)), torch.from_numpy(x.values),
                torch.from_numpy(x.offsets), torch.from_numpy(y))

    def step(prepared, a, b):
        idx, val, off, y = prepared
        s, e = int(off[a]), int(off[b])
        logits = model(idx[s:e], off[a:b] - s, val[s:e])
        loss = F.cross_entropy(logits, y[a:b])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss.item()

    cfg = dict(cfg, system="torch", prepare_epoch=prepare_epoch, end_epoch=lambda: None)
    model.train()
    res = _train_loop(data, cfg, step)
    res["load_s"] = tl.seconds
    res["import_s"] = ti.seconds
    res["optimizer"] = opt_kind
    model.eval()
    # eval batches bounded so the (batch, N) logits stay ~256 MB
    eval_batch = max(16, min(2048, (64 << 20) // N))

    @torch.inference_mode()
    def predict(xb: Csr):
        return torch.topk(model(*to_torch(xb)), 5, dim=1).indices.numpy()

    res["dense"] = _eval_topk(predict, data.x_test, data.y_test, eval_batch)
    singles = [to_torch(data.x_test.slice(i, i + 1)) for i in _latency_rows(data, cfg["latency_n"])]

    @torch.inference_mode()
    def single(t):
        return torch.topk(model(*t), 5, dim=1).indices.numpy()

    res["dense"]["latency"] = _latency(single, singles)
    res["torch_version"] = torch.__version__
    res["peak_rss_mb"] = peak_rss_mb()
    return res


WORKERS = {"udt": worker_udt, "udt-probe": worker_udt_probe, "torch": worker_torch}


def run_worker(kind: str, data_path: str, cfg: dict) -> dict:
    """Run one worker in a fresh Python process; returns its result dict (or {"error": ...})."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(cfg, f)
        cfg_path = f.name
    out_path = cfg_path + ".out"
    env = dict(os.environ, OMP_WAIT_POLICY="PASSIVE")
    cmd = [sys.executable, os.path.abspath(__file__), "--_worker", kind, "--_data", data_path, "--_cfg", cfg_path,
           "--_out", out_path]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, stdout=sys.stderr, stderr=sys.stderr)
    wall = time.perf_counter() - t0
    try:
        if proc.returncode != 0:
            return {"error": f"{kind} worker exited with status {proc.returncode}", "wall_s": wall}
        with open(out_path) as f:
            res = json.load(f)
        res["wall_s"] = wall
        return res
    finally:
        for p in (cfg_path, out_path):
            if os.path.exists(p):
                os.unlink(p)


def worker_main(args) -> None:
    with open(args._cfg) as f:
        cfg = json.load(f)
    try:
        res = WORKERS[args._worker](args._data, cfg)
    except Exception as e:  # report, let the parent go on with the other systems
        import traceback
        traceback.print_exc()
        res = {"error": f"{type(e).__name__}: {e}"}
    with open(args._out, "w") as f:
        json.dump(res, f)


# ====================================================================================================================
# Parent: orchestration and report

def torch_init_from_udt(probe: dict, hidden: int, input_dim: int, n_labels: int) -> tuple[dict, str]:
    """Torch initialisation matching the udt network's: the measured distribution of udt's initial weights.

    Falls back to the engine's documented scheme (engine/src/{embedding,output}_layer.cc: N(0, 1/sqrt(hidden)) for
    both weight matrices, zero biases) if the probe failed."""
    default = {"hidden_weight": {"dist": "normal", "std": 1 / math.sqrt(hidden)},
               "output_weight": {"dist": "normal", "std": 1 / math.sqrt(hidden)},
               "hidden_bias": 0.0, "output_bias": 0.0, "beta1": 0.9, "beta2": 0.999, "eps": 1e-7}
    stats = probe.get("init_stats") if probe else None
    if not stats:
        return default, "engine's documented init (probe unavailable)"
    init = dict(default)
    for k in ("beta1", "beta2", "eps"):
        if isinstance(probe.get("config", {}).get(k), (int, float)):
            init[k] = float(probe["config"][k])
    found = []
    for name, s in stats.items():
        shape = tuple(s["shape"])
        if len(shape) == 2 and set(shape) == {input_dim, hidden}:
            key = "hidden_weight"
        elif len(shape) == 2 and set(shape) == {n_labels, hidden}:
            key = "output_weight"
        elif len(shape) == 1 and shape[0] == hidden and "bias" in name.lower():
            init["hidden_bias"] = s["mean"]
            continue
        elif len(shape) == 1 and shape[0] == n_labels and "bias" in name.lower():
            init["output_bias"] = s["mean"]
            continue
        else:
            continue
        if "adam" in name.lower() or "moment" in name.lower():
            continue
        uniform = s["absmax"] <= 1.8 * s["std"]  # a normal sample of this size has absmax >> 1.8 std
        init[key] = {"dist": "uniform", "bound": s["absmax"]} if uniform else {"dist": "normal", "std": s["std"]}
        found.append(f"{key}<-{name} ({init[key]['dist']}, std {s['std']:.4f})")
    return init, "measured from udt: " + ", ".join(found)


def run_setting(name: str, cfg: dict, args, tmpdir: str) -> dict:
    log(f"\n=== {name} ===")
    with Timer() as tp:
        data = prepare(name, cfg, args)
    path = os.path.join(tmpdir, f"{name}.npz")
    data.save(path)
    n_tr, n_te = data.x_train.n, data.x_test.n
    sizes = (f"{name}: {data.n_labels:,} labels, input dim {data.input_dim:,}, hidden {args.hidden}, "
             f"train {n_tr:,} x {cfg['epochs']} epoch(s), test {n_te:,}, batch {cfg['batch']}, Adam lr {cfg['lr']}, "
             f"threads {args.threads}; nnz/row train {np.diff(data.x_train.offsets).mean():.1f} "
             f"test {np.diff(data.x_test.offsets).mean():.1f}; data prepared in {tp.seconds:.1f} s")
    log("  " + sizes)
    del data
    wcfg = {"hidden": args.hidden, "threads": args.threads, "seed": args.seed, "epochs": cfg["epochs"],
            "batch": cfg["batch"], "lr": cfg["lr"], "latency_n": cfg["latency_n"]}
    meta = XcData.load(path)
    res = {"name": name, "labels": meta.n_labels, "sizes": sizes, "prep_s": tp.seconds, "n_train": n_tr,
           "n_test": n_te, "cfg": wcfg}
    probe = None
    if "udt" in args.systems:
        log("  [udt] probing initialisation ...")
        probe = run_worker("udt-probe", path, wcfg)
        if "error" in probe:
            log(f"  [udt] probe failed: {probe['error']}")
        log("  [udt] training ...")
        res["udt"] = run_worker("udt", path, wcfg)
        if "error" in res["udt"]:
            log(f"  [udt] FAILED: {res['udt']['error']}")
        res["udt_probe"] = probe
    if "torch" in args.systems:
        init, how = torch_init_from_udt(probe, args.hidden, meta.input_dim, meta.n_labels)
        log(f"  [torch] init: {how}")
        log("  [torch] training ...")
        res["torch"] = run_worker("torch", path, dict(wcfg, init=init))
        res["torch_init"] = how
        if "error" in res["torch"]:
            log(f"  [torch] FAILED: {res['torch']['error']}")
    os.unlink(path)
    return res


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("--data", default=default_data_dir(), help="datasets dir (default $UDT_DATASETS, else "
                                                                  "~/.cache/udt-datasets)")
    ap.add_argument("--quick", action="store_true", help="small sizes (~1-2 min): debsearch on 16k classes, "
                                                         "synthetic-200k on 6k samples")
    ap.add_argument("--only", help=f"comma-separated settings out of {', '.join(SETTINGS)}")
    ap.add_argument("--epochs", type=int, help="epochs for every setting (default: per setting, see the sizes)")
    ap.add_argument("--hidden", type=int, default=128, help="hidden width (default 128)")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="threads for both systems "
                                                                             "(default: all cores)")
    ap.add_argument("--batch", type=int, help="batch size for every setting (default: per setting)")
    ap.add_argument("--lr", type=float, help="Adam learning rate for every setting (default: per setting)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--systems", default="udt,torch", help="which systems to run (default udt,torch)")
    ap.add_argument("--json", action="store_true", help="print one JSON object per setting on stdout")
    ap.add_argument("--_worker", help=argparse.SUPPRESS)
    ap.add_argument("--_data", help=argparse.SUPPRESS)
    ap.add_argument("--_cfg", help=argparse.SUPPRESS)
    ap.add_argument("--_out", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args._worker:
        return worker_main(args)

    table = QUICK if args.quick else FULL
    names = list(table)
    if args.only:
        names = [n.strip() for n in args.only.split(",") if n.strip()]
        bad = [n for n in names if n not in table]
        if bad:
            ap.error(f"unknown setting(s) {bad} for this mode; valid: {', '.join(table)}")
    args.systems = [s.strip() for s in args.systems.split(",") if s.strip()]
    if not set(args.systems) <= {"udt", "torch"} or not args.systems:
        ap.error("--systems takes a comma-separated subset of udt,torch")
    if args.threads < 1 or args.hidden < 1 or (args.epochs is not None and args.epochs < 1):
        ap.error("--threads, --hidden and --epochs must be >= 1")

    human = sys.stderr if args.json else sys.stdout
    la0 = load_average()
    t0 = time.perf_counter()
    log(f"engine_xc: settings {names}, systems {args.systems}, threads {args.threads}, hidden {args.hidden}; "
        f"load average at start {la0[0]:.2f} {la0[1]:.2f} {la0[2]:.2f}")
    results = []
    with tempfile.TemporaryDirectory(prefix="udt-bench-") as tmpdir:
        for name in names:
            cfg = dict(table[name])
            for k in ("epochs", "batch", "lr"):
                if getattr(args, k) is not None:
                    cfg[k] = getattr(args, k)
            res = run_setting(name, cfg, args, tmpdir)
            res["load_average"] = load_average()
            results.append(res)
            row = summary_row(res)
            if args.json:
                print(json.dumps(row), flush=True)
            print_table(res, human)
            human.flush()
    total = time.perf_counter() - t0
    la = load_average()
    print(f"\n## Targets (2-core machine; load average now {la[0]:.2f} {la[1]:.2f} {la[2]:.2f}, at start "
          f"{la0[0]:.2f}; total wall time {total / 60:.1f} min)", file=human)
    for res in results:
        for target, status, detail in check_targets(summary_row(res)):
            print(f"   {status:5s} {res['name']:16s} {target}: {detail}", file=human)
    human.flush()


if __name__ == "__main__":
    main()
