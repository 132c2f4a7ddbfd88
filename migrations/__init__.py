"""Alembic migrations of the Stellwerk database."""
