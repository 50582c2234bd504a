"""udt: sparse neural networks (SLIDE/BOLT) for classification, search and recommendation on CPUs.

Declare columns and a target, then fit and predict like scikit-learn::

    import udt
    model = udt.Classifier(columns={"text": udt.Text(), "label": udt.Categorical()}, target="label")
    model.fit("train.csv")
    model.predict({"text": "oak dining table"})

The low-level engine (CSR batches in, top-k out) is :mod:`udt.engine`.
"""
from udt import _core
from udt import engine
from udt.columns import Categorical, Date, Neighbors, NodeId, Numeric, Sequence, Text
from udt.errors import ConfigError, DataError

__version__ = "0.1.0"

_ESTIMATORS = ("Classifier", "Regressor", "load")


def __getattr__(name):
    # The estimators pull in scikit-learn and pandas (~1.5 s): import them on first use, so
    # that `import udt.engine` alone stays fast.
    if name in _ESTIMATORS:
        from udt.interfaces import classifier
        return getattr(classifier, name)
    if name == "RayConfig":
        from udt.training.distributed import RayConfig
        return RayConfig
    raise AttributeError(f"module 'udt' has no attribute {name!r}")

__all__ = ["Classifier", "Regressor", "load", "RayConfig", "Text", "Categorical", "Numeric", "Date", "Sequence", "NodeId",
           "Neighbors", "DataError", "ConfigError", "engine"]
