"""Business logic: plain functions on a database session, called by the API and the CLI."""
