"""Fixtures as the tools document them, signed as the tools sign, and connectors to post to."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import time
import uuid
from typing import Any

from fastapi.testclient import TestClient

from app.auth import CLI_PRINCIPAL
from app.services.connectors import add_connector
from tests.auth_helpers import factory_of
from tests.paths import REPO_ROOT

FIXTURES = REPO_ROOT / "tests" / "fixtures" / "connectors"
SECRET = "s3cret-shared-with-the-tool"
TOKEN = "tool-token"


def payload(name: str, **changes: Any) -> dict[str, Any]:
    """A fixture's payload (each file names its source document in `source`)."""
    document = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    assert document["source"]
    data: dict[str, Any] = copy.deepcopy(document["payload"])
    return data


def add(
    client: TestClient,
    tool: str,
    name: str,
    *,
    url: str = "http://127.0.0.1:9",
    secret: str | None = SECRET,
    token: str | None = TOKEN,
    write_back: bool = True,
    set_group: bool = False,
    group_map: dict[str, str] | None = None,
) -> None:
    with factory_of(client)() as session, session.begin():
        add_connector(
            session,
            principal=CLI_PRINCIPAL,
            name=name,
            tool=tool,
            url=url,
            secret=secret,
            token=token,
            write_back=write_back,
            set_group=set_group,
            group_map=group_map or {},
        )


def signed_headers(
    tool: str,
    body: bytes,
    *,
    secret: str = SECRET,
    delivery: str | None = None,
    timestamp: int | None = None,
) -> dict[str, str]:
    """The headers each tool sends: its signature and delivery id."""
    delivery = delivery or uuid.uuid4().hex
    if tool == "zammad":
        digest = hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()
        return {
            "X-Hub-Signature": f"sha1={digest}",
            "X-Zammad-Delivery": delivery,
            "X-Zammad-Trigger": "Stellwerk",
        }
    if tool == "jira":
        digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        return {"X-Hub-Signature": f"sha256={digest}", "X-Atlassian-Webhook-Identifier": delivery}
    if tool == "glpi":
        stamp = str(timestamp if timestamp is not None else int(time.time()))
        digest = hmac.new(secret.encode(), body + stamp.encode(), hashlib.sha256).hexdigest()
        return {"X-GLPI-signature": digest, "X-GLPI-timestamp": stamp}
    if tool == "znuny":
        return {"X-Stellwerk-Token": secret}
    raise AssertionError(tool)


def post(
    client: TestClient,
    tool: str,
    name: str,
    data: dict[str, Any],
    *,
    headers: dict[str, str] | None = None,
    **signing: Any,
) -> Any:
    body = json.dumps(data).encode()
    sent = headers if headers is not None else signed_headers(tool, body, **signing)
    return client.post(
        f"/api/v1/connectors/{name}/webhook",
        content=body,
        headers={"Content-Type": "application/json", "Authorization": "", **sent},
    )
