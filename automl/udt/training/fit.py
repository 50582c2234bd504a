"""fit_model: the whole fit pipeline as one plain function, from a data source to a FittedModel.

    featurizer.fit (vocabulary, numeric ranges)      one pass, first fit only
    featurize the training rows                      one pass (kept in memory within the budget)
    statistics -> plan (model_selection)             target scale, feature scaling, IDF, architecture
    Trainer.run                                      epochs of CSR batches into the engine
    output head, sparse-inference index              after training

A first fit builds a new FittedModel; continued training (`previous`) trains the given one further,
keeping its featurizer (vocabulary, histories), plan and optimizer state. The estimators only
validate options and hold the result, so "train this plan on these rows and score it" is this call.
"""
from __future__ import annotations

import sys
import warnings
from contextlib import closing
from dataclasses import replace
from typing import Callable, Optional

import numpy as np

from udt.training import metrics as udt_metrics
from udt.ingest.batch import CsrBatch
from udt.training.centroid_head import apply_output_head
from udt.columns import Numeric, Sequence, Text
from udt.ingest.data import iter_sources, read_batches
from udt.engine import STATE, Network
from udt.errors import DataError
from udt.ingest.featurize import TableFeaturizer
from udt.training.fitted import FittedModel
from udt.training import input_sizing
from udt.training.grow_labels import grow_labels
from udt.training.label_sets import CALIBRATION_ROWS, fit_share_scale
from udt.selection.model_selection import HASHED_IDS, DataStats, Plan, choose_plan
from udt.selection import numeric_resolution, text_ngrams, text_tokenizer
from udt.ingest.row_scaling import add_idf, idf_weights, scale_features
from udt.options import OPTIONS
from udt.training import plan_search
from udt.training.row_weights import class_weight_vector, label_counts, weigh
from udt.training.scoring import score_rows
from udt.training.seen_items import SeenItems
from udt.training import target_transform, weight_averaging
from udt.training.trainer import EarlyStopping, InMemoryData, LocalRounds, Trainer, load_training_data

PASS_BATCH_ROWS = 8192  # rows per featurizer call in training and prediction passes


def new_featurizer(columns: dict, target: str, options: dict) -> TableFeaturizer:
    """With input_dim "auto" the featurizer hashes into HASHED_IDS until fit sizes the input layer to the
    training data (_size_input); a set input_dim is the hashed space itself."""
    has_text = _has_text(columns, target)
    input_dim = options["input_dim"] if options["input_dim"] != "auto" else HASHED_IDS
    featurizer = TableFeaturizer(columns=columns, target=target, input_dim=input_dim, temporal=options["temporal"],
                                 crosses=options["crosses"], seed=options["seed"], n_threads=options["n_threads"],
                                 timestamp=options["timestamp"], history_length=options["history_length"])
    # Until the training rows are counted: log-l2 for text (may become log-idf-l2), else none.
    scaling = options["feature_scaling"]
    return featurizer.set_scaling(("log-l2" if has_text else "none") if scaling == "auto" else scaling)


def _has_text(columns: dict, target: str) -> bool:
    return any(isinstance(s, (Text, Sequence)) for n, s in columns.items() if n != target)


def fit_model(columns: dict, target: str, options: dict, source, *, previous: Optional[FittedModel] = None,
              epochs: Optional[int] = None, validation=None, metrics=None, progress=False, distributed=None,
              check_task: Optional[Callable[[str], None]] = None, classes=None,
              sample_weight: Optional[str] = None, plan: Optional[Plan] = None) -> FittedModel:
    """Train on `source` (any table or file udt reads) and return the fitted model.

    options: the estimator's validated options (udt.options). previous: a FittedModel to train further
    (its featurizer and plan are kept). validation: a source scored after every epoch with `metrics`
    (exact inference), for early stopping and the output head. check_task(task) may refuse the target's
    task before any training pass. classes: labels a first fit adds to those of the data. sample_weight:
    the column of `source` holding each row's weight (udt.training.row_weights; with the class_weight option).
    plan: a first fit trains this Plan instead of choosing one (choose_plan), so "train this plan on these
    rows and score it" is fit_model(..., plan=p) then udt.training.scoring.score_rows."""
    if previous is not None and not previous.network.has_optimizer_state:
        raise ValueError("this model was saved without its optimizer state (save(..., optimizer_state=False), for "
                         "inference): it predicts, but continued training needs a file saved with it")
    if previous is None and plan is not None and "input_dim" not in plan.auto:
        options = dict(options, input_dim=plan.input_dim)  # a pinned plan's input layer: hashed into as given
    binned = {}
    if previous is None:  # a Numeric column's resolutions follow the rows there are (numeric_resolution)
        columns, binned = numeric_resolution.fitted_columns(columns, target, _count_rows(source, columns, target))
    featurizer = previous.featurizer if previous is not None else \
        new_featurizer(columns, target, options).fit(source, classes=classes)
    text_reasons = {}
    if previous is None:  # Text columns' tokens follow the rows per class (text_ngrams, text_tokenizer)
        featurizer, text_reasons = _text_rules(featurizer)
    # A first fit at input_dim "auto" counts the training rows' feature ids in its first pass, then sizes
    # the input layer to them (_size_input). The id map merges ids before any row scaling, so that pass
    # leaves the values unscaled.
    has_text = _has_text(columns, target)
    vocabulary = input_sizing.counter(has_text) if previous is None and options["input_dim"] == "auto" else None
    scaling = featurizer.scaling
    if vocabulary is not None:
        featurizer.set_scaling("none")
    task = featurizer.task
    if previous is not None and task in ("single", "multi"):
        grow_labels(previous, source)  # labels first seen now get output neurons, never dropped
    if check_task is not None:
        check_task(task)
    if task == "regression" and options["output_head"] == "centroid":
        raise ValueError("output_head='centroid' needs classes; a regression model has one numeric output")
    specs = udt_metrics.parse_metrics(metrics, task)
    # Every pass over the new rows records their events on top of the histories the model already
    # has: continued training must never forget earlier keys' histories.
    with featurizer.training_passes():
        # [mean, std] of the transformed target, the transform (udt.training.target_transform)
        target_scale = [previous.target_scale, previous.target_transform] if previous is not None else [None, None]
        weighting = [None, None]  # class weights, sample-weight scale: known after the first pass

        def training_chunks():
            for batch in featurizer.transform_batches(source, batch_rows=PASS_BATCH_ROWS, update_history=True,
                                                      weight_column=sample_weight):
                if vocabulary is not None and featurizer.id_map is None:
                    vocabulary.add(batch.indices)
                if target_scale[0] is not None:
                    batch.label_values = target_transform.standardised(batch.label_values, *target_scale)
                if any(w is not None for w in weighting):
                    weigh(batch, *weighting)
                yield batch

        data = load_training_data(training_chunks(), training_chunks, options["memory_budget_mb"] << 20)
        if vocabulary is not None:
            _size_input(featurizer, data, vocabulary, scaling, has_text)
        weighting[:] = _weighting(options, featurizer, data, training_chunks, sample_weight, previous)
        if isinstance(data, InMemoryData) and any(w is not None for w in weighting):
            weigh(data.rows, *weighting)
        held_out = None
        if _is_fraction(validation):
            data, held_out = _hold_out(data, float(validation), options["seed"], target_scale)
        if previous is None:
            previous = _plan(columns, target, options, featurizer, data, training_chunks, target_scale, plan,
                             specs[0], source, binned, text_reasons)
            previous.class_weights = weighting[0]
            if held_out is not None and featurizer.idf is not None:  # scaled before the IDF existed
                held_out.values = add_idf(held_out.values, held_out.indices, held_out.offsets, featurizer.idf)
        fitted = previous
        _train(fitted, options, data, specs, source, epochs, held_out if held_out is not None else validation,
               progress, distributed)
    return fitted


def _count_rows(source, columns: dict, target) -> int:
    """The source's rows, counted up to numeric_resolution.rows_needed() (all a rule needs to know), reading
    one Numeric input column; rows_needed() when there is none (nothing to decide)."""
    numeric = [n for n, s in columns.items() if n != target and isinstance(s, Numeric)]
    stop = numeric_resolution.rows_needed()
    n = 0
    if numeric:
        with closing(iter_sources(source, numeric[:1])) as parts:
            for part in parts:
                n += part.batch.num_rows
                if n >= stop:
                    break
    return min(n, stop) if numeric else stop


def _size_input(featurizer, data, vocabulary, scaling: str, has_text: bool) -> None:
    """The input layer sized to the training data (udt.training.input_sizing): every feature id the rows use
    gets a row of its own. Rows in memory are mapped and scaled as the featurizer makes them from now on, so
    training and prediction see the same rows."""
    input_sizing.set_id_map(featurizer, vocabulary, has_text)
    featurizer.set_scaling(scaling)
    if isinstance(data, InMemoryData):
        rows = featurizer.map_rows(data.rows)
        rows.values = scale_features(rows.values, rows.offsets, scaling)


def _weighted_mean_std(chunks) -> tuple[float, float, float]:
    """Weighted mean and standard deviation of streamed (values, weights or None) chunks, and the largest
    magnitude, in float64 and one pass, holding one chunk at a time: chunk statistics are combined as in
    Chan et al.'s parallel variance, so a 10M-row streamed target needs no 10M-value array."""
    total = mean = m2 = 0.0
    largest = 0.0
    with np.errstate(over="ignore", invalid="ignore"):
        for values, weights in chunks:
            x = np.asarray(values, np.float64)
            if x.size == 0:
                continue
            w = np.ones_like(x) if weights is None else np.asarray(weights, np.float64)
            largest = max(largest, float(np.abs(x).max()))
            n = float(w.sum())
            if n <= 0:
                continue
            m = float((w * x).sum() / n)
            q = float((w * (x - m) ** 2).sum())
            delta, combined = m - mean, total + n
            mean += delta * n / combined
            m2 += q + delta * delta * total * n / combined
            total = combined
    return mean, (np.sqrt(m2 / total) if total > 0 else 0.0), largest


def _weighting(options, featurizer, data, training_chunks, sample_weight, previous) -> list:
    """[class weights per class id or None, factor that makes the sample weights' mean 1 or None]."""
    class_weights = previous.class_weights if previous is not None else None
    if class_weights is None and options["class_weight"] is not None:
        if featurizer.task == "regression":
            raise ValueError("class_weight needs classes; weigh a regression target's rows with sample_weight")
        n = featurizer.n_classes
        counts = label_counts(data.rows, n) if isinstance(data, InMemoryData) else sum(
            (label_counts(chunk, n) for chunk in training_chunks()), np.zeros(n, np.int64))
        class_weights = class_weight_vector(options["class_weight"], featurizer.classes_, counts)
    scale = None
    if sample_weight is not None:
        if isinstance(data, InMemoryData):
            total = float(data.rows.row_weights.sum(dtype=np.float64))
        else:
            total = sum(float(chunk.row_weights.sum(dtype=np.float64)) for chunk in training_chunks())
        if not total > 0:
            raise ValueError("the sample weights are all zero: nothing to train on")
        scale = data.n_rows / total
    return [class_weights, scale]


def _is_fraction(validation) -> bool:
    import numbers
    if not isinstance(validation, numbers.Real) or isinstance(validation, bool):
        return False
    if not 0 < validation < 1:
        raise ValueError(f"validation={validation!r}: a fraction of the training rows must be in (0, 1)")
    return True


def _hold_out(data, fraction: float, seed: int, target_scale: list) -> tuple[InMemoryData, CsrBatch]:
    """Splits off `fraction` of the in-memory training rows (a seeded draw) as validation rows, with
    their labels in the target's own units."""
    if not isinstance(data, InMemoryData):
        raise ValueError(f"validation={fraction} holds out training rows, which needs the featurized training "
                         f"data in memory, but it exceeds memory_budget_mb; pass a validation table or file")
    order = np.random.default_rng([seed, 0x7a11d]).permutation(data.n_rows)
    n_held = max(1, int(round(fraction * data.n_rows)))
    if n_held >= data.n_rows:
        raise ValueError(f"validation={fraction} would hold out every one of the {data.n_rows} training rows")
    held = data.rows.take(np.sort(order[:n_held]))
    if target_scale[0] is not None:  # continued training: the rows carry standardised targets
        held.label_values = target_transform.unstandardised(held.label_values, *target_scale).astype(np.float32)
    return InMemoryData(data.rows.take(np.sort(order[n_held:]))), held


def _plan(columns, target, options, featurizer, data, training_chunks, target_scale, pinned, metric,
          source=None, binned=None, text_reasons=None) -> FittedModel:
    """A first fit's statistics -> target scale, feature scaling (IDF), architecture and a new network."""
    task, in_memory = featurizer.task, isinstance(data, InMemoryData)
    if task == "regression":
        # Standardise the target so one learning rate suits every scale; predictions undo it.
        # A positive skewed target is learned as its log (udt.training.target_transform).
        statistics = target_transform.TargetStatistics()
        mean, std, largest = _weighted_mean_std(statistics.observe(
            (c.label_values, c.row_weights) for c in ([data.rows] if in_memory else training_chunks())))
        if not (np.isfinite(mean) and np.isfinite(std) and np.isfinite(largest)):
            raise DataError(f"the regression target's values are too large to train on (largest magnitude "
                            f"{largest:.3g}; float32 holds up to 3.4e38): rescale them", column=featurizer.target)
        chosen = options["target_transform"]
        if chosen == target_transform.LOG and not statistics.positive:
            raise ValueError("target_transform='log' needs a regression target > 0 in every training row; use "
                             "'none' or 'auto'")
        target_scale[1] = statistics.transform() if chosen == "auto" else None if chosen == "none" else chosen
        if target_scale[1] is not None:
            mean, std = statistics.log_mean_std()
        target_scale[0] = [mean, std or 1.0]
        if in_memory:  # streamed chunks are scaled by training_chunks from now on
            data.rows.label_values = target_transform.standardised(data.rows.label_values, *target_scale)
    has_text = _has_text(columns, target)
    id_map = featurizer.id_map
    stats = DataStats(n_rows=data.n_rows, n_classes=featurizer.n_classes, task=task, has_text=has_text,
                      words_per_row=featurizer.words_per_row_, n_features=featurizer.n_features if id_map else 0,
                      distinct_features=getattr(featurizer, "distinct_ids_", None) or 0)
    if pinned is not None and "input_dim" in pinned.auto:  # the rule's value, for this data
        pinned = replace(pinned, input_dim=featurizer.n_features)
    plan = pinned if pinned is not None else choose_plan(stats, options)
    trials = []
    if pinned is None and isinstance(data, InMemoryData):  # the plan search; a winner may bring its own features
        max_hidden = next(o for o in OPTIONS if o.name == "hidden_dim").bounds[1]
        plan, featurizer, trials = plan_search.choose(plan, options["time_budget"], has_text, max_hidden, featurizer,
                                                      data, source, task, metric, options["seed"],
                                                      lambda p: _network(p, options))
        id_map = featurizer.id_map
        stats = replace(stats, distinct_features=getattr(featurizer, "distinct_ids_", None) or 0)
    if binned:
        groups = {}
        for name, change in binned.items():
            groups.setdefault(repr(change), []).append(name)
        why = "; ".join(f"{len(names)} column{'s' if len(names) > 1 else ''} ({', '.join(names[:3])}"
                        f"{', ...' if len(names) > 3 else ''}) {binned[names[0]][0]} -> {binned[names[0]][1]}"
                        for names in groups.values())
        plan = replace(plan, reasons={**plan.reasons, "numeric_bins": f"numeric_resolution: n={data.n_rows:,} rows, "
                                                                       f"bins {why}"})
    if text_reasons:
        plan = replace(plan, reasons={**plan.reasons, **text_reasons})
    _warn_if_mostly_distinct_classes(stats, plan)
    if plan.feature_scaling == "log-idf-l2":
        _fit_idf(featurizer, data, training_chunks)
    else:
        featurizer.set_scaling(plan.feature_scaling)
    network = _network(plan, options)
    if id_map is not None and 0 < stats.distinct_features <= len(id_map[0]):
        # Every training id has a row of its own, so the overflow rows train only on ids first seen later:
        # starting them at zero, a value never seen adds nothing to a prediction instead of random noise.
        network.weights()[STATE.embedding_weight][len(id_map[0]):] = 0.0
    return FittedModel(featurizer=featurizer, network=network, plan=plan, n_train_rows=data.n_rows,
                       search=[t.to_dict() for t in trials],
                       target_scale=target_scale[0], target_transform=target_scale[1], seen=SeenItems() if options["temporal"] and task == "single"
                       else None)


def _text_rules(featurizer: TableFeaturizer) -> tuple[TableFeaturizer, dict]:
    """(featurizer, reasons): a first fit's featurizer with its Text columns tokenized as udt.selection.text_ngrams
    and text_tokenizer say from the rows per class (or label) the statistics pass counted, with a line per rule
    that changed a column; the featurizer as it is and no line where none did. Before any row is featurized."""
    counts = featurizer.labels_.counts_ if featurizer.labels_ is not None else None
    if counts is None:
        return featurizer, {}
    median = text_ngrams.median_rows_per_class(counts)
    columns, reasons = featurizer.columns, {}
    noun = "class" if featurizer.task == "single" else "label"
    if text_ngrams.wants_unigrams(columns, featurizer.target, featurizer.task, median):
        columns = text_ngrams.unigram_columns(columns)
        reasons["text_ngrams"] = (f"text_ngrams: the median {noun} has {median:,.0f} training rows, under "
                                  f"{text_ngrams.UNIGRAMS_BELOW}: Text columns at unigrams")
    if text_tokenizer.wants_punctuation(columns, featurizer.target, featurizer.task, median):
        columns = text_tokenizer.punctuation_columns(columns)
        reasons["text_tokenizer"] = (f"text_tokenizer: a multi-label target, the median {noun} has {median:,.0f} "
                                     f"training rows, {text_tokenizer.WORDS_ONLY_BELOW} or more: punctuation tokens")
    return (featurizer.with_columns(columns) if reasons else featurizer), reasons


def _network(plan: Plan, options: dict) -> Network:
    return Network(input_dim=plan.input_dim, hidden_dim=plan.hidden_dim, output_dim=plan.output_dim,
                   output_sparsity=plan.output_sparsity, loss=plan.loss, learning_rate=plan.learning_rate,
                   random_negatives=plan.random_negatives, embedding_init_scale=plan.embedding_init_scale,
                   embedding_optimizer=plan.embedding_optimizer, seed=options["seed"], n_threads=options["n_threads"],
                   hash_family=options["hash_family"], label_augmentation=options["label_augmentation"])


ID_LIKE_CLASSES = 100_000  # from this many classes, a target with a class for most rows is likely an id column


def _warn_if_mostly_distinct_classes(stats: DataStats, plan: Plan) -> None:
    """1M distinct classes in a 23 MB file built a 6.4 GB network without a word: say so before building it."""
    if stats.task == "regression" or stats.n_classes < ID_LIKE_CLASSES or stats.n_classes * 2 < stats.n_rows:
        return
    gigabytes = plan.n_parameters * 12 / 2**30  # weights and two Adam moments, float32
    warnings.warn(f"the target has {stats.n_classes:,} classes for {stats.n_rows:,} training rows (most rows have "
                  f"a class of their own; is it an id column?): the network will hold about {gigabytes:.1f} GB",
                  UserWarning, stacklevel=5)


def _fit_idf(featurizer, data, training_chunks) -> None:
    """Document frequencies of the training rows -> IDF weights; rows already in memory, scaled before
    the weights existed, are re-weighted in place (the row scaling is linear, so multiplying the log-l2
    values by the IDF and normalising again equals log, IDF, normalise)."""
    n_features = featurizer.n_features
    if isinstance(data, InMemoryData):
        df = np.bincount(data.rows.indices, minlength=n_features)
    else:
        df = np.zeros(n_features, np.int64)
        for chunk in training_chunks():
            df += np.bincount(chunk.indices, minlength=n_features)
    featurizer.set_scaling("log-idf-l2", idf_weights(df, data.n_rows))
    if isinstance(data, InMemoryData):
        rows = data.rows
        rows.values = add_idf(rows.values, rows.indices, rows.offsets, featurizer.idf)


def featurized_rows(fitted: FittedModel, source, with_labels: bool = True) -> CsrBatch:
    """All rows of `source` as one batch, as prediction sees them (temporal histories read, not written)."""
    batches = list(fitted.featurizer.transform_batches(source, batch_rows=PASS_BATCH_ROWS, with_labels=with_labels,
                                                       update_history=False))
    if not batches:
        empty = np.zeros(1, np.int64)
        return CsrBatch(np.zeros(0, np.uint32), np.zeros(0, np.float32), empty, np.zeros(0, np.uint32), empty)
    return CsrBatch.concat(batches)


def _train(fitted: FittedModel, options, data, specs, source, epochs, validation, progress, distributed) -> None:
    validate = None
    if validation is not None:
        val_rows = validation if isinstance(validation, CsrBatch) else featurized_rows(fitted, validation)
        # Exact (dense) inference: the sparse-inference index is only built after the last epoch, so
        # sparse scores mid-training would measure the unfinished index, not what the network learned.
        validate = lambda: score_rows(fitted, val_rows, specs, sparse=False)  # noqa: E731
    patience = options["early_stopping_patience"]
    stopper = EarlyStopping(specs[0], patience) if patience else None
    trainer_options = dict(batch_size=fitted.plan.batch_size, seed=options["seed"],
                           progress=sys.stderr.isatty() if progress == "auto" else progress,
                           validate=validate, early_stopping=stopper)
    if distributed is not None:
        from udt.training.distributed import DistributedRounds
        trainer_options["rounds"] = DistributedRounds(fitted.network, distributed)
    n_epochs = epochs if epochs is not None else fitted.plan.epochs
    if not (isinstance(n_epochs, int) and n_epochs >= 1):
        raise ValueError(f"invalid epochs={n_epochs!r}: expected an integer >= 1")
    first_epoch = fitted.history[-1]["epoch"] + 1 if fitted.history else 1
    averaged = None
    if distributed is None and validate is None and \
            weight_averaging.applies(fitted.network, _has_text(fitted.featurizer.columns, fitted.featurizer.target),
                                     n_epochs, histories=bool(fitted.featurizer.temporal)):
        averaged = trainer_options["rounds"] = weight_averaging.TailAveragedRounds(
            LocalRounds(fitted.network), fitted.network, first_epoch + n_epochs - 1, n_epochs)
    trainer = Trainer(fitted.network, **trainer_options)
    if fitted.seen is not None:
        record_seen(fitted, source)
    if fitted.trained_output_weight is not None:
        # The centroid head is a view of a trained model: training goes on from the trained rows (going on
        # from centroid rows and re-centering after every partial_fit drifted: accuracy 1.0 -> 0.34 after
        # 8 calls on a 200-class test set, 1.0 throughout from the trained rows).
        views = fitted.network.weights()
        views[STATE.output_weight][...] = fitted.trained_output_weight
        views[STATE.output_bias][...] = fitted.trained_output_bias
        if fitted.network.lsh_params is not None:
            fitted.network.rebuild_index()
    trainer.run(data, n_epochs, fitted.history, first_epoch=first_epoch)
    if averaged is not None and not trainer.interrupted:
        averaged.finish()
    fitted.interrupted, fitted.stopped_early = trainer.interrupted, trainer.stopped_early
    head_replaced = False
    if fitted.featurizer.task != "regression":
        views = fitted.network.weights()
        trained = views[STATE.output_weight].copy(), views[STATE.output_bias].copy()
        fitted.output_head = apply_output_head(fitted.network, data, options["output_head"], validate, specs[0])
        head_replaced = fitted.output_head["output_head"] == "centroid"
        fitted.trained_output_weight, fitted.trained_output_bias = trained if head_replaced else (None, None)
    index_labels(fitted.network, data, rebuild=head_replaced)
    if fitted.featurizer.task == "multi" and fitted.network.config["loss"] == "softmax":
        rows = val_rows if validation is not None else \
            next(iter(data.epoch_batches(CALIBRATION_ROWS, np.random.default_rng([options["seed"], 0x1abe1]))))
        fitted.label_share_scale = fit_share_scale(fitted.network, rows)


def record_seen(fitted: FittedModel, source) -> None:
    """Adds each row's label to its temporal key's seen items (predict(..., exclude_seen=True))."""
    featurizer = fitted.featurizer
    key = next(iter(featurizer.temporal))
    label_id = {str(c): i for i, c in enumerate(featurizer.classes_)}
    for batch in read_batches(source, columns=[key, featurizer.target]):
        keys, labels = batch.column(0).to_pylist(), batch.column(1).to_pylist()
        fitted.seen.record(keys, [label_id.get(str(v), -1) for v in labels])


def index_labels(network, data, rebuild: bool = False) -> None:
    """Build the sparse-inference index from the final weights (engine's index_labels): every
    training row's labels go into the buckets its hidden activation hashes to, so LSH retrieval
    finds them; with 4 x the training tables (Network.inference_tables).  One call over all
    rows, because each call rebuilds the tables; streamed data (over the memory budget) keeps the
    index built during training, rebuilt if `rebuild` (the output rows changed after training)."""
    if network.lsh_params is None:
        return
    if not isinstance(data, InMemoryData):
        if rebuild:
            network.rebuild_index()
        return
    rows = data.rows
    network.index_labels(rows.indices, rows.values, rows.offsets, rows.label_indices, rows.label_offsets,
                         num_tables=network.inference_tables)
