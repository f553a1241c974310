"""Benchmarks: `python -m bench` runs them all; figures go in the issue notes."""
