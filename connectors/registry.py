"""The connector of each tool, by the name `stellwerk connectors add TOOL` takes."""

from __future__ import annotations

from connectors.base import Connector
from connectors.errors import UnknownTool
from connectors.glpi import GlpiConnector
from connectors.jira import JiraConnector
from connectors.zammad import ZammadConnector
from connectors.znuny import ZnunyConnector

TOOLS = ("zammad", "znuny", "jira", "glpi")


def connector_for(tool: str) -> Connector:
    if tool == "zammad":
        return ZammadConnector()
    if tool == "jira":
        return JiraConnector()
    if tool == "znuny":
        return ZnunyConnector()
    if tool == "glpi":
        return GlpiConnector()
    raise UnknownTool(f"Unknown tool {tool!r}; one of {', '.join(TOOLS)}.")
