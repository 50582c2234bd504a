"""Whether Text columns keep their bigrams, from the number of training rows of the median class.

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

Measured beside it, adopted for multi-label targets only (udt.selection.text_tokenizer): punctuation marks as
tokens (Text(tokenizer="words-punct")) by default, except below 10 rows per class. Calibration suite, words -> words-punct, seed 0 / seed 1: Austen 0.8366 / 0.8377 ->
0.8622 / 0.8584, movies 0.7188 / 0.7239 -> 0.7239 / 0.7245, friends 0.2685 / 0.2702 -> 0.2702 / 0.2696, 20
Newsgroups and Debian graph equal, the holdout fortunes 0.4915 -> 0.5297, a multi-label tag stand-in (WordNet
glosses -> 500 ancestors) 0.6790 -> 0.6937 (one-vs-rest LinearSVC 0.6917); debsearch 0.3718 -> 0.3631 and
WordNet 0.4354 -> 0.4323 (2-3 rows per class). IMDB/RT at seeds 0-4: words 0.8801 / 0.8764 / 0.8780 / 0.8789 /
0.8798 (mean 0.8786), words-punct 0.8774 / 0.8821 / 0.8779 / 0.8777 / 0.8792 (mean 0.8789): equal, but the
default seed falls below IMDB/RT's 0.8798 of benchmarks/RESULTS.md at issue 13's filing, a bar that issue keeps,
and 20 Newsgroups' fit takes 2.73 s instead of 2.20. Declare it for text whose style tells classes apart.
Keeping word bigrams across punctuation and adding the marks as unigrams kept little of the gain (Austen
0.8441, IMDB/RT 0.8792).

Only single-label targets (measured there; a multi-label set's rows count several labels), only Text columns
left at the default ngrams=2 (ngrams=1 or 3 declared is kept; ngrams=2 cannot be told apart from the
default). The statistics pass counts the rows per class (udt.ingest.labels), so fit builds the featurizer with
unigrams before it featurizes any row, whether the rows are then held in memory or streamed.
"""
from __future__ import annotations

import numpy as np

from udt.columns import Text

UNIGRAMS_BELOW = 400  # median training rows per class


def median_rows_per_class(counts: np.ndarray) -> float:
    """The median over the classes present of their training rows (udt.ingest.labels.LabelEncoder.counts_)."""
    counts = counts[counts > 0]
    return float(np.median(counts)) if counts.size else 0.0


def _at_default(spec) -> bool:
    return isinstance(spec, Text) and spec.at_default("ngrams")


def unigram_columns(columns: dict) -> dict:
    """The column specs with every Text column left at the default ngrams at 1, its other options kept."""
    return {name: spec.replace(ngrams=1) if _at_default(spec) else spec for name, spec in columns.items()}


def wants_unigrams(columns: dict, target: str, task: str, median_rows: float) -> bool:
    """True when the rule above turns some of this model's Text columns to unigrams."""
    return (task == "single" and median_rows < UNIGRAMS_BELOW
            and any(_at_default(spec) for name, spec in columns.items() if name != target))
