"""One error shape for every failure, and the handlers that produce it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from app.openapi import allowed_methods
from app.request_id import HEADER as REQUEST_ID_HEADER
from app.request_id import current_request_id
from connectors.errors import (
    ConnectorError,
    NotSupported,
    PayloadInvalid,
    SignatureInvalid,
    ToolRejected,
    ToolUnavailable,
    UnknownTool,
)
from index.errors import IndexError_
from ingest.errors import IngestError
from routing.errors import DatasetError, RoutingError, RoutingModelMismatch, TrainingRejected

log = logging.getLogger("stellwerk.errors")


class StellwerkError(Exception):
    """Base of the errors the API reports; subclasses fix `status` and `code`."""

    status: int = 400
    code: str = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        details: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []
        self.headers = headers or {}


class Unauthorized(StellwerkError):
    status = 401
    code = "unauthorized"


class Forbidden(StellwerkError):
    status = 403
    code = "forbidden"


class TooManyRequests(StellwerkError):
    status = 429
    code = "too_many_requests"


class NotFound(StellwerkError):
    status = 404
    code = "not_found"


class ArticleNotFound(NotFound):
    code = "article_not_found"


class TicketNotFound(NotFound):
    code = "ticket_not_found"


class Conflict(StellwerkError):
    status = 409
    code = "conflict"


class VersionNotFound(NotFound):
    code = "version_not_found"


class TaskNotFound(NotFound):
    code = "task_not_found"


class KeyNotFound(NotFound):
    code = "key_not_found"


class ConnectorNotFound(NotFound):
    code = "connector_not_found"


class GapNotFound(NotFound):
    code = "gap_not_found"


class InvalidInput(StellwerkError):
    status = 422
    code = "invalid_input"


class PayloadTooLarge(StellwerkError):
    status = 413
    code = "payload_too_large"


class ServiceUnavailable(StellwerkError):
    status = 503
    code = "not_ready"


class Overloaded(StellwerkError):
    status = 503
    code = "overloaded"


def error_body(
    status: int, code: str, message: str, details: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "status": status, "details": details or []}}


def error_response(
    status: int, code: str, message: str, details: list[dict[str, Any]] | None = None
) -> JSONResponse:
    return JSONResponse(error_body(status, code, message, details), status_code=status)


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "too_many_requests",
}


# The packages below the app raise their own errors and know no HTTP; this is what each
# means to a client. The first matching class wins, so subclasses come before their base.
PACKAGE_ERROR_STATUS: tuple[tuple[type[Exception], int], ...] = (
    (IngestError, 422),
    (IndexError_, 503),
    (RoutingModelMismatch, 409),
    (TrainingRejected, 422),
    (DatasetError, 422),
    (RoutingError, 500),
    # A webhook that fails its tool's own authentication: 401, and nothing is stored.
    (SignatureInvalid, 401),
    (PayloadInvalid, 422),
    (UnknownTool, 422),
    (NotSupported, 422),
    (ToolUnavailable, 502),
    (ToolRejected, 502),
    (ConnectorError, 500),
)
PACKAGE_ERRORS = (IngestError, IndexError_, RoutingError, ConnectorError)


def package_error_status(exc: Exception) -> int:
    """The HTTP status of a package's own error."""
    for kind, status in PACKAGE_ERROR_STATUS:
        if isinstance(exc, kind):
            return status
    return 500


def _validation_details(exc: RequestValidationError) -> list[dict[str, Any]]:
    details = []
    for problem in exc.errors():
        location = [str(part) for part in problem.get("loc", ()) if part != "body"]
        details.append(
            {
                "field": ".".join(location) or "body",
                "message": str(problem.get("msg", "invalid")),
                "type": str(problem.get("type", "invalid")),
            }
        )
    return details


# The web pages render an error as an HTML page (same status); None means "not a page".
PageErrors = Callable[[Request, Exception, int, str, str], Response | None]


def install_error_handlers(app: FastAPI, pages: PageErrors | None = None) -> None:
    """Translate every exception into the one error shape (an HTML page for page routes)."""

    def respond(
        request: Request,
        exc: Exception,
        status: int,
        code: str,
        message: str,
        details: list[dict[str, Any]] | None = None,
    ) -> Response:
        page = pages(request, exc, status, code, message) if pages else None
        return page if page is not None else error_response(status, code, message, details)

    @app.exception_handler(StellwerkError)
    async def _stellwerk(request: Request, exc: StellwerkError) -> Response:
        response = respond(request, exc, exc.status, exc.code, exc.message, exc.details)
        response.headers.update(exc.headers)
        return response

    async def _package(request: Request, exc: Exception) -> Response:
        details = exc.details if isinstance(exc, IngestError) else []
        code = getattr(exc, "code", "internal_error")
        return respond(request, exc, package_error_status(exc), code, str(exc), details)

    for base in PACKAGE_ERRORS:
        app.add_exception_handler(base, _package)

    @app.exception_handler(PoolTimeout)
    async def _pool_timeout(request: Request, exc: PoolTimeout) -> Response:
        # Every database connection is busy: a load peak, not a fault; ask to come back.
        log.warning("no free database connection for %s %s", request.method, request.url.path)
        response = respond(
            request, exc, 503, "overloaded", "The service is busy; try again shortly."
        )
        response.headers["Retry-After"] = "5"
        return response

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        details = _validation_details(exc)
        fields = ", ".join(d["field"] for d in details)
        return respond(request, exc, 422, "validation_failed", f"Invalid input: {fields}", details)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        response = respond(request, exc, exc.status_code, code, str(exc.detail))
        response.headers.update(exc.headers or {})
        allowed = allowed_methods(request.app, request.url.path) if exc.status_code == 405 else []
        if allowed:  # every method the document declares for the path, not one route's
            response.headers["Allow"] = ", ".join(allowed)
        return response

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        response = respond(request, exc, 500, "internal_error", "Internal server error.")
        request_id = current_request_id()  # answered outside app.request_id's middleware
        if request_id is not None:
            response.headers[REQUEST_ID_HEADER] = request_id
        return response
