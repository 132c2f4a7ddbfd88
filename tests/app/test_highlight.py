"""Snippets centre on the words that matched and mark them."""

from __future__ import annotations

from app.services.highlight import make_snippet
from index.analysis import Analyzer


def test_matched_words_are_marked_even_inside_compounds() -> None:
    analyzer = Analyzer()
    text = "Die Druckerwarteschlange hängt seit heute."
    terms = {"druckerwarteschlang", "hang", "hängt"}
    snippet = make_snippet(text, terms, analyzer.word_variants)
    marked = [snippet.text[s:e] for s, e in snippet.highlights]
    assert marked == ["Druckerwarteschlange", "hängt"]


def test_long_text_is_cut_around_the_match() -> None:
    text = "filler " * 100 + "Fehler 0x80070005 beim Start " + "filler " * 100
    snippet = make_snippet(text, {"0x80070005"}, Analyzer().word_variants, width=80)
    assert snippet.text.startswith("… ")
    assert snippet.text.endswith(" …")
    assert [snippet.text[s:e] for s, e in snippet.highlights] == ["0x80070005"]
    assert len(snippet.text) <= 90


def test_no_match_gives_the_start_of_the_passage() -> None:
    snippet = make_snippet("A short passage.", set(), Analyzer().word_variants)
    assert snippet.text == "A short passage."
    assert snippet.highlights == []
