"""The project's benchmark: /next against two baselines, side by side in one run.

Run it with `python -m bench.run`; see bench/README.md and docs/benchmark.md.
"""
