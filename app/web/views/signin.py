"""Sign-in with an API key, sign-out, and the language switch."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from app.auth import authenticate
from app.deps import StateDep
from app.errors import TooManyRequests, Unauthorized
from app.web.environment import web_of
from app.web.forms import CsrfChecked, local_path
from app.web.i18n import LANGUAGE_COOKIE, LANGUAGES
from app.web.render import is_https, render
from app.web.sessions import PRE_COOKIE, SESSION_COOKIE
from app.web.signin import session_principal

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
    """Check the key as the API does (app.auth.authenticate: the same failure limiter, keyed
    by address and key prefix, valid keys exempt) and start a session."""
    client = request.client.host if request.client else "unknown"
    try:
        principal = authenticate(state, client, key.strip() or None)
    except TooManyRequests as refused:
        return render(
            request,
            "login.html",
            {"next": local_path(next), "failed": False, "limited": True},
            status=429,
            headers=refused.headers,
        )
    except Unauthorized:
        return render(request, "login.html", {"next": local_path(next), "failed": True}, status=401)
    key_id = principal.key_id
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
