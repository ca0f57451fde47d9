"""Timing and machine description shared by the benchmark scripts (run from any directory:
each script puts its own folder first on ``sys.path``)."""

from __future__ import annotations

import json
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


def write_report(
    path: Path, settings: dict[str, Any], device: torch.device, load_before: tuple[float, float, float], packages: tuple[str, ...], results: dict[str, Any]
) -> dict[str, Any]:
    """Write one benchmark's JSON report (settings, machine, load, package versions, results); return it."""
    from superposition.book.record import package_versions
    from superposition.runtime import describe_device

    report = {
        "settings": settings,
        "device": describe_device(device),
        "cpu": cpu_name(),
        "cpu_count": os.cpu_count(),
        "load_average_before_after": [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
        "load_average_around_each_timing": LOADS,
        "packages": package_versions(packages),
        "results": results,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(f"device: {report['device']}; cpu: {report['cpu']}")
    return report
