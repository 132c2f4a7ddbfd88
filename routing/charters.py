"""The one reader of team charters (`kind: team` articles): mission, skills, escalation rules.

The team catalogue shows what it reads, and the router routes by the same sections, so
a charter means one thing wherever Stellwerk shows or uses it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

from db.models import Article
from ingest.markdown import sections_of

SectionKind = Literal["charter", "skills", "escalation_criteria", "first_level_checks"]

# A section's kind is the first whose words its heading contains (German and English).
SECTION_WORDS: tuple[tuple[SectionKind, tuple[str, ...]], ...] = (
    ("charter", ("auftrag", "charter")),
    ("skills", ("fähigkeit", "skill")),
    ("escalation_criteria", ("eskalation", "escalation")),
    ("first_level_checks", ("first level",)),
)
# What a team does routes tickets; what first level checks before escalating does not.
ROUTING_KINDS: frozenset[SectionKind] = frozenset({"charter", "skills", "escalation_criteria"})


@dataclass(frozen=True)
class CharterBlock:
    """One paragraph or list item of a charter section."""

    kind: SectionKind
    heading: str
    text: str


@dataclass(frozen=True)
class TeamCharter:
    """A team charter as read from its article."""

    team: str
    slug: str
    title: str
    name: str
    tags: tuple[str, ...]
    blocks: tuple[CharterBlock, ...]
    hours: str | None
    contractor: str | None
    escalation_contact: str | None

    def texts(self, kind: SectionKind) -> list[str]:
        return [block.text for block in self.blocks if block.kind == kind]

    @property
    def routing_lines(self) -> list[tuple[str, str]]:
        """(heading, line) pairs the router embeds: the topic tags, then what the team does."""
        lines: list[tuple[str, str]] = []
        topic_tags = [tag for tag in self.tags if tag.lower() != "team"]
        if topic_tags:
            lines.append(("Tags", f"{self.name}: {', '.join(topic_tags)}"))
        lines += [(b.heading, b.text) for b in self.blocks if b.kind in ROUTING_KINDS]
        return lines


def _section_kind(heading: str) -> SectionKind | None:
    lowered = heading.lower()
    for kind, words in SECTION_WORDS:
        if any(word in lowered for word in words):
            return kind
    return None


def _optional_text(value: object) -> str | None:
    return str(value) if value not in (None, "") else None


def read_charter(
    *,
    team: str,
    slug: str,
    title: str,
    body: str,
    front_matter: Mapping[str, Any],
    tags: Sequence[str] = (),
) -> TeamCharter:
    """Sort a charter's paragraphs and list items into its sections."""
    return TeamCharter(
        team=team,
        slug=slug,
        title=title,
        name=str(front_matter.get("name") or title),
        tags=tuple(tags),
        blocks=_blocks(body, title),
        hours=_optional_text(front_matter.get("hours")),
        contractor=_optional_text(front_matter.get("contractor")),
        escalation_contact=_optional_text(front_matter.get("escalation_contact")),
    )


@lru_cache(maxsize=512)
def _blocks(body: str, title: str) -> tuple[CharterBlock, ...]:
    """The charter's section blocks. Parsing the markdown is most of reading a charter, and
    /suggest reads the routed team's charter on every call: the parse is kept per text (a
    pure function of it, so an edited charter is simply a new key)."""
    blocks: list[CharterBlock] = []
    for section in sections_of(body, title):
        heading = section.heading_path[-1] if len(section.heading_path) > 1 else ""
        kind = _section_kind(heading)
        if kind is None:
            continue
        for block in section.blocks:
            # "Escalate to X when:" introduces the list that follows; it is not a rule.
            if not block.rstrip().endswith(":"):
                blocks.append(CharterBlock(kind, heading, block))
    return tuple(blocks)


def charter_of_article(article: Article) -> TeamCharter:
    """The charter of a stored `kind: team` article (its team key, or its slug)."""
    return read_charter(
        team=article.team or article.slug,
        slug=article.slug,
        title=article.title,
        body=article.body,
        front_matter=article.front_matter,
        tags=article.tags or [],
    )
