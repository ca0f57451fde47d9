"""Intervals for a claim's number: the variation the claim is about, as an :class:`Estimate`.

A claim of the book is stated on one number (a change of alignment, a gap, an accuracy) and
judged on an interval around it that comes from the variation the claim is about: independently
trained replicates (:func:`mean_interval`, Student's t), objects, questions or units
(:func:`bootstrap_interval`, a percentile bootstrap), or none at all for a closed form
(:func:`exact_estimate`). Every function states what varied (``over``) and how many times
(``n``), which the book prints beside the interval.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from scipy import stats

from ..runtime import make_generator

LEVEL = 0.95
"""Coverage of every interval the book prints."""


@dataclass(frozen=True)
class Estimate:
    """A number with its interval.

    Attributes
    ----------
    value : float
        The point estimate (a mean over replicates, a statistic of the full sample, a closed form).
    low, high : float
        Bounds of the interval, ``low <= high``.
    n : int
        How many independent draws of what varied the interval rests on (1 for an exact number).
    over : str
        What varied, in words, e.g. ``"3 SAE replicates"`` or ``"200 objects, bootstrap"``.
    method : str
        How the interval was computed, e.g. ``"Student t, 95 %"``.
    """

    value: float
    low: float
    high: float
    n: int
    over: str
    method: str

    def __post_init__(self) -> None:
        if not (np.isfinite(self.value) and np.isfinite(self.low) and np.isfinite(self.high)):
            raise ValueError(f"an estimate needs finite numbers, got {self.value}, [{self.low}, {self.high}]")
        if self.low > self.high:
            raise ValueError(f"an interval needs low <= high, got [{self.low}, {self.high}]")

    @property
    def interval(self) -> list[float]:
        """``[low, high]``."""
        return [float(self.low), float(self.high)]

    def shifted(self, by: float) -> Estimate:
        """The same estimate with ``by`` added to the value and both bounds (a difference from a fixed number).

        Parameters
        ----------
        by : float
            The number added.

        Returns
        -------
        Estimate
            The shifted estimate.
        """
        return Estimate(self.value + by, self.low + by, self.high + by, self.n, self.over, self.method)


def mean_interval(values: np.ndarray, over: str, level: float = LEVEL) -> Estimate:
    """The mean of independent replicate values and its Student-t interval.

    Parameters
    ----------
    values : (n,) array_like
        One value per independent replicate (at least two).
    over : str
        What the replicates are, e.g. ``"3 SAE replicates"``.
    level : float
        Coverage of the interval.

    Returns
    -------
    Estimate
        ``mean ± t_{(1+level)/2, n-1} · sd / sqrt(n)``; with identical values the interval is the point.
    """
    x = np.asarray(values, dtype=np.float64).ravel()
    if x.size < 2:
        raise ValueError(f"an interval over replicates needs at least 2 values, got {x.size}")
    mean = float(x.mean())
    half = float(stats.t.ppf((1 + level) / 2, x.size - 1) * x.std(ddof=1) / np.sqrt(x.size))
    return Estimate(mean, mean - half, mean + half, int(x.size), over, f"Student t, {level:.0%}")


def replicate_estimate(values: np.ndarray, over: str, level: float = LEVEL) -> Estimate | float:
    """:func:`mean_interval` of two or more replicates; the single value itself when there is one.

    A run with one replicate (a smoke profile) still records its number, without an interval.

    Parameters
    ----------
    values : (n,) array_like
        One value per replicate.
    over : str
        What the replicates are.
    level : float
        Coverage of the interval.

    Returns
    -------
    Estimate or float
        The estimate, or the one value.
    """
    x = np.asarray(values, dtype=np.float64).ravel()
    return mean_interval(x, over, level) if x.size > 1 else float(x[0])


def percentile_bounds(draws: np.ndarray, level: float = LEVEL) -> tuple[float, float]:
    """The ``(1 - level) / 2`` and ``(1 + level) / 2`` quantiles of bootstrap draws.

    Parameters
    ----------
    draws : (n_boot,) array_like
        The statistic on each resample.
    level : float
        Coverage of the interval.

    Returns
    -------
    low, high : float
        Bounds of the percentile interval.
    """
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(np.asarray(draws, dtype=np.float64), [tail, 100 - tail])
    return float(low), float(high)


def percentile_estimate(value: float, draws: np.ndarray, n: int, over: str, level: float = LEVEL) -> Estimate:
    """An estimate whose interval is the percentile interval of bootstrap draws of it.

    Parameters
    ----------
    value : float
        The statistic on the full sample.
    draws : (n_boot,) array_like
        The statistic on each bootstrap resample.
    n : int
        Size of what was resampled (objects, questions, units).
    over : str
        What was resampled, e.g. ``"24 objects"``.
    level : float
        Coverage of the interval.

    Returns
    -------
    Estimate
        ``value`` with the ``(1 - level) / 2`` and ``(1 + level) / 2`` quantiles of ``draws``
        (widened to contain ``value``, which a skewed bootstrap can leave outside).
    """
    d = np.asarray(draws, dtype=np.float64).ravel()
    d = d[np.isfinite(d)]
    if d.size < 2:
        raise ValueError("a bootstrap interval needs at least 2 finite draws")
    low, high = percentile_bounds(d, level)
    value = float(value)
    return Estimate(value, float(min(low, value)), float(max(high, value)), int(n), over, f"percentile bootstrap ({d.size} draws), {level:.0%}")


def bootstrap_draws(
    n_samples: int, statistic: Callable[[np.ndarray], np.ndarray], n_boot: int = 2000, seed: int = 0, stream: int = 95
) -> np.ndarray:
    """The statistic on ``n_boot`` resamples (with replacement) of ``n_samples`` samples.

    Parameters
    ----------
    n_samples : int
        Number of samples (objects, questions, units) resampled.
    statistic : callable
        Maps a ``(n_boot, n_samples)`` int64 array of resampled indices to ``(n_boot,)`` values, so
        that all resamples are computed in one batch.
    n_boot : int
        Resamples.
    seed : int
        Seed of the resamples.
    stream : int
        Generator stream (:func:`superposition.runtime.make_generator`); a caller with its own
        stream keeps its own draws.

    Returns
    -------
    (n_boot,) numpy.ndarray
        The statistic on each resample.
    """
    if n_samples < 1:
        raise ValueError("a bootstrap needs at least one sample")
    g = make_generator(seed, stream)
    draws = torch.randint(0, n_samples, (n_boot, n_samples), generator=g).numpy()
    return np.asarray(statistic(draws), dtype=np.float64)


def bootstrap_interval(values: np.ndarray, over: str, n_boot: int = 2000, seed: int = 0, level: float = LEVEL) -> Estimate:
    """The mean of per-sample ``values`` and its percentile-bootstrap interval.

    Parameters
    ----------
    values : (n,) array_like
        One value per independent sample (object, question, unit).
    over : str
        What the samples are, e.g. ``"360 units"``.
    n_boot : int
        Resamples.
    seed : int
        Seed of the resamples.
    level : float
        Coverage of the interval.

    Returns
    -------
    Estimate
        The mean with its interval.
    """
    x = np.asarray(values, dtype=np.float64).ravel()
    draws = bootstrap_draws(x.size, lambda idx: x[idx].mean(axis=1), n_boot, seed)
    return percentile_estimate(float(x.mean()), draws, x.size, over, level)


def difference_interval(
    first: np.ndarray, second: np.ndarray, over: str, n_boot: int = 2000, seed: int = 0, level: float = LEVEL
) -> Estimate:
    """``mean(first) - mean(second)`` for two independent groups, with a two-sample percentile bootstrap.

    Each group is resampled with replacement on its own (the units of two bases, say).

    Parameters
    ----------
    first : (n_first,) array_like
        Per-sample values of the first group.
    second : (n_second,) array_like
        Per-sample values of the second group.
    over : str
        What the samples are, e.g. ``"120 SAE latents and 200 rotated units"``.
    n_boot : int
        Resamples.
    seed : int
        Seed of the resamples.
    level : float
        Coverage of the interval.

    Returns
    -------
    Estimate
        The difference of the means with its interval; ``n`` is the smaller group's size.
    """
    a, b = np.asarray(first, dtype=np.float64).ravel(), np.asarray(second, dtype=np.float64).ravel()
    draws_a = bootstrap_draws(a.size, lambda idx: a[idx].mean(axis=1), n_boot, seed, stream=96)
    draws_b = bootstrap_draws(b.size, lambda idx: b[idx].mean(axis=1), n_boot, seed, stream=97)
    return percentile_estimate(float(a.mean() - b.mean()), draws_a - draws_b, min(a.size, b.size), over, level)


def exact_estimate(value: float, over: str = "exact: a closed form, no sampling variation") -> Estimate:
    """A number with no sampling variation: its interval is the point.

    Parameters
    ----------
    value : float
        The number.
    over : str
        Why it does not vary.

    Returns
    -------
    Estimate
        ``[value, value]``, ``n = 1``.
    """
    return Estimate(float(value), float(value), float(value), 1, over, "exact")


def largest_abs_interval(errors: np.ndarray, standard_errors: np.ndarray, dof: int, over: str, level: float = LEVEL) -> Estimate:
    """The largest absolute error over several cases, with the interval of its per-case intervals.

    Each case's error has a Student-t interval ``error ± t · se``; the largest ``|error|`` then lies
    between the largest lower end of ``|error|`` (clipped at 0) and the largest upper end.

    Parameters
    ----------
    errors : (n_cases,) array_like
        Error of each case (measured minus its reference).
    standard_errors : (n_cases,) array_like
        Standard error of each case's measurement (e.g. over folds).
    dof : int
        Degrees of freedom of the standard errors (folds minus one).
    over : str
        What the standard errors come from, e.g. ``"5 folds per case, 27 cases"``.
    level : float
        Coverage of each case's interval.

    Returns
    -------
    Estimate
        ``max |error|`` with ``[max(max(|e| - t se, 0)), max(|e| + t se)]``.
    """
    e = np.abs(np.asarray(errors, dtype=np.float64).ravel())
    se = np.asarray(standard_errors, dtype=np.float64).ravel()
    if e.size == 0 or e.shape != se.shape:
        raise ValueError("errors and standard_errors need the same non-zero length")
    half = stats.t.ppf((1 + level) / 2, dof) * se
    return Estimate(float(e.max()), float(np.clip(e - half, 0, None).max()), float((e + half).max()), int(e.size), over, f"per-case Student t, {level:.0%}")
