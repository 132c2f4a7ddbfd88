"""The `stellwerk` command line: serve, ingest, index and database maintenance."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from sqlalchemy import func, select

from app.cli_keys import issue_demo_keys, keys_cli
from app.cli_routing import eval_routing, routing_cli
from app.cli_support import Context, cli_context, fail_cleanly, load_cli_embedder, train_router
from app.settings import Settings
from db.models import Article, Passage, Ticket
from db.session import migrate
from index.embedder import Embedder
from index.snapshot import current_snapshot_dir, read_manifest
from ingest.errors import IngestError

if TYPE_CHECKING:
    from ingest.pipeline import IngestReport

cli = typer.Typer(
    help="Stellwerk: knowledge and routing for IT second-level support.",
    no_args_is_help=True,
    add_completion=False,
)
ingest_cli = typer.Typer(help="Ingest articles and resolved tickets.", no_args_is_help=True)
index_cli = typer.Typer(help="Inspect and rebuild the search index.", no_args_is_help=True)
db_cli = typer.Typer(help="Database maintenance.", no_args_is_help=True)
eval_cli = typer.Typer(help="Measure retrieval and routing quality.", no_args_is_help=True)
cli.add_typer(ingest_cli, name="ingest")
cli.add_typer(index_cli, name="index")
cli.add_typer(db_cli, name="db")
cli.add_typer(eval_cli, name="eval")
cli.add_typer(keys_cli, name="keys")
cli.add_typer(routing_cli, name="routing")
eval_cli.command("routing")(eval_routing)


def _embedder(ctx: Context, *, check_model: bool = True) -> Embedder:
    from ingest.index_sync import ensure_same_model

    embedder = load_cli_embedder(ctx.settings)
    if check_model:
        with ctx.factory() as session:
            ensure_same_model(session, embedder.model_id)
    return embedder


def _save_snapshot(ctx: Context, embedder: Embedder, *, rebuild: bool = False) -> None:
    from ingest.index_sync import refresh_snapshot

    manifest = refresh_snapshot(
        ctx.factory,
        index_dir=ctx.settings.index_dir,
        dim=embedder.dim,
        model_id=embedder.model_id,
        exact_max=ctx.settings.index_exact_max_vectors,
        keep=ctx.settings.snapshots_kept,
        rebuild=rebuild,
    )
    typer.echo(
        f"index snapshot: {manifest.count} passages, {manifest.index_kind}, "
        f"model {manifest.model_id}",
        err=True,
    )


def _train_router(ctx: Context, embedder: Embedder) -> None:
    """Retrain the team router after an ingest; a failed training keeps the old model."""
    status = train_router(ctx, embedder)
    if status.last_outcome == "trained":
        typer.echo(f"routing: {status.last_reason}", err=True)
    else:
        typer.echo(f"warning: routing not retrained: {status.last_reason}", err=True)


def _audit_ingest(ctx: Context, action: str, target: str, report: IngestReport) -> None:
    """One audit entry per ingest run (a ticket export can hold many thousands of rows)."""
    from app.auth import CLI_PRINCIPAL
    from app.services.audit import record

    if not (report.added or report.updated or report.deleted):
        return
    with ctx.factory() as session, session.begin():
        record(
            session,
            CLI_PRINCIPAL,
            action,
            target,
            added=report.added,
            updated=report.updated,
            deleted=report.deleted,
            documents=report.slugs[:200],
        )


def _ingest_articles(ctx: Context, embedder: Embedder, directory: Path, keep: bool) -> None:
    from ingest.pipeline import ingest_articles

    report = ingest_articles(
        ctx.factory,
        embedder,
        directory,
        max_words=ctx.settings.chunk_max_words,
        delete_missing=not keep,
        show_progress=sys.stderr.isatty(),
        group_passages=ctx.settings.ingest_batch_passages,
    )
    _audit_ingest(ctx, "ingest.articles", str(directory), report)
    typer.echo(report.summary("articles"))


def _ingest_tickets(
    ctx: Context, embedder: Embedder, path: Path, mapping: str | None, source: str | None
) -> None:
    from ingest.pipeline import ingest_tickets
    from ingest.tickets import parse_mapping, read_tickets

    columns = parse_mapping(mapping)
    # Validate the whole file before writing anything: bad input loses nothing.
    tickets = list(read_tickets(path, mapping=columns, default_source=source))
    report = ingest_tickets(
        ctx.factory,
        embedder,
        tickets,
        max_words=ctx.settings.chunk_max_words,
        show_progress=sys.stderr.isatty(),
        total=len(tickets),
        group_passages=ctx.settings.ingest_batch_passages,
    )
    _audit_ingest(ctx, "ingest.tickets", str(path), report)
    typer.echo(report.summary("tickets"))


@ingest_cli.command("articles")
def ingest_articles_command(
    directory: Annotated[Path, typer.Argument(help="Folder of markdown articles.")],
    keep_missing: Annotated[
        bool, typer.Option(help="Keep articles whose file is no longer in the folder.")
    ] = False,
    train: Annotated[bool, typer.Option(help="Retrain the team router afterwards.")] = True,
) -> None:
    """Ingest a folder of markdown articles incrementally."""

    def run() -> None:
        with cli_context() as ctx:
            embedder = _embedder(ctx)
            _ingest_articles(ctx, embedder, directory, keep_missing)
            _save_snapshot(ctx, embedder)
            if train:
                _train_router(ctx, embedder)

    fail_cleanly(run)


@ingest_cli.command("tickets")
def ingest_tickets_command(
    path: Annotated[Path, typer.Argument(help="Tickets as .jsonl or .csv.")],
    map_: Annotated[
        str | None,
        typer.Option(
            "--map", help="Column mapping for exports: title=Short description,team=Group"
        ),
    ] = None,
    source: Annotated[
        str | None, typer.Option(help="Source name for tickets without one (default: file name).")
    ] = None,
    train: Annotated[bool, typer.Option(help="Retrain the team router afterwards.")] = True,
) -> None:
    """Ingest resolved tickets (upsert by source and id, personal data masked)."""

    def run() -> None:
        if not path.is_file():
            raise IngestError(f"{path} is not a file.")
        with cli_context() as ctx:
            embedder = _embedder(ctx)
            _ingest_tickets(ctx, embedder, path, map_, source)
            _save_snapshot(ctx, embedder)
            if train:
                _train_router(ctx, embedder)

    fail_cleanly(run)


@cli.command("demo")
def demo_command(
    articles: Annotated[Path, typer.Option(help="Articles folder.")] = Path("articles"),
    tickets: Annotated[Path, typer.Option(help="Demo tickets (JSONL).")] = Path(
        "demo/tickets.jsonl"
    ),
) -> None:
    """Build the demo knowledge base from the articles folder and the demo tickets."""

    def run() -> None:
        with cli_context() as ctx:
            embedder = _embedder(ctx)
            _ingest_articles(ctx, embedder, articles, keep=False)
            _ingest_tickets(ctx, embedder, tickets, None, "demo")
            _save_snapshot(ctx, embedder)
            with ctx.factory() as session, session.begin():
                demo_keys = issue_demo_keys(session)
            for name, token in demo_keys.items():
                typer.echo(f"{name} key (shown once, replaced by the next demo): {token}")
            _train_router(ctx, embedder)

    fail_cleanly(run)


@index_cli.command("rebuild")
def index_rebuild_command() -> None:
    """Recreate the index from the database alone, re-embedding what another model embedded."""

    def run() -> None:
        from ingest.reindex import reembed_stale_passages

        with cli_context() as ctx:
            embedder = _embedder(ctx, check_model=False)
            count = reembed_stale_passages(ctx.factory, embedder, show_progress=sys.stderr.isatty())
            typer.echo(f"re-embedded {count} passages with {embedder.model_id}")
            _save_snapshot(ctx, embedder, rebuild=True)

    fail_cleanly(run)


@index_cli.command("status")
def index_status_command() -> None:
    """Show what the database and the current snapshot hold."""

    def run() -> None:
        with cli_context() as ctx, ctx.factory() as session:
            articles = session.scalar(select(func.count()).select_from(Article)) or 0
            tickets = session.scalar(select(func.count()).select_from(Ticket)) or 0
            passages = session.scalar(select(func.count()).select_from(Passage)) or 0
            typer.echo(f"database: {articles} articles, {tickets} tickets, {passages} passages")
            snapshot = current_snapshot_dir(ctx.settings.index_dir)
            if snapshot is None:
                typer.echo("snapshot: none (the service builds the index from the database)")
                return
            manifest = read_manifest(snapshot)
            typer.echo(
                f"snapshot: {snapshot.name}: {manifest.count} passages, {manifest.index_kind}, "
                f"model {manifest.model_id}, built {manifest.built_at}"
            )

    fail_cleanly(run)


@eval_cli.command("retrieval")
def eval_retrieval_command(
    dataset: Annotated[
        Path, typer.Argument(help="BEIR folder: corpus.jsonl, queries.jsonl, qrels/")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    workspace: Annotated[
        Path | None,
        typer.Option(help="Keep the indexed corpus here and reuse it next time (default: temp)."),
    ] = None,
) -> None:
    """Index a retrieval benchmark with the configured model and score bm25, dense, hybrid."""
    import json
    import tempfile

    from app.components import load_configured_embedder
    from app.retrieval_eval import evaluate_retrieval

    def run() -> None:
        settings = Settings()
        embedder = load_configured_embedder(settings)
        with tempfile.TemporaryDirectory(prefix="stellwerk-eval-") as scratch:
            result = evaluate_retrieval(
                dataset,
                embedder,
                workspace or Path(scratch),
                max_words=settings.chunk_max_words,
                exact_max=settings.index_exact_max_vectors,
                default_system=settings.search_system,
                show_progress=True,
            )
        if as_json:
            typer.echo(json.dumps(result))
            return
        typer.echo(f"{result['dataset']}: {result['queries']} queries, {result['documents']} docs")
        for system, figures in result["systems"].items():
            cells = "  ".join(f"{name} {value}" for name, value in figures.items())
            typer.echo(f"  {system:7} {cells}")

    fail_cleanly(run)


@db_cli.command("upgrade")
def db_upgrade_command() -> None:
    """Apply pending database migrations."""
    with cli_context(migrate_schema=False) as ctx:
        migrate(ctx.engine)
        typer.echo("database schema is up to date")


@cli.command("serve")
def serve_command(
    host: Annotated[str | None, typer.Option(help="Bind address (default from settings).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default from settings).")] = None,
) -> None:
    """Run the HTTP service."""
    import uvicorn

    from app.main import create_app

    settings = Settings()
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(levelname)s %(name)s: %(message)s"
    )
    uvicorn.run(
        create_app(settings),
        host=host or settings.host,
        port=port or settings.port,
        log_level=settings.log_level,
    )


def main() -> None:
    cli()
