"""Tail averaging: the weights a fit keeps are the mean of those at the end of its last epochs.

The last epochs of a small table's fit move the weights around a minimum more than into it (each step is a
few hundred rows' noisy gradient); the mean of the epoch-end weights sits nearer its centre (Polyak averaging,
SWA). Averaged: the weights after each of the last half of the epochs (AVERAGED_SHARE, at least 2 epochs).
Calibration suite, at the defaults of commit e95076c (before numeric_resolution and target_transform), plain ->
averaged (seeds 0 / 1; load 4.2):
  adult     0.8714 / 0.8711 -> 0.8716 / 0.8714 (seeds 2, 3: 0.8697 / 0.8706 -> 0.8698 / 0.8716)
  letter    0.9363 / 0.9370 -> 0.9373 / 0.9370      shuttle   0.9996 / 0.9994 -> 0.9996 / 0.9995
  diamonds  296.4 / 293.8 -> 291.6 / 292.6 MAE      ames      17,603 / 17,824 -> 17,336 / 17,506 MAE
Other shares, with numeric_resolution and target_transform in place (seeds 0-3 / 0-1): averaging every epoch,
adult 0.8712 / 0.8713 / 0.8711 / 0.8726 but letter 0.9325 / 0.9337, diamonds 289.3 / 288.0 (half: 0.9373 / 0.9370,
283.9 / 284.2); the last 30%: adult 0.8710 / 0.8710 / 0.8690 / 0.8707; after every batch of the last half
rather than every epoch: adult 0.8709 / 0.8704 / 0.8712 / 0.8699, letter 0.9377 / 0.9370, diamonds 284.7 / 284.4.
Only dense networks of a table (`applies`): a text model's embedding is hundreds of MB to add up every epoch,
and a sparse output layer's LSH index would have to follow the averaged rows; neither was measured. Not a
model with temporal histories, where it was measured to hurt: MovieLens recall@10 0.1357 -> 0.1251 (suite run,
load ~8). Not with a validation set, whose early stopping keeps its best epoch instead, nor distributed.
"""
from __future__ import annotations

import math
from typing import Iterator

import numpy as np

AVERAGED_SHARE = 0.5
MAX_PARAMETERS = 1 << 24  # 64 MB of float32 weights: a table's network (Adult: 211k), not a text model's


def applies(network, has_text: bool, epochs: int, histories: bool = False) -> bool:
    return (not has_text and not histories and network.lsh_params is None and epochs >= 2
            and sum(w.size for w in network.weights().values()) <= MAX_PARAMETERS)


class TailAveragedRounds:
    """A Trainer's rounds (udt.training.trainer.LocalRounds) that also sum the weights at the end of each of
    the last `averaged` epochs numbered up to `last_epoch`; finish() writes their mean into the network."""

    def __init__(self, rounds, network, last_epoch: int, epochs: int):
        self.rounds, self.network = rounds, network
        self.first_averaged = last_epoch - max(2, math.ceil(AVERAGED_SHARE * epochs)) + 1
        self.total, self.count = None, 0

    def start(self, data) -> None:
        self.rounds.start(data)

    def epoch(self, data, batch_size: int, rng: np.random.Generator, epoch: int) -> Iterator[tuple[int, float]]:
        yield from self.rounds.epoch(data, batch_size, rng, epoch)
        if epoch >= self.first_averaged:
            weights = self.network.weights()
            if self.total is None:
                self.total = {k: np.array(v, np.float64) for k, v in weights.items()}
            else:
                for k, v in weights.items():
                    self.total[k] += v
            self.count += 1

    def epoch_stats(self, seconds: float) -> dict:
        return self.rounds.epoch_stats(seconds)

    def stop(self, interrupted: bool) -> None:
        self.rounds.stop(interrupted)

    def finish(self) -> None:
        """The network's weights become the mean of the summed epochs' (unchanged when fewer than 2 ran)."""
        if self.count < 2:
            return
        views = self.network.weights()
        for k, total in self.total.items():
            views[k][...] = total / self.count
