"""The one charter reader: what the catalogue shows and what the router embeds agree."""

from __future__ import annotations

import pytest

from ingest import markdown
from ingest.markdown import Section
from routing import charters
from routing.charters import read_charter
from routing.cold_start import charter_for_routing

BODY = """# Netzwerk

## Auftrag
Wir betreiben LAN, WLAN und VPN.

## Skills
- VPN-Clients
- WLAN-Ausleuchtung

## Eskalation
Eskaliere an network, wenn:
- das VPN für viele Nutzer ausfällt

## First level checks
- Kabel prüfen

## Servicezeiten
Mo-Fr 7-18 Uhr
"""


def test_sections_are_sorted_by_heading_and_intro_lines_dropped() -> None:
    charter = read_charter(
        team="network", slug="team-network", title="Netzwerk", body=BODY, front_matter={}
    )
    assert charter.texts("charter") == ["Wir betreiben LAN, WLAN und VPN."]
    assert charter.texts("skills") == ["VPN-Clients", "WLAN-Ausleuchtung"]
    assert charter.texts("escalation_criteria") == ["das VPN für viele Nutzer ausfällt"]
    assert charter.texts("first_level_checks") == ["Kabel prüfen"]
    assert charter.name == "Netzwerk"
    assert charter.contractor is None


def test_router_embeds_tags_and_what_the_team_does_never_first_level_checks() -> None:
    charter = read_charter(
        team="network",
        slug="team-network",
        title="Netzwerk",
        body=BODY,
        front_matter={"name": "Network Operations", "contractor": ""},
        tags=["team", "vpn"],
    )
    routed = charter_for_routing(charter)
    assert routed.name == "Network Operations"
    assert routed.lines == (
        ("Tags", "Network Operations: vpn"),
        ("Auftrag", "Wir betreiben LAN, WLAN und VPN."),
        ("Skills", "VPN-Clients"),
        ("Skills", "WLAN-Ausleuchtung"),
        ("Eskalation", "das VPN für viele Nutzer ausfällt"),
    )
    assert charter.contractor is None  # an empty front-matter value is no contractor


def test_a_charter_text_is_parsed_once_and_an_edit_is_read_anew(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    parsed: list[str] = []
    real_sections_of = markdown.sections_of

    def counting(body: str, title: str) -> tuple[Section, ...]:
        parsed.append(title)
        return real_sections_of(body, title)

    monkeypatch.setattr(charters, "sections_of", counting)
    title = "Netzwerk (cache probe)"
    for _ in range(3):
        read_charter(team="network", slug="team-network", title=title, body=BODY, front_matter={})
    edited = read_charter(
        team="network",
        slug="team-network",
        title=title,
        body=BODY.replace("VPN-Clients", "Firewall"),
        front_matter={},
    )
    assert parsed == [title, title]  # /suggest reads the routed charter on every call
    assert edited.texts("skills") == ["Firewall", "WLAN-Ausleuchtung"]
