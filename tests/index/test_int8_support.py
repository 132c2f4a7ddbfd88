"""The `auto` engine: int8 where the CPU has int8 dot products, fp32 elsewhere."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.settings import Settings
from index.embedder import Embedder, default_engine, resolve_engine
from index.int8_support import cpu_flags, int8_dot_product, this_cpu_has_int8_dot_product

# Abridged /proc/cpuinfo of the machines the engines were measured on.
EPYC_AVX512 = "processor\t: 0\nflags\t\t: fpu sse2 avx2 fma avx512f avx512_vnni avx512_bf16\n"
XEON_AVX2 = "processor\t: 0\nflags\t\t: fpu sse2 avx2 fma bmi2\n\nprocessor\t: 1\nflags\t: avx2\n"
ARM_DOTPROD = "processor\t: 0\nFeatures\t: fp asimd evtstrm aes crc32 asimddp\n"
ARM_PLAIN = "processor\t: 0\nFeatures\t: fp asimd evtstrm aes crc32\n"


def _cpuinfo(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cpuinfo"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "fast"),
    [(EPYC_AVX512, True), (XEON_AVX2, False), (ARM_DOTPROD, True), (ARM_PLAIN, False)],
)
def test_int8_only_where_the_cpu_has_int8_dot_products(
    tmp_path: Path, text: str, fast: bool
) -> None:
    assert int8_dot_product(cpu_flags(_cpuinfo(tmp_path, text))) is fast


def test_flags_of_every_processor_line_are_read(tmp_path: Path) -> None:
    flags = cpu_flags(_cpuinfo(tmp_path, XEON_AVX2))
    assert flags is not None and {"avx2", "fma", "bmi2"} <= flags


def test_unknown_flags_keep_the_measured_default(tmp_path: Path) -> None:
    # No /proc/cpuinfo (another OS, a sandbox): int8, the engine measured fastest.
    assert cpu_flags(tmp_path / "missing") is None
    assert cpu_flags(_cpuinfo(tmp_path, "processor\t: 0\n")) is None
    assert int8_dot_product(None) is True


def test_auto_resolves_by_the_cpu_and_explicit_choices_stand() -> None:
    assert resolve_engine("auto", int8_fast=True) == "onnx-int8"
    assert resolve_engine("auto", int8_fast=False) == "onnx"
    for engine in ("onnx-int8", "onnx", "torch"):
        assert resolve_engine(engine, int8_fast=False) == engine
        assert resolve_engine(engine, int8_fast=True) == engine


def test_the_default_setting_is_auto_and_picks_by_this_cpu(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("STELLWERK_EMBEDDING_ENGINE", raising=False)
    assert Settings().embedding_engine == "auto"
    expected = "onnx-int8" if this_cpu_has_int8_dot_product() else "onnx"
    assert default_engine() == expected


def test_the_setting_takes_auto_and_refuses_unknown_engines(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("STELLWERK_EMBEDDING_ENGINE", "onnx")
    assert Settings().embedding_engine == "onnx"
    monkeypatch.setenv("STELLWERK_EMBEDDING_ENGINE", "fast")
    with pytest.raises(ValueError, match="embedding_engine"):
        Settings()


def test_the_model_loads_on_the_engine_auto_picks(real_embedder: Embedder) -> None:
    assert real_embedder.engine == default_engine()
