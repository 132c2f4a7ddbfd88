"""Tests of the ingest package."""
