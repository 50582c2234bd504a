"""Temporal history (never the current or a future row) and graph neighbor aggregation."""
import numpy as np
import pytest

from udt.columns import Categorical, Date, Neighbors, NodeId, Numeric
from udt.errors import ConfigError, DataError
from udt.ingest.featurize import TableFeaturizer


def recsys(**kw):
    return TableFeaturizer({"user": Categorical(), "item": Categorical(), "time": Date()}, target="item",
                           temporal={"user": ["item"]}, crosses=False, **kw)


EVENTS = {"user": ["u1", "u1", "u2", "u1", "u1"], "item": ["a", "b", "a", "c", "d"],
          "time": ["2024-01-01", "2024-01-02", "2024-01-02", "2024-01-03", "2024-01-03"]}


def row_sets(fb):
    return [set(fb.indices[fb.offsets[i]:fb.offsets[i + 1]].tolist()) for i in range(fb.n_rows)]


def history_part(fz, fb):
    """Per row, the ids beyond the row's own columns (= its history features)."""
    fz_plain = TableFeaturizer({"user": Categorical(), "time": Date()}, crosses=False).fit(EVENTS)
    own = row_sets(fz_plain.transform(EVENTS, with_labels=False))
    return [s - o for s, o in zip(row_sets(fb), own)]


def test_history_sees_only_strictly_earlier_rows_of_the_same_key():
    fz = recsys().fit(EVENTS)
    fb = fz.transform(EVENTS)
    hist = history_part(fz, fb)
    empty = hist[0]
    assert hist[2] == empty            # u2 has no earlier events (u1's do not leak)
    assert hist[1] != empty            # u1 at day 2 sees "a"
    assert hist[3] == hist[4]          # both day-3 rows see a, b: not each other (same timestamp)
    assert hist[3] != hist[1]
    # Labels are the tracked items, and a row never sees its own item.
    assert list(fz.decode(fb.label_indices)) == ["a", "b", "a", "c", "d"]


def test_row_order_does_not_matter_and_future_rows_are_invisible():
    fz = recsys().fit(EVENTS)
    forward = row_sets(fz.transform(EVENTS))
    order = [4, 3, 2, 1, 0]
    reversed_events = {k: [v[i] for i in order] for k, v in EVENTS.items()}
    fz.reset_history()
    backward = row_sets(fz.transform(reversed_events))
    assert [backward[order.index(i)] for i in range(5)] == forward
    # Across batches of one row each in reverse time order, later events recorded first are
    # never seen by earlier rows (and earlier events arriving later are not yet known).
    fz.reset_history()
    fb = fz.transform(reversed_events, batch_rows=1)
    hist = history_part(fz, fz.transform(EVENTS, update_history=False))
    fz.reset_history()
    plain = TableFeaturizer({"user": Categorical(), "time": Date()}, crosses=False).fit(EVENTS)
    own = row_sets(plain.transform(reversed_events, with_labels=False))
    hist_one_by_one = [s - o for s, o in zip(row_sets(fb), own)]
    empty = hist_one_by_one[order.index(2)]  # u2 never has history
    assert all(h == empty for h in hist_one_by_one)
    assert hist[4] != empty  # whereas with all events recorded, the last row does see earlier ones


def test_history_is_recency_aware():
    fz = recsys().fit(EVENTS)
    fz.transform(EVENTS)
    idx, val = fz.transform_row({"user": "u1", "time": "2024-02-01"})
    weights = sorted(val.tolist())
    # The newest item gets weight 1, the next 1/2, ...: older items matter less.
    assert 0.5 in weights and 1 / 3 in [pytest.approx(w) for w in weights]


def test_predict_reads_history_without_updating_unless_asked():
    fz = recsys().fit(EVENTS)
    fz.transform(EVENTS)
    before = fz.transform_row({"user": "u2", "time": "2024-05-01"})[0].tolist()
    fz.transform_row({"user": "u2", "item": "z", "time": "2024-04-01"})
    assert fz.transform_row({"user": "u2", "time": "2024-05-01"})[0].tolist() == before
    fz.transform_row({"user": "u2", "item": "z", "time": "2024-04-01"}, update_history=True)
    assert fz.transform_row({"user": "u2", "time": "2024-05-01"})[0].tolist() != before


def test_reset_history_and_state_round_trip():
    fz = recsys().fit(EVENTS)
    fz.transform(EVENTS)
    meta, arrays = fz.state()
    clone = TableFeaturizer.from_state(meta, arrays)
    row = {"user": "u1", "time": "2030-01-01"}
    assert clone.transform_row(row)[0].tolist() == fz.transform_row(row)[0].tolist()
    fz.reset_history()
    assert fz.transform_row(row)[0].tolist() != clone.transform_row(row)[0].tolist()


def test_numeric_unix_timestamp_column():
    fz = TableFeaturizer({"u": Categorical(), "i": Categorical(), "ts": Numeric()}, target="i",
                         temporal={"u": ["i"]}, timestamp="ts").fit({"u": ["a", "a"], "i": ["x", "y"], "ts": [5, 9]})
    fb = fz.transform({"u": ["a", "a"], "i": ["x", "y"], "ts": [9, 5]})
    assert fb.n_rows == 2


@pytest.mark.parametrize("temporal, timestamp, message", [
    ({"customer": ["item"]}, None, "temporal key 'customer' is not a declared column"),
    ({"user": ["price"]}, None, "tracked column 'price' is not a declared column"),
    ({"user": ["item"]}, "item", "must be a declared udt.Date()"),
])
def test_temporal_configuration_errors(temporal, timestamp, message):
    fz = TableFeaturizer({"user": Categorical(), "item": Categorical(), "time": Date()}, target="item",
                         temporal=temporal, timestamp=timestamp)
    with pytest.raises(ConfigError, match=message):
        fz.fit(EVENTS)


def test_temporal_needs_a_timestamp_column_and_values():
    fz = TableFeaturizer({"user": Categorical(), "item": Categorical()}, temporal={"user": ["item"]})
    with pytest.raises(ConfigError, match="exactly one udt.Date"):
        fz.fit({"user": ["a"], "item": ["b"]})
    fz = recsys().fit(EVENTS)
    with pytest.raises(DataError, match="expected a timestamp") as e:
        fz.transform({"user": ["u1", "u1"], "item": ["a", "b"], "time": ["2024-01-01", None]})
    assert e.value.row == 2 and e.value.column == "time"


GRAPH = {"id": [0, 1, 2, 3], "nb": ["1 2", "0", "0 3", "2"], "word": ["red", "blue", "red", "green"],
         "label": ["A", "B", "A", "C"]}


def graph_featurizer():
    return TableFeaturizer({"id": NodeId(), "nb": Neighbors(), "word": Categorical(), "label": Categorical()},
                           target="label", crosses=False)


def test_neighbors_aggregate_features_and_labels():
    fz = graph_featurizer().fit(GRAPH)
    no_graph = TableFeaturizer({"id": NodeId(), "word": Categorical()}, crosses=False).fit(GRAPH)
    row = {"id": 7, "nb": "1 3", "word": "red"}
    idx, val = fz.transform_row(row)
    own = set(no_graph.transform_row({"id": 7, "word": "red"})[0].tolist())
    extra = dict((i, v) for i, v in zip(idx.tolist(), val.tolist()) if i not in own)
    # Per neighbor: its id, its own 2 features (id, word) and its label, each weighted 1/degree; then each block
    # on its own scale (tests/test_graph_block_scaling.py): ids and features unit x 0.3, the label histogram as is.
    assert len(extra) == 2 * 4
    assert sorted(round(v, 4) for v in extra.values()) == [0.15] * 4 + [round(0.3 / 2 ** 0.5, 4)] * 2 + [0.5] * 2
    # Neighbors with the same label share the label feature; a different label does not.
    same_label = set(fz.transform_row({"id": 8, "nb": "0"})[0]) & set(fz.transform_row({"id": 9, "nb": "2"})[0])
    assert len(same_label) == 3  # label "A", the neighbors' shared word "red", the rows' own missing word


def test_node_does_not_aggregate_itself_and_unknown_neighbors_contribute_only_their_id():
    fz = graph_featurizer().fit(GRAPH)
    assert fz.transform_row({"id": 0, "nb": "0"})[0].tolist() == fz.transform_row({"id": 0, "nb": ""})[0].tolist()
    idx, val = fz.transform_row({"id": 5, "nb": "99"})
    assert len(idx) == 3  # own id, own missing word, neighbor id 99 (no indexed features or label)


def test_graph_state_round_trip():
    fz = graph_featurizer().fit(GRAPH)
    clone = TableFeaturizer.from_state(*fz.state())
    fb_a, fb_b = fz.transform(GRAPH), clone.transform(GRAPH)
    np.testing.assert_array_equal(fb_a.indices, fb_b.indices)
    np.testing.assert_array_equal(fb_a.values, fb_b.values)


def test_negative_node_id_in_data_names_row():
    data = dict(GRAPH, id=[0, 1, -2, 3])
    with pytest.raises(DataError, match="non-negative integer node id") as e:
        graph_featurizer().fit(data)
    assert e.value.row == 3 and e.value.column == "id"


def test_each_training_pass_starts_from_a_fresh_history():
    fz = recsys().fit(EVENTS)
    first, second = fz.transform(EVENTS), fz.transform(EVENTS)  # a second epoch must not see the first's events
    np.testing.assert_array_equal(first.indices, second.indices)
    later = {"user": ["u2"], "item": ["q"], "time": ["2024-02-01"]}
    probe = {"user": "u2", "time": "2024-03-01"}
    before = fz.transform_row(probe)[0].tolist()
    fz.transform(later, with_labels=False, update_history="append")  # streaming on: recorded on top of the history
    appended = fz.transform_row(probe)[0].tolist()
    assert appended != before
    fz.transform(later, with_labels=False, update_history=True)      # a new training pass forgets the earlier events
    assert fz.transform_row(probe)[0].tolist() not in (before, appended)
    with pytest.raises(ConfigError, match="update_history"):
        fz.transform(EVENTS, update_history="yes")


def test_neighbor_lists_from_an_edge_list(tmp_path):
    from udt.ingest.data import neighbor_lists
    path = tmp_path / "edges.csv"
    path.write_text("src,dst\n0,1\n0,1\n2,0\n")
    assert neighbor_lists(str(path)) == {0: "1 2", 1: "0", 2: "0"}
    assert neighbor_lists(str(path), undirected=False) == {0: "1", 2: "0"}
    path.write_text("src,dst\n0,x\n")
    with pytest.raises(DataError, match="integer node ids"):
        neighbor_lists(str(path))
