"""`stellwerk keys create|list|revoke`: API keys, shown once and stored only as a digest."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from sqlalchemy.orm import Session

from app.auth import CLI_PRINCIPAL
from app.cli.context import cli_context, fail_cleanly

keys_cli = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)


@contextmanager
def _transaction() -> Iterator[Session]:
    with cli_context() as ctx, ctx.factory() as session, session.begin():
        yield session


@keys_cli.command("create")
def create_command(
    role: Annotated[str, typer.Option(help="agent, specialist, contractor, integration or admin.")],
    name: Annotated[str, typer.Option(help="Unique name of the key's holder or tool.")],
    team: Annotated[
        list[str] | None, typer.Option(help="Team of a specialist; repeat for several.")
    ] = None,
    company: Annotated[str | None, typer.Option(help="Partner company of a contractor.")] = None,
) -> None:
    """Create a key and print it alone on stdout; it cannot be shown again."""
    from app.services.keys import create_key

    def run() -> str:
        with _transaction() as session:
            key, token = create_key(
                session,
                actor=CLI_PRINCIPAL,
                name=name,
                role=role,
                teams=list(team or []),
                company=company,
            )
            typer.echo(f"created key {key.id} ({key.name}, {key.role})", err=True)
        return token

    typer.echo(fail_cleanly(run))


@keys_cli.command("list")
def list_command() -> None:
    """List keys (never the keys themselves: only their public prefix)."""
    from app.services.keys import key_out, list_keys

    with _transaction() as session:
        for row in list_keys(session):
            key = key_out(row)
            scope = ",".join(key.teams) or key.company or "-"
            state = f"revoked {key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "active"
            used = f"{key.last_used_at:%Y-%m-%d %H:%M}" if key.last_used_at else "never"
            typer.echo(
                f"{key.id}\t{key.name}\t{key.role}\t{scope}\t{key.prefix}…\t{state}\tused {used}"
            )


@keys_cli.command("revoke")
def revoke_command(
    key: Annotated[str, typer.Argument(help="Id or name of the key.")],
) -> None:
    """Revoke a key; it stops working with the next request."""
    from app.services.keys import revoke_key

    def run() -> None:
        with _transaction() as session:
            row = revoke_key(session, actor=CLI_PRINCIPAL, id_or_name=key)
            typer.echo(f"revoked key {row.id} ({row.name})")

    fail_cleanly(run)


def issue_demo_keys(session: Session) -> dict[str, str]:
    """Fresh demo keys (an admin and an agent); old demo keys are replaced."""
    from sqlalchemy import delete

    from app.services.keys import create_key
    from db.models import ApiKey

    issued: dict[str, str] = {}
    for role in ("admin", "agent"):
        name = f"demo-{role}"
        session.execute(delete(ApiKey).where(ApiKey.name == name))
        _, token = create_key(
            session, actor=CLI_PRINCIPAL, name=name, role=role, teams=[], company=None
        )
        issued[name] = token
    return issued
