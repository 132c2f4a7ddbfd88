"""Wire the pages into an app: environment, error pages, headers, static files, views."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from app.settings import Settings
from app.web.environment import STATIC_DIR, build_web
from app.web.headers import SecurityHeaders
from app.web.views import (
    actions,
    articles,
    console,
    dashboard,
    digests,
    editor,
    handovers,
    search,
    signin,
    workspace,
)


def install_web(app: FastAPI, settings: Settings) -> None:
    """Called by create_app: everything here is light (templates load on first use)."""
    app.state.stellwerk_web = build_web(settings)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    # The editor before the articles: /articles/new is not an article's slug.
    pages = (signin, console, actions, search, editor, articles, workspace, dashboard)
    for module in (*pages, handovers, digests):
        app.include_router(module.router)
    app.add_middleware(SecurityHeaders)
