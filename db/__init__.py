"""The database layer: the ORM models, engines, sessions and migrations."""

# Every table on Base.metadata, whichever module of db/ a caller imports first.
from db import connector_polls as connector_polls
