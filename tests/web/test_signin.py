"""Sign-in to the pages: the session cookie, CSRF, the shared failure limiter, revocation."""

from __future__ import annotations

import logging
import time

import pytest
from fastapi.testclient import TestClient

from app.auth import CLI_PRINCIPAL
from app.main import create_app
from app.services.keys import revoke_key
from app.settings import Settings
from tests.auth_helpers import authorize, bearer, factory_of, keys_of
from tests.fakes import HashingEmbedder
from tests.web.helpers import browser, csrf_of, page_csrf, sign_in


@pytest.fixture
def keys(client: TestClient) -> dict[str, str]:
    return keys_of(client)


def test_the_console_without_a_session_redirects_to_login(client: TestClient) -> None:
    person = browser(client)
    response = person.get("/")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2F"
    form = person.get("/login")
    assert form.status_code == 200
    assert '<input id="key" name="key" type="password"' in form.text


def test_sign_in_sets_a_signed_http_only_cookie_with_expiry(
    client: TestClient, keys: dict[str, str]
) -> None:
    person = browser(client)
    response = sign_in(person, keys["agent"])
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    cookie = next(c for c in response.headers.get_list("set-cookie") if "stellwerk_session=" in c)
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Max-Age=36000" in cookie  # session_hours, 10 by default
    assert "Secure" not in cookie  # plain http (see the https test)
    assert keys["agent"] not in cookie  # the key itself never goes into the cookie
    page = person.get("/")
    assert page.status_code == 200
    assert "agent" in page.text
    # A forged cookie is no session.
    value = cookie.split(";")[0].split("=", 1)[1]
    person.cookies.clear()
    person.cookies.set(
        "stellwerk_session", value[:-2] + ("xx" if not value.endswith("xx") else "yy")
    )
    assert person.get("/").status_code == 303


def test_the_cookie_is_secure_over_https(client: TestClient, keys: dict[str, str]) -> None:
    person = TestClient(client.app, base_url="https://testserver", follow_redirects=False)
    response = sign_in(person, keys["agent"])
    cookie = next(c for c in response.headers.get_list("set-cookie") if "stellwerk_session=" in c)
    assert "Secure" in cookie


def test_a_session_expires(
    client: TestClient, keys: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    person = browser(client)
    sign_in(person, keys["agent"])
    assert person.get("/").status_code == 200
    real = time.time
    # itsdangerous reads the clock through the time module: ten hours and a bit later.
    monkeypatch.setattr(time, "time", lambda: real() + 10 * 3600 + 5)
    assert person.get("/").status_code == 303


def test_a_wrong_key_is_a_401_page_counted_by_the_api_limiter(
    settings: Settings, fake_embedder: HashingEmbedder
) -> None:
    limited = settings.model_copy(
        update={"auth_failure_burst": 2, "auth_failure_refill_seconds": 600}
    )
    with TestClient(create_app(limited, embedder=fake_embedder), follow_redirects=False) as client:
        authorize(client)
        person = browser(client)
        wrong = "sw_" + "x" * 40
        for _ in range(2):
            failed = sign_in(person, wrong)
            assert failed.status_code == 401
            assert "This key is unknown or revoked." in failed.text
            assert "stellwerk_session" not in failed.headers.get("set-cookie", "")
        # The pages spent the same bucket the API spends: the API now refuses this client too.
        api = client.get("/api/v1/stats", headers=bearer(wrong))
        assert api.status_code == 429
        again = sign_in(person, wrong)
        assert again.status_code == 429
        assert again.headers["retry-after"]


def test_every_writing_form_needs_its_csrf_token(client: TestClient, keys: dict[str, str]) -> None:
    person = browser(client)
    person.get("/login")
    assert person.post("/login", data={"key": keys["agent"]}).status_code == 403
    assert person.post("/login", data={"key": keys["agent"], "csrf": "0" * 64}).status_code == 403
    sign_in(person, keys["agent"])
    token = page_csrf(person)
    for path, form in (
        ("/feedback", {"target": "article:x", "helpful": "yes"}),
        ("/links", {"ticket_ref": "T1", "article_slug": "x"}),
        ("/escalations", {"ticket_ref": "T1", "final_team": "network"}),
        ("/logout", {}),
        ("/suggest", {"title": "x"}),
    ):
        refused = person.post(path, data=form)
        assert refused.status_code == 403, path
        assert "text/html" in refused.headers["content-type"]
    # Another browser's token does not fit this session.
    other = browser(client)
    sign_in(other, keys["admin"])
    assert person.post("/logout", data={"csrf": page_csrf(other)}).status_code == 403
    assert person.post("/logout", data={"csrf": token}).status_code == 303
    assert person.get("/").status_code == 303  # signed out


def test_a_revoked_key_ends_its_sessions_at_the_next_request(
    client: TestClient, keys: dict[str, str]
) -> None:
    person = browser(client)
    sign_in(person, keys["agent"])
    assert person.get("/search").status_code == 200
    with factory_of(client)() as session, session.begin():
        revoke_key(session, actor=CLI_PRINCIPAL, id_or_name="agent")
    response = person.get("/search")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")


def test_the_api_stays_bearer_only(client: TestClient, keys: dict[str, str]) -> None:
    person = browser(client)
    sign_in(person, keys["admin"])
    assert person.get("/").status_code == 200
    response = person.get("/api/v1/stats")  # the session cookie is sent, and ignored
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


def test_sign_in_returns_only_to_addresses_on_this_site(
    client: TestClient, keys: dict[str, str]
) -> None:
    person = browser(client)
    form = person.get("/login?next=/search")
    assert 'name="next" value="/search"' in form.text
    token = csrf_of(form.text)
    evil = person.post("/login", data={"key": keys["agent"], "csrf": token, "next": "//evil.test"})
    assert evil.headers["location"] == "/"


def test_keys_never_reach_the_log(
    client: TestClient, keys: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    person = browser(client)
    wrong = keys["agent"][:-4] + "abcd"
    assert sign_in(person, wrong).status_code == 401
    assert sign_in(person, keys["agent"]).status_code == 303
    person.get("/")
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "authentication failed" in logged and wrong[:11] in logged  # the prefix only
    assert wrong not in logged and keys["agent"] not in logged
