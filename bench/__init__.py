"""Benchmarks for Mend: `make bench` (python -m bench). Not run by `make test`; see docs/PERFORMANCE.md."""
