"""Device, seeding, threads and progress bars: the one place that decides how code runs.

Every notebook and benchmark calls :func:`seed_everything` once and asks :func:`get_device`
for the device, so the same parameters give the same numbers.
"""

from __future__ import annotations

import functools
import os
import random
from collections.abc import Iterable, Iterator
from typing import TypeVar

import numpy as np
import torch

T = TypeVar("T")

DEVICE_ENV = "SUPERPOSITION_DEVICE"


def get_device(preference: str = "auto") -> torch.device:
    """The device computations run on.

    The environment variable ``SUPERPOSITION_DEVICE`` overrides ``"auto"``.

    Parameters
    ----------
    preference : {"auto", "cpu", "cuda"}
        ``"auto"`` (CUDA when present, else CPU), ``"cpu"`` or ``"cuda"`` (an error without CUDA).

    Returns
    -------
    torch.device
        The device.
    """
    allowed = ("auto", "cpu", "cuda")
    if preference not in allowed:
        raise ValueError(f"device must be one of {allowed}, got {preference!r}")
    if preference == "auto":
        preference = os.environ.get(DEVICE_ENV, "auto")
    if preference == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device='cuda' was asked for, but torch sees no CUDA device")
    if preference == "auto":
        preference = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(preference)


def describe_device(device: torch.device) -> str:
    """A short human-readable name: ``'cpu (2 threads)'`` or the GPU's model name.

    Parameters
    ----------
    device : torch.device
        The device.

    Returns
    -------
    str
        Its name.
    """
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    return f"cpu ({torch.get_num_threads()} threads)"


@functools.cache
def describe_cpu() -> dict[str, str]:
    """The CPU and the kernel path torch and MKL take on it.

    Model name, torch's vector capability (``AVX512``, ``AVX2``, ``DEFAULT``; forced by
    ``ATEN_CPU_CAPABILITY``), and the forcing variables that are set (:data:`KERNEL_PATH_VARIABLES`).

    Returns
    -------
    dict of str to str
        ``model``, ``capability``, ``threads`` and any forcing variables.
    """
    import platform

    model = platform.processor() or "unknown"
    try:
        for line in open("/proc/cpuinfo", encoding="utf-8"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    described = {"model": model, "capability": torch.backends.cpu.get_cpu_capability(), "threads": str(torch.get_num_threads())}
    described |= {name: os.environ[name] for name in KERNEL_PATH_VARIABLES if name in os.environ}
    return described


KERNEL_PATH_VARIABLES = ("ATEN_CPU_CAPABILITY", "MKL_CBWR", "ONEDNN_MAX_CPU_ISA", "NPY_DISABLE_CPU_FEATURES")
"""Environment variables that force torch's, MKL's, oneDNN's and numpy's CPU kernel paths."""


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and torch, ask torch for deterministic kernels, return a CPU generator.

    Library functions take an explicit ``torch.Generator`` (or NumPy ``Generator``) derived from this
    seed rather than reading global state, so results do not depend on call order.

    Parameters
    ----------
    seed : int
        Non-negative seed.

    Returns
    -------
    torch.Generator
        A CPU generator seeded with ``seed``.
    """
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)
    return torch.Generator().manual_seed(seed)


def make_generator(seed: int, *offsets: int) -> torch.Generator:
    """A CPU ``torch.Generator`` for one named stream: ``seed`` combined with integer offsets.

    Streams with different offsets are independent, and each is reproducible on its own.

    Parameters
    ----------
    seed : int
        Base seed.
    *offsets : int
        Integers naming the stream.

    Returns
    -------
    torch.Generator
        The stream's generator.
    """
    mixed = np.random.SeedSequence([seed, *offsets]).generate_state(1, dtype=np.uint64)[0]
    return torch.Generator().manual_seed(int(mixed) & (2**63 - 1))


def progress(iterable: Iterable[T], total: int | None = None, desc: str = "") -> Iterator[T]:
    """A tqdm progress bar (text, to stderr) for long loops in interactive sessions.

    Quiet when ``SUPERPOSITION_QUIET=1``: the pipeline sets it for the notebooks it executes, so that
    bars do not end up in the book, and shows a per-cell bar in the terminal instead.

    Parameters
    ----------
    iterable : iterable
        The loop's items.
    total : int or None
        Number of items, when ``iterable`` has no length.
    desc : str
        Label of the bar.

    Yields
    ------
    object
        The items of ``iterable``.
    """
    from tqdm import tqdm

    disable = os.environ.get("SUPERPOSITION_QUIET", "0") == "1"
    yield from tqdm(iterable, total=total, desc=desc, disable=disable, leave=False)
