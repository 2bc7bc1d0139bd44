"""Benchmarks on the real stack: `uv run python -m bench.<service>`."""
