"""Parameter sweeps: one notebook run per grid point, scheduled by Snakemake, gathered into a table.

A sweep is declared in ``notebooks/<notebook>.<sweep>.sweep.yaml``, beside its notebook::

    description: where does the toy claim hold?    # one paragraph, shown on the sweep's page
    base_profile: default                          # the notebook profile every point starts from
    base:                                          # parameters of every point
      n_eval_batches: 8
    grid:                                          # parameter -> values; the points are the product
      feature_probability: [0.05, 0.1, 0.2]
      widths: ["8", "16", "32"]
    collect:                                       # column -> the recorded key, filled from the point
      semi-matching: change_semi_matching_w{widths}_mean
    rule: "> 0"                                    # the verdict rule of every collected number
    profiles:                                      # named variants of base_profile, base and grid
      paper: {base: {n_eval_batches: 0}, grid: {feature_probability: [0.02, 0.05, 0.1, 0.2, 0.4]}}

Each point is one :func:`~superposition.book.pipeline.execute` into a folder named by the point's
run key (:func:`~superposition.book.pipeline.run_key`: notebook, the library modules it imports,
lock file, parameters), so an unchanged point is never recomputed and a library change recomputes
exactly the points of the notebooks that import it. Snakemake (``workflow/Snakefile``, installed in
its own environment ``.venv-sweep`` by ``make sweep-env``) runs the points on the local cores or,
with a profile from ``workflow/profiles/`` (``CLUSTER=slurm``), one cluster job per point; a run
that stops resumes where it stopped, and a failing point is reported by name and leaves the others.

- :func:`load_sweep` reads and checks a sweep file (before anything is computed);
- :func:`plan` writes the points and their run keys (``plan.json``), which the Snakefile reads;
- :func:`run_point` executes one point; :func:`gather` collects the points' numbers, verdicts and
  provenance into ``table.json`` / ``table.csv`` and draws the sweep's figures;
- :func:`missing_points` names the points without results (failed, or not run yet);
- :func:`run_sweep` does all of it: plan, Snakemake, report;
- :func:`publish` copies a gathered table and its figures into ``book/sweeps/`` (committed), so
  that the book shows a sweep that is too long for every build; :func:`published_tables` reads
  them back with :func:`stale_points`, the points whose run key this checkout would compute
  differently.

Usage (the Makefile wraps ``run``)::

    python -m superposition.book.sweeps run toy_alignment sparsity_width [--profile paper] [--cluster slurm] [--cores 2]
    python -m superposition.book.sweeps plan toy_alignment sparsity_width
    python -m superposition.book.sweeps publish toy_alignment sae_recipe [--profile default]
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..io import BUILD, ROOT, atomic_write_json, notebook_names, notebook_path, replace_folder
from .params import ParameterError
from .verdicts import parse_rule, verdict

SWEEP_SUFFIX = ".sweep.yaml"
SWEEPS = BUILD / "sweeps"
PUBLISHED = ROOT / "book" / "sweeps"
"""Gathered sweep tables kept with the book: ``<notebook>/<sweep>/<profile>/table.json`` and figures."""
WORKFLOW = ROOT / "workflow"
SNAKEMAKE_ENV = "SUPERPOSITION_SNAKEMAKE"
"""Environment variable naming the snakemake executable (default ``.venv-sweep/bin/snakemake``)."""
FIELDS = {"description", "base_profile", "base", "grid", "collect", "rule", "profiles"}
DEFAULT_SWEEP_PROFILE = "default"


@dataclass(frozen=True)
class Sweep:
    """A sweep as declared, with a profile applied.

    Attributes
    ----------
    notebook, name, profile : str
        The notebook, the sweep's name and the sweep profile applied.
    description : str
        What the sweep asks.
    base_profile : str
        The notebook profile every point starts from.
    base : dict of str to Any
        Parameters of every point.
    grid : dict of str to list
        Parameter -> values; the points are their product, in order.
    collect : dict of str to str
        Column -> recorded key, a format string filled with the point's parameters.
    rule : str or None
        Verdict rule of every collected number (:func:`superposition.book.verdicts.parse_rule`).
    path : pathlib.Path
        The sweep file.
    """

    notebook: str
    name: str
    profile: str
    description: str
    base_profile: str
    base: dict[str, Any]
    grid: dict[str, list[Any]]
    collect: dict[str, str]
    rule: str | None
    path: Path


@dataclass(frozen=True)
class Point:
    """One point of a sweep.

    Attributes
    ----------
    id : str
        ``name=value`` pairs of the grid parameters, joined by commas: the point's name in reports.
    values : dict of str to Any
        The grid parameters' values.
    parameters : dict of str to Any
        Every parameter the run gets (profile, base and grid values, checked).
    run_key : str
        The run key; the point's folder.
    """

    id: str
    values: dict[str, Any]
    parameters: dict[str, Any] = field(repr=False)
    run_key: str


def sweep_path(notebook: str, sweep: str) -> Path:
    """The file declaring ``sweep`` of ``notebook``: ``notebooks/<notebook>.<sweep>.sweep.yaml``.

    Parameters
    ----------
    notebook, sweep : str
        The notebook and the sweep.

    Returns
    -------
    pathlib.Path
        The path (it may not exist).
    """
    return notebook_path(notebook).parent / f"{notebook}.{sweep}{SWEEP_SUFFIX}"


def available_sweeps(notebook: str) -> list[str]:
    """The sweeps declared beside ``notebook``.

    Parameters
    ----------
    notebook : str
        The notebook.

    Returns
    -------
    list of str
        Sweep names, sorted.
    """
    folder = notebook_path(notebook).parent
    return sorted(p.name[len(notebook) + 1 : -len(SWEEP_SUFFIX)] for p in folder.glob(f"{notebook}.*{SWEEP_SUFFIX}"))


def all_sweeps() -> list[tuple[str, str]]:
    """Every declared ``(notebook, sweep)``.

    Returns
    -------
    list of (str, str)
        The sweeps, by notebook.
    """
    return [(nb, s) for nb in notebook_names() for s in available_sweeps(nb)]


def load_sweep(notebook: str, sweep: str, profile: str = DEFAULT_SWEEP_PROFILE, path: Path | None = None) -> Sweep:
    """Read and check a sweep file; raise :class:`ParameterError` naming what is wrong.

    Parameters
    ----------
    notebook : str
        The notebook.
    sweep : str
        The sweep's name.
    profile : str
        ``default``, or a key of the file's ``profiles``.
    path : pathlib.Path or None
        The sweep file (default :func:`sweep_path`).

    Returns
    -------
    Sweep
        The sweep with the profile applied.
    """
    if notebook not in notebook_names():
        raise ParameterError(f"unknown notebook {notebook!r}; allowed: {', '.join(notebook_names())}")
    path = sweep_path(notebook, sweep) if path is None else Path(path)
    if not path.is_file():
        raise ParameterError(f"no sweep {sweep!r} for {notebook} ({path} does not exist); declared sweeps: {', '.join(available_sweeps(notebook)) or 'none'}")
    try:
        spec = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as error:
        raise ParameterError(f"sweep file {path} is not valid YAML: {error}") from None
    if not isinstance(spec, dict) or set(spec) - FIELDS:
        raise ParameterError(f"sweep file {path} must be a mapping with the fields {sorted(FIELDS)}; got {sorted(spec) if isinstance(spec, dict) else type(spec).__name__}")
    profiles = spec.get("profiles") or {}
    if profile != DEFAULT_SWEEP_PROFILE and profile not in profiles:
        raise ParameterError(f"unknown sweep profile {profile!r} for {path.name}; allowed: {', '.join([DEFAULT_SWEEP_PROFILE, *profiles])}")
    changes = profiles.get(profile, {}) if profile != DEFAULT_SWEEP_PROFILE else {}
    if set(changes) - {"base", "grid", "base_profile"}:
        raise ParameterError(f"sweep file {path}: profile {profile!r} may change 'base_profile', 'base' and 'grid' only; got {sorted(changes)}")
    base = {**(spec.get("base") or {}), **(changes.get("base") or {})}
    grid = {**(spec.get("grid") or {}), **(changes.get("grid") or {})}
    if not grid or not all(isinstance(v, list) and v for v in grid.values()):
        raise ParameterError(f"sweep file {path}: 'grid' must map each parameter to a non-empty list of values; got {grid!r}")
    if set(grid) & set(base):
        raise ParameterError(f"sweep file {path}: parameters {sorted(set(grid) & set(base))} are both in 'base' and in 'grid'")
    collect = spec.get("collect") or {}
    if not collect or not all(isinstance(k, str) and isinstance(v, str) for k, v in collect.items()):
        raise ParameterError(f"sweep file {path}: 'collect' must map column names to recorded keys; got {collect!r}")
    unknown = {name for template in collect.values() for name in re.findall(r"{(\w+)}", template)} - set(grid) - set(base)
    if unknown:
        raise ParameterError(f"sweep file {path}: 'collect' refers to {sorted(unknown)}, which are neither grid nor base parameters")
    rule = spec.get("rule")
    if rule is not None:
        try:
            parse_rule(str(rule))
        except ValueError as error:
            raise ParameterError(f"sweep file {path}: 'rule' must look like '> 0', '< 0.03' or 'within ±0.01'; got {rule!r}") from error
    base_profile = str(changes.get("base_profile", spec.get("base_profile", "default")))
    return Sweep(notebook, sweep, profile, str(spec.get("description", "")).strip(), base_profile, base, grid, dict(collect), rule, path)


def points(sweep: Sweep) -> list[Point]:
    """The sweep's points, in the order of the grid's product, each with its checked parameters.

    Parameters
    ----------
    sweep : Sweep
        The sweep.

    Returns
    -------
    list of Point
        The points.
    """
    from .pipeline import resolve_parameters, run_key

    out = []
    for combination in itertools.product(*sweep.grid.values()):
        values = dict(zip(sweep.grid, combination))
        parameters = resolve_parameters(sweep.notebook, sweep.base_profile, {**sweep.base, **values})
        point_id = ",".join(f"{k}={v}" for k, v in values.items())
        out.append(Point(point_id, values, parameters, run_key(sweep.notebook, parameters)))
    return out


def sweep_root(sweep: Sweep, out: Path | None = None) -> Path:
    """The sweep's folder: ``<out>/<notebook>/<sweep>/<profile>`` (default ``_build/sweeps``).

    Parameters
    ----------
    sweep : Sweep
        The sweep.
    out : pathlib.Path or None
        The sweeps' folder.

    Returns
    -------
    pathlib.Path
        The folder.
    """
    return (SWEEPS if out is None else Path(out)) / sweep.notebook / sweep.name / sweep.profile


def plan(sweep: Sweep, out: Path | None = None) -> Path:
    """Write the sweep's plan: its points, their run keys and where their results go.

    Parameters
    ----------
    sweep : Sweep
        The sweep.
    out : pathlib.Path or None
        The sweeps' folder (default ``_build/sweeps``).

    Returns
    -------
    pathlib.Path
        ``plan.json`` in :func:`sweep_root`.
    """
    root = sweep_root(sweep, out)
    entries = [
        {"id": p.id, "values": p.values, "parameters": p.parameters, "run_key": p.run_key, "results": str(root / "points" / p.run_key / "results" / f"{sweep.notebook}.json")}
        for p in points(sweep)
    ]
    keys = [e["run_key"] for e in entries]
    if len(set(keys)) != len(keys):
        raise ParameterError(f"sweep {sweep.name}: two grid points give the same run (same parameters); check the grid {sweep.grid!r}")
    data = {
        "notebook": sweep.notebook, "sweep": sweep.name, "profile": sweep.profile, "file": str(sweep.path), "description": sweep.description,
        "base_profile": sweep.base_profile, "base": sweep.base, "rule": sweep.rule,
        "grid": [[k, v] for k, v in sweep.grid.items()], "collect": [[k, v] for k, v in sweep.collect.items()],  # lists: JSON keeps their order
        "root": str(root), "table": str(root / "table.json"), "points": entries,
    }  # fmt: skip
    path = root / "plan.json"
    atomic_write_json(path, data)
    return path


def read_plan(path: Path) -> dict[str, Any]:
    """A plan written by :func:`plan`.

    Parameters
    ----------
    path : pathlib.Path
        ``plan.json``.

    Returns
    -------
    dict
        The plan.
    """
    return json.loads(Path(path).read_text())


def run_point(plan_path: Path, key: str) -> Path:
    """Execute the point with run key ``key`` into its own folder.

    Parameters
    ----------
    plan_path : pathlib.Path
        The plan.
    key : str
        The point's run key.

    Returns
    -------
    pathlib.Path
        The point's results.
    """
    from .pipeline import execute

    data = read_plan(plan_path)
    entry = next((e for e in data["points"] if e["run_key"] == key), None)
    if entry is None:
        raise ParameterError(f"no point with run key {key!r} in {plan_path}")
    folder = Path(data["root"]) / "points" / key
    overrides = {k: v for k, v in entry["parameters"].items() if k != "profile"}
    print(f"[sweep {data['sweep']}] point {entry['id']} (run key {key})", flush=True)
    results = execute(data["notebook"], data["base_profile"], overrides, force=True, output_dir=folder)
    atomic_write_json(folder / "point.json", {"id": entry["id"], "values": entry["values"], "run_key": key})
    return results


def missing_points(plan_path: Path) -> list[dict[str, Any]]:
    """The points of a plan without results: failed, or not run yet.

    Parameters
    ----------
    plan_path : pathlib.Path
        The plan.

    Returns
    -------
    list of dict
        Their plan entries.
    """
    return [e for e in read_plan(plan_path)["points"] if not Path(e["results"]).is_file()]


def _collected(results: dict[str, Any], key: str) -> tuple[float, float, float]:
    """(value, low, high) of a recorded number; the interval is NaN when none was recorded."""
    if key not in results:
        raise KeyError(key)
    entry = results[key]
    low, high = entry.get("interval") or (float("nan"), float("nan"))
    return float(entry["value"]), float(low), float(high)


def gather(plan_path: Path) -> Path:
    """Collect every point's numbers, verdicts and provenance into one table, and draw the figures.

    The table holds one row per point: the grid values, for each collected column its value,
    interval (``<column> low``, ``<column> high``) and verdict under the sweep's rule (holds or
    fails only when the whole interval says so), and the point's run key, commit, device and wall
    time. Written as ``table.json`` (with the plan's description) and ``table.csv``; the figures go
    to ``figures/`` (:func:`draw_figures`).

    Parameters
    ----------
    plan_path : pathlib.Path
        The plan.

    Returns
    -------
    pathlib.Path
        ``table.json``.
    """
    data = read_plan(plan_path)
    rule = parse_rule(data["rule"]) if data.get("rule") else None
    rows = []
    for entry in data["points"]:
        run = json.loads(Path(entry["results"]).read_text())
        prov = run["provenance"]
        row: dict[str, Any] = {"point": entry["id"], **entry["values"]}
        for column, template in data["collect"]:
            key = template.format(**entry["parameters"])
            try:
                value, low, high = _collected(run["results"], key)
            except KeyError:
                raise ParameterError(f"sweep {data['sweep']}: point {entry['id']} recorded no {key!r} (collect column {column!r})") from None
            row |= {column: value, f"{column} low": low, f"{column} high": high}
            if rule is not None:
                low_, high_ = (low, high) if low == low else (value, value)
                row[f"{column} verdict"] = verdict(rule, low_, high_)
        row |= {"run_key": entry["run_key"], "commit": prov.get("commit"), "device": prov.get("device"), "wall_time_s": prov.get("wall_time_s")}
        rows.append(row)
    root = Path(data["root"])
    table = {key: data[key] for key in ("notebook", "sweep", "profile", "description", "grid", "collect", "rule", "base", "base_profile")} | {"rows": rows}
    table["figures"] = draw_figures(dict(data["grid"]), [c for c, _ in data["collect"]], rows, data.get("rule"), root / "figures")
    with open(root / "table.csv.tmp", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    os.replace(root / "table.csv.tmp", root / "table.csv")
    atomic_write_json(root / "table.json", table)
    return root / "table.json"


def publish(notebook: str, sweep: str, profile: str = DEFAULT_SWEEP_PROFILE, out: Path | None = None, published: Path | None = None) -> Path:
    """Copy a gathered sweep (table and figures) into the book's published sweeps.

    Refused unless every point of the sweep as declared now has a row in the table, each with
    the run key this checkout computes for it: what is published was made by this code.

    Parameters
    ----------
    notebook, sweep, profile : str
        The sweep and its profile.
    out : pathlib.Path or None
        The sweeps' folder it was gathered in (default ``_build/sweeps``).
    published : pathlib.Path or None
        The published sweeps' folder (default :data:`PUBLISHED`).

    Returns
    -------
    pathlib.Path
        The published ``table.json``.
    """
    import shutil

    declared = load_sweep(notebook, sweep, profile)
    source = sweep_root(declared, out)
    if not (source / "table.json").is_file():
        raise ParameterError(f"sweep {sweep} ({profile}) of {notebook} has no gathered table in {source}: run it first (make sweep NB={notebook} SWEEP={sweep})")
    table = json.loads((source / "table.json").read_text())
    stale = stale_points(table, declared)
    if stale:
        raise ParameterError(f"sweep {sweep} ({profile}) of {notebook}: points {stale} were not run with this checkout's code or parameters; run the sweep again before publishing")
    target = (PUBLISHED if published is None else Path(published)) / notebook / sweep / profile

    def fill(scratch: Path) -> None:
        shutil.copyfile(source / "table.json", scratch / "table.json")
        shutil.copyfile(source / "table.csv", scratch / "table.csv")
        (scratch / "figures").mkdir()
        for name in table["figures"]:
            shutil.copyfile(source / "figures" / name, scratch / "figures" / name)

    replace_folder(target, fill)
    return target / "table.json"


def stale_points(table: dict[str, Any], declared: Sweep) -> list[str]:
    """The points of ``declared`` that ``table`` lacks or holds with another run key.

    Parameters
    ----------
    table : dict
        A gathered table (:func:`gather`).
    declared : Sweep
        The sweep as its file declares it now.

    Returns
    -------
    list of str
        Point names, in the grid's order; empty when the table is this checkout's.
    """
    keys = {row["point"]: row["run_key"] for row in table["rows"]}
    return [point.id for point in points(declared) if keys.get(point.id) != point.run_key]


def published_tables(notebook: str, sweep: str, published: Path | None = None) -> dict[str, dict[str, Any]]:
    """The published tables of a sweep, by profile, each with ``"published"``: its folder and stale points.

    Parameters
    ----------
    notebook, sweep : str
        The sweep.
    published : pathlib.Path or None
        The published sweeps' folder (default :data:`PUBLISHED`).

    Returns
    -------
    dict of str to dict
        Profile -> table, with ``table["published"] = {"folder": ..., "stale": [...]}``.
    """
    tables = {}
    for path in sorted(((PUBLISHED if published is None else Path(published)) / notebook / sweep).glob("*/table.json")):
        table = json.loads(path.read_text())
        try:
            stale = stale_points(table, load_sweep(notebook, sweep, path.parent.name))
        except ParameterError:  # the profile is no longer declared
            stale = [row["point"] for row in table["rows"]]
        tables[path.parent.name] = table | {"published": {"folder": str(path.parent), "stale": stale}}
    return tables


VERDICT_MARKS = {"holds": "+", "fails": "−", "inconclusive": "?"}


def draw_figures(grid: dict[str, list[Any]], columns: list[str], rows: list[dict[str, Any]], rule: str | None, folder: Path) -> list[str]:
    """Figures of a gathered sweep: a heat map per collected column over the first two grid
    parameters (each cell marked + holds, − fails, ? inconclusive, with black lines where the
    verdict changes), or a line with its interval over a one-parameter grid; further grid
    parameters are averaged over.

    Parameters
    ----------
    grid : dict of str to list
        The sweep's grid, in order.
    columns : list of str
        The collected columns, in order.
    rows : list of dict
        The gathered rows (:func:`gather`).
    rule : str or None
        The verdict rule (for the titles).
    folder : pathlib.Path
        Where the PNG files go.

    Returns
    -------
    list of str
        The file names written, one per collected column.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    folder.mkdir(parents=True, exist_ok=True)
    axes_names = list(grid)
    names = []
    for j, column in enumerate(columns):
        fig, ax = plt.subplots(figsize=(4.6, 3.6))
        if len(axes_names) == 1:
            xs = grid[axes_names[0]]
            by = {str(r[axes_names[0]]): r for r in rows}
            values = np.array([by[str(x)][column] for x in xs], dtype=float)
            low = np.array([by[str(x)][f"{column} low"] for x in xs], dtype=float)
            high = np.array([by[str(x)][f"{column} high"] for x in xs], dtype=float)
            ax.errorbar(range(len(xs)), values, yerr=[values - low, high - values], fmt="o-", capsize=3)
            ax.axhline(0, color="k", lw=0.8)
            ax.set(xticks=range(len(xs)), xticklabels=[str(x) for x in xs], xlabel=axes_names[0], ylabel=column)
        else:
            xs, ys = grid[axes_names[0]], grid[axes_names[1]]
            heat = np.full((len(ys), len(xs)), np.nan)
            marks = [["" for _ in xs] for _ in ys]
            for r in rows:
                i, k = ys.index(r[axes_names[1]]), xs.index(r[axes_names[0]])
                heat[i, k] = r[column] if np.isnan(heat[i, k]) else (heat[i, k] + r[column]) / 2
                marks[i][k] = VERDICT_MARKS.get(r.get(f"{column} verdict", ""), "")
            centre = parse_rule(rule).threshold if rule and parse_rule(rule).op != "within" else 0.0  # colours diverge at the rule's threshold
            bound = float(np.nanmax(np.abs(heat - centre))) or 1.0
            image = ax.imshow(heat, cmap="RdBu_r", vmin=centre - bound, vmax=centre + bound, origin="lower", aspect="auto")
            for i in range(len(ys)):
                for k in range(len(xs)):
                    ax.text(k, i, f"{heat[i, k]:+.3f}\n{marks[i][k]}", ha="center", va="center", fontsize=7)
            for i in range(len(ys)):  # the boundaries between verdicts: a line between neighbours that differ
                for k in range(len(xs)):
                    if k + 1 < len(xs) and marks[i][k] != marks[i][k + 1]:
                        ax.plot([k + 0.5, k + 0.5], [i - 0.5, i + 0.5], color="k", lw=2.2)
                    if i + 1 < len(ys) and marks[i][k] != marks[i + 1][k]:
                        ax.plot([k - 0.5, k + 0.5], [i + 0.5, i + 0.5], color="k", lw=2.2)
            ax.set(xticks=range(len(xs)), xticklabels=[str(x) for x in xs], yticks=range(len(ys)), yticklabels=[str(y) for y in ys],
                   xlabel=axes_names[0], ylabel=axes_names[1])  # fmt: skip
            fig.colorbar(image, ax=ax, shrink=0.85, label=column)
        ax.set_title(f"{column}" + (f" (rule {rule})" if rule else ""), fontsize=9)
        fig.tight_layout()
        name = f"{j:02d}_{re.sub(r'[^a-z0-9]+', '_', column.lower()).strip('_')}.png"
        fig.savefig(folder / name, dpi=110)
        plt.close(fig)
        names.append(name)
    return names


def snakemake_command(plan_path: Path, cores: int | str = "all", cluster: str | None = None, dry_run: bool = False) -> list[str]:
    """The Snakemake command line that runs a plan.

    Parameters
    ----------
    plan_path : pathlib.Path
        The plan.
    cores : int or str
        Local cores (``all``: every core).
    cluster : str or None
        A profile folder of ``workflow/profiles`` (e.g. ``slurm``); None runs locally.
    dry_run : bool
        Plan only (``-n``).

    Returns
    -------
    list of str
        The command.
    """
    executable = os.environ.get(SNAKEMAKE_ENV) or str(ROOT / ".venv-sweep" / "bin" / "snakemake")
    command = [executable, "--snakefile", str(WORKFLOW / "Snakefile"), "--directory", str(ROOT), "--cores", str(cores),
               "--keep-going", "--rerun-incomplete", "--config", f"plan={Path(plan_path).resolve()}", f"python={sys.executable}"]  # fmt: skip
    if cluster is not None:
        profile = WORKFLOW / "profiles" / cluster
        if not profile.is_dir():
            allowed = sorted(p.name for p in (WORKFLOW / "profiles").iterdir() if p.is_dir())
            raise ParameterError(f"unknown cluster profile {cluster!r}; allowed: {', '.join(allowed)}")
        command += ["--workflow-profile", str(profile)]
    if dry_run:
        command.append("--dry-run")
    return command


def run_sweep(notebook: str, sweep: str, profile: str = DEFAULT_SWEEP_PROFILE, cores: int | str = "all", cluster: str | None = None,
              out: Path | None = None, dry_run: bool = False, path: Path | None = None) -> int:  # fmt: skip
    """Plan a sweep, run its points with Snakemake, gather them, and report missing points by name.

    Parameters
    ----------
    notebook, sweep, profile : str
        The sweep.
    cores : int or str
        Local cores.
    cluster : str or None
        A cluster profile (``workflow/profiles/<cluster>``).
    out : pathlib.Path or None
        The sweeps' folder (default ``_build/sweeps``).
    dry_run : bool
        Plan only.
    path : pathlib.Path or None
        The sweep file (default :func:`sweep_path`).

    Returns
    -------
    int
        0 when every point has results (or on a dry run that plans), else 1.
    """
    plan_path = plan(load_sweep(notebook, sweep, profile, path), out)
    n = len(read_plan(plan_path)["points"])
    print(f"[sweep {sweep}] {n} points of {notebook}, plan in {plan_path}", flush=True)
    if missing_points(plan_path) and not dry_run:  # a table that does not cover every point must not stand (Snakemake keeps it otherwise)
        for name in ("table.json", "table.csv"):
            (plan_path.parent / name).unlink(missing_ok=True)
    code = subprocess.run(snakemake_command(plan_path, cores, cluster, dry_run), cwd=ROOT).returncode
    if dry_run:
        return code
    missing = missing_points(plan_path)
    for entry in missing:
        print(f"[sweep {sweep}] point failed or not run: {entry['id']} (run key {entry['run_key']})", flush=True)
    if code == 0 and not missing:
        print(f"[sweep {sweep}] table: {read_plan(plan_path)['table']}", flush=True)
    return 0 if code == 0 and not missing else 1


def _parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m superposition.book.sweeps", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("run", "plan"):
        p = sub.add_parser(name)
        p.add_argument("notebook")
        p.add_argument("sweep")
        p.add_argument("--profile", default=DEFAULT_SWEEP_PROFILE)
        p.add_argument("--out", type=Path, default=None)
        if name == "run":
            p.add_argument("--cores", default="all")
            p.add_argument("--cluster", default=None)
            p.add_argument("--dry-run", action="store_true")
            p.add_argument("--file", type=Path, default=None, help="the sweep file (default notebooks/<notebook>.<sweep>.sweep.yaml)")
    p = sub.add_parser("publish")
    p.add_argument("notebook")
    p.add_argument("sweep")
    p.add_argument("--profile", default=DEFAULT_SWEEP_PROFILE)
    p.add_argument("--out", type=Path, default=None)
    for name in ("point", "gather"):
        p = sub.add_parser(name)
        p.add_argument("plan", type=Path)
        if name == "point":
            p.add_argument("run_key")
    sub.add_parser("list")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Command line: ``run``, ``plan``, ``point``, ``gather``, ``publish`` or ``list``.

    Parameters
    ----------
    argv : list of str or None
        Arguments (None: ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status: 0 on success, 1 when a point failed or did not run, 2 for a wrong sweep file or parameters.
    """
    args = _parse_args(sys.argv[1:] if argv is None else argv)
    try:
        if args.command == "run":
            return run_sweep(args.notebook, args.sweep, args.profile, args.cores, args.cluster, args.out, args.dry_run, args.file)
        if args.command == "plan":
            print(plan(load_sweep(args.notebook, args.sweep, args.profile), args.out))
        elif args.command == "point":
            run_point(args.plan, args.run_key)
        elif args.command == "gather":
            print(gather(args.plan))
        elif args.command == "publish":
            print(publish(args.notebook, args.sweep, args.profile, args.out))
        else:
            for notebook, sweep in all_sweeps():
                print(f"{notebook} {sweep}: {sweep_path(notebook, sweep).relative_to(ROOT)}")
    except ParameterError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
