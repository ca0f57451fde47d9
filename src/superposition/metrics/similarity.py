"""Whole-representation similarity: representational similarity analysis (RSA) and linear CKA.

Neither is fold-based; each returns a plain float. Both accept NumPy arrays or torch tensors
of shape ``(n_samples, n_units)`` with the same stimuli (rows) in the same order, and pick the
cheaper of two exact routes: sums over the ``n_units x n_units`` cross-products when units are
fewer than stimuli, over the ``n_samples x n_samples`` similarity matrices otherwise.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from ..runtime import make_generator
from .protocol import as_matrix, check_pair, constant_columns

BLOCK_ROWS = 2048


def _constant_rows(data: torch.Tensor) -> torch.Tensor:
    """Which rows of ``(n_samples, n_units)`` data are constant across units: (n_samples,) bool."""
    return data.amax(dim=1) == data.amin(dim=1)


def _unit_route_is_cheaper(n: int, p: int, q: int) -> bool:
    """Whether unit-by-unit products (cost ~ n (p q + p^2 + q^2)) beat stimulus-by-stimulus ones (~ n^2 (p + q))."""
    return p * q + p * p + q * q <= n * (p + q)


def _normalize_rows(data: torch.Tensor) -> torch.Tensor:
    """Centre every row and scale it to unit L2 norm; row dot products are Pearson correlations."""
    centred = data - data.mean(dim=1, keepdim=True)
    return centred / torch.linalg.vector_norm(centred, dim=1, keepdim=True)


def rsa_inputs(
    source: Any,
    target: Any,
    *,
    n_stimuli: int | None = None,
    seed: int = 0,
    device: str | torch.device = "cpu",
    dtype: torch.dtype = torch.float64,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The rows and columns RSA compares, row-normalised.

    Drops units (columns) that are constant over all stimuli in their own input, then the union of
    stimuli (rows) that are constant, e.g. all-zero, in either input, then keeps a seeded random
    subset of ``n_stimuli`` stimuli when asked.

    Parameters
    ----------
    source : array or tensor, (n_samples, n_source_units)
    target : array or tensor, (n_samples, n_target_units)
    n_stimuli : int or None
        Keep a random subset of this many stimuli (at least 3); None keeps all.
    seed : int
        Seed of the subset.
    device, dtype : str or torch.device, torch.dtype
        Where and in which precision to compute.

    Returns
    -------
    source_rows : torch.Tensor, (n_kept, n_live_source_units), rows centred and unit-norm.
    target_rows : torch.Tensor, (n_kept, n_live_target_units), rows centred and unit-norm.
    """
    x = as_matrix(source, "source", device, dtype)
    y = as_matrix(target, "target", device, dtype)
    check_pair(x, y)
    for name, data in (("source", x), ("target", y)):
        if data.shape[1] < 2:
            raise ValueError(f"{name} needs at least 2 units to correlate stimuli, got {data.shape[1]}")
    x = x[:, ~constant_columns(x)]
    y = y[:, ~constant_columns(y)]
    for name, data in (("source", x), ("target", y)):
        if data.shape[1] < 2:
            raise ValueError(f"{name} has fewer than 2 units that vary across stimuli")
    live = ~(_constant_rows(x) | _constant_rows(y))
    x, y = x[live], y[live]
    if n_stimuli is not None:
        if isinstance(n_stimuli, bool) or not isinstance(n_stimuli, int) or n_stimuli < 3:
            raise ValueError(f"n_stimuli must be None or an int >= 3, got {n_stimuli!r}")
        if n_stimuli < x.shape[0]:
            order = torch.randperm(x.shape[0], generator=make_generator(seed, 0))[:n_stimuli]
            index = order.sort().values.to(x.device)
            x, y = x[index], y[index]
    if x.shape[0] < 3:
        raise ValueError(f"source and target have {x.shape[0]} usable stimuli (rows); RSA needs at least 3")
    return _normalize_rows(x), _normalize_rows(y)


def _pair_sums(a: torch.Tensor, b: torch.Tensor) -> tuple[float, float, float, float, float]:
    """Sums over stimulus pairs i < j of s = a_i.a_j and t = b_i.b_j: (sum s, sum t, sum s^2, sum t^2, sum st).

    ``a: (n, p)``, ``b: (n, q)`` with unit-norm rows (so the diagonal terms are 1).
    """
    n, p, q = a.shape[0], a.shape[1], b.shape[1]
    if _unit_route_is_cheaper(n, p, q):
        full = (
            float(a.sum(dim=0).square().sum()),
            float(b.sum(dim=0).square().sum()),
            float((a.mT @ a).square().sum()),
            float((b.mT @ b).square().sum()),
            float((a.mT @ b).square().sum()),
        )
    else:
        totals = [0.0] * 5
        for start in range(0, n, BLOCK_ROWS):
            sa = a[start : start + BLOCK_ROWS] @ a.mT
            sb = b[start : start + BLOCK_ROWS] @ b.mT
            for k, value in enumerate((sa.sum(), sb.sum(), sa.square().sum(), sb.square().sum(), (sa * sb).sum())):
                totals[k] += float(value)
        full = tuple(totals)
    # Remove the diagonal (n ones) and halve: the full matrices are symmetric.
    return tuple((value - n) / 2.0 for value in full)  # type: ignore[return-value]


def rsa(
    source: Any,
    target: Any,
    *,
    n_stimuli: int | None = None,
    seed: int = 0,
    device: str | torch.device = "cpu",
    dtype: torch.dtype = torch.float64,
) -> float:
    """Representational similarity analysis: correlation of the two dissimilarity matrices.

    Each input's representational dissimilarity matrix (RDM) is ``1 - Pearson correlation``
    between stimulus rows; the score is the Pearson correlation between the upper triangles
    (``i < j``) of the two RDMs. Dead units (constant over all stimuli) are dropped from their
    input, and the *union* of dead stimuli (rows constant, e.g. all-zero, in either input) is
    dropped from both, so rows stay aligned. (The authors' code drops dead stimuli from each
    input separately, which misaligns the rows of the two RDMs whenever the sets differ.)

    Range [-1, 1]. Invariant to permutation of units and to a positive scaling or a shift of
    all units' responses to one stimulus; not invariant to per-unit scaling or to rotations of
    units in general. Symmetric.

    Parameters
    ----------
    source : array or tensor, (n_samples, n_source_units)
    target : array or tensor, (n_samples, n_target_units)
    n_stimuli : int or None
        Use a random subset of this many stimuli (after dropping dead ones); None uses all.
    seed : int
        Seed of the subset.
    device, dtype : str or torch.device, torch.dtype
        Where and in which precision to compute (``"cpu"``, float64 by default).

    Returns
    -------
    float
    """
    a, b = rsa_inputs(source, target, n_stimuli=n_stimuli, seed=seed, device=device, dtype=dtype)
    n = a.shape[0]
    s_a, s_b, s_aa, s_bb, s_ab = _pair_sums(a, b)
    pairs = n * (n - 1) / 2.0
    var_a = pairs * s_aa - s_a * s_a
    var_b = pairs * s_bb - s_b * s_b
    if not (var_a > 0 and var_b > 0):
        raise ValueError("a dissimilarity matrix is constant over stimulus pairs; RSA is undefined")
    return float((pairs * s_ab - s_a * s_b) / math.sqrt(var_a * var_b))


def linear_cka(
    source: Any,
    target: Any,
    *,
    device: str | torch.device = "cpu",
    dtype: torch.dtype = torch.float64,
) -> float:
    """Linear centred kernel alignment (Kornblith et al. 2019).

    With column-centred ``X`` and ``Y``,
    ``CKA = |X'Y|_F^2 / (|X'X|_F |Y'Y|_F) = <K, L>_F / (|K|_F |L|_F)`` for ``K = X X'``,
    ``L = Y Y'``.

    Range [0, 1]. Invariant to orthogonal maps and isotropic scaling of either
    representation's units and to shifts; not invariant to general invertible linear maps or
    to per-unit scaling. Symmetric.

    Parameters
    ----------
    source : array or tensor, (n_samples, n_source_units)
    target : array or tensor, (n_samples, n_target_units)
    device, dtype : str or torch.device, torch.dtype
        Where and in which precision to compute (``"cpu"``, float64 by default).

    Returns
    -------
    float
    """
    x = as_matrix(source, "source", device, dtype)
    y = as_matrix(target, "target", device, dtype)
    check_pair(x, y)
    if x.shape[0] < 2:
        raise ValueError("source and target need at least 2 samples for CKA")
    x = x - x.mean(dim=0, keepdim=True)
    y = y - y.mean(dim=0, keepdim=True)
    for name, data in (("source", x), ("target", y)):
        if not bool((data != 0).any()):
            raise ValueError(f"{name} has no variance: every unit is constant")
    if _unit_route_is_cheaper(x.shape[0], x.shape[1], y.shape[1]):
        cross = (x.mT @ y).square().sum()
        norm_x = torch.linalg.matrix_norm(x.mT @ x)
        norm_y = torch.linalg.matrix_norm(y.mT @ y)
    else:
        k, l = x @ x.mT, y @ y.mT
        cross = (k * l).sum()
        norm_x, norm_y = torch.linalg.matrix_norm(k), torch.linalg.matrix_norm(l)
    return float(cross / (norm_x * norm_y))
