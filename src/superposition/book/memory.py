"""Peak-memory estimates of the chapters, from their parameters, checked before a kernel starts.

Each parameter is range-checked on its own, but a product of sizes that are each in range can
still ask for more memory than the machine has (``n_features = 20000`` with ``n_trials = 10000``
asks the compressed-sensing solver for terabytes): the run would then fail minutes later, or
bring the out-of-memory killer. :func:`check_memory` refuses such a run before anything starts,
naming the parameters that drive the estimate.

An estimate is the size of the largest arrays a chapter holds at once, read from the code (the
bytes of one element times the array sizes, times a factor for copies and solver work space).
The chapters without one (the network chapters, identifiability, additivity) are bounded by
their parameter ranges or by data on disk rather than by a product of sizes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .params import ParameterError, parse_integers


@dataclass(frozen=True)
class MemoryEstimate:
    """A chapter's peak-memory estimate.

    Attributes
    ----------
    bytes : float
        Estimated peak, in bytes.
    drivers : tuple of str
        The parameters that drive it.
    formula : str
        How it is computed, in words.
    """

    bytes: float
    drivers: tuple[str, ...]
    formula: str


def _compressed_sensing(p: dict[str, Any]) -> MemoryEstimate:
    n, trials = max([p["n_features"], *parse_integers(p["scaling_sizes"])]), p["n_trials"]
    return MemoryEstimate(3 * 8 * trials * n * n, ("n_features", "scaling_sizes", "n_trials"),
                          "3 arrays of n_trials x N^2 doubles per row of the diagram, N the largest code length")  # fmt: skip


def _toy_alignment(p: dict[str, Any]) -> MemoryEstimate:
    widths = parse_integers(p["widths"])
    held_out = p["n_eval_batches"] or round(p["n_steps"] * (1 - p["sae_train_fraction"]))
    samples = held_out * p["batch_size"]
    per_sample = p["n_features"] + 2 * len(widths) * max(widths) + 6 * p["sae_latents"]
    return MemoryEstimate(2 * 4 * samples * per_sample, ("n_eval_batches", "batch_size", "n_features", "widths", "sae_latents"),
                    "2 float copies of the held-out samples' features, every model's activations and the latents of the pair scored")  # fmt: skip


def _interpretability(p: dict[str, Any]) -> MemoryEstimate:
    deltas = [float(v) for v in p["deltas"].split(",")]
    cells = len(deltas) * len(p["rhos"].split(",")) * p["n_replicates"]
    per_cell = (p["n_train"] + p["n_eval"]) * (max(deltas) + 1) * p["n_features"]
    return MemoryEstimate(4 * cells * per_cell, ("n_train", "n_features", "n_replicates", "deltas", "rhos"),
                    "float samples and codes of every cell of the grid, held at once for the batched SAEs")  # fmt: skip


ESTIMATES: dict[str, Callable[[dict[str, Any]], MemoryEstimate]] = {
    "compressed_sensing": _compressed_sensing,
    "toy_alignment": _toy_alignment,
    "interpretability": _interpretability,
}
"""Notebook name -> its estimate; a notebook without one has ranges that bound its memory."""


def available_memory() -> int:
    """Bytes of memory available to a new process now (``psutil.virtual_memory().available``).

    Returns
    -------
    int
        The bytes.
    """
    import psutil

    return int(psutil.virtual_memory().available)


def check_memory(name: str, parameters: dict[str, Any], available: int | None = None) -> MemoryEstimate | None:
    """Refuse a run whose estimated peak memory exceeds what the machine has available.

    Parameters
    ----------
    name : str
        Notebook name.
    parameters : dict of str to Any
        The run's parameters, after the profile and the overrides.
    available : int or None
        Bytes available (default :func:`available_memory`).

    Returns
    -------
    MemoryEstimate or None
        The estimate (None for a notebook without one).

    Raises
    ------
    ParameterError
        When the estimate exceeds the available memory; the message names the parameters that
        drive it, the estimate and what is available.
    """
    estimator = ESTIMATES.get(name)
    if estimator is None:
        return None
    try:
        estimate = estimator(parameters)
    except (KeyError, ValueError, TypeError):  # malformed values: the notebook's own checks name them
        return None
    free = available_memory() if available is None else available
    if estimate.bytes > free:
        named = ", ".join(f"{p} = {parameters.get(p)!r}" for p in estimate.drivers)
        raise ParameterError(
            f"{name}: parameters {named} need about {estimate.bytes / 2**30:,.1f} GiB of memory at peak "
            f"({estimate.formula}); this machine has {free / 2**30:,.1f} GiB available. Run with smaller values."
        )
    return estimate
