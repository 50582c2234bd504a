"""The architecture chooser: network shape and training schedule from data size and label count.

Every value below can be fixed by the user; "auto" values follow these rules (n = training rows,
c = number of classes, 1 for regression):

  input_dim       100_000 hashed feature ids (2**18 = 262_144 when n > 200_000: more rows bring more
                  distinct n-grams and collisions start to cost accuracy).
  hidden_dim      256 (512 when n > 500_000): the hidden layer is an embedding-bag over hashed ids, so
                  its cost is hidden_dim per active feature and 256 already saturates the small sets.
  sparsity        output sparsity (fraction of output neurons evaluated per sample): 1.0 (dense) below
                  8192 classes, else min(1, 0.02 * sqrt(65536 / c)) -- the BOLT rule: about 1,300
                  active neurons for 50k classes, shrinking slowly as the label space grows.
  sparse_inference  predictions retrieve candidates with LSH only when training was sparse (c >= 8192).
  batch_size      the power of two nearest n / 200, within [64, 2048]: small sets get many updates per
                  epoch, large ones keep every core busy.
  learning_rate   Adam, 2e-3 when the batch is at most 256 rows, scaled by sqrt(batch / 256) above.
  epochs          enough passes to see ~ 2 million rows in total, within [3, 20]; the trainer's early
                  stopping trims it when a validation set is given.

`choose_architecture` applies the rules; `summary_text` renders them for `model.summary()`.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

DENSE_OUTPUT_BELOW = 8192


@dataclass(frozen=True)
class Architecture:
    """Everything the trainer needs to build and train the network, plus which values were automatic."""

    input_dim: int
    hidden_dim: int
    output_dim: int
    loss: str
    output_sparsity: float
    sparse_inference: bool
    batch_size: int
    learning_rate: float
    epochs: int
    auto: tuple = field(default=())   # names of the values chosen by the rules above

    @property
    def n_parameters(self) -> int:
        return self.input_dim * self.hidden_dim + self.hidden_dim + self.hidden_dim * self.output_dim + self.output_dim

    def to_dict(self) -> dict:
        d = asdict(self)
        d["auto"] = list(self.auto)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "Architecture":
        d = dict(d)
        d["auto"] = tuple(d.get("auto", ()))
        return cls(**d)


def _nearest_power_of_two(x: float) -> int:
    return 1 << max(0, round(math.log2(max(x, 1.0))))


def auto_input_dim(n_rows: int) -> int:
    return 262_144 if n_rows > 200_000 else 100_000


def auto_hidden_dim(n_rows: int) -> int:
    return 512 if n_rows > 500_000 else 256


def auto_output_sparsity(n_classes: int) -> float:
    if n_classes < DENSE_OUTPUT_BELOW:
        return 1.0
    return min(1.0, 0.02 * math.sqrt(65536.0 / n_classes))


def auto_batch_size(n_rows: int) -> int:
    return min(2048, max(64, _nearest_power_of_two(n_rows / 200.0)))


def auto_learning_rate(batch_size: int) -> float:
    return 2e-3 * math.sqrt(max(1.0, batch_size / 256.0))


def auto_epochs(n_rows: int) -> int:
    return int(min(20, max(3, math.ceil(2_000_000 / max(n_rows, 1)))))


def choose_architecture(n_rows: int, n_classes: int, task: str, *, input_dim="auto", hidden_dim="auto",
                        sparsity="auto", sparse_inference="auto", batch_size="auto", learning_rate="auto",
                        epochs="auto") -> Architecture:
    """Apply the rules in this module's docstring; explicit (non-"auto") values are kept as given.

    task is "single" (softmax over classes), "multi" (sigmoid per label) or "regression" (one output).
    """
    if n_rows < 1:
        raise ValueError("cannot choose an architecture for an empty training set")
    auto = []

    def pick(name, value, rule):
        if value == "auto":
            auto.append(name)
            return rule()
        return value

    regression = task == "regression"
    output_dim = 1 if regression else int(n_classes)
    input_dim = pick("input_dim", input_dim, lambda: auto_input_dim(n_rows))
    hidden_dim = pick("hidden_dim", hidden_dim, lambda: auto_hidden_dim(n_rows))
    output_sparsity = pick("sparsity", sparsity, lambda: 1.0 if regression else auto_output_sparsity(output_dim))
    sparse_inference = pick("sparse_inference", sparse_inference, lambda: output_sparsity < 1.0)
    batch_size = pick("batch_size", batch_size, lambda: auto_batch_size(n_rows))
    learning_rate = pick("learning_rate", learning_rate, lambda: auto_learning_rate(batch_size))
    epochs = pick("epochs", epochs, lambda: auto_epochs(n_rows))
    loss = {"single": "softmax", "multi": "sigmoid", "regression": "mse"}[task]
    return Architecture(int(input_dim), int(hidden_dim), output_dim, loss, float(output_sparsity),
                        bool(sparse_inference), int(batch_size), float(learning_rate), int(epochs), tuple(auto))


def summary_text(arch: Architecture, *, kind: str, target: str, n_rows: int, columns: dict,
                 lsh_params: dict | None = None, history: list | None = None) -> str:
    """A human-readable report of what was chosen and why (`model.summary()`)."""
    def mark(name):
        return "auto" if name in arch.auto else "set"

    task = {"softmax": "single-label classification (softmax)", "sigmoid": "multi-label classification (sigmoid)",
            "mse": "regression (squared error)"}[arch.loss]
    lines = [f"udt.{kind}: {task}, target {target!r}, trained on {n_rows:,} rows",
             "columns: " + ", ".join(f"{name}={type(spec).__name__}" for name, spec in columns.items()),
             "",
             f"  {'layer':<10}{'shape':>24}{'parameters':>16}",
             f"  {'input':<10}{arch.input_dim:>24,}{'':>16}",
             f"  {'hidden':<10}{f'{arch.input_dim:,} x {arch.hidden_dim:,}':>24}"
             f"{arch.input_dim * arch.hidden_dim + arch.hidden_dim:>16,}",
             f"  {'output':<10}{f'{arch.hidden_dim:,} x {arch.output_dim:,}':>24}"
             f"{arch.hidden_dim * arch.output_dim + arch.output_dim:>16,}",
             f"  {'total':<10}{'':>24}{arch.n_parameters:>16,}",
             "",
             f"  input_dim         {arch.input_dim:<12,} ({mark('input_dim')})",
             f"  hidden_dim        {arch.hidden_dim:<12,} ({mark('hidden_dim')})",
             f"  output sparsity   {arch.output_sparsity:<12.4g} ({mark('sparsity')}; "
             f"{max(1, round(arch.output_sparsity * arch.output_dim)):,} of {arch.output_dim:,} outputs per sample)",
             f"  sparse inference  {str(arch.sparse_inference):<12} ({mark('sparse_inference')})",
             f"  batch_size        {arch.batch_size:<12,} ({mark('batch_size')})",
             f"  learning_rate     {arch.learning_rate:<12.4g} ({mark('learning_rate')})",
             f"  epochs            {arch.epochs:<12,} ({mark('epochs')})"]
    if lsh_params:
        lines.append("  LSH               " + ", ".join(f"{k}={v}" for k, v in lsh_params.items()))
    if history:
        last = history[-1]
        shown = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in last.items())
        lines.append(f"  last epoch        {shown}")
    return "\n".join(lines)
