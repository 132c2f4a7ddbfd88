"""A query ranks by its question and text roles blended; thresholds keep the question role."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy.orm import Session, sessionmaker

from index.dense import DenseIndex
from index.embedder import Embedder, Vectors
from index.query_vector import TEXT_ROLE_WEIGHT, QueryVectors, blend_roles, query_vectors
from index.searcher import PassageMeta, Searcher
from ingest.live_index import LiveIndex
from tests.fakes import RoleEmbedder


def _unit(*values: float) -> Vectors:
    vector = np.array(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)


def test_blend_mixes_the_roles_by_weight_and_stays_unit_length() -> None:
    question, text = _unit(1, 0, 0), _unit(0, 1, 0)
    np.testing.assert_allclose(blend_roles(question, text, 0.0), question)
    np.testing.assert_allclose(blend_roles(question, text, 1.0), text)
    blended = blend_roles(question, text, 0.3)
    np.testing.assert_allclose(blended, _unit(0.7, 0.3, 0), rtol=1e-6)
    assert blended.dtype == np.float32
    with pytest.raises(ValueError, match="weight"):
        blend_roles(question, text, 1.5)


def test_query_vectors_encode_both_roles_in_one_pass() -> None:
    embedder = RoleEmbedder()
    vectors = query_vectors(embedder, "vpn drops every ten minutes")
    question = embedder.encode_queries(["vpn drops every ten minutes"])[0]
    as_text = embedder.encode_documents(["vpn drops every ten minutes"])[0]
    np.testing.assert_allclose(vectors.question, question)
    np.testing.assert_allclose(vectors.ranking, blend_roles(question, as_text, TEXT_ROLE_WEIGHT))
    assert not np.allclose(vectors.ranking, vectors.question)


def test_live_search_ranks_by_the_blend(factory: sessionmaker[Session]) -> None:
    embedder = RoleEmbedder()
    texts = ["vpn drops every ten minutes at home", "printer queue is stuck"]
    passages = embedder.encode_documents(texts)
    searcher = Searcher(DenseIndex(embedder.dim))
    searcher.add([PassageMeta(1, "doc:vpn"), PassageMeta(2, "doc:printer")], passages, texts)
    live = LiveIndex(searcher, embedder=embedder, factory=factory, refresh_seconds=0.0)

    hits = live.search("vpn drops", 2, system="dense")

    expected = query_vectors(embedder, "vpn drops")
    score = {hit.doc_key: hit.score for hit in hits}
    assert score["doc:vpn"] == pytest.approx(float(expected.ranking @ passages[0]), abs=1e-5)
    assert score["doc:vpn"] != pytest.approx(float(expected.question @ passages[0]), abs=1e-3)


def test_of_keeps_the_question_and_blends_the_ranking() -> None:
    vectors = QueryVectors.of(_unit(1, 0), _unit(0, 1))
    np.testing.assert_allclose(vectors.question, _unit(1, 0))
    np.testing.assert_allclose(vectors.ranking, blend_roles(_unit(1, 0), _unit(0, 1)))


@pytest.mark.slow
def test_real_model_blends_its_query_and_passage_prefixes(
    real_embedder: Embedder,
) -> None:
    text = "Outlook startet nicht mehr nach dem Update"
    vectors = query_vectors(real_embedder, text)
    question = real_embedder.encode_queries([text])[0]
    as_text = real_embedder.encode_documents([text])[0]
    # One call for both roles: the int8 engine quantises activations per batch, so the joint
    # call's vectors differ slightly from lone calls' (docs/BENCHMARKS.md, "Encode engines").
    tolerance = 1e-4 if real_embedder.engine != "onnx-int8" else 0.01
    assert 1 - float(vectors.question @ question) < tolerance
    assert 1 - float(vectors.ranking @ blend_roles(question, as_text)) < tolerance
    # The two prefixes really read the text differently, so the blend is not a no-op.
    assert float(question @ as_text) < 0.99
