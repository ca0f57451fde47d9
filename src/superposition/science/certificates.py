"""Exact optimality certificates for basis pursuit with a known sparse code.

Whether basis pursuit recovers a code ``x0`` from ``y = A x0`` is a yes/no question that does not
need the solver to converge: one certificate settles it either way.

- **Success** (the dual certificate; Fuchs 2004, Tropp 2006): let ``S`` be the support of ``x0``
  and ``s`` its signs. If ``A_S`` has full column rank and some ``w`` satisfies ``A_S' w = s`` and
  ``|a_i' w| < 1`` for every column ``a_i`` off ``S``, then ``x0`` is the unique minimiser of
  ``||x||_1`` subject to ``A x = y``. For nonnegative codes the conditions are ``A_S' w = 1`` and
  ``a_i' w < 1`` off ``S`` (the dual of ``min 1'x`` subject to ``A x = y, x >= 0``).
- **Failure**: a feasible point with a smaller objective than ``x0`` (by a relative margin that
  round-off cannot produce).

The candidates come from an iterative solver (the scaled ADMM dual for ``w``, the sparse iterate
for the better point); the checks themselves are exact up to float64 round-off, so a loosely
converged iterate can already settle a problem. All arrays here are float64.
"""

from __future__ import annotations

import torch

CERTIFICATE_MARGIN = 1e-9
"""How far below 1 the off-support dual correlations must stay for a success certificate."""

OBJECTIVE_MARGIN = 1e-6
"""The relative objective gain a better point must show for a failure certificate. The point is
feasible only up to round-off (``FEASIBILITY_TOL``), and near ``K = M`` the dual solution is large
enough to turn that round-off into gains of order 1e-9, so the margin sits well above them."""

FEASIBILITY_TOL = 1e-11
"""Largest ``||A x - y|| / ||y||`` accepted for a better point."""


class DualCertificates:
    """Success certificates for a batch of known codes, prepared once and checked many times.

    ``a``: (batch, M, N) float64; ``x0``: (batch, N, P) float64, column ``p`` of batch ``b`` being
    one code with matrix ``a[b]``. Problems are grouped by support size ``K`` (one batched QR of
    ``A_S`` per group); problems with ``K >= M`` get no certificate (they cannot have a strict one).
    """

    def __init__(self, a: torch.Tensor, x0: torch.Tensor, nonnegative: bool) -> None:
        self.a, self.nonnegative = a, nonnegative
        batch, m, n = a.shape
        support = x0 != 0  # (batch, N, P)
        sizes = support.sum(dim=1)  # (batch, P)
        self.groups = []
        for k in sorted(set(sizes.flatten().tolist())):
            if k == 0 or k >= m:
                continue
            rows, cols = torch.nonzero(sizes == k, as_tuple=True)
            mask = support[rows, :, cols]  # (n_k, N)
            index = mask.to(torch.int8).argsort(dim=1, descending=True, stable=True)[:, :k]  # support indices
            a_rows = a[rows]  # (n_k, M, N)
            a_s = torch.gather(a_rows, 2, index[:, None, :].expand(-1, m, -1))  # (n_k, M, k)
            signs = torch.ones_like(index, dtype=a.dtype) if nonnegative else torch.sign(torch.gather(x0[rows, :, cols], 1, index))
            q, r = torch.linalg.qr(a_s)  # q: (n_k, M, k)
            full_rank = torch.diagonal(r, dim1=-2, dim2=-1).abs().amin(dim=-1) > 1e-10 * r.abs().amax(dim=(-2, -1))
            # least-norm w with A_S' w = s:  w = Q R'^{-1} s
            w0 = q @ torch.linalg.solve_triangular(r.transpose(-1, -2), signs[:, :, None], upper=False)
            self.groups.append((rows, cols, q, w0[..., 0], mask, full_rank))

    def holds(self, w: torch.Tensor, columns: torch.Tensor) -> torch.Tensor:
        """Which problems have a success certificate near the candidate duals ``w``.

        Each candidate is moved to the nearest ``w`` with ``A_S' w = s`` and the strict inequalities are
        checked.

        Parameters
        ----------
        w : (batch, M, P_active) torch.Tensor
            Candidate duals for the columns ``columns`` of ``x0``.
        columns : (P_active,) torch.Tensor
            Indices of those columns among the columns of ``x0``.

        Returns
        -------
        (batch, P_active) torch.Tensor
            Boolean, certificate holds.
        """
        batch, _, n_active = w.shape
        position = torch.full((int(columns.max()) + 1 if columns.numel() else 1,), -1, dtype=torch.long, device=w.device)
        position[columns] = torch.arange(n_active, device=w.device)
        out = torch.zeros((batch, n_active), dtype=torch.bool, device=w.device)
        for rows, cols, q, w0, mask, full_rank in self.groups:
            keep = cols < position.numel()
            pos = torch.where(keep, position[cols.clamp(max=position.numel() - 1)], -1)
            active = pos >= 0
            if not bool(active.any()):
                continue
            r, p = rows[active], pos[active]
            qa = q[active]
            cand = w[r, :, p]  # (n, M)
            # project the candidate onto {w : A_S' w = s}
            corrected = w0[active] + cand - (qa @ (qa.transpose(-1, -2) @ cand[:, :, None]))[..., 0]
            corr = (self.a[r].transpose(-1, -2) @ corrected[:, :, None])[..., 0]  # (n, N)
            if not self.nonnegative:
                corr = corr.abs()
            off_support = torch.where(mask[active], torch.full_like(corr, -torch.inf), corr)
            out[r, p] = (off_support.amax(dim=1) < 1.0 - CERTIFICATE_MARGIN) & full_rank[active]
        return out


def better_feasible_point(a: torch.Tensor, y: torch.Tensor, x0: torch.Tensor, x: torch.Tensor, nonnegative: bool) -> torch.Tensor:
    """Failure certificates from candidate points ``x`` near the feasible set.

    The candidate is made exactly feasible by the least-norm correction supported on
    ``supp(x0) ∪ supp(x)`` (so a nonnegative candidate stays nonnegative off ``supp(x0)`` unless the
    correction is large), then it certifies failure if it satisfies ``A x = y`` (up to
    ``FEASIBILITY_TOL``), is nonnegative off ``supp(x0)`` for nonnegative codes, and beats ``x0``'s
    objective by ``OBJECTIVE_MARGIN`` relative (for nonnegative codes a short step from ``x0``
    towards it is then a better feasible point, so the objective compared is ``sum(point)``, negative
    entries on ``supp(x0)`` included). All float64, one problem per row.

    Parameters
    ----------
    a : (n, M, N) torch.Tensor
        Measurement matrices.
    y : (n, M) torch.Tensor
        Measurements ``A x0``.
    x0 : (n, N) torch.Tensor
        Known codes.
    x : (n, N) torch.Tensor
        Candidate points.
    nonnegative : bool
        Nonnegative or signed codes.

    Returns
    -------
    (n,) torch.Tensor
        Boolean, failure certified.
    """
    free = (x0 != 0) | (x != 0)  # (n, N)
    residual = (a @ (x - x0)[:, :, None])[..., 0]  # A x - y, computed from A x0 = y
    a_free = a * free[:, None, :]
    gram = a_free @ a.transpose(-1, -2)  # (n, M, M)
    # a singular Gram (fewer free columns than rows) gives a point that fails the residual check
    jitter = 1e-10 * torch.diagonal(gram, dim1=-2, dim2=-1).mean(dim=-1)
    gram = gram + jitter[:, None, None] * torch.eye(gram.shape[-1], dtype=a.dtype, device=a.device)
    chol = torch.nan_to_num(torch.linalg.cholesky_ex(gram)[0])
    point = x - (a_free.transpose(-1, -2) @ torch.cholesky_solve(residual[:, :, None], chol))[..., 0]
    # one step of iterative refinement: the Gram route squares the condition number of A_free,
    # which leaves residuals of order 1e-11, at the feasibility tolerance, without it
    residual = (a @ point[:, :, None])[..., 0] - y
    point = point - (a_free.transpose(-1, -2) @ torch.cholesky_solve(residual[:, :, None], chol))[..., 0]
    feasible = torch.linalg.vector_norm((a @ point[:, :, None])[..., 0] - y, dim=1) <= FEASIBILITY_TOL * torch.linalg.vector_norm(y, dim=1)
    if nonnegative:
        # only off supp(x0) must the point be nonnegative: x0 + t (point - x0) is then feasible,
        # nonnegative for a small t > 0, and better than x0 because the objective is linear
        feasible &= torch.where(x0 != 0, 0.0, point).amin(dim=1) >= 0.0
        objective, objective_x0 = point.sum(dim=1), x0.sum(dim=1)
    else:
        objective, objective_x0 = point.abs().sum(dim=1), x0.abs().sum(dim=1)
    return feasible & (objective < objective_x0 * (1.0 - OBJECTIVE_MARGIN))
