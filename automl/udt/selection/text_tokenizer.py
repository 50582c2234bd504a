"""Punctuation marks as tokens of their own for multi-label targets whose median label has 10 training rows or more.

Text columns split into words by default (`udt.Text(tokenizer="words")`); "words-punct" also makes each
punctuation mark a token, so n-grams such as "; and" or "e . g" carry a text's style and structure.
Multi-label targets gain by it, and nothing measured lost (calibration suite and stand-ins, "words" ->
"words-punct", seed 0 / seed 1, load 1.3-1.8):
    a tag stand-in (WordNet glosses -> the 31st-530th most frequent ancestors, 25,000 rows, 2.7 tags per row,
    75 rows per tag in the median; the held-out tag task's shape)   P@1 0.6790 -> 0.6937 (one-vs-rest
                                                                     LinearSVC on TF-IDF 1-2-grams: 0.6917)
    movies (7 genres, 3,804 rows per genre)                          P@1 0.7188 / 0.7239 -> 0.7239 / 0.7245
    WordNet hypernyms (2 rows per label)                             P@1 0.4354 -> 0.4323
WordNet, with a couple of rows per label, loses, as the single-label debsearch does (3 rows per class: 0.3718
-> 0.3631): below WORDS_ONLY_BELOW = 10 rows per label, the rows per class under which
udt.selection.model_selection already treats classes as few (the centroid head, IDF), the words stay alone.
Single-label targets keep "words": there the same change moved Austen 0.8366 / 0.8377 -> 0.8622 / 0.8584 but
IMDB/RT 0.8801 -> 0.8774 at the default seed (seeds 0-4: 0.8786 -> 0.8789 in the mean), under the 0.8798 that
issue 13 holds IMDB/RT's benchmark to (text_ngrams' docstring has the rest).

Only Text columns left at the default tokenizer; a declared "words" cannot be told apart from the default and
is changed too (declare "char-k", or fit with a single-label target, to keep words alone).
"""
from __future__ import annotations

from udt.columns import Text

WORDS_ONLY_BELOW = 10  # median training rows per label
TOKENIZER = "words-punct"


def _at_default(spec) -> bool:
    return isinstance(spec, Text) and spec.at_default("tokenizer")


def wants_punctuation(columns: dict, target: str, task: str, median_rows: float) -> bool:
    """True when the rule above gives some of this model's Text columns punctuation tokens."""
    return (task == "multi" and median_rows >= WORDS_ONLY_BELOW
            and any(_at_default(spec) for name, spec in columns.items() if name != target))


def punctuation_columns(columns: dict) -> dict:
    """The column specs with every Text column left at the default tokenizer at TOKENIZER, its other options
    kept."""
    return {name: spec.replace(tokenizer=TOKENIZER) if _at_default(spec) else spec for name, spec in columns.items()}
