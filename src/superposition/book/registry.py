"""The registry of published numbers (``book/claims.yaml``) and the comparison of runs with it.

Each entry is one recorded number of one notebook at its default parameters::

    - key: change_ridge_w32_min          # the key passed to Run.record (or Run.record_table)
      notebook: toy_alignment
      kind: trained                      # exact | discrete | trained (see superposition.book.tolerances)
      expected: 0.127                    # number, string, boolean or list of numbers
      atol: 0.31                         # trained: from the spread by the rule; exact: the float32 rule; discrete: stated
      spread: 0.0195                     # trained: sample sd over the replicate runs (a list for a list)
      runs: 8                            # trained: runs the spread rests on (the published one included)
      seen: [a, b]                       # a trained string or boolean whose runs disagree: the values seen
      claim:                             # optional: the paper claim this number tests
        id: A-toy-w32
        paper: A                         # A or B
        where: "Fig. 2"
        statement: "..."
        paper_value: "not reported"      # or the paper's number, or its stated direction
        holds_if: "> 0"                  # the claim, as a condition on the value
        verdict: holds                   # holds | fails | inconclusive, from the band expected ± atol

The registry refuses an entry whose tolerance does not follow its kind's rule, and a claim whose
verdict is not the verdict of its band: ``holds`` when the condition holds on the whole band
``expected ± tolerance``, ``fails`` when it holds nowhere on it, ``inconclusive`` when a new draw
of the training could land on either side. A run passes when every value lies within
tolerance of ``expected``; for a ``holds`` or ``fails`` claim the run's value must also give the
registered answer, so a change of direction is a regression. A trained label (a string or
boolean, such as the best of several recipes) whose replicate runs disagree lists the values
``seen`` and is a label of the draw, not a regression test: the numbers it is read from are.

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
from .tolerances import KINDS, MIN_REPLICATES, VERDICTS, band, band_verdict, condition_holds, exact_tolerance, trained_tolerance

_CONDITION = re.compile(r"^\s*(<=|>=|<|>)\s*(-?[0-9.eE+-]+)\s*$")
_ENTRY_FIELDS = ("key", "notebook", "kind", "expected", "atol", "rtol", "spread", "runs", "seen", "claim")
_CLAIM_FIELDS = ("id", "paper", "where", "statement", "paper_value", "holds_if", "verdict")

Tolerance = float | list[float]


class RegistryError(ValueError):
    """The registry file is malformed."""


@dataclass(frozen=True)
class Claim:
    """A paper claim that a registered number tests (the ``claim`` field of an entry).

    Attributes
    ----------
    id : str
        Identifier of the claim, e.g. ``A-toy-w32``.
    paper : {"A", "B"}
        The paper.
    where : str
        Where in the paper, e.g. ``"Fig. 2"``.
    statement : str
        The claim in words.
    paper_value : str
        The paper's number, or its stated direction, or ``not reported``.
    holds_if : str
        The claim, as a condition on the value, e.g. ``"> 0"``.
    verdict : {"holds", "fails", "inconclusive"}
        The verdict, from the band ``expected ± atol``.
    """

    id: str
    paper: str
    where: str
    statement: str
    paper_value: str
    holds_if: str
    verdict: str

    def holds(self, value: Any) -> bool | None:
        """Whether ``value`` satisfies the claim's condition (None when it cannot be judged).

        Parameters
        ----------
        value : Any
            A recorded value; only a number (not a boolean) can be judged.

        Returns
        -------
        bool or None
            Whether the condition :attr:`holds_if` holds on ``value``; None when it is not a number.
        """
        op, threshold = parse_condition(self.holds_if)
        if not isinstance(value, int | float) or isinstance(value, bool):
            return None
        return condition_holds(op, threshold, value)


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
        Trained: sample sd over the replicate runs (a list for a list).
    runs : int or None
        Trained: runs the spread rests on (the published one included).
    seen : list or None
        A trained string or boolean whose runs disagree: the values seen.
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


def parse_condition(text: str) -> tuple[str, float]:
    """Split a claim's condition (``holds_if``) into its comparison and threshold.

    Parameters
    ----------
    text : str
        The condition, e.g. ``"< 0.03"`` or ``"> 0"``.

    Returns
    -------
    op : {"<", "<=", ">", ">="}
        The comparison.
    threshold : float
        The number the value is compared with.
    """
    match = _CONDITION.match(str(text))
    if not match:
        raise RegistryError(f"holds_if must look like '< 0.03' or '> 0', got {text!r}")
    return match.group(1), float(match.group(2))


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


def _parse_claim(c: Any, entry: Entry, where: str) -> Claim:
    if not isinstance(c, dict) or set(c) != set(_CLAIM_FIELDS):
        raise RegistryError(f"{where}: a claim needs exactly the fields {list(_CLAIM_FIELDS)}")
    if c["verdict"] not in VERDICTS:
        raise RegistryError(f"{where}: verdict must be one of {list(VERDICTS)}, got {c['verdict']!r}")
    op, threshold = parse_condition(c["holds_if"])
    if not _is_number(entry.expected):
        raise RegistryError(f"{where}: a claim needs a single number as its expected value")
    low, high = entry.band()
    verdict = band_verdict(op, threshold, low, high)
    if c["verdict"] != verdict:
        raise RegistryError(
            f"{where}: registered verdict {c['verdict']!r}, but the band [{low:.4g}, {high:.4g}] "
            f"(expected ± tolerance) against '{c['holds_if']}' gives {verdict!r}"
        )
    return Claim(**{k: str(v) for k, v in c.items()})


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
            item.get("spread"), item.get("runs"), item.get("seen"),
        )  # fmt: skip
        if "claim" in item:
            entry = Entry(**{**entry.__dict__, "claim": _parse_claim(item["claim"], entry, where)})
        entries.append(entry)
    return entries


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
        Whether the value matches ``expected`` within tolerance (:meth:`Entry.matches`).
    claim_holds : bool or None
        Whether the value satisfies the entry's claim (:meth:`Claim.holds`); None without a claim
        or a recorded value, or when it cannot be judged.
    """

    entry: Entry
    value: Any
    recorded: bool
    within_tolerance: bool
    claim_holds: bool | None

    @property
    def passed(self) -> bool:
        """Whether the value is recorded, within tolerance and, for a ``holds`` or ``fails`` claim, gives its answer."""
        if not self.recorded or not self.within_tolerance:
            return False
        if self.entry.claim is None or self.entry.claim.verdict == "inconclusive":
            return True
        return self.claim_holds == (self.entry.claim.verdict == "holds")


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
        checks.append(
            Check(
                entry=entry,
                value=value,
                recorded=present,
                within_tolerance=present and entry.matches(value),
                claim_holds=entry.claim.holds(value) if (present and entry.claim) else None,
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
        One line per check that did not pass; a key not recorded is named as such, and a value
        within tolerance also shows whether its claim holds and the registered verdict.
    """
    lines = []
    for c in checks:
        if c.passed:
            continue
        line = f"{c.entry.notebook}:{c.entry.key} = {c.value!r}, expected {c.entry.expected!r} ({c.entry.tolerance_text})"
        if not c.recorded:
            line = f"{c.entry.notebook}:{c.entry.key} was not recorded"
        elif c.claim_holds is not None and c.within_tolerance:
            line += f", claim holds: {c.claim_holds}, registered verdict: {c.entry.claim.verdict}"  # type: ignore[union-attr]
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
    """Rewrite the ``expected`` values of ``notebook``'s entries from its recorded ``results``.

    A maintainer's tool, for after a deliberate change of method: it changes only ``expected``
    (tolerances and claims stay as they are, so a claim whose band now gives another verdict is
    refused until its ``verdict`` is edited by hand, and a trained number's spread should be
    measured again with :mod:`superposition.book.replicates`). The file is left as it was when the
    result would be invalid.

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
        The updated keys.
    """
    recorded = results["results"]
    header, items = read_raw(path)
    updated = []
    for item in items:
        if item.get("notebook") == notebook and item.get("key") in recorded and (keys is None or item["key"] in keys):
            item["expected"] = recorded[item["key"]]["value"]
            updated.append(item["key"])
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
