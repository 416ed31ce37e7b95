"""Benchmarks of the sales pipeline and the report (a measurement, not a test): `bash bench/run.sh`.
See docs/benchmarks.md for what is measured and the figures."""
