"""Ticket readers: JSONL, CSV with a column mapping, and clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ingest.errors import InvalidTicket, SkippedRecord
from ingest.tickets import parse_mapping, read_tickets


def test_jsonl_tickets_are_validated(tmp_path: Path) -> None:
    path = tmp_path / "export.jsonl"
    rows = [
        {"id": 1, "title": "VPN", "description": "drops", "team": "network", "tags": "a;b"},
        {"id": "2", "title": "Printer", "source": "zammad", "created_at": "2026-01-02T10:00:00Z"},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n", encoding="utf-8")
    tickets = list(read_tickets(path))
    assert [(t.source, t.id) for t in tickets] == [("export", "1"), ("zammad", "2")]
    assert tickets[0].tags == ["a", "b"]
    assert tickets[1].created_at is not None


def test_csv_with_column_mapping(tmp_path: Path) -> None:
    path = tmp_path / "servicenow.csv"
    path.write_text(
        "Number,Short description,Description,Assignment group,Close notes\n"
        "INC1,Outlook hängt,Startet nicht,messaging,Profil neu angelegt\n",
        encoding="utf-8",
    )
    mapping = parse_mapping(
        "id=Number,title=Short description,description=Description,"
        "team=Assignment group,resolution=Close notes"
    )
    (ticket,) = read_tickets(path, mapping=mapping, default_source="snow")
    assert ticket.id == "INC1"
    assert ticket.title == "Outlook hängt"
    assert ticket.team == "messaging"
    assert ticket.resolution == "Profil neu angelegt"
    assert ticket.source == "snow"


def test_bad_line_is_reported_with_its_position(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text('{"id": "1", "title": "ok"}\n{"id": "2"}\n', encoding="utf-8")
    with pytest.raises(InvalidTicket, match=r"t.jsonl:2") as caught:
        list(read_tickets(path))
    assert caught.value.details[0]["field"] == "title"


def test_mapping_errors() -> None:
    with pytest.raises(InvalidTicket, match="Unknown field"):
        parse_mapping("headline=Short description")
    with pytest.raises(InvalidTicket, match="expected field=column"):
        parse_mapping("title")


def test_mapped_column_must_exist(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(InvalidTicket, match="not in the file"):
        list(read_tickets(path, mapping={"title": "Short description"}))


def test_unsupported_file_type(tmp_path: Path) -> None:
    path = tmp_path / "t.xlsx"
    path.write_bytes(b"")
    with pytest.raises(InvalidTicket, match="Unsupported"):
        list(read_tickets(path))


@pytest.mark.parametrize(
    ("field", "value"), [("source", "a/b"), ("source", "x:y"), ("id", "../etc"), ("id", "..")]
)
def test_a_row_with_a_bad_source_or_id_is_invalid(tmp_path: Path, field: str, value: str) -> None:
    path = tmp_path / "t.jsonl"
    row = {"id": "1", "title": "VPN", "source": "ok", field: value}
    path.write_text(json.dumps({"id": "0", "title": "ok"}) + "\n" + json.dumps(row) + "\n")
    with pytest.raises(InvalidTicket, match=r"t.jsonl:2") as caught:
        list(read_tickets(path))
    assert caught.value.details[0]["field"] == field


def test_the_default_source_from_a_file_name_is_made_valid(tmp_path: Path) -> None:
    path = tmp_path / "Export 2026: Q1.jsonl"
    path.write_text(json.dumps({"id": "1", "title": "VPN"}) + "\n", encoding="utf-8")
    (ticket,) = read_tickets(path)
    assert ticket.source == "Export-2026-Q1"


def test_skip_invalid_collects_bad_lines_and_keeps_the_good(tmp_path: Path) -> None:
    path = tmp_path / "export.jsonl"
    path.write_text(
        '{"id": "1", "title": "VPN"}\n'
        '{"id": "2", "title": ""}\n'
        "{not json\n"
        "\n"
        '["a list"]\n'
        '{"id": "5", "title": "Printer"}\n',
        encoding="utf-8",
    )
    skipped: list[SkippedRecord] = []
    tickets = list(read_tickets(path, skipped=skipped))
    assert [t.id for t in tickets] == ["1", "5"]
    assert [s.where for s in skipped] == ["export.jsonl:2", "export.jsonl:3", "export.jsonl:5"]
    assert skipped[0].reason.startswith("invalid ticket (title: ")
    assert "not valid JSON" in skipped[1].reason
    assert skipped[2].reason == "expected a JSON object"


def test_skip_invalid_csv_rows_are_counted_from_the_header(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text("Number,Title\nINC1,VPN\nINC2,\nINC3,Printer\n", encoding="utf-8")
    skipped: list[SkippedRecord] = []
    mapping = {"id": "Number", "title": "Title"}
    tickets = list(read_tickets(path, mapping=mapping, skipped=skipped))
    assert [t.id for t in tickets] == ["INC1", "INC3"]
    assert [s.where for s in skipped] == ["export.csv:3"]


def test_skip_invalid_still_refuses_a_wrong_mapping(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(InvalidTicket, match=r"not in t\.csv"):
        list(read_tickets(path, mapping={"title": "Short description"}, skipped=[]))
