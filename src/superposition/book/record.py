"""Record a notebook's results: glue each number for the prose and write it, with provenance.

A notebook starts a :class:`Run` right after its parameters are validated, calls
:meth:`Run.record` for every number the book prints, and :meth:`Run.finish` at the end::

    run = start_run("compressed_sensing", params)
    run.record("boundary_gap_max_signed", gap, "largest |empirical - exact| boundary distance")
    run.finish()

Results go to a JSON file: ``$SUPERPOSITION_RESULTS`` when the runner executes the notebook
(a temporary file that it publishes to ``_build/results/<notebook>.json`` only after a complete
run), otherwise ``_build/scratch/<notebook>.json``. Every write is atomic, and a file is marked
``"complete": true`` only by :meth:`Run.finish`.
"""

from __future__ import annotations

import math
import os
import platform
import re
import subprocess
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

from ..io import ROOT, SCRATCH, atomic_write_json, notebook_path
from .params import DEFAULT_PROFILE, ParameterValue, read_parameters

RESULTS_ENV = "SUPERPOSITION_RESULTS"
RUN_KEY_ENV = "SUPERPOSITION_RUN_KEY"
KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
PACKAGES = ("torch", "numpy", "scipy", "matplotlib", "seaborn", "papermill", "jupytext", "jupyter-book", "myst-nb")

Value = bool | int | float | str | None | list


def git_commit() -> str:
    """The current commit (short hash, ``+dirty`` when the tree has changes), or ``unknown``."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + ("+dirty" if dirty else "")


def package_versions(names: tuple[str, ...] = PACKAGES) -> dict[str, str]:
    """Installed versions of the packages that shape the numbers."""
    versions = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def plain_value(value: Any) -> Value:
    """Convert numpy/torch scalars and arrays to plain Python; non-finite floats become None."""
    if hasattr(value, "tolist") and not isinstance(value, str):
        value = value.tolist()
    if isinstance(value, tuple):
        value = list(value)
    if isinstance(value, list):
        return [plain_value(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, bool | int | float | str):
        return value
    raise TypeError(f"cannot record a value of type {type(value).__name__}; use numbers, strings, booleans or lists")


@dataclass
class Run:
    """One execution of one notebook: its parameters, results and provenance."""

    notebook: str
    parameters: dict[str, ParameterValue]
    device: str
    path: Path
    started: float = field(default_factory=time.time)
    results: dict[str, dict[str, Any]] = field(default_factory=dict)
    complete: bool = False

    @property
    def profile(self) -> str:
        return str(self.parameters.get("profile", DEFAULT_PROFILE))

    def provenance(self) -> dict[str, Any]:
        from ..runtime import describe_cpu  # torch is loaded by then; the runner imports this module without it

        return {
            "parameters": self.parameters,
            "profile": self.profile,
            "device": self.device,
            "commit": git_commit(),
            "packages": package_versions(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpu": dict(describe_cpu()),
            "started": datetime.fromtimestamp(self.started, timezone.utc).isoformat(timespec="seconds"),
            "wall_time_s": round(time.time() - self.started, 2),
            "run_key": os.environ.get(RUN_KEY_ENV, ""),
        }

    def _write(self) -> None:
        atomic_write_json(
            self.path,
            {"notebook": self.notebook, "complete": self.complete, "results": self.results, "provenance": self.provenance()},
        )

    def record(self, key: str, value: Any, description: str = "") -> None:
        """Record one result: glue it for the prose (scalars) and save it with provenance.

        ``key``: lower-case words joined by underscores, unique within the notebook.
        ``value``: a number, string, boolean or list of numbers (numpy/torch values are
        converted; NaN and infinities are stored as null), kept in ``self.results[key]["value"]``.
        Returns nothing, so that a cell ending with a record shows no stray output.
        """
        if not KEY_PATTERN.match(key):
            raise ValueError(f"result key {key!r} must match {KEY_PATTERN.pattern}")
        if key in self.results:
            raise ValueError(f"result key {key!r} was already recorded in this run")
        if self.complete:
            raise RuntimeError("this run is finished; start a new one to record more")
        stored = plain_value(value)
        self.results[key] = {"value": stored, "description": description}
        if not isinstance(stored, list):
            _glue(key, "n/a" if stored is None else stored)
        self._write()

    def figure(self, name: str, fig: Any) -> None:
        """Glue a matplotlib figure for a ``{glue:figure}`` directive and close it.

        Closing it keeps the figure from being shown a second time at the end of the cell.
        """
        if not name.startswith("fig_"):
            raise ValueError(f"figure names start with 'fig_' (to keep them apart from result keys), got {name!r}")
        import matplotlib.pyplot as plt

        _glue(name, fig)
        plt.close(fig)

    def finish(self) -> None:
        """Mark the results complete and show the provenance line."""
        self.complete = True
        self._write()
        prov = self.provenance()
        _show_markdown(
            f"**Provenance.** profile `{self.profile}`, device `{self.device}`, commit `{prov['commit']}`, "
            f"run time {prov['wall_time_s']:.0f} s, {prov['started']}; results in "
            f"`_build/results/{self.notebook}.json`."
        )


def _glue(key: str, value: Any) -> None:
    """Glue a value (a scalar or a figure) for the prose, when the book tools are installed."""
    try:
        from myst_nb import glue
    except ImportError:  # the library works without the book tools
        return
    glue(key, value, display=False)


def _show_markdown(text: str) -> None:
    try:
        from IPython import get_ipython
        from IPython.display import Markdown, display
    except ImportError:
        print(text)
        return
    if get_ipython() is None:
        print(text)
    else:
        display(Markdown(text))


def reproduce_command(notebook: str, parameters: dict[str, ParameterValue]) -> str:
    """The ``make run`` command that re-executes ``notebook`` with these parameter values."""
    defaults = {p.name: p.default for p in read_parameters(notebook_path(notebook))}
    profile = str(parameters.get("profile", DEFAULT_PROFILE))
    changed = [(k, v) for k, v in parameters.items() if k != "profile" and defaults.get(k) != v]
    command = f"make run NB={notebook}"
    if profile != DEFAULT_PROFILE:
        command += f" PROFILE={profile}"
    if changed:
        command += " PARAMS='" + " ".join(f"-p {k} {_cli_value(v)}" for k, v in changed) + "'"
    return command


def _cli_value(value: ParameterValue) -> str:
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, str):
        return value if re.fullmatch(r"[A-Za-z0-9_.\-]+", value) else repr(value)
    return repr(value)


def parameter_table(notebook: str, parameters: dict[str, ParameterValue]) -> str:
    """A Markdown table of the notebook's parameters: name, value in this run, default, meaning."""
    rows = ["| parameter | this run | default | meaning |", "|---|---|---|---|"]
    for p in read_parameters(notebook_path(notebook)):
        value = parameters.get(p.name, p.default)
        mark = "" if value == p.default else " (changed)"
        meaning = p.help.replace("|", "\\|")
        rows.append(f"| `{p.name}` | `{value!r}`{mark} | `{p.default!r}` | {meaning} |")
    return "\n".join(rows)


def start_run(notebook: str, parameters: dict[str, ParameterValue], device: str = "cpu") -> Run:
    """Begin recording ``notebook``'s results; show its parameter table and re-run command."""
    path = Path(os.environ.get(RESULTS_ENV) or SCRATCH / f"{notebook}.json")
    run = Run(notebook=notebook, parameters=dict(parameters), device=device, path=path)
    run._write()
    _show_markdown(
        parameter_table(notebook, parameters)
        + "\n\n**Re-run this page** (from the repository root; `make help` lists the options):\n\n"
        + f"```bash\n{reproduce_command(notebook, parameters)}\n```\n\n"
        + f"and with the papers' full settings (meant for a GPU): `make run NB={notebook} PROFILE=paper`."
    )
    return run
