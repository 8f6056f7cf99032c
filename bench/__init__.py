"""Benchmarks against the budgets in DESIGN §6; `python -m bench` prints one JSON object.

Not tests: timings depend on the machine. Run with `make bench` (offscreen Qt).
"""
