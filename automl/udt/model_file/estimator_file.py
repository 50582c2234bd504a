"""What a saved Classifier/Regressor file holds: the estimator's kind and options, its column specs as
plain data, and its FittedModel encoded field by field (udt.training.fitted).

The container (one checksummed file: JSON metadata + named arrays, mapped on load: format_v2) is
udt.model_file.serialization. This module knows nothing of the estimator classes: it returns a StoredEstimator,
and udt.interfaces.estimator builds the estimator from it. Loading never runs code named by the file: column
types come from a registry and fitted fields are decoded by their declared types.

Content versions: 2 (this one); 1, written before the FittedModel existed, is converted on load.
"""
from __future__ import annotations

import dataclasses
import os

import numpy as np

from udt.columns import ColumnSpec
from udt.options import OPTIONS
from udt.model_file.compact_arrays import PRECISIONS, check_finite, reduce, widen
from udt.engine import is_optimizer_state
from udt.training.fitted import FittedModel, decode_fitted, encode_fitted
from udt.training.target_transform import TRANSFORMS
from udt.model_file.serialization import ModelFileError, decode_model, encode_model, load_model_file, save_model_file

FILE_KIND = "udt-estimator"
CONTENT_VERSION = 2


@dataclasses.dataclass
class StoredEstimator:
    kind: str          # "Classifier" or "Regressor"
    params: dict       # the constructor's options, "columns" included (as column specs)
    fitted: FittedModel


def _contents(stored: StoredEstimator, optimizer_state: bool = True,
              precision: str = "float32") -> tuple[dict, dict[str, np.ndarray]]:
    """The file's metadata and arrays; optimizer_state=False leaves out what only continued training
    reads, precision stores the weight matrices in fewer bits (udt.model_file.compact_arrays)."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision={precision!r}: expected one of {', '.join(PRECISIONS)}")
    fitted = stored.fitted
    if not optimizer_state:
        fitted = dataclasses.replace(fitted, trained_output_weight=None, trained_output_bias=None)
    fitted_meta, arrays = encode_fitted(fitted)
    encoding = {}
    for name in [n for n in arrays if n.startswith("network/")]:
        if not optimizer_state and is_optimizer_state(name[len("network/"):]):
            del arrays[name]
            continue
        parts, how = reduce(name, arrays[name], precision)
        if how is not None:
            del arrays[name]
            arrays.update(parts)
            encoding[name] = how
    params = {k: v for k, v in stored.params.items() if k != "columns"}
    metadata = {"file_kind": FILE_KIND, "content_version": CONTENT_VERSION, "estimator": stored.kind,
                "columns": _columns_to_dict(stored.params["columns"]),
                "params": params, "fitted": fitted_meta, "weight_encoding": encoding}
    return metadata, arrays


def write_estimator(path: str | os.PathLike, stored: StoredEstimator, optimizer_state: bool = True,
                    precision: str = "float32") -> None:
    save_model_file(path, *_contents(stored, optimizer_state, precision))


def encode_estimator(stored: StoredEstimator) -> bytes:
    """The model file's bytes (pickling a fitted estimator goes through them)."""
    return encode_model(*_contents(stored))


def read_estimator(path: str | os.PathLike) -> StoredEstimator:
    """Refuses anything that is not a valid udt estimator file (ModelFileError naming the file)."""
    return _stored(*load_model_file(path), source=os.fspath(path))


def decode_estimator(blob: bytes, source: str = "<bytes>") -> StoredEstimator:
    return _stored(*decode_model(blob, source), source=source)


def _stored(metadata: dict, arrays: dict, source: str) -> StoredEstimator:
    if metadata.get("file_kind") != FILE_KIND:
        raise ModelFileError(f"{source} is a udt file but not a saved estimator")
    version = metadata.get("content_version", 1)
    if version not in (1, CONTENT_VERSION):
        raise ModelFileError(f"{source} holds estimator content version {version!r}; this udt reads versions 1 "
                             f"and {CONTENT_VERSION} (a newer udt wrote it)")
    kind = metadata.get("estimator")
    if kind not in ("Classifier", "Regressor"):
        raise ModelFileError(f"{source} holds an unknown estimator {kind!r}")
    try:
        if version == 1:
            metadata, arrays = _from_version_1(metadata, arrays)
        encoded = dict(metadata.get("weight_encoding") or {})
        for name, how in encoded.items():
            arrays[name] = widen(name, arrays, how)  # reduced weights are checked finite as they widen
            arrays.pop(name + ".scale", None)
        check_finite(arrays, checked=encoded)
        columns = None if metadata["columns"] is None else {
            name: None if d is None else _column_from_dict(d) for name, d in metadata["columns"].items()}
        _check_declared_classes(metadata["fitted"])
        fitted = decode_fitted(metadata["fitted"], arrays)
        _check_consistent(fitted)
        params = dict(metadata["params"], columns=columns)
    except ModelFileError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, OverflowError, RecursionError,
            RuntimeError) as exc:  # whatever a crafted file makes a constructor raise: the file's error
        raise ModelFileError(f"{source} has inconsistent model contents: {type(exc).__name__}: {exc}") from None
    return StoredEstimator(kind, params, fitted)


def _check_declared_classes(fitted_meta: dict) -> None:
    """Before the featurizer is built (a declared n_classes builds that many names): the target's declared
    class count must be the network's output count."""
    featurizer, network = fitted_meta["featurizer"], fitted_meta["network"]
    spec = featurizer["columns"][featurizer["target"]]
    declared = spec.get("n_classes")
    if declared is not None and declared != network["output_dim"]:
        raise ValueError(f"the target declares {declared!r} classes but the network has {network['output_dim']!r} "
                         f"outputs")


def _check_consistent(fitted: FittedModel) -> None:
    """The parts of a fitted model agree with each other (each part has checked itself)."""
    featurizer, network, plan = fitted.featurizer, fitted.network, fitted.plan
    if featurizer.n_features != network.input_dim:
        raise ValueError(f"the featurizer emits {featurizer.n_features} feature ids but the network reads "
                         f"{network.input_dim}")
    if (plan.input_dim, plan.hidden_dim, plan.output_dim) != (network.input_dim, network.hidden_dim,
                                                                network.output_dim):
        raise ValueError(f"the plan's dimensions {(plan.input_dim, plan.hidden_dim, plan.output_dim)} are not the "
                         f"network's {(network.input_dim, network.hidden_dim, network.output_dim)}")
    if featurizer.task != "regression" and featurizer.n_classes != network.output_dim:
        raise ValueError(f"{featurizer.n_classes} classes but the network has {network.output_dim} outputs")
    if plan.sparse_inference is not False and network.lsh_params is None:
        raise ValueError(f"sparse_inference={plan.sparse_inference!r} over a dense output layer (no LSH index)")
    scale = fitted.target_scale
    if (featurizer.task == "regression") != (scale is not None) or scale is not None and not (
            isinstance(scale, list) and len(scale) == 2 and all(isinstance(v, (int, float)) and
                                                                 not isinstance(v, bool) for v in scale)
            and np.isfinite(scale).all() and scale[1] > 0):
        raise ValueError(f"target_scale={scale!r}: a regression model needs [mean, std > 0], a classifier none")
    if fitted.target_transform not in TRANSFORMS or (fitted.target_transform is not None and scale is None):
        raise ValueError(f"target_transform={fitted.target_transform!r}: expected one of {TRANSFORMS}, and None for "
                         f"a classifier")
    values = {"n_threads": featurizer.n_threads, "sparse_inference": plan.sparse_inference}
    for option in OPTIONS:
        if option.name in values and not option.valid(values[option.name]):
            raise ValueError(f"{option.name}={values[option.name]!r}: expected {option.expected}")


def _from_version_1(md: dict, arrays: dict) -> tuple[dict, dict]:
    """A version-1 file's metadata and arrays in version 2's names."""
    featurizer = dict(md["featurizer"], scaling=md["feature_scaling"])
    fitted = {"featurizer": featurizer, "network": md["network"], "plan": md["architecture"],
              "n_train_rows": md["n_train_rows"], "history": md["history"], "output_head": md.get("output_head"),
              "target_scale": md["target_scale"], "seen": {"keys": md["seen_keys"]} if "seen_keys" in md else None}
    renamed = {}
    for name, a in arrays.items():
        renamed["featurizer/idf" if name == "idf" else "network/" + name[7:] if name.startswith("engine/")
                else name] = a
    return dict(md, fitted=fitted), renamed


def _columns_to_dict(columns):
    """The constructor's columns as plain data: None (all inferred), and None for each inferred column."""
    if columns is None:
        return None
    return {name: None if spec is None else spec.to_dict() for name, spec in columns.items()}


def _column_from_dict(d: dict):
    """Rebuild a column spec; only the registered column types can be named (no code from the file)."""
    try:
        return ColumnSpec.from_dict(d)
    except ValueError as exc:
        raise ModelFileError(f"bad column in model file: {exc}") from None
