"""`stellwerk gaps`: the admin's gaps as JSON or a table (fake model; real: test_gaps_api)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import cli
from tests.factories import write_article
from tests.fakes import HashingEmbedder

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("STELLWERK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("STELLWERK_DATABASE_URL", raising=False)
    monkeypatch.setattr(
        "app.components.load_configured_embedder", lambda settings: HashingEmbedder()
    )
    folder = tmp_path / "kb"
    write_article(folder, "vpn", "VPN tunnel drops", "## Fix\n\nRenew the VPN certificate.")
    write_article(folder, "printer", "Printer spooler jammed", "## Fix\n\nRestart the spooler.")
    write_article(folder, "outlook", "Outlook mailbox quota", "## Fix\n\nArchive old mail.")
    tickets = tmp_path / "tickets.jsonl"
    rows = [
        ("1", "VPN tunnel drops at home", "network"),
        ("2", "Printer spooler jammed again", "workplace"),
        ("3", "Outlook mailbox quota exceeded", "messaging"),
        ("4", "Beamer projector hdmi signal missing", "workplace"),
        ("5", "Beamer projector hdmi signal lost", "workplace"),
        ("6", "Beamer projector hdmi signal gone", "workplace"),
        ("7", "VPN tunnel drops every hour", "network"),
        ("8", "Printer spooler jammed today", "workplace"),
        ("9", "Outlook mailbox quota full", "messaging"),
    ]
    tickets.write_text(
        "\n".join(
            json.dumps(
                {"id": i, "title": t, "description": "", "resolution": "Fixed.", "team": team}
            )
            for i, t, team in rows
        )
        + "\n"
    )
    for args in (["ingest", "articles", str(folder)], ["ingest", "tickets", str(tickets)]):
        result = runner.invoke(cli, args)
        assert result.exit_code == 0, result.output
    return tmp_path


def test_gaps_json_names_the_uncovered_topic(env: Path) -> None:
    result = runner.invoke(cli, ["gaps", "--json"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout[result.stdout.index("{") :])
    assert body["candidates"] == 9
    # One gap, of projector tickets only (the fake model's cut may leave one of the three
    # covered); none of the tickets an article answers.
    assert len(body["gaps"]) == 1
    members = set(body["gaps"][0]["members"])
    assert len(members) >= 2
    assert members <= {"ticket:tickets:4", "ticket:tickets:5", "ticket:tickets:6"}
    table = runner.invoke(cli, ["gaps"])
    assert table.exit_code == 0 and "Beamer projector hdmi" in table.stdout


def test_gaps_rejects_a_bad_date(env: Path) -> None:
    result = runner.invoke(cli, ["gaps", "--from", "yesterday"])
    assert result.exit_code != 0
