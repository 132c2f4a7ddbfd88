"""Which tickets read as German: the English-only second model gets no say on them.

The router's second embedding model (all-MiniLM-L6-v2 by default) was trained on English;
on German text its vectors carry little meaning, and its learners, trusted by the meta-model
for their help on English tickets, then pull German tickets towards noise (on the German
and English support set it widened the German gap and raised ECE, docs/ROUTING.md). The
classifier therefore drops their scores for tickets that read as German, by a rule that
explains itself: more German than English function words. Texts with neither (error codes,
stop-word-stripped text, a title of nouns) keep the second model: it was kept because it
helped on the customer's own tickets, and such texts are mostly English product names.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

GERMAN_FUNCTION_WORDS = frozenset(
    "der die das und ist nicht ich wir sie es ein eine einen einem einer mit auf für von zu "
    "den dem des im bei sich auch wird werden wurde kann können bitte haben hat wie oder "
    "aber noch nach über unser unsere ihr ihre ihnen uns mein meine".split()
)
ENGLISH_FUNCTION_WORDS = frozenset(
    "the and is not i we you it a an with on for of to in at be are was were can could "
    "please have has how or but still after about our your my this that".split()
)
_WORD = re.compile(r"[a-zäöüß]+")


def reads_as_german(text: str) -> bool:
    """More German function words than English ones (a tie, also none, is not German)."""
    words = _WORD.findall(text.lower())
    german = sum(word in GERMAN_FUNCTION_WORDS for word in words)
    english = sum(word in ENGLISH_FUNCTION_WORDS for word in words)
    return german > english


def german_rows(texts: Sequence[str]) -> npt.NDArray[np.bool_]:
    return np.array([reads_as_german(text) for text in texts], dtype=bool)
