"""The internal note a ticket tool receives: the proven fix, similar tickets, the proposed
team with its confidence and the escalation rule, in plain text each tool can show."""

from __future__ import annotations

from app.services.suggest import Suggestion


def _absolute(link: str | None, public_url: str | None) -> str:
    if not link:
        return ""
    return f"{public_url.rstrip('/')}{link}" if public_url and link.startswith("/") else link


def suggestion_note(suggestion: Suggestion, *, public_url: str | None) -> str:
    lines = ["Stellwerk suggestion"]
    escalation = suggestion.escalation
    if escalation.solution is not None:
        fix = escalation.solution
        lines.append(
            f"Proven fix (first level): {fix.title} {_absolute(fix.link, public_url)}".rstrip()
        )
    elif suggestion.solutions:
        best = suggestion.solutions[0]
        lines.append(f"Closest solution: {best.title} {_absolute(best.link, public_url)}".rstrip())
        if best.resolution:
            lines.append(f"  How it was solved: {best.resolution[:500]}")
    similar = suggestion.evidence.similar_tickets[:3]
    if similar:
        lines.append("Similar tickets:")
        lines += [f"- {t.id}: {t.title} ({t.team}, {t.score:.2f})" for t in similar]
    team = suggestion.team
    if team is not None:
        name = f"{team.display_name} ({team.name})" if team.display_name else team.name
        verdict = " - below the threshold, the dispatcher decides" if team.abstained else ""
        lines.append(f"Proposed team: {name}, confidence {team.confidence:.0%}{verdict}")
    action = {
        "resolve_at_first_level": "resolve at first level",
        "escalate": f"escalate to {escalation.team}",
        "dispatcher": "hand to the dispatcher",
    }[escalation.action]
    lines.append(f"Escalation: {action}. {escalation.reason}")
    if escalation.guideline is not None:
        for criterion in escalation.guideline.criteria[:5]:
            lines.append(f"- {criterion}")
        lines.append(f"Rule: {_absolute(escalation.guideline.link, public_url)}")
    if escalation.contractor:
        lines.append(f"Contractor: {escalation.contractor}")
    return "\n".join(lines)
