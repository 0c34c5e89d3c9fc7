"""Benchmarks: one command each; results go to docs/PERFORMANCE.md."""
