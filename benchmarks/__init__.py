"""`make bench`: every ``benchmarks/bench_*.py`` module's ``run()`` prints its own table.

Figures are reported as ratios against a baseline measured in the same run, never as
pass/fail timings in the test suite.
"""
