"""Sign-in with an API key, sign-out, and the language switch."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from app.auth import KEY_SCHEME, key_prefix, lookup_key
from app.deps import StateDep
from app.web.environment import web_of
from app.web.forms import CsrfChecked, local_path
from app.web.i18n import LANGUAGE_COOKIE, LANGUAGES
from app.web.render import is_https, render
from app.web.sessions import PRE_COOKIE, SESSION_COOKIE
from app.web.signin import session_principal

log = logging.getLogger("stellwerk.web")

router = APIRouter(include_in_schema=False)


@router.get("/login")
def login_form(request: Request, next: str = "/") -> Response:
    if session_principal(request) is not None:
        return RedirectResponse(local_path(next), status_code=303)
    return render(request, "login.html", {"next": local_path(next), "failed": False})


@router.post("/login", dependencies=[CsrfChecked])
def login(
    request: Request,
    state: StateDep,
    key: Annotated[str, Form(max_length=500)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    """Check the key like the API does (same failure limiter) and start a session."""
    limiter = state.auth_limiter
    client = request.client.host if request.client else "unknown"
    wait = limiter.retry_after(client)
    if wait is not None:
        log.warning("web sign-in refused: too many failures from %s", client)
        return render(
            request,
            "login.html",
            {"next": local_path(next), "failed": False, "limited": True},
            status=429,
            headers={"Retry-After": str(max(1, round(wait)))},
        )
    key = key.strip()
    with state.ready().session_factory() as session:
        row = lookup_key(session, key) if key else None
        key_id = row.id if row is not None else None
    if key_id is None:
        limiter.failed(client)
        # The prefix identifies a key without revealing it; never log the key itself.
        log.warning(
            "web sign-in failed from %s: unknown or revoked key %s...",
            client,
            key_prefix(key) if key.startswith(KEY_SCHEME) else "(not a stellwerk key)",
        )
        return render(request, "login.html", {"next": local_path(next), "failed": True}, status=401)
    sessions = web_of(request.app).sessions
    _, token = sessions.new_session("api_key", str(key_id))
    response = RedirectResponse(local_path(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=sessions.max_age_seconds,
        httponly=True,
        samesite="lax",
        secure=is_https(request),
        path="/",
    )
    response.delete_cookie(PRE_COOKIE, path="/")
    return response


@router.post("/logout", dependencies=[CsrfChecked])
def logout(request: Request) -> Response:
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")
    return response


@router.post("/language", dependencies=[CsrfChecked])
def choose_language(
    request: Request,
    lang: Annotated[str, Form(max_length=10)],
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    response = RedirectResponse(local_path(next), status_code=303)
    if lang in LANGUAGES:
        response.set_cookie(
            LANGUAGE_COOKIE,
            lang,
            max_age=365 * 24 * 3600,
            httponly=True,
            samesite="lax",
            secure=is_https(request),
            path="/",
        )
    return response
