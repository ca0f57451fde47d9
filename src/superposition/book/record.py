"""Record a notebook's results: glue each number for the prose and write it, with provenance.

A notebook starts a :class:`Run` right after its parameters are validated, calls
:meth:`Run.record` for every number the book prints, :meth:`Run.record_table` for a table of
them, and :meth:`Run.finish` at the end::

    run = start_run("compressed_sensing", params)
    run.record("n_problems", n_problems, "recovery problems solved on this page")
    run.record_table("phase", per_kind, ["kind"], {"gap_max": "largest boundary gap ({kind})"})
    run.finish()

The run records its parameters once, in its provenance, and glues each scalar parameter under its
own name, so the prose cites a parameter as ``{glue:text}`n_features``` and a result as
``{glue:text}`phase_signed_gap_max```; a result key may not repeat a parameter's name.

A claim's number is recorded as a :class:`superposition.metrics.intervals.Estimate`: the run
keeps its value, its interval, what varied and how often, and glues the bounds as ``<key>_low``
and ``<key>_high`` beside the value, so the prose cites an interval as
``[{glue:text}`change_ridge_w32_low:+.3f`, {glue:text}`change_ridge_w32_high:+.3f`]``.

Keys of a table
---------------
:meth:`Run.record_table` names every cell by one rule: the table's ``prefix``, the row's
values in the ``key_columns``, then the column, joined by underscores. A row with ``kind`` =
``signed`` of the table ``phase`` gives ``phase_signed_gap_max`` for its column
``gap_max``. Searching a notebook for ``record_table("phase"`` finds the call.

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
from ..metrics.intervals import Estimate
from .params import DEFAULT_PROFILE, ParameterValue, read_parameters

RESULTS_ENV = "SUPERPOSITION_RESULTS"
RUN_KEY_ENV = "SUPERPOSITION_RUN_KEY"
KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
PACKAGES = ("torch", "numpy", "scipy", "matplotlib", "seaborn", "papermill", "jupytext", "jupyter-book", "myst-nb")

Value = bool | int | float | str | None | list


def table_key(prefix: str, row_keys: list[Any], column: str) -> str:
    """The key of one cell of a recorded table: ``prefix``, the row's key values, ``column``.

    Parameters
    ----------
    prefix : str
        The table's name, the first word(s) of every key it records.
    row_keys : list
        The row's values in the table's key columns, in order (strings or integers).
    column : str
        The recorded column.

    Returns
    -------
    str
        The words joined by underscores, e.g. ``table_key("change", ["ridge", "w32"], "min")``
        is ``change_ridge_w32_min``.
    """
    return "_".join([prefix, *(str(v) for v in row_keys), column])


def lock_digest() -> str:
    """The SHA-256 of the lock file ``constraints.txt`` (first 16 hex digits), or ``unknown``.

    Returns
    -------
    str
        The digest.
    """
    import hashlib

    from ..io import ROOT

    try:
        return hashlib.sha256((ROOT / "constraints.txt").read_bytes()).hexdigest()[:16]
    except OSError:
        return "unknown"


def git_commit() -> str:
    """The current commit (short hash, ``+dirty`` when the tree has changes), or ``unknown``.

    Returns
    -------
    str
        The commit's 12-character short hash, with ``+dirty`` when tracked files have changes;
        ``unknown`` when git cannot be run here.
    """
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
    """Installed versions of the packages that shape the numbers.

    Parameters
    ----------
    names : tuple of str
        The distribution names to look up (by default :data:`PACKAGES`).

    Returns
    -------
    dict of str to str
        Each name's installed version, or ``not installed``.
    """
    versions = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def plain_value(value: Any) -> Value:
    """Convert numpy/torch scalars and arrays to plain Python; non-finite floats become None.

    Parameters
    ----------
    value : Any
        A number, string, boolean, None, a tuple or list of them, or a numpy/torch scalar or array.

    Returns
    -------
    bool, int, float, str, None or list
        The plain value; arrays and tuples become (nested) lists.
    """
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
    """One execution of one notebook: its parameters, results and provenance.

    Attributes
    ----------
    notebook : str
        Notebook name.
    parameters : dict of str to bool, int, float or str
        The run's parameter values, ``profile`` among them.
    device : str
        Description of the device the run computes on, kept in the provenance.
    path : pathlib.Path
        The results JSON file the run writes.
    started : float
        When the run started (seconds since the epoch, as ``time.time()``).
    results : dict of str to dict
        The recorded results by key, each ``{"value": ..., "description": ...}``.
    complete : bool
        Whether :meth:`finish` has marked the results complete.
    """

    notebook: str
    parameters: dict[str, ParameterValue]
    device: str
    path: Path
    started: float = field(default_factory=time.time)
    results: dict[str, dict[str, Any]] = field(default_factory=dict)
    complete: bool = False

    @property
    def profile(self) -> str:
        """The run's profile: parameter ``profile``, or ``default`` without one."""
        return str(self.parameters.get("profile", DEFAULT_PROFILE))

    def provenance(self) -> dict[str, Any]:
        """The provenance written with the results: where, when and how the numbers were computed.

        Returns
        -------
        dict of str to Any
            The parameters, profile, device, commit (:func:`git_commit`), package versions
            (:func:`package_versions`), Python version, platform, CPU, start time (UTC, ISO 8601),
            wall time so far in seconds, the runner's run key (``$SUPERPOSITION_RUN_KEY``, or empty)
            and the lock file's digest (:func:`lock_digest`).
        """
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
            "lock_digest": lock_digest(),
        }

    def _write(self) -> None:
        atomic_write_json(
            self.path,
            {"notebook": self.notebook, "complete": self.complete, "results": self.results, "provenance": self.provenance()},
        )

    def record(self, key: str, value: Any, description: str = "") -> None:
        """Record one result: glue it for the prose (scalars) and save it with provenance.

        Returns nothing, so that a cell ending with a record shows no stray output.

        Parameters
        ----------
        key : str
            Lower-case words joined by underscores, unique within the notebook.
        value : Any
            A number, string, boolean or list of numbers (numpy/torch values are converted; NaN and
            infinities are stored as null), kept in ``self.results[key]["value"]``; or an
            :class:`~superposition.metrics.intervals.Estimate`, whose interval, count and basis are
            kept beside its value and whose bounds are glued as ``<key>_low`` and ``<key>_high``.
        description : str
            What the result is, kept in ``self.results[key]["description"]``.
        """
        names = [key, f"{key}_low", f"{key}_high"] if isinstance(value, Estimate) else [key]
        if not KEY_PATTERN.match(key):
            raise ValueError(f"result key {key!r} must match {KEY_PATTERN.pattern}")
        for name in names:
            if name in self.results or any(name in (f"{k}_low", f"{k}_high") for k, v in self.results.items() if "interval" in v):
                raise ValueError(f"result key {name!r} was already recorded in this run (or glued as an interval's bound)")
            if name in self.parameters:
                raise ValueError(f"result key {name!r} is the name of a parameter; the run glues parameters under their names")
        if self.complete:
            raise RuntimeError("this run is finished; start a new one to record more")
        if isinstance(value, Estimate):
            self.results[key] = {
                "value": float(value.value), "interval": value.interval, "n": int(value.n), "over": value.over,
                "method": value.method, "description": description,
            }  # fmt: skip
            for name, number in zip(names, (value.value, value.low, value.high)):
                _glue(name, float(number))
        else:
            stored = plain_value(value)
            self.results[key] = {"value": stored, "description": description}
            if not isinstance(stored, list):
                _glue(key, "n/a" if stored is None else stored)
        self._write()

    def record_table(self, prefix: str, table: Any, key_columns: list[str], descriptions: dict[str, str]) -> None:
        """Record every cell of a table, each under the key :func:`table_key` gives it.

        Parameters
        ----------
        prefix : str
            The table's name: lower-case words joined by underscores.
        table : pandas.DataFrame or list of dict
            One row per recorded row; its ``key_columns`` name the row, the columns named in
            ``descriptions`` hold the values (numbers, strings, booleans or lists of numbers).
        key_columns : list of str
            The columns whose values, in order, name a row (each a lower-case word or number).
        descriptions : dict of str to str
            The recorded columns (lower-case words, the last part of each key) and a
            description of each, a format string filled from the row, e.g. ``"{metric} at m = {width}"``.

        Raises
        ------
        ValueError
            When a key breaks the key pattern, repeats one already recorded, or two rows share
            their key values; nothing of the table is recorded then.
        """
        rows = table.to_dict("records") if hasattr(table, "to_dict") else [dict(r) for r in table]
        cells = {}
        for row in rows:
            for column, description in descriptions.items():
                key = table_key(prefix, [row[c] for c in key_columns], column)
                taken = key in cells or key in self.results or key in self.parameters
                if not KEY_PATTERN.match(key) or taken:
                    problem = "is taken (another row, a recorded key or a parameter)" if taken else f"must match {KEY_PATTERN.pattern}"
                    raise ValueError(f"table {prefix!r}: key {key!r} (key columns {key_columns}) {problem}")
                cells[key] = (row[column], description.format(**row))
        for key, (value, description) in cells.items():
            self.record(key, value, description)

    def figure(self, name: str, fig: Any) -> None:
        """Glue a matplotlib figure for a ``{glue:figure}`` directive and close it.

        Closing it keeps the figure from being shown a second time at the end of the cell.

        Parameters
        ----------
        name : str
            The glue name; it starts with ``fig_``, to keep it apart from result keys.
        fig : matplotlib.figure.Figure
            The figure.
        """
        if not name.startswith("fig_"):
            raise ValueError(f"figure names start with 'fig_' (to keep them apart from result keys), got {name!r}")
        import matplotlib.pyplot as plt

        fig.text(0.5, 0.0, self.figure_provenance(), ha="center", va="top", fontsize=6, color="0.4")
        _glue(name, fig)
        plt.close(fig)

    def figure_provenance(self) -> str:
        """The one-line note printed under every figure: notebook, profile, run key, device, commit.

        Returns
        -------
        str
            The note.
        """
        if not hasattr(self, "_commit"):
            self._commit = git_commit()
        key = os.environ.get(RUN_KEY_ENV, "") or "none (run outside the pipeline)"
        return f"{self.notebook} · profile {self.profile} · run key {key} · {self.device} · commit {self._commit}"

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
    """The ``make run`` command that re-executes ``notebook`` with these parameter values.

    Parameters
    ----------
    notebook : str
        Notebook name.
    parameters : dict of str to bool, int, float or str
        The parameter values; the command names the profile unless it is ``default``, and every
        other value that differs from its default.

    Returns
    -------
    str
        ``make run NB=<notebook>``, with ``PROFILE=<profile>`` and ``PARAMS='-p <name> <value> ...'``
        as needed.
    """
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
    """A Markdown table of the notebook's parameters: name, value in this run, default, meaning.

    Parameters
    ----------
    notebook : str
        Notebook name.
    parameters : dict of str to bool, int, float or str
        The values in this run; a declared parameter missing here shows its default.

    Returns
    -------
    str
        The table, one row per declared parameter; a value other than the default is marked ``(changed)``.
    """
    rows = ["| parameter | this run | default | meaning |", "|---|---|---|---|"]
    for p in read_parameters(notebook_path(notebook)):
        value = parameters.get(p.name, p.default)
        mark = "" if value == p.default else " (changed)"
        meaning = p.help.replace("|", "\\|")
        rows.append(f"| `{p.name}` | `{value!r}`{mark} | `{p.default!r}` | {meaning} |")
    return "\n".join(rows)


def start_run(notebook: str, parameters: dict[str, ParameterValue], device: str = "cpu") -> Run:
    """Begin recording ``notebook``'s results; show its parameter table and re-run command.

    Each scalar parameter is glued under its own name.

    Parameters
    ----------
    notebook : str
        Notebook name.
    parameters : dict of str to bool, int, float or str
        The notebook's validated parameter values.
    device : str
        Description of the device the notebook computes on, kept in the provenance.

    Returns
    -------
    Run
        The run, its results file (``$SUPERPOSITION_RESULTS``, else ``_build/scratch/<notebook>.json``)
        already written.
    """
    path = Path(os.environ.get(RESULTS_ENV) or SCRATCH / f"{notebook}.json")
    run = Run(notebook=notebook, parameters=dict(parameters), device=device, path=path)
    run._write()
    for name, value in parameters.items():
        if not isinstance(value, list | dict):
            _glue(name, "n/a" if value is None else value)
    _show_markdown(
        parameter_table(notebook, parameters)
        + "\n\n**Re-run this page** (from the repository root; `make help` lists the options):\n\n"
        + f"```bash\n{reproduce_command(notebook, parameters)}\n```\n\n"
        + f"and with the papers' full settings (meant for a GPU): `make run NB={notebook} PROFILE=paper`."
    )
    return run
