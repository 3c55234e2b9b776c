"""Helpers shared by tests (and benchmarks): processes, polling, fake upstream servers."""
