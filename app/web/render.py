"""Render a page in the request's language, with its CSRF token and the signed-in person."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from app.auth import Principal
from app.services.refs import API_PREFIX
from app.web.environment import web_of
from app.web.i18n import LANGUAGES, N_, language_of, local_date
from app.web.sessions import PRE_COOKIE
from app.web.signin import browser_sid

# Words the data holds (states, audiences), shown in the page's language.
LABELS = {
    "draft": N_("draft"),
    "in_review": N_("in review"),
    "published": N_("published"),
    "superseded": N_("superseded"),
    "archived": N_("archived"),
    "internal": N_("internal"),
    "partners": N_("partners"),
    "public": N_("public"),
}


def page_link(api_link: str | None) -> str | None:
    """The page for an API link of a result: articles have one, tickets (not yet) none."""
    prefix = f"{API_PREFIX}/articles/"
    if api_link and api_link.startswith(prefix):
        return "/articles/" + api_link.removeprefix(prefix)
    return None


def is_https(request: Request) -> bool:
    return request.url.scheme == "https"


def translator(request: Request) -> tuple[str, Callable[..., str]]:
    """The request's language and its `_`: `_("Team %(name)s", name=team)`."""
    language = language_of(request)
    catalogue = web_of(request.app).translations[language]

    def gettext(message: str, **values: Any) -> str:
        text = str(catalogue.gettext(message))
        return text % values if values else text

    return language, gettext


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    web = web_of(request.app)
    language, gettext = translator(request)
    sid = browser_sid(request)
    new_pre: str | None = None
    if sid is None:  # first visit: bind the forms' CSRF token to a fresh pre-sign-in id
        sid, new_pre = web.sessions.new_pre()
    principal = getattr(request.state, "principal", None)

    def when(value: date | None) -> str:
        return local_date(value, language)

    def label(word: str) -> str:
        return gettext(LABELS[word]) if word in LABELS else word

    html = web.templates.get_template(template).render(
        {
            "_": gettext,
            "lang": language,
            "languages": LANGUAGES,
            "csrf": web.sessions.csrf_token(sid),
            "principal": principal if isinstance(principal, Principal) else None,
            "when": when,
            "page_link": page_link,
            "label": label,
            "here": request.url.path
            + (f"?{request.url.query}" if request.url.query and request.method == "GET" else ""),
            **(context or {}),
        }
    )
    response = HTMLResponse(html, status_code=status, headers=dict(headers or {}))
    if new_pre is not None:
        response.set_cookie(
            PRE_COOKIE,
            new_pre,
            max_age=24 * 3600,
            httponly=True,
            samesite="lax",
            secure=is_https(request),
            path="/",
        )
    return response
