"""Plain text of a Jira body: Atlassian Document Format (Jira Cloud, API v3) or wiki
markup (Jira Data Center, API v2)."""

from __future__ import annotations

import re
from typing import Any

# Blocks end a line; everything else is inline.
_BLOCKS = frozenset(
    {"paragraph", "heading", "blockquote", "codeBlock", "listItem", "rule", "tableRow", "panel"}
)


def adf_text(node: Any) -> str:
    """https://developer.atlassian.com/cloud/jira/platform/apis/document/structure/"""
    if isinstance(node, str):
        return wiki_text(node)
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


# Text formatting notation (https://jira.atlassian.com/secure/WikiRendererHelpAction.jspa):
# what marks the text up is dropped, the text itself kept.
_WIKI = (
    (re.compile(r"^\s*h[1-6]\.\s*", re.M), ""),  # h2. Heading
    (re.compile(r"^\s*(?:[*#-]+|bq\.)\s+", re.M), ""),  # bullets, numbers, quotes
    (re.compile(r"\{(?:noformat|code|quote|panel|color)(?::[^}]*)?\}"), " "),  # blocks
    (re.compile(r"\[([^|\]]+)\|[^\]]+\]"), r"\1"),  # [text|link]
    (re.compile(r"\[([^\]]+)\]"), r"\1"),  # [link]
    (re.compile(r"(?<![\w*])\*(\S(?:[^*\n]*\S)?)\*(?![\w*])"), r"\1"),  # *bold*
    (re.compile(r"(?<![\w_])_(\S(?:[^_\n]*\S)?)_(?![\w_])"), r"\1"),  # _italic_
)


def wiki_text(text: str) -> str:
    for pattern, replacement in _WIKI:
        text = pattern.sub(replacement, text)
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return "\n".join(line for line in lines if line)
