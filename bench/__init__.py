"""Benchmarks: one script per measured path, each printing a baseline beside our figure."""
