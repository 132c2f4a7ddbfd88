"""Tests of the team router."""
