"""Plain text of an Atlassian Document Format body (Jira Cloud's rich text)."""

from __future__ import annotations

from typing import Any

# Blocks end a line; everything else is inline.
_BLOCKS = frozenset(
    {"paragraph", "heading", "blockquote", "codeBlock", "listItem", "rule", "tableRow", "panel"}
)


def adf_text(node: Any) -> str:
    """https://developer.atlassian.com/cloud/jira/platform/apis/document/structure/"""
    if isinstance(node, str):
        return node.strip()  # wiki text (Jira Data Center, API v2)
    parts: list[str] = []

    def walk(item: Any) -> None:
        if not isinstance(item, dict):
            return
        kind = item.get("type")
        if kind == "text" and isinstance(item.get("text"), str):
            parts.append(item["text"])
        elif kind == "hardBreak":
            parts.append("\n")
        elif kind in ("mention", "emoji") and isinstance(item.get("attrs"), dict):
            parts.append(str(item["attrs"].get("text", "")))
        for child in item.get("content") or []:
            walk(child)
        if kind in _BLOCKS:
            parts.append("\n")

    walk(node)
    lines = [line.strip() for line in "".join(parts).splitlines()]
    return "\n".join(line for line in lines if line)
