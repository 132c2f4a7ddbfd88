"""Read retrieval benchmarks in the BEIR layout (corpus.jsonl, queries.jsonl, qrels/test.tsv)."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

from ingest.errors import IngestError
from ingest.tickets import ResolvedTicket

BEIR_SOURCE = "beir"


@dataclass(frozen=True)
class BeirDataset:
    name: str
    documents: list[ResolvedTicket]
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]


def _jsonl(path: Path) -> list[dict[str, object]]:
    if not path.is_file():
        raise IngestError(f"{path} is missing (BEIR layout: corpus.jsonl, queries.jsonl, qrels/).")
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _title(row: dict[str, object]) -> str:
    title = str(row.get("title") or "").replace("_", " ").strip()
    if title:
        return title
    first_line = str(row.get("text") or "").strip().split("\n", 1)[0]
    return first_line[:200] or str(row["_id"])


def load_beir(folder: Path, split: str = "test") -> BeirDataset:
    """Load a BEIR folder; documents become tickets so they take the production path."""
    documents = [
        ResolvedTicket(
            id=str(row["_id"]),
            title=_title(row),
            description=str(row.get("text") or ""),
            source=BEIR_SOURCE,
        )
        for row in _jsonl(folder / "corpus.jsonl")
    ]
    queries = {str(row["_id"]): str(row["text"]) for row in _jsonl(folder / "queries.jsonl")}
    qrels_path = folder / "qrels" / f"{split}.tsv"
    if not qrels_path.is_file():
        raise IngestError(f"{qrels_path} is missing.")
    qrels: dict[str, dict[str, int]] = {}
    with qrels_path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            query_id, doc_id = row["query-id"], row["corpus-id"]
            # BEIR convention: a query never counts its own document as an answer.
            if query_id != doc_id:
                qrels.setdefault(query_id, {})[doc_id] = int(row["score"])
    return BeirDataset(folder.name, documents, queries, qrels)
