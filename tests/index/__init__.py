"""Tests of the index package."""
