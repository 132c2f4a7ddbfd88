"""`stellwerk serve`: run the HTTP service."""

from __future__ import annotations

from typing import Annotated

import typer

from app.logs import configure_logging
from app.settings import Settings


def serve_command(
    host: Annotated[str | None, typer.Option(help="Bind address (default from settings).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default from settings).")] = None,
) -> None:
    """Run the HTTP service."""
    import uvicorn

    from app.main import create_app

    settings = Settings()
    configure_logging(level=settings.log_level, log_format=settings.log_format)
    uvicorn.run(
        create_app(settings),
        host=host or settings.host,
        port=port or settings.port,
        log_level=settings.log_level,
        log_config=None,  # uvicorn's loggers go to ours (app.logs): one format, request ids
    )
