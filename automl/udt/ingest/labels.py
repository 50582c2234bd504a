"""Label vocabularies: original label values <-> dense ids, built on training data.

Classes are sorted like scikit-learn's (numerically when every label is an integer,
else as strings). A declared `n_classes` means the labels are the integers 0..n-1.
Labels unseen at fit time are skipped and counted (the caller warns), never a crash.
"""
import numpy as np

from udt import _core


class LabelEncoder:
    def __init__(self, delimiter=None, n_classes=None):
        self.delimiter = delimiter or ""
        self.n_classes = n_classes
        self._collector = _core.featurizers.LabelVocab()
        self.vocab = None
        self.classes_ = None
        self.counts_ = None  # training rows per class id, from the statistics pass (None: not counted)
        if n_classes is not None:
            self._set_classes([str(i) for i in range(n_classes)], integer=True)
            self.counts_ = np.zeros(n_classes, np.int64)

    @property
    def fitted(self):
        return self.vocab is not None

    def collect(self, view, n_rows, column):
        if self.n_classes is None:
            self._collector.collect(view, n_rows, self.delimiter, column)
        else:  # declared labels: only counted
            _offsets, ids, _unseen = self.lookup(view, n_rows, column)
            self.counts_ += np.bincount(np.asarray(ids, np.int64), minlength=self.n_classes)[:self.n_classes]

    def finish(self, extra=None):
        """Fixes the vocabulary: the collected labels plus `extra` ones (e.g. partial_fit's classes)."""
        if self.n_classes is not None:
            return
        names = list(self._collector.names())
        counted = dict(zip(names, self._collector.counts()))
        if extra is not None:
            names = sorted(set(names) | {str(c) for c in np.asarray(extra).ravel()})
        integer = bool(names) and all(is_int_label(n) for n in names)
        names = sorted(names, key=int) if integer else sorted(names)
        self._set_classes(names, integer)
        self.counts_ = np.array([counted.get(n, 0) for n in names], np.int64)
        self._collector = None

    def _set_classes(self, names, integer):
        self.vocab = _core.featurizers.LabelVocab(names)
        self.classes_ = np.array([int(n) for n in names], dtype=np.int64) if integer else np.array(names, dtype=object)

    def extend(self, names):
        """Appends new labels (continued training): existing labels keep their ids."""
        old = [str(c) for c in self.classes_]
        known = set(old)
        added = [str(n) for n in names if str(n) not in known]
        integer = self.classes_.dtype.kind == "i" and all(is_int_label(n) for n in added)
        self._set_classes(old + added, integer)
        self.counts_ = None  # the statistics pass's counts describe the classes it saw

    def names_in(self, view, n_rows, column) -> list:
        """The distinct label names of this column (the vocabulary is not consulted)."""
        collector = _core.featurizers.LabelVocab()
        collector.collect(view, n_rows, self.delimiter, column)
        return collector.names()

    def lookup(self, view, n_rows, column):
        """(label_offsets int64, label_ids uint32, number of unseen labels)."""
        return self.vocab.lookup(view, n_rows, self.delimiter, column)

    def decode(self, label_ids):
        return self.classes_[np.asarray(label_ids, dtype=np.int64)]

    def state(self):
        integer = self.classes_.dtype.kind == "i"
        return {"integer": integer, "classes": [int(c) if integer else str(c) for c in self.classes_]}

    @classmethod
    def from_state(cls, state, delimiter=None, n_classes=None):
        enc = cls(delimiter=delimiter, n_classes=n_classes)
        enc._set_classes([str(c) for c in state["classes"]], state["integer"])
        enc._collector, enc.counts_ = None, None
        return enc


def is_int_label(s):
    """Whether a label's text is an integer written canonically ("7", "-12"; not "07", "-0", "+3" or "1.0")
    that fits int64: labels are kept as integers only when every one is, so that no two distinct texts
    ("0" and "-0") become one class."""
    s = s.strip()
    digits = s[1:] if s.startswith("-") else s
    if not (digits.isdigit() and digits.isascii() and (len(digits) == 1 or not digits.startswith("0"))):
        return False
    return s != "-0" and -(2**63) <= int(s) < 2**63
