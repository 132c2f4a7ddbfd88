"""What a person does with a suggestion or an article: feedback, solution links, outcomes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from app.deps import PagePrincipalDep, SessionDep
from app.errors import InvalidInput
from app.schemas.feedback import FeedbackIn
from app.schemas.links import LinkIn
from app.schemas.outcomes import OutcomeIn
from app.services.feedback import give_feedback
from app.services.links import link_solution
from app.services.outcomes import record_outcome
from app.services.visibility import visibility_for
from app.web.forms import CsrfChecked, local_path, parse_form, ticket_reference
from app.web.i18n import N_
from app.web.render import render

router = APIRouter(include_in_schema=False)


def _done(request: Request, message: str, back: str) -> Response:
    """htmx swaps the small confirmation in place; without JavaScript it is a page."""
    template = "done_fragment.html" if request.headers.get("hx-request") else "done.html"
    return render(request, template, {"message": message, "back": local_path(back)})


@router.post("/feedback", dependencies=[CsrfChecked])
def feedback(
    request: Request,
    session: SessionDep,
    principal: PagePrincipalDep,
    target: Annotated[str, Form(max_length=500)],
    helpful: Annotated[str, Form(max_length=5)],
    flag: Annotated[str, Form(max_length=20)] = "",
    comment: Annotated[str, Form(max_length=5000)] = "",
    context: Annotated[str, Form(max_length=20)] = "article",
    query: Annotated[str, Form(max_length=5000)] = "",
    back: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    if helpful not in ("yes", "no"):
        raise InvalidInput("helpful is yes or no.", details=[{"field": "helpful"}])
    body = parse_form(
        FeedbackIn,
        target=target,
        helpful=helpful == "yes",
        flag=flag or None,
        comment=comment.strip() or None,
        context=context,
        query=query or None,
    )
    with session.begin():
        give_feedback(
            session,
            principal=principal,
            visibility=visibility_for(session, principal),
            feedback=body,
        )
    message = (
        N_("Thank you: marked as helpful.")
        if body.helpful
        else N_("Thank you: the team gets a task.")
    )
    return _done(request, message, back)


def _reference(ticket_ref: str) -> tuple[str, str]:
    reference = ticket_reference(ticket_ref)
    if reference is None:
        raise InvalidInput("A ticket reference is needed.", details=[{"field": "ticket_ref"}])
    return reference


@router.post("/links", dependencies=[CsrfChecked])
def solved_by(
    request: Request,
    session: SessionDep,
    principal: PagePrincipalDep,
    ticket_ref: Annotated[str, Form(max_length=300)],
    article_slug: Annotated[str, Form(max_length=200)],
    back: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    source, external_id = _reference(ticket_ref)
    body = parse_form(
        LinkIn, ticket_source=source, ticket_id=external_id, article_slug=article_slug
    )
    with session.begin():
        link_solution(
            session, principal=principal, visibility=visibility_for(session, principal), link=body
        )
    return _done(request, N_("Recorded: this article solved the ticket."), back)


@router.post("/escalations", dependencies=[CsrfChecked])
def escalated_to(
    request: Request,
    session: SessionDep,
    principal: PagePrincipalDep,
    ticket_ref: Annotated[str, Form(max_length=300)],
    final_team: Annotated[str, Form(max_length=100)],
    suggested_team: Annotated[str, Form(max_length=100)] = "",
    back: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    source, external_id = _reference(ticket_ref)
    body = parse_form(
        OutcomeIn,
        ticket_source=source,
        ticket_id=external_id,
        suggested_team=suggested_team or None,
        final_team=final_team,
    )
    with session.begin():
        record_outcome(session, principal=principal, outcome=body)
    return _done(request, N_("Recorded: the ticket was escalated to this team."), back)
