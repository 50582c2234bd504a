"""Shared bits of the demos: the --data argument, timing, and the quality floor check."""
import argparse
import os
import sys
import time

DEFAULT_DATA = os.environ.get("UDT_DATASETS", os.path.expanduser("~/.cache/udt-datasets"))


def parse_args(description, extra=None):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--data", default=DEFAULT_DATA,
                        help="dataset directory built by shared/data/fetch.py (default: $UDT_DATASETS or "
                             "~/.cache/udt-datasets)")
    if extra:
        extra(parser)
    return parser.parse_args()


def data_file(data_dir, *parts):
    path = os.path.join(data_dir, *parts)
    if not os.path.exists(path):
        sys.exit(f"missing {path}: build the datasets with `python fetch.py {data_dir}` (shared/data/fetch.py)")
    return path


class Timer:
    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start


def single_row_latency_ms(predict, rows, repeats=2000):
    """p50 / p99 wall time of one predict(dict) call, in milliseconds."""
    rows = list(rows)
    for row in rows[:50]:
        predict(row)
    times = []
    for i in range(repeats):
        row = rows[i % len(rows)]
        t0 = time.perf_counter()
        predict(row)
        times.append(time.perf_counter() - t0)
    times.sort()
    return 1e3 * times[len(times) // 2], 1e3 * times[int(len(times) * 0.99)]


def check_floor(name, value, floor):
    """Print the verdict and exit non-zero when the metric is below its floor."""
    ok = value >= floor
    print(f"{name} = {value:.4f} (floor {floor}): {'OK' if ok else 'BELOW FLOOR'}")
    if not ok:
        sys.exit(1)
