"""`stellwerk connectors add|list|remove|test|import|poll|deliveries|retry|firm`: ticket tools."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from app.auth import CLI_PRINCIPAL
from app.cli.context import cli_context, fail_cleanly

connectors_cli = typer.Typer(
    help="Plug Stellwerk into Zammad, Znuny, Jira Service Management or GLPI.",
    no_args_is_help=True,
)
firm_cli = typer.Typer(help="Contractor firms' notification endpoints.", no_args_is_help=True)
connectors_cli.add_typer(firm_cli, name="firm")


@connectors_cli.command("add")
def add_command(
    tool: Annotated[str, typer.Argument(help="zammad, znuny, jira or glpi.")],
    name: Annotated[str, typer.Option(help="Connector name; also the source of its tickets.")],
    url: Annotated[str, typer.Option(help="Base URL of the tool (Znuny: the webservice).")],
    secret: Annotated[
        str | None, typer.Option(help="Webhook secret the tool signs with (required to accept).")
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(
            help="API token for write-backs and imports (Jira: email:token; Znuny: "
            "login:password; GLPI: user_token[:app_token])."
        ),
    ] = None,
    write_back: Annotated[bool, typer.Option(help="Write suggestions back as notes.")] = False,
    set_group: Annotated[
        bool, typer.Option(help="Set the group/queue when the router is confident.")
    ] = False,
    map_: Annotated[
        list[str] | None,
        typer.Option("--map", help="TOOL_GROUP=team; repeat for each group."),
    ] = None,
    poll_every: Annotated[
        float | None,
        typer.Option(help="GLPI 10 (no webhooks): the service polls its changes every N s."),
    ] = None,
) -> None:
    """Add a connector. Its secret and token are stored for use and never shown again."""
    from app.services.connector_poll import set_poll_interval
    from app.services.connectors import add_connector, parse_group_map

    def run() -> None:
        with cli_context() as ctx, ctx.factory() as session, session.begin():
            row = add_connector(
                session,
                principal=CLI_PRINCIPAL,
                name=name,
                tool=tool,
                url=url,
                secret=secret,
                token=token,
                write_back=write_back,
                set_group=set_group,
                group_map=parse_group_map(map_ or []),
            )
            if poll_every:
                set_poll_interval(session, principal=CLI_PRINCIPAL, name=name, seconds=poll_every)
            typer.echo(
                f"added connector {row.name} ({row.tool}): "
                f"POST /api/v1/connectors/{row.name}/webhook"
            )
            if not secret:
                typer.echo(
                    "warning: no --secret: its webhooks are refused until one is set", err=True
                )

    fail_cleanly(run)


@connectors_cli.command("list")
def list_command() -> None:
    """List connectors (never their secrets or tokens: only whether they are set)."""
    from app.services.connectors import connector_out, list_connectors

    with cli_context() as ctx, ctx.factory() as session:
        for row in list_connectors(session):
            out = connector_out(row)
            flags = [
                "secret" if out.has_secret else "no secret",
                "token" if out.has_token else "no token",
            ]
            flags += [
                flag
                for flag, on in (("write-back", out.write_back), ("set-group", out.set_group))
                if on
            ]
            mapping = ",".join(f"{g}={t}" for g, t in out.group_map.items()) or "-"
            typer.echo(f"{out.name}\t{out.tool}\t{out.url}\t{' '.join(flags)}\t{mapping}")


@connectors_cli.command("remove")
def remove_command(name: Annotated[str, typer.Argument(help="Connector name.")]) -> None:
    """Remove a connector; its stored tickets stay."""
    from app.services.connectors import remove_connector

    def run() -> None:
        with cli_context() as ctx, ctx.factory() as session, session.begin():
            remove_connector(session, principal=CLI_PRINCIPAL, name=name)
        typer.echo(f"removed connector {name}")

    fail_cleanly(run)


@connectors_cli.command("test")
def test_command(name: Annotated[str, typer.Argument(help="Connector name.")]) -> None:
    """Call the tool once with the stored token."""
    import httpx

    from app.services.connectors import get_connector, tool_settings
    from connectors.registry import connector_for

    def run() -> None:
        with cli_context() as ctx, ctx.factory() as session:
            row = get_connector(session, name)
            settings, tool = tool_settings(row), row.tool
            timeout = ctx.settings.connector_timeout_seconds
        with httpx.Client(timeout=timeout) as client:
            typer.echo(f"{name}: {connector_for(tool).check(client, settings)}")

    fail_cleanly(run)


@connectors_cli.command("import")
def import_command(
    name: Annotated[str, typer.Argument(help="Connector name.")],
    since: Annotated[
        datetime | None, typer.Option(help="Only tickets updated since (YYYY-MM-DD).")
    ] = None,
    restart: Annotated[bool, typer.Option(help="Ignore a saved cursor.")] = False,
) -> None:
    """Import the tool's closed tickets; an interrupted run resumes where it stopped."""
    import httpx
    from tqdm import tqdm

    from app.cli.context import command_embedder, retrain_after_ingest, save_snapshot
    from app.services.connector_import import import_history

    moment = since.replace(tzinfo=UTC) if since and since.tzinfo is None else since

    def run() -> None:
        with cli_context() as ctx:
            embedder = command_embedder(ctx)
            with (
                tqdm(unit="ticket", desc=f"import {name}") as bar,
                httpx.Client(timeout=ctx.settings.connector_timeout_seconds) as client,
            ):

                def progress(count: int, total: int | None) -> None:
                    bar.total = total
                    bar.update(count)

                summary = import_history(
                    ctx.factory,
                    embedder,
                    client,
                    name=name,
                    since=moment,
                    max_words=ctx.settings.chunk_max_words,
                    restart=restart,
                    progress=progress,
                    second=ctx.search_second(),
                )
            resumed = " (resumed)" if summary.resumed else ""
            typer.echo(
                f"imported {summary.tickets} closed tickets from {name} in {summary.pages} "
                f"pages{resumed}: {summary.added} added, {summary.updated} updated, "
                f"{summary.unchanged} unchanged"
            )
            if summary.added or summary.updated:
                save_snapshot(ctx, embedder)
                retrain_after_ingest(ctx, embedder)

    fail_cleanly(run)


@connectors_cli.command("poll")
def poll_command(
    name: Annotated[str, typer.Argument(help="Connector name (GLPI 10).")],
    once: Annotated[bool, typer.Option(help="One round now, then exit.")] = False,
    since: Annotated[
        datetime | None,
        typer.Option(help="Start from changes after this time (GLPI's clock), not the cursor."),
    ] = None,
    every: Annotated[
        float | None,
        typer.Option(help="Set the service's interval in seconds (0: off) and exit."),
    ] = None,
) -> None:
    """Take the tool's changed tickets like webhooks: once, or every --every seconds until
    interrupted (the service polls by itself when the connector has an interval)."""
    import time

    import httpx

    from app.cli.context import command_embedder, live_parts
    from app.services.connector_poll import poll_once, set_poll_interval

    def run() -> None:
        with cli_context() as ctx:
            if every is not None:
                with ctx.factory() as session, session.begin():
                    set_poll_interval(session, principal=CLI_PRINCIPAL, name=name, seconds=every)
                typer.echo(
                    f"{name}: polled by the service every {every:g} s"
                    if every
                    else f"{name}: not polled by the service"
                )
                return
            embedder = command_embedder(ctx)
            live, router = live_parts(ctx, embedder)
            with httpx.Client(timeout=ctx.settings.connector_timeout_seconds) as client:
                start_at = since
                while True:
                    summary = poll_once(
                        ctx.factory, live, router, ctx.settings, client, name=name, since=start_at
                    )
                    start_at = None  # --since applies to the first round only
                    typer.echo(_poll_line(name, summary))
                    if once:
                        return
                    time.sleep(max(1.0, _interval(ctx, name)))

    fail_cleanly(run)


def _interval(ctx: Any, name: str) -> float:
    from app.services.connector_poll import poll_interval

    with ctx.factory() as session:
        return poll_interval(session, name) or 60.0


def _poll_line(name: str, summary: Any) -> str:
    if summary.busy:
        return f"{name}: another process is polling it now"
    if summary.started:
        return f"{name}: polling starts at GLPI's newest change ({summary.cursor})"
    outcomes = ", ".join(f"{n} {s}" for s, n in sorted(summary.outcomes.items())) or "nothing new"
    return (
        f"{name}: {summary.changed} changed tickets in {summary.pages} pages: {outcomes}; "
        f"{summary.queued} queued; cursor {summary.cursor}"
    )


@connectors_cli.command("deliveries")
def deliveries_command(
    connector: Annotated[str | None, typer.Option(help="Only this connector's.")] = None,
    status: Annotated[
        str | None, typer.Option(help="pending, sending, delivered or failed.")
    ] = None,
    limit: Annotated[int, typer.Option(help="How many, newest first.")] = 50,
) -> None:
    """The delivery log: write-backs and notifications, their attempts and last error."""
    from app.services.outbox import list_deliveries

    with cli_context() as ctx, ctx.factory() as session:
        log = list_deliveries(session, connector=connector, status=status, limit=limit)
    for item in log.deliveries:
        error = f"\t{item.last_error}" if item.last_error else ""
        typer.echo(
            f"{item.id}\t{item.connector or '-'}\t{item.kind}\t{item.target}\t{item.status}\t"
            f"attempts {item.attempts}{error}"
        )
    counts = ", ".join(f"{n} {s}" for s, n in sorted(log.counts.items())) or "none"
    typer.echo(f"deliveries: {counts}", err=True)


@connectors_cli.command("retry")
def retry_command(
    delivery: Annotated[
        int | None, typer.Argument(help="Delivery id; all failed if omitted.")
    ] = None,
) -> None:
    """Queue failed deliveries again (after fixing a token or an endpoint)."""
    from app.services.outbox import retry_failed

    with cli_context() as ctx, ctx.factory() as session, session.begin():
        count = retry_failed(session, delivery)
    typer.echo(f"queued {count} deliveries again")


@firm_cli.command("add")
def firm_add_command(
    firm: Annotated[str, typer.Argument(help="Firm name, as in the team charters.")],
    url: Annotated[str, typer.Option(help="The firm's HTTPS endpoint.")],
    secret: Annotated[str, typer.Option(help="Shared secret for the HMAC-SHA256 signature.")],
) -> None:
    """Notify a contractor firm when a ticket is escalated to a team it works for."""
    from app.services.contractors import add_endpoint

    def run() -> None:
        with cli_context() as ctx, ctx.factory() as session, session.begin():
            add_endpoint(session, principal=CLI_PRINCIPAL, firm=firm, url=url, secret=secret)
        typer.echo(f"firm {firm} is notified at {url}")

    fail_cleanly(run)


@firm_cli.command("list")
def firm_list_command() -> None:
    """List firms' endpoints (never their secrets)."""
    from app.services.contractors import list_endpoints

    with cli_context() as ctx, ctx.factory() as session:
        for row in list_endpoints(session):
            typer.echo(f"{row.firm}\t{row.url}")


@firm_cli.command("remove")
def firm_remove_command(firm: Annotated[str, typer.Argument(help="Firm name.")]) -> None:
    from app.services.contractors import remove_endpoint

    def run() -> None:
        with cli_context() as ctx, ctx.factory() as session, session.begin():
            remove_endpoint(session, principal=CLI_PRINCIPAL, firm=firm)
        typer.echo(f"removed firm {firm}")

    fail_cleanly(run)
