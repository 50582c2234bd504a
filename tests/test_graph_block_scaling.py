"""Graph rows scale their blocks separately: the neighbours' label histogram keeps its weight beside the row's
own features whatever the length of the row's text (table_featurizer.cc has the debgraph measurements), and
featurizer states saved before (version 2) keep the one row-wide scaling."""
import numpy as np

from udt.columns import Categorical, Neighbors, NodeId, Text
from udt.ingest.featurize import TableFeaturizer

# Nodes 0 and 1 are labelled "a"; the query rows link to both.
GRAPH = {"id": [0, 1, 2], "text": ["alpha beta", "gamma delta", "epsilon"], "nb": ["1", "0", "0 1"],
         "y": ["a", "a", "b"]}
LONG_TEXT = " ".join(f"word{i}" for i in range(300))


def featurizers():
    """The same columns with a target (neighbour labels indexed) and without (no label block)."""
    cols = {"id": NodeId(), "text": Text(), "nb": Neighbors()}
    with_labels = TableFeaturizer(dict(cols, y=Categorical()), target="y").fit(GRAPH)
    without = TableFeaturizer(cols).fit({k: v for k, v in GRAPH.items() if k != "y"})
    return with_labels.set_scaling("log-l2"), without.set_scaling("log-l2")


def label_share(fz, plain, text):
    """The L2 share of the neighbour-label block in the scaled row of a new node linking to nodes 0 and 1."""
    row = {"id": 9, "text": text, "nb": "0 1"}
    idx, val = fz.transform_row(row)
    labels = np.isin(idx, plain.transform_row(row)[0], invert=True)
    assert labels.sum() == 1  # the histogram's one class, "a"
    return float(np.linalg.norm(val[labels]) / np.linalg.norm(val))


def test_label_block_share_does_not_shrink_with_the_text():
    fz, plain = featurizers()
    assert fz._core.graph_block_scaling
    short, long = label_share(fz, plain, "alpha"), label_share(fz, plain, LONG_TEXT)
    # own features: one unit block; ids and neighbour features 0.3 each; labels 1: 1 / sqrt(1 + 1 + 2 * 0.09)
    assert abs(short - 1 / np.sqrt(2.18)) < 1e-4 and abs(long - short) < 1e-4


def test_version_2_states_keep_the_row_wide_scaling():
    fz, plain = featurizers()
    meta, arrays = fz.state()
    assert meta["version"] == 4
    meta["version"] = 2
    old = TableFeaturizer.from_state(meta, arrays)
    assert not old._core.graph_block_scaling
    plain._core.graph_block_scaling = False
    # the old rule: one L2 over 300 words and the neighbours' features: the labels' share ~0.06
    assert label_share(old, plain, LONG_TEXT) < 0.1
    idx, val = old.transform_row({"id": 9, "text": "alpha", "nb": "0 1"})
    # every neighbour 1/degree, the row scaled as a whole: own id, "alpha", label "a" (1/2 + 1/2); at 1/2 two
    # neighbour ids and each neighbour's indexed features (its id and the 1-2-grams of its two words)
    raw = np.array([1.0] * 3 + [0.5] * 10, np.float32)
    np.testing.assert_allclose(np.sort(val), np.sort(raw / np.linalg.norm(raw)), rtol=1e-6)
    again = TableFeaturizer.from_state(*fz.state())
    assert again._core.graph_block_scaling
    a, b = fz.transform(GRAPH), again.transform(GRAPH)
    np.testing.assert_array_equal(a.indices, b.indices)
    np.testing.assert_array_equal(a.values, b.values)


def test_rows_without_a_neighbors_column_ignore_the_setting():
    data = {"text": ["alpha beta beta", "gamma"], "y": ["a", "b"]}
    fz = TableFeaturizer({"text": Text(), "y": Categorical()}, target="y").fit(data).set_scaling("log-l2")
    before = fz.transform(data)
    fz._core.graph_block_scaling = False
    after = fz.transform(data)
    np.testing.assert_array_equal(before.indices, after.indices)
    np.testing.assert_array_equal(before.values, after.values)
