"""Shared fixtures: databases (SQLite and PostgreSQL), settings, embedders, API clients."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.orm import Session, sessionmaker

from app.main import create_app
from app.settings import Settings
from db.session import create_db_engine, migrate, session_factory
from index.embedder import Embedder, load_embedder
from ingest.tickets import read_tickets
from tests.auth_helpers import authorize, keys_of
from tests.fakes import HashingEmbedder
from tests.knowledge_base import (
    DEMO_TICKETS,
    KnowledgeBase,
    build_articles,
    build_knowledge_base,
)
from tests.paths import MODEL_CACHE as MODEL_CACHE
from tests.paths import REPO_ROOT as REPO_ROOT
from tests.paths import SHARED_DATA as SHARED_DATA

# The search's second model (index.second_standing) loads a real model at every app start
# and writes its vectors for every English document; the suite runs without it, and the
# tests of it turn it on (tests/app/test_search_real_model.py, tests/test_serve.py).
os.environ.setdefault("STELLWERK_SEARCH_SECOND_MODEL", "")

POSTGRES_ADMIN_URL = os.environ.get(
    "STELLWERK_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _schema_url(schema: str) -> str:
    separator = "&" if "?" in POSTGRES_ADMIN_URL else "?"
    return f"{POSTGRES_ADMIN_URL}{separator}options=-csearch_path%3D{schema}"


def _postgres_schema_url(create_sql: str | None = None) -> Iterator[str]:
    """A fresh schema per test, so every test starts from an empty database; with
    `create_sql` (a schema dump naming TEMPLATE_SCHEMA) the schema is made by that SQL."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        if create_sql is None:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        else:
            connection.exec_driver_sql(create_sql.replace(TEMPLATE_SCHEMA, schema))
    try:
        yield _schema_url(schema)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


TEMPLATE_SCHEMA = f"t_template_{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="session")
def migrated_schema_sql() -> str:
    """The migrated schema as SQL: a schema migrated once per session, dumped by pg_dump.

    Migrating a fresh schema for every PostgreSQL test took 0.6-1.5 s each (some 350 tests);
    running the dump takes a few hundredths. Migrations themselves are tested on empty
    schemas and databases (tests/test_migrations.py, tests/test_replicas.py).
    """
    schema = TEMPLATE_SCHEMA
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        engine = create_db_engine(_schema_url(schema))
        migrate(engine)
        engine.dispose()
        libpq_url = make_url(POSTGRES_ADMIN_URL).set(drivername="postgresql")
        pg_dump = shutil.which("pg_dump") or "/usr/bin/pg_dump"  # Debian's postgresql-client
        dump = subprocess.run(
            [pg_dump, "--schema", schema, "--inserts", "--no-owner", "--no-privileges",
             libpq_url.render_as_string(hide_password=False)],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
    # Lines that are psql's, not SQL (pg_dump 15.14+ brackets its output in \\restrict).
    return "\n".join(line for line in dump.stdout.splitlines() if not line.startswith("\\"))


def _postgres_database_url() -> Iterator[str]:
    """A fresh database of its own (not a schema), for tests that tell its connections
    from everyone else's in pg_stat_activity, or that several processes share."""
    name = f"stellwerk_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin.url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def postgres_database() -> Iterator[str]:
    """The URL of a fresh, empty PostgreSQL database (not migrated); mark such tests
    `postgres`."""
    yield from _postgres_database_url()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'stellwerk.db'}"
    else:  # migrated already: the app's or the `factory`'s migration finds it current
        yield from _postgres_schema_url(request.getfixturevalue("migrated_schema_sql"))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def unmigrated_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database, for tests that migrate it step by step themselves."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'stellwerk.db'}"
    else:
        yield from _postgres_schema_url()


@pytest.fixture
def postgres(migrated_schema_sql: str) -> Iterator[sessionmaker[Session]]:
    """A migrated, empty PostgreSQL schema only, for what only PostgreSQL does (advisory
    locks, transactions committing out of sequence order); mark such tests `postgres`."""
    for url in _postgres_schema_url(migrated_schema_sql):
        engine = create_db_engine(url)
        migrate(engine)
        yield session_factory(engine)
        engine.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'stellwerk.db'}"


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        index_refresh_seconds=0.0,
        routing_retrain_seconds=0.0,
        embedding_model="fake",
        _env_file=None,  # type: ignore[call-arg]
    )


@pytest.fixture
def factory(settings: Settings) -> Iterator[sessionmaker[Session]]:
    engine = create_db_engine(settings.resolved_database_url)
    migrate(engine)
    yield session_factory(engine)
    engine.dispose()


@pytest.fixture
def fake_embedder() -> HashingEmbedder:
    return HashingEmbedder()


@pytest.fixture
def client(settings: Settings, fake_embedder: HashingEmbedder) -> Iterator[TestClient]:
    app = create_app(settings, embedder=fake_embedder)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        authorize(test_client)
        yield test_client


@pytest.fixture
def api_keys(client: TestClient) -> dict[str, str]:
    """One key per role (see tests/auth_helpers.py); `client` sends the admin key."""
    return keys_of(client)


@pytest.fixture(scope="session")
def real_embedder() -> Embedder:
    """The real default model (multilingual-e5-small) on the default engine, loaded once per
    test session (the ONNX export is cached in MODEL_CACHE, so only a fresh clone pays it)."""
    return load_embedder("multilingual-e5-small", cache_dir=MODEL_CACHE)


@pytest.fixture(scope="session")
def real_second_embedder() -> Embedder:
    """The router's default second model (all-MiniLM-L6-v2) on the default engine, loaded
    once per test session."""
    return load_embedder("all-minilm-l6-v2", cache_dir=MODEL_CACHE)


@pytest.fixture(scope="session")
def articles_template(tmp_path_factory: pytest.TempPathFactory, real_embedder: Embedder) -> Path:
    """A data folder with the repository's articles embedded by the real model, once per
    session; knowledge-base templates start from a copy of it (see tests/knowledge_base.py)."""
    return build_articles(tmp_path_factory.mktemp("articles-template") / "data", real_embedder)


@pytest.fixture(scope="session")
def demo_knowledge_base(
    tmp_path_factory: pytest.TempPathFactory,
    articles_template: Path,
    real_embedder: Embedder,
) -> KnowledgeBase:
    """The demo knowledge base as `stellwerk demo` builds it (articles/ and
    demo/tickets.jsonl, real model, snapshot, trained router), once per session.
    A template: tests copy it with copy_knowledge_base and never write to it."""
    tickets = list(read_tickets(DEMO_TICKETS, default_source="demo"))
    target = tmp_path_factory.mktemp("demo-template") / "data"
    return build_knowledge_base(articles_template, target, real_embedder, tickets)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests that read shared/data skip only outside CI when the folder is absent."""
    if SHARED_DATA.exists():
        return
    if os.environ.get("CI"):
        raise pytest.UsageError(f"{SHARED_DATA} is missing in CI; data tests cannot run.")
    skip = pytest.mark.skip(reason=f"{SHARED_DATA} not present on this machine")
    for item in items:
        if "data" in item.keywords:
            item.add_marker(skip)
