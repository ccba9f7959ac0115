"""Benchmarks: figures, not pass/fail. Run `make bench`."""
