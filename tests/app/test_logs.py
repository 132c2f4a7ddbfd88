"""Structured logs (issue 15, item 7): JSON lines on a setting, and a request id that a
client may pass in, echoed back and on every log line written while the request runs."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from fastapi.testclient import TestClient

from app.logs import LogFormat, configure_logging
from app.request_id import accepted_request_id
from tests.auth_helpers import app_of, bearer


@contextmanager
def captured(log_format: LogFormat) -> Iterator[io.StringIO]:
    """Route the root logger to a buffer in that format; restore pytest's handlers after."""
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    buffer = io.StringIO()
    handler = configure_logging(level="info", log_format=log_format, stream=buffer)
    try:
        yield buffer
    finally:
        root.removeHandler(handler)
        root.handlers[:], root.level = saved[0], saved[1]


def test_a_safe_request_id_is_taken_and_echoed(client: TestClient) -> None:
    response = client.get("/api/v1/health", headers={"X-Request-ID": "lb-7f3a:42_x.y"})
    assert response.headers["X-Request-ID"] == "lb-7f3a:42_x.y"
    made = client.get("/api/v1/health").headers["X-Request-ID"]
    assert len(made) == 32 and made != client.get("/api/v1/health").headers["X-Request-ID"]


@pytest.mark.parametrize(
    "presented", ["", "a b", "x" * 129, "id\nforged: line", "<script>", "ümlaut", "a/b"]
)
def test_an_unsafe_request_id_is_replaced(presented: str) -> None:
    accepted = accepted_request_id(presented)
    assert accepted != presented and len(accepted) == 32 and accepted.isalnum()
    assert accepted_request_id("x" * 128) == "x" * 128


def test_every_log_line_of_a_request_carries_its_id_as_json(client: TestClient) -> None:
    def boom() -> None:
        raise RuntimeError("boom")

    app_of(client).add_api_route("/api/v1/boom", boom)
    wrong = bearer("sw_" + "w" * 43)
    with captured("json") as buffer:
        response = client.get("/api/v1/ready", headers={**wrong, "X-Request-ID": "req-1"})
        assert response.status_code == 401
        response = client.get("/api/v1/boom", headers={"X-Request-ID": "req-2"})
        assert response.status_code == 500
        assert response.headers["X-Request-ID"] == "req-2"  # also on the error handler's 500
        logging.getLogger("stellwerk.test").info("outside any request")

    lines = [json.loads(line) for line in buffer.getvalue().splitlines()]
    by_id = {line.get("request_id"): line for line in lines}
    assert by_id["req-1"]["logger"] == "stellwerk.auth"
    assert by_id["req-1"]["level"] == "warning"
    assert "w" * 20 not in by_id["req-1"]["message"]  # a key's prefix at most, never the key
    assert by_id["req-2"]["logger"] == "stellwerk.errors"
    assert "RuntimeError: boom" in by_id["req-2"]["exception"]
    assert lines[-1]["message"] == "outside any request" and "request_id" not in lines[-1]
    assert {"time", "level", "logger", "message"} <= set(lines[-1])


def test_text_lines_carry_the_id_too(client: TestClient) -> None:
    with captured("text") as buffer:
        client.get("/api/v1/ready", headers={**bearer("sw_" + "t" * 43), "X-Request-ID": "r-9"})
    assert "WARNING stellwerk.auth [r-9]: authentication failed" in buffer.getvalue()
