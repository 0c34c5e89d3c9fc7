"""Benchmarks of issue 5 (``python -m bench.sweep``, ``python -m bench.idle``; ``make bench``)."""
