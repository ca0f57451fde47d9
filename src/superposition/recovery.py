"""Batched sparse recovery: basis pursuit for thousands of problems at once, and phase diagrams.

The solver is ADMM for basis pursuit (Boyd et al. 2011, section 6.2) written for a batch of
measurement matrices, each shared by many right-hand sides, so every iteration is two batched
matrix products. It handles signed codes (``min ||x||_1 s.t. A x = y``) and nonnegative codes
(``min 1'x s.t. A x = y, x >= 0``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch
from numpy.typing import NDArray

from .runtime import make_generator, progress


@dataclass(frozen=True)
class BasisPursuitResult:
    """Solutions of a batch of basis-pursuit problems.

    Attributes
    ----------
    x : torch.Tensor, (batch, n_features, n_problems)
        The sparse iterate (exactly zero off its support).
    converged : torch.Tensor of bool, (batch, n_problems)
        Whether each problem met the stopping rule before ``max_iter``.
    n_iter : int
        Iterations run (the batch stops when every problem has converged).
    """

    x: torch.Tensor
    converged: torch.Tensor
    n_iter: int


def _null_space_projector(a: torch.Tensor, y: torch.Tensor) -> tuple:
    """Precompute the projection onto ``{x : A x = y}`` for a batch of matrices.

    ``a``: (batch, M, N), ``y``: (batch, M, P). Returns a function ``V -> proj(V)`` for
    ``V``: (batch, N, P). It uses ``x - pinv (A x - y)``, two thin products, when ``M <= N/2``,
    and ``B x + x_ls`` with the ``N x N`` null-space projector ``B`` otherwise.
    """
    m, n = a.shape[-2], a.shape[-1]
    chol = torch.linalg.cholesky(a @ a.transpose(-1, -2))
    pinv_t = torch.cholesky_solve(a, chol)  # (AA')^{-1} A: (batch, M, N)
    x_ls = pinv_t.transpose(-1, -2) @ y  # least-norm solutions: (batch, N, P)
    if 2 * m <= n:
        pinv = pinv_t.transpose(-1, -2)

        def project(v: torch.Tensor) -> torch.Tensor:
            return v - pinv @ (a @ v - y)

    else:
        eye = torch.eye(n, dtype=a.dtype, device=a.device)
        null_proj = eye - pinv_t.transpose(-1, -2) @ a

        def project(v: torch.Tensor) -> torch.Tensor:
            return null_proj @ v + x_ls

    return project, x_ls


def basis_pursuit_reference(a: NDArray[np.float64], y: NDArray[np.float64], nonnegative: bool = False) -> NDArray[np.float64]:
    """Plain reference: one basis-pursuit problem solved exactly as a linear program (HiGHS).

    ``a``: (M, N), ``y``: (M,). Returns ``x``: (N,), the minimiser of ``||x||_1`` subject to
    ``A x = y`` (and ``x >= 0`` when ``nonnegative``). Slow and exact: the oracle the batched
    solver is tested and benchmarked against.
    """
    from scipy.optimize import linprog

    n = a.shape[1]
    if nonnegative:
        return linprog(np.ones(n), A_eq=a, b_eq=y, bounds=(0, None), method="highs").x
    res = linprog(np.ones(2 * n), A_eq=np.hstack([a, -a]), b_eq=y, bounds=(0, None), method="highs")
    return res.x[:n] - res.x[n:]


@dataclass
class AdmmState:
    """The iterates of batched basis-pursuit ADMM at a check point.

    ``x``: feasible iterate (``A x = y``), ``z``: sparse iterate, ``u``: scaled dual, all
    ``(batch, N, P)``; ``rho``: per-problem penalty ``(batch, 1, P)``; ``primal`` and ``dual``:
    residual norms ``(batch, P)``; ``converged``: stopping rule met ``(batch, P)``.
    """

    x: torch.Tensor
    z: torch.Tensor
    u: torch.Tensor
    rho: torch.Tensor
    primal: torch.Tensor
    dual: torch.Tensor
    converged: torch.Tensor
    n_iter: int


def admm_iterations(
    a: torch.Tensor,
    y: torch.Tensor,
    nonnegative: bool = False,
    max_iter: int = 3000,
    tol: float = 1e-6,
    relaxation: float = 1.6,
    penalty: float = 1.0,
    check_every: int = 10,
) -> Iterator[AdmmState]:
    """Run ADMM for basis pursuit on a batch, yielding the state every ``check_every`` steps.

    The consumer decides when to stop (by breaking out of the loop); the generator ends after
    ``max_iter`` iterations. See :func:`basis_pursuit_admm` for the parameters.
    """
    if a.ndim != 3 or y.ndim != 3 or a.shape[0] != y.shape[0] or a.shape[1] != y.shape[1]:
        raise ValueError(f"a must be (batch, M, N) and y (batch, M, P); got {tuple(a.shape)}, {tuple(y.shape)}")
    if a.shape[1] > a.shape[2]:
        raise ValueError("basis pursuit needs M <= N (an underdetermined system)")
    if not 1.0 <= relaxation < 2.0:
        raise ValueError(f"relaxation must lie in [1, 2), got {relaxation}")
    project, x = _null_space_projector(a, y)
    batch, n, p = x.shape
    z = torch.clamp(x, min=0.0) if nonnegative else x.clone()
    u = torch.zeros_like(x)
    rho = torch.full((batch, 1, p), float(penalty), dtype=x.dtype, device=x.device)
    sqrt_n = float(np.sqrt(n))
    for n_iter in range(1, max_iter + 1):
        x = project(z - u)
        x_relaxed = relaxation * x + (1.0 - relaxation) * z
        v = x_relaxed + u
        z_old = z
        if nonnegative:
            z = torch.clamp(v - 1.0 / rho, min=0.0)
        else:
            z = torch.sign(v) * torch.clamp(v.abs() - 1.0 / rho, min=0.0)
        u = v - z
        if n_iter % check_every and n_iter != max_iter:
            continue
        primal = torch.linalg.vector_norm(x - z, dim=1)  # (batch, P)
        dual = rho[:, 0, :] * torch.linalg.vector_norm(z - z_old, dim=1)
        scale_primal = torch.maximum(torch.linalg.vector_norm(x, dim=1), torch.linalg.vector_norm(z, dim=1))
        scale_dual = rho[:, 0, :] * torch.linalg.vector_norm(u, dim=1)
        converged = (primal <= tol * (sqrt_n + scale_primal)) & (dual <= tol * (sqrt_n + scale_dual))
        yield AdmmState(x, z, u, rho, primal, dual, converged, n_iter)
        # residual balancing (Boyd et al. 2011, eq. 3.13); u is the scaled dual, so rescale it
        grow = (primal > 10.0 * dual)[:, None, :]
        shrink = (dual > 10.0 * primal)[:, None, :]
        factor = torch.where(grow, 2.0, torch.where(shrink, 0.5, 1.0)).to(x.dtype)
        rho = rho * factor
        u = u / factor


def basis_pursuit_admm(
    a: torch.Tensor,
    y: torch.Tensor,
    nonnegative: bool = False,
    max_iter: int = 3000,
    tol: float = 1e-6,
    relaxation: float = 1.6,
    penalty: float = 1.0,
    check_every: int = 10,
) -> BasisPursuitResult:
    """Solve many basis-pursuit problems at once by ADMM.

    Parameters
    ----------
    a : torch.Tensor, (batch, M, N)
        Measurement matrices with full row rank (``M <= N``).
    y : torch.Tensor, (batch, M, P)
        Measurements; column ``p`` of batch ``b`` is one problem with matrix ``a[b]``.
    nonnegative : bool
        Add the constraint ``x >= 0`` (the objective is then ``sum(x)``).
    max_iter, tol : int, float
        Stop when every problem's primal and dual residuals are below ``tol`` relative to the
        size of its iterates (Boyd et al. 2011, eq. 3.12), or after ``max_iter`` iterations.
    relaxation : float
        Over-relaxation parameter in [1, 2); 1.6 speeds convergence.
    penalty : float
        Initial ADMM penalty; it is adapted per problem by residual balancing.
    check_every : int
        Iterations between convergence checks and penalty updates.

    Returns
    -------
    BasisPursuitResult
    """
    state = None
    for state in admm_iterations(a, y, nonnegative, max_iter, tol, relaxation, penalty, check_every):
        if bool(state.converged.all()):
            break
    assert state is not None
    return BasisPursuitResult(x=state.z, converged=state.converged, n_iter=state.n_iter)


NEGATIVITY_SLACK = 1e-6
"""Round-off allowed below zero in a nonnegative candidate (relative to ``max |x_true|``)."""


@dataclass(frozen=True)
class RecoveryVerdict:
    """Whether basis pursuit recovers known codes, decided as early as the iterates allow.

    ``recovered``: (batch, P) bool; ``decided``: (batch, P) bool, False where the verdict fell
    back on the final error after ``max_iter``; ``error``: (batch, P) relative error of the sparse
    iterate at the decision; ``n_iter``: iterations run.
    """

    recovered: torch.Tensor
    decided: torch.Tensor
    error: torch.Tensor
    n_iter: int


def recovery_verdicts(
    a: torch.Tensor,
    x_true: torch.Tensor,
    nonnegative: bool = False,
    success_tol: float = 1e-3,
    max_iter: int = 3000,
    check_every: int = 10,
) -> RecoveryVerdict:
    """Does basis pursuit return ``x_true`` from ``y = A x_true``? One verdict per problem.

    A problem is decided as soon as one of these holds at a check point:

    - *failure, certified*: a feasible point (``A x = y``, and ``x >= 0`` for nonnegative codes)
      has a smaller objective than ``x_true`` by a relative margin of 1e-9, so ``x_true`` is not
      the minimiser. The candidate is the projected iterate; for nonnegative codes its entries
      may dip below zero by at most ``NEGATIVITY_SLACK`` times the largest entry of ``x_true``
      (round-off of the projection);
    - *success*: ADMM has converged (tolerance 1e-6) and the sparse iterate lies within
      ``success_tol`` (relative l2) of ``x_true``;
    - *failure*: ADMM has converged elsewhere.

    Problems still undecided after ``max_iter`` get the verdict ``error < success_tol`` and
    ``decided = False``.

    ``a``: (batch, M, N); ``x_true``: (batch, N, P).
    """
    y = a @ x_true
    objective_true = x_true.abs().sum(dim=1)  # (batch, P)
    scale_true = x_true.abs().amax(dim=1)
    recovered = torch.zeros(objective_true.shape, dtype=torch.bool, device=a.device)
    decided = torch.zeros_like(recovered)
    error = torch.full(objective_true.shape, float("nan"), dtype=a.dtype, device=a.device)
    state = None
    for state in admm_iterations(a, y, nonnegative, max_iter=max_iter, tol=1e-6, check_every=check_every):
        err = relative_error(state.z, x_true)
        # a feasible point with a smaller objective than x_true certifies failure
        better = state.x.abs().sum(dim=1) < objective_true * (1.0 - 1e-9)
        if nonnegative:
            better &= state.x.amin(dim=1) >= -NEGATIVITY_SLACK * scale_true
        new_fail = ~decided & (better | (state.converged & (err >= success_tol)))
        new_success = ~decided & ~new_fail & state.converged & (err < success_tol)
        recovered |= new_success
        error = torch.where(new_fail | new_success, err, error)
        decided |= new_fail | new_success
        if bool(decided.all()):
            break
    assert state is not None
    final = relative_error(state.z, x_true)
    undecided = ~decided
    recovered = torch.where(undecided, final < success_tol, recovered)
    error = torch.where(undecided, final, error)
    return RecoveryVerdict(recovered=recovered, decided=decided, error=error, n_iter=state.n_iter)


def sample_sparse_codes(
    n_features: int,
    n_nonzero: torch.Tensor,
    n_trials: int,
    nonnegative: bool,
    generator: torch.Generator,
    dtype: torch.dtype = torch.float64,
) -> torch.Tensor:
    """Random sparse codes with a given number of non-zeros per column.

    ``n_nonzero``: (P,) integers. Returns ``(n_trials, n_features, P)``: each column has a
    uniformly random support of size ``n_nonzero[p]`` and standard-normal values (their absolute
    values when ``nonnegative``). Basis pursuit succeeds or fails depending only on the support
    and the signs, not on the magnitudes.
    """
    p = n_nonzero.numel()
    scores = torch.rand((n_trials, n_features, p), generator=generator, dtype=dtype)
    ranks = scores.argsort(dim=1).argsort(dim=1)
    support = ranks < n_nonzero.reshape(1, 1, p)
    values = torch.randn((n_trials, n_features, p), generator=generator, dtype=dtype)
    if nonnegative:
        values = values.abs()
    return torch.where(support, values, torch.zeros_like(values))


def gaussian_matrices(
    n_measurements: int, n_features: int, n_trials: int, generator: torch.Generator, dtype: torch.dtype = torch.float64
) -> torch.Tensor:
    """Gaussian measurement matrices with ``N(0, 1/M)`` entries: ``(n_trials, M, N)``."""
    a = torch.randn((n_trials, n_measurements, n_features), generator=generator, dtype=dtype)
    return a / np.sqrt(n_measurements)


def relative_error(x_hat: torch.Tensor, x_true: torch.Tensor) -> torch.Tensor:
    """``||x_hat - x_true|| / ||x_true||`` per column: inputs ``(..., N, P)``, output ``(..., P)``."""
    return torch.linalg.vector_norm(x_hat - x_true, dim=-2) / torch.linalg.vector_norm(x_true, dim=-2)


def phase_diagram_row(
    n_features: int,
    delta: float,
    rhos: NDArray[np.float64],
    n_trials: int,
    nonnegative: bool,
    seed: int,
    row: int,
    dtype: torch.dtype = torch.float64,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The random problems of one row of a phase diagram, drawn on the CPU.

    ``M = round(delta N)`` and ``K = round(rho M)`` (clipped to [1, M]) per ``rho``; the stream is
    seeded by ``(seed, row, nonnegative)``, so every device and every caller sees the same
    problems. Returns ``a``: (n_trials, M, N) Gaussian matrices and ``x0``: (n_trials, N, n_rho)
    sparse codes, one per ``rho`` sharing each trial's matrix.
    """
    m = max(1, int(round(delta * n_features)))
    k = np.clip(np.round(np.asarray(rhos) * m).astype(np.int64), 1, m)
    generator = make_generator(seed, row, int(nonnegative))
    a = gaussian_matrices(m, n_features, n_trials, generator, dtype)
    x0 = sample_sparse_codes(n_features, torch.as_tensor(k), n_trials, nonnegative, generator, dtype)
    return a, x0


@dataclass(frozen=True)
class PhaseDiagram:
    """An empirical phase diagram of basis pursuit.

    Attributes
    ----------
    deltas : (n_delta,) ``M / N`` per row (after rounding ``M`` to an integer).
    rhos : (n_delta, n_rho) ``K / M`` per cell (after rounding ``K``).
    success : (n_delta, n_rho, n_trials) bool, recovery within ``success_tol``.
    error : (n_delta, n_rho, n_trials) relative l2 error of the solution.
    decided : (n_delta, n_rho, n_trials) bool, False where the verdict fell back on the final
        error after ``max_iter`` (see :func:`recovery_verdicts`).
    n_features, nonnegative, success_tol : the settings.
    """

    deltas: NDArray[np.float64]
    rhos: NDArray[np.float64]
    success: NDArray[np.bool_]
    error: NDArray[np.float64]
    decided: NDArray[np.bool_]
    n_features: int
    nonnegative: bool
    success_tol: float

    @property
    def success_rate(self) -> NDArray[np.float64]:
        """Fraction of successful trials per cell: ``(n_delta, n_rho)``."""
        return self.success.mean(axis=-1)


def phase_diagram(
    n_features: int,
    deltas: NDArray[np.float64],
    rhos: NDArray[np.float64],
    n_trials: int,
    nonnegative: bool,
    seed: int,
    device: torch.device | str = "cpu",
    dtype: torch.dtype = torch.float64,
    success_tol: float = 1e-3,
    max_iter: int = 3000,
) -> PhaseDiagram:
    """Empirical success of basis pursuit over a (delta, rho) grid.

    For each ``delta`` (one batched solve per grid row), ``n_trials`` Gaussian matrices are drawn
    and each is shared by one code per ``rho``, so the work is matrix-matrix products. Problems
    are drawn on the CPU from streams seeded by ``(seed, row, sign)`` and then moved to
    ``device``: the same problems on every device.
    """
    deltas = np.asarray(deltas, dtype=np.float64)
    rhos = np.asarray(rhos, dtype=np.float64)
    if np.any(deltas <= 0) or np.any(deltas > 1) or np.any(rhos <= 0) or np.any(rhos > 1):
        raise ValueError("deltas and rhos must lie in (0, 1]")
    n_delta, n_rho = deltas.size, rhos.size
    true_deltas = np.empty(n_delta)
    true_rhos = np.empty((n_delta, n_rho))
    success = np.empty((n_delta, n_rho, n_trials), dtype=bool)
    error = np.empty((n_delta, n_rho, n_trials))
    decided = np.empty((n_delta, n_rho, n_trials), dtype=bool)
    label = "nonnegative" if nonnegative else "signed"
    for i in progress(range(n_delta), total=n_delta, desc=f"phase diagram ({label})"):
        a, x0 = phase_diagram_row(n_features, deltas[i], rhos, n_trials, nonnegative, seed, i, dtype)
        m = a.shape[1]
        k = (x0[0] != 0).sum(dim=0).numpy()
        a, x0 = a.to(device), x0.to(device)
        verdict = recovery_verdicts(a, x0, nonnegative, success_tol=success_tol, max_iter=max_iter)
        true_deltas[i] = m / n_features
        true_rhos[i] = k / m
        error[i] = verdict.error.cpu().numpy().T
        success[i] = verdict.recovered.cpu().numpy().T
        decided[i] = verdict.decided.cpu().numpy().T
    return PhaseDiagram(
        deltas=true_deltas,
        rhos=true_rhos,
        success=success,
        error=error,
        decided=decided,
        n_features=n_features,
        nonnegative=nonnegative,
        success_tol=success_tol,
    )


def fit_transition(rhos: NDArray[np.float64], success: NDArray[np.bool_], n_newton: int = 100) -> NDArray[np.float64]:
    """The 50% success point per row, by logistic regression of success on rho.

    ``rhos``: (n_delta, n_rho) the rho of each cell; ``success``: (n_delta, n_rho, n_trials).
    For each row, fits ``P(success) = 1 / (1 + exp(-(b0 + b1 rho)))`` by Newton's method
    (all rows at once) and returns ``-b0 / b1``, shape ``(n_delta,)``. Rows whose successes and
    failures do not overlap or cross inside the grid give the midpoint between the last success
    and the first failure; rows with no success or no failure give NaN.
    """
    rhos = np.asarray(rhos, dtype=np.float64)
    success = np.asarray(success, dtype=bool)
    n_delta, n_rho, n_trials = success.shape
    x = np.repeat(rhos[:, :, None], n_trials, axis=2).reshape(n_delta, -1)
    y = success.reshape(n_delta, -1).astype(np.float64)
    design = np.stack([np.ones_like(x), x], axis=-1)  # (n_delta, n, 2)
    beta = np.zeros((n_delta, 2))
    for _ in range(n_newton):
        p = 1.0 / (1.0 + np.exp(-np.einsum("dnk,dk->dn", design, beta)))
        grad = np.einsum("dnk,dn->dk", design, y - p)
        w = p * (1.0 - p)
        hess = np.einsum("dnk,dn,dnl->dkl", design, w, design) + 1e-6 * np.eye(2)
        step = np.linalg.solve(hess, grad[..., None])[..., 0]
        beta = beta + np.clip(step, -50.0, 50.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        boundary = -beta[:, 0] / beta[:, 1]
    any_success, any_failure = y.max(axis=1) > 0, y.min(axis=1) < 1
    last_success = np.where(success.any(axis=2), rhos, -np.inf).max(axis=1)
    first_failure = np.where((~success).any(axis=2), rhos, np.inf).min(axis=1)
    separated = last_success < first_failure
    boundary = np.where(separated, 0.5 * (last_success + first_failure), boundary)
    return np.where(any_success & any_failure, boundary, np.nan)
