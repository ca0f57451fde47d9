"""Unit-matching alignment metrics: semi-matching and soft-matching.

Both compare single units: each target unit is scored by its correlation with source units
chosen on the train part of a fold, and the score is measured on the test part. They follow
the shared protocol of :mod:`superposition.metrics.protocol` (folds, dead units, centred
unit-norm columns).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import ot
import scipy.optimize
import torch
from numpy.typing import NDArray

from .protocol import N_FOLDS, SEED, FoldScores, PreparedPair, fold_parts, normalize_columns, prepare_pair, summarize

EMD_MAX_ITER = 100_000_000


def fold_correlations(
    source: torch.Tensor, target: torch.Tensor, fold: tuple[NDArray[np.int64], NDArray[np.int64]]
) -> tuple[torch.Tensor, torch.Tensor]:
    """Unit-by-unit Pearson correlations on a fold's train part and on its test part.

    Parameters
    ----------
    source : torch.Tensor, (n_samples, n_source_units)
    target : torch.Tensor, (n_samples, n_target_units)
    fold : (train_index, test_index) tuple of (n_train,) and (n_test,) numpy.ndarray
        Row indices of the fold's two parts.

    Returns
    -------
    corr_train, corr_test : torch.Tensor, (n_source_units, n_target_units) each.
    """
    x_train, x_test = fold_parts(source, fold)
    y_train, y_test = fold_parts(target, fold)
    corr_train = normalize_columns(x_train).mT @ normalize_columns(y_train)
    corr_test = normalize_columns(x_test).mT @ normalize_columns(y_test)
    return corr_train, corr_test



def _cross_validated(pair: PreparedPair, score_fold: Callable[[torch.Tensor, torch.Tensor], float]) -> FoldScores:
    """Score every fold of ``pair`` from its (train, test) correlation matrices and summarise."""
    scores = [score_fold(*fold_correlations(pair.source, pair.target, fold)) for fold in pair.folds]
    return summarize(scores, pair)


def semi_matching(
    source: Any,
    target: Any,
    *,
    n_folds: int = N_FOLDS,
    seed: int = SEED,
    device: str | torch.device = "cpu",
    dtype: torch.dtype = torch.float64,
) -> FoldScores:
    """Semi-matching score: each target unit's best-matching source unit, cross-validated.

    On the train part of a fold, every target unit ``j`` picks the source unit
    ``i*(j) = argmax_i corr_train(i, j)``; the fold's score is the mean over target units of
    ``corr_test(i*(j), j)``. Several target units may pick the same source unit.

    Range [-1, 1] (1: every target unit is a copy of some source unit, up to positive scaling
    and shift). Invariant to permutation, positive scaling and shifts of units of either
    representation; not invariant to rotations or other mixing of units, nor to sign flips.
    Directional: ``semi_matching(a, b) != semi_matching(b, a)`` in general.

    Parameters
    ----------
    source : array or tensor, (n_samples, n_source_units)
    target : array or tensor, (n_samples, n_target_units)
    n_folds, seed : int
        The folds are ``KFold(n_folds, shuffle=True, random_state=seed)``.
    device : str or torch.device
        ``"cpu"`` (default), ``"cuda"`` or ``"auto"``.
    dtype : torch.dtype
        ``torch.float64`` (default) or ``torch.float32``.

    Returns
    -------
    FoldScores
    """
    return _cross_validated(prepare_pair(source, target, n_folds, seed, device, dtype), _semi_matching_fold)


def _semi_matching_fold(corr_train: torch.Tensor, corr_test: torch.Tensor) -> float:
    """Each target unit's best source unit on train, scored by its test correlation."""
    best = corr_train.argmax(dim=0)
    return float(corr_test.gather(0, best[None, :])[0].mean())


def transport_plan(cost: Any) -> NDArray[np.float64]:
    """Exact optimal transport plan with uniform marginals for a cost matrix.

    Solves ``min_P sum_ij P_ij cost_ij`` over ``P >= 0`` with row sums ``1/n_source`` and
    column sums ``1/n_target``. For a square cost the optimum is a permutation matrix divided
    by ``n`` (Birkhoff), found exactly by ``scipy.optimize.linear_sum_assignment``; otherwise
    the network simplex of POT (``ot.emd``) is used, and a run that does not converge is an
    error.

    Parameters
    ----------
    cost : array or tensor, (n_source, n_target)

    Returns
    -------
    np.ndarray, (n_source, n_target): the plan.
    """
    if isinstance(cost, torch.Tensor):
        cost = cost.detach().cpu().numpy()
    cost = np.ascontiguousarray(np.asarray(cost, dtype=np.float64))
    if cost.ndim != 2 or cost.size == 0:
        raise ValueError(f"cost must be a non-empty 2-D array, got shape {cost.shape}")
    if not np.isfinite(cost).all():
        raise ValueError("cost contains NaN or infinite values")
    n_source, n_target = cost.shape
    if n_source == n_target:
        rows, cols = scipy.optimize.linear_sum_assignment(cost)
        plan = np.zeros_like(cost)
        plan[rows, cols] = 1.0 / n_source
        return plan
    a = np.full(n_source, 1.0 / n_source)
    b = np.full(n_target, 1.0 / n_target)
    plan, log = ot.emd(a, b, cost, numItermax=EMD_MAX_ITER, log=True)
    if log.get("warning") is not None or log.get("result_code") != 1:
        raise RuntimeError(f"ot.emd did not find the optimal plan: {log.get('warning')}")
    return np.asarray(plan, dtype=np.float64)


def soft_matching(
    source: Any,
    target: Any,
    *,
    n_folds: int = N_FOLDS,
    seed: int = SEED,
    device: str | torch.device = "cpu",
    dtype: torch.dtype = torch.float64,
) -> FoldScores:
    """Soft-matching score (Khosla & Williams 2023): correlation under an optimal transport plan.

    On the train part of a fold, ``P*`` is the exact optimal transport plan with uniform
    marginals (``1/n_source``, ``1/n_target``) for the cost ``1 - corr_train``; the fold's score
    is ``sum_ij P*_ij corr_test(i, j)``. With as many source as target units this is the best
    one-to-one matching of units.

    Range [-1, 1] (1: the units of one representation are copies of the other's, up to
    positive scaling and shift, matched one-to-one or evenly split). Invariant to permutation,
    positive scaling and shifts of units; not invariant to rotations or other mixing of units,
    nor to sign flips. Symmetric: swapping source and target transposes the plan and leaves
    the score unchanged (when the optimal plan is unique).

    Parameters
    ----------
    source : array or tensor, (n_samples, n_source_units)
    target : array or tensor, (n_samples, n_target_units)
    n_folds, seed : int
        The folds are ``KFold(n_folds, shuffle=True, random_state=seed)``.
    device : str or torch.device
        Where the correlations are computed; the plan is solved on the CPU.
    dtype : torch.dtype
        ``torch.float64`` (default) or ``torch.float32``.

    Returns
    -------
    FoldScores
    """
    return _cross_validated(prepare_pair(source, target, n_folds, seed, device, dtype), _soft_matching_fold)


def _soft_matching_fold(corr_train: torch.Tensor, corr_test: torch.Tensor) -> float:
    """Test correlation weighted by the optimal transport plan on the train cost ``1 - r``."""
    plan = transport_plan(1.0 - corr_train.double().cpu().numpy())
    return float(np.sum(plan * corr_test.double().cpu().numpy()))
