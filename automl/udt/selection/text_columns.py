"""How Text columns are tokenized, from the training rows of the median class: two rules, each for the columns
left at their default (a declared value cannot be told apart from the default it equals, and is kept otherwise).
The statistics pass counts the rows per class (udt.ingest.labels), so fit builds the featurizer with the chosen
tokens before it featurizes any row, whether the rows are then held in memory or streamed.

1. Unigrams below UNIGRAMS_BELOW rows in the median class (single-label targets).

Bigrams give a text column about twice the features, most of them seen in a handful of rows. A class with few
training rows is then told apart by bigrams it alone holds, which the network memorises (training accuracy
0.999) instead of learning the words its class shares with the test rows; TF-IDF + LinearSVC, regularised,
does not need the same care. Unigrams minus bigrams, test accuracy at the defaults otherwise, by the median
class's training rows (subsamples: random rows of the suite's training split, seed 0; load 0.3-1.2):

    median rows per class      13     31     43    100    253    325    333    590   1000  1083  1441  3804
    Debian sections (58)     +6.38          +4.31         +1.12                                          (38,058 rows: with neighbours)
    friends (123)                   -0.05
    20 Newsgroups (20)                           +1.05         +0.07         -0.17
    Austen (6)                                                        +1.65               -1.17 -0.80
    IMDB/RT polarity (2)                                                           -1.84  (13,428: -1.87)
    movies (7, multi-label)                                                                           -0.32

(Debian sections at 2,000 / 6,500 / 38,058 rows; 20 Newsgroups at 2,000 / 6,500 / 11,293; Austen at 2,000 /
6,500 / 7,873; polarity at 2,000 and all rows.) Below 400 rows no task lost more than 0.05 points with
unigrams, above it every one lost 0.17 or more: UNIGRAMS_BELOW = 400. The Debian slice of 6,500 rows, 58
imbalanced sections, was built to stand in for many-class news with few rows per class: TF-IDF + LinearSVC
0.8068, udt 0.7552 with bigrams, 0.7983 with unigrams. The median, not the mean, because such sets are
imbalanced (Debian sections: mean 656 rows per class, median 253).

Calibration suite, bigrams -> this rule, seed 0 / seed 1 (load 1.3-1.8): debsearch P@1 0.3394 / 0.3447 ->
0.3718 / 0.3732 (3 rows per class), Debian graph 0.8588 / 0.8600 -> 0.8659 / 0.8678, friends 0.2690 / 0.2667 ->
0.2685 / 0.2702, the holdout fortunes 0.4781 / 0.4827 -> 0.4915 / 0.4902; 20 Newsgroups, Austen, IMDB/RT and the
multi-label sets keep their bigrams and their numbers. A stand-in for a multi-label tag task (WordNet glosses ->
the 31st-530th most frequent ancestors, 25,000 rows, 75 rows per tag in the median) also loses with unigrams
(P@1 0.6790 -> 0.6735; one-vs-rest LinearSVC 0.6917), so multi-label targets keep bigrams.

2. Punctuation marks are tokens of their own (Text's default tokenizer "words-punct"), except below
WORDS_ONLY_BELOW rows in the median class or label, where "words" drops them. Punctuation carries style (who
wrote a paragraph, which list a fortune comes from), and the tag stand-in's descriptions; search-like sets, a
few sentences per class queried with text worded otherwise, lose by it. "words" -> "words-punct", with rule 1
in place, seed 0 / seed 1 (calibration suite, load 1.3-1.8):
    Austen (1,441 rows per class)   0.8366 / 0.8377 -> 0.8622 / 0.8584
    movies (multi-label, 3,804)     0.7188 / 0.7239 -> 0.7239 / 0.7245
    friends (31)                    0.2685 / 0.2702 -> 0.2702 / 0.2696
    IMDB/RT polarity (13,428)       0.8801 / 0.8764 -> 0.8774 / 0.8821
    20 Newsgroups (590)             0.8637 / 0.8609 -> 0.8637 / 0.8609
    Debian graph (254)              0.8659 / 0.8678 -> 0.8656 / 0.8681
    tag stand-in (multi-label, 75)  0.6790 -> 0.6937 (one-vs-rest LinearSVC 0.6917)
    debsearch (3)                   0.3718 -> 0.3631      WordNet (multi-label, 2)   0.4354 -> 0.4323
    the holdout fortunes (206)      0.4915 -> 0.5297
Only the two sets with a handful of rows per class lose, so they keep "words": WORDS_ONLY_BELOW = 10, the
rows per class below which udt.selection.model_selection already treats classes as few (the centroid head, IDF).
It costs 20 Newsgroups' fit time the tokens it adds: 2.20 -> 2.73 s (benchmarks/profile_fit.py, plan fixed,
medians of 3, load 0.6-0.9).
"""

from __future__ import annotations

import numpy as np

from udt.columns import Text

UNIGRAMS_BELOW = 400   # median training rows per class (rule 1)
WORDS_ONLY_BELOW = 10  # median training rows per class or label (rule 2)
_DEFAULT = Text()


def median_rows_per_class(counts: np.ndarray) -> float:
    """The median over the classes present of their training rows (udt.ingest.labels.LabelEncoder.counts_)."""
    counts = np.asarray(counts)[np.asarray(counts) > 0]
    return float(np.median(counts)) if counts.size else 0.0


def fitted_columns(columns: dict, target: str, task: str, counts) -> tuple[dict, dict]:
    """(columns, reasons): the column specs with the rules above applied to every input Text column left at
    its default, and a line per rule that changed one (keys "text_ngrams", "text_tokenizer")."""
    text = [n for n, s in columns.items() if n != target and isinstance(s, Text)]
    if not text or counts is None or task not in ("single", "multi"):
        return columns, {}
    median = median_rows_per_class(counts)
    noun = "class" if task == "single" else "label"
    changes, reasons = {n: {} for n in text}, {}
    if task == "single" and median < UNIGRAMS_BELOW:
        for n in text:
            if columns[n].ngrams == _DEFAULT.ngrams:
                changes[n]["ngrams"] = 1
                reasons["text_ngrams"] = (f"text_columns: the median {noun} has {median:,.0f} training rows, under "
                                          f"{UNIGRAMS_BELOW}: unigrams")
    if median < WORDS_ONLY_BELOW:
        for n in text:
            if columns[n].tokenizer == _DEFAULT.tokenizer:
                changes[n]["tokenizer"] = "words"
                reasons["text_tokenizer"] = (f"text_columns: the median {noun} has {median:,.0f} training rows, "
                                             f"under {WORDS_ONLY_BELOW}: words without punctuation")
    if not reasons:
        return columns, {}
    return {n: Text(**dict(s.get_params(), **changes[n])) if n in changes and changes[n] else s
            for n, s in columns.items()}, reasons
