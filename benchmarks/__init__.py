"""Performance and scale benchmarks (issue 6). Entry point: `make bench` (benchmarks/run.py)."""
