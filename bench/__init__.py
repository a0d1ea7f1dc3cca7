"""Benchmarks: ``make bench`` runs :mod:`bench.run_all`; figures go to docs/benchmarks.md.

Every benchmark builds its own data and reports a figure next to a baseline measured in
the same run. A benchmark never asserts; it only reports.
"""
