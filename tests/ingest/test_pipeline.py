"""Incremental ingest into the database and the index, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.settings import Settings
from db.models import Article, IndexChange, Passage, Ticket
from ingest.errors import InvalidArticle, SkippedRecord
from ingest.index_sync import open_searcher, refresh_snapshot
from ingest.pipeline import ingest_articles, ingest_tickets
from ingest.tickets import ResolvedTicket
from tests.factories import ticket, write_article
from tests.fakes import HashingEmbedder


def _count(factory: sessionmaker[Session], model: type[object]) -> int:
    with factory() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def _seed(folder: Path) -> None:
    write_article(folder, "vpn", "VPN drops", "## Fix\nUpdate the client.")
    write_article(folder, "printer", "Printer", "## Fix\nRestart the spooler.", team="workplace")


def test_unchanged_articles_are_not_re_embedded(
    tmp_path: Path, factory: sessionmaker[Session], fake_embedder: HashingEmbedder
) -> None:
    folder = tmp_path / "articles"
    _seed(folder)
    first = ingest_articles(factory, fake_embedder, folder, max_words=100)
    assert (first.added, first.unchanged) == (2, 0)
    embedded = fake_embedder.encoded_documents
    second = ingest_articles(factory, fake_embedder, folder, max_words=100)
    assert (second.added, second.updated, second.unchanged) == (0, 0, 2)
    assert fake_embedder.encoded_documents == embedded


def test_changed_article_is_replaced_and_deleted_one_leaves(
    tmp_path: Path, factory: sessionmaker[Session], fake_embedder: HashingEmbedder
) -> None:
    folder = tmp_path / "articles"
    _seed(folder)
    ingest_articles(factory, fake_embedder, folder, max_words=100)
    write_article(folder, "vpn", "VPN drops", "## Fix\nReinstall the client.\n## More\nText.")
    (folder / "printer.md").unlink()
    report = ingest_articles(factory, fake_embedder, folder, max_words=100)
    assert (report.updated, report.deleted) == (1, 1)
    assert _count(factory, Article) == 1
    with factory() as session:
        texts = sorted(session.scalars(select(Passage.text)))
    assert texts == ["Reinstall the client.", "Text."]


def test_articles_written_through_the_api_survive_a_folder_ingest(
    tmp_path: Path, factory: sessionmaker[Session], fake_embedder: HashingEmbedder
) -> None:
    folder = tmp_path / "articles"
    _seed(folder)
    ingest_articles(factory, fake_embedder, folder, max_words=100)
    with factory() as session, session.begin():
        session.scalars(select(Article).where(Article.slug == "vpn")).one().origin = "api"
    (folder / "vpn.md").unlink()
    report = ingest_articles(factory, fake_embedder, folder, max_words=100)
    assert report.deleted == 0
    assert _count(factory, Article) == 2


def test_one_invalid_file_stops_the_ingest_before_any_write(
    tmp_path: Path, factory: sessionmaker[Session], fake_embedder: HashingEmbedder
) -> None:
    folder = tmp_path / "articles"
    _seed(folder)
    (folder / "broken.md").write_text("---\ntitle: [x\n---\nbody", encoding="utf-8")
    with pytest.raises(InvalidArticle, match=r"broken\.md"):
        ingest_articles(factory, fake_embedder, folder, max_words=100)
    assert _count(factory, Article) == 0


def test_skip_invalid_ingests_the_good_files_and_keeps_a_broken_ones_article(
    tmp_path: Path, factory: sessionmaker[Session], fake_embedder: HashingEmbedder
) -> None:
    folder = tmp_path / "articles"
    _seed(folder)
    ingest_articles(factory, fake_embedder, folder, max_words=100)
    (folder / "printer.md").write_text("---\ntitle: [x\n---\nbody", encoding="utf-8")
    write_article(folder, "mfa", "MFA", "## Fix\nRe-enrol the phone.")
    skipped: list[SkippedRecord] = []
    report = ingest_articles(factory, fake_embedder, folder, max_words=100, skipped=skipped)
    assert [s.where for s in skipped] == ["printer.md"]
    assert (report.added, report.unchanged, report.deleted) == (1, 1, 0)
    with factory() as session:
        assert sorted(session.scalars(select(Article.slug))) == ["mfa", "printer", "vpn"]


def test_tickets_upsert_by_source_and_id(
    factory: sessionmaker[Session], fake_embedder: HashingEmbedder
) -> None:
    rows = [
        ResolvedTicket.model_validate(ticket("1", "VPN", "drops", source="a")),
        ResolvedTicket.model_validate(ticket("1", "VPN", "drops", source="b")),
        ResolvedTicket.model_validate(ticket("2", "Printer", "offline", source="a")),
    ]
    first = ingest_tickets(factory, fake_embedder, rows, max_words=100)
    assert first.added == 3
    changed = [rows[0].model_copy(update={"resolution": "new"}), rows[1], rows[1]]
    second = ingest_tickets(factory, fake_embedder, changed, max_words=100)
    assert (second.added, second.updated, second.unchanged) == (0, 1, 1)
    assert _count(factory, Ticket) == 3
    assert _count(factory, Passage) == 3


def test_personal_data_never_reaches_the_database(
    factory: sessionmaker[Session], fake_embedder: HashingEmbedder
) -> None:
    row = ResolvedTicket.model_validate(
        ticket("1", "Rückruf an +49 170 1234567", "mail: anna@example.org", source="a")
    )
    ingest_tickets(factory, fake_embedder, [row], max_words=100)
    with factory() as session:
        stored = session.scalars(select(Ticket)).one()
        passage = session.scalars(select(Passage)).one()
    for text in (stored.title, stored.description, passage.text, *passage.heading_path):
        assert "1234567" not in text
        assert "anna@" not in text


def test_snapshot_and_change_log_agree_with_the_database(
    tmp_path: Path,
    settings: Settings,
    factory: sessionmaker[Session],
    fake_embedder: HashingEmbedder,
) -> None:
    folder = tmp_path / "articles"
    _seed(folder)
    ingest_articles(factory, fake_embedder, folder, max_words=100)
    manifest = refresh_snapshot(
        factory,
        index_dir=settings.index_dir,
        dim=fake_embedder.dim,
        model_id=fake_embedder.model_id,
        engine=fake_embedder.engine,
        exact_max=1000,
        keep=2,
    )
    assert manifest.count == 2
    # Changes after the snapshot are replayed from the log when the index is opened.
    (folder / "printer.md").unlink()
    write_article(folder, "mail", "Mail", "## Fix\nRepair the profile.", team="messaging")
    ingest_articles(factory, fake_embedder, folder, max_words=100)
    with factory() as session:
        searcher, loaded = open_searcher(
            session,
            index_dir=settings.index_dir,
            dim=fake_embedder.dim,
            model_id=fake_embedder.model_id,
            engine=fake_embedder.engine,
            exact_max=1000,
        )
        latest = session.scalar(select(func.max(IndexChange.seq)))
        in_db = set(session.scalars(select(Passage.id)))
    assert loaded is not None
    assert searcher.watermark == latest
    assert set(searcher.index.ids().tolist()) == in_db
