"""Build a routing model from the database: charters, resolved tickets and their stored vectors."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import Article, Passage, Ticket
from index.embedder import Embedder
from ingest.ticket_vectors import mean_vector
from routing.charters import charter_of_article
from routing.cold_start import Charter, CharterIndex, charter_for_routing
from routing.config import RoutingConfig
from routing.errors import RoutingModelMismatch, TrainingRejected
from routing.features import TicketText
from routing.memory import TicketMemory
from routing.model import TeamClassifier
from routing.second_model import SecondModel
from routing.staged import RoutingModel

_STAGE_RANK = {"none": 0, "charters": 1, "vote": 2, "classifier": 3}


@dataclass
class TrainingSet:
    """Resolved tickets with a team: what the router remembers and learns from."""

    memory: TicketMemory
    tickets: list[TicketText]


def load_charters(session: Session) -> list[Charter]:
    """Published team charters: articles with `kind: team` that name their team.

    A draft or archived charter is not the team's word yet (or any more), and its lines
    would show up as evidence for people who may not read drafts.
    """
    articles = session.scalars(
        select(Article)
        .where(Article.kind == "team", Article.status == "published")
        .order_by(Article.slug)
    )
    return [
        charter_for_routing(charter_of_article(article)) for article in articles if article.team
    ]


def load_training_set(session: Session, *, model_id: str, dim: int) -> TrainingSet:
    """Resolved tickets with a team, one vector each: the mean of their stored passages.

    Reuses the embeddings written at ingest instead of encoding again; passages of another
    model are refused, since mixing vector spaces would train on noise.
    """
    rows = session.execute(
        select(
            Ticket.id,
            Ticket.external_id,
            Ticket.title,
            Ticket.description,
            Ticket.team,
            Passage.model_id,
            Passage.embedding,
        )
        .join(Passage, Passage.ticket_id == Ticket.id)
        .where(Ticket.team.is_not(None), Ticket.team != "")
        .order_by(Ticket.id, Passage.position)
    )
    memory = TicketMemory()
    tickets: list[TicketText] = []
    vectors: list[np.ndarray] = []
    blobs: list[bytes] = []
    last_id: int | None = None

    def close_ticket() -> None:
        if blobs:
            stacked = np.frombuffer(b"".join(blobs), dtype=np.float32).reshape(len(blobs), dim)
            vectors.append(mean_vector(stacked))
            blobs.clear()

    for ticket_id, external_id, title, description, team, passage_model, blob in rows:
        if passage_model != model_id:
            raise RoutingModelMismatch(
                f"Ticket {external_id} was embedded with {passage_model!r}, the configured "
                f"model is {model_id!r}. Run `stellwerk index rebuild` first."
            )
        if ticket_id != last_id:
            close_ticket()
            last_id = ticket_id
            memory.ticket_ids.append(ticket_id)
            memory.external_ids.append(external_id)
            memory.titles.append(title)
            memory.teams.append(team or "")
            tickets.append(TicketText(title, description))
        blobs.append(blob)
    close_ticket()
    memory.vectors = (
        np.vstack(vectors).astype(np.float32) if vectors else np.zeros((0, dim), dtype=np.float32)
    )
    return TrainingSet(memory, tickets)


def classifier_refusal(teams: Sequence[str], config: RoutingConfig) -> str | None:
    """Why these tickets cannot train the classifier yet, or None when they can."""
    if len(teams) < config.classifier_min_tickets:
        return (
            f"{len(teams)} resolved tickets with a team; the classifier needs at least "
            f"{config.classifier_min_tickets}."
        )
    distinct = len(set(teams))
    if distinct < config.classifier_min_teams:
        return (
            f"tickets of {distinct} team(s); the classifier needs at least "
            f"{config.classifier_min_teams}."
        )
    return None


def build_routing_model(
    *,
    charters: CharterIndex,
    training: TrainingSet,
    config: RoutingConfig,
    model_id: str,
    second: SecondModel | None = None,
) -> RoutingModel:
    """Charters and memory always; the classifier once the history is large enough, with
    learners on the `second` model's vectors when there is one."""
    if classifier_refusal(training.memory.teams, config) is not None:
        return RoutingModel(model_id, charters, training.memory)
    # The newest tickets train the classifier: a bounded training time, and today's
    # team structure rather than last decade's. The memory keeps every ticket.
    recent = slice(-config.classifier_max_tickets, None)
    tickets = training.tickets[recent]
    classifier = TeamClassifier(config.classifier).fit(
        [t.lexical for t in tickets],
        training.memory.vectors[recent],
        training.memory.teams[recent],
        second=second.tickets(tickets) if second is not None else None,
    )
    # The second model the classifier was trained with, even when it dropped its learners:
    # a router configured with another one retrains instead of loading this model.
    second_id = second.model_id if second is not None else None
    return RoutingModel(model_id, charters, training.memory, classifier, second_id)


def train_from_database(
    session: Session,
    embedder: Embedder,
    config: RoutingConfig,
    *,
    serving_stage: str = "none",
    second: SecondModel | None = None,
) -> RoutingModel:
    """Build a new routing model; refuse one that would route with less than `serving_stage`.

    A model whose training set shrank below what the serving model needed (an emptied
    table, a failed import) is rejected with the reason, so the previous model stays.
    """
    training = load_training_set(session, model_id=embedder.model_id, dim=embedder.dim)
    charters = CharterIndex.build(load_charters(session), embedder)
    model = build_routing_model(
        charters=charters,
        training=training,
        config=config,
        model_id=embedder.model_id,
        second=second,
    )
    if _STAGE_RANK[model.stage] < _STAGE_RANK.get(serving_stage, 0):
        reason = classifier_refusal(training.memory.teams, config) or (
            f"{len(training.memory)} resolved tickets and {len(charters)} charters"
        )
        raise TrainingRejected(
            f"Kept the serving {serving_stage} model: the new training set only supports "
            f"the {model.stage} stage ({reason})"
        )
    return model
