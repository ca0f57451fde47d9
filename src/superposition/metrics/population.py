"""Population values of the alignment metrics for linear codes of independent features.

Derived here, not the paper's theorem. Two representations read out the same features
linearly: ``y = A z`` with ``A: (m, n)`` and ``y' = A' z`` with ``A': (m', n)``, where the ``n``
features ``z`` are independent with zero mean and variances ``sigma^2`` (covariance
``Sigma = diag(sigma^2)``). Then, in the limit of infinitely many samples:

- unit correlations: ``corr(y_i, y'_j) = a_i' Sigma a'_j / (|a_i|_Sigma |a'_j|_Sigma)`` with
  ``|a|_Sigma^2 = a' Sigma a``;
- semi-matching: the mean over target units ``j`` of ``max_i corr(y_i, y'_j)``;
- soft-matching: ``sum_ij P*_ij corr_ij`` with ``P*`` the uniform-marginal optimal transport
  plan for the cost ``1 - corr``;
- ridge predictivity as the penalty vanishes: per target unit
  ``r_j^2 = a'_j' Sigma A' (A Sigma A')^+ A Sigma a'_j / |a'_j|_Sigma^2`` (the fraction of
  ``y'_j``'s variance explained by the best linear function of ``y``), and the score is the mean
  of ``r_j``.

The finite-sample metrics converge to these values (train and test correlations both converge
to the population correlation). Only second moments enter, so the features' distribution
(Gaussian, sparse, ...) does not matter beyond their variances.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from .matching import transport_plan


def _check_codes(
    a_source: Any, a_target: Any, variances: Any
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    a = np.asarray(a_source, dtype=np.float64)
    b = np.asarray(a_target, dtype=np.float64)
    var = np.asarray(variances, dtype=np.float64)
    for name, matrix in (("a_source", a), ("a_target", b)):
        if matrix.ndim != 2 or matrix.size == 0:
            raise ValueError(f"{name} must be a non-empty 2-D array (n_units, n_features), got shape {matrix.shape}")
        if not np.isfinite(matrix).all():
            raise ValueError(f"{name} contains NaN or infinite values")
    if var.ndim != 1 or var.shape[0] != a.shape[1]:
        raise ValueError(f"variances must have shape ({a.shape[1]},) to match a_source's features, got {var.shape}")
    if b.shape[1] != a.shape[1]:
        raise ValueError(f"a_source and a_target must read the same features, got {a.shape[1]} and {b.shape[1]} columns")
    if not (np.isfinite(var).all() and (var >= 0).all()):
        raise ValueError("variances must be finite and non-negative")
    for name, matrix in (("a_source", a), ("a_target", b)):
        if not ((matrix * matrix) @ var > 0).all():
            raise ValueError(f"{name} has a unit with zero variance (a row orthogonal to every feature with variance)")
    return a, b, var


def population_correlations(a_source: Any, a_target: Any, variances: Any) -> NDArray[np.float64]:
    """Correlation of every source unit with every target unit under linear mixing.

    Parameters
    ----------
    a_source : array, (n_source_units, n_features)
    a_target : array, (n_target_units, n_features)
    variances : array, (n_features,)
        Variances of the independent zero-mean features.

    Returns
    -------
    np.ndarray, (n_source_units, n_target_units)
    """
    a, b, var = _check_codes(a_source, a_target, variances)
    cov = (a * var) @ b.T
    norm_a = np.sqrt((a * a) @ var)
    norm_b = np.sqrt((b * b) @ var)
    return np.clip(cov / np.outer(norm_a, norm_b), -1.0, 1.0)


def population_semi_matching(a_source: Any, a_target: Any, variances: Any) -> float:
    """Semi-matching population value: mean over target units of the best source correlation.

    Parameters
    ----------
    a_source : array, (n_source_units, n_features)
    a_target : array, (n_target_units, n_features)
    variances : array, (n_features,)

    Returns
    -------
    float
    """
    return float(population_correlations(a_source, a_target, variances).max(axis=0).mean())


def population_soft_matching(a_source: Any, a_target: Any, variances: Any) -> float:
    """Soft-matching population value: correlation under the optimal uniform transport plan.

    Parameters
    ----------
    a_source : array, (n_source_units, n_features)
    a_target : array, (n_target_units, n_features)
    variances : array, (n_features,)

    Returns
    -------
    float
    """
    corr = population_correlations(a_source, a_target, variances)
    return float(np.sum(transport_plan(1.0 - corr) * corr))


def population_ridge_correlations(a_source: Any, a_target: Any, variances: Any) -> NDArray[np.float64]:
    """Per target unit, the correlation of its best linear prediction from the source.

    ``r_j = sqrt(a'_j' Sigma A' (A Sigma A')^+ A Sigma a'_j) / |a'_j|_Sigma``.

    Parameters
    ----------
    a_source : array, (n_source_units, n_features)
    a_target : array, (n_target_units, n_features)
    variances : array, (n_features,)

    Returns
    -------
    np.ndarray, (n_target_units,)
    """
    a, b, var = _check_codes(a_source, a_target, variances)
    cov_source = (a * var) @ a.T  # (m, m)
    cov_cross = (a * var) @ b.T  # (m, m')
    explained = np.einsum("ij,ij->j", cov_cross, np.linalg.pinv(cov_source, hermitian=True) @ cov_cross)
    total = (b * b) @ var
    return np.sqrt(np.clip(explained / total, 0.0, 1.0))


def population_ridge(a_source: Any, a_target: Any, variances: Any) -> float:
    """Ridge predictivity population value (vanishing penalty): the mean of the per-unit ``r_j``.

    Parameters
    ----------
    a_source : array, (n_source_units, n_features)
    a_target : array, (n_target_units, n_features)
    variances : array, (n_features,)

    Returns
    -------
    float
    """
    return float(population_ridge_correlations(a_source, a_target, variances).mean())


def population_scores(a_source: Any, a_target: Any, variances: Any) -> dict[str, float]:
    """The population values of the three fold metrics, keyed as in :func:`superposition.metrics.score_pairs`.

    Parameters
    ----------
    a_source : array, (n_source_units, n_features)
    a_target : array, (n_target_units, n_features)
    variances : array, (n_features,)

    Returns
    -------
    dict with ``"semi_matching"``, ``"soft_matching"`` and ``"ridge"``.
    """
    return {
        "semi_matching": population_semi_matching(a_source, a_target, variances),
        "soft_matching": population_soft_matching(a_source, a_target, variances),
        "ridge": population_ridge(a_source, a_target, variances),
    }
