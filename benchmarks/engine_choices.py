"""Measures the engine's design choices on one learnable extreme-classification task.

Each variant trains the same network on the same batches (synthetic prototype task: every class owns a few feature
ids, a sample keeps most of its class's features plus noise; uniform class frequencies; held-out rows drawn from the
same prototypes) and reports held-out P@1 with dense and sparse inference (after the index pass), training CPU
seconds, and the LSH parameters:

  bucket policy   reservoir vs FIFO (what a full bucket keeps)
  hash family     DWTA vs SRP
  augmentation    label-neuron augmentation on / off during training
  rebuild budget  0.1 (default) vs no cost floor (1.0)
  negatives       share of the active set drawn uniformly instead of by LSH votes: 0, 0.5, 0.95

Usage:  python benchmarks/engine_choices.py [--classes 50000] [--train 150000] [--epochs 2] [--json]
CPU seconds (process time) are reported as well as wall time: they are far less sensitive to other load on a
shared machine.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
from engine_tasks import batches, prototype_task  # noqa: E402

from udt.engine import Network  # noqa: E402

VARIANTS = {  # name: Network options on top of the defaults (reservoir buckets, DWTA, augmentation, budget 0.1)
    "default": {},
    "fifo": {"bucket_policy": "fifo"},
    "srp": {"hash_family": "srp"},
    "no-augmentation": {"label_augmentation": False},
    "no-rebuild-budget": {"rebuild_budget": 1.0},
    "lsh-negatives-only": {"random_negatives": 0.0},
    "random-negatives-0.5": {"random_negatives": 0.5},
    "random-negatives-0.95": {"random_negatives": 0.95},
}


def run(name, options, data, args):
    x, off, y, tx, toff, ty = data
    net = Network(args.input_dim, args.hidden, args.classes, seed=1, output_sparsity=args.sparsity,
                  learning_rate=args.lr, **options)
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(args.epochs):
        for xi, xo, yy, yo in batches(x, off, y, args.batch):
            net.train_batch(xi, None, xo, yy, yo)
        net.end_epoch()
    net.index_labels(x, None, off, y, np.arange(len(y) + 1))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    dense = float((net.predict(tx, None, toff)[0][:, 0] == ty).mean())
    sparse = float((net.predict(tx, None, toff, sparse=True, sparsity=args.inference_sparsity)[0][:, 0] == ty).mean())
    lsh = net.lsh_params
    return dict(variant=name, dense_p1=dense, sparse_p1=sparse, train_wall_s=wall, train_cpu_s=cpu,
                K=lsh["K"], L=lsh["L"], R=lsh["R"], rebuilds=lsh["rebuilds"])


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--classes", type=int, default=50_000)
    p.add_argument("--train", type=int, default=150_000)
    p.add_argument("--test", type=int, default=5_000)
    p.add_argument("--input-dim", type=int, default=100_000)
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--sparsity", type=float, default=0.01)
    p.add_argument("--inference-sparsity", type=float, default=0.03)
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--batch", type=int, default=1024)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--only", help=f"comma-separated variants among {','.join(VARIANTS)}")
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    x, off, y = prototype_task(args.classes, args.train, args.input_dim, seed=0, per_class=8, kept=5, noise=3)
    tx, toff, ty = prototype_task(args.classes, args.test, args.input_dim, seed=0, per_class=8, kept=5, noise=3)
    data = (x, off, y, tx, toff, ty)
    names = args.only.split(",") if args.only else list(VARIANTS)
    print(f"# {args.classes} classes, {args.train} train rows, hidden {args.hidden}, sparsity {args.sparsity}, "
          f"inference sparsity {args.inference_sparsity}, load average {os.getloadavg()[0]:.1f}", file=sys.stderr)
    for name in names:
        r = run(name, VARIANTS[name], data, args)
        if args.json:
            print(json.dumps(r))
        else:
            print(f"{name:18s} P@1 dense {r['dense_p1']:.3f} sparse {r['sparse_p1']:.3f}  "
                  f"train {r['train_wall_s']:.1f} s wall / {r['train_cpu_s']:.1f} s CPU  "
                  f"K={r['K']} L={r['L']} R={r['R']} rebuilds={r['rebuilds']}", flush=True)


if __name__ == "__main__":
    main()
