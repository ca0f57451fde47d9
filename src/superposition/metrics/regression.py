"""Ridge predictivity: how well a linear map of the source predicts each target unit.

Per fold, a ridge regression without intercept is fitted on the train part, its penalty chosen
from a grid by efficient leave-one-out cross-validation exactly as
``sklearn.linear_model.RidgeCV(alphas, fit_intercept=False)`` does (Rifkin & Lippert 2007), and
the score is the mean over target units of the Pearson correlation between predicted and
measured test responses.

The fast path takes one decomposition of the train design per fold (a thin SVD, or an
eigendecomposition of the Gram matrix ``X X'`` when there are no more train samples than source
units, as sklearn does) and reuses it for every penalty and every target. For a penalty
``alpha``, with ``X = U S V'`` restricted to its numerical rank, ``g = alpha / (S^2 + alpha)``,
``Z = U' Y`` and ``R = Y - U Z``, the leave-one-out residuals are ``(R + U diag(g) Z)_i / d_i``
with ``d_i = 1 - sum_k U_ik^2 (1 - g_k)``. With one penalty per target these residuals are formed
for each penalty. With one penalty shared by all targets only their weighted row sums are
needed: they are assembled from ``|R_i|^2``, ``R Z'``, ``Z Z'`` and the products
``U' diag(w) U`` for the leverage weights ``w = 1 / d^2``, whose matrix over penalties has a low
numerical rank; a truncated SVD (at machine precision) of that matrix reduces the penalties to
a few such products. All of it is batched torch and runs on a GPU as well.

Note: on centred data with no more train samples than source units, a sample's design row is
minus the sum of the others', so the leave-one-out error vanishes as the penalty does; the
smallest penalty of the grid is then always chosen, by sklearn's RidgeCV as here.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray

from .protocol import N_FOLDS, SEED, FoldScores, as_matrix, check_dtype, fold_parts, normalize_columns, prepare_pair, summarize

DEFAULT_ALPHAS = np.logspace(-8, 8, 17)


@dataclass(frozen=True)
class RidgeCVFit:
    """A ridge regression (no intercept) with its penalty chosen by leave-one-out.

    Attributes
    ----------
    alpha : float or np.ndarray, (n_targets,)
        The chosen penalty, one per target with ``alpha_per_target=True``.
    coef : np.ndarray, (n_features, n_targets)
        Regression weights: predictions are ``x @ coef``.
    loo_mse : np.ndarray, (n_alphas,) or (n_alphas, n_targets)
        Mean squared leave-one-out error for every penalty (over all samples and targets, or
        per target).
    alphas : np.ndarray, (n_alphas,)
        The penalty grid.
    """

    alpha: float | NDArray[np.float64]
    coef: NDArray[np.float64]
    loo_mse: NDArray[np.float64]
    alphas: NDArray[np.float64]


@dataclass(frozen=True)
class _LooSolver:
    """One decomposition of a design ``X: (n, p)`` with targets ``Y: (n, t)``, for all penalties.

    ``u: (n, r)`` kept left singular vectors, ``s2: (r,)`` squared singular values,
    ``vs: (p, r)`` = ``X' u`` (right singular vectors times singular values), ``base: (n,)``
    leverage outside the kept span, ``z: (r, t)`` = ``u' Y``, ``resid: (n, t)`` = ``Y - u z``.
    """

    u: torch.Tensor
    s2: torch.Tensor
    vs: torch.Tensor
    base: torch.Tensor
    z: torch.Tensor
    resid: torch.Tensor


def check_alphas(alphas: Any) -> NDArray[np.float64]:
    """The penalty grid as a 1-D float array of finite positive values, else a ValueError.

    Parameters
    ----------
    alphas : (n_alphas,) array_like or float
        Penalties; a scalar becomes a grid of one.

    Returns
    -------
    (n_alphas,) numpy.ndarray
        The grid, float64.
    """
    try:
        grid = np.asarray(alphas, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(f"alphas must be a 1-D array of positive numbers: {err}") from err
    if grid.ndim == 0:
        grid = grid[None]
    if grid.ndim != 1 or grid.size == 0:
        raise ValueError(f"alphas must be a non-empty 1-D array, got shape {grid.shape}")
    if not (np.isfinite(grid).all() and (grid > 0).all()):
        raise ValueError(f"alphas must be finite and positive, got {grid}")
    return grid


def _check_flag(value: Any, name: str) -> bool:
    if not isinstance(value, bool | np.bool_):
        raise ValueError(f"{name} must be True or False, got {value!r}")
    return bool(value)


@dataclass(frozen=True)
class _Design:
    """The part of a :class:`_LooSolver` that depends on ``X`` only (shared by target batches).

    ``dropped: (n, n_dropped)`` the numerically null directions of the Gram route (None for the
    SVD route, where the residual is formed as ``Y - u z``)."""

    u: torch.Tensor
    s2: torch.Tensor
    vs: torch.Tensor
    base: torch.Tensor
    dropped: torch.Tensor | None


def _decompose_design(x: torch.Tensor) -> _Design:
    """Thin SVD of ``x`` (n > p) or eigendecomposition of ``x x'`` (n <= p), cut to numerical rank.

    Directions dropped as numerically null have ``g = 1`` for every penalty, so they are part of
    the residual ``R``; with the Gram matrix they are known explicitly and ``R`` is formed from
    them (exactly zero when nothing is dropped) rather than by cancellation.
    """
    n, p = x.shape
    eps = torch.finfo(x.dtype).eps
    if n > p:
        u_all, s, vh = torch.linalg.svd(x, full_matrices=False)
        keep = s > s.max() * max(n, p) * eps
        u, s = u_all[:, keep], s[keep]
        design = _Design(u=u, s2=s * s, vs=vh[keep].mT * s, base=(1.0 - (u * u).sum(dim=1)).clamp_min(0.0), dropped=None)
    else:
        lam, q = torch.linalg.eigh(x @ x.mT)
        keep = lam > lam.max().clamp_min(0.0) * max(n, p) * eps
        u, dropped = q[:, keep], q[:, ~keep]
        design = _Design(u=u, s2=lam[keep], vs=x.mT @ u, base=(dropped * dropped).sum(dim=1), dropped=dropped)
    if design.u.shape[1] == 0:
        raise ValueError("source has no variance left in the train part: the design matrix is zero")
    return design


def _project(design: _Design, y: torch.Tensor) -> _LooSolver:
    """The solver for targets ``y: (n, t)`` on a decomposed design."""
    z = design.u.mT @ y
    resid = y - design.u @ z if design.dropped is None else design.dropped @ (design.dropped.mT @ y)
    return _LooSolver(u=design.u, s2=design.s2, vs=design.vs, base=design.base, z=z, resid=resid)


def _decompose(x: torch.Tensor, y: torch.Tensor) -> _LooSolver:
    """:func:`_decompose_design` of ``x`` and :func:`_project` of ``y``."""
    return _project(_decompose_design(x), y)


def _penalty_factors(g: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``g: (n_alphas, r)`` = ``a @ b.T`` with ``a: (n_alphas, m)``, ``b: (r, m)``, ``m`` the numerical
    rank of ``g`` (truncated SVD at machine precision). ``g_ak = alpha_a / (s_k^2 + alpha_a)`` over
    log-spaced penalties is a Cauchy-like matrix of low numerical rank."""
    left, sing, right_t = torch.linalg.svd(g, full_matrices=False)
    keep = sing > sing[0] * 64 * torch.finfo(g.dtype).eps
    return left[:, keep] * sing[keep], right_t[keep].mT


LOO_ROW_CHUNK = 128
"""Train samples per step of the per-target leave-one-out errors: small enough that a step's
residuals for every penalty stay near the cache, large enough for efficient products."""


def _loo_mse_per_target(solver: _LooSolver, g: torch.Tensor, d: torch.Tensor) -> torch.Tensor:
    """Mean squared leave-one-out error per penalty and target: ``(n_alphas, n_targets)``.

    ``g``: (n_alphas, r) penalty factors ``alpha / (s^2 + alpha)``; ``d``: (n, n_alphas) the
    leave-one-out denominators. The residuals ``R + u diag(g_a) z`` of every penalty are built
    from the ``m`` products ``u diag(b_j) z`` of the factorisation ``g = a b'``
    (:func:`_penalty_factors`, ``m <= n_alphas``), a chunk of ``LOO_ROW_CHUNK`` samples at a
    time, so that no ``(m, n, t)`` or ``(n_alphas, n, t)`` array is ever held.
    """
    u, z, resid = solver.u, solver.z, solver.resid
    n, t = resid.shape
    factor_a, factor_b = _penalty_factors(g)  # (n_alphas, m), (r, m)
    m = factor_a.shape[1]
    scaled_z = (factor_b.mT[:, :, None] * z[None]).transpose(0, 1).reshape(z.shape[0], m * t)  # (r, m t): [b_1 z | ... | b_m z]
    inv_d = 1.0 / d  # (n, n_alphas)
    mse = torch.zeros(g.shape[0], t, dtype=u.dtype, device=u.device)
    for start in range(0, n, LOO_ROW_CHUNK):
        rows = slice(start, min(start + LOO_ROW_CHUNK, n))
        looe = factor_a @ (u[rows] @ scaled_z).view(-1, m, t)  # (n_rows, n_alphas, t): u diag(g_a) z
        looe += resid[rows, None, :]
        looe *= inv_d[rows, :, None]
        mse += torch.einsum("nat,nat->at", looe, looe)
    return mse / n


def _loo_mse(solver: _LooSolver, alphas: torch.Tensor, per_target: bool) -> torch.Tensor:
    """Mean squared leave-one-out error: (n_alphas,) shared, or (n_alphas, n_targets) per target."""
    u, s2, z, resid = solver.u, solver.s2, solver.z, solver.resid
    n, t = resid.shape
    g = alphas[:, None] / (s2[None, :] + alphas[:, None])  # (n_alphas, r)
    d = solver.base[:, None] + (u * u) @ g.mT  # (n, n_alphas): alpha * diag(G^-1)
    if per_target:
        return _loo_mse_per_target(solver, g, d)
    # Shared penalty: sum_i w_ai |R_i + (u diag(g_a) z)_i|^2 with w = 1 / d^2, expanded as
    #   w_a' |R_i|^2  +  2 sum_k g_ak [(u * R z')' w_a]_k  +  g_a' (z z' * u' diag(w_a) u) g_a.
    # The last term needs u' diag(w_a) u for every penalty; the leverage weights w (n, n_alphas)
    # have a low numerical rank across penalties, so it is assembled from the few products
    # u' diag(psi_j) u of a truncated SVD w = psi c' (truncated at machine precision).
    w = 1.0 / (d * d)  # (n, n_alphas)
    mse = w.mT @ (resid * resid).sum(dim=1)  # (n_alphas,)
    mse += 2.0 * ((u * (resid @ z.mT)).mT @ w * g.mT).sum(dim=0)
    gram_z = z @ z.mT  # (r, r)
    w_left, w_sing, w_right = torch.linalg.svd(w, full_matrices=False)
    keep = w_sing > w_sing[0] * 64 * torch.finfo(w.dtype).eps
    r = u.shape[1]
    n_blocks = 4 if r >= 256 else 1  # symmetric products: compute the upper blocks only
    edges = [round(b * r / n_blocks) for b in range(n_blocks + 1)]
    for j in torch.nonzero(keep).flatten().tolist():
        weighted = w_left[:, j, None] * u
        quad = torch.zeros(len(alphas), dtype=u.dtype, device=u.device)
        for b1 in range(n_blocks):
            rows = slice(edges[b1], edges[b1 + 1])
            for b2 in range(b1, n_blocks):
                cols = slice(edges[b2], edges[b2 + 1])
                inner = u[:, rows].mT @ weighted[:, cols]  # block of u' diag(psi_j) u
                part = ((g[:, rows] @ (gram_z[rows, cols] * inner)) * g[:, cols]).sum(dim=1)
                quad += part if b1 == b2 else 2.0 * part
        mse += w_sing[j] * w_right[j] * quad
    return mse / (n * t)


def _best_alphas(mse: torch.Tensor) -> torch.Tensor:
    """Index of the smallest error along the penalty axis (the first one on ties, as sklearn)."""
    return torch.argmin(mse, dim=0)


def _weights(solver: _LooSolver, alphas: torch.Tensor, best: torch.Tensor) -> torch.Tensor:
    """Regression weights ``(p, t)`` at the chosen penalty (scalar index or one per target)."""
    if best.ndim == 0:
        return solver.vs @ (solver.z / (solver.s2 + alphas[best])[:, None])
    scale = 1.0 / (solver.s2[:, None] + alphas[best][None, :])  # (r, t)
    return solver.vs @ (solver.z * scale)


def fit_ridge_cv(
    x: Any,
    y: Any,
    alphas: Any = DEFAULT_ALPHAS,
    *,
    alpha_per_target: bool = False,
    device: str | torch.device = "cpu",
    dtype: torch.dtype = torch.float64,
) -> RidgeCVFit:
    """Ridge regression without intercept, penalty chosen by efficient leave-one-out.

    Equivalent to ``sklearn.linear_model.RidgeCV(alphas, fit_intercept=False,
    alpha_per_target=...)``: the same leave-one-out errors, the same choice (smallest mean
    squared error, first on ties) and the same weights, from one decomposition shared by all
    penalties and targets. The data are used as given (no centring).

    Parameters
    ----------
    x : array or tensor, (n_samples, n_features)
    y : array or tensor, (n_samples, n_targets)
    alphas : array, (n_alphas,)
        Positive penalties.
    alpha_per_target : bool
        False (default): one penalty for all targets, minimising the mean squared error over all
        samples and targets. True: a penalty per target.
    device, dtype : str or torch.device, torch.dtype
        Where and in which precision to compute.

    Returns
    -------
    RidgeCVFit
    """
    grid = check_alphas(alphas)
    per_target = _check_flag(alpha_per_target, "alpha_per_target")
    dtype = check_dtype(dtype)
    xt = as_matrix(x, "x", device, dtype)
    yt = as_matrix(y, "y", device, dtype)
    if xt.shape[0] != yt.shape[0]:
        raise ValueError(f"x and y must have the same number of samples, got x {xt.shape[0]} and y {yt.shape[0]}")
    solver = _decompose(xt, yt)
    alphas_t = torch.as_tensor(grid, dtype=dtype, device=xt.device)
    mse = _loo_mse(solver, alphas_t, per_target)
    best = _best_alphas(mse)
    coef = _weights(solver, alphas_t, best)
    alpha = grid[best.cpu().numpy()] if per_target else float(grid[int(best)])
    return RidgeCVFit(alpha=alpha, coef=coef.cpu().double().numpy(), loo_mse=mse.cpu().double().numpy(), alphas=grid)


def columnwise_pearson(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Pearson correlation of matching columns; 0 where a column of ``a`` is constant.

    Parameters
    ----------
    a, b : torch.Tensor, (n_samples, n_columns); ``b`` has no constant column.

    Returns
    -------
    torch.Tensor, (n_columns,)
    """
    a = a - a.mean(dim=0, keepdim=True)
    b = b - b.mean(dim=0, keepdim=True)
    norm_a = torch.linalg.vector_norm(a, dim=0)
    norm_b = torch.linalg.vector_norm(b, dim=0)
    r = (a * b).sum(dim=0) / (norm_a * norm_b).clamp_min(torch.finfo(a.dtype).tiny)
    return torch.where(norm_a > 0, r, torch.zeros_like(r))


def ridge_predictivity(
    source: Any,
    target: Any,
    *,
    alphas: Any = DEFAULT_ALPHAS,
    alpha_per_target: bool = False,
    standardize: bool = False,
    n_folds: int = N_FOLDS,
    seed: int = SEED,
    target_batch_size: int | None = None,
    device: str | torch.device = "cpu",
    dtype: torch.dtype = torch.float64,
) -> FoldScores:
    """Ridge predictivity (linear regression score) of the target from the source.

    Per fold: the train and test parts of source and target are centred separately (and, with
    ``standardize=True``, scaled to unit-norm columns); a ridge regression without intercept is
    fitted on the train part with the penalty chosen by efficient leave-one-out over ``alphas``
    (as ``RidgeCV(alphas, fit_intercept=False)``); the fold's score is the mean over target
    units of the Pearson correlation between predicted and measured test responses. A target
    whose prediction is constant scores 0.

    Range [-1, 1] (1: every target unit is a linear function of the source). Invariant to any
    invertible linear map of the source units in the limit of a vanishing penalty (and
    exactly for orthogonal maps with ``standardize=False``, since the ridge penalty is
    rotation invariant); not symmetric. Rescaling a target unit leaves its correlation
    unchanged at a given penalty, but with a shared penalty on unscaled data it re-weights the
    leave-one-out criterion and may change the penalty chosen.

    Parameters
    ----------
    source : array or tensor, (n_samples, n_source_units)
    target : array or tensor, (n_samples, n_target_units)
    alphas : array, (n_alphas,)
        Penalty grid; default ``np.logspace(-8, 8, 17)``.
    alpha_per_target : bool
        False (default): one penalty per fold for all targets. True: one per target.
    standardize : bool
        False (default, the authors' choice): centre only. True: centre and unit-norm columns.
    n_folds, seed : int
        The folds are ``KFold(n_folds, shuffle=True, random_state=seed)``.
    target_batch_size : int or None
        Targets (e.g. voxels) handled at once: the memory of a fold is bounded by about
        ``(m * r + 3 * n_train) * target_batch_size`` numbers on top of the data (``r`` <=
        ``min(n_train, n_source_units)`` the rank of the train design, ``m`` <= ``len(alphas)``
        the numerical rank of the penalty factors); None: all at once. Results do not depend
        on it.
    device, dtype : str or torch.device, torch.dtype
        Where and in which precision to compute (``"cpu"``, float64 by default).

    Returns
    -------
    FoldScores
        ``alphas`` holds the chosen penalties: ``(n_folds,)`` or ``(n_folds, n_target_units)``;
        ``per_target`` the Pearson r of every target on every fold, ``(n_folds, n_target_units)``.
    """
    grid = check_alphas(alphas)
    per_target = _check_flag(alpha_per_target, "alpha_per_target")
    scale = _check_flag(standardize, "standardize")
    pair = prepare_pair(source, target, n_folds, seed, device, dtype)
    alphas_t = torch.as_tensor(grid, dtype=pair.source.dtype, device=pair.source.device)
    n_targets = pair.target.shape[1]
    if target_batch_size is not None and (isinstance(target_batch_size, bool) or not isinstance(target_batch_size, int) or target_batch_size < 1):
        raise ValueError(f"target_batch_size must be a positive int or None; got {target_batch_size!r}")
    step = n_targets if target_batch_size is None else target_batch_size
    batches = [slice(start, min(start + step, n_targets)) for start in range(0, n_targets, step)]

    def prepare(part: torch.Tensor) -> torch.Tensor:
        return normalize_columns(part) if scale else part - part.mean(dim=0, keepdim=True)

    scores, chosen, per_target_r = [], [], []
    for fold in pair.folds:
        x_train, x_test = (prepare(part) for part in fold_parts(pair.source, fold))
        design = _decompose_design(x_train)

        def targets(batch: slice) -> tuple[torch.Tensor, torch.Tensor]:
            return tuple(prepare(part) for part in fold_parts(pair.target[:, batch], fold))  # type: ignore[return-value]

        if per_target:
            best = torch.empty(n_targets, dtype=torch.long, device=x_train.device)
        else:  # one penalty for all targets: the mean leave-one-out error over every batch first
            mse = sum(_loo_mse(_project(design, targets(b)[0]), alphas_t, False) * (b.stop - b.start) for b in batches)
            best = _best_alphas(mse)
        r = torch.empty(n_targets, dtype=x_train.dtype, device=x_train.device)
        for batch in batches:
            y_train, y_test = targets(batch)
            solver = _project(design, y_train)
            if per_target:
                best[batch] = _best_alphas(_loo_mse(solver, alphas_t, True))
            prediction = x_test @ _weights(solver, alphas_t, best[batch] if per_target else best)
            r[batch] = columnwise_pearson(prediction, y_test)
        scores.append(float(r.mean()))
        per_target_r.append(r.cpu().double().numpy())
        chosen.append(grid[best.cpu().numpy()])
    result = summarize(scores, pair, alphas=np.asarray(chosen, dtype=np.float64))
    return replace(result, per_target=np.stack(per_target_r))
