"""Signing in to the pages as a browser does: the form's CSRF token, then the key."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from httpx2 import Response

from app.state import app_state

_CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found is not None, "no CSRF token on the page"
    return found.group(1)


def browser(client: TestClient) -> TestClient:
    """A second client on the same running app: its own cookies, no API key header."""
    other = TestClient(client.app, raise_server_exceptions=False, follow_redirects=False)
    app_state(other.app).ready()  # the first client started the app
    return other


def sign_in(client: TestClient, key: str) -> Response:
    """GET /login (sets the pre-sign-in cookie), then POST the form with its token."""
    form = client.get("/login")
    assert form.status_code == 200, form.text
    return client.post("/login", data={"key": key, "csrf": csrf_of(form.text), "next": "/"})


def page_csrf(client: TestClient, path: str = "/") -> str:
    page = client.get(path)
    assert page.status_code == 200, page.text
    return csrf_of(page.text)
