"""Labelled tickets for evaluation: reading JSONL, stratified samples, near-duplicate splits."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.embedder import Vectors
from ingest.errors import InvalidTicket
from ingest.tickets import json_objects
from routing.errors import DatasetError
from routing.features import TicketText


@dataclass(frozen=True)
class LabelledTicket:
    """A resolved ticket with the team that finally handled it."""

    id: str
    title: str
    description: str
    team: str
    language: str

    @property
    def text(self) -> TicketText:
        return TicketText(self.title, self.description)


def read_labelled(path: Path) -> list[LabelledTicket]:
    """Tickets with a team from a JSONL file (shared/data format); others are skipped.

    Benchmark sets may lack titles (endava has none), so this reader is more lenient than
    the ingest schema.
    """
    if not path.is_file():
        raise DatasetError(f"{path} is not a file.")
    tickets: list[LabelledTicket] = []
    try:
        for number, row in json_objects(path):
            team = str(row.get("team") or "").strip()
            if not team:
                continue
            tickets.append(
                LabelledTicket(
                    id=str(row.get("id", number)),
                    title=str(row.get("title") or ""),
                    description=str(row.get("description") or ""),
                    team=team,
                    language=str(row.get("language") or "unknown"),
                )
            )
    except InvalidTicket as exc:
        raise DatasetError(str(exc)) from exc
    if not tickets:
        raise DatasetError(f"{path} holds no tickets with a team.")
    return tickets


def stratified_sample(
    tickets: Sequence[LabelledTicket], size: int | None, *, seed: int
) -> list[LabelledTicket]:
    """`size` tickets keeping team proportions (largest remainder); all when size is None."""
    if size is None or size >= len(tickets):
        return list(tickets)
    rng = np.random.default_rng(seed)
    by_team: dict[str, list[int]] = defaultdict(list)
    for position, ticket in enumerate(tickets):
        by_team[ticket.team].append(position)
    teams = sorted(by_team)
    exact = {team: size * len(by_team[team]) / len(tickets) for team in teams}
    quota = {team: int(exact[team]) for team in teams}
    leftover = size - sum(quota.values())
    for team in sorted(teams, key=lambda t: (quota[t] - exact[t], t))[:leftover]:
        quota[team] += 1
    chosen: list[int] = []
    for team in teams:
        members = np.array(by_team[team])
        chosen.extend(int(i) for i in rng.permutation(members)[: quota[team]])
    return [tickets[i] for i in rng.permutation(np.array(chosen))]


def near_duplicate_clusters(vectors: Vectors, threshold: float) -> list[int]:
    """Cluster label per ticket: connected components of cosine similarity above threshold."""
    count = len(vectors)
    parent = list(range(count))

    def root(node: int) -> int:
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for start in range(0, count, 1024):
        block = vectors[start : start + 1024] @ vectors.T
        rows, cols = np.nonzero(block > threshold)
        for row, col in zip(rows.tolist(), cols.tolist(), strict=True):
            a, b = root(start + row), root(col)
            if a != b:
                parent[max(a, b)] = min(a, b)
    return [root(node) for node in range(count)]


def split_by_cluster(
    clusters: Sequence[int], *, test_fraction: float, seed: int
) -> tuple[list[int], list[int]]:
    """Train and test positions such that no near-duplicate cluster is on both sides."""
    members: dict[int, list[int]] = defaultdict(list)
    for position, cluster in enumerate(clusters):
        members[cluster].append(position)
    order = np.random.default_rng(seed).permutation(np.array(sorted(members)))
    target = test_fraction * len(clusters)
    train: list[int] = []
    test: list[int] = []
    for cluster in order.tolist():
        # A cluster that would overshoot the test share goes to training, so one large
        # family of paraphrases cannot make up most of the test set.
        fits = len(test) + len(members[cluster]) <= target
        (test if fits else train).extend(members[cluster])
    return sorted(train), sorted(test)
