"""`stellwerk eval gaps` on a synthetic BEIR folder (fake model; real sets: docs/BENCHMARKS.md)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import cli
from app.services.gaps_eval import evaluate_gaps
from tests.fakes import HashingEmbedder

TOPICS = [
    "printer spooler jammed",
    "vpn tunnel certificate",
    "outlook mailbox quota",
    "bitlocker recovery key",
    "monitor docking flicker",
    "password expired reset",
    "sharepoint permission denied",
    "teams camera black",
    "laptop battery swelling",
    "wifi guest portal",
]


def _beir(folder: Path) -> Path:
    """Ten documents on distinct topics, two queries per document."""
    (folder / "qrels").mkdir(parents=True)
    corpus = [
        {"_id": f"d{n}", "title": topic, "text": f"How to fix {topic} for {topic} cases."}
        for n, topic in enumerate(TOPICS)
    ]
    queries = [
        {"_id": f"q{n}-{k}", "text": f"{topic} {extra}".strip()}
        for n, topic in enumerate(TOPICS)
        for k, extra in enumerate(("", "urgently"))
    ]
    (folder / "corpus.jsonl").write_text("\n".join(json.dumps(r) for r in corpus) + "\n")
    (folder / "queries.jsonl").write_text("\n".join(json.dumps(r) for r in queries) + "\n")
    lines = ["query-id\tcorpus-id\tscore"]
    lines += [f"q{n}-{k}\td{n}\t1" for n in range(len(TOPICS)) for k in range(2)]
    (folder / "qrels" / "test.tsv").write_text("\n".join(lines) + "\n")
    return folder


def test_both_systems_find_the_queries_of_the_removed_documents(tmp_path: Path) -> None:
    result = evaluate_gaps(
        _beir(tmp_path / "set"), HashingEmbedder(), remove_fraction=0.2, seed=0, max_words=100
    )
    assert result["removed"] == 2 and result["queries"] == 20
    assert result["uncovered"] == 4  # two queries for each removed document
    assert set(result["systems"]) == {"stellwerk", "tfidf"}
    for figures in result["systems"].values():
        assert figures["f1"] == 1.0, figures
    # The two pairs, each its own cluster. TF-IDF fitted on the remaining corpus knows no
    # word of a removed topic: its uncovered queries have no vector, and fall together.
    assert result["systems"]["stellwerk"]["ari"] == 1.0
    assert result["systems"]["tfidf"]["ari"] == 0.0


def test_the_fraction_must_leave_a_task(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="remove-fraction"):
        evaluate_gaps(
            _beir(tmp_path / "set"), HashingEmbedder(), remove_fraction=1.5, seed=0, max_words=100
        )


def test_cli_prints_one_json_object_and_reuses_its_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _beir(tmp_path / "set")
    embedders: list[HashingEmbedder] = []

    def load(settings: object) -> HashingEmbedder:
        embedders.append(HashingEmbedder())
        return embedders[-1]

    monkeypatch.setattr("app.components.load_configured_embedder", load)
    args = ["eval", "gaps", str(folder), "--remove-fraction", "0.2", "--seed", "0", "--json"]
    args += ["--cache-dir", str(tmp_path / "cache")]
    first = CliRunner().invoke(cli, args)
    assert first.exit_code == 0, first.output
    report = json.loads(first.stdout.strip().splitlines()[-1])
    assert report["dataset"] == "set" and set(report["systems"]) == {"stellwerk", "tfidf"}
    assert embedders[0].encoded_documents > 0
    second = CliRunner().invoke(cli, args)
    assert second.exit_code == 0, second.output
    assert embedders[1].encoded_documents == 0  # every vector came from the cache
    assert json.loads(second.stdout.strip().splitlines()[-1]) == report
