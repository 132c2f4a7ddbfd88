"""The second-level workspace: edit with preview, review by another owner, stale, tasks."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.auth_helpers import keys_of, publish_article
from tests.factories import article_markdown
from tests.web.helpers import browser, csrf_of, page_csrf, sign_in

ORIGINAL = article_markdown("Router reboot", "## Fix\n\nPull the plug.", team="network")
EDITED = article_markdown(
    "Router reboot", "## Fix\n\nPull the plug, count to quokka ten.", team="network"
)


def _person(client: TestClient, role: str) -> TestClient:
    person = browser(client)
    assert sign_in(person, keys_of(client)[role]).status_code == 303
    return person


def _marked(person: TestClient, word: str) -> bool:
    """Whether a search shows `word` as matched in a snippet (the live text holds it)."""
    return f"<mark>{word}</mark>" in person.get("/search", params={"q": word}).text


def test_edit_submit_and_approval_by_another_owner_make_it_searchable_at_once(
    client: TestClient,
) -> None:
    publish_article(client, "router", ORIGINAL)
    author = _person(client, "specialist")
    editor = author.get("/articles/router/edit")
    assert editor.status_code == 200 and "Pull the plug." in editor.text
    saved = author.post(
        "/articles/router/edit",
        data={"csrf": csrf_of(editor.text), "markdown": EDITED, "action": "save"},
    )
    assert saved.status_code == 303
    page = author.get("/articles/router")
    assert "Version 2 is waiting" in page.text and "Pull the plug." in page.text  # live: v1
    assert (
        author.post(
            "/articles/router/versions/2/submit", data={"csrf": csrf_of(page.text)}
        ).headers["location"]
        == "/articles/router"
    )
    waiting = author.get("/articles/router")
    assert "Approve and publish" not in waiting.text  # not for its own author
    refused = author.post(
        "/articles/router/versions/2/publish", data={"csrf": csrf_of(waiting.text)}
    )
    assert refused.status_code == 403 and "text/html" in refused.headers["content-type"]
    assert not _marked(author, "quokka")

    reviewer = _person(client, "network-reviewer")
    queue = reviewer.get("/workspace")
    assert 'href="/articles/router">Router reboot</a> · Version 2' in queue.text
    review = reviewer.get("/articles/router")
    assert "Approve and publish" in review.text
    approved = reviewer.post(
        "/articles/router/versions/2/publish", data={"csrf": csrf_of(review.text)}
    )
    assert approved.status_code == 303
    assert _marked(reviewer, "quokka")
    history = reviewer.get("/articles/router").text
    assert '<span class="add">+Pull the plug, count to quokka ten.</span>' in history


def test_a_reviewer_sends_a_version_back(client: TestClient) -> None:
    publish_article(client, "router", ORIGINAL)
    client.put("/api/v1/articles/router", json={"markdown": EDITED})
    client.post("/api/v1/articles/router/versions/2/submit")
    reviewer = _person(client, "network-reviewer")
    token = page_csrf(reviewer, "/articles/router")
    assert (
        reviewer.post("/articles/router/versions/2/reject", data={"csrf": token}).status_code == 303
    )
    assert "Submit for review" in reviewer.get("/articles/router").text  # a draft again


def test_preview_is_sanitised_and_needs_csrf(client: TestClient) -> None:
    author = _person(client, "specialist")
    token = page_csrf(author, "/articles/new")
    markdown = article_markdown("X", "## Fix\n\n<script>alert(1)</script> **bold**")
    preview = author.post("/preview", data={"csrf": token, "markdown": markdown})
    assert "<strong>bold</strong>" in preview.text
    assert "<script" not in preview.text and "<html" not in preview.text  # a fragment
    assert author.post("/preview", data={"markdown": markdown}).status_code == 403


def test_a_new_article_from_the_editor_is_a_draft_of_its_team(client: TestClient) -> None:
    author = _person(client, "specialist")
    form = author.get("/articles/new")
    assert "team: network" in form.text  # the author's team is filled in
    created = author.post(
        "/articles/new",
        data={
            "csrf": csrf_of(form.text),
            "slug": "switch-port",
            "markdown": article_markdown("Switch port", "## Fix\n\nShut, no shut."),
        },
    )
    assert created.headers["location"] == "/articles/switch-port"
    assert client.get("/api/v1/articles/switch-port").json()["status"] == "draft"
    assert _person(client, "agent").get("/articles/switch-port").status_code == 404


def test_tasks_from_feedback_are_closed_with_a_note(client: TestClient) -> None:
    publish_article(client, "router", ORIGINAL)
    agent = _person(client, "agent")
    agent.post(
        "/feedback",
        data={
            "csrf": page_csrf(agent),
            "target": "article:router",
            "helpful": "no",
            "flag": "outdated",
            "comment": "New firmware",
        },
    )
    owner = _person(client, "specialist")
    workspace = owner.get("/workspace")
    assert "outdated" in workspace.text and "New firmware" in workspace.text
    task_id = client.get("/api/v1/tasks").json()["tasks"][0]["id"]
    closed = owner.post(
        f"/tasks/{task_id}/close", data={"csrf": csrf_of(workspace.text), "note": "Updated."}
    )
    assert closed.status_code == 303
    task = client.get("/api/v1/tasks").json()["tasks"][0]
    assert (task["status"], task["resolution"], task["closed_by"]) == (
        "closed",
        "Updated.",
        "specialist",
    )
    assert "No open tasks." in owner.get("/workspace").text
    # Other teams' specialists see no such task, and only owners may open the workspace.
    assert "New firmware" not in _person(client, "workplace-specialist").get("/workspace").text
    assert agent.get("/workspace").status_code == 403
