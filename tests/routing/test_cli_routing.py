"""`stellwerk routing train|status` and `stellwerk eval routing`, with a fake model."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from app.cli import cli as main_cli
from app.cli.eval import eval_routing
from app.cli.routing import routing_cli
from routing.second_model import SecondModel
from tests.fakes import HashingEmbedder
from tests.routing.helpers import synthetic_tickets, write_charters

runner = CliRunner()

# The lead registers these in app/cli/__init__.py; the test builds the same tree.
cli = typer.Typer()
cli.add_typer(routing_cli, name="routing")
eval_cli = typer.Typer()
eval_cli.command("routing")(eval_routing)
cli.add_typer(eval_cli, name="eval")


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data_dir = tmp_path / "data"
    monkeypatch.setenv("STELLWERK_DATA_DIR", str(data_dir))
    monkeypatch.delenv("STELLWERK_DATABASE_URL", raising=False)
    monkeypatch.setenv("STELLWERK_EMBEDDING_MODEL", "a")
    monkeypatch.setenv("STELLWERK_ROUTING_SECOND_MODEL", "")  # one test below sets a fake one
    monkeypatch.setattr(
        "app.components.load_configured_embedder",
        lambda settings: HashingEmbedder(dim=256, model_id=f"fake-{settings.embedding_model}"),
    )
    return data_dir


def _jsonl(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def test_eval_routing_prints_one_json_object_with_both_systems(env: Path, tmp_path: Path) -> None:
    train = _jsonl(tmp_path / "train.jsonl", synthetic_tickets(90, seed=1))
    test_records = synthetic_tickets(30, seed=2)
    for number, record in enumerate(test_records):
        record["language"] = "de" if number % 2 else "en"
    test = _jsonl(tmp_path / "test.jsonl", test_records)
    args = ["eval", "routing", "--train", str(train), "--test", str(test), "--json"]
    result = runner.invoke(cli, [*args, "--sample-train", "60", "--by-language"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["train"] == 60
    assert report["test"] == 30
    for system in ("stellwerk", "tfidf_svm"):
        figures = report["systems"][system]
        for key in ("accuracy", "macro_f1", "top3_accuracy", "accuracy_at_80_coverage", "ece"):
            assert 0.0 <= figures[key] <= 1.0
        assert set(figures["per_team"]) == {"messaging", "network", "workplace"}
        assert set(figures["by_language"]) == {"de", "en"}
        assert list(figures["risk_coverage"]) == ["0.5", "0.6", "0.7", "0.8", "0.9"]
        assert sum(row["tickets"] for row in figures["reliability"]) == 30
    stellwerk = report["systems"]["stellwerk"]
    assert stellwerk["accuracy"] >= 0.8
    assert stellwerk["model_choice"]["chosen"] in stellwerk["model_choice"]["log_loss"]
    assert stellwerk["calibration"]["temperature"] > 0


def test_eval_routing_by_cluster_and_charters(env: Path, tmp_path: Path) -> None:
    records = synthetic_tickets(60, seed=3)
    records += [{**r, "id": r["id"] + "-copy"} for r in records[:20]]  # exact duplicates
    data = _jsonl(tmp_path / "all.jsonl", records)
    charters = write_charters(tmp_path / "articles")
    result = runner.invoke(
        cli,
        [
            *("eval", "routing", "--train", str(data), "--split-by-cluster", "--json"),
            *("--cluster-threshold", "0.99", "--charters", str(charters)),
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["train"] + report["test"] == 80
    assert report["split"]["clusters"] <= 60
    assert "charters" in report["systems"]


def test_charters_only_needs_no_training_file(env: Path, tmp_path: Path) -> None:
    test = _jsonl(tmp_path / "test.jsonl", synthetic_tickets(12, seed=4))
    charters = write_charters(tmp_path / "articles")
    args = ["eval", "routing", "--test", str(test), "--charters", str(charters), "--json"]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert list(json.loads(result.stdout)["systems"]) == ["charters"]


def test_eval_routing_without_test_file_fails_with_one_line(env: Path, tmp_path: Path) -> None:
    train = _jsonl(tmp_path / "train.jsonl", synthetic_tickets(10, seed=5))
    result = runner.invoke(cli, ["eval", "routing", "--train", str(train)])
    assert result.exit_code == 1
    assert "error: Give --test FILE" in result.output


def test_train_and_status(env: Path, tmp_path: Path) -> None:
    assert runner.invoke(cli, ["routing", "status"]).output.startswith("routing: no trained model")
    records = _jsonl(tmp_path / "tickets.jsonl", synthetic_tickets(12, seed=6))
    articles = write_charters(tmp_path / "articles")
    assert runner.invoke(main_cli, ["ingest", "articles", str(articles)]).exit_code == 0
    assert runner.invoke(main_cli, ["ingest", "tickets", str(records)]).exit_code == 0
    trained = runner.invoke(cli, ["routing", "train"])
    assert trained.exit_code == 0, trained.output
    assert "vote model on 12 tickets" in trained.output
    status = runner.invoke(cli, ["routing", "status"])
    assert "routing: vote model" in status.output
    assert "12 tickets, embedding model fake-a" in status.output
    assert "charters: messaging, network, workplace" in status.output


def test_eval_routing_cache_dir_encodes_each_ticket_once(
    env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    embedder = HashingEmbedder(dim=256, model_id="fake-cached")
    monkeypatch.setattr("app.components.load_configured_embedder", lambda settings: embedder)
    train = _jsonl(tmp_path / "train.jsonl", synthetic_tickets(60, seed=8))
    test = _jsonl(tmp_path / "test.jsonl", synthetic_tickets(20, seed=9))
    cache = tmp_path / "vectors"
    args = ["eval", "routing", "--train", str(train), "--test", str(test), "--json"]
    first = runner.invoke(cli, [*args, "--cache-dir", str(cache)])
    assert first.exit_code == 0, first.output
    encoded = embedder.encoded_documents
    assert json.loads(first.stdout)["vector_cache"]["encoded"] == 80

    second = runner.invoke(cli, [*args, "--cache-dir", str(cache)])
    assert second.exit_code == 0, second.output
    assert embedder.encoded_documents == encoded
    report = json.loads(second.stdout)
    assert report["vector_cache"]["cached"] == 80
    assert report["vector_cache"]["encoded"] == 0
    assert report["systems"] == json.loads(first.stdout)["systems"]

    plain = runner.invoke(cli, args)  # without the option nothing is read or written
    assert "vector_cache" not in json.loads(plain.stdout)
    assert embedder.encoded_documents == 2 * encoded


def _configured_second(monkeypatch: pytest.MonkeyPatch) -> HashingEmbedder:
    """A fake second model that the CLI's settings load as the router's."""
    second = HashingEmbedder(dim=32, model_id="fake-second")
    monkeypatch.setenv("STELLWERK_ROUTING_SECOND_MODEL", "second")
    monkeypatch.setattr(
        "app.components.load_second_model",
        lambda settings, embedder=None: SecondModel.loaded(second),
    )
    return second


def test_eval_routing_reads_the_configured_second_model(
    env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    second = _configured_second(monkeypatch)
    train = _jsonl(tmp_path / "train.jsonl", synthetic_tickets(60, seed=8))
    test = _jsonl(tmp_path / "test.jsonl", synthetic_tickets(20, seed=9))
    args = ["eval", "routing", "--train", str(train), "--test", str(test), "--json"]
    result = runner.invoke(cli, [*args, "--cache-dir", str(tmp_path / "vectors")])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["second_model_id"] == "fake-second"
    # The classifier weighed the second model's learners (on these words they add nothing).
    choice = report["systems"]["stellwerk"]["learner_choice"]
    assert set(choice) == {"log_loss_with_second", "log_loss_without_second", "second_kept"}
    assert second.encoded_documents == 80
    assert report["second_vector_cache"]["encoded"] == 80
    assert report["vector_cache"]["encoded"] == 80
    assert report["systems"]["stellwerk"]["accuracy"] > 0.8

    summary = runner.invoke(cli, args[:-1])  # the text summary names both models
    assert summary.exit_code == 0, summary.output
    assert "60 train / 20 test tickets, fake-a + fake-second" in summary.output

    charters = write_charters(tmp_path / "articles")
    charters_only = ["eval", "routing", "--test", str(test), "--charters", str(charters), "--json"]
    encoded = second.encoded_documents
    result = runner.invoke(cli, charters_only)  # no classifier: the second model is not read
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["second_model_id"] is None
    assert second.encoded_documents == encoded


def test_status_tells_whether_the_second_model_was_kept(
    env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    second = HashingEmbedder(dim=32, model_id="fake-second")
    monkeypatch.setenv("STELLWERK_ROUTING_SECOND_MODEL", "second")
    monkeypatch.setenv("STELLWERK_ROUTING_CLASSIFIER_MIN_TICKETS", "30")
    monkeypatch.setattr(
        "app.components.load_second_model",
        lambda settings, embedder=None: SecondModel.loaded(second),
    )
    records = _jsonl(tmp_path / "tickets.jsonl", synthetic_tickets(60, seed=6))
    assert runner.invoke(main_cli, ["ingest", "tickets", str(records)]).exit_code == 0
    trained = runner.invoke(cli, ["routing", "train"])
    assert trained.exit_code == 0, trained.output
    assert re.search(
        r"classifier model on 60 tickets; second model fake-second (kept|dropped)", trained.output
    )
    status = runner.invoke(cli, ["routing", "status"])
    assert "embedding model fake-a + fake-second" in status.output
    assert re.search(r"log-loss [0-9.]+ with it, [0-9.]+ without", status.output)
    chosen = re.search(r"chose (\S+): lowest cross-validated log-loss", status.output)
    assert chosen is not None, status.output
    assert re.search(r"learners: (svm|lr|knn)_", status.output)
    assert re.search(r"calibration: temperature [0-9.]+", status.output)
    assert re.search(r"confidence shrunk [0-9.]+ towards the team shares", status.output)
    assert "reliability (held-out training tickets)" in status.output
    band_row = r"\n    0\.[0-9]-[01]\.[0-9] +[0-9]+ +[01]\.[0-9]{3} +[01]\.[0-9]{3}"
    assert re.search(band_row, status.output)


def _rare_team_tickets() -> list[dict[str, Any]]:
    """Three teams with history, two with one ticket, one with two: a long tail."""
    records = synthetic_tickets(60, seed=11)
    rare = {"database": 1, "identity": 1, "erp": 2}
    for team, count in rare.items():
        for number in range(count):
            records.append(
                {
                    **records[number],
                    "id": f"{team}-{number}",
                    "title": f"{team} issue {number}",
                    "team": team,
                }
            )
    return records


@pytest.mark.parametrize("with_second", [False, True])
def test_eval_routing_survives_teams_with_one_or_two_tickets(
    env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, with_second: bool
) -> None:
    if with_second:  # the second model's learners are weighed by a cross-validation too
        second = HashingEmbedder(dim=32, model_id="fake-second")
        monkeypatch.setenv("STELLWERK_ROUTING_SECOND_MODEL", "second")
        monkeypatch.setattr(
            "app.components.load_second_model",
            lambda settings, embedder=None: SecondModel.loaded(second),
        )
    train = _jsonl(tmp_path / "train.jsonl", _rare_team_tickets())
    test = _jsonl(tmp_path / "test.jsonl", synthetic_tickets(20, seed=12))
    args = ["eval", "routing", "--train", str(train), "--test", str(test), "--json"]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["train"] == 64
    for system in ("stellwerk", "tfidf_svm", "ticket_vote"):
        assert 0.0 <= report["systems"][system]["accuracy"] <= 1.0
    assert {"database", "identity", "erp"} <= set(report["teams"])
    assert report["systems"]["stellwerk"]["accuracy"] >= 0.8
    assert report["systems"]["tfidf_svm"]["confidence_from"] == (
        "CalibratedClassifierCV(LinearSVC, method='sigmoid', cv=2); 2 team(s) with fewer "
        "tickets calibrated in the folds that train on them"
    )


def test_baseline_without_two_splittable_teams_is_uncalibrated() -> None:
    from routing.evaluation import baseline_confidence, tfidf_svm_probabilities

    teams = ["network", "network", "erp", "identity"]
    texts = ["vpn tunnel", "vpn drops", "sap posting", "badge reader"]
    probabilities, classes = tfidf_svm_probabilities(texts, teams, ["vpn again", "sap"])
    assert classes == ["erp", "identity", "network"]
    assert probabilities.shape == (2, 3)
    assert abs(probabilities.sum(axis=1) - 1.0).max() < 1e-9
    assert baseline_confidence(teams).startswith("softmax of LinearSVC margins")


def test_eval_routing_over_several_cluster_splits(
    env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--splits 3 draws three cluster splits from one encoding, the first of them the
    single split's report, and every figure's mean over the three beside it."""
    second = _configured_second(monkeypatch)
    data = _jsonl(tmp_path / "all.jsonl", synthetic_tickets(90, seed=11))
    args = ["eval", "routing", "--train", str(data), "--split-by-cluster", "--json"]
    single = json.loads(runner.invoke(cli, [*args, "--seed", "4"]).stdout)
    encoded = second.encoded_documents
    result = runner.invoke(cli, [*args, "--seed", "4", "--splits", "3"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert second.encoded_documents - encoded == 90  # each ticket once, not once per split
    over = report.pop("over_splits")
    assert report["systems"] == single["systems"] and report["test"] == single["test"]
    assert over["seeds"] == [4, 5, 6]
    for system in ("stellwerk", "tfidf_svm", "ticket_vote"):
        for figure in ("accuracy", "macro_f1", "ece"):
            values = over["systems"][system][figure]
            assert len(values["per_split"]) == 3
            assert values["per_split"][0] == report["systems"][system][figure]
            assert values["mean"] == pytest.approx(sum(values["per_split"]) / 3, abs=1e-4)
    accuracy = over["systems"]["stellwerk"]["accuracy"]["per_split"]
    assert len(set(accuracy)) > 1 or len(set(over["tests"])) > 1  # other test tickets

    summary = runner.invoke(cli, [*args[:-1], "--splits", "2"])
    assert summary.exit_code == 0, summary.output
    assert "mean over 2 splits (seeds [0, 1]):" in summary.output
    with_test = ["eval", "routing", "--train", str(data), "--test", str(data)]
    refused = runner.invoke(cli, [*with_test, "--splits", "2"])
    assert refused.exit_code == 1
    assert "--splits draws cluster splits: give --split-by-cluster." in refused.output
