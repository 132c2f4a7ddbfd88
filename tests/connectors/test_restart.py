"""kill -9 of the service with write-backs pending: after the restart every one is
delivered exactly once (a real `stellwerk serve` subprocess and a fake Zammad on loopback)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from db.models import OutboxItem
from db.session import create_db_engine, session_factory
from tests.connectors.fake_tools import FakeTool, free_port, serve, zammad_app
from tests.connectors.helpers import SECRET, TOKEN, payload, signed_headers
from tests.paths import MODEL_CACHE, REPO_ROOT

pytestmark = pytest.mark.slow


def _wait(condition: Callable[[], bool], what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


@contextmanager
def _service(env: dict[str, str], port: int) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "app", "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def up() -> bool:
        assert process.poll() is None, "the service exited"
        try:
            return httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).is_success
        except httpx.TransportError:
            return False

    try:
        _wait(up, "the service to start")
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(30)


def _statuses(database: Path) -> list[str]:
    engine = create_db_engine(f"sqlite:///{database}")
    try:
        with session_factory(engine)() as session:
            return list(session.scalars(select(OutboxItem.status).order_by(OutboxItem.id)))
    finally:
        engine.dispose()


def test_kill_9_with_pending_write_backs_delivers_each_once_after_restart(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "data"
    env = {
        **os.environ,
        "STELLWERK_DATA_DIR": str(data_dir),
        "STELLWERK_MODEL_CACHE_DIR": str(MODEL_CACHE),
        "STELLWERK_CONNECTOR_POLL_SECONDS": "0.1",
        "STELLWERK_WEBHOOK_DEADLINE_SECONDS": "60",  # this test is about the write-backs
        "HF_HUB_OFFLINE": "1",
    }
    env.pop("STELLWERK_DATABASE_URL", None)
    tool = FakeTool(token=TOKEN, hold_seconds=20)  # takes the first note, then hangs
    port = free_port()
    with serve(zammad_app(tool)) as url:
        subprocess.run(
            [sys.executable, "-m", "app", "connectors", "add", "zammad", "--name", "zammad",
             "--url", url, "--secret", SECRET, "--token", TOKEN, "--write-back"],
            cwd=REPO_ROOT, env=env, check=True, capture_output=True,
        )  # fmt: skip
        with _service(env, port) as process:
            for number in (81, 82, 83):
                data = payload("zammad_open")
                data["ticket"].update({"id": number, "number": f"100{number}"})
                body = json.dumps(data).encode()
                answer = httpx.post(
                    f"http://127.0.0.1:{port}/api/v1/connectors/zammad/webhook",
                    content=body,
                    headers={"Content-Type": "application/json", **signed_headers("zammad", body)},
                    timeout=30,
                )
                assert answer.json()["queued"] == 1, answer.text
            # The first note reached the tool, which has not answered yet: kill -9 now.
            _wait(lambda: len(tool.all_notes()) == 1, "the first write-back to reach the tool")
            os.kill(process.pid, signal.SIGKILL)
            process.wait(10)
        database = data_dir / "stellwerk.db"
        assert _statuses(database) == ["sending", "pending", "pending"]

        tool.hold_seconds = 0
        with _service(env, port):
            _wait(lambda: _statuses(database) == ["delivered"] * 3, "every write-back", 60)
    assert sorted(tool.notes) == ["81", "82", "83"]
    assert [len(notes) for notes in tool.notes.values()] == [1, 1, 1]
    assert len(tool.calls("POST", "/api/v1/ticket_articles")) == 3
