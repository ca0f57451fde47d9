"""Timing and machine description shared by the benchmark scripts (run from any directory:
each script puts its own folder first on ``sys.path``)."""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

LOADS: dict[str, list[float]] = {}
"""The 1-minute load average before and after each timing, by name: a busy machine shows here."""


def timed(name: str, function: Callable[[], Any], device: torch.device) -> tuple[Any, float]:
    """Run ``function`` once; return its result and wall time (CUDA work included), noting the load."""
    before = os.getloadavg()[0]
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    result = function()
    if device.type == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    LOADS[name] = [round(before, 2), round(os.getloadavg()[0], 2)]
    return result, seconds


def cpu_name() -> str:
    """The CPU model from /proc/cpuinfo, or what the platform says."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()
