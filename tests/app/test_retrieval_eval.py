"""`stellwerk eval retrieval` on a tiny BEIR folder (fake model) and on real data (real model)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from app.cli import cli
from app.services.retrieval_eval import evaluate_retrieval
from index.embedder import Embedder
from ingest.beir import load_beir
from tests.conftest import SHARED_DATA
from tests.fakes import HashingEmbedder

MINI = Path(__file__).resolve().parents[1] / "fixtures" / "beir-mini"
METRICS = {"ndcg@10", "mrr@10", "recall@1", "recall@10", "recall@100"}


def test_loader_drops_self_judgements_and_titles_untitled_documents() -> None:
    dataset = load_beir(MINI)
    assert dataset.qrels["q4"] == {"d4": 1}
    untitled = next(d for d in dataset.documents if d.id == "d4")
    assert untitled.title == "Error 0x80070005 when mapping the network drive"


def test_every_system_is_scored_and_self_hits_are_ignored(tmp_path: Path) -> None:
    result = evaluate_retrieval(
        MINI,
        HashingEmbedder(),
        tmp_path,
        max_words=100,
        exact_max=1000,
        default_system="hybrid",
    )
    assert result["queries"] == 4
    assert set(result["systems"]) == {"bm25", "dense", "hybrid", "rrf"}
    for figures in result["systems"].values():
        assert set(figures) >= METRICS
        assert figures["latency_ms_p95"] >= figures["latency_ms_p50"] >= 0
    # q4's own document ranks first lexically; it must not count as a hit or a miss.
    assert result["systems"]["bm25"]["recall@1"] == 1.0


def test_cli_prints_one_json_object(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        "app.components.load_configured_embedder", lambda settings: HashingEmbedder()
    )
    result = CliRunner().invoke(cli, ["eval", "retrieval", str(MINI), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["dataset"] == "beir-mini"
    assert report["default_system"] == "hybrid"


@pytest.mark.slow
@pytest.mark.data
def test_hybrid_is_at_least_as_good_as_either_retriever_cross_lingual(
    real_embedder: Embedder, tmp_path: Path
) -> None:
    result = evaluate_retrieval(
        SHARED_DATA / "retrieval" / "xquad-de-en",
        real_embedder,
        tmp_path,
        max_words=180,
        exact_max=10**6,
        default_system="hybrid",
        systems=("bm25", "dense", "hybrid"),
        max_queries=300,
    )
    ndcg = {name: figures["ndcg@10"] for name, figures in result["systems"].items()}
    assert ndcg["hybrid"] >= max(ndcg["bm25"], ndcg["dense"]), ndcg


def test_query_vectors_are_encoded_once_and_kept_across_runs(tmp_path: Path) -> None:
    first, second = HashingEmbedder(), HashingEmbedder()

    def run(embedder: HashingEmbedder, workspace: Path) -> dict[str, Any]:
        return evaluate_retrieval(
            MINI,
            embedder,
            workspace,
            max_words=100,
            exact_max=1000,
            default_system="hybrid",
            cache_dir=tmp_path / "vectors",
        )

    before = run(first, tmp_path / "a")
    # Four judged queries, each encoded once although three systems read its vector.
    assert first.encoded_queries == 4
    again = run(second, tmp_path / "b")
    assert second.encoded_queries == 0
    assert "encode_ms_per_query" in before and "encode_ms_per_query" not in again
    for system in ("dense", "hybrid"):
        assert again["systems"][system]["ndcg@10"] == before["systems"][system]["ndcg@10"]
