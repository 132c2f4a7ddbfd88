"""Every runtime setting of Stellwerk, read from STELLWERK_* environment variables."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from index.embedder import DEFAULT_ENGINE_CHOICE, EngineChoice


class Settings(BaseSettings):
    """Configuration for the service, the CLI and the ingestion pipeline.

    Tests build `Settings(...)` directly; production reads the environment (prefix
    `STELLWERK_`) and an optional `.env` file.
    """

    model_config = SettingsConfigDict(env_prefix="STELLWERK_", env_file=".env", extra="ignore")

    data_dir: Path = Field(
        default=Path("var"),
        description="Folder for all local state: SQLite database, index snapshots, model cache.",
    )
    database_url: str | None = Field(
        default=None,
        description=(
            "SQLAlchemy URL of the database, e.g. postgresql+psycopg://user@host/db. "
            "Empty means a SQLite file `stellwerk.db` in the data folder."
        ),
    )
    database_pool_size: int = Field(
        default=10,
        ge=1,
        le=1000,
        description=(
            "Database connections a process keeps open; a request holds one or two. Mind "
            "PostgreSQL's max_connections across replicas: (pool size + overflow) x replicas."
        ),
    )
    database_max_overflow: int = Field(
        default=20, ge=0, le=1000, description="Extra connections a process opens under load."
    )
    database_pool_timeout: float = Field(
        default=10.0,
        gt=0,
        description=(
            "Seconds a request waits for a free connection before it gets 503 with "
            "Retry-After (instead of waiting on, or failing with a 500)."
        ),
    )
    auto_migrate: bool = Field(
        default=True,
        description="Apply pending Alembic migrations when the service or a CLI command starts.",
    )
    embedding_model: str = Field(
        default="multilingual-e5-small",
        description=(
            "Embedding model: a built-in name (multilingual-e5-small, all-minilm-l6-v2), a local "
            "sentence-transformers folder, or a model name already in the local Hugging Face "
            "cache. Nothing is downloaded."
        ),
    )
    model_cache_dir: Path | None = Field(
        default=None,
        description=(
            "Where built-in models are unpacked for sentence-transformers and models are "
            "exported for ONNX Runtime; empty means `models/` in the data folder. Container "
            "images point it at a baked-in folder."
        ),
    )
    embedding_batch_size: int = Field(
        default=32, ge=1, le=1024, description="Texts per forward pass when encoding."
    )
    embedding_max_seq_length: int = Field(
        default=512, ge=16, le=8192, description="Token window of the model; longer text is cut."
    )
    embedding_engine: EngineChoice = Field(
        default=DEFAULT_ENGINE_CHOICE,
        description=(
            "What runs the embedding models (the main and the routing's second one): "
            "auto (onnx-int8 where the CPU has int8 dot products, VNNI/AMX or Arm's, and onnx "
            "elsewhere), onnx-int8 (ONNX Runtime, dynamic int8 weights), onnx (ONNX Runtime, "
            "fp32), onnx-int8-queries (int8 for what requests encode, fp32 for stored passages: "
            "torch's ranking quality at int8's query speed, fp32's ingest speed) or torch "
            "(sentence-transformers). The ONNX engines export each model once "
            "into the model cache on first start. See docs/BENCHMARKS.md for the measurement."
        ),
    )
    embedding_threads: int = Field(
        default=0,
        ge=0,
        description=(
            "CPU threads of one forward pass (ONNX Runtime's intra-op threads, torch's "
            "threads); 0 means every core. Long work always leaves one core free."
        ),
    )
    chunk_max_words: int = Field(
        default=180,
        ge=20,
        description="Longest passage in words; longer sections are split at paragraph borders.",
    )
    ingest_batch_passages: int = Field(
        default=512,
        ge=1,
        description=(
            "Passages embedded and committed together during an ingest; a crash loses at "
            "most one batch, larger batches keep the model busier."
        ),
    )
    index_exact_max_vectors: int = Field(
        default=200_000,
        ge=0,
        description=(
            "Up to this many vectors the index is exact (flat inner product); above it, HNSW. "
            "See docs/BENCHMARKS.md for the measurement behind the default."
        ),
    )
    index_refresh_seconds: float = Field(
        default=1.0,
        ge=0.0,
        description=(
            "How often a search checks the database for writes made by other processes "
            "(CLI ingests, other replicas). Writes through this process are visible at once."
        ),
    )
    search_system: Literal["hybrid", "dense", "bm25", "rrf"] = Field(
        default="hybrid",
        description=(
            "Ranking used by /search and /suggest: hybrid (dense and BM25, fused by how much "
            "each can be trusted for the query), dense, bm25, or rrf (reciprocal rank fusion)."
        ),
    )
    search_second_model: str = Field(
        default="all-minilm-l6-v2",
        description=(
            "Second embedding model the hybrid ranking reads where query and document are "
            "English (same choices as the embedding model; empty turns it off). Passages "
            "stored before it was set get its vectors with `stellwerk index rebuild`."
        ),
    )
    snapshots_kept: int = Field(
        default=2, ge=1, description="Index snapshots kept on disk; older ones are deleted."
    )
    max_body_bytes: int = Field(
        default=1_000_000, ge=1024, description="Largest accepted request body; larger gets 413."
    )
    search_max_k: int = Field(default=50, ge=1, le=1000, description="Largest k a client may ask.")
    suggest_read_words: int = Field(
        default=600,
        ge=20,
        le=10_000,
        description=(
            "Words of a ticket's description /suggest reads (and embeds, in passages of "
            "chunk_max_words); the rest of a pasted log is ignored, so no ticket costs more "
            "than about four passages."
        ),
    )
    suggest_solutions: int = Field(
        default=5, ge=1, le=50, description="How many solutions /suggest returns."
    )
    routing_neighbours: int = Field(
        default=20, ge=1, description="Similar resolved tickets that vote on the team."
    )
    routing_min_confidence: float = Field(
        default=0.45,
        ge=0.0,
        le=1.0,
        description=(
            "Below this team confidence /suggest leaves the decision to the dispatcher. A "
            "calibrated probability: the classifier's confidence is fitted on held-out tickets, "
            "so 0.8 means right about 80 % of the time (see the reliability table of "
            "`stellwerk routing status`; accuracy per coverage in `eval routing`'s risk_coverage)."
        ),
    )
    routing_classifier_min_tickets: int = Field(
        default=200,
        ge=1,
        description="Resolved tickets needed before the router trains its classifier.",
    )
    routing_classifier_max_tickets: int = Field(
        default=20_000,
        ge=1,
        description="The newest resolved tickets the classifier trains on (bounds training time).",
    )
    routing_second_model: str = Field(
        default="all-minilm-l6-v2",
        description=(
            "Second embedding model the routing classifier reads beside the index model "
            "(same choices as the embedding model); empty turns it off."
        ),
    )
    routing_models_kept: int = Field(
        default=2, ge=1, description="Trained routing models kept on disk."
    )
    routing_retrain_seconds: float = Field(
        default=60.0,
        ge=0.0,
        description="Shortest pause between two background trainings of the router.",
    )
    first_level_min_similarity: float = Field(
        default=0.89,
        ge=0.0,
        le=1.0,
        description=(
            "Cosine similarity from which a published how-to counts as a proven first-level "
            "solution, so /suggest answers resolve_at_first_level."
        ),
    )
    event_retention_days: int = Field(
        default=400,
        ge=1,
        le=36_500,
        description=(
            "Days suggestion and search events (what the KPIs are computed from) are kept; "
            "older ones are deleted at start-up and every 1,000th event written."
        ),
    )
    auth_failure_burst: int = Field(
        default=10,
        ge=1,
        description=(
            "Failed authentications a client address may make in a row with one key prefix "
            "(and with unknown or missing keys and bad webhook signatures together); after "
            "them further wrong keys and signatures get 429 until the bucket refills, valid "
            "ones never do. Counted per process, or for all replicas with STELLWERK_REDIS_URL."
        ),
    )
    auth_failure_refill_seconds: float = Field(
        default=6.0,
        ge=0.0,
        description="One more failed authentication is allowed per this many seconds.",
    )
    key_requests_per_minute: float = Field(
        default=300,
        ge=0,
        description=(
            "Search and suggest requests one API key may send a minute (sustained); more get "
            "429 with Retry-After. 0 turns the limit off. Counted per process, or for all "
            "replicas with STELLWERK_REDIS_URL."
        ),
    )
    key_request_burst: int = Field(
        default=60, ge=1, description="Search and suggest requests a key may send in a burst."
    )
    key_max_in_flight: int = Field(
        default=4,
        ge=1,
        description="Search and suggest requests of one key running at once; more wait.",
    )
    key_queue_seconds: float = Field(
        default=10.0,
        gt=0,
        description=(
            "How long a request waits for one of its key's slots before it gets 503 with "
            "Retry-After."
        ),
    )
    session_secret: SecretStr | None = Field(
        default=None,
        description=(
            "Key that signs the web pages' session cookies (32+ random characters); all "
            "replicas need the same one. Empty: a random key kept in `session-secret` in the "
            "data folder, made on first start."
        ),
    )
    session_hours: float = Field(
        default=10.0,
        gt=0.0,
        le=24.0 * 30,
        description="How long a web sign-in lasts before the person signs in again.",
    )
    public_url: str | None = Field(
        default=None,
        description=(
            "Address people reach the service at (https://stellwerk.example.org); links in "
            "the notes written back to ticket tools start with it. Unset: relative links."
        ),
    )
    connector_worker: bool = Field(
        default=True,
        description=(
            "Run the delivery worker (write-backs, contractor notifications) and the pollers "
            "of connectors added with --poll-every (GLPI 10) in the service."
        ),
    )
    connector_poll_seconds: float = Field(
        default=0.5, ge=0.01, description="How often the delivery worker looks for due deliveries."
    )
    connector_retry_seconds: float = Field(
        default=2.0,
        ge=0.0,
        description="Wait before the first retry of a failed delivery; it doubles per attempt.",
    )
    connector_retry_max_seconds: float = Field(
        default=600.0, ge=0.0, description="Longest wait between two attempts of a delivery."
    )
    connector_max_attempts: int = Field(
        default=10, ge=1, description="Attempts of a delivery before it is marked failed."
    )
    webhook_deadline_seconds: float = Field(
        default=2.0,
        gt=0.0,
        le=60.0,
        description=(
            "Longest a ticket tool's webhook waits for its answer: a suggestion not ready by "
            "then is queued in the database and completed in the background (answer 202)."
        ),
    )
    connector_timeout_seconds: float = Field(
        default=10.0, gt=0.0, description="Timeout of one call to a ticket tool or a firm."
    )
    redis_url: str | None = Field(
        default=None,
        description=(
            "Redis for limits shared by every replica (failed sign-ins, per-key rates), e.g. "
            "redis://127.0.0.1:6379/0. Empty: each process counts alone."
        ),
    )
    redis_prefix: str = Field(
        default="stellwerk",
        min_length=1,
        max_length=100,
        description="Prefix of Stellwerk's keys in Redis (one per deployment sharing a Redis).",
    )
    metrics_token: SecretStr | None = Field(
        default=None,
        description=(
            "Bearer token Prometheus scrapes /metrics with (32+ random characters), besides an "
            "admin's API key. Empty: only admin keys may read the metrics."
        ),
    )
    host: str = Field(default="127.0.0.1", description="Address `stellwerk serve` binds to.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port `stellwerk serve` binds to.")
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        default="info", description="Log level of the service."
    )
    log_format: Literal["text", "json"] = Field(
        default="text",
        description=(
            "Log lines as text or as JSON objects (time, level, logger, message, request_id), "
            "one a line, for a log collector."
        ),
    )

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'stellwerk.db').resolve()}"

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    @property
    def routing_dir(self) -> Path:
        return self.data_dir / "routing"

    @property
    def resolved_model_cache_dir(self) -> Path:
        return self.model_cache_dir or self.data_dir / "models"
