"""What a saved Classifier/Regressor file holds, and how a fitted estimator is rebuilt from it.

The container (one checksummed file: JSON metadata + named arrays in the safetensors layout) is
udt.serialization; this module decides its contents: the constructor's options, the column specs as
plain data, the featurizer's state, the chosen architecture, the training history and the engine's
arrays. Loading never runs code named by the file: column types come from a registry.
"""
from __future__ import annotations

import os

import numpy as np

from .columns import ColumnSpec
from .model_selection import Architecture
from .serialization import ModelFileError, load_model_file, save_model_file

FILE_KIND = "udt-estimator"


def save_estimator(model, path: str | os.PathLike) -> None:
    """Write a fitted estimator to `path`."""
    fz_meta, fz_arrays = model.featurizer_.state()
    params = {k: v for k, v in model.get_params(deep=False).items() if k != "columns"}
    metadata = {
        "file_kind": FILE_KIND, "estimator": model._kind,
        "columns": {name: spec.to_dict() for name, spec in model.columns.items()},
        "params": params, "architecture": model.architecture_.to_dict(), "network": model.network_.config,
        "featurizer": fz_meta, "feature_scaling": model.scaling_, "history": model.history_,
        "n_train_rows": model.n_train_rows_, "output_head": getattr(model, "output_head_", None),
        "target_scale": [model.target_mean_, model.target_std_] if hasattr(model, "target_mean_") else None,
    }
    arrays = {f"featurizer/{k}": np.asarray(v) for k, v in fz_arrays.items()}
    if hasattr(model, "seen_"):
        metadata["seen_keys"] = list(model.seen_)
        arrays["seen/lengths"] = np.array([len(v) for v in model.seen_.values()], np.int64)
        arrays["seen/items"] = np.concatenate([np.zeros(0, np.int64), *model.seen_.values()])
    if hasattr(model, "idf_"):
        arrays["idf"] = model.idf_
    # the engine's own memory, written out array by array: saving adds no copy of the model
    arrays.update({f"engine/{k}": np.asarray(v) for k, v in model.network_.state_arrays(copy=False).items()})
    save_model_file(path, metadata, arrays)


def load(path: str | os.PathLike):
    """Load a model written by save(); refuses anything that is not a valid udt model file."""
    from .classifier import Classifier, Regressor
    from .engine import Network
    from .featurize import TableFeaturizer

    metadata, arrays = load_model_file(path)
    if metadata.get("file_kind") != FILE_KIND:
        raise ModelFileError(f"{os.fspath(path)} is a udt file but not a saved estimator")
    cls = {"Classifier": Classifier, "Regressor": Regressor}.get(metadata.get("estimator"))
    if cls is None:
        raise ModelFileError(f"{os.fspath(path)} holds an unknown estimator {metadata.get('estimator')!r}")
    try:
        columns = {name: _column_from_dict(d) for name, d in metadata["columns"].items()}
        model = cls(columns=columns, **metadata["params"])
        fz_arrays = {k.split("/", 1)[1]: v for k, v in arrays.items() if k.startswith("featurizer/")}
        model.featurizer_ = TableFeaturizer.from_state(metadata["featurizer"], fz_arrays)
        model.network_ = Network(**metadata["network"])
        model.network_.load_state_arrays({k.split("/", 1)[1]: v for k, v in arrays.items()
                                          if k.startswith("engine/")})
        model.architecture_ = Architecture.from_dict(metadata["architecture"])
        model.history_ = list(metadata["history"])
        model.scaling_ = str(metadata["feature_scaling"])
        if "idf" in arrays:
            model.idf_ = np.asarray(arrays["idf"], np.float32)
        if "seen_keys" in metadata:
            items = np.split(arrays["seen/items"], np.cumsum(arrays["seen/lengths"])[:-1])
            model.seen_ = dict(zip(metadata["seen_keys"], items))
        model.n_train_rows_ = int(metadata["n_train_rows"])
        if metadata.get("output_head") is not None:  # files from before output_head keep the trained rows
            model.output_head_ = dict(metadata["output_head"])
        if metadata["target_scale"] is not None:
            model.target_mean_, model.target_std_ = map(float, metadata["target_scale"])
    except ModelFileError:
        raise
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelFileError(f"{os.fspath(path)} has inconsistent model contents: {exc}") from None
    return model


def _column_from_dict(d: dict):
    """Rebuild a column spec; only the registered column types can be named (no code from the file)."""
    try:
        return ColumnSpec.from_dict(d)
    except ValueError as exc:
        raise ModelFileError(f"bad column in model file: {exc}") from None
