"""The ingestion pipeline: parse, skip what is unchanged, embed in batches, store atomically."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import Session, sessionmaker
from tqdm import tqdm

from db.models import Article, Ticket
from index.embedder import Embedder
from ingest.chunking import Chunk, chunk_sections, chunk_ticket
from ingest.errors import InvalidArticle, SkippedRecord
from ingest.markdown import ParsedArticle, content_hash, parse_article
from ingest.second_passages import encode_second
from ingest.store import delete_article, save_ticket
from ingest.tickets import ResolvedTicket
from ingest.versions import write_version

# Passages embedded per database transaction. Large groups keep the model busy (it sorts a
# group by length to pad less); each group is committed whole, so a crash loses at most one.
DEFAULT_GROUP_PASSAGES = 512
TICKETS_PER_READ = 2000


@dataclass
class IngestReport:
    """What an ingest did, for the summary line and the API response."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    passages: int = 0
    seconds: float = 0.0
    slugs: list[str] = field(default_factory=list)

    def summary(self, noun: str) -> str:
        rate = self.passages / self.seconds if self.seconds else 0.0
        return (
            f"{noun}: {self.added} added, {self.updated} updated, {self.unchanged} unchanged, "
            f"{self.deleted} deleted; {self.passages} passages embedded in "
            f"{self.seconds:.1f} s ({rate:.1f}/s)"
        )


def article_chunks(parsed: ParsedArticle, max_words: int) -> list[Chunk]:
    chunks = chunk_sections(parsed.sections, max_words)
    return chunks or [Chunk((parsed.meta.title,), None, parsed.meta.title)]


def ticket_chunks(ticket: ResolvedTicket, max_words: int) -> list[Chunk]:
    return chunk_ticket(ticket.title, ticket.description, max_words)


def ticket_hash(ticket: ResolvedTicket) -> str:
    return content_hash(json.dumps(ticket.model_dump(mode="json"), sort_keys=True))


def read_article_dir(
    directory: Path, *, skipped: list[SkippedRecord] | None = None
) -> list[ParsedArticle]:
    """Parse every `*.md` in a folder; all problems are reported together, nothing is kept.

    With `skipped`, a bad file is appended to it instead and the good ones are returned.
    """
    if not directory.is_dir():
        raise InvalidArticle(f"{directory} is not a folder of markdown articles.")
    parsed: list[ParsedArticle] = []
    problems: list[dict[str, str]] = []
    for path in sorted(directory.glob("*.md")):
        if path.name.lower() == "readme.md":
            continue
        try:
            parsed.append(parse_article(path.stem, path.read_text(encoding="utf-8")))
        except InvalidArticle as exc:
            problems.append({"file": path.name, "message": str(exc)})
        except UnicodeDecodeError:
            problems.append({"file": path.name, "message": "not UTF-8 text"})
    if problems and skipped is not None:
        skipped.extend(SkippedRecord(p["file"], p["message"]) for p in problems)
    elif problems:
        listing = "; ".join(f"{p['file']}: {p['message']}" for p in problems)
        raise InvalidArticle(
            f"{len(problems)} article(s) invalid, nothing ingested: {listing}", details=problems
        )
    return parsed


def _groups(chunk_counts: Sequence[int], limit: int) -> Iterator[range]:
    start, total = 0, 0
    for position, count in enumerate(chunk_counts):
        if total and total + count > limit:
            yield range(start, position)
            start, total = position, 0
        total += count
    if start < len(chunk_counts):
        yield range(start, len(chunk_counts))


def _embed(embedder: Embedder, chunks: Sequence[Chunk]) -> np.ndarray:
    if not chunks:
        return np.zeros((0, embedder.dim), dtype=np.float32)
    return embedder.encode_documents([chunk.embedding_text() for chunk in chunks])


def _split(vectors: np.ndarray, counts: Sequence[int]) -> list[np.ndarray]:
    bounds = np.cumsum(counts)[:-1]
    return list(np.split(vectors, bounds)) if counts else []


def ingest_articles(
    factory: sessionmaker[Session],
    embedder: Embedder,
    directory: Path,
    *,
    max_words: int,
    delete_missing: bool = True,
    show_progress: bool = False,
    group_passages: int = DEFAULT_GROUP_PASSAGES,
    skipped: list[SkippedRecord] | None = None,
    second: Embedder | None = None,
) -> IngestReport:
    """Bring the database in line with a folder of articles, re-embedding only changes.

    With `skipped`, invalid files are listed there and left out; their articles stay as
    they are (a file that is there but broken is not a deleted article). With `second`,
    English articles' passages get that model's vectors too (ingest.second_passages).
    """
    started = time.perf_counter()
    parsed = read_article_dir(directory, skipped=skipped)
    report = IngestReport()
    with factory() as session:
        known = dict(
            session.execute(
                select(Article.slug, func.coalesce(Article.latest_hash, Article.content_hash))
            ).all()
        )
        file_slugs = {
            slug
            for (slug,) in session.execute(select(Article.slug).where(Article.origin == "files"))
        }
    changed = [a for a in parsed if known.get(a.slug) != a.content_hash]
    report.unchanged = len(parsed) - len(changed)
    # Only published articles are embedded: drafts and archived ones never reach a search.
    chunks = [article_chunks(a, max_words) if a.meta.status == "published" else [] for a in changed]
    counts = [len(c) for c in chunks]
    with tqdm(total=sum(counts), unit="passage", disable=not show_progress) as bar:
        for group in _groups(counts, group_passages):
            group_chunks = [chunk for i in group for chunk in chunks[i]]
            vectors = _split(_embed(embedder, group_chunks), [counts[i] for i in group])
            seconds = encode_second(second, [(changed[i].meta.language, chunks[i]) for i in group])
            with factory() as session, session.begin():
                for i, article_vectors, article_second in zip(group, vectors, seconds, strict=True):
                    # Docs-as-code: the review happened where the files live, so a file's
                    # status applies as it is, through the same versions as the API.
                    _, _, created = write_version(
                        session,
                        changed[i],
                        author="files",
                        state=changed[i].meta.status,
                        chunks=chunks[i],
                        vectors=article_vectors,
                        model_id=embedder.model_id,
                        origin="files",
                        reviewer="files",
                        second=article_second,
                    )
                    report.added += created
                    report.updated += not created
                    report.slugs.append(changed[i].slug)
            report.passages += len(group_chunks)
            bar.update(len(group_chunks))
    if delete_missing:
        broken = {Path(record.where).stem for record in skipped or []}
        gone = file_slugs - {a.slug for a in parsed} - broken
        if gone:
            with factory() as session, session.begin():
                for article in session.scalars(select(Article).where(Article.slug.in_(gone))):
                    delete_article(session, article)
                    report.deleted += 1
    report.seconds = time.perf_counter() - started
    return report


def _batched(items: Iterable[ResolvedTicket], size: int) -> Iterator[list[ResolvedTicket]]:
    batch: list[ResolvedTicket] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def ingest_tickets(
    factory: sessionmaker[Session],
    embedder: Embedder,
    tickets: Iterable[ResolvedTicket],
    *,
    max_words: int,
    show_progress: bool = False,
    total: int | None = None,
    group_passages: int = DEFAULT_GROUP_PASSAGES,
    second: Embedder | None = None,
) -> IngestReport:
    """Upsert resolved tickets by (source, id), masking personal data first; with `second`,
    English tickets' passages get that model's vectors too (ingest.second_passages)."""
    started = time.perf_counter()
    report = IngestReport()
    with tqdm(total=total, unit="ticket", disable=not show_progress) as bar:
        for batch in _batched(tickets, TICKETS_PER_READ):
            # Later duplicates of the same (source, id) win, as a later export would.
            unique = {(t.source, t.id): t.masked() for t in batch}
            duplicates = len(batch) - len(unique)
            _ingest_ticket_batch(
                factory, embedder, unique, max_words, group_passages, report, bar.update, second
            )
            bar.update(duplicates)
    report.seconds = time.perf_counter() - started
    return report


def _ingest_ticket_batch(
    factory: sessionmaker[Session],
    embedder: Embedder,
    tickets: dict[tuple[str, str], ResolvedTicket],
    max_words: int,
    group_passages: int,
    report: IngestReport,
    advance: Callable[[int], object],
    second: Embedder | None,
) -> None:
    with factory() as session:
        rows = session.execute(
            select(Ticket.source, Ticket.external_id, Ticket.content_hash).where(
                tuple_(Ticket.source, Ticket.external_id).in_(list(tickets))
            )
        )
        known = {(source, ext): digest for source, ext, digest in rows}
    hashes = {key: ticket_hash(t) for key, t in tickets.items()}
    changed = [key for key in tickets if known.get(key) != hashes[key]]
    report.unchanged += len(tickets) - len(changed)
    advance(len(tickets) - len(changed))
    chunks = [ticket_chunks(tickets[key], max_words) for key in changed]
    counts = [len(c) for c in chunks]
    for group in _groups(counts, group_passages):
        group_chunks = [chunk for i in group for chunk in chunks[i]]
        vectors = _split(_embed(embedder, group_chunks), [counts[i] for i in group])
        seconds = encode_second(second, [(tickets[changed[i]].language, chunks[i]) for i in group])
        with factory() as session, session.begin():
            keys = [changed[i] for i in group]
            existing = {
                (t.source, t.external_id): t
                for t in session.scalars(
                    select(Ticket).where(tuple_(Ticket.source, Ticket.external_id).in_(keys))
                )
            }
            for i, ticket_vectors, ticket_second in zip(group, vectors, seconds, strict=True):
                key = changed[i]
                save_ticket(
                    session,
                    tickets[key],
                    content_hash=hashes[key],
                    chunks=chunks[i],
                    vectors=ticket_vectors,
                    model_id=embedder.model_id,
                    existing=existing.get(key),
                    second=ticket_second,
                )
                if key in existing:
                    report.updated += 1
                else:
                    report.added += 1
        report.passages += len(group_chunks)
        advance(len(group))
