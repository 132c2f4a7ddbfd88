"""What a reviewer reads of a gap: key terms, representatives, a title, counts, rank."""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter
from collections.abc import Sequence
from datetime import datetime

import numpy as np
import numpy.typing as npt

from app.schemas.gaps import Count, Gap, GapMember
from app.services.gaps_clusters import medoid
from app.services.gaps_sources import Candidates

_WORD = re.compile(r"[^\W\d_]{3,}", re.UNICODE)
KEY_TERMS = 6
REPRESENTATIVES = 3
RESOLUTION_CHARS = 600


def words(text: str) -> set[str]:
    return {word.lower() for word in _WORD.findall(text)}


def key_terms(
    member_words: Sequence[set[str]], document_frequency: Counter[str], total: int
) -> list[str]:
    """The words most typical of the members against all uncovered candidates: share of
    members using the word times its inverse document frequency; a word of one member
    only is no theme."""
    counts: Counter[str] = Counter(word for found in member_words for word in found)
    floor = 2 if len(member_words) > 1 else 1
    scored = [
        (count * math.log((1 + total) / (1 + document_frequency[word])), word)
        for word, count in counts.items()
        if count >= floor
    ]
    return [word for _, word in sorted(scored, key=lambda item: (-item[0], item[1]))[:KEY_TERMS]]


def gap_key(ref: str) -> str:
    """A gap's key: a hash of its most typical member, so it stays while the gap grows."""
    return hashlib.sha256(ref.encode("utf-8")).hexdigest()[:16]


def _counts(values: Sequence[str | None]) -> list[Count]:
    tally = Counter(value for value in values if value)
    return [
        Count(name=name, count=n) for name, n in sorted(tally.items(), key=lambda i: (-i[1], i[0]))
    ]


def _trend(times: Sequence[datetime | None], middle: datetime) -> float:
    later = sum(1 for at in times if at is not None and at >= middle)
    earlier = sum(1 for at in times if at is not None and at < middle)
    return round((later - earlier) / len(times), 4) if times else 0.0


def rank(
    pool: Candidates, rows: npt.NDArray[np.int64], middle: datetime
) -> tuple[float, int, float]:
    """What gaps are ordered by: priority (volume times escalation share, smoothed), size,
    trend. Cheap, so only the gaps that make the list need describing."""
    tickets = sum(1 for r in rows if pool.kinds[r] == "ticket")
    escalated = sum(1 for r in rows if pool.escalated[r])
    size = len(rows)
    priority = round(size * (escalated + 1) / (tickets + 2), 4)
    return priority, size, _trend([pool.times[r] for r in rows], middle)


def describe(
    pool: Candidates,
    rows: npt.NDArray[np.int64],
    coverage: npt.NDArray[np.float32],
    *,
    member_words: Sequence[set[str]],
    document_frequency: Counter[str],
    total: int,
    middle: datetime,
) -> Gap:
    """One gap from the candidate rows of its cluster."""
    vectors = pool.vectors[rows]
    typical = rows[medoid(vectors)]
    closeness = vectors @ pool.vectors[typical]
    # Representatives: tickets with a resolution first, the most typical first.
    order = sorted(
        range(len(rows)),
        key=lambda i: (
            pool.kinds[rows[i]] != "ticket",
            not pool.resolutions[rows[i]],
            -closeness[i],
        ),
    )
    representatives = [
        GapMember(
            ref=pool.refs[rows[i]],
            kind="ticket" if pool.kinds[rows[i]] == "ticket" else "search",
            title=pool.titles[rows[i]],
            resolution=pool.resolutions[rows[i]][:RESOLUTION_CHARS],
            team=pool.teams[rows[i]],
            coverage=round(float(coverage[rows[i]]), 4),
        )
        for i in order[:REPRESENTATIVES]
    ]
    tickets = sum(1 for r in rows if pool.kinds[r] == "ticket")
    escalated = sum(1 for r in rows if pool.escalated[r])
    teams = _counts([pool.teams[r] for r in rows])
    priority, size, trend = rank(pool, rows, middle)
    title_row = next(
        (r for r in rows[np.argsort(-closeness)] if pool.kinds[r] == "ticket"), typical
    )
    return Gap(
        key=gap_key(pool.refs[typical]),
        size=size,
        tickets=tickets,
        searches=size - tickets,
        escalated=escalated,
        escalation_share=round(escalated / tickets, 4) if tickets else 0.0,
        trend=trend,
        priority=priority,
        team=teams[0].name if teams else None,
        teams=teams,
        languages=_counts([pool.languages[r] for r in rows]),
        key_terms=key_terms(member_words, document_frequency, total),
        proposed_title=pool.titles[title_row].strip()[:200],
        representatives=representatives,
        members=[pool.refs[rows[i]] for i in np.argsort(-closeness, kind="stable")],
    )
