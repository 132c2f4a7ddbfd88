"""Ingestion: read articles and resolved tickets, chunk them, embed them, store them."""
