"""Spellings one edit apart: a query word the index does not know, matched to words it does.

An agent's typo ("Outlok") and a German word for an English one spelled one letter apart
("Kamera" for "camera", "Adresse" for "address") name what the index holds under another
spelling. One edit (a letter deleted, inserted, replaced, or two neighbours swapped) is
Damerau-Levenshtein distance 1, the usual reach of a fuzzy match for words of five letters
and more; shorter words have too many neighbours one letter away to tell which was meant.
"""

from __future__ import annotations

MIN_FUZZY_LENGTH = 5
# Letters an analysed term is made of (tokens are lower-cased; Snowball keeps umlauts).
_LETTERS = "abcdefghijklmnopqrstuvwxyzäöüß"


def one_edit_away(word: str) -> set[str]:
    """Every string one edit from `word` (not `word` itself); empty for short words or
    words with digits, which are identifiers and match only as written."""
    if len(word) < MIN_FUZZY_LENGTH or not word.isalpha():
        return set()
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    deletes = {head + tail[1:] for head, tail in splits if tail}
    swaps = {head + tail[1] + tail[0] + tail[2:] for head, tail in splits if len(tail) > 1}
    replaces = {head + letter + tail[1:] for head, tail in splits if tail for letter in _LETTERS}
    inserts = {head + letter + tail for head, tail in splits for letter in _LETTERS}
    return (deletes | swaps | replaces | inserts) - {word}
