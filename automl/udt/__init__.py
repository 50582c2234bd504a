"""udt: sparse neural networks (SLIDE/BOLT) for classification, search and recommendation on CPUs.

Declare columns and a target, then fit and predict like scikit-learn::

    import udt
    model = udt.Classifier(columns={"text": udt.Text(), "label": udt.Categorical()}, target="label")
    model.fit("train.csv")
    model.predict({"text": "oak dining table"})

The low-level engine (CSR batches in, top-k out) is :mod:`udt.engine`.
"""
from . import _core, engine
from .classifier import Classifier, Regressor, load
from .columns import Categorical, Date, Neighbors, NodeId, Numeric, Sequence, Text
from .errors import ConfigError, DataError

__version__ = "0.1.0"

__all__ = ["Classifier", "Regressor", "load", "Text", "Categorical", "Numeric", "Date", "Sequence", "NodeId",
           "Neighbors", "DataError", "ConfigError", "engine"]
