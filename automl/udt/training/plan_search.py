"""Choices measured, not guessed: candidate plans scored on held-out rows by successive halving, in a budget.

The rules (udt.selection.model_selection) give a first plan from the data's statistics. With a time budget,
fit also tries plans that change one choice the user left on "auto" (learning rate x0.5 and x2, hidden width
x0.5 and x2, twice the epochs, the other text scaling), each trained on a subsample of the training rows and
scored on rows held out from them. Successive halving: every candidate trains on the smallest subsample, the
better half trains again on three times the rows, and so on until one is left or the budget is spent; the
best of the last rung wins and is then trained on all rows like any plan. A seed fixes the subsamples and the
networks, so the search is deterministic; a choice the user set is never searched.

Off by default (time_budget=0) until the calibration suite (benchmarks/suite.py) has measured it as a whole.
"""
from __future__ import annotations

import dataclasses
import time
import types
from typing import Callable

import numpy as np

from udt.ingest.batch import CsrBatch
from udt.ingest.row_scaling import add_idf, idf_weights
from udt.selection.model_selection import Plan
from udt.training.scoring import score_rows
from udt.training.trainer import InMemoryData, Trainer

HELD_OUT_SHARE = 0.1      # of the training rows, at most HELD_OUT_MAX, scored by every trial
HELD_OUT_MAX = 10_000
FIRST_RUNG_ROWS = 2_000   # rows of the smallest subsample (or all rows, when fewer)
GROWTH = 3                # each rung trains the surviving half on GROWTH x the rows


@dataclasses.dataclass(frozen=True)
class Trial:
    candidate: str
    rows: int
    score: float
    seconds: float

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def candidates(plan: Plan, has_text: bool, max_hidden: int) -> list[tuple[str, Plan]]:
    """The rules' plan, then one change at a time to each choice the rules made ("auto")."""
    out = [("rules", plan)]
    auto = set(plan.auto)
    if "learning_rate" in auto:
        out += [(f"learning_rate x{f:g}", dataclasses.replace(plan, learning_rate=plan.learning_rate * f))
                for f in (0.5, 2.0)]
    if "hidden_dim" in auto and plan.output_sparsity == 1.0:
        for f in (0.5, 2.0):
            width = int(min(max_hidden, max(16, round(plan.hidden_dim * f))))
            if width != plan.hidden_dim:
                out.append((f"hidden_dim x{f:g}", dataclasses.replace(plan, hidden_dim=width)))
    if "epochs" in auto:
        out.append(("epochs x2", dataclasses.replace(plan, epochs=min(40, plan.epochs * 2))))
    if "feature_scaling" in auto and has_text:
        other = "log-l2" if plan.feature_scaling == "log-idf-l2" else "log-idf-l2"
        out.append((f"feature_scaling {other}", dataclasses.replace(plan, feature_scaling=other)))
    return out


def search(options: list[tuple[str, Plan]], data: InMemoryData, task: str, metric, budget_seconds: float,
           seed: int, build_network: Callable[[Plan], object]) -> tuple[Plan, list[Trial]]:
    """The winning plan and every trial, in order. `data`'s rows are scaled with the first plan's
    feature scaling (log-l2 or none; a candidate with IDF re-weights its own copy)."""
    if len(options) < 2:
        return options[0][1], []
    start = time.perf_counter()
    rng = np.random.default_rng([seed, 0x5EA2C4])
    order = rng.permutation(data.n_rows)
    n_held = min(HELD_OUT_MAX, max(1, int(HELD_OUT_SHARE * data.n_rows)))
    held, pool = data.rows.take(np.sort(order[:n_held])), order[n_held:]
    trials: list[Trial] = []
    alive = list(range(len(options)))
    size = min(len(pool), FIRST_RUNG_ROWS)
    best = 0
    while alive:
        rows = data.rows.take(np.sort(pool[:size]))
        scores = {}
        for i in alive:
            if time.perf_counter() - start > budget_seconds and scores:
                break
            name, plan = options[i]
            t = time.perf_counter()
            score = _train_and_score(plan, rows, held, task, metric, seed, build_network)
            scores[i] = score
            trials.append(Trial(name, rows.n_rows, float(score), time.perf_counter() - t))
        ranked = sorted(scores, key=lambda i: (-scores[i] if metric.higher_is_better else scores[i], i))
        best = ranked[0]
        out_of_time = time.perf_counter() - start > budget_seconds
        if len(ranked) == 1 or size >= len(pool) or out_of_time:
            break
        alive = sorted(ranked[:max(1, len(ranked) // 2)])
        size = min(len(pool), size * GROWTH)
    return options[best][1], trials


def _train_and_score(plan: Plan, rows: CsrBatch, held: CsrBatch, task: str, metric, seed: int,
                     build_network: Callable[[Plan], object]) -> float:
    rows, held = _scaled(plan, rows, held)
    network = build_network(plan)
    Trainer(network, batch_size=min(plan.batch_size, max(32, rows.n_rows // 8)), seed=seed,
            progress=False).run(InMemoryData(rows), plan.epochs, [])
    view = types.SimpleNamespace(network=network, featurizer=types.SimpleNamespace(task=task),
                                 target_scale=[0.0, 1.0])  # held-out targets are standardised like the rows
    return score_rows(view, held, [metric], sparse=False)[metric.name]


def _scaled(plan: Plan, rows: CsrBatch, held: CsrBatch) -> tuple[CsrBatch, CsrBatch]:
    """The rows as `plan` scales them: IDF from the trial's own rows, applied to both (linear re-weighting
    of log-l2 rows; see udt.training.fit._fit_idf)."""
    if plan.feature_scaling != "log-idf-l2":
        return rows, held
    n = int(max(rows.indices.max(initial=0), held.indices.max(initial=0))) + 1
    idf = idf_weights(np.bincount(rows.indices, minlength=n), rows.n_rows)
    out = []
    for batch in (rows, held):
        batch = dataclasses.replace(batch)
        batch.values = add_idf(batch.values, batch.indices, batch.offsets, idf)
        out.append(batch)
    return out[0], out[1]
