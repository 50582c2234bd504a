"""The estimators' options, each declared once: name, type, bounds, default and help.

Everything else derives from this table: the estimators' constructor signature (udt.interfaces.estimator), fit's
validation (an invalid value fails before any data is read, naming the option, the value and the valid
range), the error that lists the valid options, and the command line's flags (udt.interfaces.cli). Bounds that the
engine enforces are read from the engine itself (udt._core.engine.config_bounds()), never retyped.
"""
from __future__ import annotations

import functools
import math
import numbers
from dataclasses import dataclass
from typing import Any, Optional


@dataclass(frozen=True)
class Option:
    name: str
    default: Any
    kind: str  # "int", "float", "bool", "bool_or_fraction", "choice", "column", "class_weight", "temporal", "crosses"
    help: str
    choices: tuple = ()           # kind "choice": the valid values
    auto: bool = False            # "auto" is valid (chosen from the data by udt.selection.model_selection)
    none: bool = False            # None is valid
    lo: Optional[float] = None    # numeric bounds; lo_open / hi_open exclude the end
    hi: Optional[float] = None
    lo_open: bool = False
    hi_open: bool = False
    engine: Optional[str] = None  # the engine config field whose bounds this option obeys

    @property
    def bounds(self) -> tuple:
        """(lo, hi, lo_open, hi_open): the declared bounds, narrowed to the engine's."""
        lo, hi, lo_open, hi_open = self.lo, self.hi, self.lo_open, self.hi_open
        if self.engine is not None:
            b = _engine_bounds()[self.engine]
            if lo is None or b.min > lo:
                lo, lo_open = b.min, not b.min_inclusive
            if hi is None or b.max < hi:
                hi, hi_open = b.max, not b.max_inclusive
        return lo, hi, lo_open, hi_open

    @property
    def expected(self) -> str:
        """What a valid value looks like, for errors and --help."""
        if self.kind == "choice":
            parts = [f'"{c}"' if isinstance(c, str) else str(c) for c in self.choices]
        elif self.kind == "bool":
            parts = ["True", "False"]
        elif self.kind == "temporal":
            parts = ['{"key_column": ["item_column", ...]}']
        elif self.kind == "column":
            parts = ["a column name"]
        elif self.kind == "class_weight":
            parts = ['"balanced"', "a dict {label: weight >= 0}"]
        elif self.kind == "bool_or_fraction":
            parts = ["True", "False", "a fraction in (0, 1]"]
        elif self.kind == "crosses":
            parts = ["False", "True (all pairs)", '"auto"', "a list of (column, column) pairs"]
        else:
            lo, hi, lo_open, hi_open = self.bounds
            noun = "an integer" if self.kind == "int" else "a float"
            if hi is None or math.isinf(hi):
                parts = [f"{noun} {'>' if lo_open else '>='} {_number(lo)}"]
            else:
                parts = [f"{noun} in {'(' if lo_open else '['}{_number(lo)}, {_number(hi)}{')' if hi_open else ']'}"]
        if self.auto:
            parts.insert(0, '"auto"')
        if self.none:
            parts.insert(0, "None")
        return ", ".join(parts[:-1]) + " or " + parts[-1] if len(parts) > 1 else parts[0]

    def valid(self, v) -> bool:
        if (self.auto and isinstance(v, str) and v == "auto") or (self.none and v is None):
            return True
        if self.kind == "choice":
            return isinstance(v, (str, bool)) and v in self.choices
        if self.kind == "bool" or (self.kind == "bool_or_fraction" and (isinstance(v, bool) or
                                                                       type(v).__name__ == "bool_")):
            return isinstance(v, bool) or type(v).__name__ == "bool_"
        if self.kind == "column":
            return isinstance(v, str) and bool(v)
        if self.kind == "class_weight":
            return v == "balanced" or (isinstance(v, dict) and all(
                isinstance(w, numbers.Real) and not isinstance(w, bool) and math.isfinite(w) and w >= 0
                for w in v.values()))
        if self.kind == "temporal":
            return isinstance(v, dict) and all(
                isinstance(k, str) and isinstance(items, (list, tuple)) and items and
                all(isinstance(i, str) for i in items) for k, items in v.items())
        if self.kind == "crosses":
            return v is False or v is True or v == "auto" or (isinstance(v, (list, tuple)) and all(
                isinstance(p, (list, tuple)) and len(p) == 2 and all(isinstance(c, str) for c in p) for p in v))
        number = numbers.Integral if self.kind == "int" else numbers.Real  # "float", "bool_or_fraction"
        if not isinstance(v, number) or isinstance(v, bool) or math.isnan(float(v)):
            return False
        lo, hi, lo_open, hi_open = self.bounds
        return ((lo is None or (v > lo if lo_open else v >= lo)) and
                (hi is None or (v < hi if hi_open else v <= hi)))


def _number(x) -> str:
    if x is None:
        return "-inf"
    if isinstance(x, int) or float(x).is_integer() and abs(x) >= 1:
        return f"{int(x):,}".replace(",", "_") if abs(x) >= 100_000 else str(int(x))
    return f"{x:g}"


@functools.lru_cache(maxsize=1)
def _engine_bounds() -> dict:
    from udt import _core
    return _core.engine.config_bounds()


OPTIONS = (
    Option("temporal", None, "temporal", none=True,
           help="per-key history features: each row sees the key's most recent items (in timestamp order)"),
    Option("crosses", False, "crosses",
           help="extra features for pairs of tabular columns; off by default because the hidden layer learns "
                "interactions itself (UCI Adult: 0.863 accuracy without, 0.850 with all pairs)"),
    Option("feature_scaling", "auto", "choice", choices=("none", "l2", "log-l2", "log-idf-l2"), auto=True,
           help="how feature values reach the network (udt.ingest.row_scaling); auto: chosen from the data by "
                "udt.selection.model_selection.auto_feature_scaling"),
    Option("input_dim", "auto", "int", auto=True, engine="input_dim", help="number of hashed input feature ids"),
    Option("hidden_dim", "auto", "int", auto=True, engine="hidden_dim", help="width of the hidden layer"),
    Option("sparsity", "auto", "float", auto=True, engine="output_sparsity",
           help="fraction of output neurons evaluated per training sample (1.0 = dense)"),
    Option("sparse_inference", "auto", "bool_or_fraction", auto=True, lo=0, lo_open=True, hi=1,
           help="predict with LSH-retrieved output neurons instead of all of them; a number: that fraction of "
                "the outputs is evaluated (True: half the training sparsity)"),
    Option("label_augmentation", True, "bool",
           help="sparse output layers: insert a true label the LSH tables missed into the sample's buckets, so "
                "sparse inference finds it (BOLT section 4.3)"),
    Option("learning_rate", "auto", "float", auto=True, engine="learning_rate", help="Adam learning rate"),
    Option("embedding_optimizer", "auto", "choice", choices=("adam", "rowwise"), auto=True,
           engine="embedding_optimizer",
           help="optimizer state of the input embedding table: 'adam' (two moments per weight) or 'rowwise' (one "
                "per row, no momentum: a third of the table's memory and of its update's memory traffic); auto: "
                "udt.selection.model_selection.auto_embedding_optimizer"),
    Option("batch_size", "auto", "int", auto=True, lo=1, hi=2**31 - 1, help="rows per training step"),
    Option("epochs", "auto", "int", auto=True, lo=1, hi=100_000,
           help="passes over the training data (fit(epochs=...) overrides it)"),
    Option("output_head", "auto", "choice", choices=("trained", "centroid"), auto=True,
           help="classifiers: after training, keep the trained output rows or set each class's row to the mean "
                "hidden activation of its training rows (udt.training.centroid_head; better for search, where queries are "
                "worded unlike the training rows); auto: udt.selection.model_selection.auto_output_head"),
    Option("class_weight", None, "class_weight", none=True,
           help='classifiers: "balanced" (every class carries the same total weight: n / (classes x rows of the '
                'class)) or {label: weight}; multiplies fit\'s sample_weight (udt.training.row_weights)'),
    Option("time_budget", "auto", "float", auto=True, lo=0, hi=1e6,
           help="seconds fit may spend training candidate plans on subsamples and scoring them on held-out rows "
                "(udt.training.plan_search); auto: a table's rows with and without pairwise crosses, compared on "
                "subsamples costing at most 0.3 of one fit's training work; 0: the rules' plan, no search. With "
                "crosses left False the search may add them; crosses=[] pins none"),
    Option("target_transform", "auto", "choice", choices=("none", "log"), auto=True,
           help="regressors: learn the target as is or as its log (predictions are exp of it); auto: log when every "
                "training target is > 0 and its log is the more symmetric (udt.training.target_transform)"),
    Option("early_stopping_patience", 2, "int", none=True, lo=1, hi=100_000,
           help="with a validation set, stop after this many epochs without improvement and keep the best epoch"),
    Option("threshold", 0.5, "float", lo=0, lo_open=True, hi=1,
           help="multi-label targets: predict every label whose probability reaches this (at least the best one; "
                "a softmax head's label probability is its share x a scale fitted after training, "
                "udt.training.label_sets); "
                "two classes: predict classes_[1] where its probability reaches this, else classes_[0]"),
    Option("hash_family", "dwta", "choice", choices=("dwta", "srp"), help="LSH family of the sparse output layer"),
    Option("seed", 0, "int", lo=0, hi=2**63 - 1, help="seed of every random choice (hashing, init, shuffling)"),
    Option("n_threads", None, "int", none=True, lo=1, engine="n_threads",
           help="threads for featurizing and training (None: all cores)"),
    Option("timestamp", None, "column", none=True,
           help="temporal models: the udt.Date() or udt.Numeric() (Unix seconds) column that orders events "
                "(None: the one Date column)"),
    Option("history_length", 10, "int", lo=1, hi=10_000,
           help="temporal models: events kept per key and tracked column (the most recent ones)"),
    Option("warm_start", False, "bool", help="fit() continues training the fitted model instead of starting over"),
    Option("memory_budget_mb", 2048, "int", lo=0, hi=2**40,
           help="memory fit holds for training rows, besides the model and the code: featurized rows up to half of "
                "it are kept in memory (fully reshuffled every epoch); larger data is re-read every epoch within it "
                "(udt.training.memory_budget: the reader, allocator slack, a shuffle buffer in which rows mix, one "
                "batch with the engine's workspace), so a file many times larger than memory trains in bounded "
                "memory; streaming needs at least 26 MB (0: that smallest footprint). A validation source is held "
                "in memory apart from it"),
)
OPTION_NAMES = tuple(o.name for o in OPTIONS)


def unknown_option_error(kind: str, names) -> TypeError:
    return TypeError(f"unknown option(s) {', '.join(map(repr, sorted(names)))} for udt.{kind}; "
                     f"valid options: columns, target, {', '.join(OPTION_NAMES)}")


def validate_options(values: dict) -> dict:
    """Check every option value; returns them unchanged (bool-like numpy values made plain)."""
    checked = {}
    for option in OPTIONS:
        value = values[option.name]
        if not option.valid(value):
            raise ValueError(f"invalid {option.name}={value!r}: expected {option.expected}")
        plain_bool = option.kind == "bool" or (option.kind == "bool_or_fraction" and type(value).__name__ == "bool_")
        checked[option.name] = bool(value) if plain_bool and value != "auto" else value
    return checked
