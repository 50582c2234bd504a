"""Per temporal key, the label ids it has already had (for predict(..., exclude_seen=True)).

A recommender should not recommend what the user already has. Training and update_history() record
each row's (key, label); prediction drops a key's recorded labels from its ranked list. The records also
count how often a row's label was one its key already had: in a ratings log almost never (MovieLens-100K:
0 of 99,057), in a purchase log often, and predict(exclude_seen="auto") drops seen labels only when such
repeats are rare (REPEATS_RARE).
"""
from __future__ import annotations

import numpy as np


REPEATS_RARE = 0.05  # share of training rows repeating their key's label below which seen labels are dropped


class SeenItems:
    """key (str) -> sorted unique label ids (int64), and how many recorded rows repeated a seen label."""

    def __init__(self, by_key: dict[str, np.ndarray] | None = None, rows: int | None = 0, repeats: int | None = 0):
        self.by_key = dict(by_key or {})
        self.rows, self.repeats = rows, repeats   # None: not counted (files written before the count)

    def record(self, keys, label_ids) -> None:
        """Adds label id label_ids[i] to keys[i]; ids < 0 (labels outside the vocabulary) are skipped."""
        had: dict[str, set] = {}   # each key's labels so far: the recorded ones, then this call's
        repeats = rows = 0
        for key, label in zip(keys, label_ids):
            if label >= 0:
                key, label = str(key), int(label)
                if key not in had:
                    had[key] = set(self.by_key[key].tolist()) if key in self.by_key else set()
                repeats += label in had[key]
                rows += 1
                had[key].add(label)
        if self.rows is not None:
            self.rows, self.repeats = self.rows + rows, self.repeats + repeats
        for key, ids in had.items():
            self.by_key[key] = np.array(sorted(ids), np.int64)

    @property
    def repeats_rare(self) -> bool:
        """Whether rows rarely repeat a label their key already had (False when not counted)."""
        return self.rows is not None and self.rows > 0 and self.repeats < REPEATS_RARE * self.rows

    @property
    def most_per_key(self) -> int:
        return max((len(v) for v in self.by_key.values()), default=0)

    def drop(self, ids: np.ndarray, scores: np.ndarray, keys, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The k best ids (and scores) of each row that its key has not seen. `ids` holds at least k + most_per_key
        candidates per row, best first, or every label; when a key has seen all but fewer than k labels, its row
        ends with the best seen ones (a ranking of k labels is always returned)."""
        out_ids = np.empty((len(ids), k), ids.dtype)
        out_scores = np.empty((len(ids), k), scores.dtype)
        for i, key in enumerate(keys):
            seen = np.isin(ids[i], self.by_key.get(str(key), ()))
            order = np.concatenate([np.flatnonzero(~seen), np.flatnonzero(seen)])[:k]  # unseen first, stable
            out_ids[i], out_scores[i] = ids[i][order], scores[i][order]
        return out_ids, out_scores

    # ------------------------------------------------------------------ model file
    def state(self) -> tuple[dict, dict]:
        keys = list(self.by_key)
        arrays = {"lengths": np.array([len(self.by_key[k]) for k in keys], np.int64),
                  "items": np.concatenate([np.zeros(0, np.int64), *self.by_key.values()])}
        return {"keys": keys, "rows": self.rows, "repeats": self.repeats}, arrays

    @classmethod
    def from_state(cls, meta: dict, arrays: dict) -> "SeenItems":
        keys, lengths, items = meta["keys"], arrays["lengths"], arrays["items"]
        if len(keys) != len(lengths) or lengths.min(initial=0) < 0 or lengths.sum() != len(items):
            raise ValueError("seen items: keys, lengths and items disagree")
        rows, repeats = meta.get("rows"), meta.get("repeats")
        if rows is not None and not (isinstance(rows, int) and isinstance(repeats, int) and 0 <= repeats <= rows):
            raise ValueError("seen items: the row and repeat counts must be integers with 0 <= repeats <= rows")
        return cls(dict(zip(map(str, keys), np.split(np.asarray(items, np.int64), np.cumsum(lengths)[:-1]))),
                   rows, repeats if rows is not None else None)
