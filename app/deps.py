"""Dependencies handed to request handlers: settings, database session, live index."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker

from app.errors import ServiceUnavailable
from app.settings import Settings
from ingest.index_sync import LiveIndex
from routing.service import Router


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_session_factory(request: Request) -> sessionmaker[Session]:
    factory: sessionmaker[Session] = request.app.state.session_factory
    return factory


def get_session(request: Request) -> Iterator[Session]:
    with get_session_factory(request)() as session:
        yield session


def get_live_index(request: Request) -> LiveIndex:
    live: LiveIndex | None = getattr(request.app.state, "live_index", None)
    if live is None:
        raise ServiceUnavailable("The search index is not loaded yet.")
    return live


def get_router(request: Request) -> Router:
    router: Router | None = getattr(request.app.state, "router", None)
    if router is None:
        raise ServiceUnavailable("The team router is not loaded yet.")
    return router


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_session)]
SessionFactoryDep = Annotated[sessionmaker[Session], Depends(get_session_factory)]
LiveIndexDep = Annotated[LiveIndex, Depends(get_live_index)]
RouterDep = Annotated[Router, Depends(get_router)]
