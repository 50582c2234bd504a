"""How finely a Numeric column is binned, from the number of training rows.

Each bin of a Numeric column is an embedding row of its own, learned only from the rows whose value falls in it.
With few rows, the finest resolution's bins hold a handful of rows each, and the network memorises them instead
of the column's trend: Ames (2,315 rows, 33 Numeric columns) has 18 rows per bin at the default 128 bins. So a
column left at the default resolutions (`udt.Numeric().bins`, 8 / 32 / 128) keeps a resolution only while its
bins average at least ROWS_PER_BIN training rows; a finer one is capped to the largest power of two that does
(at least 2 bins). Bins declared otherwise are kept as declared.

Calibration suite (benchmarks/SUITE.md), test MAE / accuracy by the bins every Numeric column gets, at the
defaults otherwise (mean of seeds 0-2 for Ames, seed 0 for the rest; load 4-5):
  ames (2,315 rows)      8/32/128: 17,863   8/32: 16,773   8/16: 15,864   8: 15,800   16: 15,682   4/16: 15,530
  diamonds (43,194)      8/32/128: 296.4    8/32: 314.6    16: 329.7
  adult (32,561)         8/32/128: 0.8714   8/32: 0.8698   16: 0.8684
  letter (16,000)        8/32/128: 0.9363   8/32: 0.9365   8/32/64: 0.9363   16: 0.9367
  shuttle (43,500)       8/32/128: 0.9996   8/32: 0.9990   16: 0.9988
The large tables want their 128 bins (254 or more rows per bin), Ames wants none finer than 16 (145 rows per bin;
32 has 72): any threshold from 73 to 254 rows per bin separates them. ROWS_PER_BIN = 100 sits in that range and
changes only tables under 12,800 rows (letter's 16,000 keep 128: 125 rows per bin).
"""
from __future__ import annotations

from udt.columns import Numeric

ROWS_PER_BIN = 100
DEFAULT_RESOLUTIONS = tuple(Numeric().resolutions)


def rows_needed() -> int:
    """Training rows from which the default resolutions are all kept (counting rows can stop there)."""
    return ROWS_PER_BIN * max(DEFAULT_RESOLUTIONS)


def resolutions(declared: list[int], n_rows: int) -> list[int]:
    """The resolutions a column declared with `declared` gets for `n_rows` training rows (module docstring):
    each capped at the largest power of two with ROWS_PER_BIN rows per bin, repeats dropped, in declared order
    (the first one is the one crosses use)."""
    if tuple(declared) != DEFAULT_RESOLUTIONS:
        return list(declared)
    cap = 2
    while cap * 2 * ROWS_PER_BIN <= n_rows:
        cap *= 2
    out = []
    for b in declared:
        b = min(b, cap)
        if b not in out:
            out.append(b)
    return out


def fitted_columns(columns: dict, target, n_rows: int) -> tuple[dict, dict]:
    """(columns with each default-binned Numeric input's bins set by `resolutions`, {column: (declared, chosen)}
    for the columns that changed). The specs given are not modified."""
    out, changed = dict(columns), {}
    for name, spec in columns.items():
        if name == target or not isinstance(spec, Numeric):
            continue
        chosen = resolutions(spec.resolutions, n_rows)
        if chosen != spec.resolutions:
            out[name] = spec.replace(bins=tuple(chosen))
            changed[name] = (spec.resolutions, chosen)
    return out, changed
