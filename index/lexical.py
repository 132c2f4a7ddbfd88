"""BM25 over passages, updated incrementally, with German compounds matched at query time."""

from __future__ import annotations

import bisect
import math
from array import array
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from index.analysis import MIN_COMPOUND_PART, Analyzer
from index.spelling import one_edit_away

Ids = npt.NDArray[np.int64]

K1 = 1.2
B = 0.75
# A compound part ("Drucker" inside "Druckerwarteschlange") is weaker evidence than the word.
COMPOUND_WEIGHT = 0.6
# A word the index knows only one edit away ("Kamera" -> camera) is weaker evidence still.
FUZZY_WEIGHT = 0.6
MAX_EXPANSIONS = 64
FORMAT = "stellwerk-bm25-v1"
if array("i").itemsize != 4 or array("f").itemsize != 4:  # read in place as int32/float32
    raise ImportError("index.lexical needs 4-byte C int and float arrays")


def _appended(values: array[Any], value: float) -> array[Any]:
    """`values` with `value` appended; a copy if a view of `values` outlived its search
    (held by a traceback, say), which forbids resizing it."""
    try:
        values.append(value)
    except BufferError:
        values = array(values.typecode, values)
        values.append(value)
    return values


class LexicalIndex:
    """Inverted index of analysed passage texts, keyed by passage id.

    Removal marks a passage dead (its postings are skipped and dropped on `compact`), so
    adds and removes cost as much as the passage itself, never a rebuild.
    """

    def __init__(self, analyzer: Analyzer | None = None) -> None:
        self.analyzer = analyzer or Analyzer()
        self._term_ids: dict[str, int] = {}
        self._terms: list[str] = []
        # Per term: the rows it occurs in and its frequency in each, appended as passages
        # come; searches read them in place (`_posting_array`), so each is held once.
        self._postings: list[tuple[array[int], array[float]]] = []
        self._passage_ids: list[int] = []
        self._row_of: dict[int, int] = {}
        self._lengths: array[float] = array("f")
        self._alive: array[int] = array("b")
        self._alive_count = 0
        self._alive_length = 0.0
        self._sorted_terms: list[str] = []
        self._sorted_reversed: list[str] = []
        self._alive_cache: npt.NDArray[np.bool_] | None = None
        self._length_cache: npt.NDArray[np.float32] | None = None
        self._id_order_cache: tuple[Ids, npt.NDArray[np.int64]] | None = None
        self._mask_cache: tuple[Ids, npt.NDArray[np.bool_]] | None = None
        # A hybrid search analyses its query twice (search, coverage): remember the last.
        self._last_query: tuple[str, list[list[tuple[str, float]]]] | None = None
        self._last_scores: tuple[str, npt.NDArray[np.float32]] | None = None

    def __len__(self) -> int:
        return self._alive_count

    def __contains__(self, passage_id: int) -> bool:
        row = self._row_of.get(passage_id)
        return row is not None and bool(self._alive[row])

    @property
    def dead(self) -> int:
        return len(self._passage_ids) - self._alive_count

    def _term_id(self, term: str) -> int:
        term_id = self._term_ids.get(term)
        if term_id is None:
            term_id = len(self._terms)
            self._term_ids[term] = term_id
            self._terms.append(term)
            self._postings.append((array("i"), array("f")))
            bisect.insort(self._sorted_terms, term)
            bisect.insort(self._sorted_reversed, term[::-1])
        return term_id

    def add(self, passage_id: int, text: str) -> None:
        if passage_id in self:
            return
        terms = self.analyzer.document_terms(text)
        row = len(self._passage_ids)
        self._passage_ids.append(passage_id)
        self._row_of[passage_id] = row
        self._lengths.append(float(len(terms)))
        self._alive.append(1)
        self._alive_count += 1
        self._alive_length += len(terms)
        for term, frequency in Counter(terms).items():
            term_id = self._term_id(term)
            rows, frequencies = self._postings[term_id]
            self._postings[term_id] = (_appended(rows, row), _appended(frequencies, frequency))
        self._invalidate()

    def add_many(self, items: Iterable[tuple[int, str]]) -> None:
        for passage_id, text in items:
            self.add(passage_id, text)

    def remove(self, passage_ids: Iterable[int]) -> None:
        for passage_id in passage_ids:
            row = self._row_of.pop(passage_id, None)
            if row is None or not self._alive[row]:
                continue
            self._alive[row] = 0
            self._alive_count -= 1
            self._alive_length -= self._lengths[row]
        self._invalidate()

    def ids(self) -> Ids:
        return np.array(sorted(self._row_of), dtype=np.int64)

    def _invalidate(self) -> None:
        self._alive_cache = None
        self._length_cache = None
        self._id_order_cache = None
        self._mask_cache = None
        self._last_query = None
        self._last_scores = None

    def _alive_rows(self) -> npt.NDArray[np.bool_]:
        if self._alive_cache is None:
            self._alive_cache = np.frombuffer(self._alive, dtype=np.int8).astype(bool)
        return self._alive_cache

    def _row_lengths(self) -> npt.NDArray[np.float32]:
        if self._length_cache is None:
            self._length_cache = np.array(self._lengths, dtype=np.float32)
        return self._length_cache

    def _id_order(self) -> tuple[Ids, npt.NDArray[np.int64]]:
        """Live passage ids in ascending order, and the row of each (for vectorised lookups)."""
        if self._id_order_cache is None:
            rows = np.flatnonzero(self._alive_rows()).astype(np.int64)
            ids = np.array(self._passage_ids, dtype=np.int64)[rows]
            order = np.argsort(ids, kind="stable")
            self._id_order_cache = (ids[order], rows[order])
        return self._id_order_cache

    def rows_of(self, passage_ids: Ids) -> npt.NDArray[np.int64]:
        """Rows of the given live passage ids; other ids are left out.

        A sorted search instead of a dict lookup per id: at 100k allowed ids the Python
        loop cost about 9 ms a query, this costs well under one.
        """
        sorted_ids, order = self._id_order()
        if len(sorted_ids) == 0 or len(passage_ids) == 0:
            return np.zeros(0, dtype=np.int64)
        positions = np.searchsorted(sorted_ids, passage_ids)
        positions = np.minimum(positions, len(sorted_ids) - 1)
        found = sorted_ids[positions] == passage_ids
        rows: npt.NDArray[np.int64] = order[positions[found]]
        return rows

    def _allowed_rows(self, allowed_ids: Ids) -> npt.NDArray[np.bool_]:
        """Live rows among `allowed_ids`; remembered for the last array seen.

        Filters hand over the same cached array search after search, so the mask is built
        once per filter and index state, not once per query.
        """
        cached = self._mask_cache
        if cached is not None and cached[0] is allowed_ids:
            return cached[1]
        mask = np.zeros(len(self._passage_ids), dtype=bool)
        mask[self.rows_of(allowed_ids)] = True
        if not allowed_ids.flags.writeable:
            self._mask_cache = (allowed_ids, mask)
        return mask

    def _posting_array(self, term_id: int) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.float32]]:
        """A term's rows and frequencies as numpy views of its lists (no copy): a cache of
        copies would hold every searched term's postings twice."""
        rows, frequencies = self._postings[term_id]
        return np.frombuffer(rows, dtype=np.int32), np.frombuffer(frequencies, dtype=np.float32)

    def _with_prefix(self, stem: str) -> list[str]:
        start = bisect.bisect_left(self._sorted_terms, stem)
        found = []
        for term in self._sorted_terms[start : start + 10 * MAX_EXPANSIONS]:
            if not term.startswith(stem):
                break
            if len(term) >= len(stem) + MIN_COMPOUND_PART:
                found.append(term)
        return found[:MAX_EXPANSIONS]

    def _with_suffix(self, stem: str) -> list[str]:
        reversed_stem = stem[::-1]
        start = bisect.bisect_left(self._sorted_reversed, reversed_stem)
        found = []
        for reversed_term in self._sorted_reversed[start : start + 10 * MAX_EXPANSIONS]:
            if not reversed_term.startswith(reversed_stem):
                break
            if len(reversed_term) >= len(stem) + MIN_COMPOUND_PART:
                found.append(reversed_term[::-1])
        return found[:MAX_EXPANSIONS]

    def _known(self, word: str) -> tuple[str, ...] | None:
        variants = self.analyzer.word_variants(word)
        return variants if any(v in self._term_ids for v in variants) else None

    def _split_compound(self, word: str) -> list[tuple[str, ...]]:
        """Parts of an unknown compound that the index knows ("Netzlaufwerk" -> netz, laufwerk).

        Both parts known is the best split; otherwise the longest known head or tail, so that
        "Druckerproblem" still finds documents about the "Drucker".
        """
        if len(word) < 2 * MIN_COMPOUND_PART or self._known(word):
            return []
        fallback: list[tuple[str, ...]] = []
        for cut in range(len(word) - MIN_COMPOUND_PART, MIN_COMPOUND_PART - 1, -1):
            head, tail = word[:cut], word[cut:]
            heads = [head] + [head[: -len(s)] for s in ("s", "es", "n", "en") if head.endswith(s)]
            known_heads = [
                variants
                for candidate in heads
                if len(candidate) >= MIN_COMPOUND_PART and (variants := self._known(candidate))
            ]
            known_tail = self._known(tail)
            if known_heads and known_tail:
                return [known_heads[0], known_tail]
            if not fallback and known_heads and len(head) > MIN_COMPOUND_PART:
                fallback = [known_heads[0]]
            if not fallback and known_tail and len(tail) > MIN_COMPOUND_PART:
                fallback = [known_tail]
        return fallback

    def _expanded(self, terms: tuple[str, ...], weight: float) -> list[tuple[str, float]]:
        """The terms themselves, plus indexed compounds that begin or end with them."""
        weights = dict.fromkeys(terms, weight)
        for term in terms:
            if len(term) >= MIN_COMPOUND_PART and not any(ch.isdigit() for ch in term):
                for found in self._with_prefix(term) + self._with_suffix(term):
                    weights.setdefault(found, weight * COMPOUND_WEIGHT)
        return list(weights.items())

    def weighted_query(self, text: str) -> list[list[tuple[str, float]]]:
        """Query groups of (term, weight): the token's stems, plus compounds that contain it."""
        last = self._last_query
        if last is not None and last[0] == text:
            return last[1]
        groups = [self._expanded(group, 1.0) for group in self.analyzer.query_groups(text)]
        for word in self.analyzer.query_words(text):
            for part in self._split_compound(word):
                groups.append(self._expanded(part, COMPOUND_WEIGHT))
        groups = [group if self._any_known(group) else self._respelled(group) for group in groups]
        self._last_query = (text, groups)
        return groups

    def _any_known(self, group: list[tuple[str, float]]) -> bool:
        return any(term in self._term_ids for term, _ in group)

    def _respelled(self, group: list[tuple[str, float]]) -> list[tuple[str, float]]:
        """An unknown word's group with the indexed terms one edit from its stems."""
        if FUZZY_WEIGHT <= 0:
            return group
        weights = dict(group)
        for term, weight in group:
            for near in sorted(one_edit_away(term)):
                if near in self._term_ids:
                    weights.setdefault(near, weight * FUZZY_WEIGHT)
        return list(weights.items())

    def search(self, text: str, k: int, allowed_ids: Ids | None = None) -> list[tuple[int, float]]:
        """Top-k (passage id, BM25 score), restricted to `allowed_ids` if given."""
        if k <= 0 or self._alive_count == 0:
            return []
        scores = self._scores(text).copy()
        mask = self._alive_rows() if allowed_ids is None else self._allowed_rows(allowed_ids)
        scores[~mask] = 0.0
        candidates = np.flatnonzero(scores > 0)
        if len(candidates) == 0:
            return []
        if len(candidates) > k:
            top = candidates[np.argpartition(-scores[candidates], k - 1)[:k]]
        else:
            top = candidates
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(self._passage_ids[row], float(scores[row])) for row in top]

    def scores(self, text: str) -> npt.NDArray[np.float32]:
        """BM25 of every row for `text` (rows in the order passages were added; while none
        was removed, row i is the i-th passage added). A read-only view: do not write."""
        if self._alive_count == 0:
            return np.zeros(len(self._passage_ids), dtype=np.float32)
        return self._scores(text)

    def _scores(self, text: str) -> npt.NDArray[np.float32]:
        """BM25 of every row for `text`, before any filter. One /suggest searches the same
        text several times under different filters (its solutions, the first-level how-to)
        and a search that finds too few documents asks again for more: the last text's
        scores are kept until the index changes."""
        last = self._last_scores
        if last is not None and last[0] == text:
            return last[1]
        rows_total = len(self._passage_ids)
        alive = self._alive_rows()
        lengths = self._row_lengths()
        average = self._alive_length / self._alive_count
        scores = np.zeros(rows_total, dtype=np.float32)
        all_alive = self.dead == 0
        # The length part of BM25's denominator, once per search instead of once per term.
        norms = (K1 * (1 - B + B * lengths / average)).astype(np.float32)
        for group in self.weighted_query(text):
            group_scores: npt.NDArray[np.float32] | None = None
            terms = [(self._term_ids.get(term), weight) for term, weight in group]
            known = [(term_id, weight) for term_id, weight in terms if term_id is not None]
            for term_id, weight in known:
                rows, frequencies = self._posting_array(term_id)
                document_frequency = len(rows) if all_alive else int(np.count_nonzero(alive[rows]))
                if document_frequency == 0:
                    continue
                idf = math.log(
                    1 + (self._alive_count - document_frequency + 0.5) / (document_frequency + 0.5)
                )
                contribution = frequencies * np.float32(weight * idf * (K1 + 1))
                contribution /= frequencies + norms[rows]
                # A posting list names each row once, so plain indexing is safe (and far
                # faster than np.maximum.at); a group of one term adds straight to the sum.
                if len(known) == 1:
                    scores[rows] += contribution
                    continue
                if group_scores is None:
                    group_scores = np.zeros(rows_total, dtype=np.float32)
                group_scores[rows] = np.maximum(group_scores[rows], contribution)
            if group_scores is not None:
                scores += group_scores
        self._last_scores = (text, scores)
        return scores

    def coverage(self, text: str) -> float:
        """Share of the query's term groups with at least one term the index knows.

        Near 1 for a query in the corpus's language, low for a query in another language
        (only names and numbers are shared): how far BM25 can be trusted for this query.
        A word known only one edit away (a typo, a cognate such as "Kamera") counts as known.
        """
        groups = self.weighted_query(text)
        if not groups:
            return 0.0
        known = sum(1 for group in groups if any(term in self._term_ids for term, _ in group))
        return known / len(groups)

    def max_score(self, text: str) -> float:
        """BM25 of a passage that matched every query group perfectly (for normalising)."""
        total = 0.0
        for group in self.weighted_query(text):
            best = 0.0
            for term, weight in group:
                term_id = self._term_ids.get(term)
                if term_id is None:
                    continue
                df = len(self._postings[term_id][0])
                if df and self._alive_count:
                    n = self._alive_count
                    best = max(best, weight * math.log(1 + (n - df + 0.5) / (df + 0.5)))
            total += best * (K1 + 1)
        return total

    def compact(self) -> None:
        """Drop dead passages from the postings and renumber rows."""
        if self.dead == 0:
            return
        live_rows = [row for row in range(len(self._passage_ids)) if self._alive[row]]
        new_row = {old: new for new, old in enumerate(live_rows)}
        for term_id, (rows, frequencies) in enumerate(self._postings):
            kept_rows, kept_frequencies = array("i"), array("f")
            for row, frequency in zip(rows, frequencies, strict=True):
                mapped = new_row.get(row)
                if mapped is not None:
                    kept_rows.append(mapped)
                    kept_frequencies.append(frequency)
            self._postings[term_id] = (kept_rows, kept_frequencies)
        self._passage_ids = [self._passage_ids[row] for row in live_rows]
        self._row_of = {pid: row for row, pid in enumerate(self._passage_ids)}
        self._lengths = array("f", (self._lengths[row] for row in live_rows))
        self._alive = array("b", [1] * len(live_rows))
        self._invalidate()

    def save(self, path: Path) -> None:
        self.compact()
        pointers = np.zeros(len(self._terms) + 1, dtype=np.int64)
        for term_id, (rows, _) in enumerate(self._postings):
            pointers[term_id + 1] = pointers[term_id] + len(rows)
        rows_flat = np.zeros(int(pointers[-1]), dtype=np.int32)
        frequencies_flat = np.zeros(int(pointers[-1]), dtype=np.int32)
        for term_id, (rows, frequencies) in enumerate(self._postings):
            start, end = pointers[term_id], pointers[term_id + 1]
            rows_flat[start:end] = np.array(rows, dtype=np.int32)
            frequencies_flat[start:end] = np.array(frequencies, dtype=np.int32)
        with path.open("wb") as handle:
            np.savez(
                handle,
                format=np.array(FORMAT),
                terms=np.array("\n".join(self._terms)),
                pointers=pointers,
                rows=rows_flat,
                frequencies=frequencies_flat,
                passage_ids=np.array(self._passage_ids, dtype=np.int64),
                lengths=np.array(self._lengths, dtype=np.float32),
            )

    @classmethod
    def load(cls, path: Path, analyzer: Analyzer | None = None) -> LexicalIndex:
        with np.load(path, allow_pickle=False) as data:
            if str(data["format"]) != FORMAT:
                raise ValueError(f"{path} is not a {FORMAT} file")
            joined = str(data["terms"])
            terms = joined.split("\n") if joined else []
            pointers = data["pointers"]
            rows_flat = data["rows"]
            frequencies_flat = data["frequencies"].astype(np.float32)
            passage_ids: Sequence[int] = data["passage_ids"].tolist()
            lengths = data["lengths"]
        index = cls(analyzer)
        index._terms = terms
        index._term_ids = {term: term_id for term_id, term in enumerate(terms)}
        index._postings = [
            (
                array("i", rows_flat[pointers[t] : pointers[t + 1]].tobytes()),
                array("f", frequencies_flat[pointers[t] : pointers[t + 1]].tobytes()),
            )
            for t in range(len(terms))
        ]
        index._passage_ids = list(passage_ids)
        index._row_of = {pid: row for row, pid in enumerate(index._passage_ids)}
        index._lengths = array("f", lengths.astype(np.float32).tobytes())
        index._alive = array("b", [1] * len(index._passage_ids))
        index._alive_count = len(index._passage_ids)
        index._alive_length = float(lengths.sum())
        index._sorted_terms = sorted(terms)
        index._sorted_reversed = sorted(term[::-1] for term in terms)
        return index
