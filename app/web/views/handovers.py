"""The handover page: a ticket passed between the levels (or to a firm) and the pulse form
of the caller's side (issue 12, item 5)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from app.deps import PagePrincipalDep, SessionDep
from app.schemas.pulses import PulseIn
from app.services.pulses import ASPECTS, record_pulse, side_of, visible_handover_team
from app.web.forms import CsrfChecked, parse_form
from app.web.i18n import N_
from app.web.render import render

router = APIRouter(include_in_schema=False)

ASPECT_LABELS = {
    "answer": N_("The second-level answer"),
    "escalation": N_("The escalation"),
    "clarity": N_("The escalation's clarity"),
    "documentation": N_("The shared documentation"),
}


def _checked(value: str) -> bool | None:
    return {"yes": True, "no": False}.get(value)


@router.get("/handovers/{source}/{ticket_id}")
def handover(
    request: Request, session: SessionDep, principal: PagePrincipalDep, source: str, ticket_id: str
) -> Response:
    """The handover's team and the form for each aspect the caller's side rates."""
    side = side_of(principal)
    team = visible_handover_team(session, principal, source, ticket_id)
    aspects = [(aspect, ASPECT_LABELS[aspect]) for aspect in ASPECTS[side]]
    return render(
        request,
        "handover.html",
        {"source": source, "ticket_id": ticket_id, "team": team, "side": side, "aspects": aspects},
    )


@router.post("/handovers/{source}/{ticket_id}/pulse", dependencies=[CsrfChecked])
def rate_handover(
    request: Request,
    session: SessionDep,
    principal: PagePrincipalDep,
    source: str,
    ticket_id: str,
    aspect: Annotated[str, Form(max_length=20)],
    rating: Annotated[int, Form(ge=1, le=5)],
    comment: Annotated[str, Form(max_length=2000)] = "",
    complete: Annotated[str, Form(max_length=3)] = "",
    justified: Annotated[str, Form(max_length=3)] = "",
    right_team: Annotated[str, Form(max_length=3)] = "",
) -> Response:
    body = parse_form(
        PulseIn,
        ticket_source=source,
        ticket_id=ticket_id,
        aspect=aspect,
        rating=rating,
        comment=comment.strip() or None,
        complete=_checked(complete),
        justified=_checked(justified),
        right_team=_checked(right_team),
    )
    with session.begin():
        record_pulse(session, principal=principal, pulse=body)
    back = f"/handovers/{source}/{ticket_id}"
    template = "done_fragment.html" if request.headers.get("hx-request") else "done.html"
    return render(request, template, {"message": N_("Thank you for your rating."), "back": back})
