"""Closed forms of compressed sensing: the exact l1 phase transition and capacity rules.

Notation (Donoho & Tanner; Donoho, Maleki & Montanari):

- ``N``: number of features (ambient dimension), ``M``: number of measurements (neurons),
  ``K``: number of non-zero features;
- ``delta = M / N`` (undersampling), ``rho = K / M`` (sparsity per measurement).

For a Gaussian measurement matrix and large ``N``, l1 minimisation recovers every code of the
typical kind iff ``rho < rho*(delta)``. ``kappa = 2`` for signed codes (cross-polytope) and
``kappa = 1`` for nonnegative codes (simplex).

Two independent computations of ``rho*`` are given and must agree:

- :func:`l1_transition_max_form`: ``rho*(delta) = max_{z >= 0} [1 - (kappa/delta) g(z)] /
  [1 + z^2 - kappa g(z)]``;
- :func:`l1_transition_minimax_form`: the minimax MSE of soft thresholding,
  ``M_kappa(eps) = min_{tau >= 0} eps (1 + tau^2) + (1 - eps) kappa g(tau)``, traced by
  ``delta = M_kappa(eps)``, ``rho = eps / delta``;

with ``g(z) = (1 + z^2) Phi(-z) - z phi(z)``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import ndtr

_GOLDEN = (np.sqrt(5.0) - 1.0) / 2.0
_Z_MAX = 12.0  # the optimal threshold stays below 5 for delta >= 1e-6


def _kappa(signed: bool) -> float:
    return 2.0 if signed else 1.0


def gaussian_tail_term(z: ArrayLike) -> NDArray[np.float64]:
    """``g(z) = (1 + z^2) Phi(-z) - z phi(z)``, elementwise.

    ``g(z) = E[(|X| - z)_+^2]`` for a standard normal ``X`` halved: the soft-thresholding risk at a
    zero coordinate per side.

    Parameters
    ----------
    z : (...) array_like
        Thresholds, any shape.

    Returns
    -------
    (...) numpy.ndarray
        ``g(z)``, float64, same shape.
    """
    z = np.asarray(z, dtype=np.float64)
    phi = np.exp(-0.5 * z**2) / np.sqrt(2.0 * np.pi)
    return (1.0 + z**2) * ndtr(-z) - z * phi


def golden_section_minimize(
    f: Callable[[NDArray[np.float64]], NDArray[np.float64]],
    lo: float,
    hi: float,
    shape: tuple[int, ...],
    n_iter: int = 120,
) -> NDArray[np.float64]:
    """Minimise many unimodal scalar functions at once by golden-section search.

    120 iterations shrink the bracket by 1e-25.

    Parameters
    ----------
    f : callable
        Maps an array of arguments of ``shape`` (one per problem) to values of the same shape.
    lo, hi : float
        The bracket searched, the same for every problem.
    shape : tuple of int
        Shape of the batch of problems.
    n_iter : int
        Number of iterations.

    Returns
    -------
    (*shape) numpy.ndarray
        The minimising arguments.
    """
    a = np.full(shape, lo, dtype=np.float64)
    b = np.full(shape, hi, dtype=np.float64)
    c = b - _GOLDEN * (b - a)
    d = a + _GOLDEN * (b - a)
    fc, fd = f(c), f(d)
    for _ in range(n_iter):
        left = fc < fd  # the minimum lies in [a, d]
        b = np.where(left, d, b)
        a = np.where(left, a, c)
        c = b - _GOLDEN * (b - a)
        d = a + _GOLDEN * (b - a)
        fc, fd = f(c), f(d)
    return 0.5 * (a + b)


def _check_delta(delta: ArrayLike) -> NDArray[np.float64]:
    delta = np.asarray(delta, dtype=np.float64)
    if np.any(~np.isfinite(delta)) or np.any(delta <= 0.0) or np.any(delta > 1.0):
        raise ValueError("delta = M/N must lie in (0, 1]")
    return delta


def l1_transition_max_form(delta: ArrayLike, signed: bool = True) -> NDArray[np.float64]:
    """The exact asymptotic l1 phase transition ``rho*(delta)`` (DMM max form).

    Parameters
    ----------
    delta : (...) array_like
        Undersampling ``M / N``, any shape, values in (0, 1].
    signed : bool
        Signed codes (``kappa = 2``) or nonnegative codes (``kappa = 1``).

    Returns
    -------
    (...) numpy.ndarray
        ``rho*``, same shape as ``delta``.
    """
    delta = _check_delta(delta)
    kappa = _kappa(signed)

    def neg_ratio(z: NDArray[np.float64]) -> NDArray[np.float64]:
        g = gaussian_tail_term(z)
        return -(1.0 - kappa / delta * g) / (1.0 + z**2 - kappa * g)

    z_star = golden_section_minimize(neg_ratio, 0.0, _Z_MAX, delta.shape)
    return np.clip(-neg_ratio(z_star), 0.0, 1.0)


def soft_threshold_minimax_mse(eps: ArrayLike, signed: bool = True) -> NDArray[np.float64]:
    """Minimax MSE of soft thresholding over ``eps``-sparse signals, ``M_kappa(eps)``.

    Parameters
    ----------
    eps : (...) array_like
        Sparsity, any shape, values in [0, 1].
    signed : bool
        Signed codes (``kappa = 2``) or nonnegative codes (``kappa = 1``).

    Returns
    -------
    (...) numpy.ndarray
        The minimax MSE, same shape as ``eps``.
    """
    eps = np.asarray(eps, dtype=np.float64)
    kappa = _kappa(signed)

    def risk(tau: NDArray[np.float64]) -> NDArray[np.float64]:
        return eps * (1.0 + tau**2) + (1.0 - eps) * kappa * gaussian_tail_term(tau)

    tau_star = golden_section_minimize(risk, 0.0, _Z_MAX, eps.shape)
    return risk(tau_star)


def l1_transition_minimax_form(
    delta: ArrayLike, signed: bool = True, n_bisect: int = 60
) -> NDArray[np.float64]:
    """The same ``rho*(delta)`` from the minimax-MSE parametrisation.

    Solves ``M_kappa(eps) = delta`` for ``eps`` by bisection (``M_kappa`` increases from 0 to 1) and
    returns ``eps / delta``.

    Parameters
    ----------
    delta : (...) array_like
        Undersampling ``M / N``, any shape, values in (0, 1].
    signed : bool
        Signed codes (``kappa = 2``) or nonnegative codes (``kappa = 1``).
    n_bisect : int
        Bisection steps.

    Returns
    -------
    (...) numpy.ndarray
        ``rho*``, same shape as ``delta``, clipped to [0, 1].
    """
    delta = _check_delta(delta)
    lo = np.zeros_like(delta)
    hi = np.ones_like(delta)
    for _ in range(n_bisect):
        mid = 0.5 * (lo + hi)
        below = soft_threshold_minimax_mse(mid, signed) < delta
        lo = np.where(below, mid, lo)
        hi = np.where(below, hi, mid)
    return np.clip(0.5 * (lo + hi) / delta, 0.0, 1.0)


l1_phase_transition = l1_transition_max_form
"""The default computation of ``rho*(delta)``; see :func:`l1_transition_max_form`."""


def log_rule_rho(delta: ArrayLike, constant: float = 1.0) -> NDArray[np.float64]:
    """The rule ``M = c K log(N/K)`` drawn in the (delta, rho) plane.

    With ``x = K/N = rho delta`` the rule reads ``c x log(1/x) = delta``, independent of ``N``. The
    smaller root is taken (the rule is meant for ``K << N``). Where ``delta >= c/e`` the rule admits
    every ``K`` and ``rho = 1 / delta`` is clipped to 1.

    Parameters
    ----------
    delta : (...) array_like
        Undersampling ``M / N``, values in (0, 1].
    constant : float
        The constant ``c`` (positive).

    Returns
    -------
    (...) numpy.ndarray
        ``rho`` of the rule, shaped like ``delta``.
    """
    delta = _check_delta(delta)
    if constant <= 0:
        raise ValueError("constant must be positive")
    target = delta / constant
    lo = np.full_like(delta, 1e-300)
    hi = np.full_like(delta, np.exp(-1.0))
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        below = mid * np.log(1.0 / mid) < target
        lo = np.where(below, mid, lo)
        hi = np.where(below, hi, mid)
    x = 0.5 * (lo + hi)
    rho = np.where(target >= np.exp(-1.0), 1.0 / delta, x / delta)
    return np.clip(rho, 0.0, 1.0)


def log_rule_capacity(m: ArrayLike, n: ArrayLike, constant: float = 1.0) -> NDArray[np.float64]:
    """The largest ``K`` with ``c K log(n/K) <= m``: Paper B's compressed-sensing capacity rule.

    ``K`` is real-valued (not rounded). Where ``m >= c n / e`` every ``K`` satisfies the rule; the
    capacity is then clipped to ``m``, since no method recovers more than ``M`` active features from
    ``M`` measurements.

    Parameters
    ----------
    m : (...) array_like
        Measurements, broadcastable with ``n``.
    n : (...) array_like
        Features.
    constant : float
        The constant ``c`` (positive).

    Returns
    -------
    (...) numpy.ndarray
        Capacity ``K``, the broadcast shape of ``m`` and ``n``.
    """
    m = np.asarray(m, dtype=np.float64)
    n = np.asarray(n, dtype=np.float64)
    m, n = np.broadcast_arrays(m, n)
    rho = log_rule_rho(np.minimum(m / n, 1.0), constant)
    return rho * m


def l1_capacity(m: ArrayLike, n: ArrayLike, signed: bool = True) -> NDArray[np.float64]:
    """The largest ``K`` that l1 recovers asymptotically: ``K = M rho*(M/N)``.

    Parameters
    ----------
    m : (...) array_like
        Measurements, broadcastable with ``n``, ``m <= n``.
    n : (...) array_like
        Features.
    signed : bool
        Signed codes or nonnegative codes.

    Returns
    -------
    (...) numpy.ndarray
        Capacity ``K``, the broadcast shape of ``m`` and ``n``.
    """
    m = np.asarray(m, dtype=np.float64)
    n = np.asarray(n, dtype=np.float64)
    return m * l1_phase_transition(m / n, signed)
