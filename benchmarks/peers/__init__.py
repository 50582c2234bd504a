"""Peer systems and udt runners of the benchmark suite, one module per task family.

`benchmarks/run.py` is the entry point; `tasks.TASKS` lists every task and the systems that run on it.
"""
