"""Calls to a tool, retried with backoff on 429, 5xx and transport errors."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

from connectors.errors import ToolRejected, ToolUnavailable

RETRYABLE = frozenset({429, 500, 502, 503, 504})
MAX_WAIT = 30.0


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def send(
    client: httpx.Client,
    method: str,
    url: str,
    *,
    retries: int = 0,
    backoff: float = 0.5,
    sleep: Callable[[float], None] = time.sleep,
    on_retry: Callable[[str], None] | None = None,
    **kwargs: Any,
) -> httpx.Response:
    """The tool's answer (2xx or 3xx); retried `retries` times with exponential backoff.

    Errors name the method, path and status, never a header (tokens travel in headers).
    """
    where = f"{method} {httpx.URL(url).path}"
    for attempt in range(retries + 1):
        wait: float | None = None
        try:
            response = client.request(method, url, **kwargs)
        except httpx.TransportError as exc:
            error: Exception = ToolUnavailable(f"{where}: {type(exc).__name__}")
        else:
            if response.status_code < 400:
                return response
            if response.status_code not in RETRYABLE:
                raise ToolRejected(f"{where}: the tool answered {response.status_code}")
            error = ToolUnavailable(f"{where}: the tool answered {response.status_code}")
            wait = _retry_after(response)
        if attempt == retries:
            raise error
        delay = min(MAX_WAIT, wait if wait is not None else backoff * 2**attempt)
        if on_retry is not None:
            on_retry(f"{error}; retrying in {delay:.1f}s")
        sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover


def json_of(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError as exc:
        raise ToolRejected(
            f"{response.request.method} {response.request.url.path}: not JSON"
        ) from exc
