"""What this CPU can compute fast: its instruction-set flags (Linux /proc/cpuinfo).

Used to pick kernels (`mner.modules.int8_linear`: oneDNN `_int_mm` needs int8 dot-product
instructions) and precisions (`mner.precision`: bf16 is only fast with native bf16).
"""

from __future__ import annotations

from pathlib import Path


def cpu_flags(cpuinfo: str | None = None) -> set[str]:
    """The first `flags` line of /proc/cpuinfo (or of `cpuinfo`); empty where unreadable."""
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text(encoding="utf-8")
        except OSError:
            return set()
    for line in cpuinfo.splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return set()
