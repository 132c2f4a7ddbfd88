"""Form helpers of the page views: CSRF check, safe return addresses, API schemas on forms."""

from __future__ import annotations

from typing import Annotated, TypeVar

from fastapi import Depends, Form, Request
from pydantic import BaseModel, ValidationError

from app.errors import Forbidden, InvalidInput
from app.web.environment import web_of
from app.web.signin import browser_sid

ModelT = TypeVar("ModelT", bound=BaseModel)
# The source of a ticket referred to by a bare id in the console.
CONSOLE_SOURCE = "console"


def check_csrf(request: Request, csrf: Annotated[str, Form(max_length=200)] = "") -> None:
    """Every form that writes carries the token bound to this browser's session."""
    if not web_of(request.app).sessions.csrf_ok(browser_sid(request), csrf):
        raise Forbidden("The form expired or did not come from this site; reload and try again.")


CsrfChecked = Depends(check_csrf)


def local_path(target: str | None, default: str = "/") -> str:
    """A redirect target on this site only (no //host, no scheme), else the default."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


def parse_form(model: type[ModelT], **fields: object) -> ModelT:
    """A form's fields as the API's body schema, so pages and API validate alike (422)."""
    try:
        return model.model_validate({k: v for k, v in fields.items() if v is not None})
    except ValidationError as exc:
        details = [
            {
                "field": ".".join(str(p) for p in problem.get("loc", ())) or "form",
                "message": str(problem.get("msg", "invalid")),
            }
            for problem in exc.errors()
        ]
        fields_named = ", ".join(d["field"] for d in details)
        raise InvalidInput(f"Invalid input: {fields_named}", details=details) from exc


def ticket_reference(reference: str) -> tuple[str, str] | None:
    """`source:id` (as in search results: `demo:T-100`), or a bare id from the console."""
    reference = reference.strip()
    if not reference:
        return None
    source, sep, external_id = reference.partition(":")
    if sep and source and external_id:
        return source.strip(), external_id.strip()
    return CONSOLE_SOURCE, reference
