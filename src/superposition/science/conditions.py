"""Paper A's comparison: the same pair of models under several conditions, before and after SAEs.

A *condition* names which representation of the source and of the target a metric compares:
the models' neurons, the codes of a trained SAE, or the codes of the same SAE untrained (the
control). Longon et al. score each condition with each metric and report the change from
neuron→neuron to SAE→SAE; here that change is measured for every SAE replicate, so a chapter can
say whether a rise survives retraining the SAEs.

- :class:`RepresentationBank`: where a chapter's held-out representations come from (its
  :meth:`~RepresentationBank.get` hands out one at a time, so nothing is built that is not scored).
- :func:`score_conditions`: every metric on every (cell, condition), one pair in memory at a time.
- :func:`change_table`: neuron→neuron against SAE→SAE per (metric, cell), over model pairs and
  SAE replicates.
- :func:`condition_difference`: any two conditions against each other, e.g. a trained SAE against
  its untrained control.
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

PAIR_COLUMN = "model_pair"
"""Column of a scores table that numbers independently trained (source, target) model pairs; a
table without it holds one pair."""


def _per_pair(here: pd.DataFrame, condition: str) -> list[list[float]]:
    """Scores of ``condition`` per model pair (outer list, pairs in order) and SAE replicate."""
    pairs = sorted(here[PAIR_COLUMN].unique()) if PAIR_COLUMN in here else [None]
    out = []
    for p in pairs:
        part = here if p is None else here[here[PAIR_COLUMN] == p]
        values = part[part.condition == condition].sort_values("replicate", kind="stable")["mean"].to_numpy(dtype=float)
        out.append(values.tolist())
    return out


def _draws(per_pair: list[list[float]]) -> tuple[list[float], str]:
    """The independent draws of a per-(pair, replicate) quantity: the per-pair means over the SAE
    replicates when there are several model pairs, else the replicates themselves."""
    if len(per_pair) > 1:
        return [float(sum(v) / len(v)) for v in per_pair], f"{len(per_pair)} model pairs × {len(per_pair[0])} SAE replicates"
    return list(per_pair[0]), f"{len(per_pair[0])} SAE replicates"


def change_table(
    scores: pd.DataFrame, cells: Sequence[Hashable], metric_labels: Mapping[str, str], cell_name: str = "cell", control: str | None = None
) -> pd.DataFrame:
    """neuron→neuron against SAE→SAE in every (metric, cell), over model pairs and SAE replicates.

    With one model pair the interval is over the SAE replicates; with several (a ``model_pair``
    column, :data:`PAIR_COLUMN`) each pair's change is first averaged over its SAE replicates and
    the interval is over the pairs, so that a verdict rests on model variation as well as on SAE
    training.

    Parameters
    ----------
    scores : pandas.DataFrame
        Rows of :func:`score_conditions` holding the neuron→neuron score of every (metric, cell,
        pair) (replicate 0) and the SAE→SAE score of every (metric, cell, pair, replicate).
    cells : sequence of hashable
        The cells, in the order of the table.
    metric_labels : mapping str -> str
        Metric name -> its label in the table, in the order of the table.
    cell_name : str
        Name of the cell column in ``scores`` and in the table.
    control : str or None
        A condition of ``scores`` (replicate 0) that could have falsified the claim, e.g. an
        untrained SAE; its score minus neuron→neuron (mean over pairs) is added as ``control change``.

    Returns
    -------
    pandas.DataFrame
        One row per (metric, cell), metrics outermost: ``metric`` (its label), ``cell_name``, the
        scores before and after (the first pair, first replicate), ``change`` (after minus before,
        first pair and replicate), its ``relative change (%)``, the ``mean change`` with its
        Student-t interval (``interval low``, ``interval high``; NaN with a single draw) and the
        same as an :class:`~superposition.metrics.intervals.Estimate` (``estimate``, None with a
        single draw), the smallest and largest change over all (pair, replicate) draws and their
        difference (``replicate spread``), and ``control change`` when ``control`` is given.
    """
    rows = []
    for metric, label in metric_labels.items():
        for cell in cells:
            here = scores[(scores.metric == metric) & (scores[cell_name] == cell)]
            before = [v[0] for v in _per_pair(here, BEFORE)]
            after = _per_pair(here, AFTER)
            if not all(after) or len(after) != len(before):
                raise ValueError(f"no {AFTER} score for {metric} at {cell_name} {cell!r}")
            changes = [[a - b for a in reps] for reps, b in zip(after, before)]
            draws, what = _draws(changes)
            every = [c for reps in changes for c in reps]
            estimate = mean_interval(draws, what) if len(draws) > 1 else None
            row = {"metric": label, cell_name: cell, BEFORE: before[0], AFTER: after[0][0], "change": changes[0][0],
                   "relative change (%)": float(relative_change(after[0][0], before[0])), "mean change": float(sum(draws) / len(draws)),
                   "interval low": estimate.low if estimate else float("nan"), "interval high": estimate.high if estimate else float("nan"),
                   "smallest change over replicates": min(every), "largest": max(every),
                   "replicate spread": max(every) - min(every), "estimate": estimate}  # fmt: skip
            if control is not None:
                controls = [v[0] - b for v, b in zip(_per_pair(here, control), before)]
                row["control change"] = float(sum(controls) / len(controls))
            rows.append(row)
    extra = ["control change"] if control is not None else []
    return pd.DataFrame(rows, columns=["metric", cell_name, *CHANGE_COLUMNS, *extra, "estimate"])


def condition_difference(
    scores: pd.DataFrame, cells: Sequence[Hashable], metric_labels: Mapping[str, str], minuend: str, subtrahend: str, cell_name: str = "cell"
) -> pd.DataFrame:
    """``minuend`` minus ``subtrahend`` in every (metric, cell), with its interval over the draws.

    Each condition is first averaged over its SAE replicates within a model pair (a control such
    as an untrained SAE has one); the interval is over the model pairs (:data:`PAIR_COLUMN`), or
    over the SAE replicates of ``minuend`` when there is one pair.

    Parameters
    ----------
    scores : pandas.DataFrame
        Rows of :func:`score_conditions` with both conditions in every (metric, cell, pair).
    cells : sequence of hashable
        The cells, in the order of the table.
    metric_labels : mapping str -> str
        Metric name -> its label, in the order of the table.
    minuend, subtrahend : str
        The two conditions.
    cell_name : str
        Name of the cell column.

    Returns
    -------
    pandas.DataFrame
        One row per (metric, cell): ``metric`` (its label), ``metric_key`` (its name),
        ``cell_name``, ``difference`` (the mean), ``interval low``, ``interval high`` and
        ``estimate`` (an :class:`~superposition.metrics.intervals.Estimate`; the single value
        itself when there is one draw).
    """
    rows = []
    for metric, label in metric_labels.items():
        for cell in cells:
            here = scores[(scores.metric == metric) & (scores[cell_name] == cell)]
            first, second = _per_pair(here, minuend), _per_pair(here, subtrahend)
            if not all(first) or not all(second) or len(first) != len(second):
                raise ValueError(f"need {minuend!r} and {subtrahend!r} in every model pair for {metric} at {cell_name} {cell!r}")
            if len(first) > 1:
                draws, what = [sum(a) / len(a) - sum(b) / len(b) for a, b in zip(first, second)], f"{len(first)} model pairs"
            else:
                draws, what = [a - sum(second[0]) / len(second[0]) for a in first[0]], f"{len(first[0])} SAE replicates"
            estimate = mean_interval(draws, what) if len(draws) > 1 else None
            rows.append({"metric": label, "metric_key": metric, cell_name: cell, "difference": float(sum(draws) / len(draws)),
                         "interval low": estimate.low if estimate else float("nan"),
                         "interval high": estimate.high if estimate else float("nan"), "estimate": estimate or float(draws[0])})  # fmt: skip
    return pd.DataFrame(rows)


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
