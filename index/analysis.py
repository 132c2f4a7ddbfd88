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

# Words a ticket's meaning hangs on although stop-word lists carry them: a negation or an
# absence is the symptom ("startet nicht", "no sound", "ohne Ton"), never filler.
NEGATIONS = frozenset(
    """
    nicht nichts kein keine keinem keinen keiner keines ohne nie niemals
    not no nor never nothing none nobody cannot cant without neither
    """.split()
)


@lru_cache(maxsize=4)
def package_stopwords(language: str) -> frozenset[str]:
    """One language's stop words as the `stop-words` package lists them, negations kept.

    German is Snowball's list (263 function words). The package's English list (1,333 words)
    also holds words a ticket is about ("computer", "problem", "null", "open", "page"), so
    English takes scikit-learn's (the Glasgow list, 318 words). Both are normalised the way
    tokens are.
    """
    if language == "de":
        from stop_words import get_stop_words

        words: frozenset[str] = frozenset(get_stop_words("german"))
    elif language == "en":
        from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

        words = frozenset(ENGLISH_STOP_WORDS)
    else:
        raise ValueError(f"no stop words for language {language!r}")
    return frozenset(_normalise(word) for word in words) - NEGATIONS


def default_stopwords() -> frozenset[str]:
    """German and English stop words: tickets mix both languages, like the stems."""
    return package_stopwords("de") | package_stopwords("en")


MIN_COMPOUND_PART = 4


def _normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


@lru_cache(maxsize=2)
def _own_stopwords(language: str) -> frozenset[str]:
    other = "en" if language == "de" else "de"
    return package_stopwords(language) - package_stopwords(other)


def guess_language(text: str) -> str | None:
    """ "de" or "en" by which language's own stop words the text uses more; None if neither.

    Words both lists hold ("in", "so", "was") do not count. Function words make up about
    half of any sentence, so even a short question is told apart; a list of names and codes
    is not (None).
    """
    german, english = _own_stopwords("de"), _own_stopwords("en")
    tokens = [m.group(0) for m in _TOKEN.finditer(_normalise(text))]
    de = sum(1 for token in tokens if token in german)
    en = sum(1 for token in tokens if token in english)
    if de == en:
        return None
    return "de" if de > en else "en"


def _is_identifier(token: str) -> bool:
    return any(ch.isdigit() for ch in token) or _SEPARATOR.search(token) is not None


class Analyzer:
    """Turns text into index terms; the same rules on both sides, so both sides agree.

    A word yields its German and its English Snowball stem (one term when they agree):
    tickets mix both languages, and the union costs less than guessing the language wrong.
    An identifier yields itself, intact, plus its parts.
    """

    def __init__(self, stopwords: frozenset[str] | None = None) -> None:
        self.stopwords = default_stopwords() if stopwords is None else stopwords
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
                        elif part not in self.stopwords and len(part) > 1:
                            yield self.word_variants(part)
            elif token not in self.stopwords and len(token) > 1:
                yield self.word_variants(token)

    def tokens(self, text: str) -> list[str]:
        """The text's tokens (words and identifiers) normalised, before stems and stop words:
        the units a query is made of."""
        return [m.group(0) for m in _TOKEN.finditer(_normalise(text))]

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

    def query_words(self, text: str) -> list[str]:
        """Plain query words (not identifiers), unstemmed: candidates for compound splitting."""
        return [
            token
            for token in (m.group(0) for m in _TOKEN.finditer(_normalise(text)))
            if not _is_identifier(token) and token not in self.stopwords
        ]
