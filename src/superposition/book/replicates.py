"""Replicate runs of a notebook, and the tolerances of its trained numbers that they give.

Usage (from the repository root; ``make replicates NB=<name>`` wraps the first two)::

    python -m superposition.book.replicates run toy_alignment --runs 8   # the published run + 7 replicates
    python -m superposition.book.replicates tolerances toy_alignment     # spreads, atols, verdicts -> book/claims.yaml
    python -m superposition.book.replicates show toy_alignment           # spread and tolerance of every trained key

Replicate ``r`` executes the notebook at its default parameters with every seed parameter
shifted (:func:`superposition.book.tolerances.replicate_overrides`) into ``_build/replicates/r<r>/``.
Replicate 0 is the published run (``_build/results/<notebook>.json``, executed first when it is
missing or stale). The recorded values of every run are kept, with the run's commit, CPU and
wall time, in ``book/replicates/<notebook>.json``; the file is rewritten after each run, so an
interrupted ``run`` resumes with the replicates still missing. ``tolerances`` then writes each
trained entry's spread, runs and atol into the registry by the rule of
:mod:`superposition.book.tolerances`, and for a claim on it the interval of its mean over the runs
(``runs_interval``) and the verdict that interval gives.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..io import BOOK, BUILD, REGISTRY, RESULTS, atomic_write_json, notebook_path
from ..metrics.intervals import Estimate, mean_interval
from .params import read_parameters
from .registry import read_raw, write_raw
from .tolerances import SEED_STEP, replicate_overrides, spread, trained_tolerance
from .verdicts import parse_rule, verdict

REPLICATES = BOOK / "replicates"


def replicates_path(notebook: str) -> Path:
    """``book/replicates/<notebook>.json``.

    Parameters
    ----------
    notebook : str
        Notebook name.

    Returns
    -------
    pathlib.Path
        The replicate file.
    """
    return REPLICATES / f"{notebook}.json"


def load_replicates(notebook: str, path: Path | None = None) -> dict[str, Any]:
    """The replicate file of ``notebook`` (an empty one when none was written yet).

    Parameters
    ----------
    notebook : str
        Notebook name.
    path : pathlib.Path or None
        The file (default :func:`replicates_path`).

    Returns
    -------
    dict of str to Any
        ``notebook``, ``seed_step`` and ``runs``.
    """
    path = path or replicates_path(notebook)
    if not path.exists():
        return {"notebook": notebook, "seed_step": SEED_STEP, "runs": []}
    return json.loads(path.read_text())


def seed_overrides(notebook: str, replicate: int) -> dict[str, int]:
    """The seed parameters of ``notebook``'s replicate ``replicate``.

    Parameters
    ----------
    notebook : str
        Notebook name.
    replicate : int
        Replicate index (0: the published run).

    Returns
    -------
    dict of str to int
        Seed parameter values.
    """
    defaults = {p.name: p.default for p in read_parameters(notebook_path(notebook))}
    return replicate_overrides(defaults, replicate)


def _run_record(replicate: int, seeds: dict[str, int], data: dict[str, Any]) -> dict[str, Any]:
    prov = data["provenance"]
    return {
        "replicate": replicate,
        "seeds": seeds,
        "commit": prov.get("commit"),
        "run_key": prov.get("run_key"),
        "cpu": prov.get("cpu"),
        "device": prov.get("device"),
        "torch": prov.get("packages", {}).get("torch"),
        "started": prov.get("started"),
        "wall_time_s": prov.get("wall_time_s"),
        "values": {key: item["value"] for key, item in sorted(data["results"].items())},
        "intervals": {key: item["interval"] for key, item in sorted(data["results"].items()) if item.get("interval")},
    }


def run_replicates(notebook: str, n_runs: int, force: bool = False, path: Path | None = None) -> dict[str, Any]:
    """Execute the replicates of ``notebook`` up to ``n_runs`` runs in all; return the file's content.

    Replicates already in the file are kept unless ``force``. The file is written after each run.

    Parameters
    ----------
    notebook : str
        Notebook name.
    n_runs : int
        Runs in all, the published one included.
    force : bool
        Drop the replicates already recorded and run them again.
    path : pathlib.Path or None
        The replicate file (default :func:`replicates_path`).

    Returns
    -------
    dict of str to Any
        The replicate file's content.
    """
    from . import pipeline

    path = path or replicates_path(notebook)
    data = load_replicates(notebook, path) if not force else {"notebook": notebook, "seed_step": SEED_STEP, "runs": []}
    done = {run["replicate"] for run in data["runs"]}
    for replicate in range(n_runs):
        if replicate in done:
            continue
        seeds = seed_overrides(notebook, replicate)
        if replicate == 0:
            results = published_default_run(notebook) or pipeline.execute(notebook)
        else:
            results = pipeline.execute(notebook, overrides=seeds, force=True, output_dir=BUILD / "replicates" / f"r{replicate}")
        data["runs"].append(_run_record(replicate, seeds, json.loads(results.read_text())))
        data["runs"].sort(key=lambda run: run["replicate"])
        atomic_write_json(path, data)
        print(f"[{notebook}] replicate {replicate} recorded in {path.name} ({len(data['runs'])} of {n_runs} runs)", flush=True)
    return data


def published_default_run(notebook: str) -> Path | None:
    """``_build/results/<notebook>.json`` when it holds a complete run at the default parameters.

    Parameters
    ----------
    notebook : str
        Notebook name.

    Returns
    -------
    pathlib.Path or None
        The results file, or None.
    """
    from .pages import is_default_run

    path = RESULTS / f"{notebook}.json"
    if not path.exists():
        return None
    data = json.loads(path.read_text())
    return path if data.get("complete") and is_default_run(notebook, data) else None


def replicate_values(data: dict[str, Any], key: str) -> list[Any]:
    """The values of ``key`` over the runs of a replicate file (an error names runs that lack it).

    Parameters
    ----------
    data : dict of str to Any
        A replicate file's content.
    key : str
        Registry key of the value.

    Returns
    -------
    (n_runs,) list
        The values.
    """
    missing = [run["replicate"] for run in data["runs"] if key not in run["values"]]
    if missing:
        raise KeyError(f"{data['notebook']}:{key} is not recorded in replicates {missing}")
    return [run["values"][key] for run in data["runs"]]


def _rounded(value: Any) -> Any:
    """A spread stored to three significant figures (the tolerance is computed from this)."""
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return None if value is None else float(f"{value:.3g}")


def measured_spread(data: dict[str, Any], key: str, with_interval: bool = False) -> tuple[Any, int]:
    """The spread of ``key`` over the file's runs (three significant figures) and the number of runs.

    For a string or boolean the first item is None when the runs agree, else the list of the
    distinct values seen (in the order of the runs). For a number with an interval
    (``with_interval``) it is the largest of the spreads of the number and of its two bounds, so
    that one tolerance covers all three.

    Parameters
    ----------
    data : dict of str to Any
        A replicate file's content.
    key : str
        Registry key of the value.
    with_interval : bool
        Whether the number has an interval whose bounds share its tolerance.

    Returns
    -------
    spread : float, list or None
        The spread.
    n_runs : int
        Number of runs.
    """
    values = replicate_values(data, key)
    if all(isinstance(v, bool | str) for v in values):
        seen = list(dict.fromkeys(values))
        return (seen if len(seen) > 1 else None), len(values)
    if not with_interval:
        return _rounded(spread(values)), len(values)
    missing = [run["replicate"] for run in data["runs"] if key not in run.get("intervals", {})]
    if missing:
        raise KeyError(f"{data['notebook']}:{key} has no interval in replicates {missing}")
    bounds = [run["intervals"][key] for run in data["runs"]]
    spreads = [spread(values), spread([b[0] for b in bounds]), spread([b[1] for b in bounds])]
    return _rounded(max(spreads)), len(values)


@dataclass(frozen=True)
class ReplicateEvidence:
    """What the replicate runs of a notebook say about one claim: every run redraws every seed.

    Attributes
    ----------
    runs : int
        Replicate runs with the claim's number (the published one included).
    mean : Estimate
        The mean of the runs' numbers with its Student-t interval over the runs (model seeds, SAE
        and data draws all vary between runs).
    verdicts : dict of str to int
        How many runs' own intervals give each verdict.
    """

    runs: int
    mean: Estimate
    verdicts: dict[str, int]


def replicate_evidence(data: dict[str, Any], key: str, holds_if: str) -> ReplicateEvidence | None:
    """The claim on ``key`` across the replicate runs of a replicate file.

    The interval of the runs' mean is the one a trained claim's verdict reads (``runs_interval``);
    the counts show how each run's own interval comes out when every seed is drawn again.

    Parameters
    ----------
    data : dict of str to Any
        A replicate file's content.
    key : str
        Registry key of the claim's number.
    holds_if : str
        The claim's rule.

    Returns
    -------
    ReplicateEvidence or None
        None when fewer than two runs recorded the number with an interval.
    """
    runs = [run for run in data["runs"] if isinstance(run["values"].get(key), int | float) and key in run.get("intervals", {})]
    if len(runs) < 2:
        return None
    rule = parse_rule(holds_if)
    counts = {name: 0 for name in ("holds", "fails", "inconclusive")}
    for run in runs:
        counts[verdict(rule, *run["intervals"][key])] += 1
    mean = mean_interval([run["values"][key] for run in runs], f"{len(runs)} replicate runs, every seed redrawn")
    return ReplicateEvidence(len(runs), mean, counts)


def apply_tolerances(notebook: str, data: dict[str, Any] | None = None, registry: Path = REGISTRY) -> list[str]:
    """Write spread, runs and atol of every trained entry of ``notebook`` into the registry.

    Also the interval over the runs and the verdict of each claim on one. The registry is left as it was when the
    result would be invalid.

    Parameters
    ----------
    notebook : str
        Notebook name.
    data : dict of str to Any or None
        A replicate file's content (default: the notebook's file).
    registry : pathlib.Path
        The registry file.

    Returns
    -------
    list of str
        One line per change of verdict.
    """
    data = data or load_replicates(notebook)
    header, items = read_raw(registry)
    changes = set_trained_tolerances(items, notebook, data)
    write_raw(header, items, registry)
    return changes


def set_trained_tolerances(items: list[dict[str, Any]], notebook: str, data: dict[str, Any]) -> list[str]:
    """:func:`apply_tolerances` on registry entries held as plain dicts (changed in place).

    Parameters
    ----------
    items : list of dict
        Registry entries.
    notebook : str
        Notebook name.
    data : dict of str to Any
        A replicate file's content, with at least one run.

    Returns
    -------
    list of str
        One line per change of verdict.
    """
    if not data["runs"]:
        raise ValueError(f"no replicate runs of {notebook}; run `python -m superposition.book.replicates run {notebook}` first")
    changes = []
    for item in items:
        if item["notebook"] != notebook or item["kind"] != "trained":
            continue
        measured, n_runs = measured_spread(data, item["key"], with_interval="interval" in item)
        for stale in ("rtol", "atol", "spread", "seen"):
            item.pop(stale, None)
        item["runs"] = n_runs
        if isinstance(item["expected"], bool | str):
            if measured is not None:
                item["seen"] = measured
            continue
        item["spread"] = measured
        item["atol"] = trained_tolerance(measured, n_runs)
        item.pop("runs_interval", None)
        if "claim" in item and "interval" in item:
            evidence = replicate_evidence(data, item["key"], item["claim"]["holds_if"])
            if evidence is None:
                raise ValueError(f"{notebook}:{item['key']}: a trained claim needs its number and interval in at least 2 replicate runs")
            item["runs_interval"] = [float(f"{evidence.mean.low:.6g}"), float(f"{evidence.mean.high:.6g}")]
            new = verdict(parse_rule(item["claim"]["holds_if"]), *item["runs_interval"])
            if new != item["claim"]["verdict"]:
                changes.append(f"{item['claim']['id']} ({item['key']}): {item['claim']['verdict']} -> {new}")
                item["claim"]["verdict"] = new
    return changes


def show(notebook: str) -> str:
    """A table of the trained entries of ``notebook``: value, spread, runs and tolerance.

    Parameters
    ----------
    notebook : str
        Notebook name.

    Returns
    -------
    str
        The table.
    """
    from .registry import load_registry

    lines = [f"{'key':<48} {'expected':>12} {'spread':>10} {'runs':>4} {'atol':>10}"]
    for entry in load_registry():
        if entry.notebook == notebook and entry.kind == "trained":
            fmt = lambda v: f"max {max(x for x in v if x is not None):.3g}" if isinstance(v, list) else f"{v:.3g}" if isinstance(v, float | int) and not isinstance(v, bool) else str(v)  # noqa: E731
            lines.append(f"{entry.key:<48} {fmt(entry.expected):>12} {fmt(entry.spread):>10} {entry.runs!s:>4} {fmt(entry.atol):>10}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command line: ``run``, ``tolerances`` or ``show``.

    Parameters
    ----------
    argv : list of str or None
        Arguments (None: ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status, 0.
    """
    parser = argparse.ArgumentParser(prog="python -m superposition.book.replicates", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="execute replicate runs and keep their values in book/replicates/")
    run.add_argument("notebook")
    run.add_argument("--runs", type=int, default=8, help="runs in all, the published one included (default 8)")
    run.add_argument("--force", action="store_true", help="drop the replicates already recorded and run them again")
    tolerances = sub.add_parser("tolerances", help="write the trained tolerances of a notebook into book/claims.yaml")
    tolerances.add_argument("notebook")
    shown = sub.add_parser("show", help="list the spread and tolerance of every trained number of a notebook")
    shown.add_argument("notebook")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    notebook_path(args.notebook)  # an unknown notebook is refused before anything runs
    if args.command == "run":
        run_replicates(args.notebook, args.runs, args.force)
    elif args.command == "tolerances":
        changes = apply_tolerances(args.notebook)
        print(f"trained tolerances of {args.notebook} written to {REGISTRY.relative_to(REGISTRY.parents[1])}")
        for line in changes:
            print(f"  verdict changed: {line}")
    else:
        print(show(args.notebook))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
