"""The router through the real bundled model on real tickets (shared/data, demo, articles)."""

from __future__ import annotations

from collections import Counter

import pytest

from app.routing.config import RoutingConfig
from app.routing.dataset import read_labelled, stratified_sample
from app.routing.evaluation import evaluate_routing
from app.routing.features import TicketText, embed_new_ticket, embed_tickets
from index.embedder import SentenceTransformerEmbedder
from tests.conftest import REPO_ROOT, SHARED_DATA

pytestmark = pytest.mark.slow


@pytest.mark.data
def test_router_beats_the_majority_team_on_endava(
    real_embedder: SentenceTransformerEmbedder,
) -> None:
    folder = SHARED_DATA / "routing" / "endava-47k"
    train = stratified_sample(read_labelled(folder / "train.jsonl"), 240, seed=0)
    test = stratified_sample(read_labelled(folder / "test.jsonl"), 120, seed=0)
    report = evaluate_routing(train, test, real_embedder, config=RoutingConfig())
    majority = Counter(t.team for t in test).most_common(1)[0][1] / len(test)
    stellwerk = report["systems"]["stellwerk"]
    assert stellwerk["accuracy"] > majority + 0.25
    assert stellwerk["top3_accuracy"] > stellwerk["accuracy"]
    assert stellwerk["ece"] < 0.15


def test_charters_alone_route_the_demo_tickets(real_embedder: SentenceTransformerEmbedder) -> None:
    demo = read_labelled(REPO_ROOT / "demo" / "tickets.jsonl")
    report = evaluate_routing(
        [], demo, real_embedder, config=RoutingConfig(), charters_folder=REPO_ROOT / "articles"
    )
    charters = report["systems"]["charters"]
    assert len(Counter(t.team for t in demo)) == 7
    assert charters["accuracy"] > 0.5  # chance is 1/7
    assert charters["top3_accuracy"] > 0.8


def test_a_new_ticket_is_encoded_once_as_query_and_document(
    real_embedder: SentenceTransformerEmbedder,
) -> None:
    long_description = " ".join(["Outlook bleibt beim Start hängen, Profil wird geladen."] * 40)
    ticket = TicketText("Outlook startet nicht mehr nach dem Update", long_description)
    query, document = embed_new_ticket(real_embedder, ticket, max_words=180)
    separate_query = real_embedder.encode_queries([ticket.lexical])[0]
    separate_document = embed_tickets(real_embedder, [ticket], max_words=180)[0]
    assert float(query @ separate_query) > 0.9999
    assert float(document @ separate_document) > 0.9999
    assert float(query @ document) < 0.999  # the two prompts really differ
