"""Score many (source, target) pairs with many metrics into one tidy table.

The chapters compare conditions (neurons, SAE latents, random SAE latents) under several
metrics; :func:`score_pairs` runs every metric on every pair and returns one row per
(pair, metric), so a chapter plots and records from a table instead of looping by hand.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch

from .matching import semi_matching, soft_matching
from .regression import ridge_predictivity
from .similarity import linear_cka, rsa

FOLD_METRICS: dict[str, Callable[..., Any]] = {
    "semi_matching": semi_matching,
    "soft_matching": soft_matching,
    "ridge": ridge_predictivity,
}
"""Cross-validated, directional metrics (return :class:`FoldScores`)."""

WHOLE_METRICS: dict[str, Callable[..., float]] = {"rsa": rsa, "linear_cka": linear_cka}
"""Whole-representation similarities (return one float, no folds)."""

METRIC_NAMES = tuple(FOLD_METRICS) + tuple(WHOLE_METRICS)


def check_metric_names(names: Sequence[str]) -> list[str]:
    """``names`` as a list, or a ``ValueError`` naming the unknown ones and the allowed values.

    Parameters
    ----------
    names : sequence of str
        Metric names; a non-empty selection of :data:`METRIC_NAMES`.

    Returns
    -------
    list of str
        The names.
    """
    unknown = [n for n in names if n not in METRIC_NAMES]
    if unknown or not names:
        raise ValueError(f"metrics must be a non-empty selection of {', '.join(METRIC_NAMES)}; got {list(names)}")
    return list(names)


def score_pairs(
    pairs: Mapping[str, tuple[Any, Any]],
    metrics: Sequence[str] = METRIC_NAMES,
    *,
    device: str | torch.device = "cpu",
    dtype: torch.dtype = torch.float64,
) -> pd.DataFrame:
    """Every metric on every (source, target) pair.

    Parameters
    ----------
    pairs : mapping name -> (source (n_samples, n_source_units), target (n_samples, n_target_units))
    metrics : names from :data:`METRIC_NAMES`
    device, dtype : where and in which precision the metrics compute

    Returns
    -------
    DataFrame with one row per (pair, metric): ``pair``, ``metric``, ``mean`` (the score),
    ``sem`` (standard error over folds; NaN for whole-representation metrics), ``per_fold``
    (array or None), ``n_source_units`` and ``n_target_units`` (after dead units are dropped;
    NaN for whole-representation metrics).
    """
    rows = []
    for metric in check_metric_names(metrics):
        for name, (source, target) in pairs.items():
            if metric in FOLD_METRICS:
                scores = FOLD_METRICS[metric](source, target, device=device, dtype=dtype)
                row = {"mean": scores.mean, "sem": scores.sem, "per_fold": scores.per_fold,
                       "n_source_units": scores.n_source_units, "n_target_units": scores.n_target_units}  # fmt: skip
            else:
                value = WHOLE_METRICS[metric](source, target, device=device, dtype=dtype)
                row = {"mean": value, "sem": np.nan, "per_fold": None, "n_source_units": np.nan, "n_target_units": np.nan}
            rows.append({"pair": name, "metric": metric, **row})
    return pd.DataFrame(rows)


def relative_change(after: Any, before: Any) -> Any:
    """``(after / before - 1) * 100``: the change in percent that Paper A prints above its bars.

    Parameters
    ----------
    after : (...) array_like
        Scores after.
    before : (...) array_like
        Scores before, broadcastable with ``after``.

    Returns
    -------
    (...) numpy.ndarray or float
        Change in percent.
    """
    return (np.asarray(after, dtype=float) / np.asarray(before, dtype=float) - 1.0) * 100.0
