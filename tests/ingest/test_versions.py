"""Docs-as-code through the lifecycle: a file's status, versions kept, drafts never indexed."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from db.models import Article, ArticleVersion, Passage
from db.session import alembic_config, create_db_engine
from ingest.pipeline import ingest_articles
from tests.factories import write_article
from tests.fakes import HashingEmbedder


def _article(factory: sessionmaker[Session], slug: str) -> tuple[Article, list[ArticleVersion]]:
    with factory() as session:
        article = session.scalars(select(Article).where(Article.slug == slug)).one()
        versions = list(
            session.scalars(
                select(ArticleVersion)
                .where(ArticleVersion.article_id == article.id)
                .order_by(ArticleVersion.number)
            )
        )
        return article, versions


def _passages(factory: sessionmaker[Session], article: Article) -> int:
    with factory() as session:
        count = select(func.count()).where(Passage.article_id == article.id)
        return int(session.scalar(count) or 0)


def test_file_status_drives_the_lifecycle(
    tmp_path: Path, factory: sessionmaker[Session], fake_embedder: HashingEmbedder
) -> None:
    folder = tmp_path / "articles"
    write_article(folder, "vpn", "VPN drops", "## Fix\n\nUpdate the client.")
    write_article(folder, "wip", "Work in progress", "## Fix\n\nTBD.", status="draft")
    ingest_articles(factory, fake_embedder, folder, max_words=100)
    vpn, versions = _article(factory, "vpn")
    assert vpn.status == "published" and _passages(factory, vpn) > 0
    assert [(v.number, v.state, v.author, v.reviewed_by) for v in versions] == [
        (1, "published", "files", "files")
    ]
    wip, _ = _article(factory, "wip")
    assert wip.status == "draft" and _passages(factory, wip) == 0
    embedded = fake_embedder.encoded_documents

    # A draft revision of a published file leaves the live version (and its passages) alone,
    # and an unchanged folder adds no version.
    write_article(folder, "vpn", "VPN drops", "## Fix\n\nReinstall.", status="draft")
    for _ in range(2):
        ingest_articles(factory, fake_embedder, folder, max_words=100)
    vpn, versions = _article(factory, "vpn")
    assert [(v.number, v.state) for v in versions] == [(1, "published"), (2, "draft")]
    assert "Update the client" in vpn.body and _passages(factory, vpn) > 0
    assert fake_embedder.encoded_documents == embedded  # drafts are not embedded
    assert "+Reinstall." in versions[1].diff and "-Update the client." in versions[1].diff

    write_article(folder, "vpn", "VPN drops", "## Fix\n\nReinstall.")
    ingest_articles(factory, fake_embedder, folder, max_words=100)
    vpn, versions = _article(factory, "vpn")
    assert [v.state for v in versions] == ["superseded", "draft", "published"]
    assert "Reinstall" in vpn.body

    write_article(folder, "vpn", "VPN drops", "## Fix\n\nReinstall.", status="archived")
    ingest_articles(factory, fake_embedder, folder, max_words=100)
    vpn, versions = _article(factory, "vpn")
    assert vpn.status == "archived" and _passages(factory, vpn) == 0


def test_articles_from_before_versioning_get_their_first_version(
    unmigrated_database_url: str,
) -> None:
    engine = create_db_engine(unmigrated_database_url)
    config = alembic_config(engine)
    command.upgrade(config, "0002")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO articles (slug, title, kind, audience, language, tags, "
                "front_matter, body, source_markdown, content_hash, origin, created_at, "
                "updated_at) VALUES ('old', 'Old', 'article', 'internal', 'de', '[]', '{}', "
                "'b', 's', 'h', 'files', '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO passages (article_id, position, heading_path, text, model_id, "
                "embedding) SELECT id, 0, '[]', 'b', 'm', :blob FROM articles"
            ),
            {"blob": b"\x00" * 16},
        )
    command.upgrade(config, "head")
    with engine.connect() as connection:
        row = connection.execute(
            text("SELECT status, latest_hash, companies FROM articles WHERE slug = 'old'")
        ).one()
        version = connection.execute(
            text("SELECT number, state, markdown FROM article_versions")
        ).one()
        # Regression: SQLite rebuilds `articles` to add columns; with foreign keys on, that
        # cascaded into `passages` and emptied the index of every existing article.
        passages = connection.execute(text("SELECT count(*) FROM passages")).scalar_one()
    engine.dispose()
    assert passages == 1
    assert (row[0], row[1]) == ("published", "h")
    assert tuple(version) == (1, "published", "s")


def test_the_router_learns_only_from_published_charters(
    tmp_path: Path, factory: sessionmaker[Session], fake_embedder: HashingEmbedder
) -> None:
    from routing.training import load_charters

    folder = tmp_path / "articles"
    body = "## Charter\n\nRuns things.\n\n## Skills\n\n- things"
    write_article(folder, "team-a", "Team A", body, kind="team", team="a")
    write_article(folder, "team-b", "Team B", body, kind="team", team="b", status="draft")
    write_article(folder, "team-c", "Team C", body, kind="team", team="c", status="archived")
    ingest_articles(factory, fake_embedder, folder, max_words=100)
    with factory() as session:
        assert [charter.team for charter in load_charters(session)] == ["a"]
