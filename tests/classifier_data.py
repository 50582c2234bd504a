"""Small generated data sets for the Classifier/Regressor/CLI tests (no files needed beside the repo)."""
import gzip
from pathlib import Path

import numpy as np
import pandas as pd

import udt.columns as col

ROOT = Path(__file__).resolve().parents[1]
WORDS = {"sports": "ball goal team match coach score league player",
         "tech": "cpu code compiler kernel laptop software chip memory",
         "food": "bread cheese soup recipe oven salad pasta spice"}
FILLER = "the a of and with very new old big small this that".split()


def text_table(n=900, seed=0) -> pd.DataFrame:
    """Short documents whose topic is given away by a few topic words among filler."""
    rng = np.random.default_rng(seed)
    topics = list(WORDS)
    rows = []
    for i in range(n):
        topic = topics[i % 3]
        words = list(rng.choice(WORDS[topic].split(), 3)) + list(rng.choice(FILLER, 4))
        rng.shuffle(words)
        rows.append({"text": " ".join(words), "price": float(rng.normal(10 + 5 * (i % 3), 2)),
                     "shop": f"shop{rng.integers(0, 5)}", "topic": topic})
    return pd.DataFrame(rows)


TEXT_COLUMNS = {"text": col.Text(), "price": col.Numeric(), "shop": col.Categorical(), "topic": col.Categorical()}
# Small explicit dimensions keep every test fast; the automatic rules are tested in test_model_selection.
SMALL = dict(input_dim=20_000, hidden_dim=32, epochs=4, batch_size=64, learning_rate=5e-3)


def adult_sample(n=4000) -> pd.DataFrame:
    """The first n rows of the UCI Adult copy shipped with the demos (CC BY 4.0, demos/data/README.md)."""
    with gzip.open(ROOT / "demos" / "data" / "adult.csv.gz", "rt") as f:
        return pd.read_csv(f, nrows=n).drop(columns="split")


ADULT_NUMERIC = ["age", "fnlwgt", "education_num", "capital_gain", "capital_loss", "hours_per_week"]
ADULT_CATEGORICAL = ["workclass", "education", "marital_status", "occupation", "relationship", "race", "sex",
                     "native_country"]


def adult_columns():
    columns = {name: col.Numeric() for name in ADULT_NUMERIC}
    columns.update({name: col.Categorical() for name in ADULT_CATEGORICAL})
    columns["income"] = col.Categorical()
    return columns


def multi_label_table(n=900, seed=1) -> pd.DataFrame:
    """Each document mentions one to three topics; its target lists them, space-separated."""
    rng = np.random.default_rng(seed)
    topics = list(WORDS)
    rows = []
    for _ in range(n):
        chosen = sorted(rng.choice(topics, rng.integers(1, 4), replace=False))
        words = [w for t in chosen for w in rng.choice(WORDS[t].split(), 2)] + list(rng.choice(FILLER, 3))
        rng.shuffle(words)
        rows.append({"text": " ".join(words), "topics": " ".join(chosen)})
    return pd.DataFrame(rows)


def regression_table(n=1500, seed=2) -> pd.DataFrame:
    """y = 3 * x1 - 2 * x2 + 10 * [color == red] + noise, on a scale of hundreds."""
    rng = np.random.default_rng(seed)
    x1, x2 = rng.uniform(0, 10, n), rng.uniform(0, 10, n)
    color = rng.choice(["red", "green", "blue"], n)
    y = 100 + 3 * x1 - 2 * x2 + 10 * (color == "red") + rng.normal(0, 0.5, n)
    return pd.DataFrame({"x1": x1, "x2": x2, "color": color, "y": y})


REGRESSION_COLUMNS = {"x1": col.Numeric(), "x2": col.Numeric(), "color": col.Categorical(), "y": col.Numeric()}


def sequence_table(n_users=60, length=8, n_items=20, seed=3) -> pd.DataFrame:
    """Each user watches items start, start+1, start+2, ... (mod n_items) in time order."""
    rng = np.random.default_rng(seed)
    rows = []
    for user in range(n_users):
        start = int(rng.integers(0, n_items))
        for step in range(length):
            rows.append({"user": f"u{user}", "item": f"i{(start + step) % n_items}",
                         "time": 1_600_000_000 + 3600 * (user * length + step)})
    return pd.DataFrame(rows)


def many_class_table(n_classes=300, per_class=6, seed=4) -> pd.DataFrame:
    """Each class has two code words of its own; documents mix them with shared filler."""
    rng = np.random.default_rng(seed)
    rows = []
    for c in range(n_classes):
        for _ in range(per_class):
            words = [f"w{c}a", f"w{c}b"] + list(rng.choice(FILLER, 3))
            rng.shuffle(words)
            rows.append({"text": " ".join(words), "label": f"class{c}"})
    return pd.DataFrame(rows).sample(frac=1.0, random_state=seed).reset_index(drop=True)
