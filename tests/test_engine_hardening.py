"""Issue 16, the C++ side: crafted values and files are refused with clear errors, never crash.

Cases that used to crash the process run in a subprocess, so a crash fails the test instead of
the test run. Also: the engine's exported bounds, state names and layout, and its catch-up Adam.
"""

import numpy as np
import pytest

from fresh_process import survives

from udt import _core
from udt.engine import Network

ENGINE = _core.engine


_survives = survives  # tests/fresh_process.py


# ------------------------------------------------------------------ bounds: validated in C++, exported once
def test_config_bounds_cover_the_numeric_fields_and_drive_validation():
    bounds = ENGINE.config_bounds()
    for name in ("input_dim", "hidden_dim", "output_dim", "output_sparsity", "learning_rate", "n_threads",
                 "lsh_k", "lsh_l", "lsh_r", "random_negatives", "embedding_init_scale"):
        assert name in bounds, name
    assert bounds["hidden_dim"] == (1, 65535, True, True, True)
    assert bounds["n_threads"].max == 1024 and bounds["lsh_r"].max < 2 ** 32 - 1
    assert bounds["output_sparsity"].min == 0 and not bounds["output_sparsity"].min_inclusive
    for name, b in bounds.items():   # one past each finite end is refused, naming the field and the range
        if not b.integer:
            continue
        for bad in (b.min - 1, b.max + 1):
            if bad < 0 or bad >= 2 ** 32:
                continue   # not representable in the C++ field: pybind refuses it before validate
            config = ENGINE.NetworkConfig()
            config.input_dim, config.output_dim = 10, 10
            setattr(config, name, bad)
            with pytest.raises(ValueError, match=rf"{name} must be in \[{b.min}, {b.max}\], got {bad}"):
                config.validate()


def test_huge_lsh_r_is_refused_not_a_crash():
    out = _survives("""
        from udt.engine import Network
        for kwargs in (dict(lsh_r=2**32 - 1), dict(lsh_k=30, lsh_l=4096, lsh_r=1000)):
            try:
                Network(100, 8, 1000, output_sparsity=0.1, **kwargs)
            except ValueError as e:
                print("refused:", e)
    """)
    assert "refused: lsh_r must be in [0, 2147483647], got 4294967295" in out
    assert "exceeds 2^36 words" in out


def test_thread_counts_are_bounded():
    with pytest.raises(ValueError, match=r"n_threads must be in \[0, 1024\], got 5000"):
        Network(10, 8, 4, n_threads=5000)


def test_thread_start_failure_is_an_error_not_a_hang():
    # 1000 threads need ~8 GB of stack address space: under a 1.5 GB limit most cannot start.
    out = _survives("""
        import resource, udt
        from udt import _core
        soft = int(open("/proc/self/statm").read().split()[0]) * resource.getpagesize() + (1536 << 20)
        resource.setrlimit(resource.RLIMIT_AS, (soft, resource.RLIM_INFINITY))
        config = _core.engine.NetworkConfig()
        config.input_dim, config.hidden_dim, config.output_dim, config.n_threads = 100, 8, 10, 1000
        try:
            _core.engine.Network(config)
            print("started")   # a machine that can start them all: still fine
        except RuntimeError as e:
            print("refused:", e)
    """, timeout=60)
    assert "refused: could not start thread" in out or "started" in out


# ------------------------------------------------------------------ CSR offsets checked before use
def test_bad_csr_offsets_are_refused_before_reading_through_them():
    config = ENGINE.NetworkConfig()
    config.input_dim, config.hidden_dim, config.output_dim = 100, 8, 4
    net = ENGINE.Network(config)
    idx = np.arange(5, dtype=np.uint32)
    with pytest.raises(ValueError, match="offsets decrease at row 1"):
        net.predict_topk(idx, None, np.array([0, 100, 5], np.int64), 1, False, 1.0)   # row 0 would read 100
    with pytest.raises(ValueError, match="offsets decrease"):
        net.train_batch(idx, None, np.array([0, 1 << 40, 5], np.int64), np.zeros(2, np.uint32), None,
                        np.array([0, 1, 2], np.int64))
    with pytest.raises(ValueError, match="offsets\\[0\\] must be 0"):
        net.embed(idx, None, np.array([-3, 5], np.int64))


# ------------------------------------------------------------------ restored state
def _sparse_net(**kw):
    return Network(300, 16, 2000, output_sparsity=0.05, seed=2, **kw)


def test_saved_lsh_params_claiming_a_huge_r_over_no_buckets_are_refused():
    out = _survives("""
        import numpy as np
        from udt.engine import Network
        net = Network(300, 16, 2000, output_sparsity=0.05, seed=2)
        state = net.state_arrays()
        state["lsh.params"] = np.array([net.lsh_params["K"], net.lsh_params["L"], 2**32 - 1], np.uint32)
        state["lsh.buckets"] = np.zeros(0, np.uint32)
        try:
            net.load_state_arrays(state)
        except ValueError as e:
            print("refused:", e)
        x = np.arange(8, dtype=np.uint32)
        ids, _ = net.predict(x, None, np.array([0, 8]), top_k=3, sparse=True)   # still usable
        print("predicted", ids.shape)
    """)
    assert "refused: LSH R (bucket capacity, lsh_r) must be in [1, 2147483647], got 4294967295" in out
    assert "predicted (1, 3)" in out


def test_state_layout_checks_a_file_before_anything_is_allocated():
    net = _sparse_net()
    lsh = net.lsh_params
    layout = ENGINE.state_layout(300, 16, 2000, lsh_k=lsh["K"], lsh_l=lsh["L"], lsh_r=lsh["R"])
    views = net.state_views()
    rowwise_only = {"embedding.rowwise_v", "embedding.rowwise_steps"}
    assert set(layout) == set(views) == set(ENGINE.STATE_ARRAYS) - rowwise_only
    for name, view in views.items():
        assert layout[name] == (view.shape, str(view.dtype)), name
    dense = Network(50, 8, 20).state_views()
    assert set(dense) == set(ENGINE.STATE_ARRAYS) - set(ENGINE.LSH_STATE_ARRAYS) - rowwise_only
    # A row-wise embedding has one moment per row instead of Adam's two per weight.
    rowwise = Network(50, 8, 20, embedding_optimizer="rowwise").state_views()
    adam_only = {"embedding.adam_m", "embedding.adam_v", "embedding.adam_steps"}
    assert set(rowwise) == set(dense) - adam_only | rowwise_only
    assert rowwise["embedding.rowwise_v"].shape == (50,)
    assert {name: (v.shape, str(v.dtype)) for name, v in rowwise.items()} == \
        ENGINE.state_layout(50, 8, 20, embedding_optimizer="rowwise")
    with pytest.raises(ValueError, match="embedding_optimizer 'sgd'"):
        ENGINE.state_layout(50, 8, 20, embedding_optimizer="sgd")
    assert set(Network(50, 8, 20).state_arrays()) - set(dense) == set(ENGINE.STATE_COUNTERS)
    with pytest.raises(ValueError, match="lsh_r"):
        ENGINE.state_layout(300, 16, 2000, lsh_k=10, lsh_l=8, lsh_r=2 ** 32 - 1)
    with pytest.raises(ValueError, match="hidden_dim must be in"):
        ENGINE.state_layout(300, 100_000, 2000)


def test_bucket_ids_beyond_the_output_layer_are_caught_and_never_read():
    out = _survives("""
        import numpy as np
        from udt.engine import Network
        net = Network(300, 16, 2000, output_sparsity=0.05, seed=2)
        net.state_views()["lsh.buckets"][1::7] = 0xFFFFFFF0   # counters and ids alike
        try:
            net._net.validate_state()
        except ValueError as e:
            print("refused:", e)
        x = np.arange(8, dtype=np.uint32)
        ids, _ = net.predict(x, None, np.array([0, 8]), top_k=3, sparse=True)
        assert ((ids >= 0) & (ids < 2000)).all()
        print("predicted")
    """)
    assert "refused: lsh.buckets holds a neuron id >= output_dim (2000)" in out and "predicted" in out


def test_temporal_history_offsets_are_checked():
    out = _survives("""
        import numpy as np
        from udt import _core
        f = _core.featurizers
        cols = []
        for name, kind in (("user", 1), ("item", 1), ("ts", 2)):
            c = f.ColumnConfig(); c.name, c.kind = name, kind; cols.append(c)
        fz = f.TableFeaturizer(cols, 1000, 0)
        fz.set_temporal(0, [1], 2, 5)
        keys = np.array([11, 12], np.uint64)
        ts, values = np.array([1, 2, 3], np.int64), np.array([7, 8, 9], np.uint64)
        for offsets in ([0, 1 << 40, 3], [0, 2, 1], [0, 1, 4], [0, 1]):
            try:
                fz.load_history_state(keys, np.array(offsets, np.int64), ts, values)
                print("accepted", offsets)
            except ValueError as e:
                print("refused:", e)
        fz.load_history_state(keys, np.array([0, 1, 3], np.int64), ts, values)
        print("keys", fz.n_history_keys)
    """)
    assert out.count("refused: temporal history") == 4 and "accepted" not in out
    assert "offsets[1] = 1099511627776 is not in [offsets[0], 3]" in out
    assert "keys 2" in out


def test_graph_offsets_are_checked():
    out = _survives("""
        import numpy as np
        from udt import _core
        f = _core.featurizers
        cols = []
        for name, kind in (("node", 5), ("nbrs", 6)):
            c = f.ColumnConfig(); c.name, c.kind = name, kind; c.delimiter = " "; cols.append(c)
        fz = f.TableFeaturizer(cols, 1000, 0)
        nodes = np.array([1, 2], np.int64)
        feats, labels = np.array([5, 6, 7], np.uint32), np.array([0, 1], np.uint32)
        for fo, lo in (([0, 1 << 40, 3], [0, 1, 2]), ([0, 1, 3], [0, 2, 1]), ([0, 3], [0, 1, 2])):
            try:
                fz.load_graph_state(nodes, np.array(fo, np.int64), feats, np.array(lo, np.int64), labels)
                print("accepted")
            except ValueError as e:
                print("refused:", e)
        print("nodes after refusals", fz.n_graph_nodes)
        fz.load_graph_state(nodes, np.array([0, 1, 3], np.int64), feats, np.array([0, 1, 2], np.int64), labels)
        idx, val = fz.featurize_dict({"node": 3, "nbrs": "1 2"})
        print("featurized", len(idx) > 0)
    """)
    assert out.count("refused: graph") == 3 and "accepted" not in out
    assert "nodes after refusals 0" in out and "featurized True" in out


# ------------------------------------------------------------------ catch-up Adam, once, in C++
def test_adam_catch_up_binding_is_the_engines():
    """A row trained at step 1, idle for steps 2..T, then used at T+1 with feature value 0 (so its
    gradient is 0 and the forward pass does not read it): the engine catches it up inside train_batch.
    A copy whose row was caught up by the binding beforehand ends bit-identical."""
    rng = np.random.default_rng(0)
    a = Network(50, 8, 5, seed=4, learning_rate=0.01)

    def batch(ids, vals):
        x = np.array(ids, np.uint32)
        off = np.arange(0, len(ids) + 1, 2, dtype=np.int64)
        y = rng.integers(0, 5, len(ids) // 2).astype(np.uint32)
        return x, np.array(vals, np.float32), off, y, np.arange(len(y) + 1, dtype=np.int64)

    def train(net, b):
        net.train_batch(b[0], b[1], b[2], b[3], b[4])

    train(a, batch([7, 1, 7, 2], [1.0, 1.0, 0.5, 1.0]))
    T = 20
    for _ in range(2, T + 1):
        train(a, batch([3, 4, 5, 6], [1.0, 0.3, 1.0, 0.7]))     # row 7 idles
    b = Network(**a.config)
    b.load_state_arrays(a.state_arrays())
    views = b.state_views()
    assert int(views["embedding.adam_steps"][7]) == 1
    rows = [views[n][7:8].copy() for n in ("embedding.weight", "embedding.adam_m", "embedding.adam_v")]
    c = a.config
    ENGINE.adam_catch_up(*rows, np.array([1], np.uint64), np.array([T], np.uint64), c["learning_rate"],
                         c["beta1"], c["beta2"], c["eps"])
    assert not np.array_equal(rows[0], views["embedding.weight"][7:8])   # it moved
    for name, row in zip(("embedding.weight", "embedding.adam_m", "embedding.adam_v"), rows):
        views[name][7:8] = row
    views["embedding.adam_steps"][7] = T
    last = batch([7, 3, 8, 9], [0.0, 1.0, 1.0, 1.0])
    train(a, last)
    train(b, last)
    for name, view in a.state_views().items():
        np.testing.assert_array_equal(view, b.state_views()[name], err_msg=name)


def test_adam_catch_up_refuses_arrays_it_would_not_write_in_place():
    w = np.zeros((3, 4), np.float64)
    with pytest.raises(ValueError, match="weights must be a writable C-contiguous float32"):
        ENGINE.adam_catch_up(w, w, w, np.ones(3, np.uint64), np.full(3, 5, np.uint64), 0.01, 0.9, 0.999, 1e-7)
    f = np.zeros((3, 4), np.float32)
    with pytest.raises(ValueError, match="one entry per row"):
        ENGINE.adam_catch_up(f, f, f, np.ones(3, np.uint64), np.full(2, 5, np.uint64), 0.01, 0.9, 0.999, 1e-7)


def test_restore_lsh_checks_the_bucket_array_before_allocating():
    net = _sparse_net()
    lsh = net.lsh_params
    raw = net._net   # the engine object: restore_lsh is what a model-file loader calls
    buckets = np.array(net.state_views()["lsh.buckets"], copy=True)
    with pytest.raises(ValueError, match=r"LSH R \(bucket capacity, lsh_r\) must be in \[1, 2147483647\]"):
        raw.restore_lsh(lsh["L"], 2 ** 32 - 1, np.zeros(0, np.uint32))
    with pytest.raises(ValueError, match="lsh.buckets has 0 words"):
        raw.restore_lsh(lsh["L"], 1000, np.zeros(0, np.uint32))
    bad = buckets.copy()
    bad[1] = 2000                                   # bucket 0's first id: == output_dim
    bad[0] = max(int(bad[0]), 1)
    with pytest.raises(ValueError, match=r"neuron id >= output_dim \(2000\)"):
        raw.restore_lsh(lsh["L"], lsh["R"], bad)
    assert net.lsh_params["R"] == lsh["R"]          # refusals changed nothing
    # A bigger saved index (as index_labels builds) round-trips exactly.
    x = np.arange(40, dtype=np.uint32) % 300
    off = np.arange(0, 41, 4, dtype=np.int64)
    net.index_labels(x, None, off, np.arange(10, dtype=np.uint32), np.arange(11, dtype=np.int64),
                     num_tables=2 * lsh["L"])
    saved = (net.lsh_params["L"], net.lsh_params["R"], np.array(net.state_views()["lsh.buckets"], copy=True))
    copy = _sparse_net()
    copy._net.restore_lsh(*saved)
    assert (copy.lsh_params["L"], copy.lsh_params["R"]) == saved[:2]
    np.testing.assert_array_equal(copy.state_views()["lsh.buckets"], saved[2])


def test_a_bucket_view_stays_valid_memory_when_the_index_is_reshaped():
    # Distributed workers keep state views across rounds; a model that ran the index pass (4 x L)
    # is reshaped back by its next training batch. The old view used to point at freed memory.
    out = _survives("""
        import numpy as np
        from udt.engine import Network
        net = Network(300, 16, 2000, output_sparsity=0.05, seed=2)
        rng = np.random.default_rng(0)
        x = rng.integers(0, 300, 4000).astype(np.uint32)
        off = np.arange(0, 4001, 4, dtype=np.int64)
        y = rng.integers(0, 2000, 1000).astype(np.uint32)
        y_off = np.arange(1001, dtype=np.int64)
        net.index_labels(x, None, off, y, y_off, num_tables=4 * net.lsh_params["L"])
        stale = net.state_views()["lsh.buckets"]
        for _ in range(3):
            net.train_batch(x, None, off, y, y_off)     # restores the training shape: new tables
        fresh = net.state_views()["lsh.buckets"]
        assert stale.size > fresh.size
        stale[:] = 0xFFFFFFFF                            # writes to the old storage, harmlessly
        total = int(stale.sum(dtype=np.uint64))
        ids, _ = net.predict(x[:40], None, off[:11], top_k=3, sparse=True)
        print("ok", total > 0, ids.shape)
    """)
    assert "ok True (10, 3)" in out


def test_featurizer_setters_refuse_column_indices_out_of_range():   # indices come from a model file
    f = _core.featurizers
    cols = []
    for name, kind in (("user", 1), ("item", 1), ("ts", 2)):
        c = f.ColumnConfig()
        c.name, c.kind = name, kind
        cols.append(c)
    fz = f.TableFeaturizer(cols, 1000, 0)
    with pytest.raises(ValueError, match=r"temporal tracked column: column index 7 is not in \[0, 3\)"):
        fz.set_temporal(0, [7], 2, 5)
    with pytest.raises(ValueError, match="temporal history length must be in"):
        fz.set_temporal(0, [1], 2, 0)
    with pytest.raises(ValueError, match="crosses: column index -1"):
        fz.set_crosses([(0, -1)])
    fz.set_temporal(0, [1], 2, 5)   # valid ones still work
    fz.set_crosses([(0, 1)])


def test_a_restored_network_skips_random_init():
    blank = Network(300, 16, 2000, output_sparsity=0.05, seed=2, initialize=False)
    assert not blank.weights()["embedding.weight"].any() and not blank.weights()["output.weight"].any()
    net = _sparse_net()
    x = np.arange(40, dtype=np.uint32)
    offsets = np.array([0, 10, 20, 40])
    net.train_batch(x, None, offsets, np.array([5, 6, 7], np.uint32), np.arange(4))
    config, arrays = net.state()
    arrays = {k: np.array(v) for k, v in arrays.items()}
    same = Network.from_state(config, arrays)
    np.testing.assert_array_equal(same.predict(x, None, offsets, top_k=5, sparse=True)[0],
                                  net.predict(x, None, offsets, top_k=5, sparse=True)[0])
    assert all(np.array_equal(v, net.state_arrays()[k]) for k, v in same.state_arrays().items())
