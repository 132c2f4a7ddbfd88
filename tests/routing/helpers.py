"""Small team charters and tickets shared by the routing tests."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from tests.factories import ticket, write_article

CHARTERS = {
    "network": (
        "## Charter\n\nNetwork runs VPN, WLAN, switches and firewalls.\n\n"
        "## Skills\n\n- VPN client problems and VPN tunnel drops\n"
        "- WLAN certificates and access points\n\n"
        "## Escalation criteria\n\nEscalate to Network when:\n\n"
        "- the VPN disconnects for many users\n\n"
        "## Service hours\n\nMon-Fri 07:00-18:00, printer toner never."
    ),
    "workplace": (
        "## Charter\n\nWorkplace looks after laptops, printers and peripherals.\n\n"
        "## Skills\n\n- Printer queues, print spooler and toner\n"
        "- Laptop docking stations and monitors\n\n"
        "## Escalation criteria\n\n- a printer queue is stuck for a whole floor"
    ),
    "messaging": (
        "## Charter\n\nMessaging runs Exchange, Outlook and Teams.\n\n"
        "## Skills\n\n- Outlook profiles, mailbox quota and shared mailboxes\n\n"
        "## Escalation criteria\n\n- a mailbox is full and archiving does not help"
    ),
}

VOCABULARY = {
    "network": "vpn tunnel wlan switch firewall router latency dns proxy certificate",
    "workplace": "printer toner spooler laptop dock monitor keyboard mouse scanner queue",
    "messaging": "outlook mailbox exchange teams calendar quota archive profile meeting mail",
}
COMMON = "please help urgent user reports since today again problem issue thanks"


def write_charters(folder: Path) -> Path:
    for team, body in CHARTERS.items():
        write_article(
            folder,
            f"team-{team}",
            f"Team {team.title()}",
            body,
            team=team,
            kind="team",
            name=team.title(),
            contractor="Acme GmbH" if team == "workplace" else None,
            hours="Mon-Fri",
            tags=["team", team],
        )
    return folder


def synthetic_tickets(
    count: int, *, seed: int = 0, teams: tuple[str, ...] = tuple(VOCABULARY), noise: float = 0.0
) -> list[dict[str, Any]]:
    """Tickets whose words come mostly from their team's vocabulary; `noise` flips labels."""
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not secrets
    tickets = []
    for number in range(count):
        team = teams[number % len(teams)]
        own = VOCABULARY[team].split()
        words = rng.sample(own, 3) + rng.sample(COMMON.split(), 3)
        other = rng.choice([t for t in VOCABULARY if t != team])
        words += rng.sample(VOCABULARY[other].split(), 1)
        rng.shuffle(words)
        label = rng.choice(teams) if rng.random() < noise else team
        tickets.append(
            ticket(f"T{seed}-{number}", " ".join(words[:3]), " ".join(words[3:]), team=label)
        )
    return tickets
