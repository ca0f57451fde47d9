"""How well learned latents recover known ground-truth features.

Both scores compare every ground-truth feature with every learned latent by absolute Pearson
correlation over samples; latents that are constant over the samples (dead) are ignored. They
accept NumPy arrays or torch tensors with the same samples in the same order.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.optimize
import torch
from numpy.typing import NDArray

from .protocol import as_matrix, constant_columns, normalize_columns


def feature_latent_correlations(
    features: Any,
    latents: Any,
    *,
    device: str | torch.device = "cpu",
    dtype: torch.dtype = torch.float64,
) -> NDArray[np.float64]:
    """Absolute Pearson correlations between every feature and every live latent.

    Parameters
    ----------
    features : array or tensor, (n_samples, n_features)
        Ground truth; no feature may be constant.
    latents : array or tensor, (n_samples, n_latents)
        Learned latents; dead (constant) latents are ignored.
    device, dtype : str or torch.device, torch.dtype
        Where and in which precision to compute.

    Returns
    -------
    np.ndarray, (n_features, n_live_latents): ``|corr(feature_i, latent_j)|`` over live latents.
    """
    f = as_matrix(features, "features", device, dtype)
    z = as_matrix(latents, "latents", device, dtype)
    if f.shape[0] != z.shape[0]:
        raise ValueError(
            f"features and latents must have the same number of samples, got features {f.shape[0]} and latents {z.shape[0]}"
        )
    if f.shape[0] < 2:
        raise ValueError("features and latents need at least 2 samples")
    if bool(constant_columns(f).any()):
        raise ValueError(f"features has {int(constant_columns(f).sum())} constant feature(s); their correlation is undefined")
    z = z[:, ~constant_columns(z)]
    if z.shape[1] == 0:
        raise ValueError("latents has no live latent: every latent is constant")
    corr = normalize_columns(f).mT @ normalize_columns(z)
    return corr.abs().clamp_max(1.0).cpu().double().numpy()


def max_correlation_per_feature(
    features: Any,
    latents: Any,
    *,
    device: str | torch.device = "cpu",
    dtype: torch.dtype = torch.float64,
) -> NDArray[np.float64]:
    """For each ground-truth feature, its largest absolute Pearson correlation with any latent.

    Range [0, 1] per feature (1: some latent is an affine function of the feature). Invariant to
    permutation, scaling (of either sign) and shifts of latents; several features may be
    credited to the same latent. Dead latents are ignored.

    Parameters
    ----------
    features : array or tensor, (n_samples, n_features)
    latents : array or tensor, (n_samples, n_latents)
        Learned latents; dead (constant) latents are ignored.
    device, dtype : str or torch.device, torch.dtype
        Where and in which precision to compute.

    Returns
    -------
    np.ndarray, (n_features,)
    """
    return feature_latent_correlations(features, latents, device=device, dtype=dtype).max(axis=1)


def mean_correlation_coefficient(
    features: Any,
    latents: Any,
    *,
    device: str | torch.device = "cpu",
    dtype: torch.dtype = torch.float64,
) -> float:
    """Mean correlation coefficient (MCC): best one-to-one matching of features to latents.

    Features are matched to distinct latents by the Hungarian algorithm
    (``scipy.optimize.linear_sum_assignment``) maximising the total absolute Pearson
    correlation; MCC is the mean matched ``|r|`` over all features. With fewer live latents
    than features, the features left unmatched count as 0.

    Range [0, 1] (1: each feature is an affine function of its own latent). Invariant to
    permutation, scaling (of either sign) and shifts of latents; not to mixing them. Dead
    latents are ignored.

    Parameters
    ----------
    features : array or tensor, (n_samples, n_features)
    latents : array or tensor, (n_samples, n_latents)
        Learned latents; dead (constant) latents are ignored.
    device, dtype : str or torch.device, torch.dtype
        Where and in which precision to compute.

    Returns
    -------
    float
    """
    return matched_correlation(feature_latent_correlations(features, latents, device=device, dtype=dtype))


def matched_correlation(corr: NDArray[np.float64]) -> float:
    """MCC from absolute correlations: the mean ``|r|`` of the best one-to-one matching.

    Features left unmatched count as 0.

    Parameters
    ----------
    corr : (n_features, n_latents) numpy.ndarray
        Absolute correlations, as returned by :func:`feature_latent_correlations`.

    Returns
    -------
    float
        The mean correlation coefficient.
    """
    rows, cols = scipy.optimize.linear_sum_assignment(corr, maximize=True)
    return float(corr[rows, cols].sum() / corr.shape[0])
