"""Column types users declare: `udt.Text()`, `udt.Categorical()`, `udt.Numeric()`, ...

Each constructor stores its options as given (like scikit-learn estimators) and checks
them at once, so a typo fails at declaration time with the list of valid options.
The featurizer reads the options; the C++ kernels do the work (featurizers/src).
"""
import inspect
import numbers
import re

from udt.errors import ConfigError

_CHAR_K = re.compile(r"^char-([1-9][0-9]?)$")


class ColumnSpec:
    """Base of all column types: option storage, validation, equality and (de)serialization."""

    def _finish(self, unknown):
        if unknown:
            valid = ", ".join(self._option_names()) or "(none)"
            bad = ", ".join(repr(k) for k in sorted(unknown))
            raise ConfigError(f"{type(self).__name__}() got unknown option(s) {bad}; valid options: {valid}")
        self._validate()

    @classmethod
    def _option_names(cls):
        params = inspect.signature(cls.__init__).parameters.values()
        return [p.name for p in params if p.name != "self" and p.kind != p.VAR_KEYWORD]

    def _validate(self):
        pass

    def get_params(self):
        return {name: getattr(self, name) for name in self._option_names()}

    def replace(self, **changes):
        """A copy of this spec with `changes` made and every other option kept (the rules that fit a column
        to the data change one option of it: udt.selection)."""
        return type(self)(**{**self.get_params(), **changes})

    def at_default(self, option: str) -> bool:
        """Whether `option` holds its default (a value declared equal to it cannot be told apart)."""
        return getattr(self, option) == getattr(type(self)(), option)

    def to_dict(self):
        params = {k: list(v) if isinstance(v, tuple) else v for k, v in self.get_params().items()}
        return {"type": type(self).__name__, **params}

    @staticmethod
    def from_dict(d):
        d = dict(d)
        cls = COLUMN_TYPES.get(d.pop("type", None))
        if cls is None:
            raise ConfigError(f"unknown column type in {d!r}; valid types: {', '.join(COLUMN_TYPES)}")
        return cls(**d)

    def __eq__(self, other):
        return type(self) is type(other) and self.to_dict() == other.to_dict()

    def __hash__(self):
        return hash(repr(self))

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    def _bad(self, option, value, expected):
        raise ConfigError(f"{type(self).__name__}({option}={value!r}): expected {expected}")

    def _check_delimiter(self, option="delimiter", allow_none=True):
        value = getattr(self, option)
        if value is None and allow_none:
            return
        if not isinstance(value, str) or value == "":
            self._bad(option, value, "a non-empty string" + (" or None" if allow_none else ""))


class Text(ColumnSpec):
    """Free text: tokenized ("words", "words-punct" or "char-k" such as "char-3"), n-grams
    up to `ngrams` (2 = unigrams + bigrams) hashed; ASCII lowercasing when `lowercase`. Left at their
    defaults, a classifier's Text columns drop their bigrams when the median class has few training rows
    (udt.selection.text_ngrams), and a multi-label target's take punctuation tokens (text_tokenizer).
    With `normalize`, n-gram counts become 1 + log(count), scaled to unit L2 norm within the
    column (20 Newsgroups, 3 epochs, hidden 256: 0.805 accuracy vs 0.744 with raw counts). Off by
    default because udt.Classifier scales whole rows the same way (log + L2, its feature_scaling),
    which keeps a text's weight relative to the other columns; per-column scaling shrank the text
    signal in mixed tables (0.91 vs > 0.95 accuracy in tests/test_classifier.py)."""

    def __init__(self, tokenizer="words", ngrams=2, lowercase=True, normalize=False, **unknown):
        self.tokenizer = tokenizer
        self.ngrams = ngrams
        self.lowercase = lowercase
        self.normalize = normalize
        self._finish(unknown)

    def _validate(self):
        if not isinstance(self.tokenizer, str) or not (
            self.tokenizer in ("words", "words-punct") or _CHAR_K.match(self.tokenizer)
        ):
            self._bad("tokenizer", self.tokenizer, "'words', 'words-punct' or 'char-k' with k in 1..99 (e.g. 'char-3')")
        if not _is_int(self.ngrams) or not 1 <= self.ngrams <= 4:
            self._bad("ngrams", self.ngrams, "an integer from 1 to 4 (2 = unigrams + bigrams)")
        for option in ("lowercase", "normalize"):
            if not isinstance(getattr(self, option), bool):
                self._bad(option, getattr(self, option), "True or False")


class Categorical(ColumnSpec):
    """A category (string or integer); several per cell when `delimiter` is set.
    As a target, `n_classes` declares integer labels 0..n_classes-1 instead of learning a vocabulary."""

    def __init__(self, delimiter=None, n_classes=None, **unknown):
        self.delimiter = delimiter
        self.n_classes = n_classes
        self._finish(unknown)

    def _validate(self):
        self._check_delimiter()
        if self.n_classes is not None and (not _is_int(self.n_classes) or self.n_classes < 1):
            self._bad("n_classes", self.n_classes, "a positive integer or None")


class Numeric(ColumnSpec):
    """A number: one bin feature per resolution in `bins` plus its position in [0, 1] as a value;
    missing values get their own feature.

    scale: how a value's position is found.  "quantile": its rank, interpolated between the
    distinct values among 257 training quantiles.  A skewed column gets bins where its values are,
    and a value repeated in many rows takes one position rather than most of the bins: capital
    gains, 0 in 92% of UCI Adult's rows and up to 99,999, keep 0 at position 0 and spread the other
    values over the rest (Adult accuracy, mean of 3 seeds: 0.864 linear, 0.870 quantile).
    "linear": its place in `range`, the training min/max when range is None.  "auto": linear when
    a range is declared, else quantile.  Left at the default bins, a column of a small training set gets
    only the resolutions its rows fill, about 100 rows per bin (udt.selection.numeric_resolution).

    interpolate: a value between the centres of two neighbouring bins takes both, each weighted by its
    closeness, so the network learns a piecewise-linear function of the value instead of one step per
    bin (one bin, weight 1, when False).  Calibration suite (benchmarks/SUITE.md), seed 0 / seed 1, one bin ->
    interpolated: UCI Adult 0.8716 / 0.8714 -> 0.8725 / 0.8713, letter 0.9373 / 0.9370 -> 0.9403 / 0.9410,
    diamonds MAE 283.9 / 284.2 -> 282.3 / 284.2, Ames MAE 15,162 / 15,136 -> 14,562 / 14,829, movies P@1
    0.7170 / 0.7173 -> 0.7188 / 0.7239, shuttle 0.9996 -> 0.9994 / 0.9995; the holdout spam 0.9448 -> 0.9481.
    Adult, seeds 0-5 without the plan search: mean 0.8713 -> 0.8718, better at four seeds, equal at one.
    It costs fit time with the features it adds (Adult: 32 -> up to 50 per row)."""

    SCALES = ("auto", "quantile", "linear")

    def __init__(self, bins=(8, 32, 128), range=None, scale="auto", interpolate=True, **unknown):
        self.bins = bins
        self.range = range
        self.scale = scale
        self.interpolate = interpolate
        self._finish(unknown)

    def _validate(self):
        bins = [self.bins] if _is_int(self.bins) else self.bins
        if not isinstance(bins, (list, tuple)) or not bins or not all(_is_int(b) and 2 <= b <= 1 << 20 for b in bins):
            self._bad("bins", self.bins, "an integer or a sequence of integers, each from 2 to 1048576")
        if self.range is not None:
            ok = isinstance(self.range, (list, tuple)) and len(self.range) == 2
            ok = ok and all(isinstance(v, numbers.Real) for v in self.range) and self.range[0] < self.range[1]
            if not ok:
                self._bad("range", self.range, "None or (low, high) with low < high")
        if self.scale not in self.SCALES:
            self._bad("scale", self.scale, " or ".join(repr(v) for v in self.SCALES))
        if self.scale == "quantile" and self.range is not None:
            self._bad("scale", self.scale, "'linear' or 'auto' when a range is declared (a range is linear)")
        if not isinstance(self.interpolate, bool):
            self._bad("interpolate", self.interpolate, "True or False")

    @property
    def uses_quantiles(self) -> bool:
        return self.scale == "quantile" or (self.scale == "auto" and self.range is None)

    @property
    def resolutions(self):
        return [int(self.bins)] if _is_int(self.bins) else [int(b) for b in self.bins]


class Date(ColumnSpec):
    """An ISO date or datetime (or Unix seconds): year, month, weekday, day, ISO week, hour."""

    def __init__(self, **unknown):
        self._finish(unknown)


class Sequence(ColumnSpec):
    """An ordered list of tokens, oldest first: token and token x position, where position 0 is
    the last (most recent) token; only the `max_length` most recent positions when set."""

    def __init__(self, delimiter=" ", max_length=None, **unknown):
        self.delimiter = delimiter
        self.max_length = max_length
        self._finish(unknown)

    def _validate(self):
        self._check_delimiter(allow_none=False)
        if self.max_length is not None and (not _is_int(self.max_length) or self.max_length < 1):
            self._bad("max_length", self.max_length, "a positive integer or None")


class NodeId(ColumnSpec):
    """A graph node's id: a non-negative integer."""

    def __init__(self, **unknown):
        self._finish(unknown)


class Neighbors(ColumnSpec):
    """The node ids adjacent to the row's node, separated by `delimiter`; their features and
    (training) labels are averaged into the row."""

    def __init__(self, delimiter=" ", **unknown):
        self.delimiter = delimiter
        self._finish(unknown)

    def _validate(self):
        self._check_delimiter(allow_none=False)


def _is_int(v):
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


COLUMN_TYPES = {cls.__name__: cls for cls in (Text, Categorical, Numeric, Date, Sequence, NodeId, Neighbors)}


def check_columns(columns, target=None) -> None:
    """The one check of a column declaration (estimators and the featurizer both call it): a non-empty
    dict of name -> column type instance, a declared Categorical/Numeric target, at most one NodeId,
    Neighbors only beside a NodeId. Raises ConfigError naming what was wrong."""
    if not isinstance(columns, dict) or not columns:
        raise ConfigError(f"columns must be a non-empty dict of column name -> column type (e.g. udt.Text()), "
                          f"got {columns!r}")
    for name, spec in columns.items():
        if not isinstance(name, str) or not name:
            raise ConfigError(f"column names must be non-empty strings, got {name!r}")
        if not isinstance(spec, ColumnSpec):
            raise ConfigError(f"column {name!r} has type {spec!r}; expected a column type, an instance such as "
                              f"udt.Text(), udt.Categorical(), udt.Numeric() or udt.Date()")
    declared = ", ".join(columns)
    if target is not None and target not in columns:
        raise ConfigError(f"target {target!r} is not one of the columns: {declared}")
    if target is not None and not isinstance(columns[target], (Categorical, Numeric)):
        raise ConfigError(f"target {target!r} must be udt.Categorical() (classification) or udt.Numeric() "
                          f"(regression), got {columns[target]!r}")
    if sum(isinstance(s, NodeId) for s in columns.values()) > 1:
        raise ConfigError("at most one udt.NodeId() column may be declared")
    if any(isinstance(s, Neighbors) for s in columns.values()) and not any(
            isinstance(s, NodeId) for s in columns.values()):
        raise ConfigError("a udt.Neighbors() column needs a udt.NodeId() column naming each row's node")
