"""Parse markdown articles: YAML front matter, validated metadata, and heading sections."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

import yaml
from markdown_it import MarkdownIt
from markdown_it.token import Token
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ingest.errors import InvalidArticle

Audience = Literal["internal", "partners", "public"]
ArticleStatus = Literal["draft", "in_review", "published", "archived"]
ArticleKind = Literal["article", "team", "guideline"]

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,199}$")
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.DOTALL)


class ArticleMeta(BaseModel):
    """Front matter every article carries; unknown keys are kept, not rejected."""

    model_config = ConfigDict(extra="allow")

    title: str = Field(min_length=1, max_length=500)
    kind: ArticleKind = "article"
    team: str | None = Field(default=None, max_length=100)
    audience: Audience = "internal"
    language: str = Field(default="de", pattern=r"^[a-z]{2}(-[A-Za-z]{2})?$")
    tags: list[str] = Field(default_factory=list)
    owner: str | None = Field(default=None, max_length=200)
    review_by: date | None = None
    companies: list[str] = Field(default_factory=list)
    # Docs-as-code: a file may hold a draft; without `status` a file is published.
    status: ArticleStatus = "published"

    @field_validator("tags", "companies", mode="before")
    @classmethod
    def _listify(cls, value: Any) -> Any:
        if value is None:
            return []
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value


@dataclass(frozen=True)
class Section:
    """The text under one heading, with the path of headings above it."""

    heading_path: tuple[str, ...]
    anchor: str | None
    blocks: tuple[str, ...]


@dataclass(frozen=True)
class ParsedArticle:
    slug: str
    meta: ArticleMeta
    body: str
    source: str
    content_hash: str
    sections: tuple[Section, ...] = field(default_factory=tuple)

    @property
    def front_matter(self) -> dict[str, Any]:
        return self.meta.model_dump(mode="json")


class _FrontMatterLoader(yaml.SafeLoader):
    """Safe YAML that keeps numbers as written: a tag like 0x80070005 must not become an int."""


_FrontMatterLoader.yaml_implicit_resolvers = {
    first: [
        (tag, pattern)
        for tag, pattern in resolvers
        if tag not in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def validate_slug(slug: str) -> str:
    if not _SLUG.match(slug):
        raise InvalidArticle(
            f"Invalid slug {slug!r}: use lower-case letters, digits and hyphens.",
            details=[{"field": "slug", "message": "lower-case letters, digits and hyphens"}],
        )
    return slug


def anchor_for(heading: str) -> str:
    """GitHub-style anchor of a heading: lower case, ascii, hyphens."""
    text = unicodedata.normalize("NFKD", heading.lower())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = re.sub(r"[^\w\s-]", "", text)
    return re.sub(r"[\s_]+", "-", text).strip("-")


def split_front_matter(source: str) -> tuple[dict[str, Any], str]:
    match = _FRONT_MATTER.match(source)
    if match is None:
        raise InvalidArticle(
            "The article has no YAML front matter (a block between '---' lines at the top).",
            details=[{"field": "front_matter", "message": "missing"}],
        )
    try:
        data = yaml.load(match.group(1), Loader=_FrontMatterLoader) or {}  # noqa: S506
    except yaml.YAMLError as exc:
        raise InvalidArticle(
            f"The front matter is not valid YAML: {exc}",
            details=[{"field": "front_matter", "message": "invalid YAML"}],
        ) from exc
    if not isinstance(data, dict):
        raise InvalidArticle(
            "The front matter must be a mapping of keys to values.",
            details=[{"field": "front_matter", "message": "not a mapping"}],
        )
    return data, source[match.end() :]


def parse_meta(data: dict[str, Any]) -> ArticleMeta:
    try:
        return ArticleMeta.model_validate(data)
    except ValidationError as exc:
        details = [
            {"field": ".".join(str(p) for p in err["loc"]), "message": err["msg"]}
            for err in exc.errors()
        ]
        problems = "; ".join(f"{d['field']}: {d['message']}" for d in details)
        raise InvalidArticle(f"Invalid front matter: {problems}", details=details) from exc


def _inline_text(token: Token) -> str:
    parts: list[str] = []
    for child in token.children or []:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif child.type == "image":
            parts.append(child.content)
    return "".join(parts).strip()


def sections_of(body: str, title: str) -> tuple[Section, ...]:
    """Split a markdown body along its headings into plain-text sections."""
    tokens = MarkdownIt("commonmark").enable("table").parse(body)
    sections: list[Section] = []
    path: list[tuple[int, str]] = []
    blocks: list[str] = []
    row: list[str] = []

    def flush() -> None:
        if blocks:
            heading_path = (title, *(text for _, text in path))
            anchor = anchor_for(path[-1][1]) if path else None
            sections.append(Section(heading_path, anchor, tuple(blocks)))
            blocks.clear()

    index = 0
    while index < len(tokens):
        token = tokens[index]
        if token.type == "heading_open":
            flush()
            level = int(token.tag[1])
            text = _inline_text(tokens[index + 1])
            if level == 1 and not path and text.strip().lower() == title.strip().lower():
                index += 3
                continue
            while path and path[-1][0] >= level:
                path.pop()
            path.append((level, text))
            index += 3
            continue
        if token.type in ("fence", "code_block"):
            blocks.append(token.content.rstrip())
        elif token.type == "tr_open":
            row = []
        elif token.type == "tr_close":
            blocks.append(" | ".join(row))
        elif token.type == "inline":
            text = _inline_text(token)
            parent = tokens[index - 1].type if index else ""
            if parent in ("th_open", "td_open"):
                row.append(text)
            elif text:
                blocks.append(text)
        index += 1
    flush()
    return tuple(sections)


def company_key(company: str) -> str:
    """Company names compare without case and surrounding blanks."""
    return " ".join(company.split()).casefold()


def visibility_key(audience: str, companies: Sequence[str]) -> str:
    """The one index facet value that says who may see an article's passages.

    internal, public, partners (every partner) or `companies:<a>|<b>` (named partners). A
    caller's allowed set is a union of such values, so one facet answers every role.
    """
    if audience == "partners" and companies:
        return "companies:" + "|".join(sorted({company_key(c) for c in companies}))
    return audience


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def parse_article(slug: str, source: str) -> ParsedArticle:
    """Validate and parse one article; raises InvalidArticle with the offending fields."""
    validate_slug(slug)
    data, body = split_front_matter(source)
    meta = parse_meta(data)
    if not body.strip():
        raise InvalidArticle(
            "The article has no body.", details=[{"field": "body", "message": "empty"}]
        )
    return ParsedArticle(
        slug=slug,
        meta=meta,
        body=body,
        source=source,
        content_hash=content_hash(source),
        sections=sections_of(body, meta.title),
    )
