"""Jira Service Management: issue webhooks (X-Hub-Signature sha256), private request
comments, and the closed issues through /rest/api/3/search/jql with nextPageToken.

Webhooks: https://developer.atlassian.com/cloud/jira/platform/webhooks/
Comments: https://developer.atlassian.com/cloud/jira/service-desk/rest/api-group-request/
Search: https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-search/
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

import httpx

from connectors.adf import adf_text
from connectors.base import (
    MARKER_PREFIX,
    ExportPage,
    Headers,
    Inbound,
    InboundTicket,
    Note,
    ToolSettings,
    json_body,
    parse_time,
    string,
)
from connectors.errors import NotSupported, PayloadInvalid, SignatureInvalid
from connectors.http import json_of, send
from connectors.signatures import check_prefixed

ISSUE_EVENTS = frozenset({"jira:issue_created", "jira:issue_updated"})
FIELDS = "summary,description,status,resolution,resolutiondate,created,updated,components,comment"
PAGE_SIZE = 50


def _closing_comment(fields: dict[str, Any], comment: Any) -> str:
    """The comment that came with the update, else the newest that is not Stellwerk's."""
    if isinstance(comment, dict) and comment.get("body"):
        return adf_text(comment["body"])
    comments = (fields.get("comment") or {}).get("comments") or []
    for item in reversed(comments):
        text = adf_text(item.get("body")) if isinstance(item, dict) else ""
        if text and MARKER_PREFIX not in text:
            return text
    return ""


def issue_ticket(issue: dict[str, Any], comment: Any = None) -> InboundTicket:
    key = string(issue.get("key"))
    fields = issue.get("fields")
    if not key or not isinstance(fields, dict):
        raise PayloadInvalid("A Jira issue needs `key` and `fields`.")
    status = fields.get("status") or {}
    category = string((status.get("statusCategory") or {}).get("key"))
    resolution = fields.get("resolution")
    closed = category == "done" or bool(resolution)
    text = _closing_comment(fields, comment) if closed else ""
    if closed and not text and isinstance(resolution, dict):
        text = string(resolution.get("name"))
    components = fields.get("components") or []
    group = string(components[0].get("name")) if components else None
    return InboundTicket(
        key=key,
        number=key,
        title=string(fields.get("summary")),
        description=adf_text(fields.get("description")),
        resolution=text,
        group=group or None,
        closed=closed,
        created_at=parse_time(fields.get("created")),
        updated_at=parse_time(fields.get("updated")),
        resolved_at=parse_time(fields.get("resolutiondate")),
    )


class JiraConnector:
    tool = "jira"
    answers_inline = False
    supports_set_group = False

    def verify(
        self, settings: ToolSettings, headers: Headers, query: Headers, body: bytes, *, now: float
    ) -> None:
        check_prefixed(headers.get("x-hub-signature"), settings.secret, body, "sha256")

    def parse(self, headers: Headers, query: Headers, body: bytes) -> Inbound:
        delivery = headers.get("x-atlassian-webhook-identifier")
        if not delivery:
            raise SignatureInvalid("A Jira webhook carries X-Atlassian-Webhook-Identifier.")
        data = json_body(body)
        event = string(data.get("webhookEvent"))
        issue = data.get("issue")
        if event not in ISSUE_EVENTS or not isinstance(issue, dict):
            return Inbound(delivery, event or "unknown", None)
        comment = data.get("comment")
        if isinstance(comment, dict) and MARKER_PREFIX in adf_text(comment.get("body")):
            return Inbound(delivery, "own-comment", None)  # Stellwerk's own comment
        ticket = issue_ticket(issue, comment)
        # The event's own time orders deliveries when `updated` is missing.
        if ticket.updated_at is None and data.get("timestamp") is not None:
            from dataclasses import replace

            ticket = replace(ticket, updated_at=parse_time(data.get("timestamp")))
        return Inbound(delivery, event, ticket)

    def _auth(self, settings: ToolSettings) -> dict[str, str]:
        """`email:api-token` is Basic (Cloud); anything else a personal access token."""
        token = settings.token or ""
        if ":" in token:
            return {"Authorization": "Basic " + base64.b64encode(token.encode()).decode()}
        return {"Authorization": f"Bearer {token}"}

    def add_note(
        self, client: httpx.Client, settings: ToolSettings, ticket_key: str, note: Note
    ) -> None:
        send(
            client,
            "POST",
            f"{settings.base}/rest/servicedeskapi/request/{ticket_key}/comment",
            json={"body": f"{note.text}\n\n{note.marker}", "public": False},
            headers=self._auth(settings),
        )

    def has_note(
        self, client: httpx.Client, settings: ToolSettings, ticket_key: str, marker: str
    ) -> bool:
        found = json_of(
            send(
                client,
                "GET",
                f"{settings.base}/rest/servicedeskapi/request/{ticket_key}/comment",
                params={"public": "false", "internal": "true", "limit": 100},
                headers=self._auth(settings),
            )
        )
        values = found.get("values") if isinstance(found, dict) else None
        return any(marker in string(v.get("body")) for v in values or [] if isinstance(v, dict))

    def set_group(
        self, client: httpx.Client, settings: ToolSettings, ticket_key: str, group: str
    ) -> None:
        raise NotSupported("Jira has no group to set; route with a Jira automation rule.")

    def inline_answer(self, note: Note | None, group: str | None) -> dict[str, Any]:
        raise NotSupported("Jira takes comments through its REST API, not the answer.")

    def export(
        self,
        client: httpx.Client,
        settings: ToolSettings,
        *,
        since: datetime | None,
        cursor: dict[str, Any] | None,
    ) -> ExportPage:
        jql = "statusCategory = Done"
        if since is not None:
            jql += f' AND updated >= "{since:%Y-%m-%d}"'
        params: dict[str, Any] = {
            "jql": jql + " ORDER BY updated ASC",
            "fields": FIELDS,
            "maxResults": PAGE_SIZE,
        }
        if cursor and cursor.get("nextPageToken"):
            params["nextPageToken"] = cursor["nextPageToken"]
        found = json_of(
            send(
                client,
                "GET",
                f"{settings.base}/rest/api/3/search/jql",
                params=params,
                headers=self._auth(settings),
                retries=5,
            )
        )
        issues = found.get("issues") if isinstance(found, dict) else None
        if not isinstance(issues, list):
            raise PayloadInvalid("Jira's search answers `issues`.")
        token = found.get("nextPageToken")
        last = bool(found.get("isLast")) or not token
        return ExportPage(
            [issue_ticket(issue) for issue in issues], None if last else {"nextPageToken": token}
        )

    def check(self, client: httpx.Client, settings: ToolSettings) -> str:
        me = json_of(
            send(client, "GET", f"{settings.base}/rest/api/3/myself", headers=self._auth(settings))
        )
        return f"Jira answered as {string(me.get('displayName')) or 'an unnamed user'}"

    def ticket_url(self, settings: ToolSettings, ticket_key: str) -> str:
        return f"{settings.base}/browse/{ticket_key}"
