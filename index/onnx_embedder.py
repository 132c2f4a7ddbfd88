"""The ONNX Runtime engine: the exported graph (fp32 or dynamic int8) run without torch.

Same tokenizer (the folder's tokenizer.json), prefixes, mean pooling and normalisation as
the sentence-transformers model it was exported from (index.models.onnx_export). Texts are
padded per batch to the batch's longest, and batches are formed from texts sorted by token
count, so little of a forward pass is spent on padding.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Final

import numpy as np

from index.embedder import ModelSpec, Vectors
from index.encoder_gate import (
    EncoderGate,
    Lane,
    bulk_threads,
    encode_in_lanes,
    is_short,
    process_gate,
)
from index.models.onnx_export import TABLES_DIR, OnnxModelFiles

ONNX_ENGINES: Final = ("onnx-int8", "onnx")


class OnnxEmbedder:
    """Embeds with an exported ONNX graph; one session per lane, each with its threads."""

    def __init__(
        self,
        spec: ModelSpec,
        files: OnnxModelFiles,
        *,
        quantized: bool,
        batch_size: int = 32,
        max_seq_length: int = 512,
        threads: int = 0,
        gate: EncoderGate | None = None,
    ) -> None:
        from tokenizers import Tokenizer

        self._spec = spec
        self._files = files
        self._graph = files.int8 if quantized else files.fp32
        self._engine = "onnx-int8" if quantized else "onnx"
        self._batch_size = batch_size
        self._max_tokens = min(max_seq_length, files.max_seq_length)
        self._tokenizer: Any = Tokenizer.from_file(str(files.tokenizer))
        self._tokenizer.no_padding()
        self._tokenizer.no_truncation()
        self._threads = threads or os.cpu_count() or 1
        self._sessions: dict[int, Any] = {}
        self._tables = _shared_tables(files)
        self._gate = gate or process_gate()
        # Runs the other groups of a short call side by side (`_encode_side_by_side`).
        self._side_pool = ThreadPoolExecutor(
            max_workers=max(1, self._threads - 1), thread_name_prefix="onnx-side"
        )
        # Runs a ticket's documents in the long lane while its question takes the short one
        # (`encode_query_with_documents`); its threads only ever wait for the long lane.
        self._long_pool = ThreadPoolExecutor(thread_name_prefix="onnx-long")
        self._dim = int(self._encode_batch(["probe"], self._threads).shape[1])
        # The long lane's session too, now: made on first use it cost the first long ticket
        # seconds (the graph load), and a short request queued behind it waited as long.
        self._session(self._lane_threads(Lane.BULK))

    @property
    def model_id(self) -> str:
        return self._spec.model_id

    @property
    def engine(self) -> str:
        return self._engine

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def max_seq_length(self) -> int:
        return self._max_tokens

    def _session(self, threads: int) -> Any:
        """The session for `threads` intra-op threads, made on first use (one per lane)."""
        session = self._sessions.get(threads)
        if session is None:
            import onnxruntime as ort

            options = ort.SessionOptions()
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
            options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            # Idle pool threads sleep instead of spinning: the cores are shared with the other
            # lane's session and with the rest of the service.
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            for name, value in self._tables.items():
                options.add_initializer(name, value)
            session = ort.InferenceSession(
                str(self._graph), options, providers=["CPUExecutionProvider"]
            )
            self._sessions = {**self._sessions, threads: session}
        return session

    def _token_ids(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids per text, cut like sentence-transformers cuts: last special token kept."""
        encodings = self._tokenizer.encode_batch(list(texts))
        limit = self._max_tokens
        ids: list[list[int]] = []
        for encoding in encodings:
            tokens = list(encoding.ids)
            ids.append(tokens if len(tokens) <= limit else tokens[: limit - 1] + tokens[-1:])
        return ids

    def token_counts(self, texts: list[str]) -> list[int]:
        return [len(ids) for ids in self._token_ids(texts)]

    def _encode_batch(self, texts: list[str], threads: int) -> Vectors:
        """Texts in batches of `batch_size` sorted by token count, each padded to its longest."""
        ids = self._token_ids(texts)
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        session = self._session(threads)
        out: list[Vectors] = [np.empty(0, dtype=np.float32)] * len(ids)
        for start in range(0, len(order), self._batch_size):
            batch = order[start : start + self._batch_size]
            width = max(len(ids[i]) for i in batch)
            input_ids = np.full((len(batch), width), self._files.pad_id, dtype=np.int64)
            mask = np.zeros((len(batch), width), dtype=np.int64)
            for row, i in enumerate(batch):
                input_ids[row, : len(ids[i])] = ids[i]
                mask[row, : len(ids[i])] = 1
            vectors = session.run(None, {"input_ids": input_ids, "attention_mask": mask})[0]
            for row, i in enumerate(batch):
                out[i] = vectors[row]
        return np.ascontiguousarray(np.stack(out), dtype=np.float32)

    def _lane_threads(self, lane: Lane) -> int:
        return min(self._threads, bulk_threads()) if lane is Lane.BULK else self._threads

    def _forward(self, texts: list[str], lane: Lane) -> Vectors:
        threads = self._lane_threads(lane)
        if lane is Lane.SHORT and threads > 1 and len(texts) > 1:
            return self._encode_side_by_side(texts, threads)
        return self._encode_batch(texts, threads)

    def _encode_side_by_side(self, texts: list[str], threads: int) -> Vectors:
        """A short call of several texts (a ticket as question and as passage) as parallel
        passes, one per group of texts, with the threads shared out between them.

        ONNX Runtime spreads one short sequence's small matrix products badly over threads:
        measured here, a ~100-token query takes the same 12 ms on one thread as on two, and
        the question-and-passage pair of every /suggest 21-24 ms in one pass on two threads.
        Two one-thread passes side by side take the time of one. The call still holds the
        short lane alone, so what it may use is what one short pass used before.
        """
        groups = min(threads, len(texts))
        per_group = max(1, threads // groups)
        members = [list(range(start, len(texts), groups)) for start in range(groups)]
        futures = [
            self._side_pool.submit(self._encode_batch, [texts[i] for i in group], per_group)
            for group in members[1:]
        ]
        parts = [self._encode_batch([texts[i] for i in members[0]], per_group)]
        parts += [future.result() for future in futures]
        out = np.empty((len(texts), parts[0].shape[1]), dtype=np.float32)
        for group, vectors in zip(members, parts, strict=True):
            out[group] = vectors
        return out

    def _encode(self, texts: list[str], whole_job: bool = False) -> Vectors:
        return encode_in_lanes(
            self._gate,
            texts,
            self._forward,
            dim=self._dim,
            token_counts=self.token_counts,
            whole_job=whole_job,
        )

    def encode_documents(self, texts: Sequence[str], *, show_progress: bool = False) -> Vectors:
        prefix = self._spec.document_prefix
        return self._encode([prefix + text for text in texts], whole_job=show_progress)

    def encode_queries(self, texts: Sequence[str]) -> Vectors:
        prefix = self._spec.query_prefix
        return self._encode([prefix + text for text in texts])

    def encode_query_with_documents(
        self, query: str, documents: Sequence[str]
    ) -> tuple[Vectors, Vectors]:
        """One call for both (see SentenceTransformerEmbedder.encode_query_with_documents).

        When the documents make the call long work but the question alone is short (a
        ticket of a few hundred words), the question takes the short lane while the
        documents take the long one, at the same time: each lane holds the other core, and
        nobody waits behind the question longer than behind a search of its length. All
        in one lane, the long lane's one thread would run them one after the other.
        """
        texts = [self._spec.query_prefix + query]
        texts += [self._spec.document_prefix + text for text in documents]
        if is_short(texts) or not is_short(texts[:1]):
            vectors = self._encode(texts)
            return vectors[0], vectors[1:]
        long_part = self._long_pool.submit(self._encode, texts[1:])
        question = self._encode(texts[:1])[0]
        return question, long_part.result()


def _shared_tables(files: OnnxModelFiles) -> dict[str, Any]:
    """The export's lookup tables, memory-mapped, as OrtValues every session shares.

    A session given an initializer this way keeps no copy of it; the map is read-only and
    the pages are the page cache's, shared with every process that loads the same export.
    """
    import onnxruntime as ort

    tables: dict[str, Any] = {}
    for name, file_name in files.tables:
        array = np.load(files.folder / TABLES_DIR / file_name, mmap_mode="r")
        # The OrtValue points into the array's memory and keeps a reference to it.
        tables[name] = ort.OrtValue.ortvalue_from_numpy(array)
    return tables
