"""The registry of published numbers (``book/claims.yaml``) and the comparison of runs with it.

Each entry is one recorded number of one notebook at its default parameters::

    - key: change_ridge_w32                # the key passed to Run.record (or Run.record_table)
      notebook: toy_alignment
      kind: trained                      # exact | discrete | trained (see superposition.book.tolerances)
      expected: 0.127                    # number, string, boolean or list of numbers
      interval: [0.101, 0.153]           # a claim's number: its interval in the published run
      runs_interval: [0.09, 0.16]        # a trained claim's number over its replicate runs (the verdict reads it)
      atol: 0.31                         # trained: from the spread by the rule; exact: the float32 rule; discrete: stated
      spread: 0.0195                     # trained: sample sd over the replicate runs (a list for a list)
      runs: 8                            # trained: runs the spread rests on (the published one included)
      seen: [a, b]                       # a trained string or boolean whose runs disagree: the values seen
      claim:                             # optional: the paper claim this number tests
        id: A-toy-ridge-m32
        paper: A                         # A or B
        where: "Fig. 2"
        statement: "..."                 # the claim as this book tests it
        paper_words: "..."               # the paper's own words (quoted), or what it reports
        holds_if: "> 0"                  # the rule: '> t', '< t', '>= t', '<= t' or 'within ±m'
        rule_source: "..."               # where the rule comes from: the paper's words, or a derivation
        control: {key: ..., label: ...}  # optional: the registered number of the control that could falsify it
        figure: fig-toy-alignment        # optional: the figure on the chapter page
        verdict: holds                   # holds | fails | inconclusive, from the interval it reads (see below)

The registry refuses an entry whose tolerance does not follow its kind's rule, a claim without an
interval, a rule or its source, and a claim whose verdict is not the verdict of the interval it
reads (:mod:`superposition.book.verdicts`): ``holds`` when the rule holds on all of it, ``fails``
when it holds nowhere on it, ``inconclusive`` otherwise.

- An exact or discrete claim reads its *reproducible interval*: the interval widened at each end by
  the entry's tolerance, i.e. every interval a correct rerun may give; so a decisive verdict whose
  tolerance is wider than the interval's distance to the threshold is refused.
- A trained claim reads ``runs_interval``: the Student-t interval of the number's mean over the
  replicate runs, in which every seed (models, SAEs, data) is drawn again. One run is one draw of
  the training; the runs are the variation the claim is about, counted in ``runs``
  (:func:`superposition.book.replicates.set_trained_tolerances` writes it).

A run passes when its value and both ends of its interval lie within tolerance of the registered
ones and, for an exact or discrete claim that holds or fails, its own interval gives that verdict. A trained label (a string or boolean, such as the best of several recipes) whose
replicate runs disagree lists the values ``seen`` and is a label of the draw, not a regression
test: the numbers it is read from are.

A number without a claim is descriptive: it is regression-tested, and the claims page lists it
apart from the evidence.

Replicate runs that measure the spreads are kept in ``book/replicates/<notebook>.json``
(:mod:`superposition.book.replicates` writes them and the trained tolerances).

Where a key comes from
----------------------
Every key is written in its notebook, in one of two ways (:func:`key_sources`): as a string,
``run.record("theory_max_abs_error", ...)`` or a value of a dict of keys written in the notebook
(``condition_keys``); or as a cell of a table recorded by ``run.record_table(prefix, table,
key_columns, descriptions)``, whose keys follow one naming rule: the prefix, the row's values in
the key columns, then the column, joined by underscores. ``run.record_table("change", changes,
["metric_key", "cell"], {"min": ...})`` records ``change_ridge_w32_min`` for the row with
``metric_key`` ``ridge`` and ``cell`` ``w32``; searching the notebook for ``record_table("change"``
finds the call. No key is built by an f-string in ``run.record``, and none from a display label.
``tests/test_layout.py`` checks that every key has a source.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..io import REGISTRY, RESULTS, atomic_write_text
from .tolerances import KINDS, MIN_REPLICATES, band, exact_tolerance, trained_tolerance
from .verdicts import VERDICTS, Rule, RuleError, parse_rule, reproducible_interval, verdict

_ENTRY_FIELDS = ("key", "notebook", "kind", "expected", "interval", "runs_interval", "atol", "rtol", "spread", "runs", "seen", "claim")
_CLAIM_FIELDS = ("id", "paper", "where", "statement", "paper_words", "holds_if", "rule_source", "control", "figure", "verdict")
_CLAIM_REQUIRED = ("id", "paper", "where", "statement", "paper_words", "holds_if", "rule_source", "verdict")

Tolerance = float | list[float]


class RegistryError(ValueError):
    """The registry file is malformed."""


@dataclass(frozen=True)
class Claim:
    """A paper claim that a registered number tests (the ``claim`` field of an entry).

    Attributes
    ----------
    id : str
        Identifier of the claim, e.g. ``A-toy-ridge-m32``.
    paper : {"A", "B"}
        The paper.
    where : str
        Where in the paper, e.g. ``"Fig. 2"``.
    statement : str
        The claim as the book tests it.
    paper_words : str
        The paper's own words (quoted), or what it reports.
    holds_if : str
        The rule on the number (:func:`superposition.book.verdicts.parse_rule`), e.g. ``"> 0"``.
    rule_source : str
        Where the rule comes from: the paper's words, or a derivation; never the observed value.
    verdict : {"holds", "fails", "inconclusive"}
        The verdict of the rule on the reproducible interval.
    control_key : str
        Registry key (same notebook) of the control that could have falsified the claim, or ``""``.
    control_label : str
        What the control is, e.g. ``"untrained SAE → untrained SAE"``.
    figure : str
        Label of the figure on the chapter page that shows the number, or ``""``.
    """

    id: str
    paper: str
    where: str
    statement: str
    paper_words: str
    holds_if: str
    rule_source: str
    verdict: str
    control_key: str = ""
    control_label: str = ""
    figure: str = ""

    @property
    def rule(self) -> Rule:
        """The parsed rule."""
        return parse_rule(self.holds_if)


@dataclass(frozen=True)
class Entry:
    """One registry entry: one recorded number of one notebook at its default parameters.

    Attributes
    ----------
    key : str
        The key passed to ``Run.record`` (or ``Run.record_table``).
    notebook : str
        Notebook name.
    kind : {"exact", "discrete", "trained"}
        Kind of number (see :mod:`superposition.book.tolerances`).
    expected : Any
        The expected value: a number, string, boolean or list of numbers.
    atol : float or list of float
        Absolute tolerance (a list: one per element of a list ``expected``).
    rtol : float
        Relative tolerance.
    claim : Claim or None
        The paper claim this number tests, if any.
    spread : float, list of float or None, or None
        Trained: sample sd over the replicate runs (a list for a list); for a number with an
        interval, the largest of the spreads of the number and of its two bounds.
    runs : int or None
        Trained: runs the spread rests on (the published one included).
    seen : list or None
        A trained string or boolean whose runs disagree: the values seen.
    interval : list of float or None
        ``[low, high]``: the interval of a claim's number in the published run.
    runs_interval : list of float or None
        A trained claim's number over its replicate runs (every seed redrawn): the Student-t
        interval of the runs' mean, which the claim's verdict reads.
    """

    key: str
    notebook: str
    kind: str
    expected: Any
    atol: Tolerance
    rtol: float
    claim: Claim | None
    spread: float | list[float | None] | None = None
    runs: int | None = None
    seen: list[Any] | None = None
    interval: list[float] | None = None
    runs_interval: list[float] | None = None

    @property
    def tolerance_text(self) -> str:
        """The tolerance in words, as the pages and :func:`failure_lines` show it."""
        if self.seen:
            return f"any (a label of the draw; {len(self.seen)} values over {self.runs} runs)"
        if isinstance(self.expected, bool | str):
            return "exact" if self.kind != "trained" else f"exact (agreed over {self.runs} runs)"
        parts = []
        if isinstance(self.atol, list):
            parts.append(f"±{max(self.atol):g} at most (per element)")
        elif self.atol:
            parts.append(f"±{self.atol:g}")
        if self.rtol:
            parts.append(f"±{self.rtol:.2g} relative")
        text = " or ".join(parts)
        return f"{text} (spread over {self.runs} runs)" if self.kind == "trained" else text

    def matches(self, value: Any) -> bool:
        """Whether ``value`` equals ``expected`` within tolerance (elementwise for lists).

        A trained label whose replicate runs disagree (``seen``) matches any value of its type.

        Parameters
        ----------
        value : Any
            A recorded value.

        Returns
        -------
        bool
            Whether it matches.
        """
        if self.seen:
            return type(value) is type(self.expected)
        return _close(value, self.expected, self.atol, self.rtol)

    def band(self) -> tuple[float, float]:
        """The values that match a scalar ``expected``: ``expected ± tolerance``.

        Returns
        -------
        low, high : float
            Bounds of the band.
        """
        return band(float(self.expected), float(self.atol), self.rtol)  # type: ignore[arg-type]

    def interval_matches(self, interval: Any) -> bool:
        """Whether both bounds of a recorded interval lie within tolerance of the registered ones.

        Parameters
        ----------
        interval : Any
            The recorded ``[low, high]`` (None when the run recorded none).

        Returns
        -------
        bool
            Whether it matches; True when the entry has no interval.
        """
        if self.interval is None:
            return True
        return isinstance(interval, list) and len(interval) == 2 and all(
            _close(v, e, self.atol, self.rtol) for v, e in zip(interval, self.interval, strict=True)
        )

    def reproducible_interval(self) -> tuple[float, float]:
        """The registered interval widened by the tolerance at each end (see :mod:`.verdicts`).

        Returns
        -------
        low, high : float
            Bounds of every interval a correct rerun may give.
        """
        if self.interval is None:
            raise ValueError(f"{self.notebook}:{self.key} has no interval")
        return reproducible_interval(self.interval[0], self.interval[1], float(self.atol), self.rtol)  # type: ignore[arg-type]


def _close(value: Any, expected: Any, atol: Tolerance, rtol: float) -> bool:
    if isinstance(expected, list):
        atols = atol if isinstance(atol, list) else [atol] * len(expected)
        return isinstance(value, list) and len(value) == len(expected) and all(
            _close(v, e, a, rtol) for v, e, a in zip(value, expected, atols, strict=True)
        )
    if expected is None or value is None:
        return expected is None and value is None
    if isinstance(expected, bool | str) or isinstance(value, bool | str):
        return type(value) is type(expected) and value == expected
    return math.isclose(float(value), float(expected), abs_tol=float(atol), rel_tol=rtol)


def load_registry(path: Path = REGISTRY) -> list[Entry]:
    """Read and validate the registry file.

    Parameters
    ----------
    path : pathlib.Path
        The registry file (by default ``book/claims.yaml``).

    Returns
    -------
    list of Entry
        Its entries, in order.
    """
    return parse_registry(path.read_text(), path)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _tolerance(item: dict[str, Any], where: str) -> Tolerance:
    atol = item.get("atol", 0.0)
    if isinstance(atol, list):
        if not isinstance(item["expected"], list) or len(atol) != len(item["expected"]):
            raise RegistryError(f"{where}: a list atol needs a list expected of the same length")
        if not all(_is_number(a) and a >= 0 for a in atol):
            raise RegistryError(f"{where}: atol entries must be non-negative numbers")
        return [float(a) for a in atol]
    if not _is_number(atol) or atol < 0:
        raise RegistryError(f"{where}: atol must be a non-negative number, got {atol!r}")
    return float(atol)


def _check_trained(item: dict[str, Any], atol: Tolerance, where: str) -> None:
    """A trained entry states its spread and runs, and its atol is the rule's."""
    runs = item.get("runs")
    if not isinstance(runs, int) or isinstance(runs, bool) or runs < MIN_REPLICATES:
        raise RegistryError(f"{where}: a trained number needs runs >= {MIN_REPLICATES} (the replicate runs its tolerance rests on)")
    if item.get("rtol"):
        raise RegistryError(f"{where}: a trained number has an atol from its spread, not an rtol")
    if isinstance(item["expected"], bool | str):
        if "spread" in item:
            raise RegistryError(f"{where}: a trained string or boolean has no spread (its runs agree, or it lists the values seen)")
        seen = item.get("seen")
        if seen is not None and (not isinstance(seen, list) or len(seen) < 2 or item["expected"] not in seen):
            raise RegistryError(f"{where}: seen lists the two or more values of the replicate runs, the expected one among them")
        return
    if "seen" in item:
        raise RegistryError(f"{where}: only a trained string or boolean lists the values seen")
    if "spread" not in item:
        raise RegistryError(f"{where}: a trained number needs its spread over the replicate runs")
    rule = trained_tolerance(item["spread"], runs)
    if rule != atol:
        raise RegistryError(
            f"{where}: atol {atol!r} does not follow the trained rule: spread {item['spread']!r} over {runs} runs "
            f"gives {rule!r} (superposition.book.tolerances); run `python -m superposition.book.replicates tolerances {item['notebook']}`"
        )


def _parse_runs_interval(item: dict[str, Any], where: str) -> list[float] | None:
    runs_interval = item.get("runs_interval")
    if runs_interval is None:
        return None
    if item["kind"] != "trained" or "interval" not in item:
        raise RegistryError(f"{where}: only a trained number with an interval has a runs_interval")
    if not (isinstance(runs_interval, list) and len(runs_interval) == 2 and all(_is_number(v) and math.isfinite(v) for v in runs_interval)) or runs_interval[0] > runs_interval[1]:
        raise RegistryError(f"{where}: runs_interval must be [low, high], two finite numbers with low <= high, got {runs_interval!r}")
    return [float(v) for v in runs_interval]


def _parse_interval(item: dict[str, Any], where: str) -> list[float] | None:
    interval = item.get("interval")
    if interval is None:
        return None
    if not (isinstance(interval, list) and len(interval) == 2 and all(_is_number(v) and math.isfinite(v) for v in interval)):
        raise RegistryError(f"{where}: interval must be [low, high], two finite numbers, got {interval!r}")
    low, high = float(interval[0]), float(interval[1])
    if not _is_number(item["expected"]) or not low <= float(item["expected"]) <= high:
        raise RegistryError(f"{where}: interval [{low:g}, {high:g}] must hold the expected number {item['expected']!r}")
    if isinstance(item.get("atol"), list):
        raise RegistryError(f"{where}: a number with an interval has one atol")
    return [low, high]


def _parse_claim(c: Any, entry: Entry, where: str) -> Claim:
    if not isinstance(c, dict) or not set(_CLAIM_REQUIRED) <= set(c) or not set(c) <= set(_CLAIM_FIELDS):
        raise RegistryError(
            f"{where}: a claim needs the fields {list(_CLAIM_REQUIRED)} (optionally control and figure), got {sorted(c) if isinstance(c, dict) else c!r}"
        )
    if c["verdict"] not in VERDICTS:
        raise RegistryError(f"{where}: verdict must be one of {list(VERDICTS)}, got {c['verdict']!r}")
    if not str(c["rule_source"]).strip() or not str(c["paper_words"]).strip():
        raise RegistryError(f"{where}: a claim states the paper's words and the source of its rule")
    try:
        rule = parse_rule(c["holds_if"])
    except RuleError as error:
        raise RegistryError(f"{where}: {error}") from None
    if entry.interval is None:
        raise RegistryError(f"{where}: a claim's number needs its interval (interval: [low, high])")
    control = c.get("control")
    if control is not None and not (isinstance(control, dict) and set(control) == {"key", "label"}):
        raise RegistryError(f"{where}: control must be {{key: <registered key>, label: <what it is>}}, got {control!r}")
    if entry.kind == "trained":
        _check_trained_verdict(c, rule, entry, where)
    else:
        _check_reproducible_verdict(c, rule, entry, where)
    fields = {k: str(v) for k, v in c.items() if k not in ("control",)}
    if control is not None:
        fields |= {"control_key": str(control["key"]), "control_label": str(control["label"])}
    return Claim(**fields)


def _check_trained_verdict(c: dict[str, Any], rule: Rule, entry: Entry, where: str) -> None:
    """A trained claim's verdict is the verdict of the interval over its replicate runs."""
    if entry.runs_interval is None:
        raise RegistryError(
            f"{where}: a claim on a trained number needs runs_interval, its interval over the replicate runs "
            f"(run `python -m superposition.book.replicates tolerances {entry.notebook}`)"
        )
    expected_verdict = verdict(rule, *entry.runs_interval)
    if c["verdict"] != expected_verdict:
        raise RegistryError(
            f"{where}: registered verdict {c['verdict']!r}, but the interval over the {entry.runs} replicate runs "
            f"{entry.runs_interval} against '{c['holds_if']}' gives {expected_verdict!r}"
        )


def _check_reproducible_verdict(c: dict[str, Any], rule: Rule, entry: Entry, where: str) -> None:
    """An exact or discrete claim's verdict is the verdict of its reproducible interval."""
    low, high = entry.reproducible_interval()
    expected_verdict = verdict(rule, low, high)
    if c["verdict"] != expected_verdict:
        own = verdict(rule, *entry.interval)
        reason = (
            f"the tolerance {entry.tolerance_text} is wider than the distance "
            f"{rule.distance(*entry.interval):.3g} from the interval to the rule's threshold, so a correct rerun could "
            "turn the verdict: it is inconclusive"
            if own == c["verdict"] and own != "inconclusive"
            else f"it gives {expected_verdict!r}"
        )
        raise RegistryError(
            f"{where}: registered verdict {c['verdict']!r}, but the reproducible interval [{low:.4g}, {high:.4g}] "
            f"(interval {entry.interval} widened by the tolerance) against '{c['holds_if']}': {reason}"
        )


def parse_registry(text: str, path: Path = REGISTRY) -> list[Entry]:
    """Validate registry ``text`` (the contents of ``path``, named in the errors).

    Parameters
    ----------
    text : str
        The YAML text of a registry file.
    path : pathlib.Path
        The file it comes from, named in the errors.

    Returns
    -------
    list of Entry
        Its entries, in order, with their claims.
    """
    raw = yaml.safe_load(text) or []
    if not isinstance(raw, list):
        raise RegistryError(f"{path} must hold a list of entries")
    entries, seen = [], set()
    for i, item in enumerate(raw):
        where = f"{path.name} entry {i}"
        if not isinstance(item, dict) or not {"key", "notebook", "kind", "expected"} <= item.keys():
            raise RegistryError(f"{where}: needs key, notebook, kind and expected")
        where = f"{where} ({item['notebook']}:{item['key']})"
        if unknown := set(item) - set(_ENTRY_FIELDS):
            raise RegistryError(f"{where}: unknown fields {sorted(unknown)}")
        ident = (item["notebook"], item["key"])
        if ident in seen:
            raise RegistryError(f"{where}: registered twice")
        seen.add(ident)
        if item["kind"] not in KINDS:
            raise RegistryError(f"{where}: kind must be one of {list(KINDS)}, got {item['kind']!r}")
        atol, rtol = _tolerance(item, where), float(item.get("rtol", 0.0))
        if not isinstance(item["expected"], bool | str) and not any(atol if isinstance(atol, list) else [atol]) and rtol == 0.0:
            raise RegistryError(f"{where}: a number needs a stated tolerance (atol or rtol)")
        if item["kind"] == "trained":
            _check_trained(item, atol, where)
        elif {"spread", "runs", "seen"} & item.keys():
            raise RegistryError(f"{where}: only a trained number has a spread, runs or values seen")
        if item["kind"] == "exact" and (atol, rtol) != exact_tolerance(item["expected"]):
            raise RegistryError(
                f"{where}: an exact number has the tolerance (atol, rtol) = {exact_tolerance(item['expected'])} "
                f"(superposition.book.tolerances.exact_tolerance), not {(atol, rtol)}; a count of discrete outcomes is kind 'discrete'"
            )
        entry = Entry(
            item["key"], item["notebook"], item["kind"], item["expected"], atol, rtol, None,
            item.get("spread"), item.get("runs"), item.get("seen"), _parse_interval(item, where), _parse_runs_interval(item, where),
        )  # fmt: skip
        if "claim" in item:
            entry = Entry(**{**entry.__dict__, "claim": _parse_claim(item["claim"], entry, where)})
        entries.append(entry)
    _check_claims_across(entries, path)
    return entries


def _check_claims_across(entries: list[Entry], path: Path) -> None:
    """Claim ids are unique, and every control names a registered number of the claim's notebook."""
    registered = {(e.notebook, e.key) for e in entries}
    ids: set[str] = set()
    for e in entries:
        if e.claim is None:
            continue
        if e.claim.id in ids:
            raise RegistryError(f"{path.name}: claim id {e.claim.id} is used twice")
        ids.add(e.claim.id)
        if e.claim.control_key and (e.notebook, e.claim.control_key) not in registered:
            raise RegistryError(f"{path.name} ({e.notebook}:{e.key}): the control {e.claim.control_key!r} is not a registered number of {e.notebook}")


@dataclass(frozen=True)
class Check:
    """The comparison of one registry entry with a run's recorded value.

    Attributes
    ----------
    entry : Entry
        The registry entry.
    value : Any
        The recorded value (None when it was not recorded).
    recorded : bool
        Whether the run recorded the entry's key.
    within_tolerance : bool
        Whether the value matches ``expected`` within tolerance (:meth:`Entry.matches`) and, for a
        number with an interval, both bounds of the run's interval match (:meth:`Entry.interval_matches`).
    interval : list of float or None
        The run's recorded interval, if any.
    run_verdict : str or None
        The verdict of the claim's rule on the run's own interval; None without a claim or an interval.
    """

    entry: Entry
    value: Any
    recorded: bool
    within_tolerance: bool
    interval: list[float] | None = None
    run_verdict: str | None = None

    @property
    def passed(self) -> bool:
        """Whether the value is recorded and within tolerance and, for an exact or discrete claim
        that holds or fails, the run's own interval gives that verdict.

        A trained claim's verdict reads its replicate runs (``runs_interval``); one run is one draw
        of the training, and its value and interval are held to their tolerances instead.
        """
        if not self.recorded or not self.within_tolerance:
            return False
        if self.entry.claim is None or self.entry.claim.verdict == "inconclusive" or self.entry.kind == "trained":
            return True
        return self.run_verdict == self.entry.claim.verdict


def check_results(entries: list[Entry], results: dict[str, dict[str, Any]]) -> tuple[list[Check], list[str]]:
    """Compare recorded results with the registry.

    Parameters
    ----------
    entries : list of Entry
        The registry entries.
    results : dict of str to dict
        Notebook name to its results JSON (as written by :mod:`.record`).

    Returns
    -------
    checks : list of Check
        One per entry whose notebook has results.
    unregistered : list of str
        The recorded keys (``notebook:key``) that the registry lacks.
    """
    checks = []
    for entry in entries:
        if entry.notebook not in results:
            continue
        recorded = results[entry.notebook]["results"]
        present = entry.key in recorded
        value = recorded[entry.key]["value"] if present else None
        interval = recorded[entry.key].get("interval") if present else None
        run_verdict = None
        if entry.claim is not None and isinstance(interval, list) and len(interval) == 2:
            run_verdict = verdict(entry.claim.rule, float(interval[0]), float(interval[1]))
        checks.append(
            Check(
                entry=entry,
                value=value,
                recorded=present,
                within_tolerance=present and entry.matches(value) and entry.interval_matches(interval),
                interval=interval,
                run_verdict=run_verdict,
            )
        )
    registered = {(e.notebook, e.key) for e in entries}
    unregistered = [
        f"{nb}:{key}" for nb, data in sorted(results.items()) for key in data["results"] if (nb, key) not in registered
    ]
    return checks, unregistered


def failure_lines(checks: list[Check]) -> list[str]:
    """One line per failed check: the value, the expected value and its tolerance.

    Parameters
    ----------
    checks : list of Check
        The checks, as :func:`check_results` gives them.

    Returns
    -------
    list of str
        One line per check that did not pass; a key not recorded is named as such, an interval is
        shown beside its number, and a claim's line gives the run's verdict and the registered one.
    """
    lines = []
    for c in checks:
        if c.passed:
            continue
        if not c.recorded:
            lines.append(f"{c.entry.notebook}:{c.entry.key} was not recorded")
            continue
        line = f"{c.entry.notebook}:{c.entry.key} = {c.value!r}, expected {c.entry.expected!r} ({c.entry.tolerance_text})"
        if c.entry.interval is not None:
            line += f"; interval {c.interval!r}, expected {c.entry.interval!r}"
        if c.entry.claim is not None:
            line += f"; verdict of this run {c.run_verdict}, registered {c.entry.claim.verdict}"
        lines.append(line)
    return lines


class _RegistryDumper(yaml.SafeDumper):
    """Entries and claims in block style, lists of numbers on one line."""


_RegistryDumper.add_representer(
    list,
    lambda dumper, data: dumper.represent_sequence(
        "tag:yaml.org,2002:seq", data, flow_style=not any(isinstance(v, list | dict) for v in data)
    ),
)


def format_registry(items: list[dict[str, Any]], header: str = "") -> str:
    """The text of a registry file: ``header`` (comment lines), then each entry, fields in a fixed order.

    Parameters
    ----------
    items : list of dict
        The entries, as plain dicts.
    header : str
        Comment lines put before the entries.

    Returns
    -------
    str
        The YAML text: entries and claims in block style, lists of numbers on one line.
    """
    ordered = []
    for item in items:
        entry = {k: item[k] for k in _ENTRY_FIELDS if k in item}
        if "claim" in entry:
            entry["claim"] = {k: entry["claim"][k] for k in _CLAIM_FIELDS if k in entry["claim"]}
        ordered.append(entry)
    body = yaml.dump(ordered, Dumper=_RegistryDumper, sort_keys=False, allow_unicode=True, width=100, default_flow_style=False)
    return header + body


def read_raw(path: Path = REGISTRY) -> tuple[str, list[dict[str, Any]]]:
    """The leading comment block of the registry file and its entries as plain dicts.

    Parameters
    ----------
    path : pathlib.Path
        The registry file.

    Returns
    -------
    header : str
        The leading lines that start with ``#``, then a blank line; empty when there are none.
    items : list of dict
        The entries.
    """
    text = path.read_text()
    lines = text.splitlines(keepends=True)
    header = "".join(line for line in lines[: next((i for i, l in enumerate(lines) if not l.startswith("#")), len(lines))])
    return (header + "\n" if header else ""), yaml.safe_load(text) or []


def write_raw(header: str, items: list[dict[str, Any]], path: Path = REGISTRY) -> None:
    """Validate and write registry entries; an invalid registry is never written.

    Parameters
    ----------
    header : str
        Comment lines put before the entries.
    items : list of dict
        The entries, as plain dicts.
    path : pathlib.Path
        The registry file.
    """
    text = format_registry(items, header)
    parse_registry(text, path)
    atomic_write_text(path, text)


def update_expected(notebook: str, results: dict[str, Any], keys: list[str] | None = None, path: Path = REGISTRY) -> list[str]:
    """Rewrite the ``expected`` values (and intervals) of ``notebook``'s entries from its recorded ``results``.

    A maintainer's tool, for after a deliberate change of method: it changes ``expected``, the
    ``interval`` of a number that has one, and the verdict of each exact or discrete claim, which it
    reads from the new reproducible interval (a change of verdict is printed by ``main``; rules,
    sources and tolerances stay as they are; a trained number's spread, runs interval and verdict
    come from its replicate runs: measure them again with :mod:`superposition.book.replicates`).
    The file is left as it was when the result would be invalid.

    Parameters
    ----------
    notebook : str
        Notebook name.
    results : dict of str to Any
        The notebook's results JSON (as written by :mod:`.record`).
    keys : list of str or None
        The keys to update; ``None`` updates every entry of the notebook.
    path : pathlib.Path
        The registry file.

    Returns
    -------
    list of str
        The updated keys, each followed by ``" (verdict: old -> new)"`` when its claim's verdict changed.
    """
    recorded = results["results"]
    header, items = read_raw(path)
    updated = []
    for item in items:
        if item.get("notebook") == notebook and item.get("key") in recorded and (keys is None or item["key"] in keys):
            new = recorded[item["key"]]
            item["expected"] = new["value"]
            if new.get("interval") is not None:
                item["interval"] = [float(v) for v in new["interval"]]
            line = item["key"]
            if "claim" in item and "interval" in item and item.get("kind") != "trained" and not isinstance(item.get("atol", 0.0), list):
                low, high = reproducible_interval(*item["interval"], float(item.get("atol", 0.0)), float(item.get("rtol", 0.0)))
                fresh = verdict(parse_rule(item["claim"]["holds_if"]), low, high)
                if fresh != item["claim"]["verdict"]:
                    line += f" (verdict: {item['claim']['verdict']} -> {fresh})"
                    item["claim"]["verdict"] = fresh
            updated.append(line)
    write_raw(header, items, path)
    return updated


def main(argv: list[str] | None = None) -> None:
    """``python -m superposition.book.registry update NOTEBOOK [KEY ...]``: see :func:`update_expected`.

    The results are read from the notebook's last results file, ``_build/results/<notebook>.json``.

    Parameters
    ----------
    argv : list of str or None
        The command-line arguments; None reads them from ``sys.argv``.
    """
    import argparse

    parser = argparse.ArgumentParser(prog="python -m superposition.book.registry", description="Maintain book/claims.yaml.")
    sub = parser.add_subparsers(dest="command", required=True)
    update = sub.add_parser("update", help="rewrite expected values of a notebook's entries from its last results")
    update.add_argument("notebook")
    update.add_argument("keys", nargs="*")
    args = parser.parse_args(argv)
    results_file = RESULTS / f"{args.notebook}.json"
    if not results_file.exists():
        parser.error(f"no results for {args.notebook!r} at {results_file}; run `make run NB={args.notebook}` first")
    done = update_expected(args.notebook, json.loads(results_file.read_text()), args.keys or None)
    print(f"updated {len(done)} expected values of {args.notebook}: {', '.join(done)}")


if __name__ == "__main__":
    main()


FIELD_PATTERN = "[a-z0-9]+(?:_[a-z0-9]+)*"
"""What a row's key value or an f-string part of a column may stand for in a table key."""


def _template(node: Any) -> str | None:
    """The pattern of a string or f-string node: literal parts escaped, each field a
    :data:`FIELD_PATTERN`; None for any other node."""
    import ast

    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return re.escape(node.value)
    if isinstance(node, ast.JoinedStr):
        return "".join(re.escape(v.value) if isinstance(v, ast.Constant) else FIELD_PATTERN for v in node.values)
    return None


def table_patterns(call: Any) -> list[re.Pattern[str]]:
    """The key patterns of one ``run.record_table(prefix, table, key_columns, descriptions)`` call.

    A pattern is ``prefix``, one field per key column, then a column of the descriptions (a dict
    display or a dict comprehension), as :func:`.record.table_key` names them.

    Parameters
    ----------
    call : ast.Call
        The call, with the prefix a string, the key columns a list or tuple display and the
        descriptions a dict display or comprehension whose keys are strings or f-strings.

    Returns
    -------
    list of re.Pattern
        One pattern per recorded column; empty when the call does not have that form.
    """
    import ast

    args = list(call.args) + [k.value for k in call.keywords]
    if len(args) < 4 or _template(args[0]) is None or not isinstance(args[2], ast.List | ast.Tuple):
        return []
    descriptions = args[3]
    if isinstance(descriptions, ast.DictComp):
        columns = [descriptions.key]
    elif isinstance(descriptions, ast.Dict):
        columns = []
        for key, value in zip(descriptions.keys, descriptions.values):
            columns += [key] if key is not None else ([value.key] if isinstance(value, ast.DictComp) else [])
    else:
        return []
    row = "".join("_" + FIELD_PATTERN for _ in args[2].elts)
    return [re.compile(_template(args[0]) + row + "_" + t) for t in map(_template, columns) if t is not None]


def key_sources(sources: list[str]) -> tuple[set[str], list[re.Pattern[str]]]:
    """Where the keys of a notebook can come from, read from its code cells.

    Parameters
    ----------
    sources : list of str
        The code cells of the notebook.

    Returns
    -------
    strings : set of str
        The string constants: a key passed to ``run.record`` as a string, or kept in a dict of keys.
    templates : list of re.Pattern
        The keys of every ``run.record_table`` call, by the naming rule (:func:`table_patterns`).
    """
    import ast

    strings: set[str] = set()
    templates: list[re.Pattern[str]] = []
    for source in sources:
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                strings.add(node.value)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "record_table":
                templates += table_patterns(node)
    return strings, templates


def formatted_record_keys(sources: list[str]) -> list[str]:
    """The ``run.record`` calls whose key is built by an f-string.

    A table belongs in ``run.record_table``, whose keys follow the one naming rule.

    Parameters
    ----------
    sources : list of str
        The code cells of the notebook.

    Returns
    -------
    list of str
        The source text of each such key.
    """
    import ast

    found = []
    for source in sources:
        for node in ast.walk(ast.parse(source)):
            is_record = isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "record"
            if is_record and node.args and isinstance(node.args[0], ast.JoinedStr):
                found.append(ast.unparse(node.args[0]))
    return found


def unsourced_keys(keys: list[str], sources: list[str]) -> list[str]:
    """The keys that no string and no ``run.record_table`` call of the notebook accounts for.

    Parameters
    ----------
    keys : list of str
        Registry keys of one notebook.
    sources : list of str
        The code cells of that notebook.

    Returns
    -------
    list of str
        The keys without a source, in the order given.
    """
    strings, templates = key_sources(sources)
    return [k for k in keys if k not in strings and not any(t.fullmatch(k) for t in templates)]
