"""Recommendation on MovieLens-100K: predict each user's next movie from their history.

Leave-last-out: each user's last rating is the test row, everything before it trains. The model
sees, for every row, the user's most recent movies strictly before that row's time
(temporal={"user_id": ["item_id"]}) and learns which movie comes next.

    python demos/movielens.py --data DIR

Prints recall@10 (movies the user has already rated are excluded from the ten); exits 1 below 0.09.
"""
import pandas as pd

import udt.columns as col
from udt.interfaces.classifier import Classifier

from _common import Timer, check_floor, data_file, parse_args

FLOOR = 0.09


def main():
    args = parse_args(__doc__)
    train = pd.read_csv(data_file(args.data, "recommendation", "ml100k_train.csv"))
    test = pd.read_csv(data_file(args.data, "recommendation", "ml100k_test.csv"))
    columns = {"user_id": col.Categorical(), "item_id": col.Categorical(), "timestamp": col.Date()}
    model = Classifier(columns=columns, target="item_id", temporal={"user_id": ["item_id"]})
    train = train.drop(columns="rating")
    with Timer() as fit_time:
        model.fit(train)
    model.summary()
    queries = test.drop(columns=["rating", "item_id"])
    recommended = model.predict(queries, top_k=10, exclude_seen=True)
    with_seen = model.predict(queries, top_k=10)
    truth = test["item_id"].to_numpy()
    hits = (recommended == truth[:, None]).any(axis=1).mean()
    hits_with_seen = (with_seen == truth[:, None]).any(axis=1).mean()
    popular = train["item_id"].value_counts().index[:10].to_numpy()
    popularity = (popular[None, :] == truth[:, None]).any(axis=1).mean()
    print(f"{len(train):,} training ratings, {len(test):,} test users, {len(model.classes_):,} movies; "
          f"train time {fit_time.seconds:.1f} s")
    print(f"recall@10 {hits:.4f} (seen movies excluded), {hits_with_seen:.4f} (not excluded); "
          f"popularity baseline {popularity:.4f}")
    check_floor("MovieLens-100K leave-last-out recall@10", hits, FLOOR)


if __name__ == "__main__":
    main()
