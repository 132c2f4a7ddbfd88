"""Tests of the bundled model (index.models)."""
