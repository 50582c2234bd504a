#!/usr/bin/env python3
"""Streams a large generated CSV (default 2 GB) through TableFeaturizer.fit + transform_batches and checks that the
peak resident memory stays under a bound (default 1 GB): files larger than RAM must work with bounded memory.

    python benchmarks/featurize_stream_rss.py [--size-gb 2] [--path /tmp/udt_stream.csv] [--keep] [--json]

The file is generated in a child process (so its memory is not counted), with text, categorical, numeric, date and
label columns, quoted fields with embedded commas, quotes and newlines. Exit status 1 when the bound is exceeded.
"""
import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402


def generate(path, size_bytes, seed=0):
    """Writes a chunk of distinct random rows, then repeats it (with fresh row ids) up to `size_bytes`."""
    import random

    rng = random.Random(seed)
    words = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 9))) for _ in range(20000)]
    rows = []
    for i in range(100_000):
        text = " ".join(rng.choice(words) for _ in range(rng.randint(10, 60)))
        if i % 50 == 0:
            text = f'{text}, "quoted"\nsecond line'
        rows.append(f'"{text.replace(chr(34), chr(34) * 2)}",c{rng.randint(0, 999)},{rng.uniform(0, 1000):.2f},'
                    f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d},label{rng.randint(0, 99)}\n")
    chunk = "".join(rows).encode()
    written = 0
    with open(path + ".part", "wb") as f:
        header = b"text,category,price,day,label\n"
        f.write(header)
        written += len(header)
        while written < size_bytes:
            f.write(chunk)
            written += len(chunk)
    os.replace(path + ".part", path)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size-gb", type=float, default=2.0)
    ap.add_argument("--path", default=os.path.join(tempfile.gettempdir(), "udt_stream.csv"))
    ap.add_argument("--max-rss-mb", type=float, default=1024)
    ap.add_argument("--keep", action="store_true", help="keep the generated file")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--generate-only", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    size = int(args.size_gb * (1 << 30))
    if args.generate_only:
        generate(args.path, size)
        return 0
    if not (os.path.exists(args.path) and os.path.getsize(args.path) >= size):
        t = time.perf_counter()
        subprocess.run([sys.executable, __file__, "--generate-only", "--size-gb", str(args.size_gb), "--path",
                        args.path], check=True)
        print(f"generated {os.path.getsize(args.path) / 2**30:.2f} GB in {time.perf_counter() - t:.0f} s",
              file=sys.stderr)

    from udt.columns import Categorical, Date, Numeric, Text
    from udt.ingest.featurize import TableFeaturizer

    fz = TableFeaturizer({"text": Text(), "category": Categorical(), "price": Numeric(), "day": Date(),
                          "label": Categorical()}, target="label")
    t = time.perf_counter()
    fz.fit(args.path)
    fit_s = time.perf_counter() - t
    rows = nnz = 0
    t = time.perf_counter()
    for fb in fz.transform_batches(args.path, batch_rows=8192):
        rows += fb.n_rows
        nnz += len(fb.indices)
    transform_s = time.perf_counter() - t
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
    result = {"file_gb": round(os.path.getsize(args.path) / 2**30, 2), "rows": rows, "features": nnz,
              "fit_s": round(fit_s, 1), "transform_s": round(transform_s, 1),
              "rows_per_s": round(rows / transform_s), "peak_rss_mb": round(peak_mb),
              "max_rss_mb": args.max_rss_mb, "ok": peak_mb < args.max_rss_mb}
    if not args.keep:
        os.remove(args.path)
    print(json.dumps(result) if args.json else "\n".join(f"{k}: {v}" for k, v in result.items()))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
