"""The architecture chooser: network shape and training schedule from data size and label count.

Every value below can be fixed by the user; "auto" values follow these rules (n = training rows,
c = number of classes, 1 for regression; "few rows per class" = n < 10 c).  The constants were
measured on the demo data sets (UCI Adult, 20 Newsgroups, IMDB/RT, MovieLens, Debian) with a held-out
split, see demos/README.md, with the engine's catch-up sparse Adam (a row skipped by some batches gets
the zero-gradient steps dense Adam would have taken, so a rarely updated row keeps moving for ~10
steps after each gradient, about 30 x the learning rate per hit where lazy Adam moved it once).
debsearch numbers: all 207,708 sentences / 63,427 packages, P@1 with dense inference on 5,000 test
summaries after 6 epochs at the rules' other values unless stated (several were measured with the
engine's 95% uniform negatives, marked "u95"); "16k slice" = the same task on 16,000 packages.

  input_dim       sized to the data (`id_map_shape`): the featurizer hashes into 2**31 ids, fit counts
                  the distinct ids of the training rows, and each gets an embedding row of its own (most
                  frequent first), plus overflow rows (an eighth as many, at least 16) that ids first
                  seen later share by hash; overflow rows start at zero, so an unseen value adds nothing
                  until continued training teaches it.  Capped at 2**20 rows with text, 2**17 without;
                  past the cap every id is hashed into the cap's rows, as before the map (IMDB/RT, 1.6M
                  distinct ids: the 786k most frequent with own rows and the rest hashed into 262k
                  rows scored 0.8635, plain hashing into 2**20 rows 0.8759).  UCI Adult: 731 distinct
                  ids -> 822 rows (was 100,000).  Unigrams + bigrams of a corpus run to millions of
                  distinct ids and collisions cost accuracy (IMDB/RT, plain hashing: 0.869 at 200_000
                  ids, 0.876 at 2**20).
  feature scaling (the Classifier's feature_scaling="auto", `auto_feature_scaling`) text rows get
                  1 + log(count) and unit L2 length ("log-l2"); with few rows per class each value is
                  also multiplied by its feature's IDF ("log-idf-l2"): a class with 3 rows is told
                  apart by its rare words, which plain counts drown in common ones (hidden 128:
                  debsearch 0.142 -> 0.181 after 4 epochs, 16k slice 0.315 -> 0.396; a TF-IDF nearest
                  centroid on the same features: 0.287 -> 0.377).  Long documents (a mean of 120 or more
                  words per row in the Text columns, counted on the first 20,000 rows) get IDF too: each
                  row repeats the function words, which 1 + log(count) keeps heavy, and training moves an
                  embedding row too little to learn them away (20 Newsgroups, 269 words per row:
                  0.8540 / 0.8524 -> 0.8605 / 0.8568 over two seeds; IMDB/RT, 180: 0.8782 / 0.8747 ->
                  0.8798 / 0.8762).  Short rows with many rows per class keep log-l2: there the common
                  words are the class vocabulary (Debian sections from package names and descriptions,
                  61 words per row, 656 rows per class: 0.8145 / 0.8142 -> 0.7663 / 0.7678 with IDF),
                  although IDF helps a nearest-centroid classifier on those rows (0.670 -> 0.737 on a
                  held-out tenth), so that is no guide.  Words, not feature values: a graph column's
                  neighbours add hundreds of values to a Debian row (539 in all) but no words.
  hidden_dim      256 when the output layer is sparse (c >= 8192): with that many classes the hidden
                  layer is a rank-hidden_dim bottleneck, and sparse training costs hidden_dim x the
                  ~650 sampled outputs per row, not x c (debsearch u95: 0.201 at 128, 0.234 at 256;
                  16k slice: 0.208 / 0.315 / 0.354 at 64 / 128 / 256).  512 scores higher still
                  (debsearch after 6 epochs, dense / sparse inference: 0.309 / 0.282 vs 0.285 / 0.271
                  at 256) but trains 2.4x longer (36 vs 15 s per epoch, idle machine) in 9.1 instead
                  of 4.8 GB, so it is left to the user (hidden_dim=512).  Otherwise, for text: 64 for a
                  binary target, 128 for more classes; 128 when the output layer is large (over 1,000
                  classes: its cost, hidden_dim x classes per row, dominates, and MovieLens loses
                  nothing at 128); else 256 (512 when n > 500_000).  The hidden layer is an
                  embedding-bag over hashed ids costing hidden_dim per active feature; with a million
                  text ids, width buys less than ids do (20 Newsgroups: 0.839 at 2**20 x 64, 0.844 at
                  2**20 x 128, 0.846 at 200_000 x 256 for twice the time).
  sparsity        output sparsity (fraction of output neurons evaluated per sample): 1.0 (dense) below
                  8192 classes, else min(1, 0.01 * sqrt(65536 / c)): about 650 sampled neurons for
                  63k classes, growing slowly with the label space.  A multi-label target with few rows
                  per label is trained sparsely from 1,024 labels on (`sparse_output`), with the rules of
                  a sparse output layer for hidden_dim and batch_size too: each label's sigmoid, trained
                  against every row but positive in ~2 of them, otherwise learns "no" everywhere
                  (WordNet --quick slice, 15,000 rows, 7,359 labels: P@1 0.015 dense in 40 s; sparse at
                  0.0298 / 0.01: 0.187 / 0.198 in 10 / 7 s; napkinXC PLT 0.233).  Multi-label targets
                  sample half as many outputs, 0.005 * sqrt(65536 / c): with LSH-only negatives, a
                  sigmoid pushed down by fewer of the hardest ones ranks better (WordNet, 15,741 labels,
                  P@1 exact / sparse inference at 0.0204 / 0.01 / 0.005: 0.383 / 0.377, 0.405 / 0.386,
                  0.389 / 0.385; napkinXC PLT 0.386).  Half the BOLT constant (0.02):
                  debsearch at hidden 128 (learning rate 1e-2) scores the same (0.195 vs 0.192) in 20
                  instead of 33 CPU s per epoch; u95 at hidden 256, 0.0203 gains 0.01 (0.245 vs
                  0.234) for 55% more time.  With LSH-only negatives even 0.005 scores the same
                  (0.280 vs 0.278, 22-27 vs 29-33 CPU s per epoch; the whole demo 200 vs 249 CPU s)
                  but sparse inference, which evaluates as many candidates, has less to choose from
                  (demo: 0.259 vs 0.261); 0.01 keeps that margin.
  random_negatives  0: a sparse training sample's negatives are all retrieved by LSH (the hardest
                  ones).  The engine's default, 95% drawn uniformly, learns faster in the first two or
                  three epochs but ends lower over the epochs the Classifier runs (debsearch: 0.278 vs
                  0.234 u95; 16k slice: 0.448 vs 0.415; hidden 128, 50% uniform: 0.181 vs 0.195).
  embedding_init_scale  the hidden layer's rows start with standard deviation s / sqrt(hidden_dim): s = 0.3,
                  except 1.0 (the engine's default) for a multi-label target (WordNet --quick slice,
                  sparse: 0.187 at 1.0, 0.176 at 0.3).  Training
                  moves a row little (after 20 Newsgroups' 5 epochs the rows it used have norm 1.08
                  against 1.0 at the start), so the random start stays most of each row; a smaller one
                  lets the learned part count more.  s = 1.0 -> 0.3: 20 Newsgroups 0.8499 -> 0.8540
                  (0.8535 at 0.1), IMDB/RT 0.8770 -> 0.8782, Debian sections (text) 0.8143 -> 0.8145,
                  Adult 0.8704 -> 0.8708 (3 seeds), MovieLens recall@10 0.1350 -> 0.1414 (3 seeds, each
                  +0.5 to +0.7).  It hurts a multi-label target: WordNet (sparse) P@1 0.383 -> 0.311 dense
                  / 0.371 -> 0.365 sparse inference (why was not investigated).  debsearch (sparse,
                  single-label): the trained head is unchanged (0.2797 vs 0.2804 on 10,000 summaries),
                  the centroid head, which scores with the hidden layer's geometry alone, gains: P@1
                  0.3274 -> 0.3338 sparse inference (all 63,427 summaries), 0.338 -> 0.345 exact (10,000).
                  Not a Classifier option (the engine's Network takes it).
  output_head     (the Classifier's output_head="auto") with a validation set, whichever head scores higher on
                  it; without one, the centroid head (udt.training.centroid_head) when classes have fewer than 10
                  training rows each, else the trained rows.  A trained row fits the wording of its class's
                  few rows; their mean representation generalises (benchmark, P@1 trained -> centroid:
                  debsearch 0.283 -> 0.334, its 5,000-class --quick slice 0.473 -> 0.553, WordNet 0.401 ->
                  0.401, its --quick slice 0.224 -> 0.235).  With many rows per class the trained rows have
                  learned more than a mean (uncentered head: 20 Newsgroups 0.850 -> 0.845, Debian sections
                  0.781 -> 0.763).
  sparse_inference  predictions retrieve candidates with LSH only when training was sparse (see sparsity),
                  from an index of 4 x the training tables built once after training (engine
                  Network.inference_tables) and evaluate half as many outputs as a training sample
                  (Network.inference_sparsity).
  batch_size      the power of two nearest min(n / 32, 8 n / c), within [256, 2048]; n / 128 instead of
                  n / 32 for a single-label target of more than two classes.  Large batches
                  average out the noise of hashed features (Adult: +0.8 points at 1024 over 128; IMDB/RT,
                  held-out tenth, two splits: 0.8771 at 1024, 0.8716 at 512, 0.8711 at 256) and keep
                  every core busy, while an epoch takes at least c / 8 steps so classes with few rows
                  are updated often (MovieLens: 512).  A softmax over more than two classes wants 4 x
                  the steps: it separates many classes at once (Debian sections, 58 classes, 38k rows,
                  held-out tenth, two splits: 0.8148 / 0.8294 / 0.8316 / 0.8343 at 1024 / 512 / 256 /
                  128; test 0.8145 -> 0.8400 at 256; 20 Newsgroups already had 256; MovieLens, where
                  8 n / c decides, recall@10 over two seeds 0.1416 at 512, 0.1453 at 256, so it keeps
                  512).  Measured up to 100k rows; beyond, the rule still grows the batch with n.
                  Below ~8,000 rows the batch shrinks so an epoch still takes about 32 steps (the power
                  of two nearest n / 32, at least 16): the floor of 256 left a 2,282-row, 20-class
                  imbalanced subset of 20 Newsgroups 9 steps an epoch (accuracy at batch 256 / 128 / 64 /
                  32, Adam: 0.739 / 0.754 / 0.782 / 0.796; TF-IDF + LinearSVC 0.772); Ames (2,315 rows,
                  regression) MAE 17,761 -> 17,603 at 64.  Only tasks under ~8,000 rows change.
                  Below those ~8,000 rows (SMALL_DATA_ROWS), with text, a single-label target of more
                  than two classes keeps its n / 128 below the floor of 256 too (at least 16), with the
                  learning rate scaled down to match (see
                  learning_rate): a few thousand short rows are memorised within two epochs of ~30
                  steps, and more, smaller steps end on weights that generalise better (calibration
                  suite, seeds 0 / 1 / 2, udt only: Austen paragraphs, 7,873 rows, 6 classes, batch 256
                  -> 64: 0.8265 / 0.8244 / 0.8265 -> 0.8366 / 0.8377 / 0.8318; 20 Newsgroups, 11,293
                  rows, 256 -> 64: 0.8637 / 0.8609 -> 0.8652 / 0.8611; batch 64 at 5e-3: Austen 0.8302,
                  20 Newsgroups 0.8621).  Larger text sets keep their batch (friends, 46,698 rows, 123
                  classes, 512; smaller batches lost there: 0.2690 -> 0.2611 at 128, 0.2613 at 256);
                  tables keep the floor (not measured).  20 Newsgroups, above SMALL_DATA_ROWS, keeps 256:
                  at 64 its fixed-plan fit took 3.53 s instead of 2.39 s (benchmarks/profile_fit.py, medians
                  of 3, load 1.4-1.9; the row-wise embedding step runs once per batch and row) for +0.15 /
                  +0.02 pt.
                  A sparse output layer is the exception:
                  the power of two nearest n / 256 (about 256 steps per epoch), within [256, 2048].
                  There 256 rows x 650 sampled neurons already touch nearly every output row, so a
                  step costs a dense Adam update of the output layer and, with catch-up Adam, fewer
                  larger steps lose nothing on a large set (debsearch, 207k rows -> 1024; u95: 0.171
                  at 256 in 45-81 CPU s per epoch, 0.234 at 1024 in 29-33 s), but a smaller set needs
                  its steps (WordNet, 66k rows -> 256; 10 epochs, P@1 dense / sparse: 0.337 / 0.347
                  at 512, 0.383 / 0.371 at 256; 1024 needs 20 epochs for 0.343 / 0.332).
  learning_rate   Adam, 5e-3 when rows are L2-normalised (text), else 1e-3: the step is set relative to
                  the size of a row's input, which normalisation fixes at 1.  No larger step for
                  classes with few rows: catch-up Adam already gives a rarely updated row its
                  momentum tail.  The lazy-Adam rule of 4 x (2e-2) was what left debsearch at P@1
                  0.009 (hidden 128, batch 256; the same network at 5e-3: 0.152 after 5 epochs).  16k
                  slice, hidden 128, batch 256: 0.140 / 0.254 / 0.315 / 0.287 at 2e-2 / 1e-2 / 5e-3
                  / 2.5e-3; debsearch after 5 epochs: 0.269 at 5e-3, 0.274 at 2.5e-3.  With
                  normalised rows and a batch under 256, 5e-3 x sqrt(batch / 256) (the square-root
                  rule for Adam: the same noise per epoch over more, smaller steps), and the epochs are
                  those of 5e-3 (a smaller step given more epochs by the rule below overtrained 20
                  Newsgroups: batch 64 at 2.5e-3, 9 epochs 0.8589 / 0.8589, 5 epochs 0.8652 / 0.8611).
  epochs          rows seen in total ~ 250_000 * (1e-3 / learning_rate), i.e. ceil of that / n, within
                  [3, 10], and at least 5 when classes have fewer than 100 rows each (Adult: 8 epochs,
                  20 Newsgroups: 5, IMDB/RT: 3; MovieLens, 59 rows per movie: recall@10 on each user's
                  last training rating held out, 0.144 / 0.180 / 0.174 after 3 / 5 / 6 epochs;
                  debsearch: 5 -- P@1 0.110 / 0.214 / 0.263 / 0.269 / 0.278 after epochs
                  2 to 6, so a sixth epoch would buy 0.01 for 30 CPU s), 10 for a multi-label target
                  with few rows per label: independent sigmoids, with no softmax pulling the other
                  labels down, learn more slowly (WordNet, batch 256, P@1 dense / sparse: 0.317 / 0.348
                  after 5 epochs, 0.383 / 0.371 after 10, 0.356 / 0.376 after 15); with a validation
                  set the trainer's early stopping trims it.

Two choices for tables are made beside the plan, each with its measurement in its module: how finely a
Numeric column is binned (udt.selection.numeric_resolution: at least 100 training rows per bin) and whether a
regression target is learned as its log (udt.training.target_transform); fit also keeps the mean of the last
epochs' weights of a table's network (udt.training.weight_averaging).

`choose_plan` applies the rules (the model-selection step, a pure function of DataStats and the options);
`summary_text` renders them for `model.summary()`.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace

DENSE_OUTPUT_BELOW = 8192


@dataclass(frozen=True)
class DataStats:
    """What model selection reads from the training data (counted by udt.training.fit in its featurizing pass)."""

    n_rows: int
    n_classes: int             # 1 for regression
    task: str                  # "single", "multi" or "regression"
    has_text: bool = False     # an input column holds text (Text or Sequence)
    words_per_row: float = 0.0  # mean words per row of the Text columns (first 20,000 rows)
    n_features: int = 0        # feature ids the featurizer emits (its id map's rows)
    distinct_features: int = 0  # distinct feature ids in the training rows


@dataclass(frozen=True)
class Plan:
    """Everything fit needs to featurize, build and train the network: every "auto" option resolved,
    `auto` naming the values chosen by the rules and `reasons` saying, for each, which rule chose it from
    which statistics."""

    input_dim: int
    hidden_dim: int
    output_dim: int
    loss: str
    output_sparsity: float
    sparse_inference: bool | float  # True / False, or the fraction of outputs sparse inference evaluates
    batch_size: int
    learning_rate: float
    epochs: int
    auto: tuple = field(default=())   # names of the values chosen by the rules above
    # Share of a sparse training active set drawn uniformly rather than retrieved by LSH (engine
    # option random_negatives); files saved before this field existed used the engine default.
    random_negatives: float = 0.95
    embedding_init_scale: float = 1.0  # engine option of that name (likewise)
    feature_scaling: str = "none"      # udt.ingest.row_scaling; files saved before this field kept it elsewhere
    embedding_optimizer: str = "adam"  # engine option of that name; files saved before this field used Adam
    reasons: dict = field(default_factory=dict)

    @property
    def n_parameters(self) -> int:
        return self.input_dim * self.hidden_dim + self.hidden_dim + self.hidden_dim * self.output_dim + self.output_dim

    def to_dict(self) -> dict:
        d = asdict(self)
        d["auto"] = list(self.auto)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "Plan":
        d = dict(d)
        d["auto"] = tuple(d.get("auto", ()))
        return cls(**d)


def _nearest_power_of_two(x: float) -> int:
    return 1 << max(0, round(math.log2(max(x, 1.0))))


HASHED_IDS = 1 << 31          # the featurizer's hashed space before the id map (distinct features never meet)
MAX_INPUT_ROWS = {True: 1 << 20, False: 1 << 17}   # with / without text
MIN_OVERFLOW_ROWS = 16


def id_map_shape(n_distinct: int, has_text: bool) -> tuple[int, int]:
    """(vocabulary rows, overflow rows) of the input layer for a training set with `n_distinct` feature ids
    (module docstring, input_dim)."""
    cap = MAX_INPUT_ROWS[bool(has_text)]
    overflow = max(MIN_OVERFLOW_ROWS, n_distinct // 8)
    if n_distinct + overflow <= cap:
        return n_distinct, overflow
    return 0, cap   # plain hashing into the cap


ROWWISE_FROM_BYTES = 768 << 20  # Adam's moments of an embedding at least this large -> row-wise state


ROWWISE_FROM_ROWS = 10_000      # ... and at least this many training rows


def auto_embedding_optimizer(input_dim: int, hidden_dim: int, n_rows: int = ROWWISE_FROM_ROWS) -> str:
    """Row-wise optimizer state (engine/src/rowwise_rms.h) once Adam's two moments per weight would take
    ROWWISE_FROM_BYTES: it cuts them to one float per row and the embedding update's memory traffic to a
    third, which is most of a text model's training time (20 Newsgroups, 1.03M x 128: fit 6.6 -> 3.6 s, peak
    RSS 1,853 -> 833 MB). Accuracy, Adam -> row-wise, on the suite's text tasks (calibration suite, all
    at their defaults): news20 0.8605 -> 0.8597, polarity 0.8798 -> 0.8767, friends 0.2662 -> 0.2644,
    movies 0.7036 -> 0.7128, debgraph 0.8510 -> 0.8509, wordnet P@1 0.4009 -> 0.3942, austen 0.8233 ->
    0.8148. Row-wise costs a few tenths of a point on most of them, so it waits until Adam's moments would
    take 768 MB (20 Newsgroups' 1.05 GB: row-wise; IMDB/RT's 2^20 x 64, 537 MB: Adam, keeping its 0.8798;
    friends, austen: Adam). A small table keeps Adam, whose momentum
    measurably helps there (UCI Adult 0.8722 -> 0.8671 row-wise) and whose moments cost little. Small data
    keeps Adam too, whatever its table: with few steps a row-wise table lags far behind (a 2,282-row, 20-class
    imbalanced subset of 20 Newsgroups, 291k x 128 table: 0.587 row-wise, 0.739 Adam; austen, 7,873 rows,
    -0.85 above), so row-wise needs ROWWISE_FROM_ROWS training rows as well."""
    big = 8 * input_dim * hidden_dim >= ROWWISE_FROM_BYTES and n_rows >= ROWWISE_FROM_ROWS
    return "rowwise" if big else "adam"


def vocabulary_limit(has_text: bool) -> int:
    """The most distinct feature ids id_map_shape gives rows of their own (past it, plain hashing), so
    counting can stop there."""
    cap = MAX_INPUT_ROWS[bool(has_text)]
    n = cap * 8 // 9 + 1
    while n > 0 and id_map_shape(n, has_text)[0] == 0:
        n -= 1
    return n


def auto_input_dim(n_features: int = 0, has_text: bool = False) -> int:
    """The featurizer's feature ids: its id map's rows (`id_map_shape`); without one (n_features 0: no
    data counted), plain hashing into 2**20 ids with text, 100_000 without."""
    if n_features > 0:
        return n_features
    return 1 << 20 if has_text else 100_000


# A multi-label target trains a softmax over all labels against the row's label set normalised to sum 1
# (as fastText and the BOLT authors' UDT do), not one sigmoid per label: P@1 with the sigmoid / softmax, at
# the defaults otherwise: movies (7 genres, 1.42 a film) 0.7063 / 0.7131; WordNet hypernyms (15,741 labels,
# sparse output) 0.4021 / 0.4342; WordNet glosses -> 500 ancestor tags (the 31st-530th most frequent, 2.5 a
# row, 25,000 training rows; a stand-in for tag prediction) 0.4222 / 0.6654, where one-vs-rest LinearSVC on
# TF-IDF 1-2-grams scores 0.687. A sigmoid sees each label alone and most rows as its negatives; the softmax
# makes the labels compete for the row, which is what ranking them asks. predict()'s label sets come from
# the shares times a scale fitted after training (udt.training.label_sets); on the tag stand-in their mean
# example-based F1 is 0.567 against the sigmoid's 0.245 (exact sets 0.246 / 0.065).
MULTI_LABEL_LOSS = "softmax"

FEW_ROWS_PER_CLASS = 10
AUTO_RANDOM_NEGATIVES = 0.0  # negatives of sparse training all retrieved by LSH (see the module docstring)


SPARSE_MULTI_LABEL_FROM = 1024  # labels from which a multi-label target with few rows per label samples its negatives


def _few_rows_per_class(n_rows: int, n_classes: int) -> bool:
    return n_classes > 1 and n_rows < FEW_ROWS_PER_CLASS * n_classes


def sparse_output(n_classes: int, n_rows: int = 1, multi_label: bool = False) -> bool:
    """Whether the output layer is trained sparsely (LSH-sampled outputs): 8192 classes and more, or a
    multi-label target of 1024 labels and more with few rows per label (see the module docstring)."""
    if n_classes >= DENSE_OUTPUT_BELOW:
        return True
    return multi_label and n_classes >= SPARSE_MULTI_LABEL_FROM and _few_rows_per_class(n_rows, n_classes)


def auto_output_head(n_rows: int, n_classes: int) -> tuple[str, str]:
    """The output head "auto" takes when fit has no validation set (module docstring), and why."""
    if _few_rows_per_class(n_rows, n_classes):
        return "centroid", f"fewer than {FEW_ROWS_PER_CLASS} training rows per class"
    return "trained", f"at least {FEW_ROWS_PER_CLASS} training rows per class"


def auto_embedding_init_scale(multi_label: bool = False) -> float:
    return 1.0 if multi_label else 0.3


LONG_TEXT_FROM = 120  # mean words per row (Text columns together) from which rows are long documents


def auto_feature_scaling(has_text: bool, n_rows: int = 1, n_classes: int = 1, words_per_row: float = 0.0) -> str:
    if not has_text:
        return "none"
    idf = _few_rows_per_class(n_rows, n_classes) or words_per_row >= LONG_TEXT_FROM
    return "log-idf-l2" if idf else "log-l2"


def auto_hidden_dim(n_rows: int, n_classes: int, has_text: bool, sparse: bool) -> int:
    if sparse:
        return 256
    if has_text:
        return 64 if n_classes <= 2 else 128
    if n_classes > 1000:
        return 128
    return 512 if n_rows > 500_000 else 256


def auto_output_sparsity(n_classes: int, sparse: bool, multi_label: bool = False) -> float:
    if not sparse:
        return 1.0
    return min(1.0, (0.005 if multi_label else 0.01) * math.sqrt(65536.0 / n_classes))


MIN_STEPS_PER_EPOCH = 32
SMALL_DATA_ROWS = MIN_STEPS_PER_EPOCH * 256  # below it an epoch at the usual batches has < 32 steps
MIN_BATCH = 16


def auto_batch_size(n_rows: int, n_classes: int, sparse: bool, multi_class: bool = False,
                    text: bool = False) -> int:
    if sparse:  # sparse output layer (`sparse_output`): about 256 steps per epoch
        return min(2048, max(256, _nearest_power_of_two(n_rows / 256.0)))
    rows_per_step = n_rows / (128.0 if multi_class else 32.0)  # module docstring
    # small text softmax: n / 128 below 256 too (module docstring)
    floor = MIN_BATCH if multi_class and text and n_rows < SMALL_DATA_ROWS else 256
    batch = min(2048, max(floor, _nearest_power_of_two(min(rows_per_step, 8.0 * n_rows / max(n_classes, 1)))))
    # Small data: at least ~MIN_STEPS_PER_EPOCH steps an epoch (module docstring)
    return min(batch, max(MIN_BATCH, _nearest_power_of_two(n_rows / MIN_STEPS_PER_EPOCH)))


FULL_STEP_BATCH = 256  # normalised rows in smaller batches take a step sqrt(batch / 256) as large (module docstring)


def auto_learning_rate(normalized_rows: bool, batch_size: int = FULL_STEP_BATCH) -> float:
    if not normalized_rows:
        return 1e-3
    return 5e-3 * math.sqrt(min(1.0, batch_size / FULL_STEP_BATCH))


def auto_epochs(n_rows: int, learning_rate: float, n_classes: int = 1, multi_label: bool = False) -> int:
    rows_to_see = 250_000 * 1e-3 / learning_rate
    if _few_rows_per_class(n_rows, n_classes):
        least = 10 if multi_label else 5
    else:  # each output row learns from its class's rows only: under 100 of them need more passes
        least = 5 if n_classes > 1 and n_rows < 100 * n_classes else 3
    return int(min(10, max(least, math.ceil(rows_to_see / max(n_rows, 1)))))


def choose_architecture(n_rows: int, n_classes: int, task: str, *, has_text: bool = False,
                        normalized_rows: bool = False, input_dim="auto", hidden_dim="auto", sparsity="auto",
                        sparse_inference="auto", batch_size="auto", learning_rate="auto",
                        epochs="auto", n_features: int = 0, distinct_features: int = 0,
                        embedding_optimizer="auto") -> Plan:
    """Apply the rules in this module's docstring; explicit (non-"auto") values are kept as given.

    task is "single" (softmax over classes), "multi" (softmax over the labels against the row's normalised label
    set, MULTI_LABEL_LOSS) or "regression" (one output);
    has_text: a column holds text; normalized_rows: feature rows are scaled to unit L2 norm; n_features:
    the feature ids the featurizer emits, of which distinct_features occur in training.
    """
    if n_rows < 1:
        raise ValueError("cannot choose an architecture for an empty training set")
    auto, reasons = [], {}
    size = f"n={n_rows:,} rows, c={n_classes:,} {'classes' if task != 'regression' else 'output'}"

    def pick(name, value, rule, why=""):
        if value == "auto":
            auto.append(name)
            reasons[name] = f"{getattr(rule, '__name__', '')}{': ' if why else ''}{why}"
            return rule()
        return value

    regression = task == "regression"
    multi = task == "multi"
    output_dim = 1 if regression else int(n_classes)
    sparse = not regression and sparse_output(output_dim, n_rows, multi)
    shape = f"{size}, {'text' if has_text else 'no text'}, {'sparse' if sparse else 'dense'} output layer"
    input_dim = pick("input_dim", input_dim, _named(auto_input_dim, n_features, has_text),
                     (f"{distinct_features:,} distinct feature ids in training, {n_features:,} rows in all"
                      if distinct_features else f"more distinct feature ids than a vocabulary keeps: hashed into "
                      f"{n_features:,} rows") if n_features else "no id map: hashed ids")
    hidden_dim = pick("hidden_dim", hidden_dim, _named(auto_hidden_dim, n_rows, n_classes, has_text, sparse), shape)
    output_sparsity = pick("sparsity", sparsity, _named(auto_output_sparsity, output_dim, sparse, multi), shape)
    sparse_inference = pick("sparse_inference", sparse_inference, _named(sparse_inference_rule, output_sparsity),
                            f"training sparsity {output_sparsity:.4g}")
    if sparse_inference is not False and output_sparsity >= 1.0:
        raise ValueError(f"sparse_inference={sparse_inference!r} needs a sparse output layer (an LSH index), but "
                         f"this one is dense (sparsity 1.0); set sparsity below 1 or leave sparse_inference 'auto'")
    batch_size = pick("batch_size", batch_size,
                      _named(auto_batch_size, n_rows, output_dim, sparse, task == "single" and output_dim > 2,
                             has_text), shape)
    learning_rate = pick("learning_rate", learning_rate, _named(auto_learning_rate, normalized_rows, int(batch_size)),
                         (f"rows of unit length, batch {int(batch_size):,}" if normalized_rows else "unnormalised rows"))
    # a rate the rules scaled down for a small batch keeps the epochs of the full one (module docstring)
    epoch_rate = auto_learning_rate(normalized_rows) if "learning_rate" in auto else learning_rate
    epochs = pick("epochs", epochs, _named(auto_epochs, n_rows, epoch_rate, output_dim, multi),
                  f"{size}, learning rate {epoch_rate:.4g}")
    loss = "mse" if regression else MULTI_LABEL_LOSS if multi else "softmax"
    embedding_optimizer = pick("embedding_optimizer", embedding_optimizer,
                               _named(auto_embedding_optimizer, int(input_dim), int(hidden_dim), n_rows),
                               f"{int(input_dim):,} x {int(hidden_dim):,} embedding, {size}")
    return Plan(int(input_dim), int(hidden_dim), output_dim, loss, float(output_sparsity),
                sparse_inference if isinstance(sparse_inference, float) else bool(sparse_inference), int(batch_size), float(learning_rate), int(epochs), tuple(auto),
                random_negatives=AUTO_RANDOM_NEGATIVES, embedding_init_scale=auto_embedding_init_scale(multi),
                embedding_optimizer=embedding_optimizer, reasons=reasons)


def _named(rule, *args):
    """rule(*args) as a thunk that keeps the rule's name (for the plan's reasons)."""
    thunk = lambda: rule(*args)  # noqa: E731
    thunk.__name__ = rule.__name__
    return thunk


def sparse_inference_rule(output_sparsity: float) -> bool:
    """Sparse inference exactly when training was sparse (module docstring, sparse_inference)."""
    return output_sparsity < 1.0


def choose_plan(stats: DataStats, options) -> Plan:
    """The model-selection step, a pure function: data statistics + the estimator's validated options
    -> a Plan with every "auto" resolved, each with its reason. Explicit option values are kept."""
    scaling = options["feature_scaling"]
    reasons = {}
    if scaling == "auto":
        scaling = auto_feature_scaling(stats.has_text, stats.n_rows, stats.n_classes, stats.words_per_row)
        reasons["feature_scaling"] = (f"auto_feature_scaling: n={stats.n_rows:,} rows, c={stats.n_classes:,} classes, "
                                      f"{stats.words_per_row:.0f} words per row" if stats.has_text else
                                      "auto_feature_scaling: no text")
    plan = choose_architecture(
        stats.n_rows, stats.n_classes, stats.task, has_text=stats.has_text, normalized_rows=scaling != "none",
        n_features=stats.n_features, distinct_features=stats.distinct_features,
        **{k: options[k] for k in ("input_dim", "hidden_dim", "sparsity", "sparse_inference", "batch_size",
                                   "learning_rate", "epochs", "embedding_optimizer")})
    auto = plan.auto + (("feature_scaling",) if reasons else ())
    return replace(plan, feature_scaling=scaling, auto=auto, reasons={**reasons, **plan.reasons})


def summary_text(arch: Plan, *, kind: str, target: str, n_rows: int, columns: dict, inferred=(),
                 lsh_params: dict | None = None, history: list | None = None,
                 output_head: dict | None = None, feature_scaling: tuple[str, bool] | None = None,
                 search: list | None = None) -> str:
    """A human-readable report of what was chosen and why (`model.summary()`); feature_scaling: the
    rows' scaling and whether it was chosen automatically."""
    def mark(name):
        if name not in arch.auto:
            return "set"
        return f"auto; {arch.reasons[name]}" if name in arch.reasons else "auto"

    task = {"softmax": "single-label classification (softmax)", "sigmoid": "multi-label classification (sigmoid)",
            "mse": "regression (squared error)"}[arch.loss]
    lines = [f"udt.{kind}: {task}, target {target!r}, trained on {n_rows:,} rows",
             "columns: " + ", ".join(f"{name}={spec!r}{' (inferred)' if name in inferred else ''}"
                                     for name, spec in columns.items()),
             "",
             f"  {'layer':<10}{'shape':>24}{'parameters':>16}",
             f"  {'input':<10}{arch.input_dim:>24,}{'':>16}",
             f"  {'hidden':<10}{f'{arch.input_dim:,} x {arch.hidden_dim:,}':>24}"
             f"{arch.input_dim * arch.hidden_dim + arch.hidden_dim:>16,}",
             f"  {'output':<10}{f'{arch.hidden_dim:,} x {arch.output_dim:,}':>24}"
             f"{arch.hidden_dim * arch.output_dim + arch.output_dim:>16,}",
             f"  {'total':<10}{'':>24}{arch.n_parameters:>16,}",
             "",
             *([f"  feature scaling   {feature_scaling[0]:<12} ({'auto' if feature_scaling[1] else 'set'})"]
               if feature_scaling else []),
             f"  input_dim         {arch.input_dim:<12,} ({mark('input_dim')})",
             f"  hidden_dim        {arch.hidden_dim:<12,} ({mark('hidden_dim')})",
             f"  output sparsity   {arch.output_sparsity:<12.4g} ({mark('sparsity')}; "
             f"{max(1, round(arch.output_sparsity * arch.output_dim)):,} of {arch.output_dim:,} outputs per sample)",
             f"  sparse inference  {str(arch.sparse_inference):<12} ({mark('sparse_inference')})",
             *([f"  random negatives  {arch.random_negatives:<12.4g} (share of the sampled outputs drawn uniformly, "
                f"the rest retrieved by LSH)"] if arch.output_sparsity < 1.0 else []),
             f"  embedding init    {arch.embedding_init_scale:<12.4g} (hidden rows start with standard deviation "
             f"{arch.embedding_init_scale:.3g} / sqrt(hidden_dim))",
             f"  embedding state   {arch.embedding_optimizer:<12} ({mark('embedding_optimizer')})",
             f"  batch_size        {arch.batch_size:<12,} ({mark('batch_size')})",
             f"  learning_rate     {arch.learning_rate:<12.4g} ({mark('learning_rate')})",
             f"  epochs            {arch.epochs:<12,} ({mark('epochs')})"]
    if output_head:
        how = (f" (validation {output_head['metric']}: trained {output_head['trained']:.4g}, centroid "
               f"{output_head['centroid']:.4g})" if "metric" in output_head else
               f" (auto: {output_head['rule']})" if "rule" in output_head else "")
        lines.append(f"  output head       {output_head['output_head']}{how}")
    if "numeric_bins" in arch.reasons:
        lines.append(f"  numeric bins      {arch.reasons['numeric_bins']}")
    if "text_ngrams" in arch.reasons:
        lines.append(f"  text n-grams      1            ({arch.reasons['text_ngrams']})")
    if "text_tokenizer" in arch.reasons:
        lines.append(f"  text tokenizer    words-punct  ({arch.reasons['text_tokenizer']})")
    if lsh_params:
        lines.append("  LSH               " + ", ".join(f"{k}={v}" for k, v in lsh_params.items()))
    if search:
        lines.append("  plan search       candidate, training rows, held-out score, seconds:")
        lines += [f"    {t['candidate']:<28} {t['rows']:>9,} {t['score']:>10.4f} {t['seconds']:>8.2f}" for t in search]
    if history:
        last = history[-1]
        shown = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in last.items())
        lines.append(f"  last epoch        {shown}")
    return "\n".join(lines)
