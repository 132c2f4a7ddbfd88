"""Pages as a person gets them: headers, error pages, languages, sanitised articles, actions."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from app.web.markup import sanitise
from tests.auth_helpers import keys_of, publish_article
from tests.factories import article_markdown
from tests.fakes import HashingEmbedder
from tests.web.helpers import browser, page_csrf, sign_in

HOSTILE = """## Fix

<script>alert(1)</script>

<img src=x onerror="alert(2)">

[click me](javascript:alert(3)) and [data](data:text/html;base64,PHNjcmlwdD4=)

Restart the **router**.
"""


def _person(client: TestClient, role: str = "agent") -> TestClient:
    person = browser(client)
    assert sign_in(person, keys_of(client)[role]).status_code == 303
    return person


def test_pages_send_the_security_headers_and_the_api_keeps_its_own(client: TestClient) -> None:
    person = _person(client)
    page = person.get("/")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "same-origin"
    assert page.headers["cache-control"] == "no-store"
    assert "<script>" not in page.text and " on" + "click=" not in page.text  # no inline script
    api = client.get("/api/v1/stats")
    assert api.headers["x-content-type-options"] == "nosniff"
    assert "content-security-policy" not in api.headers
    assert person.get("/static/htmx.min.js").status_code == 200  # vendored, no CDN


def test_errors_are_pages_with_the_api_status_and_the_api_keeps_json(client: TestClient) -> None:
    person = _person(client)
    missing = person.get("/no-such-page")
    assert missing.status_code == 404
    assert "text/html" in missing.headers["content-type"]
    assert "404" in missing.text
    invalid = person.post("/suggest", data={"csrf": page_csrf(person), "title": ""})
    assert invalid.status_code == 422
    assert "text/html" in invalid.headers["content-type"]
    forbidden = person.get("/dashboard")  # an agent: the API's 403 for this role
    assert forbidden.status_code == 403
    api = client.get("/api/v1/articles/no-such-article")
    assert api.status_code == 404
    assert api.json()["error"]["code"] == "article_not_found"


def test_language_from_the_choice_else_accept_language_with_local_dates(
    client: TestClient,
) -> None:
    publish_article(
        client, "dated", article_markdown("Router", "## Fix\n\nReboot.", review_by="2027-03-31")
    )
    person = _person(client)
    english = person.get("/articles/dated")
    assert "Review by" in english.text and "Mar 31, 2027" in english.text
    german = person.get("/articles/dated", headers={"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"})
    assert "Prüfen bis" in german.text and "31.03.2027" in german.text
    assert '<html lang="de">' in german.text
    chosen = person.post(
        "/language", data={"csrf": page_csrf(person), "lang": "en", "next": "/articles/dated"}
    )
    assert chosen.headers["location"] == "/articles/dated"
    # The person's choice wins over the browser's header.
    again = person.get("/articles/dated", headers={"Accept-Language": "de"})
    assert "Review by" in again.text


class _Elements(HTMLParser):
    """Every element and attribute of a piece of HTML, as a browser would build them."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes += [(name, value or "") for name, value in attrs]


def _elements(html: str) -> _Elements:
    parsed = _Elements()
    parsed.feed(html)
    return parsed


def _assert_inert(html: str) -> None:
    parsed = _elements(html)
    assert not {"script", "iframe", "object", "embed", "style"} & set(parsed.tags), parsed.tags
    assert not [name for name, _ in parsed.attributes if name.startswith("on") or name == "style"]
    links = [value for name, value in parsed.attributes if name in ("href", "src")]
    assert not [v for v in links if v.strip().lower().startswith(("javascript:", "data:"))]


def test_rendered_markdown_is_sanitised(client: TestClient) -> None:
    publish_article(client, "hostile", article_markdown("Hostile", HOSTILE))
    page = _person(client).get("/articles/hostile")
    assert page.status_code == 200
    body = page.text.split('<div class="article-body">', 1)[1].split("</div>", 1)[0]
    assert "<strong>router</strong>" in body
    assert "&lt;script&gt;" in body  # raw HTML in the source is shown as text
    _assert_inert(body)


def test_the_sanitiser_is_a_second_wall_for_raw_html() -> None:
    """Should a renderer ever pass raw HTML, the page still gets nothing that runs."""
    hostile = (
        '<p onclick="x()">a</p><script>alert(1)</script><img src="x" onerror="y()">'
        '<a href="javascript:alert(1)">j</a><a href="https://example.org/">ok</a>'
        '<iframe src="https://example.org"></iframe><p style="color:red">s</p>'
    )
    with pytest.raises(AssertionError):  # the check itself sees what it must refuse
        _assert_inert(hostile)
    cleaned = sanitise(hostile)
    _assert_inert(cleaned)
    assert 'href="https://example.org/"' in cleaned
    assert "alert(1)" not in cleaned


def test_not_helpful_on_an_article_page_opens_a_task_for_its_team(client: TestClient) -> None:
    publish_article(client, "router", article_markdown("Router", "## Fix\n\nReboot."))
    person = _person(client)
    token = page_csrf(person, "/articles/router")
    done = person.post(
        "/feedback",
        data={
            "csrf": token,
            "target": "article:router",
            "helpful": "no",
            "flag": "missing_step",
            "comment": "Step 2 is missing",
            "context": "article",
            "back": "/articles/router",
        },
    )
    assert done.status_code == 200
    assert "the team gets a task" in done.text
    tasks = client.get("/api/v1/tasks").json()["tasks"]
    assert [(t["target"], t["reason"], t["team"]) for t in tasks] == [
        ("article:router", "missing_step", "network")
    ]
    partial = person.post(
        "/feedback",
        data={"csrf": token, "target": "article:router", "helpful": "yes"},
        headers={"HX-Request": "true"},
    )
    assert partial.text.strip().startswith('<p class="done"')  # htmx gets the fragment only


def test_an_unexpected_failure_is_a_500_page_without_details(
    settings: Settings, fake_embedder: HashingEmbedder
) -> None:
    app = create_app(settings, embedder=fake_embedder)

    def boom() -> None:
        raise RuntimeError("secret internals")

    app.add_api_route("/boom", boom)
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/boom")
    assert response.status_code == 500
    assert "text/html" in response.headers["content-type"]
    assert "Something went wrong on our side." in response.text
    assert "secret internals" not in response.text and "Traceback" not in response.text
