"""Turn a knowledge gap into an article draft in its owning team's review queue.

The draft is prefilled from the gap: the proposed title, the symptoms as its tickets state
them, the resolutions of its most typical tickets, and a sources section citing every
ticket. It enters review through the same `reviews.propose` as any API write, so only the
team's specialists (and admins) may draft it, and nothing goes live without a reviewer.
"""

from __future__ import annotations

import json

from sqlalchemy.orm import Session

from app.auth import Principal
from app.schemas.gaps import Gap, GapDraft
from app.services.reviews import propose, require_owner


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
    slug = f"gap-{gap.key}"
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
