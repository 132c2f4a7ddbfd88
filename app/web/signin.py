"""Who is looking at a page: the principal behind the session cookie, checked every request."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Request
from sqlalchemy.orm import Session

from app.auth import Principal, principal_of
from app.errors import Unauthorized
from app.services.keys import active_key
from app.state import app_state
from app.web.environment import web_of
from app.web.sessions import PRE_COOKIE, SESSION_COOKIE, WebSession


class SignInRequired(Unauthorized):
    """No (valid) session on a page: the page answers with a redirect to /login."""

    code = "sign_in_required"


def _from_api_key(session: Session, subject: str) -> Principal | None:
    key = active_key(session, int(subject)) if subject.isdigit() else None
    return principal_of(key) if key is not None else None


# How each sign-in method turns its subject into a principal; OIDC would add "oidc" here.
RESOLVERS: dict[str, Callable[[Session, str], Principal | None]] = {"api_key": _from_api_key}


def web_session(request: Request) -> WebSession | None:
    """The request's valid (signed, unexpired) session cookie, if any."""
    return web_of(request.app).sessions.read_session(request.cookies.get(SESSION_COOKIE))


def browser_sid(request: Request) -> str | None:
    """The id CSRF tokens are bound to: the session's, or before sign-in the pre-cookie's."""
    signed_in = web_session(request)
    if signed_in is not None:
        return signed_in.sid
    return web_of(request.app).sessions.read_pre(request.cookies.get(PRE_COOKIE))


def session_principal(request: Request) -> Principal | None:
    """The principal of the session, looked up now: a revoked key has none."""
    cached = getattr(request.state, "principal", None)
    if isinstance(cached, Principal):
        return cached
    signed_in = web_session(request)
    resolver = RESOLVERS.get(signed_in.method) if signed_in else None
    if signed_in is None or resolver is None:
        return None
    with app_state(request.app).ready().session_factory() as session:
        principal = resolver(session, signed_in.subject)
    if principal is not None:
        request.state.principal = principal
    return principal


def page_principal(request: Request) -> Principal:
    """The signed-in person of a page; without one the page redirects to /login."""
    principal = session_principal(request)
    if principal is None:
        raise SignInRequired("Please sign in.")
    return principal
