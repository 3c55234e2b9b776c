"""Helpers shared by tests (and benchmarks): model factories, processes, polling, fake upstream servers."""
