"""The registry of published numbers (``book/claims.yaml``) and the comparison of runs with it.

Each entry is one recorded number of one notebook at its default parameters::

    - key: boundary_gap_mean_signed      # the key passed to Run.record
      notebook: compressed_sensing
      expected: 0.012                    # number, string, boolean or list of numbers
      atol: 0.01                         # and/or rtol; strings and booleans compare exactly
      claim:                             # optional: the paper claim this number tests
        id: B-cs-signed
        paper: B                          # A or B
        where: "Fig. 4"
        statement: "..."
        paper_value: "not reported"       # or the paper's number, or its stated direction
        holds_if: "< 0.03"                # the claim, as a condition on the value
        verdict: holds                    # what this book observes: holds | fails

A run passes when every value lies within tolerance of ``expected`` and every claim's observed
verdict equals its registered one, so a change of direction is a regression even when it stays
inside the tolerance.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .project import REGISTRY, RESULTS, atomic_write_text

_CONDITION = re.compile(r"^\s*(<=|>=|<|>)\s*(-?[0-9.eE+-]+)\s*$")
_ENTRY_KEYS = {"key", "notebook", "expected", "atol", "rtol", "claim"}
_CLAIM_KEYS = {"id", "paper", "where", "statement", "paper_value", "holds_if", "verdict"}


class RegistryError(ValueError):
    """The registry file is malformed."""


@dataclass(frozen=True)
class Claim:
    id: str
    paper: str
    where: str
    statement: str
    paper_value: str
    holds_if: str
    verdict: str

    def holds(self, value: Any) -> bool | None:
        """Whether ``value`` satisfies the claim's condition (None when it cannot be judged)."""
        op, threshold = parse_condition(self.holds_if)
        if not isinstance(value, int | float) or isinstance(value, bool):
            return None
        return {"<": value < threshold, "<=": value <= threshold, ">": value > threshold, ">=": value >= threshold}[op]


@dataclass(frozen=True)
class Entry:
    key: str
    notebook: str
    expected: Any
    atol: float
    rtol: float
    claim: Claim | None

    @property
    def tolerance_text(self) -> str:
        if isinstance(self.expected, bool | str):
            return "exact"
        parts = []
        if self.atol:
            parts.append(f"±{self.atol:g}")
        if self.rtol:
            parts.append(f"±{self.rtol:.0%}")
        return " or ".join(parts)

    def matches(self, value: Any) -> bool:
        """Whether ``value`` equals ``expected`` within tolerance (elementwise for lists)."""
        return _close(value, self.expected, self.atol, self.rtol)


def parse_condition(text: str) -> tuple[str, float]:
    match = _CONDITION.match(str(text))
    if not match:
        raise RegistryError(f"holds_if must look like '< 0.03' or '> 0', got {text!r}")
    return match.group(1), float(match.group(2))


def _close(value: Any, expected: Any, atol: float, rtol: float) -> bool:
    if isinstance(expected, list):
        return isinstance(value, list) and len(value) == len(expected) and all(
            _close(v, e, atol, rtol) for v, e in zip(value, expected, strict=True)
        )
    if expected is None or value is None:
        return expected is None and value is None
    if isinstance(expected, bool | str) or isinstance(value, bool | str):
        return type(value) is type(expected) and value == expected
    return math.isclose(float(value), float(expected), abs_tol=atol, rel_tol=rtol)


def load_registry(path: Path = REGISTRY) -> list[Entry]:
    """Read and validate the registry file."""
    return parse_registry(path.read_text(), path)


def parse_registry(text: str, path: Path = REGISTRY) -> list[Entry]:
    """Validate registry ``text`` (the contents of ``path``, named in the errors)."""
    raw = yaml.safe_load(text) or []
    if not isinstance(raw, list):
        raise RegistryError(f"{path} must hold a list of entries")
    entries, seen = [], set()
    for i, item in enumerate(raw):
        where = f"{path.name} entry {i}"
        if not isinstance(item, dict) or not {"key", "notebook", "expected"} <= item.keys():
            raise RegistryError(f"{where}: needs key, notebook and expected")
        if unknown := set(item) - _ENTRY_KEYS:
            raise RegistryError(f"{where}: unknown fields {sorted(unknown)}")
        ident = (item["notebook"], item["key"])
        if ident in seen:
            raise RegistryError(f"{where}: {ident} is registered twice")
        seen.add(ident)
        atol, rtol = float(item.get("atol", 0.0)), float(item.get("rtol", 0.0))
        if not isinstance(item["expected"], bool | str) and atol == 0.0 and rtol == 0.0:
            raise RegistryError(f"{where} ({item['key']}): a number needs a stated tolerance (atol or rtol)")
        claim = None
        if "claim" in item:
            c = item["claim"]
            if not isinstance(c, dict) or set(c) != _CLAIM_KEYS:
                raise RegistryError(f"{where}: a claim needs exactly the fields {sorted(_CLAIM_KEYS)}")
            if c["verdict"] not in ("holds", "fails"):
                raise RegistryError(f"{where}: verdict must be 'holds' or 'fails', got {c['verdict']!r}")
            parse_condition(c["holds_if"])
            claim = Claim(**{k: str(v) for k, v in c.items()})
        entries.append(Entry(item["key"], item["notebook"], item["expected"], atol, rtol, claim))
    return entries


@dataclass(frozen=True)
class Check:
    """The comparison of one registry entry with a run's recorded value."""

    entry: Entry
    value: Any
    recorded: bool
    within_tolerance: bool
    claim_holds: bool | None

    @property
    def passed(self) -> bool:
        if not self.recorded or not self.within_tolerance:
            return False
        if self.entry.claim is None:
            return True
        return self.claim_holds == (self.entry.claim.verdict == "holds")


def check_results(entries: list[Entry], results: dict[str, dict[str, Any]]) -> tuple[list[Check], list[str]]:
    """Compare recorded results with the registry.

    ``results`` maps notebook name to its results JSON (as written by :mod:`.record`). Returns
    one :class:`Check` per entry whose notebook has results, and the list of recorded keys
    (``notebook:key``) that the registry lacks.
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


def update_expected(notebook: str, results: dict[str, Any], keys: list[str] | None = None, path: Path = REGISTRY) -> list[str]:
    """Rewrite the ``expected`` values of ``notebook``'s entries from its recorded ``results``.

    A maintainer's tool, for after a deliberate change of method: it edits only the
    ``expected:`` lines (comments, tolerances and claims stay as they are, so a claim whose
    verdict changed still fails until its ``verdict`` is edited by hand). ``keys`` limits the
    update; ``None`` updates every entry of the notebook. Returns the updated keys.
    """
    recorded = results["results"]
    lines = path.read_text().splitlines(keepends=True)
    out: list[str] = []
    updated, current_key, current_nb, skipping_value = [], None, None, False
    for line in lines:
        if skipping_value and line.startswith(("  - ", "    ")):
            continue  # the rest of the old value (block-style items, or a wrapped flow list)
        skipping_value = False
        if line.startswith("- key: "):
            current_key, current_nb = line[len("- key: ") :].strip(), None
        elif line.startswith("  notebook: "):
            current_nb = line[len("  notebook: ") :].strip()
        elif (
            line.startswith("  expected:")
            and current_nb == notebook
            and current_key in recorded
            and (keys is None or current_key in keys)
        ):
            text = yaml.safe_dump(recorded[current_key]["value"], default_flow_style=True, width=10_000)
            text = text.strip().removesuffix("...").strip()
            out.append(f"  expected: {text}\n")
            skipping_value = True
            updated.append(current_key)
            continue
        out.append(line)
    text = "".join(out)
    parse_registry(text, path)  # still valid, or the file is left as it was
    atomic_write_text(path, text)
    return updated


def main(argv: list[str] | None = None) -> None:
    """``python -m superposition.registry update NOTEBOOK [KEY ...]``: see :func:`update_expected`."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m superposition.registry", description="Maintain book/claims.yaml.")
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
