"""Paper A's comparison: the same pair of models under several conditions, before and after SAEs.

A *condition* names which representation of the source and of the target a metric compares:
the models' neurons, the codes of a trained SAE, or the codes of the same SAE untrained (the
control). Longon et al. score each condition with each metric and report the change from
neuron→neuron to SAE→SAE; here that change is measured for every SAE replicate, so a chapter can
say whether a rise survives retraining the SAEs.

- :class:`RepresentationBank`: where a chapter's held-out representations come from (its
  :meth:`~RepresentationBank.get` hands out one at a time, so nothing is built that is not scored).
- :func:`score_conditions`: every metric on every (cell, condition), one pair in memory at a time.
- :func:`change_table`: neuron→neuron against SAE→SAE per (metric, cell), over SAE replicates.
- :func:`mapping_bank`: the bank of representations computed beforehand.
- :func:`batched_sae_bank`: the bank of models trained side by side (zero-padded hidden
  activations) and a batch of SAEs on them, each SAE's codes encoded when asked for.

A *cell* is what the chapter compares across (a toy model width, a pair of network layers); a
*unit* is one model's layer (a toy model, a (network, layer) pair).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
import torch

from ..metrics.compare import relative_change, score_pairs
from ..metrics.intervals import mean_interval
from .sae import Saes, encode_in_batches

KINDS = ("neurons", "sae", "random")
"""The representations of one unit: its neurons, a trained SAE's codes, the untrained SAE's codes."""

BEFORE, AFTER = "neuron→neuron", "SAE→SAE"
"""The two conditions whose difference is the change Paper A reports."""


@dataclass(frozen=True)
class RepresentationBank:
    """The held-out representations of every unit, by kind.

    A recipe names one SAE configuration (a training recipe, a value of k).

    Attributes
    ----------
    neurons : callable
        ``neurons(unit)``: (n_samples, n_units) the unit's neurons.
    sae : callable
        ``sae(unit, recipe, replicate)``: (n_samples, n_latents), the codes of a trained SAE.
    random : callable
        ``random(unit)``: (n_samples, n_latents), the codes of the untrained control.
    """

    neurons: Callable[[Hashable], Any]
    sae: Callable[[Hashable, Hashable, int], Any]
    random: Callable[[Hashable], Any]

    def get(self, kind: str, unit: Hashable, recipe: Hashable, replicate: int = 0) -> Any:
        """One representation of ``unit``.

        Parameters
        ----------
        kind : str
            One of :data:`KINDS`.
        unit : hashable
            The unit.
        recipe : hashable
            The SAE recipe (for ``"sae"``).
        replicate : int
            The SAE replicate (for ``"sae"``).

        Returns
        -------
        (n_samples, n_units or n_latents) array
            The representation.
        """
        if kind == "neurons":
            return self.neurons(unit)
        if kind == "sae":
            return self.sae(unit, recipe, replicate)
        if kind == "random":
            return self.random(unit)
        raise ValueError(f"representation kind must be one of {KINDS}, got {kind!r}")

    def pair(self, condition: tuple[str, str], units: tuple[Hashable, Hashable], recipe: Hashable, replicate: int = 0, n: int | None = None) -> tuple[Any, Any]:
        """(source, target) of one condition for ``units``.

        Parameters
        ----------
        condition : (2,) tuple of str
            ``(source kind, target kind)``.
        units : (2,) tuple of hashable
            ``(source unit, target unit)``.
        recipe : hashable
            The SAE recipe.
        replicate : int
            The SAE replicate.
        n : int or None
            Keep the first ``n`` samples only when given.

        Returns
        -------
        source, target : (n_samples, ·) array
            The two representations.
        """
        source = self.get(condition[0], units[0], recipe, replicate)
        target = self.get(condition[1], units[1], recipe, replicate)
        return (source, target) if n is None else (source[:n], target[:n])


def score_conditions(
    bank: RepresentationBank,
    conditions: Mapping[str, tuple[str, str]],
    cells: Mapping[Hashable, tuple[Hashable, Hashable]],
    metric_names: Sequence[str],
    recipe: Hashable,
    replicate: int = 0,
    n: int | None = None,
    *,
    cell_name: str = "cell",
    device: str | torch.device = "cpu",
) -> pd.DataFrame:
    """Every metric on every (cell, condition), cells outermost, with one pair built at a time.

    Parameters
    ----------
    bank : RepresentationBank
        Where the representations come from.
    conditions : mapping str -> (str, str)
        Name -> (source kind, target kind), e.g. ``{"SAE→SAE": ("sae", "sae")}``.
    cells : mapping hashable -> (hashable, hashable)
        Cell -> (source unit, target unit).
    metric_names : sequence of str
        Names of :data:`superposition.metrics.compare.METRIC_NAMES`.
    recipe, replicate, n : hashable, int, int or None
        The SAEs and the samples compared (see :meth:`RepresentationBank.pair`).
    cell_name : str
        Name of the cell column.
    device : str or torch.device
        Where the metrics compute.

    Returns
    -------
    pandas.DataFrame
        The rows of :func:`superposition.metrics.compare.score_pairs`, its ``pair`` column renamed
        ``condition``, with columns ``cell_name``, ``recipe`` and ``replicate`` added.
    """
    parts = [
        score_pairs({name: bank.pair(kinds, units, recipe, replicate, n)}, metric_names, device=device)
        .rename(columns={"pair": "condition"})
        .assign(**{cell_name: cell}, recipe=recipe, replicate=replicate)
        for cell, units in cells.items()
        for name, kinds in conditions.items()
    ]
    return pd.concat(parts, ignore_index=True)


CHANGE_COLUMNS = (
    BEFORE, AFTER, "change", "relative change (%)", "mean change", "interval low", "interval high",
    "smallest change over replicates", "largest", "replicate spread",
)  # fmt: skip


def change_table(
    scores: pd.DataFrame, cells: Sequence[Hashable], metric_labels: Mapping[str, str], cell_name: str = "cell", control: str | None = None
) -> pd.DataFrame:
    """neuron→neuron against SAE→SAE in every (metric, cell), over the SAE replicates.

    Parameters
    ----------
    scores : pandas.DataFrame
        Rows of :func:`score_conditions` holding the neuron→neuron score of every (metric, cell)
        (replicate 0) and the SAE→SAE score of every (metric, cell, replicate).
    cells : sequence of hashable
        The cells, in the order of the table.
    metric_labels : mapping str -> str
        Metric name -> its label in the table, in the order of the table.
    cell_name : str
        Name of the cell column in ``scores`` and in the table.
    control : str or None
        A condition of ``scores`` (replicate 0) that could have falsified the claim, e.g. an
        untrained SAE; its score minus neuron→neuron is added as ``control change``.

    Returns
    -------
    pandas.DataFrame
        One row per (metric, cell), metrics outermost: ``metric`` (its label), ``cell_name``, the
        scores before and after (the first replicate), ``change`` (after minus before, first
        replicate), its ``relative change (%)``, the ``mean change`` over the replicates with its
        Student-t interval (``interval low``, ``interval high``; NaN with one replicate) and the
        same as an :class:`~superposition.metrics.intervals.Estimate` (``estimate``, None with one
        replicate), the smallest and largest change over replicates and their difference
        (``replicate spread``), and ``control change`` when ``control`` is given.
    """
    rows = []
    for metric, label in metric_labels.items():
        for cell in cells:
            here = scores[(scores.metric == metric) & (scores[cell_name] == cell)]
            before = float(here[(here.condition == BEFORE) & (here.replicate == 0)]["mean"].iloc[0])
            after = here[here.condition == AFTER].sort_values("replicate", kind="stable")["mean"].to_numpy(dtype=float)
            if len(after) == 0:
                raise ValueError(f"no {AFTER} score for {metric} at {cell_name} {cell!r}")
            per_replicate = after - before
            estimate = mean_interval(per_replicate, f"{len(per_replicate)} SAE replicates") if len(per_replicate) > 1 else None
            row = {"metric": label, cell_name: cell, BEFORE: before, AFTER: after[0], "change": per_replicate[0],
                   "relative change (%)": float(relative_change(after[0], before)), "mean change": per_replicate.mean(),
                   "interval low": estimate.low if estimate else float("nan"), "interval high": estimate.high if estimate else float("nan"),
                   "smallest change over replicates": per_replicate.min(), "largest": per_replicate.max(),
                   "replicate spread": per_replicate.max() - per_replicate.min(), "estimate": estimate}  # fmt: skip
            if control is not None:
                row["control change"] = float(here[(here.condition == control) & (here.replicate == 0)]["mean"].iloc[0]) - before
            rows.append(row)
    extra = ["control change"] if control is not None else []
    return pd.DataFrame(rows, columns=["metric", cell_name, *CHANGE_COLUMNS, *extra, "estimate"])


def batched_sae_bank(hidden: torch.Tensor, units: Sequence[tuple[int, Hashable]], sae_units: Sequence[tuple[int, Hashable, Hashable, int]], saes: Saes, random_saes: Saes) -> RepresentationBank:
    """A :class:`RepresentationBank` of models trained side by side and one batch of SAEs on them.

    The neurons of unit ``(w, s)`` are its first ``w`` columns; the codes of SAE ``(w, s, recipe,
    replicate)`` are encoded from that model's padded activations when asked for; the random control
    of a unit is the untrained twin of its first SAE (the first entry of ``sae_units`` with that width
    and seed).

    Parameters
    ----------
    hidden : (n_models, n_samples, max_width) torch.Tensor
        Held-out activations, model ``j`` zero-padded beyond its width.
    units : (n_models,) sequence of (int, hashable)
        ``(width, seed)`` of each model, in the order of ``hidden``; a unit is such a pair.
    sae_units : (n_saes,) sequence of (int, hashable, hashable, int)
        ``(width, seed, recipe, replicate)`` of each SAE, in the order of ``saes``.
    saes : Saes
        The trained SAEs.
    random_saes : Saes
        The same SAEs at their initialisation.

    Returns
    -------
    RepresentationBank
        The bank.
    """
    model_of = {unit: j for j, unit in enumerate(units)}
    row_of = {spec: i for i, spec in enumerate(sae_units)}
    first_row = {}
    for i, (w, s, _, _) in enumerate(sae_units):
        first_row.setdefault((w, s), i)

    def codes(batch: Saes, row: int) -> torch.Tensor:
        w, s = sae_units[row][:2]
        return encode_in_batches(batch.select([row]), hidden[model_of[(w, s)]][None])[0]

    return RepresentationBank(
        neurons=lambda unit: hidden[model_of[unit], :, : unit[0]],
        sae=lambda unit, recipe, replicate: codes(saes, row_of[(*unit, recipe, replicate)]),
        random=lambda unit: codes(random_saes, first_row[unit]),
    )


def mapping_bank(neurons: Mapping[Hashable, Any], codes: Mapping[tuple[Hashable, Hashable, int], Any], random_codes: Mapping[Hashable, Any]) -> RepresentationBank:
    """A :class:`RepresentationBank` of representations computed beforehand.

    Parameters
    ----------
    neurons : mapping unit -> (n_samples, n_units) array
        ``neurons[unit]``.
    codes : mapping (unit, recipe, replicate) -> (n_samples, n_latents) array
        Codes of the trained SAEs.
    random_codes : mapping unit -> (n_samples, n_latents) array
        Codes of the untrained controls.

    Returns
    -------
    RepresentationBank
        The bank.
    """
    return RepresentationBank(neurons=neurons.__getitem__, sae=lambda unit, recipe, replicate: codes[(unit, recipe, replicate)], random=random_codes.__getitem__)
