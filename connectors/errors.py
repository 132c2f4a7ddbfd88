"""Errors of the connectors; they know no HTTP: the app maps them to the one error shape."""

from __future__ import annotations


class ConnectorError(Exception):
    """Base class of connector failures."""

    code = "connector_error"


class SignatureInvalid(ConnectorError):
    """A webhook whose signature, token or timestamp does not check out."""

    code = "signature_invalid"


class PayloadInvalid(ConnectorError):
    """A verified webhook whose body is not what the tool documents."""

    code = "connector_payload_invalid"


class UnknownTool(ConnectorError):
    code = "unknown_tool"


class ToolUnavailable(ConnectorError):
    """The tool did not answer, or answered 429 or 5xx: worth another attempt later."""

    code = "tool_unavailable"


class ToolRejected(ConnectorError):
    """The tool refused the call (4xx other than 429): another attempt would fail alike."""

    code = "tool_rejected"


class NotSupported(ConnectorError):
    """The tool offers no way to do this (Jira has no group to set)."""

    code = "connector_not_supported"
