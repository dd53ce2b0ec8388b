"""Benchmark plugins: one file per benchmark, registered through the `vlmeval.tasks` entry point."""
