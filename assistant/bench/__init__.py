"""Benchmarks that print measured numbers (never timed tests)."""
