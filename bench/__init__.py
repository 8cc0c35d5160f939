"""Benchmarks and fault injection for the cinema ticketing API (issue #7).

    python -m bench quick   # make bench: a few minutes, one JSON line at the end
    python -m bench full    # make bench-full: every scenario, chaos, docs/perf/REPORT.md

See docs/perf/REPORT.md for what each scenario does and the latest results.
"""
