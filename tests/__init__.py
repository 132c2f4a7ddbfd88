"""Stellwerk's test suite."""
