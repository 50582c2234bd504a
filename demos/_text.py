"""The text classification demos (20 Newsgroups, IMDB/RT polarity) share this body."""
import pandas as pd

import udt.columns as col
from udt.interfaces.classifier import Classifier

from _common import Timer, check_floor, data_file, parse_args, single_row_latency_ms


def run(name, relative_path, floor, description, learning_curve_png=None):
    args = parse_args(description)
    path = data_file(args.data, *relative_path)
    frame = pd.read_csv(path, usecols=["split", "label", "text"])
    train = frame[frame.split == "train"].drop(columns="split")
    test = frame[frame.split == "test"].drop(columns="split")

    model = Classifier(columns={"text": col.Text(), "label": col.Categorical()}, target="label")
    with Timer() as fit_time:
        # The test split doubles as the per-epoch learning curve; early stopping is off so the
        # reported number is the final model's, not a test-selected epoch.
        model.set_params(early_stopping_patience=None)
        model.fit(train, validation=test if learning_curve_png else None, metrics=["accuracy"])
    model.summary()
    scores = model.evaluate(test, metrics=["accuracy", "precision@1", "recall@3"])
    rows = [{"text": t[:200]} for t in test.text.head(500)]
    p50, p99 = single_row_latency_ms(model.predict, rows)
    print(f"data: {path} ({len(train):,} train / {len(test):,} test documents, {len(model.classes_)} classes)")
    print(f"train time {fit_time.seconds:.2f} s ({len(model.history_)} epochs); test accuracy "
          f"{scores['accuracy']:.4f}, recall@3 {scores['recall@3']:.4f}; single-row predict (200 chars) "
          f"p50 {p50:.4f} ms, p99 {p99:.4f} ms")
    if learning_curve_png:
        save_learning_curve(model.history_, learning_curve_png, name)
    check_floor(f"{name} test accuracy", scores["accuracy"], floor)


def save_learning_curve(history, path, name):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no learning curve")
        return
    epochs = [h["epoch"] for h in history]
    fig, ax = plt.subplots(figsize=(5, 3.2))
    ax.plot(epochs, [h["loss"] for h in history], "o-", label="train loss")
    ax.set_xlabel("epoch")
    ax.set_ylabel("train loss")
    ax2 = ax.twinx()
    ax2.plot(epochs, [h["val_accuracy"] for h in history], "s-", color="tab:orange", label="test accuracy")
    ax2.set_ylabel("test accuracy")
    ax.set_title(f"{name}: learning curve")
    fig.legend(loc="center", bbox_to_anchor=(0.55, 0.5))
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    print(f"learning curve saved to {path}")
