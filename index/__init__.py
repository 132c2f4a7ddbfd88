"""Embedding, vector and lexical indexes, snapshots and search."""
