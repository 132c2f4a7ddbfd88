"""The ONNX engines on the real bundled model: torch's vectors, cut and threads as configured."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pytest

from index.embedder import Embedder, SentenceTransformerEmbedder, load_embedder
from index.encoder_gate import EncoderGate, bulk_threads, is_short
from index.onnx_embedder import OnnxEmbedder
from tests.paths import MODEL_CACHE

pytestmark = pytest.mark.slow

QUERIES = [
    "Drucker druckt nicht",
    "VPN trennt alle 10 Minuten die Verbindung, Fehler 809",
    "Outlook asks for the password again and again",
    "Bitte Passwort für SAP zurücksetzen",
]
PASSAGES = [
    "Printer not printing: restart the spooler service and clear the queue.",
    "VPN disconnects with error 809: allow UDP 500 and 4500 on the home router.",
    "Outlook keeps prompting for credentials: remove the cached entries in the "
    "credential manager and sign in again.",
    "SAP password reset: the service desk unlocks the account in SU01.",
    "Der Monitor bleibt schwarz: Kabel prüfen, anderen Anschluss versuchen. " * 60,
]


@pytest.fixture(scope="module")
def int8_embedder() -> Embedder:
    return load_embedder("multilingual-e5-small", cache_dir=MODEL_CACHE, engine="onnx-int8")


@pytest.fixture(scope="module")
def torch_embedder() -> SentenceTransformerEmbedder:
    embedder = load_embedder("multilingual-e5-small", cache_dir=MODEL_CACHE, engine="torch")
    assert isinstance(embedder, SentenceTransformerEmbedder)
    return embedder


def _agreement(embedder: Embedder, reference: Embedder) -> tuple[float, float, bool]:
    queries, passages = embedder.encode_queries(QUERIES), embedder.encode_documents(PASSAGES)
    ref_queries = reference.encode_queries(QUERIES)
    ref_passages = reference.encode_documents(PASSAGES)
    cosines = np.concatenate(
        [(queries * ref_queries).sum(axis=1), (passages * ref_passages).sum(axis=1)]
    )
    same_top = (queries @ passages.T).argmax(1).tolist() == (ref_queries @ ref_passages.T).argmax(
        1
    ).tolist()
    return float(cosines.mean()), float(cosines.min()), same_top


def test_the_int8_engine_agrees_with_torch(
    int8_embedder: Embedder, torch_embedder: SentenceTransformerEmbedder
) -> None:
    assert int8_embedder.engine == "onnx-int8"
    assert int8_embedder.model_id == torch_embedder.model_id
    mean, lowest, same_top = _agreement(int8_embedder, torch_embedder)
    assert mean >= 0.99 and lowest >= 0.97, (mean, lowest)
    assert same_top


def test_the_fp32_graph_is_torch_and_padding_changes_nothing(
    torch_embedder: SentenceTransformerEmbedder,
) -> None:
    fp32 = load_embedder("multilingual-e5-small", cache_dir=MODEL_CACHE, engine="onnx")
    assert fp32.engine == "onnx"
    _, lowest, same_top = _agreement(fp32, torch_embedder)
    assert lowest >= 0.9999 and same_top
    alone = np.stack([fp32.encode_documents([text])[0] for text in PASSAGES])
    together = fp32.encode_documents(PASSAGES)  # padded to the longest, in one batch
    assert np.allclose(alone, together, atol=1e-5)


def test_texts_are_cut_to_the_window_like_torch(
    int8_embedder: Embedder, torch_embedder: SentenceTransformerEmbedder
) -> None:
    assert isinstance(int8_embedder, OnnxEmbedder)
    texts = ["passage: " + text for text in PASSAGES] + ["query: " + q for q in QUERIES]
    assert int8_embedder.token_counts(texts) == torch_embedder.token_counts(texts)
    assert max(int8_embedder.token_counts(texts)) == int8_embedder.max_seq_length == 512


def test_the_thread_setting_reaches_every_session() -> None:
    embedder = load_embedder(
        "multilingual-e5-small", cache_dir=MODEL_CACHE, engine="onnx-int8", threads=2
    )
    assert isinstance(embedder, OnnxEmbedder)
    embedder.encode_queries(["VPN"])
    embedder.encode_documents(PASSAGES)  # long work: a slice at a time, a core left free
    threads = sorted(
        session.get_session_options().intra_op_num_threads
        for session in embedder._sessions.values()
    )
    assert threads == sorted({2, min(2, bulk_threads())})


def test_both_lanes_are_ready_before_the_first_long_text() -> None:
    embedder = load_embedder(
        "multilingual-e5-small", cache_dir=MODEL_CACHE, engine="onnx-int8", threads=2
    )
    assert isinstance(embedder, OnnxEmbedder)
    # Nothing encoded yet but the load's probe: the long lane's graph is loaded already, so
    # the first long ticket does not pay for it (seconds) while short requests queue.
    assert sorted(embedder._sessions) == sorted({2, min(2, bulk_threads())})


def test_a_short_call_of_several_texts_runs_them_side_by_side_in_order(
    int8_embedder: Embedder,
) -> None:
    assert isinstance(int8_embedder, OnnxEmbedder)
    question, passages = int8_embedder.encode_query_with_documents(QUERIES[1], PASSAGES[:3])
    spec = int8_embedder._spec
    texts = [spec.query_prefix + QUERIES[1]] + [spec.document_prefix + p for p in PASSAGES[:3]]
    groups = min(int8_embedder._threads, len(texts))
    # Each group is its own pass (dynamic int8 scales follow a pass's whole batch), so each
    # text's vector is its group's, in the caller's order.
    for start in range(groups):
        members = list(range(start, len(texts), groups))
        alone = int8_embedder._encode_batch([texts[i] for i in members], 1)
        for row, i in enumerate(members):
            got = question if i == 0 else passages[i - 1]
            assert np.allclose(got, alone[row], atol=1e-6), i


def test_sessions_share_the_tables_and_give_the_graphs_own_vectors(
    int8_embedder: Embedder,
) -> None:
    import onnxruntime as ort

    assert isinstance(int8_embedder, OnnxEmbedder)
    assert int8_embedder._tables, "the export's lookup tables are handed to the sessions"
    shared = np.stack([int8_embedder.encode_queries([q])[0] for q in QUERIES])
    # The same graph in a plain session, which reads its own copy of every table.
    plain = ort.InferenceSession(str(int8_embedder._graph), providers=["CPUExecutionProvider"])
    ids = int8_embedder._token_ids([int8_embedder._spec.query_prefix + q for q in QUERIES])
    for text_ids, vector in zip(ids, shared, strict=True):
        feed = np.array([text_ids], dtype=np.int64)
        own = plain.run(None, {"input_ids": feed, "attention_mask": np.ones_like(feed)})[0][0]
        assert np.allclose(own, vector, atol=1e-5)


def test_the_split_engine_stores_torch_vectors_and_encodes_requests_in_int8(
    int8_embedder: Embedder, torch_embedder: SentenceTransformerEmbedder
) -> None:
    split = load_embedder(
        "multilingual-e5-small", cache_dir=MODEL_CACHE, engine="onnx-int8-queries"
    )
    # Stored passages: fp32, so torch's vectors; the snapshot records what embedded them.
    assert split.engine == "onnx"
    passages = split.encode_documents(PASSAGES)
    reference = torch_embedder.encode_documents(PASSAGES)
    assert float((passages * reference).sum(axis=1).min()) >= 0.9999
    # What a request encodes: int8, the same vectors as the int8 engine's.
    assert np.allclose(split.encode_queries(QUERIES), int8_embedder.encode_queries(QUERIES))
    question, as_text = split.encode_query_with_documents(QUERIES[1], [QUERIES[1]])
    ref_question, ref_text = int8_embedder.encode_query_with_documents(QUERIES[1], [QUERIES[1]])
    assert np.allclose(question, ref_question) and np.allclose(as_text, ref_text)


class _LanesMeet(EncoderGate):
    """A gate whose long lane opens only once the short lane has been taken: a call that
    ran everything in one lane, or one lane after the other, never gets through."""

    def __init__(self) -> None:
        super().__init__()
        self.short_taken = threading.Event()
        self.lanes: list[str] = []

    @contextmanager
    def turn(self, *, short: bool) -> Iterator[None]:
        self.lanes.append("short" if short else "long")
        if short:
            self.short_taken.set()
        elif not self.short_taken.wait(timeout=30):
            raise AssertionError("the long lane ran before the short lane was taken")
        with super().turn(short=short):
            yield


def test_a_ticket_too_long_for_one_short_pass_runs_its_question_beside_its_passages() -> None:
    embedder = load_embedder("multilingual-e5-small", cache_dir=MODEL_CACHE, engine="onnx")
    assert isinstance(embedder, OnnxEmbedder)
    gate = _LanesMeet()
    embedder._gate = gate
    question, passages = embedder.encode_query_with_documents(QUERIES[1], PASSAGES[3:])
    assert is_short([QUERIES[1]]) and not is_short(PASSAGES[3:])
    assert set(gate.lanes) == {"short", "long"}
    assert gate.lanes.count("short") == 1  # the question, once
    # The same vectors as apart (fp32: a text's vector does not depend on its batch).
    np.testing.assert_allclose(question, embedder.encode_queries([QUERIES[1]])[0], atol=1e-5)
    np.testing.assert_allclose(passages, embedder.encode_documents(PASSAGES[3:]), atol=1e-5)
    # A pair short enough for one pass stays one pass in the short lane.
    gate.lanes.clear()
    embedder.encode_query_with_documents(QUERIES[1], PASSAGES[:1])
    assert gate.lanes == ["short"]
