"""How far a registered number may move: exact, discrete and trained numbers, and the rule for each.

Every entry of the registry (``book/claims.yaml``) says which kind of number it is:

``exact``
    computed from fixed data (shipped files, pretrained weights, seeded random draws) by
    arithmetic whose result moves only in the last bits when the CPU, its vector kernels or the
    thread count change: a pretrained network's activations, a closed form, a least-squares fit,
    a bootstrap interval over fixed values. Its tolerance is the float32 rule
    (:func:`exact_tolerance`): a thousand float32 ulps relative (``EXACT_RTOL``) or ``EXACT_ATOL``
    absolute; integers, strings and booleans compare exactly.
``discrete``
    an exact computation whose result counts outcomes of comparisons: an accuracy over argmax
    or odd-one-out choices, a success rate of certified verdicts, a boundary read from success
    rates, a permutation or rank-test p-value, or a value recorded rounded. A near-tie that the
    last bits decide can flip one outcome (one step), so its tolerance is stated in the entry as
    a few outcomes' (or rounding steps') worth.
``trained``
    it comes out of an iterative optimisation whose path depends on rounding: the training of a
    network, a sparse autoencoder, an encoder. After thousands of steps the last-bit differences
    between two CPUs (or a CPU and a GPU) have grown into a different draw of the training, so
    the number is one draw from the training's variation. Its tolerance comes from its spread
    over independent replicates, by :func:`trained_tolerance`.

The rule for a trained number
-----------------------------
The notebook runs ``n`` times at its default parameters: once as published (the registered
value ``x``), and ``n - 1`` replicates in which every seed parameter (``seed`` and every
``*_seed``) is shifted by ``SEED_STEP * r`` for replicate ``r`` (:func:`replicate_overrides`).
``s`` is the sample standard deviation (``ddof = 1``) of the ``n`` values, element by element for
a list. A run on another machine gives a new draw ``x'``, and the tolerance is

    atol = k_n * s,   with k_n such that  P(|x' - x| > k_n * s) = ALPHA = 1e-4

for independent normal draws, ``x`` being one of the ``n`` runs that give ``s``; rounded up to two
significant figures and never below :data:`MIN_ATOL`. ``k_n`` (:func:`rule_factor`) comes from
the exact distribution of ``(x' - x) / s`` (:func:`exceedance_probability`, a two-dimensional
integral): given the sum of squares ``S^2 ~ chi^2_{n-1}``, the registered run's residual is
``S sqrt((n-1)/n)`` times the first coordinate of a uniform direction in ``n - 1`` dimensions,
and ``x' - mean`` is an independent ``N(0, 1 + 1/n)``. It is 12.27 for ``n = 6``, 8.73 for
``n = 8``, 7.43 for ``n = 10`` and tends to ``sqrt(2) * 3.89 = 5.50``; the heavy tail at small
``n`` is the chance that the spread happens to come out small. A union bound over the registry's
trained values bounds the chance that a correct run anywhere fails the suite
(:func:`suite_false_alarm_bound`). Where a notebook has one seed for its data and its training,
the replicates also redraw the data, so ``s`` bounds the training-only variation from above.

A claim's verdict reads its interval widened by these tolerances, so that no correct rerun can
turn it around (:mod:`superposition.book.verdicts`).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from .params import is_seed_parameter

KINDS = ("exact", "discrete", "trained")
EXACT_RTOL = 1e-4
"""Relative tolerance of an exact number: about a thousand float32 ulps (eps 6e-8), for rounding
grown through a deep network and a statistic."""
EXACT_ATOL = 1e-6
"""Absolute tolerance of an exact number near zero."""
SEED_STEP = 1000
"""Replicate ``r`` runs with every seed parameter shifted by ``SEED_STEP * r``."""
ALPHA = 1e-4
"""Chance per trained number that a correct new draw leaves its tolerance."""
MIN_REPLICATES = 3
"""The fewest runs (the published one included) a trained tolerance may rest on."""
MIN_ATOL = 1e-6
"""The smallest tolerance of a trained number (one whose replicates all agree): float32 rounding of an O(1) value."""


def replicate_overrides(defaults: dict[str, Any], replicate: int) -> dict[str, int]:
    """The parameter values of replicate ``replicate``: every seed default plus ``SEED_STEP * replicate``.

    Replicate 0 is the published run.

    Parameters
    ----------
    defaults : dict of str to Any
        Parameter name -> default value; the seed parameters need integer defaults.
    replicate : int
        Replicate index, ``>= 0``.

    Returns
    -------
    dict of str to int
        Seed parameter values.
    """
    if replicate < 0:
        raise ValueError(f"replicate must be >= 0, got {replicate}")
    seeds = {name: value for name, value in defaults.items() if is_seed_parameter(name)}
    if not seeds:
        raise ValueError("the notebook declares no seed parameter (seed or *_seed), so it has no replicates")
    bad = [name for name, value in seeds.items() if not isinstance(value, int) or isinstance(value, bool)]
    if bad:
        raise ValueError(f"seed parameters must have integer defaults: {bad}")
    return {name: value + SEED_STEP * replicate for name, value in seeds.items()}


def exact_tolerance(expected: Any) -> tuple[float, float]:
    """``(atol, rtol)`` of an exact number.

    None for strings and booleans, equality (0.5) for integers (every element of a list), the float32
    rule otherwise.

    Parameters
    ----------
    expected : Any
        The registered value (a number, string, boolean or list).

    Returns
    -------
    atol, rtol : float
        The tolerances.
    """
    items = expected if isinstance(expected, list) else [expected]
    if all(isinstance(v, bool | str) for v in items):
        return 0.0, 0.0
    if all(isinstance(v, int) and not isinstance(v, bool) or v is None for v in items):
        return 0.5, 0.0
    return EXACT_ATOL, EXACT_RTOL


RULE_FACTORS = {
    3: 115.471, 4: 31.353, 5: 17.143, 6: 12.271, 7: 9.993, 8: 8.73, 9: 7.95, 10: 7.433, 11: 7.07, 12: 6.806,
    13: 6.606, 14: 6.451, 15: 6.329, 16: 6.231, 17: 6.15, 18: 6.083, 19: 6.027, 20: 5.979,
}  # fmt: skip
"""``k_n`` for ``ALPHA`` by the number of runs, rounded up to three decimals (tested against
:func:`rule_factor_exact`)."""


def exceedance_probability(k: float, n_runs: int) -> float:
    """``P(|x' - x_1| > k * s)`` for independent standard normal ``x_1, ..., x_n, x'``.

    ``s`` is the sample standard deviation of ``x_1, ..., x_n`` (the derivation is in the module's
    text).

    Parameters
    ----------
    k : float
        Tolerance in units of ``s``.
    n_runs : int
        Number of runs ``n``.

    Returns
    -------
    float
        The probability.
    """
    from scipy import integrate, special, stats

    d = n_runs - 1
    share, spread_of_new = math.sqrt(d / n_runs), math.sqrt(1.0 + 1.0 / n_runs)
    scaled = k / math.sqrt(d)
    norm = math.sqrt(math.pi) * math.exp(special.gammaln((d - 1) / 2) - special.gammaln(d / 2))
    chi = stats.chi(d)

    def integrand(theta: float, radius: float) -> float:
        direction = math.sin(theta) ** (d - 2) / norm
        return chi.pdf(radius) * direction * special.ndtr(-radius * (share * math.cos(theta) + scaled) / spread_of_new)

    with warnings.catch_warnings():  # quadpack doubts itself near the kink of sin^(d-2) at small d; the tests check the value
        warnings.simplefilter("ignore", integrate.IntegrationWarning)
        value, _ = integrate.dblquad(integrand, 0.0, chi.ppf(1 - 1e-12), 0.0, math.pi, epsabs=1e-13, epsrel=1e-8)
    return 2.0 * value  # the two tails are mirror images


def rule_factor_exact(n_runs: int, alpha: float = ALPHA) -> float:
    """``k_n`` solved from :func:`exceedance_probability` (a few seconds).

    Parameters
    ----------
    n_runs : int
        Number of runs, at least ``MIN_REPLICATES``.
    alpha : float
        Exceedance probability aimed for.

    Returns
    -------
    float
        ``k_n``.
    """
    from scipy import optimize

    if n_runs < MIN_REPLICATES:
        raise ValueError(f"a trained tolerance needs at least {MIN_REPLICATES} runs, got {n_runs}")
    return float(optimize.brentq(lambda k: exceedance_probability(k, n_runs) - alpha, 1.0, 5000.0, xtol=1e-7))


def rule_factor(n_runs: int) -> float:
    """``k_n``: the tolerance of a trained number in units of its replicate spread, for ``ALPHA``.

    Tabulated values where known, else :func:`rule_factor_exact` rounded up to 3 decimals.

    Parameters
    ----------
    n_runs : int
        Number of runs, at least ``MIN_REPLICATES``.

    Returns
    -------
    float
        ``k_n``.
    """
    if n_runs < MIN_REPLICATES:
        raise ValueError(f"a trained tolerance needs at least {MIN_REPLICATES} runs, got {n_runs}")
    if n_runs in RULE_FACTORS:
        return RULE_FACTORS[n_runs]
    return math.ceil(rule_factor_exact(n_runs) * 1000) / 1000


def round_up(value: float, figures: int = 2) -> float:
    """``value`` rounded up to ``figures`` significant figures (0 stays 0).

    Parameters
    ----------
    value : float
        The value (non-positive values give 0).
    figures : int
        Significant figures.

    Returns
    -------
    float
        The rounded value.
    """
    if value <= 0.0:
        return 0.0
    exponent = math.floor(math.log10(value)) - figures + 1
    scaled = value / 10.0**exponent
    return float(round(math.ceil(scaled - 1e-9) * 10.0**exponent, max(0, -exponent)))


def spread(values: Sequence[Any]) -> float | list[float | None] | None:
    """The sample standard deviation (``ddof = 1``) of one number over replicate runs.

    Parameters
    ----------
    values : (n_runs,) sequence
        One recorded value per run (at least two): all numbers, or all lists of the same length
        (then the spread is per element; an element that is null in any run has spread None).

    Returns
    -------
    float, list of (float or None), or None
        The spread; None for strings and booleans, which have no spread.
    """
    if len(values) < 2:
        raise ValueError("a spread needs at least two runs")
    if all(isinstance(v, list) for v in values):
        lengths = {len(v) for v in values}
        if len(lengths) != 1:
            raise ValueError(f"list values of different lengths over the replicates: {sorted(lengths)}")
        return [spread([v[i] for v in values]) for i in range(lengths.pop())]  # type: ignore[misc]
    if any(v is None for v in values):
        return None
    if any(isinstance(v, bool | str | list) for v in values):
        return None
    return float(np.std(np.asarray(values, dtype=np.float64), ddof=1))


def trained_tolerance(spread_value: float | list[float | None] | None, n_runs: int) -> float | list[float] | None:
    """The tolerance of a trained number from its replicate spread (see the module's rule).

    Parameters
    ----------
    spread_value : float, list of (float or None), or None
        The spread (:func:`spread`).
    n_runs : int
        Number of runs.

    Returns
    -------
    float, list of float, or None
        The tolerance, at least ``MIN_ATOL``; None when there is no spread.
    """
    if spread_value is None:
        return None
    if isinstance(spread_value, list):
        return [trained_tolerance(s, n_runs) if s is not None else MIN_ATOL for s in spread_value]  # type: ignore[misc]
    return max(MIN_ATOL, round_up(rule_factor(n_runs) * spread_value))


def suite_false_alarm_bound(n_trained_numbers: int, alpha: float = ALPHA) -> float:
    """Union bound on the chance that some trained number of a correct run leaves its tolerance.

    Parameters
    ----------
    n_trained_numbers : int
        Trained numbers in the registry.
    alpha : float
        Exceedance probability of each.

    Returns
    -------
    float
        The bound, at most 1.
    """
    return min(1.0, n_trained_numbers * alpha)


def band(expected: float, atol: float, rtol: float = 0.0) -> tuple[float, float]:
    """The interval of values that match ``expected`` (``math.isclose`` semantics).

    Parameters
    ----------
    expected : float
        The registered value.
    atol : float
        Absolute tolerance.
    rtol : float
        Relative tolerance.

    Returns
    -------
    low, high : float
        Bounds of the interval.
    """
    width = max(atol, rtol * abs(expected))
    return expected - width, expected + width
