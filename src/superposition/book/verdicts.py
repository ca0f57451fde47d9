"""A claim's rule and its verdict: holds, fails or inconclusive, read from an interval.

A claim of the book is a rule on one number, written in the registry as ``holds_if``:

``> t``, ``>= t``, ``< t``, ``<= t``
    one-sided: the number lies above (below) ``t``; a change that must be positive is ``> 0``.
``within ±m``
    two-sided, an equivalence: ``-m < number < m``; a control that must show no effect states the
    margin ``m`` of an effect too small to matter.

The number comes with an interval from the variation the claim is about (replicates, objects,
questions: :mod:`superposition.metrics.intervals`). The verdict of a rule on an interval
(:func:`verdict`) is **holds** when every point of the interval satisfies the rule, **fails** when
none does, and **inconclusive** otherwise: a one-sided p-value alone never makes a verdict, and a
gap whose sign matters is tested with its sign.

The registered verdict reads the *reproducible interval* (:func:`reproducible_interval`): the
run's interval widened at each end by that end's tolerance, i.e. every interval a correct rerun on
another CPU, a GPU or another thread count may give. A claim holds (fails) only when all of them
hold (fail); an interval that a rerun could move across the threshold, because the tolerance is
wider than its distance to the threshold, makes the claim inconclusive. So a run that passes the
registry's tolerances can never turn a verdict around.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from .tolerances import band

VERDICTS = ("holds", "fails", "inconclusive")
_ONE_SIDED = re.compile(r"^\s*(<=|>=|<|>)\s*(-?[0-9.eE+-]+)\s*$")
_WITHIN = re.compile(r"^\s*within\s*(?:±|\+-|\+/-)\s*([0-9.eE+-]+)\s*$")


class RuleError(ValueError):
    """A rule (``holds_if``) that cannot be read."""


@dataclass(frozen=True)
class Rule:
    """A claim's rule on its number.

    Attributes
    ----------
    op : {"<", "<=", ">", ">=", "within"}
        The comparison; ``within`` is ``-threshold < number < threshold``.
    threshold : float
        The number compared with (for ``within``, the margin, ``> 0``).
    """

    op: str
    threshold: float

    @property
    def text(self) -> str:
        """The rule as the registry writes it."""
        return f"within ±{self.threshold:g}" if self.op == "within" else f"{self.op} {self.threshold:g}"

    def satisfied(self, value: float) -> bool:
        """Whether one value satisfies the rule.

        Parameters
        ----------
        value : float
            The number.

        Returns
        -------
        bool
            Whether it satisfies the rule.
        """
        v, t = float(value), self.threshold
        return {"<": v < t, "<=": v <= t, ">": v > t, ">=": v >= t, "within": -t < v < t}[self.op]

    def distance(self, low: float, high: float) -> float:
        """How far the interval ``[low, high]`` lies from the rule's boundary (0 when it touches or straddles it).

        Parameters
        ----------
        low, high : float
            Bounds of the interval.

        Returns
        -------
        float
            The smallest distance from a bound of the rule to the interval, when the interval lies
            on one side of every bound; 0 otherwise.
        """
        bounds = (-self.threshold, self.threshold) if self.op == "within" else (self.threshold,)
        gaps = [b - high if high < b else (low - b if low > b else 0.0) for b in bounds]
        return min(gaps)


def parse_rule(text: str) -> Rule:
    """Read a rule: ``"> 0"``, ``"< 0.03"``, ``">= 0.98"`` or ``"within ±0.01"``.

    Parameters
    ----------
    text : str
        The rule as written in the registry.

    Returns
    -------
    Rule
        The rule.
    """
    text = str(text)
    if match := _ONE_SIDED.match(text):
        return Rule(match.group(1), float(match.group(2)))
    if (match := _WITHIN.match(text)) and float(match.group(1)) > 0:
        return Rule("within", float(match.group(1)))
    raise RuleError(f"holds_if must look like '> 0', '< 0.03' or 'within ±0.01', got {text!r}")


def verdict(rule: Rule, low: float, high: float) -> str:
    """The verdict of ``rule`` on the interval ``[low, high]``.

    Parameters
    ----------
    rule : Rule
        The claim's rule.
    low, high : float
        Bounds of the interval (``low <= high``).

    Returns
    -------
    {"holds", "fails", "inconclusive"}
        ``holds`` when every point satisfies the rule, ``fails`` when none does, else ``inconclusive``.
    """
    if not (math.isfinite(low) and math.isfinite(high)) or low > high:
        raise ValueError(f"an interval needs finite low <= high, got [{low}, {high}]")
    if rule.op == "within":
        t = rule.threshold
        if -t < low and high < t:
            return "holds"
        return "fails" if (high <= -t or low >= t) else "inconclusive"
    at_low, at_high = rule.satisfied(low), rule.satisfied(high)
    if at_low and at_high:
        return "holds"
    return "fails" if not (at_low or at_high) else "inconclusive"


def reproducible_interval(low: float, high: float, atol: float, rtol: float = 0.0) -> tuple[float, float]:
    """The interval widened by each end's tolerance: every interval a correct rerun may give lies inside.

    Parameters
    ----------
    low, high : float
        Bounds of the interval of the published run.
    atol : float
        Absolute tolerance of each bound.
    rtol : float
        Relative tolerance of each bound.

    Returns
    -------
    low, high : float
        The widened bounds.
    """
    return band(low, atol, rtol)[0], band(high, atol, rtol)[1]
