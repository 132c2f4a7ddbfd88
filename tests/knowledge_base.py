"""Knowledge bases built once per test session with the real model, copied for each test.

A knowledge base is a whole data folder, as `stellwerk demo` leaves it: the SQLite database
(articles, tickets, test keys), the index snapshot and the trained routing model. Building
one costs the embedding of every passage; copying it costs milliseconds, so every test gets
its own folder and no test sees another one's writes.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Integer, select, text
from sqlalchemy.orm import Session, sessionmaker

from app.components import open_router
from app.settings import Settings
from db.models import Base
from db.session import create_db_engine, migrate, session_factory
from index.embedder import Embedder
from ingest.index_sync import refresh_snapshot
from ingest.pipeline import ingest_articles, ingest_tickets
from ingest.tickets import ResolvedTicket
from tests.auth_helpers import issue_test_keys
from tests.paths import MODEL_CACHE, REPO_ROOT

ARTICLES = REPO_ROOT / "articles"
DEMO_TICKETS = REPO_ROOT / "demo" / "tickets.jsonl"
DATABASE_FILE = "stellwerk.db"


@dataclass(frozen=True)
class KnowledgeBase:
    """A built data folder (a template: copy it, never write to it) and its test keys."""

    data_dir: Path
    keys: dict[str, str]


def kb_settings(data_dir: Path, database_url: str | None = None) -> Settings:
    """The settings the service runs a knowledge base with: the defaults and the real model.

    Without `database_url` the database is the SQLite file in the data folder.
    """
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        embedding_model="multilingual-e5-small",
        model_cache_dir=MODEL_CACHE,
        _env_file=None,  # type: ignore[call-arg]
    )


@contextmanager
def _factory(settings: Settings) -> Iterator[sessionmaker[Session]]:
    engine = create_db_engine(settings.resolved_database_url)
    try:
        migrate(engine)
        yield session_factory(engine)
    finally:
        engine.dispose()


def build_articles(data_dir: Path, embedder: Embedder) -> Path:
    """A data folder whose database holds the repository's articles, nothing else yet."""
    settings = kb_settings(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    with _factory(settings) as factory:
        ingest_articles(
            factory,
            embedder,
            ARTICLES,
            max_words=settings.chunk_max_words,
            group_passages=settings.ingest_batch_passages,
        )
    return data_dir


def build_knowledge_base(
    articles: Path, data_dir: Path, embedder: Embedder, tickets: Iterable[ResolvedTicket]
) -> KnowledgeBase:
    """The articles folder `articles` (see build_articles) plus `tickets`, finished as
    `stellwerk demo` finishes it: index snapshot, keys, and the router trained and saved."""
    shutil.copytree(articles, data_dir)
    settings = kb_settings(data_dir)
    with _factory(settings) as factory:
        ingest_tickets(
            factory,
            embedder,
            tickets,
            max_words=settings.chunk_max_words,
            group_passages=settings.ingest_batch_passages,
        )
        refresh_snapshot(
            factory,
            index_dir=settings.index_dir,
            dim=embedder.dim,
            model_id=embedder.model_id,
            engine=embedder.engine,
            exact_max=settings.index_exact_max_vectors,
            keep=settings.snapshots_kept,
        )
        keys = issue_test_keys(factory)
        router = open_router(settings, embedder)
        assert router.retrain(factory, embedder), router.status().last_reason
    return KnowledgeBase(data_dir, keys)


def copy_knowledge_base(template: KnowledgeBase, data_dir: Path) -> Path:
    """A private copy of the template's data folder, for one test to start an app on."""
    shutil.copytree(template.data_dir, data_dir)
    return data_dir


def copy_database(sqlite_file: Path, url: str) -> None:
    """Copy every row of a knowledge base's SQLite file into the (empty) database at `url`.

    Rows keep their ids, so the copied index snapshot and change log still match them;
    PostgreSQL's id sequences then continue after the copied ids.
    """
    source = create_db_engine(f"sqlite:///{sqlite_file}")
    target = create_db_engine(url)
    try:
        migrate(target)
        with source.connect() as reading, target.begin() as writing:
            for table in Base.metadata.sorted_tables:
                rows = [dict(row._mapping) for row in reading.execute(select(table))]
                if rows:
                    writing.execute(table.insert(), rows)
                keys = list(table.primary_key.columns)
                if target.dialect.name == "postgresql" and len(keys) == 1:
                    column = keys[0]
                    if isinstance(column.type, Integer):
                        writing.execute(
                            text(
                                f"SELECT setval(pg_get_serial_sequence('{table.name}', "
                                f"'{column.name}'), COALESCE(MAX({column.name}), 1), "
                                f"MAX({column.name}) IS NOT NULL) FROM {table.name}"
                            )
                        )
    finally:
        source.dispose()
        target.dispose()
