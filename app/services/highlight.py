"""Snippets that show why a passage matched: a window around the matched words, with spans."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass

SNIPPET_CHARS = 300
_WORD = re.compile(r"\w+(?:[-./:\\]\w+)*", re.UNICODE)


@dataclass(frozen=True)
class Snippet:
    text: str
    highlights: list[tuple[int, int]]


def make_snippet(
    text: str,
    query_terms: Collection[str],
    variants: Callable[[str], Collection[str]],
    *,
    width: int = SNIPPET_CHARS,
) -> Snippet:
    """Cut `text` to about `width` characters around the densest run of matching words.

    `variants` maps a lower-cased word to its index terms (stems), so a snippet marks
    "Druckerwarteschlange" for the query "Drucker" the way the lexical index matched it.
    """
    flat = " ".join(text.split())
    matches = [
        (m.start(), m.end())
        for m in _WORD.finditer(flat)
        if query_terms and _matches(m.group(0).lower(), query_terms, variants)
    ]
    start = 0
    if matches and len(flat) > width:
        best_count = -1
        for first, _ in matches:
            window_start = max(0, first - width // 6)
            count = sum(1 for s, e in matches if s >= window_start and e <= window_start + width)
            if count > best_count:
                best_count, start = count, window_start
        if start:
            space = flat.find(" ", start)
            start = space + 1 if 0 <= space < start + 20 else start
    end = min(len(flat), start + width)
    if end < len(flat):
        space = flat.rfind(" ", start, end)
        end = space if space > start else end
    prefix = "… " if start > 0 else ""
    suffix = " …" if end < len(flat) else ""
    shift = len(prefix) - start
    spans = [(s + shift, e + shift) for s, e in matches if s >= start and e <= end]
    return Snippet(prefix + flat[start:end] + suffix, spans)


def _matches(
    word: str, query_terms: Collection[str], variants: Callable[[str], Collection[str]]
) -> bool:
    if word in query_terms:
        return True
    return any(term in query_terms for term in variants(word))
