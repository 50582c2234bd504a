"""FittedModel: everything `fit` learns, as one value, and its generic encoding for the model file.

The estimator holds one FittedModel (`model_`) and swaps it in whole when a first fit completes, so a
model is either unfitted or complete, never half-built. The model file stores each field by its
declared type, with no list of attributes kept anywhere else:
  - a type with state() / from_state(meta, arrays) (featurizer, network, seen items): its metadata,
    and its arrays under "<field>/<name>";
  - a type with to_dict() / from_dict() (the plan): metadata only;
  - a numpy array: the array "<field>";
  - anything else: plain JSON data.
Loading only ever constructs the declared types, never a type named by the file.
"""
from __future__ import annotations

import dataclasses
import typing
from typing import Optional

import numpy as np

from udt.engine import Network
from udt.ingest.featurize import TableFeaturizer
from udt.selection.model_selection import Plan
from udt.training.seen_items import SeenItems


@dataclasses.dataclass
class FittedModel:
    featurizer: TableFeaturizer                    # vocabulary, histories, feature scaling and IDF
    network: Network
    plan: Plan
    n_train_rows: int
    history: list = dataclasses.field(default_factory=list)   # one dict per epoch
    target_scale: Optional[list] = None            # regression: [mean, std] of the (transformed) training target
    target_transform: Optional[str] = None         # regression: udt.training.target_transform (None: identity)
    seen: Optional[SeenItems] = None               # temporal single-label models: labels seen per key
    output_head: Optional[dict] = None             # what the output_head option did, and why
    interrupted: bool = False                      # the last fit was stopped by Ctrl-C
    stopped_early: bool = False                    # the last fit stopped on its validation score
    inferred: list = dataclasses.field(default_factory=list)  # columns whose type was read from the data
    search: list = dataclasses.field(default_factory=list)    # the plan search's trials (udt.training.plan_search)
    class_weights: Optional[np.ndarray] = None     # per class id, from the class_weight option
    label_share_scale: Optional[float] = None      # multi-label softmax heads: udt.training.label_sets
    # With the centroid head, the trained output rows it replaced: continued training starts from them.
    trained_output_weight: Optional[np.ndarray] = None
    trained_output_bias: Optional[np.ndarray] = None


def _field_types() -> dict[str, type]:
    hints = typing.get_type_hints(FittedModel)
    out = {}
    for f in dataclasses.fields(FittedModel):
        t = hints[f.name]
        args = [a for a in typing.get_args(t) if a is not type(None)]
        out[f.name] = args[0] if typing.get_origin(t) is typing.Union else t
    return out


def encode_fitted(fitted: FittedModel) -> tuple[dict, dict[str, np.ndarray]]:
    """(JSON-able metadata, arrays) of a FittedModel, field by field."""
    meta, arrays = {}, {}
    for name, t in _field_types().items():
        value = getattr(fitted, name)
        if value is None:
            meta[name] = None
        elif hasattr(t, "from_state"):
            meta[name], parts = value.state()
            arrays.update({f"{name}/{k}": np.asarray(v) for k, v in parts.items()})
        elif hasattr(t, "from_dict"):
            meta[name] = value.to_dict()
        elif t is np.ndarray:
            meta[name], arrays[name] = True, value
        else:
            meta[name] = value
    return meta, arrays


def decode_fitted(meta: dict, arrays: dict[str, np.ndarray]) -> FittedModel:
    """The inverse of encode_fitted; KeyError / TypeError / ValueError on inconsistent contents."""
    values = {}
    for name, t in _field_types().items():
        m = meta.get(name)
        if m is None:
            continue
        if hasattr(t, "from_state"):
            prefix = name + "/"
            values[name] = t.from_state(m, {k[len(prefix):]: v for k, v in arrays.items() if k.startswith(prefix)})
        elif hasattr(t, "from_dict"):
            values[name] = t.from_dict(m)
        elif t is np.ndarray:
            values[name] = np.asarray(arrays[name])
        elif t in (int, float, bool, str):
            if not isinstance(m, (int, float, bool, str)):
                raise TypeError(f"field {name!r}: expected {t.__name__}, got {type(m).__name__}")
            values[name] = t(m)
        else:
            if not isinstance(m, t):
                raise TypeError(f"field {name!r}: expected {t.__name__}, got {type(m).__name__}")
            values[name] = m
    return FittedModel(**values)
