"""Command line: `udt train | evaluate | predict | serve`, mirroring the Python API.

  udt train train.csv --target income --column age:numeric --column occupation:categorical \\
      --column income:categorical --model adult.udt [--epochs 5] [--validation valid.csv] [--hidden-dim 256]
  udt train train.csv --columns columns.toml --model adult.udt      # columns/target/options from a file
  udt evaluate adult.udt test.csv --metrics accuracy,roc_auc        # prints a JSON object
  udt predict adult.udt test.csv [--top-k 3] [--proba] [--output predictions.csv]
  udt serve adult.udt [--host 127.0.0.1] [--port 8080]            # JSON over HTTP, see udt.interfaces.serve

A column is `name:type` or `name:type:key=value,key=value` (e.g. `tags:categorical:delimiter=;`); types
are the classes of udt.columns, case-insensitive (text, categorical, numeric, date, ...).  A columns
file (JSON, or TOML with Python >= 3.11) looks like:

  target = "income"
  task = "classification"           # or "regression"
  [columns]
  age = "numeric"
  tags = { type = "categorical", delimiter = ";" }
  [options]
  hidden_dim = 256

Command-line flags override the file.  Errors print one line and exit with status 2.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

from udt.options import OPTIONS


def _literal(text: str):
    """'auto' -> 'auto', '3' -> 3, '0.1' -> 0.1, 'true' -> True, 'null' -> None, other -> the string."""
    python_style = {"None": None, "True": True, "False": False}
    if text in python_style:
        return python_style[text]
    try:
        return json.loads(text)
    except ValueError:
        return text


def _column_classes() -> dict:
    from udt import columns
    names = getattr(columns, "__all__", [n for n in dir(columns) if not n.startswith("_")])
    base = getattr(columns, "ColumnSpec", None)
    found = {}
    for name in names:
        obj = getattr(columns, name, None)
        if isinstance(obj, type) and (base is None or (issubclass(obj, base) and obj is not base)):
            found[name.lower()] = obj
    return found


def build_column(name: str, spec) -> object:
    """A column spec object from "type" or {"type": ..., option: value}."""
    classes = _column_classes()
    if isinstance(spec, str):
        spec = {"type": spec}
    if not isinstance(spec, dict) or "type" not in spec:
        raise ValueError(f"column {name!r}: expected a type name or a table with a 'type' key, got {spec!r}")
    kwargs = dict(spec)
    type_name = str(kwargs.pop("type"))
    cls = classes.get(type_name.lower())
    if cls is None:
        raise ValueError(f"column {name!r}: unknown type {type_name!r}; valid types: {', '.join(sorted(classes))}")
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise ValueError(f"column {name!r}: {exc}") from None


def parse_column_arg(text: str) -> tuple[str, dict]:
    """'name:type' or 'name:type:key=value,key=value' -> (name, {"type": type, key: value})."""
    parts = text.split(":", 2)
    if len(parts) < 2 or not parts[0] or not parts[1]:
        raise ValueError(f"--column {text!r}: expected name:type or name:type:key=value,...")
    spec = {"type": parts[1]}
    if len(parts) == 3 and parts[2]:
        for item in parts[2].split(","):
            key, sep, value = item.partition("=")
            if not sep or not key:
                raise ValueError(f"--column {text!r}: option {item!r} is not key=value")
            spec[key.strip()] = _literal(value)
    return parts[0], spec


def read_config(path: str) -> dict:
    """A JSON or TOML file with target, task, columns, options; unknown keys are an error."""
    with open(path, "rb") as f:
        raw = f.read()
    if path.endswith(".toml"):
        try:
            import tomllib
        except ImportError:  # Python < 3.11
            raise ValueError(f"{path}: TOML needs Python >= 3.11; use a JSON file instead") from None
        config = tomllib.loads(raw.decode("utf-8"))
    else:
        try:
            config = json.loads(raw)
        except ValueError as exc:
            raise ValueError(f"{path}: not valid JSON ({exc}); TOML files must end in .toml") from None
    if not isinstance(config, dict):
        raise ValueError(f"{path}: expected a table with target, columns, options")
    unknown = set(config) - {"target", "task", "columns", "options"}
    if unknown:
        raise ValueError(f"{path}: unknown key(s) {', '.join(sorted(unknown))}; valid keys: target, task, columns, "
                         f"options")
    return config


def _add_option_flags(parser):
    group = parser.add_argument_group("model options (default: auto, see udt.selection.model_selection)")
    for option in OPTIONS:
        group.add_argument("--" + option.name.replace("_", "-"), dest="opt_" + option.name, type=_literal,
                           default=argparse.SUPPRESS, metavar="VALUE", help=f"{option.help} ({option.expected})")


def _on_model_and_data(parser):
    parser.add_argument("model", help="a model file written by udt train or save()")
    parser.add_argument("data", nargs="+", help="CSV or Parquet file(s)")
    return parser


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="udt", description="Train and use udt models from the command line.")
    sub = parser.add_subparsers(dest="command", required=True)

    train = sub.add_parser("train", help="fit a model on CSV/Parquet files and save it")
    train.add_argument("data", nargs="+", help="training CSV or Parquet file(s)")
    train.add_argument("--model", required=True, help="path of the model file to write")
    train.add_argument("--target", help="column to predict")
    train.add_argument("--column", action="append", default=[], metavar="NAME:TYPE[:K=V,...]",
                       help="declare one column (repeatable)")
    train.add_argument("--columns", dest="config", metavar="FILE", help="JSON/TOML file: target, task, columns, "
                                                                        "options")
    train.add_argument("--task", choices=["classification", "regression"], help="default: classification")
    train.add_argument("--validation", help="validation file scored after every epoch, or a fraction of the training "
                                             "rows to hold out (e.g. 0.1)")
    train.add_argument("--sample-weight", metavar="COLUMN", help="column of the data that holds each row's weight")
    train.add_argument("--metrics", help="comma-separated validation metrics, e.g. accuracy,precision@5")
    train.add_argument("--no-progress", action="store_true", help="no progress bars")
    _add_option_flags(train)

    evaluate = _on_model_and_data(sub.add_parser("evaluate", help="print metrics of a saved model on labeled data, "
                                                                  "as JSON"))
    evaluate.add_argument("--metrics", help="comma-separated metrics (default: the task's usual one)")
    evaluate.add_argument("--sparse-inference", type=_literal, choices=[True, False], default=None)

    predict = _on_model_and_data(sub.add_parser("predict", help="write predictions of a saved model as CSV"))
    predict.add_argument("--top-k", type=int, help="the k best labels per row, best first")
    predict.add_argument("--proba", action="store_true", help="with the probability of each predicted label "
                                                              "(or of every class without --top-k)")
    predict.add_argument("--output", help="CSV file to write (default: standard output)")
    predict.add_argument("--sparse-inference", type=_literal, choices=[True, False], default=None)

    explain = _on_model_and_data(sub.add_parser("explain", help="print which columns and words decided each "
                                                                "prediction, as JSON lines"))
    explain.add_argument("--top", type=int, help="the N most important pieces per row")
    explain.add_argument("--target-class", type=_literal, help="explain this class instead of the predicted one")
    explain.add_argument("--level", choices=["token", "column"], default="token",
                         help="token: each word / value (default); column: each column")
    explain.add_argument("--columns", help="comma-separated input columns to explain (default: all)")

    serve = sub.add_parser("serve", help="serve a saved model over HTTP (POST /predict, GET /health)")
    serve.add_argument("model")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8080, help="port (default 8080; 0 = any free port)")
    serve.add_argument("--max-rows", type=int, default=10_000, help="rows per request at most (413 beyond)")
    serve.add_argument("--max-body-mb", type=int, default=64, help="request body size limit in MB (413 beyond)")
    serve.add_argument("--threads", type=int, default=0, help="worker threads (default: the number of CPUs)")
    serve.add_argument("--idle-timeout", type=float, default=15.0, help="seconds an idle connection is kept")
    serve.add_argument("--request-timeout", type=float, default=30.0, help="seconds a request may take to arrive")
    return parser


def _sources(paths):
    for p in paths:
        if not os.path.exists(p):
            raise FileNotFoundError(f"no such file: {p}")
    return paths[0] if len(paths) == 1 else list(paths)


def _train(args) -> int:
    from udt.interfaces.classifier import Classifier, Regressor
    config = read_config(args.config) if args.config else {}
    column_specs = dict(config.get("columns", {}))
    for text in args.column:
        name, spec = parse_column_arg(text)
        column_specs[name] = spec
    if not column_specs:
        raise ValueError("no columns declared: use --column name:type (repeatable) or --columns FILE")
    target = args.target or config.get("target")
    if not target:
        raise ValueError("no target: use --target NAME or a 'target' key in the columns file")
    options = dict(config.get("options", {}))
    options.update({k[4:]: v for k, v in vars(args).items() if k.startswith("opt_")})
    task = args.task or config.get("task", "classification")
    if task not in ("classification", "regression"):
        raise ValueError(f"task {task!r}: expected classification or regression")
    cls = Regressor if task == "regression" else Classifier
    columns = {name: build_column(name, spec) for name, spec in column_specs.items()}
    model = cls(columns=columns, target=target, **options)
    validation = args.validation
    if validation is not None and not os.path.exists(validation):
        try:
            validation = float(validation)
        except ValueError:
            raise FileNotFoundError(f"no such file: {validation}") from None
    model.fit(_sources(args.data), validation=validation, metrics=args.metrics, sample_weight=args.sample_weight,
              progress=not args.no_progress)
    model.save(args.model)
    # The scores of the epoch the model keeps: early stopping restores the best one, which is the
    # last epoch marked "best" (the last epoch itself when it was the best or nothing was validated).
    best = [row for row in model.history_ if row.get("best")]
    kept = best[-1] if best else model.history_[-1] if model.history_ else {}
    print(json.dumps({"model": args.model, "epochs": len(model.history_), "kept_epoch": kept.get("epoch"), **{
        k: v for k, v in kept.items() if k == "loss" or k.startswith("val_")}}))
    return 0


def _evaluate(args) -> int:
    from udt.interfaces.classifier import load
    model = load(args.model)
    result = model.evaluate(_sources(args.data), metrics=args.metrics, sparse_inference=args.sparse_inference)
    print(json.dumps(result))
    return 0


def _predict(args) -> int:
    import numpy as np
    import pandas as pd
    from udt.interfaces.classifier import Classifier, load
    model = load(args.model)
    data = _sources(args.data)
    kwargs = {"sparse_inference": args.sparse_inference} if isinstance(model, Classifier) else {}
    if not isinstance(model, Classifier):
        if args.top_k or args.proba:
            raise ValueError("--top-k and --proba apply to classifiers only")
        frame = pd.DataFrame({"prediction": model.predict(data)})
    elif args.top_k:
        if args.proba:
            labels, scores = model.predict_proba(data, top_k=args.top_k, **kwargs)
        else:
            labels, scores = model.predict(data, top_k=args.top_k, **kwargs), None
        frame = pd.DataFrame({f"label_{i + 1}": labels[:, i] for i in range(args.top_k)})
        if scores is not None:
            for i in range(args.top_k):
                frame[f"score_{i + 1}"] = scores[:, i]
    elif args.proba:
        proba = model.predict_proba(data)
        frame = pd.DataFrame(proba, columns=[str(c) for c in model.classes_])
    else:
        pred = model.predict(data, **kwargs)
        if pred.dtype == object and len(pred) and isinstance(pred[0], list):  # multi-label sets
            pred = np.array([" ".join(map(str, p)) for p in pred], dtype=object)
        frame = pd.DataFrame({"prediction": pred})
    frame.to_csv(args.output if args.output else sys.stdout, index=False)
    return 0


def _explain(args) -> int:
    from udt.interfaces.classifier import load
    model = load(args.model)
    columns = args.columns.split(",") if args.columns else None
    for row in model.explain(_sources(args.data), top=args.top, target_class=args.target_class, level=args.level,
                             columns=columns):
        print(json.dumps(row.as_dict()))
    return 0


def _serve(args) -> int:
    from udt.interfaces.serve import serve
    serve(args.model, args.host, args.port, max_rows=args.max_rows, max_body_bytes=args.max_body_mb << 20,
          threads=args.threads, idle_timeout=args.idle_timeout, request_timeout=args.request_timeout)
    return 0


def main(argv=None) -> int:
    parser = make_parser()
    args = parser.parse_args(argv)
    from udt.model_file.serialization import ModelFileError
    try:
        return {"train": _train, "evaluate": _evaluate, "predict": _predict, "explain": _explain,
                "serve": _serve}[args.command](args)
    except BrokenPipeError:
        # The reader went away (`udt predict ... | head`): not an error. Point stdout at devnull so the
        # interpreter's final flush does not fail again (the Python docs' recipe for SIGPIPE).
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (ValueError, TypeError, ModelFileError, OSError) as exc:
        print(f"udt {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"udt {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
