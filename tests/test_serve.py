"""`stellwerk serve` starts a real server on loopback that answers over HTTP."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import MODEL_CACHE, REPO_ROOT
from tests.factories import article_markdown

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _publish(
    base: str, slug: str, markdown: str, author: dict[str, str], reviewer: dict[str, str]
) -> None:
    """Create an article as `author`, submit it, and have `reviewer` approve it."""
    body = {"slug": slug, "markdown": markdown}
    assert httpx.post(f"{base}/articles", json=body, headers=author).status_code == 201
    version = f"{base}/articles/{slug}/versions/1"
    assert httpx.post(f"{version}/submit", headers=author).status_code == 200
    assert httpx.post(f"{version}/publish", headers=reviewer).status_code == 200


def _first_hit(base: str, query: str, auth: dict[str, str]) -> str:
    hits = httpx.post(f"{base}/search", json={"query": query}, headers=auth).json()["hits"]
    first: str = hits[0]["id"]
    return first


def test_serve_answers_health_ready_and_writes(tmp_path: Path) -> None:
    port = _free_port()
    env = {
        **os.environ,
        "STELLWERK_DATA_DIR": str(tmp_path / "data"),
        "STELLWERK_MODEL_CACHE_DIR": str(MODEL_CACHE),
        "HF_HUB_OFFLINE": "1",
    }
    env.pop("STELLWERK_DATABASE_URL", None)
    env.pop("STELLWERK_SEARCH_SECOND_MODEL", None)  # the shipped default: on
    created_key = subprocess.run(
        [sys.executable, "-m", "app", "keys", "create", "--role", "admin", "--name", "ops"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    key = created_key.stdout.strip()
    assert len(key.split()) == 1 and len(key) >= 32  # the key alone on stdout
    auth = {"Authorization": f"Bearer {key}"}
    second = subprocess.run(
        [sys.executable, "-m", "app", "keys", "create", "--role", "admin", "--name", "reviewer"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    reviewer = {"Authorization": f"Bearer {second.stdout.strip()}"}
    server = subprocess.Popen(
        [sys.executable, "-m", "app", "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}/api/v1"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, "server exited"
            try:
                if httpx.get(f"{base}/ready", headers=auth, timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "server not ready in time"
            time.sleep(0.25)
        assert httpx.get(f"{base}/health").json() == {"status": "ok"}
        markdown = article_markdown(
            "Scanner meldet Papierstau",
            "## Lösung\nEinzug reinigen.",
            team="workplace",
            language="de",
        )
        body = {"slug": "scanner", "markdown": markdown}
        assert httpx.post(f"{base}/articles", json=body).status_code == 401
        # Nothing goes live without review: the author submits, another admin approves.
        _publish(base, "scanner", markdown, auth, reviewer)
        assert _first_hit(base, "scanner paper jam", auth) == "article:scanner"
        # An English article goes live with the second model's vectors too.
        english = article_markdown(
            "Laptop does not wake from sleep",
            "## Solution\nHold the power button for ten seconds, then update the BIOS.",
            team="workplace",
        )
        _publish(base, "laptop-sleep", english, auth, reviewer)
        assert _first_hit(base, "my laptop does not wake up from sleep", auth) == (
            "article:laptop-sleep"
        )
        docs = httpx.get(f"http://127.0.0.1:{port}/docs")
        assert docs.status_code == 200
    finally:
        server.terminate()
        server.wait(timeout=30)
    status = subprocess.run(
        [sys.executable, "-m", "app", "index", "status"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert re.search(
        r"second vectors \(search second model all-minilm-l6-v2\): [1-9]\d* by all-minilm-l6-v2",
        status.stdout,
    ), status.stdout
