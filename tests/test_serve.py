"""`stellwerk serve` starts a real server on loopback that answers over HTTP."""

from __future__ import annotations

import os
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


def test_serve_answers_health_ready_and_writes(tmp_path: Path) -> None:
    port = _free_port()
    env = {
        **os.environ,
        "STELLWERK_DATA_DIR": str(tmp_path / "data"),
        "STELLWERK_MODEL_CACHE_DIR": str(MODEL_CACHE),
        "HF_HUB_OFFLINE": "1",
    }
    env.pop("STELLWERK_DATABASE_URL", None)
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
                if httpx.get(f"{base}/ready", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "server not ready in time"
            time.sleep(0.25)
        assert httpx.get(f"{base}/health").json() == {"status": "ok"}
        markdown = article_markdown(
            "Scanner meldet Papierstau", "## Lösung\nEinzug reinigen.", team="workplace"
        )
        created = httpx.post(f"{base}/articles", json={"slug": "scanner", "markdown": markdown})
        assert created.status_code == 201
        hits = httpx.post(f"{base}/search", json={"query": "scanner paper jam"}).json()["hits"]
        assert hits[0]["id"] == "article:scanner"
        docs = httpx.get(f"http://127.0.0.1:{port}/docs")
        assert docs.status_code == 200
    finally:
        server.terminate()
        server.wait(timeout=30)
