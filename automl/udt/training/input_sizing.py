"""The input layer sized to the training data: count the feature ids the training rows use, then give the
featurizer its id map (featurizers/src/id_map.h; how many rows: udt.selection.model_selection.id_map_shape).

fit counts while its first pass featurizes (a VocabularyCounter fed chunk by chunk, `counter`), then calls
`set_id_map`; rows featurized before the map are mapped with TableFeaturizer.map_rows, exactly as the
featurizer maps every later row. The plan search's crossed featurizer is sized the same way.
"""
from __future__ import annotations

from udt import _core
from udt.ingest.featurize import TableFeaturizer
from udt.selection.model_selection import id_map_shape, vocabulary_limit


def counter(has_text: bool):
    """A VocabularyCounter that stops counting where no vocabulary would be kept (plain hashing)."""
    return _core.featurizers.VocabularyCounter(vocabulary_limit(has_text))


def set_id_map(featurizer: TableFeaturizer, vocabulary, has_text: bool) -> None:
    """The featurizer's id map from a filled VocabularyCounter; distinct_ids_ records how many distinct ids
    the training rows held (None: more than any vocabulary keeps)."""
    n_vocabulary, overflow = id_map_shape(vocabulary.n_distinct, has_text)
    featurizer.set_id_map(vocabulary.choose(n_vocabulary), overflow)
    featurizer.distinct_ids_ = None if vocabulary.saturated else vocabulary.n_distinct
