"""Growing the label set in continued training: new labels get new output neurons, nothing is dropped.

When partial_fit / warm_start fit meets labels the model has never seen, they are appended to the label
vocabulary (existing labels keep their ids, so classes_ is the old order followed by the new labels,
sorted) and the output layer grows by one row per new label: a new network of the larger output
dimension is built with the same options, every existing row (weights, bias, Adam moments and steps)
and the whole hidden layer are copied over, the new rows keep the fresh initialisation, and the LSH
tables are rebuilt from the grown layer. A warning says how many labels were added.
"""
from __future__ import annotations

import dataclasses
import warnings

import numpy as np

from udt.engine import STATE, Network

OUTPUT_LAYER = STATE.output_weight.split(".")[0] + "."  # the arrays with one row per output neuron
from udt.training.fitted import FittedModel


def grow_labels(fitted: FittedModel, source) -> int:
    """Adds the labels of `source` the model does not know; returns how many were added."""
    featurizer = fitted.featurizer
    new = featurizer.unseen_labels(source)
    if not new:
        return 0
    old_dim = fitted.network.output_dim
    featurizer.labels_.extend(new)
    fitted.network = grown_network(fitted.network, old_dim + len(new))
    if fitted.trained_output_weight is not None:  # the centroid head's trained rows grow alike
        views = fitted.network.weights()
        fitted.trained_output_weight = np.concatenate([fitted.trained_output_weight,
                                                       views[STATE.output_weight][old_dim:]])
        fitted.trained_output_bias = np.concatenate([fitted.trained_output_bias, views[STATE.output_bias][old_dim:]])
    fitted.plan = dataclasses.replace(fitted.plan, output_dim=old_dim + len(new))
    if fitted.class_weights is not None:  # new classes weigh 1 until a first fit sees them
        fitted.class_weights = np.concatenate([fitted.class_weights, np.ones(len(new), np.float32)])
    shown = ", ".join(map(repr, new[:5])) + (f" and {len(new) - 5} more" if len(new) > 5 else "")
    warnings.warn(f"continued training found {len(new)} new label(s) ({shown}); the output layer grew from "
                  f"{old_dim} to {old_dim + len(new)} classes", UserWarning, stacklevel=4)
    return len(new)


def grown_network(network: Network, output_dim: int) -> Network:
    """A copy of `network` with `output_dim` outputs: the first network.output_dim rows of every output
    array copied, the hidden layer and the training counters copied, the LSH tables rebuilt."""
    config = dict(network.config, output_dim=output_dim)
    if config["output_sparsity"] == "auto":  # keep the sparsity the network trains with
        config["output_sparsity"] = network.output_sparsity
    grown = Network(**config)
    old, new = network.state_views(), grown.state_views()
    for name, target in new.items():
        if name == STATE.lsh_buckets:
            continue
        source = old[name]
        if name.startswith(OUTPUT_LAYER) and target.shape[0] == output_dim and source.shape[0] == network.output_dim:
            target[:source.shape[0]] = source
        else:
            target[...] = source
    grown.batches_trained = network.batches_trained
    if grown.lsh_params is not None:
        grown.rebuild_index()
    return grown
