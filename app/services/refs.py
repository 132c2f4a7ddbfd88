"""Stable ids and links of documents, shared by search, suggest and the article API."""

from __future__ import annotations

from urllib.parse import quote

API_PREFIX = "/api/v1"


def article_id(slug: str) -> str:
    return f"article:{slug}"


def ticket_id(source: str, external_id: str) -> str:
    return f"ticket:{source}:{external_id}"


def article_link(slug: str, anchor: str | None = None) -> str:
    link = f"{API_PREFIX}/articles/{quote(slug)}"
    return f"{link}#{anchor}" if anchor else link


def ticket_link(source: str, external_id: str) -> str:
    return f"{API_PREFIX}/tickets/{quote(source, safe='')}/{quote(external_id, safe='')}"
