"""Distributed training (udt.training.distributed): the merge math, the protocol on the in-process backend,
and the Ray backend (bit-identical to the in-process one) when ray is installed."""
import math
import os
import signal
import sys

import numpy as np
import pytest

import udt
from udt.training import distributed as dist
from udt.training.distributed import DistributedRounds, RayConfig, WorkerError
from udt.training.sparse_merge import AdamSettings, merge_row_blocks
from udt.engine import Network
from udt.ingest.batch import CsrBatch
from udt.training.trainer import InMemoryData, Trainer

from classifier_data import SMALL, TEXT_COLUMNS, adult_columns, adult_sample, text_table
from engine_tasks import prototype_task

os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # before ray is imported: no usage reporting


def block(rows, steps, weight, m=None, v=None):
    weight = np.asarray(weight, np.float32)
    return {"rows": np.asarray(rows, np.int64), "steps": np.asarray(steps, np.uint64), "embedding.weight": weight,
            "embedding.adam_m": weight / 10 if m is None else np.asarray(m, np.float32),
            "embedding.adam_v": np.abs(weight) / 100 if v is None else np.asarray(v, np.float32)}


# ---------------------------------------------------------------------------------------------- merge math
def test_merge_by_hand():
    old = np.array([[0, 0], [1, 1], [2, 2], [3, 3]], np.float32)   # the rows at the last merge
    w0 = block([0, 2], [5, 7], [[1, 2], [4, 6]], m=[[1, 1], [2, 2]], v=[[1, 1], [3, 3]])
    w1 = block([2, 3], [6, 4], [[6, 2], [5, 1]], m=[[4, 4], [3, 3]], v=[[5, 5], [1, 1]])
    merged = merge_row_blocks([w0, None, w1], "embedding")      # worker 1 of 3 touched nothing
    assert merged["rows"].tolist() == [0, 2, 3]
    assert merged["steps"].tolist() == [5, 7, 4]                  # max over the workers that touched a row
    # row 0: worker 0 alone; row 2: old + mean of the two deltas; row 3: worker 2 alone
    expected = np.array([[1, 2], old[2] + ((np.array([4, 6]) - old[2]) + (np.array([6, 2]) - old[2])) / 2, [5, 1]])
    np.testing.assert_array_equal(merged["embedding.weight"], expected)
    np.testing.assert_array_equal(merged["embedding.adam_m"], [[1, 1], [3, 3], [3, 3]])
    np.testing.assert_array_equal(merged["embedding.adam_v"], [[1, 1], [4, 4], [1, 1]])
    summed = merge_row_blocks([w0, w1], "embedding", old={"embedding.weight": old})
    np.testing.assert_array_equal(summed["embedding.weight"], [[1, 2], old[2] + (w0["embedding.weight"][1] - old[2])
                                                               + (w1["embedding.weight"][0] - old[2]), [5, 1]])
    np.testing.assert_array_equal(summed["embedding.adam_m"], merged["embedding.adam_m"])   # moments: mean
    assert merge_row_blocks([None, block([], [], np.zeros((0, 2)))], "embedding") is None


def test_a_row_one_worker_touched_is_copied_exactly():
    values = np.array([[1e8, -0.0, 3.3]], np.float32)
    merged = merge_row_blocks([block([4], [9], values), block([1], [9], [[1, 2, 3]])], "embedding")
    assert merged["embedding.weight"][1].tobytes() == values[0].tobytes()


def dense_adam_idle(w, m, v, first, last, adam):
    """Dense Adam with zero gradients at steps first..last, one step at a time."""
    w, m, v = (np.array(a, np.float64) for a in (w, m, v))
    for t in range(first, last + 1):
        m *= adam.beta1
        v *= adam.beta2
        lr_t = adam.learning_rate * math.sqrt(1 - adam.beta2 ** t) / (1 - adam.beta1 ** t)
        w -= lr_t * m / (np.sqrt(v) + adam.eps)
    return w, m, v


def test_merge_catches_an_older_contribution_up_before_averaging():
    adam = AdamSettings(learning_rate=1e-2, beta1=0.9, beta2=0.999, eps=1e-7, catch_up=True)
    rng = np.random.default_rng(0)
    w, m, v = rng.normal(size=(3, 1, 4)).astype(np.float32)
    v = np.abs(v) / 10
    early = block([7], [1000], w, m, v)            # worker 0 last moved row 7 at step 1000
    late = block([7], [1005], w + 1, m, v)         # worker 1 at step 1005
    for a in early.values():
        a.flags.writeable = False                  # as reports read from Ray's object store
    merged = merge_row_blocks([early, late], "embedding", adam)
    cw, cm, cv = dense_adam_idle(w, m, v, 1001, 1005, adam)   # what dense Adam does to worker 0's row meanwhile
    moved = 2 * merged["embedding.weight"].astype(np.float64) - (w + 1) - w   # how far worker 0's row was moved
    np.testing.assert_allclose(moved, cw - w, rtol=2e-3)    # the closed form holds eps fixed: not exact
    np.testing.assert_allclose(merged["embedding.adam_m"], (cm + m) / 2, rtol=1e-4)
    np.testing.assert_allclose(merged["embedding.adam_v"], (cv + v) / 2, rtol=1e-4)
    assert merged["steps"].tolist() == [1005]
    assert early["embedding.weight"].tobytes() == w.tobytes()   # inputs (read-only under Ray) untouched


# ---------------------------------------------------------------------------------------------- config
@pytest.mark.parametrize("kwargs, message", [
    (dict(num_workers=0), "num_workers must be an integer >= 1"),
    (dict(num_workers=2.5), "num_workers"),
    (dict(num_workers=True), "num_workers"),
    (dict(sync_every=0), "sync_every"),
    (dict(cpus_per_worker=0), "cpus_per_worker"),
    (dict(backend="spark"), r"backend must be one of \['ray', 'local'\]"),
    (dict(merge="median"), "merge must be one of"),
    (dict(sync_adam=1), "sync_adam must be True or False"),
    (dict(address=""), "address"),
    (dict(start_timeout_s=0), "start_timeout_s"),
    (dict(init_options="x"), "init_options"),
    (dict(backend="local", address="auto"), "backend='ray' only"),
])
def test_bad_ray_config(kwargs, message):
    with pytest.raises(ValueError, match=message):
        RayConfig(**kwargs)


def test_unknown_ray_config_field_lists_the_valid_ones():
    with pytest.raises(TypeError, match=r"unknown RayConfig field\(s\) \['workers'\]; valid fields: \['num_workers'"):
        RayConfig(workers=2)
    assert udt.RayConfig is RayConfig and RayConfig(num_workers=3).num_workers == 3


def test_fit_rejects_a_bad_distributed_argument():
    with pytest.raises(TypeError, match="distributed must be None or a udt.RayConfig"):
        udt.Classifier(columns=TEXT_COLUMNS, target="topic", **SMALL).fit(text_table(30), distributed={"workers": 2})


def test_missing_ray_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)   # import ray now raises ImportError
    model = udt.Classifier(columns=TEXT_COLUMNS, target="topic", **SMALL)
    with pytest.raises(ImportError, match=r'pip install "udt\[distributed\]"'):
        model.fit(text_table(30), distributed=RayConfig(num_workers=2))
    assert not hasattr(model, "featurizer_")          # refused before reading any data
    model.fit(text_table(60), distributed=RayConfig(num_workers=2, backend="local"), progress=False)


# ---------------------------------------------------------------------------------------------- protocol
def fit_text(distributed=None, n=600, **options):
    model = udt.Classifier(columns=TEXT_COLUMNS, target="topic", **dict(SMALL, **options))
    return model.fit(text_table(n), distributed=distributed, progress=False)


def assert_same_state(a, b):
    sa, sb = a.state_arrays(), b.state_arrays()
    assert sa.keys() == sb.keys()
    different = [k for k in sa if sa[k].tobytes() != sb[k].tobytes()]
    assert not different, f"state arrays differ: {different}"


@pytest.mark.parametrize("memory_budget_mb, sync_adam", [(2048, True), (0, True), (2048, False)])
def test_one_worker_is_single_process_training_bit_for_bit(memory_budget_mb, sync_adam):
    # memory_budget_mb=0: the data is streamed (re-featurized every epoch) instead of held in memory
    single = fit_text(memory_budget_mb=memory_budget_mb)
    one = fit_text(RayConfig(num_workers=1, sync_every=3, backend="local", sync_adam=sync_adam),
                   memory_budget_mb=memory_budget_mb)
    assert_same_state(single.network_, one.network_)
    assert [h["loss"] for h in single.history_] == [h["loss"] for h in one.history_]
    assert one.history_[0]["rounds"] == math.ceil(math.ceil(600 / 64) / 3)


def sparse_task():
    idx, off, labels = prototype_task(400, 3000, 3000, seed=1)
    rows = CsrBatch(idx, np.ones(len(idx), np.float32), off, labels.astype(np.uint32),
                    np.arange(len(labels) + 1, dtype=np.int64))
    return InMemoryData(rows), lambda: Network(3000, 32, 400, output_sparsity=0.1, seed=3, learning_rate=5e-3,
                                               n_threads=1)


def test_one_worker_with_lsh_output_matches_single_process_tables_and_all():
    data, make = sparse_task()
    single, one = make(), make()
    assert single.lsh_params is not None
    Trainer(single, batch_size=128, seed=0, progress=False).run(data, 2, [])
    Trainer(one, batch_size=128, seed=0, progress=False,
            rounds=DistributedRounds(one, RayConfig(num_workers=1, sync_every=4, backend="local"))).run(data, 2, [])
    assert_same_state(single, one)


def accuracy(model, table):
    return model.evaluate(table, metrics=["accuracy"])["accuracy"]


def test_two_workers_learn_about_as_well_as_one_process():
    table = adult_sample(4000)
    train, test = table.iloc[:3000], table.iloc[3000:]
    options = dict(input_dim=20_000, hidden_dim=32, batch_size=128, epochs=4)

    def fit(distributed=None):
        model = udt.Classifier(columns=adult_columns(), target="income", **options)
        return accuracy(model.fit(train, distributed=distributed, progress=False), test)

    single = fit()
    two = fit(RayConfig(num_workers=2, sync_every=4, backend="local", merge="sum"))
    two_mean = fit(RayConfig(num_workers=2, sync_every=4, backend="local"))
    assert single > 0.8 and two > single - 0.02 and two_mean > single - 0.05, (single, two, two_mean)


@pytest.mark.parametrize("sync_adam", [True, False])
def test_lsh_output_trains_on_two_workers(sync_adam):
    data, make = sparse_task()
    rows = data.rows.take(np.arange(1000))
    scores = []
    for config in (None, RayConfig(num_workers=2, sync_every=4, backend="local", sync_adam=sync_adam)):
        net = make()
        options = dict(batch_size=128, seed=0, progress=False)
        trainer = Trainer(net, **options, rounds=None if config is None else DistributedRounds(net, config))
        trainer.run(data, 6, [])
        ids, _ = net.predict(rows.indices, rows.values, rows.offsets)
        scores.append((ids[:, 0] == rows.label_indices).mean())
    assert scores[1] > scores[0] - 0.03, scores


def test_ctrl_c_keeps_the_last_merged_model(monkeypatch):
    calls = {"n": 0}
    original = dist.Replica.step

    def interrupt_third_round(self, *args):
        calls["n"] += 1
        if calls["n"] == 5:   # worker 0 in round 3
            raise KeyboardInterrupt
        return original(self, *args)

    monkeypatch.setattr(dist.Replica, "step", interrupt_third_round)
    model = udt.Classifier(columns=TEXT_COLUMNS, target="topic", **SMALL)
    with pytest.warns(RuntimeWarning, match="interrupted"):
        model.fit(text_table(600), distributed=RayConfig(num_workers=2, sync_every=1, backend="local"), progress=False)
    assert model.model_.interrupted and model.history_[-1]["interrupted"] and model.history_[-1]["rounds"] == 2
    assert model.network_.batches_trained == 2   # both completed rounds (one batch per worker) are merged
    assert len(model.predict(text_table(10, seed=9))) == 10


def bad_rows_data():
    """Rows whose feature ids exceed the network's input_dim: train_batch refuses them in the worker."""
    rows = CsrBatch(np.full(40, 5000, np.uint32), np.ones(40, np.float32), np.arange(0, 41, 4, dtype=np.int64),
                    np.zeros(10, np.uint32), np.arange(11, dtype=np.int64))
    return InMemoryData(rows)


def test_a_failing_worker_is_named_with_its_cause():
    net = Network(100, 8, 3)
    trainer = Trainer(net, batch_size=4, seed=0, progress=False,
                      rounds=DistributedRounds(net, RayConfig(num_workers=2, backend="local")))
    with pytest.raises(WorkerError, match=r"worker 0 of 2 failed in epoch 1, round 1: ValueError: .*index 5000, "
                                          r"expected < 100") as info:
        trainer.run(bad_rows_data(), 1, [])
    assert isinstance(info.value.cause, ValueError) and trainer.rounds._pool is None


# ---------------------------------------------------------------------------------------------- Ray
@pytest.fixture(scope="module")
def ray_cluster():
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield ray
    ray.shutdown()


@pytest.mark.parametrize("merge, sync_adam", [("sum", True), ("mean", False)])
def test_ray_and_local_backends_are_bit_identical(ray_cluster, merge, sync_adam):
    config = dict(num_workers=2, sync_every=2, merge=merge, sync_adam=sync_adam)
    local = fit_text(RayConfig(backend="local", **config), epochs=2)
    on_ray = fit_text(RayConfig(backend="ray", **config), epochs=2)
    assert_same_state(local.network_, on_ray.network_)
    assert [h["loss"] for h in local.history_] == [h["loss"] for h in on_ray.history_]
    assert accuracy(on_ray, text_table(90, seed=7)) > 0.8   # 2 epochs: a sanity check, not a target


def test_ray_with_lsh_and_streamed_data_matches_local(ray_cluster):
    data, make = sparse_task()
    nets = []
    for backend in ("local", "ray"):
        nets.append(make())
        Trainer(nets[-1], batch_size=256, seed=0, progress=False,
                rounds=DistributedRounds(nets[-1], RayConfig(num_workers=2, sync_every=3, backend=backend))).run(data, 1, [])
    assert_same_state(*nets)
    streamed = [fit_text(RayConfig(num_workers=2, sync_every=2, backend=b), memory_budget_mb=0, epochs=1)
                for b in ("local", "ray")]
    assert_same_state(streamed[0].network_, streamed[1].network_)


def test_ray_worker_failure_is_named_and_the_actors_are_released(ray_cluster):
    net = Network(100, 8, 3)
    trainer = Trainer(net, batch_size=4, seed=0, progress=False, rounds=DistributedRounds(net, RayConfig(num_workers=2)))
    with pytest.raises(WorkerError, match=r"worker [01] of 2 failed in epoch 1, round 1: ValueError: .*index 5000"):
        trainer.run(bad_rows_data(), 1, [])
    assert ray_cluster.is_initialized()          # a cluster udt did not start is left running
    assert ray_cluster.available_resources().get("CPU", 0) == 2 or _wait_for_cpus(ray_cluster, 2)


def _wait_for_cpus(ray, n, seconds=10.0):
    import time
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if ray.available_resources().get("CPU", 0) >= n:
            return True
        time.sleep(0.2)
    return False


def test_ray_ctrl_c_stops_cleanly_with_the_merged_model(ray_cluster, monkeypatch):
    original = DistributedRounds._apply
    merges = {"n": 0}

    def apply_then_sigint(self, merge, reports):
        original(self, merge, reports)
        merges["n"] += 1
        if merges["n"] == 2:   # round 2 is in the driver's model, round 3 is running
            signal.raise_signal(signal.SIGINT)   # a real Ctrl-C, raised in the driver's main thread

    monkeypatch.setattr(DistributedRounds, "_apply", apply_then_sigint)
    # What a terminal gives Python. A process a non-interactive shell starts in the background (`cmd &`, as
    # some CI runners do) inherits SIGINT *ignored*, and then Python installs no KeyboardInterrupt handler.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    model = udt.Classifier(columns=TEXT_COLUMNS, target="topic", **SMALL)
    try:
        with pytest.warns(RuntimeWarning, match="interrupted"):
            model.fit(text_table(600), distributed=RayConfig(num_workers=2, sync_every=1), progress=False)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert model.model_.interrupted and model.network_.batches_trained == 2
    assert len(model.predict(text_table(10, seed=9))) == 10
    assert _wait_for_cpus(ray_cluster, 2)        # the workers were released


def test_distributed_continued_training_of_a_sparse_model_with_its_larger_inference_index():
    """After a sparse fit the driver's tables have the index pass's shape (4 x L); the workers' tables have
    the training shape: the epoch-end handover restores the shape as well as the contents."""
    from classifier_data import many_class_table
    table = many_class_table(n_classes=120, per_class=5)
    columns = {"text": udt.Text(), "label": udt.Categorical()}
    model = udt.Classifier(columns=columns, target="label", sparsity=0.2, input_dim=5000, hidden_dim=32, epochs=6,
                           learning_rate=1e-2).fit(table, progress=False)
    assert model.network_.lsh_params["L"] == model.network_.inference_tables
    model.set_params(warm_start=True)
    model.fit(table, epochs=2, progress=False, distributed=RayConfig(num_workers=2, backend="local"))
    assert (model.predict(table, sparse_inference=False) == table.label).mean() > 0.9
    assert (model.predict(table, sparse_inference=True) == table.label).mean() > 0.8
