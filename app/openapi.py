"""The OpenAPI document as the service really answers: every error status in the one shape.

FastAPI declares only 200 and a 422 in its own `detail` shape. Here every operation gets the
statuses it can actually return, read off its own declaration (whether it needs a key, takes
a body or parameters, writes), each with the one error body and the headers that come with
it; limits that settings decide (the largest `k`) are written in as enforced.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from app.schemas.errors import ErrorResponse
from app.settings import Settings

_REASONS = {
    400: "The body is not JSON.",
    401: "No key, or an unknown or revoked one.",
    403: "The key's role may not do this.",
    404: "Not found, or not visible to this key (both look the same).",
    409: "Conflicts with the current state (exists already, wrong lifecycle step).",
    413: "The request body is larger than the service accepts.",
    422: "The input is invalid; `details` names each field.",
    429: "Too many requests or failed authentications; see Retry-After.",
    503: "Starting up, or this key's requests are all running; see Retry-After.",
}
_RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "schema": {"type": "integer"},
    }
}
_HEADERS = {
    401: {
        "WWW-Authenticate": {"description": "`Bearer`.", "schema": {"type": "string"}},
    },
    429: _RETRY_AFTER,
    503: _RETRY_AFTER,
}
# POST routes that only read: they never conflict with anything stored.
READ_ONLY_POSTS = frozenset({"/search", "/suggest"})
_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def error_statuses(path: str, method: str, operation: dict[str, Any]) -> set[int]:
    """The error statuses one operation can answer with, read off its declaration: a key
    (`security`: 401, 403, the limits' 429 and 503), a body (400, 413, 422), parameters (422),
    a path naming something (404), and a write (404, 409)."""
    statuses: set[int] = set()
    if operation.get("security"):
        statuses |= {401, 403, 429, 503}
    if "requestBody" in operation:
        statuses |= {400, 413, 422}
    parameters = operation.get("parameters", [])
    if parameters:
        statuses.add(422)
    if any(parameter.get("in") == "path" for parameter in parameters):
        statuses.add(404)
    if method.upper() in _WRITES and path not in READ_ONLY_POSTS:
        statuses |= {404, 409}
    return statuses


def _error_response(status: int, description: str | None = None) -> dict[str, Any]:
    """A route's own description of an error (e.g. a webhook's 401) wins over the default."""
    response: dict[str, Any] = {
        "description": description or _REASONS.get(status, "An error, in the one shape."),
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    if status in _HEADERS:
        response["headers"] = _HEADERS[status]
    return response


def build_openapi(app: FastAPI, settings: Settings, prefix: str) -> dict[str, Any]:
    schema = get_openapi(
        title=app.title, version=app.version, summary=app.summary, routes=app.routes
    )
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    error_schema = ErrorResponse.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(error_schema.pop("$defs", {}))
    components["Error"] = error_schema
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            declared = {int(code) for code in responses if code.isdigit() and int(code) >= 400}
            statuses = error_statuses(path.removeprefix(prefix), method, operation) | declared
            for status in sorted(statuses):
                description = responses.get(str(status), {}).get("description")
                responses[str(status)] = _error_response(status, description)
    search = components.get("SearchRequest", {}).get("properties", {})
    if "k" in search:
        search["k"]["maximum"] = settings.search_max_k
    return schema


def install_openapi(app: FastAPI, settings: Settings, prefix: str) -> None:
    """Serve `build_openapi` at /openapi.json (built once, on first request)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build_openapi(app, settings, prefix)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def allowed_methods(app: FastAPI, path: str) -> list[str]:
    """The methods the document declares for a path (with HEAD beside GET), for `Allow`."""
    methods: set[str] = set()
    for template, operations in app.openapi().get("paths", {}).items():
        pattern = re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template))
        if re.fullmatch(pattern, path):
            methods |= {method.upper() for method in operations}
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods)
