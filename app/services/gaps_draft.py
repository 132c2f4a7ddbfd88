"""Turn a knowledge gap into an article draft in its owning team's review queue.

The draft is prefilled from the gap: the proposed title, the symptoms as its tickets state
them, the resolutions of its most typical tickets, and a sources section citing every
ticket. It enters review through the same `reviews.propose` as any API write, so only the
team's specialists (and admins) may draft it, and nothing goes live without a reviewer.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth import Principal
from app.schemas.gaps import Gap, GapDraft
from app.services.reviews import propose, require_owner
from app.services.visibility import Visibility
from db.models import Article


def draft_slug(key: str) -> str:
    return f"gap-{key}"


def draft_markdown(gap: Gap) -> str:
    """The draft's markdown: front matter, symptom, solution, sources."""
    language = gap.languages[0].name if gap.languages else "en"
    tickets = [ref for ref in gap.members if ref.startswith("ticket:")]
    front = [
        "---",
        f"title: {json.dumps(gap.proposed_title or 'Knowledge gap ' + gap.key)}",
        "kind: article",
        f"team: {json.dumps(gap.team)}" if gap.team else "",
        "audience: internal",
        f"language: {json.dumps(language)}",
        f"tags: {json.dumps(gap.key_terms)}",
        "status: in_review",
        "---",
    ]
    symptoms = [f"- {member.title.strip()}" for member in gap.representatives]
    solutions = [
        f"### {member.title.strip()}\n\n{member.resolution.strip()}\n\n(from `{member.ref}`)"
        for member in gap.representatives
        if member.resolution.strip()
    ]
    lines = [line for line in front if line]
    lines += ["", "## Symptom", "", *symptoms, "", "## Solution", ""]
    lines += solutions or ["(No resolution recorded yet: describe the fix here.)"]
    lines += ["", "## Sources", "", *(f"- `{ref}`" for ref in tickets), ""]
    return "\n".join(lines)


def draft_from_gap(session: Session, *, principal: Principal, gap: Gap) -> GapDraft:
    """A new article (in review) from the gap; 403 for anyone but its team's owners."""
    require_owner(principal, gap.team)
    slug = draft_slug(gap.key)
    article, version, _ = propose(
        session, principal=principal, slug=slug, markdown=draft_markdown(gap), must_be_new=True
    )
    return GapDraft(
        slug=article.slug,
        version=version.number,
        state=version.state,
        team=article.team,
        cited=[ref for ref in gap.members if ref.startswith("ticket:")],
    )


def drafted(session: Session, *, principal: Principal, keys: Iterable[str]) -> dict[str, str]:
    """Gap key -> slug of the article already drafted from it, where the caller may read
    it (an owner reads the draft; anyone else only once it is published)."""
    by_slug = {draft_slug(key): key for key in keys}
    if not by_slug:
        return {}
    visibility = Visibility(principal)
    articles = session.scalars(select(Article).where(Article.slug.in_(sorted(by_slug))))
    return {by_slug[a.slug]: a.slug for a in articles if visibility.can_read(a)}
