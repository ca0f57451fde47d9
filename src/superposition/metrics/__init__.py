"""Alignment metrics between neural representations (Longon, Klindt & Khosla 2025).

Fold-based, directional (source -> target) metrics share the protocol of
:mod:`.protocol` and return :class:`FoldScores`: :func:`semi_matching`, :func:`soft_matching`,
:func:`ridge_predictivity`. Whole-representation similarities return floats: :func:`rsa`,
:func:`linear_cka`. Ground-truth recovery scores: :func:`max_correlation_per_feature`,
:func:`mean_correlation_coefficient`. Population values under linear mixing: :mod:`.population`.
Many pairs under many metrics in one table: :func:`score_pairs`. A claim's number with its
interval (replicates, bootstrap, exact): :mod:`.intervals` (:class:`Estimate`, :func:`mean_interval`,
:func:`bootstrap_interval`, :func:`exact_estimate`).
"""

from .compare import METRIC_NAMES, relative_change, score_pairs
from .intervals import Estimate, bootstrap_interval, difference_interval, exact_estimate, largest_abs_interval, mean_interval, percentile_estimate, replicate_estimate
from .matching import semi_matching, soft_matching, transport_plan
from .population import (
    population_correlations,
    population_ridge,
    population_ridge_correlations,
    population_scores,
    population_semi_matching,
    population_soft_matching,
)
from .protocol import FoldScores, dead_units, kept_units, kfold_indices, normalize_columns, prepare_pair
from .recovery_scores import feature_latent_correlations, max_correlation_per_feature, mean_correlation_coefficient
from .regression import DEFAULT_ALPHAS, RidgeCVFit, fit_ridge_cv, ridge_predictivity
from .similarity import linear_cka, rsa

__all__ = [
    "DEFAULT_ALPHAS",
    "METRIC_NAMES",
    "Estimate",
    "bootstrap_interval",
    "exact_estimate",
    "largest_abs_interval",
    "mean_interval",
    "percentile_estimate",
    "replicate_estimate",
    "FoldScores",
    "RidgeCVFit",
    "dead_units",
    "difference_interval",
    "feature_latent_correlations",
    "fit_ridge_cv",
    "kept_units",
    "kfold_indices",
    "linear_cka",
    "max_correlation_per_feature",
    "mean_correlation_coefficient",
    "normalize_columns",
    "population_correlations",
    "population_ridge",
    "population_ridge_correlations",
    "population_scores",
    "population_semi_matching",
    "population_soft_matching",
    "prepare_pair",
    "relative_change",
    "ridge_predictivity",
    "rsa",
    "score_pairs",
    "semi_matching",
    "soft_matching",
    "transport_plan",
]
