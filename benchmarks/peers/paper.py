"""The BOLT paper's own experiments on debsearch, with udt's engine alone (`udt.engine.Network`):

* sparsity sweep: output sparsity 0.005 .. 1.0 -> P@1 (dense and sparse inference), train time, latencies;
* autotuned K/L/R (paper 4.2) versus a small grid of K, L, R at the same sparsity;
* sparse inference with and without label-neuron augmentation (paper 4.3, Table 1's shape).

Data: a quarter of debsearch's packages (~16k classes, `tasks.prep_debsearch_slice`; 1/12 with --quick).
Inputs are what udt.Classifier feeds its network: unigrams + bigrams hashed into 2^20 ids, 1 + log(count)
times IDF, unit-L2 rows (scikit-learn's HashingVectorizer + TfidfTransformer compute the same formula), so the
engine is measured alone. Network shape and schedule come from the Classifier's own chooser
(`udt.selection.model_selection.choose_architecture`: hidden 256, batch, learning rate, epochs) with LSH-only negatives
(`random_negatives=0`, the paper's selection and the Classifier's); only the knob under study changes.
Latency here is engine-only (one pre-hashed row -> top 5); the Classifier rows of the `debsearch` task include
featurization. Each experiment returns one result row per configuration."""
from __future__ import annotations

import time
from typing import Any

import numpy as np

from .base import read_csv
from .common import label_vocab
from .harness import Result, Stopwatch, Unavailable, measure_latency, peak_rss_mb

K = 5
SPARSITIES = (0.005, 0.01, 0.02, 0.05, 0.1, 1.0)
GRID = {"full": [(k, l, r) for k in (5, 7) for l in (16, 64) for r in (32, 128)],
        "quick": [(k, l, None) for k in (5, 7) for l in (16, 64)]}
INPUT_DIM = 1 << 20
# Each configuration's network (a 2^20 x 256 input layer: 1 GiB of weights, more with Adam state) is not saved: a dozen
# such files would take about as long as the experiments; the debsearch task's udt rows measure udt's model file.
NO_MODEL_FILE = "not measured for engine experiments (see the debsearch task's udt rows)"


def _network_cls():
    try:
        from udt.engine import Network
    except Exception as e:  # noqa: BLE001 - missing or half-built engine: a recorded "unavailable" row
        raise Unavailable(f"udt.engine.Network not available ({type(e).__name__}: {e})") from e
    return Network


class Data:
    def __init__(self, ctx):
        from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer
        from udt.selection.model_selection import choose_architecture

        with Stopwatch() as sw:
            tr = read_csv(ctx["train"])
            te = read_csv(ctx["test"])
            self.classes, index = label_vocab(tr["package"].astype(str))
            counts = HashingVectorizer(ngram_range=(1, 2), n_features=INPUT_DIM, alternate_sign=False, norm=None,
                                       dtype=np.float32)
            tfidf = TfidfTransformer(sublinear_tf=True)  # 1 + log(tf), smoothed IDF ln((1+n)/(1+df)) + 1, L2
            self.X = tfidf.fit_transform(counts.transform(tr["text"].fillna("").astype(str).tolist()))
            self.X = self.X.astype(np.float32).tocsr()
            self.y = np.array([index[p] for p in tr["package"].astype(str)], dtype=np.uint32)
            self.Xt = tfidf.transform(counts.transform(te["text"].fillna("").astype(str).tolist()))
            self.Xt = self.Xt.astype(np.float32).tocsr()
            self.yt = np.array([index.get(p, -1) for p in te["package"].astype(str)], dtype=np.int64)
        self.featurize_s = sw.seconds
        self.n = self.X.shape[0]
        # The Classifier's choice for this data; every experiment keeps it except the knob it varies.
        self.arch = choose_architecture(self.n, len(self.classes), "single", has_text=True, normalized_rows=True)
        self.lat_rows = list(np.random.default_rng(0).permutation(self.Xt.shape[0])[:int(ctx["latency_rows"])])


def _csr(X):
    return X.indices.astype(np.uint32), X.data.astype(np.float32), X.indptr.astype(np.int64)


def _train(net, d: Data, seed: int) -> float:
    start = time.perf_counter()
    for epoch in range(d.arch.epochs):
        order = np.random.default_rng([seed, epoch]).permutation(d.n)
        for s in range(0, d.n, d.arch.batch_size):
            b = order[s:s + d.arch.batch_size]
            idx, val, off = _csr(d.X[b])
            net.train_batch(idx, val, off, d.y[b], np.arange(len(b) + 1, dtype=np.int64))
        net.end_epoch()
    return time.perf_counter() - start


def _evaluate(net, d: Data, sparse: bool) -> dict[str, float]:
    hits1 = hits5 = 0
    with Stopwatch() as sw:
        for s in range(0, d.Xt.shape[0], 4096):
            ids, _ = net.predict(*_csr(d.Xt[s:s + 4096]), top_k=K, sparse=sparse)
            y = d.yt[s:s + 4096, None]
            hits1 += int((ids[:, :1] == y).sum())
            hits5 += int((ids == y).any(1).sum())
    n = d.Xt.shape[0]
    tag = "sparse" if sparse else "dense"
    return {f"precision@1_{tag}": hits1 / n, f"precision@5_{tag}": hits5 / n / K,
            f"rows_per_s_{tag}": n / sw.seconds}


def _latency(net, d: Data, sparse: bool):
    rows = [_csr(d.Xt[i:i + 1]) for i in d.lat_rows]
    return measure_latency(lambda r: net.predict(*r, top_k=K, sparse=sparse), rows)


def _run_config(ctx, d: Data, system: str, notes: str, name_lsh: bool = False, **options) -> dict[str, Any]:
    """Train and measure one configuration; name_lsh appends the K and L the network ended up with to `system`."""
    Network = _network_cls()
    a = d.arch
    options.setdefault("random_negatives", a.random_negatives)
    net = Network(input_dim=a.input_dim, hidden_dim=a.hidden_dim, output_dim=a.output_dim,
                  learning_rate=a.learning_rate, n_threads=int(ctx["threads"]), seed=int(ctx["seed"]), **options)
    train_s = _train(net, d, int(ctx["seed"]))
    sparse_ok = net.lsh_params is not None
    m = _evaluate(net, d, sparse=False)
    if sparse_ok:
        m.update(_evaluate(net, d, sparse=True))
    dense_lat = _latency(net, d, sparse=False)
    m.update(latency_ms_mean_dense=dense_lat.mean_ms, latency_ms_p99_dense=dense_lat.p99_ms)
    lat = dense_lat
    if sparse_ok:
        lat = _latency(net, d, sparse=True)
        m.update(latency_ms_mean_sparse=lat.mean_ms, latency_ms_p99_sparse=lat.p99_ms)
    m["train_samples_per_s"] = a.epochs * d.n / train_s
    lsh = net.lsh_params or {}
    if name_lsh and lsh:
        system += f" (K={lsh['K']} L={lsh['L']})"
    for key in ("K", "L", "R"):
        if key in lsh:
            m[f"lsh_{key}"] = float(lsh[key])
    m["active_neurons"] = float(net.active_neurons)
    m["output_sparsity"] = float(net.output_sparsity)
    primary = m.get("precision@1_sparse", m["precision@1_dense"])
    res = Result(task=ctx["task"], dataset=ctx["dataset"], system=system, metric_name="precision@1",
                 metric=primary, train_s=train_s + d.featurize_s, latency_ms_mean=lat.mean_ms,
                 latency_ms_p50=lat.p50_ms, latency_ms_p99=lat.p99_ms, peak_rss_mb=peak_rss_mb(),
                 throughput_rows_s=m.get("rows_per_s_sparse", m["rows_per_s_dense"]), metrics=m,
                 n_train=d.n, n_test=d.Xt.shape[0], model_file_note=NO_MODEL_FILE,
                 notes=(f"{notes}; {len(d.classes)} classes, hidden {a.hidden_dim}, {a.epochs} epochs, batch "
                        f"{a.batch_size}, lr {a.learning_rate:.1e}; metric/latency = "
                        f"{'sparse' if sparse_ok else 'dense'} inference; train_s includes {d.featurize_s:.0f} s "
                        "hashing; peak RSS is the whole experiment's process"))
    return res.to_dict()


def _lsh_sparsity(d: Data) -> float:
    """The chooser's output sparsity; the --quick slice (~5k classes) is below the chooser's dense threshold,
    so there the LSH experiments fix 0.05."""
    return d.arch.output_sparsity if d.arch.output_sparsity < 1 else 0.05


def sparsity_sweep(ctx) -> list[dict[str, Any]]:
    _network_cls()
    d = Data(ctx)
    return [_run_config(ctx, d, f"udt engine s={s:g}", f"output sparsity {s:g}", output_sparsity=s)
            for s in SPARSITIES]


def autotune_vs_grid(ctx) -> list[dict[str, Any]]:
    _network_cls()
    d = Data(ctx)
    mode = "quick" if ctx["quick"] else "full"
    s = _lsh_sparsity(d)
    rows = [_run_config(ctx, d, "udt engine autotuned K/L/R", f"output sparsity {s}, K/L/R autotuned",
                        name_lsh=True, output_sparsity=s)]
    for k, l, r in GRID[mode]:
        label = f"K={k} L={l}" + (f" R={r}" if r else "")
        rows.append(_run_config(ctx, d, f"udt engine {label}", f"output sparsity {s}, {label}",
                                output_sparsity=s, lsh_k=k, lsh_l=l, lsh_r=r))
    return rows


def label_augmentation(ctx) -> list[dict[str, Any]]:
    _network_cls()
    d = Data(ctx)
    s = _lsh_sparsity(d)
    return [_run_config(ctx, d, f"udt engine {'with' if aug else 'without'} label augmentation",
                        f"output sparsity {s}, label_augmentation={aug}", output_sparsity=s, label_augmentation=aug)
            for aug in (True, False)]
