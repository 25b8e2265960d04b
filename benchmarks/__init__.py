"""Benchmarks: tfxgate against the stock-TFX path on the same data, in one run.

Run `python -m benchmarks.run --help` from the repo root; see benchmarks/README.md.
"""
