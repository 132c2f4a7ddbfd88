"""The id of the request being served: taken from X-Request-ID when it is safe, else made.

It is echoed in the response's X-Request-ID and put on every log line written while the
request runs (app.logs reads `current_request_id`), so a client's report, the proxy's log
and the service's log meet on one id.
"""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar

from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = "X-Request-ID"
# Bounded and plain: nothing a log line, a terminal or a header could be tricked by.
_SAFE = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_current: ContextVar[str | None] = ContextVar("stellwerk_request_id", default=None)


def current_request_id() -> str | None:
    return _current.get()


def accepted_request_id(presented: str | None) -> str:
    """The client's id when it is 1-128 characters of `A-Z a-z 0-9 . _ : -`, else a new one."""
    if presented is not None and _SAFE.fullmatch(presented):
        return presented
    return uuid.uuid4().hex


class RequestId:
    """ASGI middleware: sets the request id for the request and echoes it in the response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        presented = None
        for name, value in scope.get("headers", []):
            if name == b"x-request-id":
                presented = value.decode("latin-1")
                break
        request_id = accepted_request_id(presented)
        # Left set when the app raises: the 500 handler outside this middleware logs the
        # error and answers with the id too (app.errors); each request runs in its own task,
        # so the value goes no further.
        _current.set(request_id)
        header = (b"x-request-id", request_id.encode("ascii"))

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(n, v) for n, v in message.get("headers", []) if n != header[0]]
                message["headers"] = [*headers, header]
            await send(message)

        await self.app(scope, receive, send_with_id)
