"""How far one CSV row travels: the udt functions (and files) `Classifier.fit("train.csv")` runs before the
first weight update, and the calls into the C++ extension per training batch before the engine.

    python benchmarks/trace_fit.py

Uses a small generated CSV (text, numeric, categorical columns), so it needs nothing else. The counts are the
distinct functions of the udt package entered between fit() and the engine's first train_batch, and the
udt._core calls made per featurized batch of the training pass (quote scan, featurize, scaling, labels, ...).
"""
from __future__ import annotations

import os
import sys
import tempfile
from collections import Counter

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import udt  # noqa: E402

PACKAGE = os.path.dirname(udt.__file__)
COMPREHENSIONS = ("listcomp", "dictcomp", "setcomp", "genexpr", "lambda")  # not counted as functions


def sample_csv(path: str, n: int = 2000) -> None:
    rng = np.random.default_rng(0)
    words = np.array("the a cheap fast new old red blue big small ball goal cpu code".split())
    pd.DataFrame({"text": [" ".join(rng.choice(words, 8)) for _ in range(n)], "price": rng.normal(10, 3, n),
                  "shop": rng.choice(["a", "b", "c"], n), "label": rng.choice(["x", "y", "z"], n)}).to_csv(path,
                                                                                                       index=False)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "train.csv")
        sample_csv(path)
        model = udt.Classifier(columns={"text": udt.Text(), "price": udt.Numeric(), "shop": udt.Categorical(),
                                        "label": udt.Categorical()}, target="label", epochs=1, batch_size=256,
                               hidden_dim=16, input_dim=10_000, memory_budget_mb=0)  # streamed: every batch read
        functions, native, state = [], Counter(), {"done": False}

        def profile(frame, event, arg):
            if state["done"]:
                return
            if event == "call":
                code = frame.f_code
                if code.co_filename.startswith(PACKAGE):
                    name = f"{os.path.relpath(code.co_filename, PACKAGE)}:{code.co_qualname}"
                    if name.endswith("Network.train_batch"):
                        state["done"] = True
                        return
                    if name not in functions and not any(f"<{k}>" in name for k in COMPREHENSIONS):
                        functions.append(name)
            elif event == "c_call" and "pybind11" in type(getattr(arg, "__self__", None)).__name__ + \
                    type(getattr(arg, "__self__", None)).__module__:
                native[arg.__name__] += 1  # a function of the compiled extension

        sys.setprofile(profile)
        try:
            model.fit(path, progress=False)
        finally:
            sys.setprofile(None)
    files = sorted({f.split(":")[0] for f in functions})
    print(f"{len(functions)} functions in {len(files)} files from fit() to the first train_batch")
    for f in functions:
        print("  ", f)
    print("calls into udt._core before the first train_batch (two passes over one batch: the counting pass and "
          "the first epoch):", dict(native))


if __name__ == "__main__":
    main()
