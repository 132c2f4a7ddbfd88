"""Dependencies handed to request handlers: settings, database session, index, router,
and for the web pages the principal behind the session cookie."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker

from app.auth import Principal, PrincipalDep
from app.errors import Overloaded, TooManyRequests
from app.settings import Settings
from app.state import AppState, app_state
from app.web.signin import page_principal
from ingest.live_index import LiveIndex
from routing.service import Router


def get_state(request: Request) -> AppState:
    return app_state(request.app)


StateDep = Annotated[AppState, Depends(get_state)]


def get_settings(state: StateDep) -> Settings:
    return state.settings


def get_session_factory(state: StateDep) -> sessionmaker[Session]:
    return state.ready().session_factory


def get_session(
    factory: Annotated[sessionmaker[Session], Depends(get_session_factory)],
) -> Iterator[Session]:
    with factory() as session:
        yield session


def get_live_index(state: StateDep) -> LiveIndex:
    return state.ready().live_index


def get_router(state: StateDep) -> Router:
    return state.ready().router


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_session)]
SessionFactoryDep = Annotated[sessionmaker[Session], Depends(get_session_factory)]
LiveIndexDep = Annotated[LiveIndex, Depends(get_live_index)]
RouterDep = Annotated[Router, Depends(get_router)]


@asynccontextmanager
async def _turn(state: AppState, principal: Principal) -> AsyncIterator[None]:
    """A turn of the principal's key, counting the limits' refusals (not the handler's)."""
    key = f"key:{principal.key_id}" if principal.key_id is not None else principal.name
    granted = False
    try:
        async with state.ready().key_limits.turn(key):
            granted = True
            yield
    except (TooManyRequests, Overloaded) as exc:
        if not granted:
            limit = "key_rate" if isinstance(exc, TooManyRequests) else "key_queue"
            state.metrics.limit_rejections.labels(limit).inc()
        raise


async def key_turn(state: StateDep, principal: PrincipalDep) -> AsyncIterator[None]:
    """The caller's key's rate and concurrency limit (app.key_limits) around a request."""
    async with _turn(state, principal):
        yield


# On the expensive routes (search, suggest): `dependencies=[KeyTurn]`.
KeyTurn = Depends(key_turn)


# Pages: the person signed in by session cookie (the API stays Bearer-only: app.auth).
PagePrincipalDep = Annotated[Principal, Depends(page_principal)]


async def page_key_turn(state: StateDep, principal: PagePrincipalDep) -> AsyncIterator[None]:
    """The same per-key limits for the pages' search and suggestion (the person's key)."""
    async with _turn(state, principal):
        yield


# On the pages that search or suggest: `dependencies=[PageKeyTurn]`.
PageKeyTurn = Depends(page_key_turn)
