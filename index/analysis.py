"""Text analysis for lexical search: German and English stems, identifiers kept intact."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from functools import lru_cache

import Stemmer

# Words, and identifiers joined by - . / : \ _ (error codes, KB numbers, host names, paths).
_TOKEN = re.compile(r"\w+(?:[-./:\\]\w+)*", re.UNICODE)
_SEPARATOR = re.compile(r"[-./:\\_]")

# Short function words of German and English. Only words that never carry the meaning of a
# support ticket; negations ("nicht", "not") stay because "startet nicht" is the symptom.
STOPWORDS = frozenset(
    """
    a an and are as at be been but by can could did do does for from had has have he her his
    how i if in into is it its me my of on or our she so than that the their them then there
    these they this to us was we were what when where which who why will with would you your
    aber als am an auch auf aus bei bin bis bitte da dann das dass dem den der des die dies
    diese dieser du durch ein eine einem einen einer eines er es für hat hatte ich ihr im in
    ist ja jetzt man mein meine mir mit nach noch nun oder sehr sich sie sind so um und uns
    unser von vor war waren was wie wir wird wurde zu zum zur über
    """.split()
)

MIN_COMPOUND_PART = 4


def _normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


def _is_identifier(token: str) -> bool:
    return any(ch.isdigit() for ch in token) or _SEPARATOR.search(token) is not None


class Analyzer:
    """Turns text into index terms; the same rules on both sides, so both sides agree.

    A word yields its German and its English Snowball stem (one term when they agree):
    tickets mix both languages, and the union costs less than guessing the language wrong.
    An identifier yields itself, intact, plus its parts.
    """

    def __init__(self) -> None:
        self._german = Stemmer.Stemmer("german")
        self._english = Stemmer.Stemmer("english")

    @lru_cache(maxsize=200_000)  # noqa: B019 - one analyzer lives as long as its index
    def word_variants(self, word: str) -> tuple[str, ...]:
        german = self._german.stemWord(word)
        english = self._english.stemWord(word)
        return (german,) if german == english else (german, english)

    def _token_groups(self, text: str) -> Iterator[tuple[str, ...]]:
        for match in _TOKEN.finditer(_normalise(text)):
            token = match.group(0)
            if _is_identifier(token):
                yield (token,)
                parts = [p for p in _SEPARATOR.split(token) if p]
                if len(parts) > 1:
                    for part in parts:
                        if _is_identifier(part):
                            yield (part,)
                        elif part not in STOPWORDS and len(part) > 1:
                            yield self.word_variants(part)
            elif token not in STOPWORDS and len(token) > 1:
                yield self.word_variants(token)

    def document_terms(self, text: str) -> list[str]:
        """Every term of a document, with repeats (term frequency counts)."""
        return [term for group in self._token_groups(text) for term in group]

    def query_groups(self, text: str) -> list[tuple[str, ...]]:
        """One group of alternative terms per query token; a group scores its best term."""
        seen: set[tuple[str, ...]] = set()
        groups = []
        for group in self._token_groups(text):
            if group not in seen:
                seen.add(group)
                groups.append(group)
        return groups

    @staticmethod
    def query_words(text: str) -> list[str]:
        """Plain query words (not identifiers), unstemmed: candidates for compound splitting."""
        return [
            token
            for token in (m.group(0) for m in _TOKEN.finditer(_normalise(text)))
            if not _is_identifier(token) and token not in STOPWORDS
        ]
