"""Errors on page routes as HTML pages with the API's status codes; sign-in as a redirect."""

from __future__ import annotations

import logging
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from app.web.headers import is_page_path
from app.web.i18n import N_
from app.web.render import render
from app.web.signin import SignInRequired

log = logging.getLogger("stellwerk.web")

# What a person reads for each status (the API's message stays beneath, in English).
TITLES = {
    400: N_("The request was not understood."),
    401: N_("Please sign in."),
    403: N_("You may not do this."),
    404: N_("Not found."),
    405: N_("This address does not take this kind of request."),
    409: N_("This conflicts with the current state."),
    413: N_("That is too large."),
    422: N_("Some input is not valid."),
    429: N_("Too many attempts; please wait a moment."),
    503: N_("The service is starting; try again in a moment."),
}
GENERIC = N_("Something went wrong on our side.")


def page_error(
    request: Request, exc: Exception, status: int, code: str, message: str
) -> Response | None:
    """The HTML answer for a page route; None leaves the API's JSON body."""
    if not is_page_path(request.url.path):
        return None
    if isinstance(exc, SignInRequired):
        target = request.url.path if request.method == "GET" else "/"
        if request.url.query and request.method == "GET":
            target += f"?{request.url.query}"
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
    try:
        return render(
            request,
            "error.html",
            {
                "status": status,
                "title": TITLES.get(status, GENERIC),
                "message": message if status < 500 else "",
                "code": code,
            },
            status=status,
        )
    except Exception:  # an error page must never fail itself; JSON is the fallback
        log.exception("could not render the error page for %s", request.url.path)
        return None
