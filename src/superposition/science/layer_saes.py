"""SAEs on many network layers at once, and Paper A's conditions scored over their replicates.

A network chapter trains one TopK SAE per (network, layer), several independently initialised
replicates each, and scores conditions (:mod:`.conditions`) on every SAE replicate so that a change
comes with an interval over SAE training:

- :func:`fit_layers`: every layer's SAEs, layers of one width trained together in one batched
  pass (:func:`superposition.science.sae.fit_and_encode`), with each SAE's quality and the units of
  its codes the metrics keep.
- :func:`score_replicates`: the conditions of the first replicate and, for the later replicates,
  the conditions that change with them, in one table for
  :func:`superposition.science.conditions.change_table` and
  :func:`superposition.science.conditions.condition_difference`.

A *unit* here is a hashable key of one representation, e.g. a (network, layer) pair.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch

from ..metrics.protocol import kept_units
from .conditions import RepresentationBank, score_conditions
from .sae import fit_and_encode, layer_config, recipe


@dataclass(frozen=True)
class LayerFits:
    """What :func:`fit_layers` returns.

    Attributes
    ----------
    codes : dict of (unit, int) to (n_eval, n_latents) numpy.ndarray
        Codes of the trained SAE ``(unit, replicate)`` on the unit's evaluation activations.
    random_codes : dict of unit to (n_eval, n_latents) numpy.ndarray
        Codes of the first replicate's SAE at its initialisation (the untrained control).
    rows : list of dict
        One per SAE, units in the order given, replicates outermost within a width: ``unit``,
        ``replicate``, ``units`` (the layer's width), ``latents``, ``k``, ``live latents`` (fire on
        some evaluation sample), ``kept latents`` (the latents the metrics keep,
        :func:`superposition.metrics.protocol.kept_units`), ``FVU`` and ``L0`` on the evaluation
        activations.
    dead : dict of (unit, int) to ((n_logs,) numpy.ndarray, (n_logs,) numpy.ndarray)
        Training steps and the SAE's dead latents (on the evaluation activations) at each.
    """

    codes: dict[tuple[Hashable, int], np.ndarray]
    random_codes: dict[Hashable, np.ndarray]
    rows: list[dict[str, Any]]
    dead: dict[tuple[Hashable, int], tuple[np.ndarray, np.ndarray]]


def fit_layers(
    train: Mapping[Hashable, np.ndarray],
    evaluate: Mapping[Hashable, np.ndarray],
    recipe_name: str,
    expansion: float,
    k_fraction: float,
    lr: float,
    n_replicates: int,
    n_epochs: int,
    batch_size: int,
    seed: int = 0,
    device: torch.device | str = "cpu",
    desc: str = "SAEs",
) -> LayerFits:
    """``n_replicates`` SAEs of recipe ``recipe_name`` per unit, units of one width trained together.

    Width ``w``'s SAEs (every unit of that width, every replicate: slot ``(unit, r)`` in the order
    ``for r in replicates for unit in units``) train in one call of
    :func:`superposition.science.sae.fit_and_encode` with seed ``seed + 1000 * w`` and the
    configuration :func:`superposition.science.sae.recipe` ``(recipe_name,``
    :func:`~superposition.science.sae.layer_config` ``(w, expansion, k_fraction, lr=lr))``; inputs
    are normalised per sample (Paper A's network recipe).

    Parameters
    ----------
    train : mapping unit -> (n_train, n_units) numpy.ndarray
        Training activations of each unit.
    evaluate : mapping unit -> (n_eval, n_units) numpy.ndarray
        Held-out activations of each unit (the same units).
    recipe_name : str
        A key of :data:`superposition.science.sae.RECIPES`.
    expansion : float
        Latents per unit.
    k_fraction : float
        TopK k as a share of the latents.
    lr : float
        Learning rate of the recipe's base.
    n_replicates : int
        Independently initialised SAEs per unit.
    n_epochs : int
        Passes over the training activations.
    batch_size : int
        Samples per batch.
    seed : int
        Base seed.
    device : torch.device or str
        Where the SAEs train.
    desc : str
        Label of the progress bars (the width is added).

    Returns
    -------
    LayerFits
        Codes, controls, quality rows and dead-latent curves.
    """
    if set(train) != set(evaluate):
        raise ValueError(f"train and evaluate must hold the same units; got {sorted(map(str, train))} and {sorted(map(str, evaluate))}")
    units = list(train)
    codes, random_codes, rows, dead = {}, {}, [], {}
    for width in sorted({np.shape(evaluate[u])[1] for u in units}):
        group = [u for u in units if np.shape(evaluate[u])[1] == width]
        slots = [(u, r) for r in range(n_replicates) for u in group]
        cfg = recipe(recipe_name, layer_config(width, expansion, k_fraction, lr=lr))
        fitted = fit_and_encode([train[u] for u, _ in slots], [evaluate[u] for u, _ in slots], cfg, n_epochs, batch_size,
                                seed=seed + 1000 * width, device=device, desc=f"{desc}, {width} units")  # fmt: skip
        for j, (u, r) in enumerate(slots):
            codes[(u, r)] = fitted.codes[j]
            dead[(u, r)] = (fitted.history.steps, fitted.history.dead[:, j])
            rows.append({"unit": u, "replicate": r, "units": width, "latents": cfg.n_latents, "k": cfg.k,
                         "live latents": int(cfg.n_latents - fitted.quality.dead[j]), "kept latents": int(kept_units(fitted.codes[j]).sum()),
                         "FVU": float(fitted.quality.fvu[j]), "L0": float(fitted.quality.l0[j])})  # fmt: skip
        random_codes.update({u: fitted.random_codes[j] for j, u in enumerate(group)})
    return LayerFits(codes=codes, random_codes=random_codes, rows=rows, dead=dead)


def score_replicates(
    bank: RepresentationBank,
    first: Mapping[str, tuple[str, str]],
    later: Mapping[str, tuple[str, str]],
    cells: Mapping[Hashable, tuple[Hashable, Hashable]],
    metric_names: Sequence[str],
    recipe_name: Hashable,
    n_replicates: int,
    *,
    cell_name: str = "cell",
    device: str | torch.device = "cpu",
) -> pd.DataFrame:
    """The conditions ``first`` on replicate 0 and the conditions ``later`` on replicates 1, 2, ...

    Conditions that do not depend on the trained SAE (neuron→neuron, the untrained control) belong
    in ``first`` only; those that do (SAE→SAE, SAE→neuron) in both.

    Parameters
    ----------
    bank : RepresentationBank
        Where the representations come from.
    first : mapping str -> (str, str)
        Conditions scored on the first SAE replicate (name -> (source kind, target kind)).
    later : mapping str -> (str, str)
        Conditions scored on every later replicate.
    cells : mapping hashable -> (hashable, hashable)
        Cell -> (source unit, target unit).
    metric_names : sequence of str
        Metric names.
    recipe_name : hashable
        The SAE recipe in the bank.
    n_replicates : int
        SAE replicates per unit.
    cell_name : str
        Name of the cell column.
    device : str or torch.device
        Where the metrics compute.

    Returns
    -------
    pandas.DataFrame
        The rows of :func:`superposition.science.conditions.score_conditions` of every replicate.
    """
    parts = [score_conditions(bank, first, cells, metric_names, recipe_name, 0, cell_name=cell_name, device=device)]
    parts += [score_conditions(bank, later, cells, metric_names, recipe_name, r, cell_name=cell_name, device=device) for r in range(1, n_replicates)]
    return pd.concat(parts, ignore_index=True)
