"""Batched sparse recovery: basis pursuit for thousands of problems at once, and phase diagrams.

The solver is ADMM for basis pursuit (Boyd et al. 2011, section 6.2) written for a batch of
measurement matrices, each shared by many right-hand sides, so every iteration is two batched
matrix products. It handles signed codes (``min ||x||_1 s.t. A x = y``) and nonnegative codes
(``min 1'x s.t. A x = y, x >= 0``).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from numpy.typing import NDArray

from ..metrics.intervals import Estimate, percentile_estimate
from ..runtime import make_generator, progress
from .certificates import DualCertificates, better_feasible_point
from .theory import l1_phase_transition


@dataclass(frozen=True)
class BasisPursuitResult:
    """Solutions of a batch of basis-pursuit problems.

    Attributes
    ----------
    x : (batch, n_features, n_problems) torch.Tensor
        The sparse iterate (exactly zero off its support).
    converged : (batch, n_problems) torch.Tensor
        Boolean, whether each problem met the stopping rule before ``max_iter``.
    n_iter : int
        Iterations run (the batch stops when every problem has converged).
    """

    x: torch.Tensor
    converged: torch.Tensor
    n_iter: int


class NullSpaceProjector:
    """Projection onto ``{x : A x = y}`` for a batch of matrices, each shared by ``P`` right-hand sides.

    ``a``: (batch, M, N) with full row rank, ``y``: (batch, M, P). Applied to ``v``: (batch, N, P).
    It uses ``v - pinv (A v - y)``, two thin products, when ``M <= N/2``, and ``B v + x_ls`` with
    the ``N x N`` null-space projector ``B`` otherwise. :meth:`keep_columns` drops right-hand sides.
    """

    def __init__(self, a: torch.Tensor, y: torch.Tensor) -> None:
        m, n = a.shape[-2], a.shape[-1]
        chol = torch.linalg.cholesky(a @ a.transpose(-1, -2))
        self.a = a
        self.pinv_t = torch.cholesky_solve(a, chol)  # (AA')^{-1} A: (batch, M, N)
        self.y = y
        self.x_ls = self.pinv_t.transpose(-1, -2) @ y  # least-norm solutions: (batch, N, P)
        self.thin = 2 * m <= n
        if not self.thin:
            eye = torch.eye(n, dtype=a.dtype, device=a.device)
            self.null_proj = eye - self.pinv_t.transpose(-1, -2) @ a

    def __call__(self, v: torch.Tensor) -> torch.Tensor:
        if self.thin:
            return v - self.pinv_t.transpose(-1, -2) @ (self.a @ v - self.y)
        return self.null_proj @ v + self.x_ls

    def keep_columns(self, columns: torch.Tensor) -> None:
        """Keep only the right-hand sides ``columns``.

        Parameters
        ----------
        columns : (P_kept,) torch.Tensor
            Indices into the current right-hand sides.
        """
        self.y = self.y[:, :, columns]
        self.x_ls = self.x_ls[:, :, columns]


def basis_pursuit_reference(a: NDArray[np.float64], y: NDArray[np.float64], nonnegative: bool = False) -> NDArray[np.float64]:
    """Plain reference: one basis-pursuit problem solved exactly as a linear program (HiGHS).

    Slow and exact: the oracle the batched solver is tested and benchmarked against.

    Parameters
    ----------
    a : (M, N) numpy.ndarray
        Measurement matrix.
    y : (M,) numpy.ndarray
        Measurements.
    nonnegative : bool
        Add the constraint ``x >= 0``.

    Returns
    -------
    (N,) numpy.ndarray
        The minimiser of ``||x||_1`` subject to ``A x = y`` (and ``x >= 0`` when ``nonnegative``).
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

    Attributes
    ----------
    x : (batch, N, P) torch.Tensor
        Feasible iterate (``A x = y``).
    z : (batch, N, P) torch.Tensor
        Sparse iterate.
    u : (batch, N, P) torch.Tensor
        Scaled dual.
    rho : (batch, 1, P) torch.Tensor
        Per-problem penalty.
    primal, dual : (batch, P) torch.Tensor
        Residual norms.
    converged : (batch, P) torch.Tensor
        Boolean, stopping rule met.
    n_iter : int
        Iterations run so far.
    """

    x: torch.Tensor
    z: torch.Tensor
    u: torch.Tensor
    rho: torch.Tensor
    primal: torch.Tensor
    dual: torch.Tensor
    converged: torch.Tensor
    n_iter: int


class BatchedAdmm:
    """ADMM for basis pursuit (Boyd et al. 2011, section 6.2) on a batch of problems.

    ``a``: (batch, M, N), ``y``: (batch, M, P); column ``p`` of batch ``b`` is one problem with
    matrix ``a[b]``. :meth:`advance` runs iterations and returns the state at the last one;
    :meth:`keep_columns` drops right-hand sides that need no more work, so later iterations cost
    less. The penalty is adapted per problem by residual balancing at every :meth:`advance`.
    """

    def __init__(
        self, a: torch.Tensor, y: torch.Tensor, nonnegative: bool = False, relaxation: float = 1.6, penalty: float = 1.0, tol: float = 1e-6
    ) -> None:
        if a.ndim != 3 or y.ndim != 3 or a.shape[0] != y.shape[0] or a.shape[1] != y.shape[1]:
            raise ValueError(f"a must be (batch, M, N) and y (batch, M, P); got {tuple(a.shape)}, {tuple(y.shape)}")
        if a.shape[1] > a.shape[2]:
            raise ValueError("basis pursuit needs M <= N (an underdetermined system)")
        if not 1.0 <= relaxation < 2.0:
            raise ValueError(f"relaxation must lie in [1, 2), got {relaxation}")
        self.project = NullSpaceProjector(a, y)
        self.nonnegative, self.relaxation, self.tol = nonnegative, relaxation, tol
        self.x = self.project.x_ls
        batch, _, p = self.x.shape
        self.z = torch.clamp(self.x, min=0.0) if nonnegative else self.x.clone()
        self.u = torch.zeros_like(self.x)
        self.rho = torch.full((batch, 1, p), float(penalty), dtype=self.x.dtype, device=self.x.device)
        self.n_iter = 0

    def advance(self, n_steps: int) -> AdmmState:
        """Run ``n_steps`` iterations; return the state with residuals of the last one.

        Parameters
        ----------
        n_steps : int
            Iterations to run.

        Returns
        -------
        AdmmState
            The state after the last iteration (before the penalty update).
        """
        x, z, u, rho = self.x, self.z, self.u, self.rho
        z_old = z
        for _ in range(n_steps):
            x = self.project(z - u)
            v = self.relaxation * x + (1.0 - self.relaxation) * z + u
            z_old = z
            if self.nonnegative:
                z = torch.clamp(v - 1.0 / rho, min=0.0)
            else:
                z = torch.sign(v) * torch.clamp(v.abs() - 1.0 / rho, min=0.0)
            u = v - z
        self.n_iter += n_steps
        n = x.shape[1]
        primal = torch.linalg.vector_norm(x - z, dim=1)  # (batch, P)
        dual = rho[:, 0, :] * torch.linalg.vector_norm(z - z_old, dim=1)
        scale_primal = torch.maximum(torch.linalg.vector_norm(x, dim=1), torch.linalg.vector_norm(z, dim=1))
        scale_dual = rho[:, 0, :] * torch.linalg.vector_norm(u, dim=1)
        sqrt_n = float(np.sqrt(n))
        converged = (primal <= self.tol * (sqrt_n + scale_primal)) & (dual <= self.tol * (sqrt_n + scale_dual))
        state = AdmmState(x, z, u, rho, primal, dual, converged, self.n_iter)
        # residual balancing (Boyd et al. 2011, eq. 3.13); u is the scaled dual, so rescale it
        grow = (primal > 10.0 * dual)[:, None, :]
        shrink = (dual > 10.0 * primal)[:, None, :]
        factor = torch.where(grow, 2.0, torch.where(shrink, 0.5, 1.0)).to(x.dtype)
        self.x, self.z, self.u, self.rho = x, z, u / factor, rho * factor
        return state

    def keep_columns(self, columns: torch.Tensor) -> None:
        """Keep only the right-hand sides ``columns``.

        Parameters
        ----------
        columns : (P_kept,) torch.Tensor
            Indices into the current right-hand sides.
        """
        self.project.keep_columns(columns)
        self.x, self.z, self.u, self.rho = (t[:, :, columns] for t in (self.x, self.z, self.u, self.rho))


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
    ``max_iter`` iterations.

    Parameters
    ----------
    a : (batch, M, N) torch.Tensor
        Measurement matrices with full row rank (``M <= N``).
    y : (batch, M, P) torch.Tensor
        Measurements; column ``p`` of batch ``b`` is one problem with matrix ``a[b]``.
    nonnegative : bool
        Add the constraint ``x >= 0``.
    max_iter : int
        Iterations at most.
    tol : float
        Convergence tolerance (see :func:`basis_pursuit_admm`).
    relaxation : float
        Over-relaxation parameter in [1, 2).
    penalty : float
        Initial ADMM penalty.
    check_every : int
        Iterations between yielded states.

    Yields
    ------
    AdmmState
        The state at each check point.
    """
    admm = BatchedAdmm(a, y, nonnegative, relaxation, penalty, tol)
    while admm.n_iter < max_iter:
        yield admm.advance(min(check_every, max_iter - admm.n_iter))


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


@dataclass(frozen=True)
class RecoveryVerdict:
    """Whether basis pursuit recovers known codes, decided as early as the iterates allow.

    Attributes
    ----------
    recovered : (batch, P) torch.Tensor
        Boolean verdict.
    decided : (batch, P) torch.Tensor
        Boolean, False where the verdict fell back on the final error after ``max_iter``.
    certified : (batch, P) torch.Tensor
        Boolean, True where an exact certificate (not convergence) settled the verdict.
    error : (batch, P) torch.Tensor
        Relative error of the solution at the decision (0 where success is certified: the solution is
        ``x_true``).
    n_iter : int
        Iterations run by the slowest problem.
    """

    recovered: torch.Tensor
    decided: torch.Tensor
    certified: torch.Tensor
    error: torch.Tensor
    n_iter: int


def recovery_verdicts(
    a: torch.Tensor,
    x_true: torch.Tensor,
    nonnegative: bool = False,
    success_tol: float = 1e-3,
    max_iter: int = 3000,
    check_every: int = 10,
    first_certificate: int = 20,
) -> RecoveryVerdict:
    """Does basis pursuit return ``x_true`` from ``y = A x_true``? One verdict per problem.

    ADMM runs on the whole batch; a problem is decided, and dropped from the batch once its whole
    column is, as soon as one of these holds:

    - *success, certified*: a dual certificate (:class:`~superposition.science.certificates.DualCertificates`)
      built from the ADMM dual proves ``x_true`` the unique minimiser (checked in float64 after
      ``first_certificate`` iterations and then each time the iteration count has doubled);
    - *failure, certified*: a feasible point beats ``x_true``'s objective
      (:func:`~superposition.science.certificates.better_feasible_point`, in float64). For signed codes the
      candidate is the projected iterate, tried as soon as its objective is below ``x_true``'s; for
      nonnegative codes it is the sparse iterate, tried on the success-certificate schedule;
    - *success* or *failure* by convergence: ADMM has converged (tolerance 1e-6) and the sparse
      iterate lies within ``success_tol`` (relative l2) of ``x_true``, or not.

    Problems still undecided after ``max_iter`` get the verdict ``error < success_tol`` and
    ``decided = False``.

    Parameters
    ----------
    a : (batch, M, N) torch.Tensor
        Measurement matrices.
    x_true : (batch, N, P) torch.Tensor
        Known sparse codes; ``y = a @ x_true``.
    nonnegative : bool
        Nonnegative codes (``x >= 0`` constraint) or signed.
    success_tol : float
        Relative l2 error below which a solution counts as recovery.
    max_iter : int
        Iterations at most.
    check_every : int
        Iterations between checks.
    first_certificate : int
        Iteration of the first success-certificate check.

    Returns
    -------
    RecoveryVerdict
        One verdict per problem.
    """
    y = a @ x_true
    a64, x64 = a.double(), x_true.double()
    y64 = a64 @ x64
    certificates = DualCertificates(a64, x64, nonnegative)
    objective_true = x_true.abs().sum(dim=1)  # (batch, P)
    recovered = torch.zeros(objective_true.shape, dtype=torch.bool, device=a.device)
    decided = torch.zeros_like(recovered)
    certified = torch.zeros_like(recovered)
    error = torch.full(objective_true.shape, float("nan"), dtype=a.dtype, device=a.device)
    admm = BatchedAdmm(a, y, nonnegative)
    columns = torch.arange(x_true.shape[2], device=a.device)  # the columns still in the batch
    final_error, next_certificate = error.clone(), first_certificate
    while admm.n_iter < max_iter and columns.numel():
        state = admm.advance(min(check_every, max_iter - admm.n_iter))
        target = x_true[:, :, columns]
        open_ = ~decided[:, columns]
        err = relative_error(state.z, target)
        final_error[:, columns] = err
        # failure: a point with a smaller objective than x_true, made exactly feasible in float64.
        # Signed codes: the projected iterate, as soon as it looks better. Nonnegative codes: the
        # sparse iterate, on the certificate schedule (the projected one is never nonnegative).
        certify_now = state.n_iter >= next_certificate
        if certify_now:
            next_certificate = 2 * state.n_iter
        if nonnegative:
            candidate = open_ & (state.z.sum(dim=1) < objective_true[:, columns]) if certify_now else None
            point = state.z
        else:
            candidate = open_ & (state.x.abs().sum(dim=1) < objective_true[:, columns])
            point = state.x
        better = torch.zeros_like(open_)
        if candidate is not None and bool(candidate.any()):
            rows, cols = torch.nonzero(candidate, as_tuple=True)
            orig = columns[cols]
            better[rows, cols] = better_feasible_point(a64[rows], y64[rows, :, orig], x64[rows, :, orig], point[rows, :, cols].double(), nonnegative)
        proven = torch.zeros_like(open_)
        if certify_now:
            duals = admm.project.pinv_t @ (state.rho * state.u)  # (batch, M, P_active)
            proven = certificates.holds(duals.double(), columns) & open_ & ~better
        new_fail = open_ & ~proven & (better | (state.converged & (err >= success_tol)))
        new_success = open_ & (proven | (~new_fail & state.converged & (err < success_tol)))
        view = (slice(None), columns)
        recovered[view] = recovered[view] | new_success
        certified[view] = certified[view] | (new_success & proven) | (new_fail & better)
        error[view] = torch.where(proven, 0.0, torch.where(new_fail | new_success, err, error[view]))
        decided[view] = decided[view] | new_fail | new_success
        keep = ~decided[:, columns].all(dim=0)
        if not bool(keep.all()):
            admm.keep_columns(torch.nonzero(keep)[:, 0])
            columns = columns[keep]
    undecided = ~decided
    recovered = torch.where(undecided, final_error < success_tol, recovered)
    error = torch.where(undecided, final_error, error)
    return RecoveryVerdict(recovered=recovered, decided=decided, certified=certified, error=error, n_iter=admm.n_iter)


def sample_sparse_codes(
    n_features: int,
    n_nonzero: torch.Tensor,
    n_trials: int,
    nonnegative: bool,
    generator: torch.Generator,
    dtype: torch.dtype = torch.float64,
) -> torch.Tensor:
    """Random sparse codes with a given number of non-zeros per column.

    Each column has a uniformly random support of size ``n_nonzero[p]`` and standard-normal values
    (their absolute values when ``nonnegative``). Basis pursuit succeeds or fails depending only on
    the support and the signs, not on the magnitudes.

    Parameters
    ----------
    n_features : int
        Code length N.
    n_nonzero : (P,) torch.Tensor
        Integer support size of each column.
    n_trials : int
        Number of codes per column.
    nonnegative : bool
        Take absolute values.
    generator : torch.Generator
        Random stream of the draws.
    dtype : torch.dtype
        Precision of the codes.

    Returns
    -------
    (n_trials, n_features, P) torch.Tensor
        The codes.
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
    """Gaussian measurement matrices with ``N(0, 1/M)`` entries.

    Parameters
    ----------
    n_measurements : int
        Rows M.
    n_features : int
        Columns N.
    n_trials : int
        Number of matrices.
    generator : torch.Generator
        Random stream of the draws.
    dtype : torch.dtype
        Precision of the matrices.

    Returns
    -------
    (n_trials, M, N) torch.Tensor
        The matrices.
    """
    a = torch.randn((n_trials, n_measurements, n_features), generator=generator, dtype=dtype)
    return a / np.sqrt(n_measurements)


def relative_error(x_hat: torch.Tensor, x_true: torch.Tensor) -> torch.Tensor:
    """``||x_hat - x_true|| / ||x_true||`` per column.

    Parameters
    ----------
    x_hat : (..., N, P) torch.Tensor
        Estimates.
    x_true : (..., N, P) torch.Tensor
        True codes.

    Returns
    -------
    (..., P) torch.Tensor
        Relative l2 errors.
    """
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
    seeded by ``(seed, row, nonnegative)``, so every device and every caller sees the same problems.

    Parameters
    ----------
    n_features : int
        Code length N.
    delta : float
        Undersampling ``M / N`` of the row.
    rhos : (n_rho,) numpy.ndarray
        Sparsities ``K / M``.
    n_trials : int
        Matrices per row.
    nonnegative : bool
        Nonnegative or signed codes.
    seed : int
        Seed of the diagram.
    row : int
        Index of the row.
    dtype : torch.dtype
        Precision of the problems.

    Returns
    -------
    a : (n_trials, M, N) torch.Tensor
        Gaussian matrices.
    x0 : (n_trials, N, n_rho) torch.Tensor
        Sparse codes, one per ``rho`` sharing each trial's matrix.
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
    deltas : (n_delta,) numpy.ndarray
        ``M / N`` per row (after rounding ``M`` to an integer).
    rhos : (n_delta, n_rho) numpy.ndarray
        ``K / M`` per cell (after rounding ``K``).
    success : (n_delta, n_rho, n_trials) numpy.ndarray
        Boolean, recovery within ``success_tol``.
    error : (n_delta, n_rho, n_trials) numpy.ndarray
        Relative l2 error of the solution.
    decided : (n_delta, n_rho, n_trials) numpy.ndarray
        Boolean, False where the verdict fell back on the final error after ``max_iter`` (see
        :func:`recovery_verdicts`).
    n_features, nonnegative, success_tol : int, bool, float
        The settings.
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

    For each ``delta`` (one batched solve per grid row), ``n_trials`` Gaussian matrices are drawn and
    each is shared by one code per ``rho``, so the work is matrix-matrix products. Problems are drawn
    on the CPU from streams seeded by ``(seed, row, sign)`` and then moved to ``device``: the same
    problems on every device.

    Parameters
    ----------
    n_features : int
        Code length N.
    deltas : (n_delta,) numpy.ndarray
        Undersampling ratios, in (0, 1].
    rhos : (n_rho,) numpy.ndarray
        Sparsity ratios, in (0, 1].
    n_trials : int
        Matrices per row.
    nonnegative : bool
        Nonnegative or signed codes.
    seed : int
        Seed of the problems.
    device : torch.device or str
        Where the solver runs.
    dtype : torch.dtype
        Precision of the problems.
    success_tol : float
        Relative error below which a trial succeeds.
    max_iter : int
        ADMM iterations at most.

    Returns
    -------
    PhaseDiagram
        Success, error and verdict status per trial.
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

    For each row, fits ``P(success) = 1 / (1 + exp(-(b0 + b1 rho)))`` by Newton's method (all rows at
    once) and returns ``-b0 / b1``. Rows whose successes and failures do not overlap or cross inside
    the grid give the midpoint between the last success and the first failure; rows with no success
    or no failure give NaN.

    Parameters
    ----------
    rhos : (n_delta, n_rho) numpy.ndarray
        The rho of each cell.
    success : (n_delta, n_rho, n_trials) numpy.ndarray
        Boolean success of each trial.
    n_newton : int
        Newton iterations.

    Returns
    -------
    (n_delta,) numpy.ndarray
        The transition rho per row.
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


def transition_gap_draws(
    rhos: NDArray[np.float64], success: NDArray[np.bool_], exact: NDArray[np.float64], n_boot: int = 500, seed: int = 0
) -> tuple[float, NDArray[np.float64]]:
    """The largest distance over delta between the fitted 50% boundary and the exact one, and its bootstrap draws.

    Each bootstrap draw resamples the trials of every row with replacement (a trial keeps its
    successes at every rho, since its matrix is shared along the row), refits every row's
    boundary (:func:`fit_transition`, all draws in one batch) and takes the largest distance.

    Parameters
    ----------
    rhos : (n_delta, n_rho) numpy.ndarray
        The rho of each cell.
    success : (n_delta, n_rho, n_trials) numpy.ndarray
        Boolean success of each trial.
    exact : (n_delta,) numpy.ndarray
        The exact boundary rho*(delta) of each row.
    n_boot : int
        Bootstrap draws.
    seed : int
        Seed of the draws.

    Returns
    -------
    gap : float
        ``max |boundary - exact|`` over the rows (NaN rows ignored).
    draws : (n_boot,) numpy.ndarray
        The same statistic on each bootstrap draw (NaN where every row of a draw is NaN).
    """
    rhos, success, exact = np.asarray(rhos, dtype=np.float64), np.asarray(success, dtype=bool), np.asarray(exact, dtype=np.float64)
    n_delta, n_rho, n_trials = success.shape
    gap = float(np.nanmax(np.abs(fit_transition(rhos, success) - exact)))
    g = make_generator(seed, 98)
    draws = torch.randint(0, n_trials, (n_boot, n_delta, n_trials), generator=g).numpy()
    resampled = np.take_along_axis(success[None], draws[:, :, None, :].repeat(n_rho, axis=2), axis=3)  # (n_boot, n_delta, n_rho, n_trials)
    boundaries = fit_transition(np.tile(rhos, (n_boot, 1)), resampled.reshape(n_boot * n_delta, n_rho, n_trials)).reshape(n_boot, n_delta)
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a draw whose rows are all NaN gives NaN, dropped by the callers
        gaps = np.nanmax(np.abs(boundaries - exact[None]), axis=1)
    return gap, gaps


def transition_gap_estimate(
    rhos: NDArray[np.float64], success: NDArray[np.bool_], exact: NDArray[np.float64], n_boot: int = 500, seed: int = 0
) -> Estimate:
    """The largest boundary gap of :func:`transition_gap_draws` with its 95 % percentile interval.

    Parameters
    ----------
    rhos : (n_delta, n_rho) numpy.ndarray
        The rho of each cell.
    success : (n_delta, n_rho, n_trials) numpy.ndarray
        Boolean success of each trial.
    exact : (n_delta,) numpy.ndarray
        The exact boundary rho*(delta) of each row.
    n_boot : int
        Bootstrap draws.
    seed : int
        Seed of the draws.

    Returns
    -------
    Estimate
        ``max |boundary - exact|`` over the rows with its 95 % percentile interval over trials.
    """
    n_delta, _, n_trials = np.shape(success)
    gap, gaps = transition_gap_draws(rhos, success, exact, n_boot, seed)
    return percentile_estimate(gap, gaps, n_trials, f"{n_trials} trials per cell, {n_delta} rows, bootstrap")


@dataclass(frozen=True)
class GapScaling:
    """How the largest boundary gap moves with the code length N (one diagram per N).

    Attributes
    ----------
    sizes : (n_sizes,) numpy.ndarray
        The code lengths N, increasing.
    gaps : (n_sizes,) numpy.ndarray
        The largest gap ``max_delta |boundary - rho*|`` at each N.
    draws : (n_sizes, n_boot) numpy.ndarray
        Bootstrap draws of each gap (independent problems and resamples per N).
    """

    sizes: NDArray[np.int64]
    gaps: NDArray[np.float64]
    draws: NDArray[np.float64]

    def change(self) -> Estimate:
        """The gap at the largest N minus the gap at the smallest N, with a percentile interval.

        The draws at the two sizes are independent, so their differences, paired by index, are
        draws of the difference.
        """
        value = float(self.gaps[-1] - self.gaps[0])
        draws = self.draws[-1] - self.draws[0]
        over = f"bootstrap over trials at N = {int(self.sizes[0])} and N = {int(self.sizes[-1])}"
        return percentile_estimate(value, draws[np.isfinite(draws)], self.draws.shape[1], over)

    def scaled_gap_max(self) -> Estimate:
        """The largest gap in units of the finite-size scale, ``max_N gap(N) sqrt(N)``, with a percentile interval."""
        root = np.sqrt(self.sizes.astype(np.float64))
        draws = np.max(self.draws * root[:, None], axis=0)
        over = f"bootstrap over trials at each N in {[int(n) for n in self.sizes]}"
        return percentile_estimate(float(np.max(self.gaps * root)), draws[np.isfinite(draws)], self.draws.shape[1], over)

    def slope(self) -> float:
        """Least-squares slope of log gap against log N (-1/2 for a gap that shrinks like the finite-size scale)."""
        return float(np.polyfit(np.log(self.sizes.astype(np.float64)), np.log(self.gaps), 1)[0])


def gap_scaling(diagrams: Sequence[PhaseDiagram], n_boot: int = 500, seed: int = 0) -> GapScaling:
    """The largest gap of each diagram's boundary to the exact l1 transition, and its bootstrap draws, ordered by N.

    The exact boundary is :func:`superposition.science.theory.l1_phase_transition` for the
    diagrams' sign.

    Parameters
    ----------
    diagrams : sequence of PhaseDiagram
        One diagram per code length N, all of one sign.
    n_boot : int
        Bootstrap draws per diagram.
    seed : int
        Seed of the draws.

    Returns
    -------
    GapScaling
        Sizes, gaps and draws in increasing N.
    """
    ordered = sorted(diagrams, key=lambda d: d.n_features)
    if len({d.nonnegative for d in ordered}) != 1:
        raise ValueError("the diagrams of a gap scaling must all be signed or all nonnegative")
    results = [transition_gap_draws(d.rhos, d.success, l1_phase_transition(d.deltas, signed=not d.nonnegative), n_boot, seed) for d in ordered]
    return GapScaling(
        sizes=np.array([d.n_features for d in ordered], dtype=np.int64),
        gaps=np.array([gap for gap, _ in results]),
        draws=np.stack([draws for _, draws in results]),
    )
