"""The estimators' options: one table that gives each option its default, its check and its doc.

The table is the single source for constructor defaults, `fit`-time validation (an invalid value
names the option, the value and what would be right), the error that lists the valid options, and
the command line's flags.
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any, Callable


@dataclass(frozen=True)
class Option:
    name: str
    default: Any
    check: Callable[[Any], bool]
    expected: str   # what a valid value looks like, for error messages and --help
    doc: str


def _int(lo=1):
    return lambda v: isinstance(v, numbers.Integral) and not isinstance(v, bool) and v >= lo


def _auto_or(check):
    return lambda v: (isinstance(v, str) and v == "auto") or check(v)


def _positive_float(v):
    return isinstance(v, numbers.Real) and not isinstance(v, bool) and 0 < float(v) < float("inf")


def _fraction(v):
    return isinstance(v, numbers.Real) and not isinstance(v, bool) and 0 < float(v) <= 1


def _bool(v):
    return isinstance(v, (bool,)) or type(v).__name__ == "bool_"


def _temporal(v):
    return v is None or (isinstance(v, dict) and all(
        isinstance(k, str) and isinstance(items, (list, tuple)) and items and all(isinstance(i, str) for i in items)
        for k, items in v.items()))


OPTIONS = (
    Option("temporal", None, _temporal, 'None or {"key_column": ["item_column", ...]}',
           "per-key history features: each row sees the key's most recent items (in timestamp order)"),
    Option("crosses", False, lambda v: v is False or v is True or v == "auto" or (isinstance(v, (list, tuple)) and all(
        isinstance(p, (list, tuple)) and len(p) == 2 and all(isinstance(c, str) for c in p) for p in v)),
        'False, True (all pairs), "auto" or a list of (column, column) pairs',
        "extra features for pairs of tabular columns; off by default because the hidden layer learns "
        "interactions itself (UCI Adult: 0.863 accuracy without, 0.850 with all pairs)"),
    Option("feature_scaling", "auto", lambda v: v in ("auto", "none", "l2", "log-l2", "log-idf-l2"),
           '"auto", "none", "l2", "log-l2" or "log-idf-l2"',
           "how feature values reach the network (see udt.trainer.scale_features); auto: for text, log-idf-l2 "
           "(TF-IDF rows of unit length) when classes have fewer than 10 rows each or rows are long documents (a "
           "mean of 120+ words per row), else log-l2; none without "
           "text (udt.model_selection.auto_feature_scaling)"),
    Option("input_dim", "auto", _auto_or(_int()), '"auto" or an integer >= 1',
           "number of hashed input feature ids"),
    Option("hidden_dim", "auto", _auto_or(_int()), '"auto" or an integer >= 1', "width of the hidden layer"),
    Option("sparsity", "auto", _auto_or(_fraction), '"auto" or a float in (0, 1]',
           "fraction of output neurons evaluated per training sample (1.0 = dense)"),
    Option("sparse_inference", "auto", _auto_or(_bool), '"auto", True or False',
           "predict with LSH-retrieved output neurons instead of all of them"),
    Option("learning_rate", "auto", _auto_or(_positive_float), '"auto" or a float > 0', "Adam learning rate"),
    Option("batch_size", "auto", _auto_or(_int()), '"auto" or an integer >= 1', "rows per training step"),
    Option("epochs", "auto", _auto_or(_int()), '"auto" or an integer >= 1',
           "passes over the training data (fit(epochs=...) overrides it)"),
    Option("output_head", "auto", lambda v: v in ("auto", "trained", "centroid"), '"auto", "trained" or "centroid"',
           "classifiers: after training, keep the trained output rows or set each class's row to the mean hidden "
           "activation of its training rows (udt.centroid_head; better for search, where queries are worded "
           "unlike the training rows); auto: the centroids if they score higher on fit's validation set, or "
           "without one, when classes have fewer than 10 training rows each (udt.model_selection.auto_output_head)"),
    Option("early_stopping_patience", 2, lambda v: v is None or _int()(v), "None or an integer >= 1",
           "with a validation set, stop after this many epochs without improvement and keep the best epoch"),
    Option("threshold", 0.5, _fraction, "a float in (0, 1]",
           "multi-label targets: predict every label whose score reaches this (at least the best one)"),
    Option("hash_family", "dwta", lambda v: v in ("dwta", "srp"), '"dwta" or "srp"',
           "LSH family of the sparse output layer"),
    Option("seed", 0, _int(0), "an integer >= 0", "seed of every random choice (hashing, init, shuffling)"),
    Option("n_threads", None, lambda v: v is None or _int()(v), "None (all cores) or an integer >= 1",
           "threads for featurizing and training"),
    Option("warm_start", False, _bool, "True or False",
           "fit() continues training the fitted model instead of starting over"),
    Option("memory_budget_mb", 2048, _int(0), "an integer >= 0",
           "featurized training data up to this size is kept in memory (full reshuffle each epoch); "
           "larger data (any data at 0) is streamed through a bounded shuffle buffer"),
)
OPTION_NAMES = tuple(o.name for o in OPTIONS)
DEFAULTS = {o.name: o.default for o in OPTIONS}


def unknown_option_error(kind: str, names) -> TypeError:
    return TypeError(f"unknown option(s) {', '.join(map(repr, sorted(names)))} for udt.{kind}; "
                     f"valid options: columns, target, {', '.join(OPTION_NAMES)}")


def validate_options(values: dict) -> dict:
    """Check every option value; returns them unchanged (bool-like numpy values made plain)."""
    checked = {}
    for option in OPTIONS:
        value = values[option.name]
        if not option.check(value):
            raise ValueError(f"invalid {option.name}={value!r}: expected {option.expected}")
        checked[option.name] = bool(value) if option.check is _bool else value
    return checked
