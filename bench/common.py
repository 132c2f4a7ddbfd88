"""Shared benchmark helpers: data paths, ticket loading, percentiles and plain-text tables."""

from __future__ import annotations

import json
import os
import platform
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from index.metrics import percentile
from ingest.tickets import ResolvedTicket

REPO_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = REPO_ROOT.parent / "shared" / "data"
SUPPORT_TICKETS = DATA_DIR / "tickets" / "support-tickets-en-de.jsonl"
ENDAVA_DIR = DATA_DIR / "routing" / "endava-47k"
# The retrieval sets in shared/data/retrieval that selections and rules are chosen on.
RETRIEVAL_SETS = (
    "covid-faq-de",
    "covid-faq-en",
    "xquad-de",
    "xquad-de-en",
    "gitbugs-seamonkey",
    "gitbugs-hadoop",
)
MODEL_CACHE = REPO_ROOT / "var" / "models"
DEFAULT_MODEL = "multilingual-e5-small"
MAX_WORDS = 180
# Endava tickets have no title; the first words of the description stand in for one.
DERIVED_TITLE_WORDS = 8

# The hand-written stop words of index/analysis.py before issue 17: the baseline analysis.
BEFORE_STOPWORDS = frozenset(
    """
    a an and are as at be been but by can could did do does for from had has have he her his
    how i if in into is it its me my of on or our she so than that the their them then there
    these they this to us was we were what when where which who why will with would you your
    aber als am an auch auf aus bei bin bis bitte da dann das dass dem den der des die dies
    diese dieser du durch ein eine einem einen einer eines er es für hat hatte ich ihr im in
    ist ja jetzt man mein meine mir mit nach noch nun oder sehr sich sie sind so um und uns
    unser von vor war waren was wie wir wird wurde zu zum zur über
    """.split()
)
__all__ = ["percentile"]


@dataclass(frozen=True)
class QueryText:
    """A held-out ticket as a client would send it to /suggest."""

    title: str
    description: str
    language: str

    def text(self) -> str:
        """The text the suggest service embeds (see app.services.suggest.ticket_text)."""
        return f"{self.title}\n{self.description}".strip()


def read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def derived_title(record: dict[str, Any]) -> str:
    title = str(record.get("title") or "").strip()
    if title:
        return title
    words = str(record.get("description") or "").split()
    return " ".join(words[:DERIVED_TITLE_WORDS]) or "(no title)"


def to_ticket(record: dict[str, Any], source: str) -> ResolvedTicket:
    data = dict(record)
    data["title"] = derived_title(record)
    data["source"] = source
    return ResolvedTicket.model_validate(data)


def to_query(record: dict[str, Any]) -> QueryText:
    return QueryText(
        title=derived_title(record),
        description=str(record.get("description") or ""),
        language=str(record.get("language") or "?"),
    )


def support_records() -> list[dict[str, Any]]:
    return list(read_jsonl(SUPPORT_TICKETS))


def endava_records(split: str) -> list[dict[str, Any]]:
    return list(read_jsonl(ENDAVA_DIR / f"{split}.jsonl"))


def first_tickets(count: int) -> list[ResolvedTicket]:
    """The first `count` support tickets, topped up with Endava training tickets."""
    tickets = [to_ticket(r, "support") for r in support_records()[:count]]
    if len(tickets) < count:
        extra = endava_records("train")[: count - len(tickets)]
        tickets += [to_ticket(r, "endava") for r in extra]
    return tickets


def format_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A fixed-width text table; floats get two decimals."""
    cells = [[_cell(value) for value in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(lines)


def _cell(value: object) -> str:
    return f"{value:.2f}" if isinstance(value, float) else str(value)


def machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "load_average_1m": round(os.getloadavg()[0], 2),
    }


def print_json_line(name: str, payload: dict[str, Any]) -> None:
    """One machine-readable line at the end of a run."""
    print("BENCH_JSON " + json.dumps({"benchmark": name, **payload, "machine": machine()}))


def load_note() -> str:
    """Other work on the machine skews timings; every run prints the load it saw."""
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} cores"
