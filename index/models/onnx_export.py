"""Exports a sentence-transformers folder to ONNX (fp32 and dynamic int8), once, into the cache.

The graph takes `input_ids` and `attention_mask` and returns the mean-pooled, L2-normalised
sentence vector, so the ONNX engine needs no torch at run time. The export runs on first use
in a temporary sibling folder that is renamed into place when complete (index.models.publish),
so two processes starting at once are safe: the loser discards its copy.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import shutil
import time
import warnings
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Final

from index.models.errors import BundledModelError
from index.models.publish import is_complete, publish, write_synced

log = logging.getLogger("stellwerk.embedder")

FP32_FILE: Final = "model.onnx"
INT8_FILE: Final = "model-int8.onnx"
TOKENIZER_FILE: Final = "tokenizer.json"
SETTINGS_FILE: Final = "export.json"
# Per-channel weight scales: measured against per-tensor on the 500 held-out tickets
# (bench/encode_speed.py, docs/BENCHMARKS.md): cosine to torch 0.997 against 0.988 mean.
PER_CHANNEL: Final = True
# Only the MatMuls are quantised; the token embedding table (a Gather) stays fp32. Measured
# on covid-faq-de (docs/BENCHMARKS.md, "Encode engines"): with the table in int8 too, dense
# nDCG@10 fell 0.010 below torch's at the same cosine agreement (0.997); fp32 table: equal.
# The table is looked up, not multiplied, so keeping it costs memory (388 MB file against
# 112 MB for e5's 250k-token vocabulary), not time.
QUANTIZED_OPS: Final = ("MatMul",)
# The lookup tables (Gather initializers) are also written as .npy files beside the graphs:
# the engine memory-maps them and hands them to every session of the process as shared
# initializers, so the two lanes' sessions hold no copy of their own and only the rows of
# tokens that occur are ever read (e5's table is 250k tokens x 384).
TABLES_DIR: Final = "tables"
# Bump when the graph or the quantisation changes so that old exports are rebuilt.
_LAYOUT_VERSION: Final = 3
_OPSET: Final = 17


@dataclass(frozen=True)
class OnnxModelFiles:
    """An exported model: both graphs, the tokenizer and what the export recorded."""

    folder: Path
    max_seq_length: int
    pad_id: int
    tables: tuple[tuple[str, str], ...] = ()  # (initializer name, file under TABLES_DIR)

    @property
    def fp32(self) -> Path:
        return self.folder / FP32_FILE

    @property
    def int8(self) -> Path:
        return self.folder / INT8_FILE

    @property
    def tokenizer(self) -> Path:
        return self.folder / TOKENIZER_FILE


def materialize_onnx(source: Path, cache_dir: Path, *, name: str) -> OnnxModelFiles:
    """The ONNX export of the sentence-transformers folder ``source`` (model ``name``),
    built on first use into ``cache_dir``."""
    source = source.resolve()
    _check_exportable(source)
    digest = hashlib.sha256(str(source).encode()).hexdigest()[:10]
    safe_name = "".join(c if c.isalnum() or c in "-_." else "-" for c in name)
    target = cache_dir / f"{safe_name}-{digest}-onnx"
    marker = _marker_content(source)
    if not is_complete(target, marker):
        log.warning(
            "exporting %s to ONNX (fp32 and int8) into %s; once per model cache", source, target
        )
        started = time.perf_counter()
        publish(target, marker, functools.partial(_export, source))
        log.warning("ONNX export done in %.1f s", time.perf_counter() - started)
    settings = json.loads((target / SETTINGS_FILE).read_text(encoding="utf-8"))
    return OnnxModelFiles(
        folder=target,
        max_seq_length=int(settings["max_seq_length"]),
        pad_id=settings["pad_id"],
        tables=tuple((str(n), str(f)) for n, f in settings.get("tables", {}).items()),
    )


def _check_exportable(source: Path) -> None:
    """Only Transformer + mean Pooling (+ Normalize) folders: what the graph reproduces."""
    try:
        modules = json.loads((source / "modules.json").read_text(encoding="utf-8"))
        pooling_dir = next(m["path"] for m in modules if m["type"].endswith(".Pooling"))
        pooling = json.loads((source / pooling_dir / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError, StopIteration) as exc:
        raise BundledModelError(
            f"{source} has no readable modules.json with a Pooling module ({exc}); "
            "set STELLWERK_EMBEDDING_ENGINE=torch for this model"
        ) from exc
    mean = pooling.get("pooling_mode") == "mean" or pooling.get("pooling_mode_mean_tokens")
    types = [m["type"].rsplit(".", 1)[-1] for m in modules]
    if not mean or types not in (
        ["Transformer", "Pooling", "Normalize"],
        ["Transformer", "Pooling"],
    ):
        raise BundledModelError(
            f"{source} is not Transformer + mean Pooling (+ Normalize); the ONNX engine "
            "reproduces only that: set STELLWERK_EMBEDDING_ENGINE=torch for this model"
        )
    if not (source / TOKENIZER_FILE).is_file():
        raise BundledModelError(
            f"{source} has no {TOKENIZER_FILE}; set STELLWERK_EMBEDDING_ENGINE=torch for it"
        )


def _source_stamp(source: Path) -> str:
    """Changes when the folder's files do (names, sizes, config), survives copying."""
    digest = hashlib.sha256()
    for path in sorted(p for p in source.iterdir() if p.is_file()):
        digest.update(f"{path.name}:{path.stat().st_size};".encode())
    config = source / "config.json"
    if config.is_file():
        digest.update(config.read_bytes())
    return digest.hexdigest()[:16]


def _marker_content(source: Path) -> str:
    return json.dumps(
        {
            "layout": _LAYOUT_VERSION,
            "source": str(source),
            "source_stamp": _source_stamp(source),
            "onnxruntime": metadata.version("onnxruntime"),
            "per_channel": PER_CHANNEL,
        },
        sort_keys=True,
    )


def _export(source: Path, out: Path) -> None:
    """Write both graphs, the tokenizer and export.json (``publish`` adds the marker)."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from sentence_transformers import SentenceTransformer

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    model: Any = SentenceTransformer(str(source), device="cpu", local_files_only=True)
    transformer = model[0].auto_model.eval()
    sample = model.tokenizer(
        ["query: a short text", "passage: a somewhat longer text to pad the other one"],
        padding=True,
        return_tensors="pt",
    )
    graph = _pooled_encoder(transformer)
    fp32 = out / FP32_FILE
    # The TorchScript exporter (dynamo=False) needs no onnxscript; torch warns that it is the
    # legacy one, and the tracer warns about shape checks it bakes in. The graph is checked
    # against torch on padded batches of mixed length (tests/index/models/test_onnx_export.py).
    with torch.inference_mode(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            graph,
            (sample["input_ids"], sample["attention_mask"]),
            str(fp32),
            input_names=["input_ids", "attention_mask"],
            output_names=["embedding"],
            dynamic_axes={
                "input_ids": {0: "batch", 1: "tokens"},
                "attention_mask": {0: "batch", 1: "tokens"},
                "embedding": {0: "batch"},
            },
            opset_version=_OPSET,
            dynamo=False,  # the TorchScript exporter needs no onnxscript
        )
    quantize_dynamic(
        str(fp32),
        str(out / INT8_FILE),
        weight_type=QuantType.QInt8,
        per_channel=PER_CHANNEL,
        op_types_to_quantize=list(QUANTIZED_OPS),
    )
    shutil.copyfile(source / TOKENIZER_FILE, out / TOKENIZER_FILE)
    for written in (FP32_FILE, INT8_FILE, TOKENIZER_FILE):
        with (out / written).open("rb") as fh:
            os.fsync(fh.fileno())
    settings = {
        "tables": _write_tables(out / INT8_FILE, out / TABLES_DIR),
        "max_seq_length": int(model.max_seq_length),
        "pad_id": int(model.tokenizer.pad_token_id or 0),
        "per_channel": PER_CHANNEL,
        "quantized_ops": list(QUANTIZED_OPS),
        "torch": torch.__version__,
    }
    write_synced(out / SETTINGS_FILE, json.dumps(settings, indent=2) + "\n")


def _write_tables(graph: Path, folder: Path) -> dict[str, str]:
    """Every fp32 Gather table of ``graph`` as an .npy file; returns name -> file name.

    The fp32 graph holds the same tables (only MatMuls are quantised), so one set of files
    serves both engines.
    """
    import numpy as np
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(graph))
    gathered = {node.input[0] for node in model.graph.node if node.op_type == "Gather"}
    folder.mkdir()
    written: dict[str, str] = {}
    for initializer in model.graph.initializer:
        if initializer.name in gathered and initializer.data_type == onnx.TensorProto.FLOAT:
            file_name = f"table-{len(written)}.npy"
            with (folder / file_name).open("wb") as fh:
                np.save(fh, numpy_helper.to_array(initializer))
                fh.flush()
                os.fsync(fh.fileno())
            written[initializer.name] = file_name
    return written


def _pooled_encoder(transformer: Any) -> Any:
    """The transformer, mean pooling over the attention mask, L2 normalisation: one graph."""
    import torch

    class PooledEncoder(torch.nn.Module):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            self.transformer = transformer

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            hidden = self.transformer(
                input_ids=input_ids, attention_mask=attention_mask
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2.0, dim=1)

    return PooledEncoder()
