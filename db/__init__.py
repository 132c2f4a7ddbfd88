"""The database layer: the ORM models, engines, sessions and migrations."""
