"""The closeness a multilingual embedder gives to any text in the query's own language.

multilingual-e5 places every passage nearer to a query when both are in one language,
whatever they say: on the demo knowledge base a German query ("Teams Kamera geht nicht")
is 0.030 closer on average to the German passages than to the English ones, 1.5 standard
deviations of the candidates' cosines. In a knowledge base of both languages that offset,
not meaning, decides between a German ticket and the English article that solves the
problem. Centring each language's vectors on their mean is the usual remedy (Libovický et
al., "On the Language Neutrality of Pre-trained Multilingual Representations", 2020).

The mean cosine of a query to a language's passages is its cosine to their summed vector
divided by their number (the cosine is linear in the passage vector), so keeping one sum
per language makes the offset exact, for every passage of the language rather than for
the candidates a search happened to fetch, at the cost of one dot product per language.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from index.embedder import Vectors

# Passages a language needs before its own mean counts: the mean of 30 cosines (spread
# about 0.02) is known to about 0.004, a tenth of the offset it corrects. A smaller group
# keeps its cosines as they are.
MIN_PASSAGES = 30


class LanguageCentroids:
    """Per language (a passage's `language` facet, "" when unknown) the sum of its vectors."""

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self._sums: dict[str, npt.NDArray[np.float64]] = {}
        self._counts: dict[str, int] = {}

    def _update(self, languages: Sequence[str], vectors: Vectors, sign: int) -> None:
        if len(languages) == 0:
            return
        rows = np.asarray(vectors, dtype=np.float32).reshape(len(languages), self.dim)
        codes = {language: code for code, language in enumerate(dict.fromkeys(languages))}
        labels = np.fromiter((codes[lang] for lang in languages), np.int64, len(languages))
        for language, code in codes.items():
            mask = labels == code
            total = self._sums.setdefault(language, np.zeros(self.dim, dtype=np.float64))
            total += sign * rows[mask].sum(axis=0, dtype=np.float64)
            self._counts[language] = self._counts.get(language, 0) + sign * int(mask.sum())
            if self._counts[language] <= 0:
                del self._sums[language], self._counts[language]

    def add(self, languages: Sequence[str], vectors: Vectors) -> None:
        self._update(languages, vectors, 1)

    def remove(self, languages: Sequence[str], vectors: Vectors) -> None:
        self._update(languages, vectors, -1)

    def count(self, language: str) -> int:
        return self._counts.get(language, 0)

    def offsets(self, query: Vectors) -> dict[str, float]:
        """Per language, how much nearer the query is to its passages than to all passages.

        Empty unless two languages have MIN_PASSAGES each: one language, or one and a few
        strays, has no offset to remove (and a shift common to every candidate changes no
        ranking). Passages of no known language ("") count towards the overall mean only:
        they may be of any language, so they have no offset of their own.
        """
        counted = {lang: n for lang, n in self._counts.items() if lang and n >= MIN_PASSAGES}
        if len(counted) < 2:
            return {}
        vector = np.asarray(query, dtype=np.float64).reshape(-1)
        total = sum(self._counts.values())
        overall = float(np.sum(list(self._sums.values()), axis=0) @ vector) / total
        return {lang: float(self._sums[lang] @ vector) / n - overall for lang, n in counted.items()}
