"""Timestamps are stored as UTC and always come back with an offset, on every database."""

from __future__ import annotations

from datetime import datetime

from fastapi.testclient import TestClient

from tests.factories import article_markdown, ticket


def _aware(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    assert parsed.utcoffset() is not None, value
    return parsed


def test_an_offset_on_input_is_kept_as_the_same_instant(client: TestClient) -> None:
    record = ticket(
        "TZ-1",
        "VPN",
        "drops",
        created_at="2026-11-30T09:00:00+01:00",
        resolved_at="2026-11-30T10:30:00-05:00",
    )
    written = client.post("/api/v1/tickets", json=record).json()["ticket"]
    read = client.get("/api/v1/tickets/test/TZ-1").json()
    for body in (written, read):
        assert body["created_at"] == "2026-11-30T08:00:00Z"
        assert body["resolved_at"] == "2026-11-30T15:30:00Z"


def test_a_naive_input_is_taken_as_utc(client: TestClient) -> None:
    record = ticket("TZ-2", "VPN", "drops", created_at="2026-11-30T09:00:00")
    client.post("/api/v1/tickets", json=record)
    assert client.get("/api/v1/tickets/test/TZ-2").json()["created_at"] == "2026-11-30T09:00:00Z"


def test_timestamps_read_back_carry_an_offset(client: TestClient) -> None:
    markdown = article_markdown("VPN", "## Fix\n\nReconnect.", team="network")
    created = client.post("/api/v1/articles", json={"slug": "vpn", "markdown": markdown}).json()
    read = client.get("/api/v1/articles/vpn").json()
    assert _aware(read["updated_at"]) == _aware(created["updated_at"])
    assert read["updated_at"].endswith("Z")
    version = client.get("/api/v1/articles/vpn/versions/1").json()
    assert version["created_at"].endswith("Z")
    listed = client.get("/api/v1/articles/vpn/versions").json()["versions"][0]
    assert listed["created_at"].endswith("Z")
    audit = client.get("/api/v1/audit").json()["entries"]
    assert audit and all(entry["at"].endswith("Z") for entry in audit)


def test_the_out_schemas_give_a_naive_value_its_utc_offset() -> None:
    from app.schemas.versions import VersionOut

    version = VersionOut(
        number=1,
        state="draft",
        author="a",
        created_at=datetime(2026, 11, 30, 9, 0),
        reviewed_by=None,
        reviewed_at=datetime.fromisoformat("2026-11-30T09:00:00+01:00"),
        note=None,
    )
    dumped = version.model_dump(mode="json")
    assert dumped["created_at"] == "2026-11-30T09:00:00Z"
    assert dumped["reviewed_at"] == "2026-11-30T08:00:00Z"
