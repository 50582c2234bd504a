"""Tail averaging (udt.training.weight_averaging): a table's fit keeps the mean of its last epochs' weights."""
import numpy as np
import pandas as pd

import udt.columns as col
from udt.interfaces.classifier import Classifier
from udt.training import weight_averaging as wa


class StepNetwork:
    """A stand-in network whose single weight becomes the epoch number at the end of each epoch."""
    lsh_params = None

    def __init__(self):
        self.w = {"w": np.zeros(3, np.float32)}

    def weights(self):
        return self.w


class StepRounds:
    def __init__(self, network):
        self.network = network

    def start(self, data):
        pass

    def epoch(self, data, batch_size, rng, epoch):
        yield 1, 0.0
        self.network.w["w"][...] = epoch

    def epoch_stats(self, seconds):
        return {}

    def stop(self, interrupted):
        pass


def run(epochs, first_epoch=1):
    net = StepNetwork()
    rounds = wa.TailAveragedRounds(StepRounds(net), net, first_epoch + epochs - 1, epochs)
    for e in range(first_epoch, first_epoch + epochs):
        list(rounds.epoch(None, 1, None, e))
    rounds.finish()
    return float(net.w["w"][0])


def test_the_last_half_of_the_epochs_is_averaged():
    assert run(8) == np.mean([5, 6, 7, 8])
    assert run(5) == np.mean([3, 4, 5])          # half rounded up
    assert run(2) == np.mean([1, 2])             # at least two
    assert run(4, first_epoch=11) == np.mean([13, 14])


def test_applies_to_a_small_dense_table_network_only():
    net = StepNetwork()
    assert wa.applies(net, has_text=False, epochs=8)
    assert not wa.applies(net, has_text=True, epochs=8)
    assert not wa.applies(net, has_text=False, epochs=1)
    assert not wa.applies(net, has_text=False, epochs=8, histories=True)
    net.lsh_params = {"K": 4}
    assert not wa.applies(net, has_text=False, epochs=8)


def test_a_table_fit_ends_on_the_averaged_weights(monkeypatch):
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, 600)
    data = pd.DataFrame({"x": x, "c": rng.choice(["a", "b"], 600), "label": np.where(x > 0.5, "hi", "lo")})
    columns = {"x": col.Numeric(), "c": col.Categorical(), "label": col.Categorical()}
    kwargs = dict(columns=columns, target="label", epochs=4, time_budget=0, seed=0, output_head="trained")
    averaged = Classifier(**kwargs).fit(data, progress=False)
    again = Classifier(**kwargs).fit(data, progress=False)
    monkeypatch.setattr(wa, "applies", lambda *a, **k: False)
    plain = Classifier(**kwargs).fit(data, progress=False)
    for name, w in averaged.network_.weights().items():
        assert np.array_equal(w, again.network_.weights()[name])          # deterministic
    assert any(not np.array_equal(w, plain.network_.weights()[name]) for name, w in averaged.network_.weights().items())
    assert averaged.score(data.drop(columns="label"), data["label"]) > 0.9
