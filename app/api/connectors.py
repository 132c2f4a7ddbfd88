"""Ticket-tool connectors: the webhook each tool calls (authenticated by the tool's own
mechanism, no API key), GLPI's challenge, and for admins the connectors and delivery log."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from starlette.concurrency import run_in_threadpool

from app.auth import PrincipalDep, count_failure, current_principal, refuse_if_failing
from app.deps import SessionDep, StateDep
from app.errors import NotFound
from app.schemas.connectors import ConnectorOut, DeliveryList, WebhookAnswer
from app.services.connectors import connector_out, get_connector, list_connectors
from app.services.outbox import list_deliveries
from app.services.webhooks import accept_webhook
from connectors.base import lower_keys
from connectors.errors import SignatureInvalid
from connectors.glpi import challenge_answer
from connectors.signatures import require_secret

router = APIRouter(tags=["connectors"])


@router.post(
    "/connectors/{name}/webhook",
    response_model=WebhookAnswer,
    summary="A ticket tool's webhook (Zammad, Jira, Znuny, GLPI), signed by the tool",
    responses={
        202: {
            "model": WebhookAnswer,
            "description": "Verified and queued: the suggestion missed the webhook deadline "
            "and completes in the background (status `queued`).",
        },
        401: {"description": "Signature, token or timestamp wrong or missing."},
        429: {"description": "Too many failed signatures from this address; see Retry-After."},
    },
)
async def webhook(name: str, request: Request, state: StateDep) -> JSONResponse:
    runtime = state.ready()
    address = request.client.host if request.client else "unknown"
    body = await request.body()
    try:
        accepted = await run_in_threadpool(
            accept_webhook,
            runtime.session_factory,
            name=name,
            headers=lower_keys(dict(request.headers)),
            query=dict(request.query_params),
            body=body,
            now=time.time(),
        )
    except SignatureInvalid:
        # Like a wrong key: counted by address, 429 once its budget is spent. A right
        # signature always passes, so a flood from the tool's own address never locks it out.
        refuse_if_failing(state, address)
        count_failure(state, address, "webhook_signature")
        raise
    result = await run_in_threadpool(runtime.webhooks.take, accepted)
    if runtime.deliveries is not None and result.answer.queued:
        runtime.deliveries.wake()
    content: dict[str, Any] = result.answer.model_dump()
    if result.inline is not None:
        content.update(result.inline)  # Znuny applies OTRS_* elements of the answer
    return JSONResponse(content, status_code=202 if result.answer.status == "queued" else 200)


@router.get(
    "/connectors/{name}/webhook",
    response_class=PlainTextResponse,
    summary="GLPI's challenge-response check: the HMAC-SHA256 of crc_token",
)
def challenge(
    name: str, session: SessionDep, crc_token: Annotated[str, Query(max_length=200)]
) -> PlainTextResponse:
    row = get_connector(session, name)
    if row.tool != "glpi":
        raise NotFound("Only GLPI connectors answer a challenge.")
    return PlainTextResponse(challenge_answer(require_secret(row.secret), crc_token))


@router.get(
    "/connectors",
    response_model=list[ConnectorOut],
    dependencies=[Depends(current_principal)],
    summary="Configured connectors, without their secrets (admins)",
)
def connectors(session: SessionDep, principal: PrincipalDep) -> list[ConnectorOut]:
    principal.require("admin")
    return [connector_out(row) for row in list_connectors(session)]


@router.get(
    "/connectors/deliveries",
    response_model=DeliveryList,
    dependencies=[Depends(current_principal)],
    summary="The delivery log: write-backs and notifications with their state (admins)",
)
def deliveries(
    session: SessionDep,
    principal: PrincipalDep,
    connector: Annotated[str | None, Query(max_length=64)] = None,
    status: Annotated[str | None, Query(pattern="^(pending|sending|delivered|failed)$")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> DeliveryList:
    principal.require("admin")
    return list_deliveries(session, connector=connector, status=status, limit=limit, offset=offset)
