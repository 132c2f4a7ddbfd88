"""Whether this CPU multiplies int8 fast: the measured reason behind the `auto` engine.

Dynamic int8 pays only where the CPU has int8 dot-product instructions (x86 VNNI or AMX,
Arm's dot product extension): there ONNX Runtime's int8 kernels ran a query 2x faster than
fp32 (docs/BENCHMARKS.md, "Encode engines"). On a CPU with AVX2 and FMA alone both spend the
same time in the matrix products (int8 1.07x fp32 on a query, 1.02x on passages), and fp32
keeps torch's vectors (int8 costs the long bug reports up to 0.017 nDCG@10).
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Final

# /proc/cpuinfo's names: x86's AVX-512 VNNI, AVX-VNNI, AMX int8; Arm's SDOT/UDOT.
INT8_DOT_PRODUCT_FLAGS: Final = frozenset({"avx512_vnni", "avx_vnni", "amx_int8", "asimddp"})
CPUINFO: Final = Path("/proc/cpuinfo")


def cpu_flags(cpuinfo: Path = CPUINFO) -> frozenset[str] | None:
    """The CPU's feature flags (x86 `flags`, Arm `Features`), or None where not readable."""
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    flags: set[str] = set()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):
            flags.update(value.split())
    return frozenset(flags) if flags else None


def int8_dot_product(flags: frozenset[str] | None) -> bool:
    """Whether int8 pays on a CPU with these flags; unknown flags keep int8 (the engine
    measured fastest where it was measured at all)."""
    return flags is None or bool(flags & INT8_DOT_PRODUCT_FLAGS)


@functools.cache
def this_cpu_has_int8_dot_product() -> bool:
    return int8_dot_product(cpu_flags())
