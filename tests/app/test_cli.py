"""The `stellwerk` command line, with a fake model (the real one runs in test_crash_safety)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import cli
from app.settings import Settings
from index.snapshot import current_snapshot_dir, read_manifest
from tests.fakes import HashingEmbedder

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data_dir = tmp_path / "data"
    monkeypatch.setenv("STELLWERK_DATA_DIR", str(data_dir))
    monkeypatch.delenv("STELLWERK_DATABASE_URL", raising=False)
    monkeypatch.setattr(
        "app.components.load_configured_embedder",
        lambda settings: HashingEmbedder(model_id=f"fake-{settings.embedding_model}"),
    )
    monkeypatch.setenv("STELLWERK_EMBEDDING_MODEL", "a")
    return data_dir


def _csv(tmp_path: Path) -> Path:
    path = tmp_path / "export.csv"
    path.write_text(
        "Number,Short description,Description,Assignment group,Close notes\n"
        "INC1,Outlook hängt,Ruf mich an: 030/1234567,messaging,Profil neu\n"
        "INC2,VPN bricht ab,Alle 10 Minuten,network,Treiber aktualisiert\n",
        encoding="utf-8",
    )
    return path


MAPPING = (
    "id=Number,title=Short description,description=Description,"
    "team=Assignment group,resolution=Close notes"
)


def test_ingest_tickets_csv_with_mapping_is_incremental(env: Path, tmp_path: Path) -> None:
    path = _csv(tmp_path)
    first = runner.invoke(cli, ["ingest", "tickets", str(path), "--map", MAPPING])
    assert first.exit_code == 0, first.output
    assert "tickets: 2 added, 0 updated, 0 unchanged" in first.output
    second = runner.invoke(cli, ["ingest", "tickets", str(path), "--map", MAPPING])
    assert "tickets: 0 added, 0 updated, 2 unchanged" in second.output
    status = runner.invoke(cli, ["index", "status"])
    assert "database: 0 articles, 2 tickets, 2 passages" in status.output
    assert "2 passages, flat, model fake-a" in status.output


def test_invalid_ticket_file_fails_with_one_line_and_writes_nothing(
    env: Path, tmp_path: Path
) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": "1", "title": "ok"}\n{"id": "2", "title": ""}\n', encoding="utf-8")
    result = runner.invoke(cli, ["ingest", "tickets", str(path)])
    assert result.exit_code == 1
    assert "error: bad.jsonl:2: invalid ticket (title)" in result.output
    status = runner.invoke(cli, ["index", "status"])
    assert "0 tickets" in status.output


def test_skip_invalid_stores_the_good_rows_and_reports_the_bad(env: Path, tmp_path: Path) -> None:
    path = tmp_path / "export.jsonl"
    path.write_text(
        '{"id": "1", "title": "VPN drops", "team": "network"}\n'
        '{"id": "2", "title": ""}\n'
        "{oops\n"
        '{"id": "4", "title": "Printer jams", "team": "workplace"}\n',
        encoding="utf-8",
    )
    result = runner.invoke(cli, ["ingest", "tickets", str(path), "--skip-invalid", "--no-train"])
    assert result.exit_code == 0, result.output
    assert "skipped export.jsonl:2: invalid ticket (title: " in result.stderr
    assert "skipped export.jsonl:3: not valid JSON" in result.stderr
    assert "tickets: 2 added, 0 updated, 0 unchanged" in result.stdout
    assert "tickets: 2 stored, 2 skipped as invalid" in result.stdout
    status = runner.invoke(cli, ["index", "status"])
    assert "2 tickets, 2 passages" in status.output


def test_skip_invalid_articles_leaves_out_a_broken_file(env: Path, tmp_path: Path) -> None:
    from tests.factories import write_article

    folder = tmp_path / "articles"
    write_article(folder, "vpn", "VPN drops", "## Fix\nUpdate the client.")
    (folder / "broken.md").write_text("---\ntitle: [x\n---\nbody", encoding="utf-8")
    refused = runner.invoke(cli, ["ingest", "articles", str(folder), "--no-train"])
    assert refused.exit_code == 1
    assert "nothing ingested" in refused.output
    result = runner.invoke(cli, ["ingest", "articles", str(folder), "--skip-invalid", "--no-train"])
    assert result.exit_code == 0, result.output
    assert "skipped broken.md: " in result.stderr
    assert "articles: 1 stored, 1 skipped as invalid" in result.stdout


@pytest.mark.data
def test_real_support_export_with_skip_invalid_stores_all_but_the_105_untitled(
    env: Path,
) -> None:
    from tests.paths import SHARED_DATA

    path = SHARED_DATA / "tickets" / "support-tickets-en-de.jsonl"
    refused = runner.invoke(cli, ["ingest", "tickets", str(path), "--no-train"])
    assert refused.exit_code == 1
    assert "support-tickets-en-de.jsonl:20: invalid ticket (title)" in refused.output
    result = runner.invoke(cli, ["ingest", "tickets", str(path), "--skip-invalid", "--no-train"])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stderr.splitlines() if line.startswith("skipped ")]
    assert len(lines) == 105
    assert all("invalid ticket (title: " in line for line in lines)
    assert "tickets: 2076 stored, 105 skipped as invalid" in result.stdout
    assert "tickets: 2076 added, 0 updated, 0 unchanged" in result.stdout
    status = runner.invoke(cli, ["index", "status"])
    assert "0 articles, 2076 tickets" in status.output


def test_missing_file_is_a_clear_error(env: Path, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["ingest", "tickets", str(tmp_path / "nope.jsonl")])
    assert result.exit_code == 1
    assert "is not a file" in result.output


def test_model_change_is_refused_until_rebuild(
    env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _csv(tmp_path)
    assert runner.invoke(cli, ["ingest", "tickets", str(path), "--map", MAPPING]).exit_code == 0
    monkeypatch.setenv("STELLWERK_EMBEDDING_MODEL", "b")
    path.write_text(path.read_text(encoding="utf-8").replace("Profil neu", "Neu"), "utf-8")
    refused = runner.invoke(cli, ["ingest", "tickets", str(path), "--map", MAPPING])
    assert refused.exit_code == 1
    assert "'fake-a'" in refused.output
    assert "stellwerk index rebuild" in refused.output
    status = runner.invoke(cli, ["index", "status"])
    assert "2 passages, flat, model fake-a" in status.output
    rebuilt = runner.invoke(cli, ["index", "rebuild"])
    assert rebuilt.exit_code == 0, rebuilt.output
    assert "re-embedded 2 passages with fake-b" in rebuilt.output
    snapshot = current_snapshot_dir(Settings().index_dir)
    assert snapshot is not None
    assert read_manifest(snapshot).model_id == "fake-b"


def test_demo_builds_the_starter_knowledge_base(env: Path) -> None:
    result = runner.invoke(cli, ["demo"])
    assert result.exit_code == 0, result.output
    assert "tickets: 80 added" in result.output
    articles = len(list(Path("articles").glob("*.md")))
    assert f"articles: {articles} added" in result.output


def test_demo_prints_fresh_keys_and_ingests_are_audited(env: Path) -> None:
    from sqlalchemy import select

    from db.models import ApiKey, AuditEntry
    from db.session import create_db_engine, session_factory

    first = runner.invoke(cli, ["demo"])
    assert first.exit_code == 0, first.output
    keys = [line.rsplit(" ", 1)[1] for line in first.stdout.splitlines() if " key (" in line]
    assert len(keys) == 2 and all(key.startswith("sw_") for key in keys)
    second = runner.invoke(cli, ["demo"])
    assert second.exit_code == 0, second.output
    engine = create_db_engine(Settings().resolved_database_url)
    with session_factory(engine)() as session:
        names = sorted(session.scalars(select(ApiKey.name)))
        actions = [(e.actor, e.action) for e in session.scalars(select(AuditEntry))]
    engine.dispose()
    assert names == ["demo-admin", "demo-agent"]  # replaced, not piled up
    assert ("cli", "ingest.articles") in actions
    assert ("cli", "ingest.tickets") in actions
    assert actions.count(("cli", "ingest.articles")) == 1  # the second run changed nothing
