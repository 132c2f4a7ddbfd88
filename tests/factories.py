"""Small builders for articles and tickets used across tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


def article_markdown(
    title: str,
    body: str,
    *,
    team: str = "network",
    language: str = "en",
    audience: str = "internal",
    kind: str = "article",
    **extra: Any,
) -> str:
    meta: dict[str, Any] = {
        "title": title,
        "kind": kind,
        "team": team,
        "audience": audience,
        "language": language,
        "tags": extra.pop("tags", []),
        **extra,
    }
    return f"---\n{yaml.safe_dump(meta, sort_keys=False)}---\n\n{body.strip()}\n"


def write_article(folder: Path, slug: str, title: str, body: str, **meta: Any) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{slug}.md"
    path.write_text(article_markdown(title, body, **meta), encoding="utf-8")
    return path


def ticket(ticket_id: str, title: str, description: str, **fields: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": ticket_id,
        "title": title,
        "description": description,
        "resolution": fields.pop("resolution", "Fixed."),
        "team": fields.pop("team", "network"),
        "language": fields.pop("language", "en"),
        "source": fields.pop("source", "test"),
    }
    record.update(fields)
    return record
