"""Execute notebooks with papermill and build the book: the path behind ``make run/book/test``.

Usage (from the repository root; the Makefile wraps these)::

    python -m superposition.book.pipeline run compressed_sensing --profile smoke -p n_trials 4
    python -m superposition.book.pipeline run-all            # every notebook, default parameters
    python -m superposition.book.pipeline build-book         # stage pages and render HTML
    python -m superposition.book.pipeline params compressed_sensing

A run validates parameter names and types before any kernel starts, executes into a temporary
folder, and publishes ``_build/executed/<name>.ipynb`` and ``_build/results/<name>.json`` only
after a complete run, and both at once: the pair lives in a folder of its own under
``_build/published/``, the two paths are links into ``_build/published/<name>``, and that link is
swapped in one rename (:func:`publish`). An interrupted or failing run leaves the previous
outputs as they were; two runs of one notebook at once each publish a whole pair, the later one
winning. A failing run keeps its executed notebook in ``_build/failed/<name>.ipynb`` (replacing
an older failure) and ends in one message: what failed, in which cell, where the notebook is.
A run whose inputs (notebook, the library modules it imports, lock file, parameters) have not
changed since the published one is skipped unless ``--force`` is given.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from ..io import BOOK, BUILD, EXECUTED, RESULTS, ROOT, atomic_write_text, notebook_names, notebook_path
from .code_keys import digest, library_modules, notebook_sources
from .memory import check_memory
from .params import (
    DEFAULT_PROFILE,
    ParameterError,
    ParameterValue,
    check_names_and_types,
    load_profile,
    read_notebook_source,
    read_parameters,
)
from .record import RESULTS_ENV, RUN_KEY_ENV

KERNEL_ENV = {
    "HF_HUB_OFFLINE": "1",
    "SUPERPOSITION_QUIET": "1",
    "PYDEVD_DISABLE_FILE_VALIDATION": "1",
}


class RunError(RuntimeError):
    """A notebook failed to execute; the message names the failing cell."""


def parse_cli_value(text: str) -> ParameterValue:
    """Type a command-line value as papermill's ``-p`` does: bool, int, float, else string.

    Parameters
    ----------
    text : str
        The value as typed.

    Returns
    -------
    bool, int, float or str
        The typed value.
    """
    if text in ("True", "true"):
        return True
    if text in ("False", "false"):
        return False
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def read_parameters_file(path: Path) -> dict[str, Any]:
    """The ``name: value`` pairs of a YAML parameter file (``make run PARAMS='-f file.yaml'``).

    Parameters
    ----------
    path : pathlib.Path
        The file.

    Returns
    -------
    dict of str to Any
        The values (checked against the notebook's parameters later).

    Raises
    ------
    ParameterError
        When the file is missing, a folder, not UTF-8 text, not YAML, or not a mapping of names
        to values; the message names the file and says what a parameter file looks like.
    """
    import yaml

    expected = "a YAML mapping of parameter names to values, e.g. 'n_trials: 40'"
    path = Path(path)
    if path.is_dir():
        raise ParameterError(f"parameter file {path} is a folder; give {expected}")
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise ParameterError(f"parameter file {path} does not exist") from None
    except UnicodeDecodeError:
        raise ParameterError(f"parameter file {path} is not UTF-8 text; give {expected}") from None
    except OSError as error:
        raise ParameterError(f"parameter file {path} cannot be read ({error.strerror})") from None
    try:
        values = yaml.safe_load(text)
    except yaml.YAMLError as error:
        where = getattr(error, "problem_mark", None)
        at = f" (line {where.line + 1})" if where is not None else ""
        raise ParameterError(f"parameter file {path} is not valid YAML{at}; give {expected}") from None
    if values is None:
        return {}
    if not isinstance(values, dict) or not all(isinstance(k, str) for k in values):
        kind = {"list": "list", "str": "string", "int": "number", "float": "number", "bool": "boolean"}.get(type(values).__name__, type(values).__name__)
        raise ParameterError(f"parameter file {path} holds a YAML {kind}, not {expected}")
    return values


def resolve_parameters(
    name: str, profile: str = DEFAULT_PROFILE, overrides: dict[str, Any] | None = None
) -> dict[str, ParameterValue]:
    """The parameters a run will inject: the profile's values, then ``overrides``, checked.

    Raises :class:`ParameterError` for an unknown profile, an unknown name or a wrong type.

    Parameters
    ----------
    name : str
        Notebook name.
    profile : str
        Profile whose values come first.
    overrides : dict of str to Any or None
        Values that replace the profile's.

    Returns
    -------
    dict of str to bool, int, float or str
        The parameters, ``profile`` included.
    """
    path = notebook_path(name)
    declared = read_parameters(path)
    if "profile" not in {p.name for p in declared}:
        raise ParameterError(f"notebook {name} declares no 'profile' parameter")
    values = check_names_and_types(declared, load_profile(path, profile), source=f"profile {profile}")
    values.update(check_names_and_types(declared, overrides or {}, source="the command line"))
    values["profile"] = profile
    return values


def run_key(name: str, parameters: dict[str, ParameterValue]) -> str:
    """A hash of everything that shapes a run's outputs.

    The notebook, the library modules it imports (directly or through other modules,
    :func:`.code_keys.library_modules`), the lock file and the parameters. Editing a module no
    notebook imports (the book's pages, the registry) makes no run stale.

    Parameters
    ----------
    name : str
        Notebook name.
    parameters : dict of str to bool, int, float or str
        The run's parameters.

    Returns
    -------
    str
        The first 16 hex digits of the hash.
    """
    path = notebook_path(name)
    files = [path, ROOT / "constraints.txt", *library_modules(notebook_sources(path))]
    hashed = digest(files, ROOT)
    hashed.update(json.dumps(parameters, sort_keys=True).encode())
    return hashed.hexdigest()[:16]


def is_current(name: str, key: str) -> bool:
    """Whether the published outputs of ``name`` come from a complete run with this key.

    Parameters
    ----------
    name : str
        Notebook name.
    key : str
        Run key (:func:`run_key`).

    Returns
    -------
    bool
        Whether the outputs are current.
    """
    results, executed = RESULTS / f"{name}.json", EXECUTED / f"{name}.ipynb"
    if not (results.exists() and executed.exists()):
        return False
    try:
        data = json.loads(results.read_text())
    except json.JSONDecodeError:
        return False
    return bool(data.get("complete")) and data.get("provenance", {}).get("run_key") == key


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_abandoned_runs(scratch_root: Path) -> list[Path]:
    """Delete the scratch folders of runs whose process is gone.

    Such runs were killed (e.g. by SIGKILL) before they could clean up; folders of live runs are left
    alone.

    Parameters
    ----------
    scratch_root : pathlib.Path
        Folder of the scratch folders.

    Returns
    -------
    list of pathlib.Path
        The deleted folders.
    """
    removed = []
    for folder in scratch_root.iterdir():
        owner = folder / "owner.pid"
        try:
            pid = int(owner.read_text())
        except (OSError, ValueError):
            pid = None
        if pid is None and time.time() - folder.stat().st_mtime < 60:
            continue  # just created by another run that has not written its owner yet
        if pid is None or not _alive(pid):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def interrupted_cells(executed: Path) -> list[int]:
    """Indices of the cells of an executed notebook whose outputs show a ``KeyboardInterrupt``.

    An interrupt normally fails its cell, but ipykernel sometimes only prints the
    ``KeyboardInterrupt`` to the cell's stderr and carries on (ipython/ipykernel#845), so a run
    interrupted by Ctrl-C could otherwise complete and be published.

    Parameters
    ----------
    executed : pathlib.Path
        The executed ``.ipynb``.

    Returns
    -------
    list of int
        Cell indices.
    """
    cells = json.loads(executed.read_text())["cells"]
    return [
        i
        for i, cell in enumerate(cells)
        for output in cell.get("outputs", [])
        if output.get("ename") == "KeyboardInterrupt" or (output.get("output_type") == "stream" and "KeyboardInterrupt" in "".join(output.get("text", "")))
    ]


def published_pair(name: str, out: Path | None = None) -> tuple[Path, Path]:
    """The executed notebook and results of ``name``'s published run, read from one publication.

    Resolving the publication folder once means a reader never pairs a notebook of one run with
    the results of another, even while a new run is being published.

    Parameters
    ----------
    name : str
        Notebook name.
    out : pathlib.Path or None
        The output folder (``_build`` by default).

    Returns
    -------
    executed, results : pathlib.Path
        The two files (they may be missing when the notebook was never published).
    """
    out = BUILD if out is None else out
    current = out / "published" / name
    if current.is_symlink() or current.is_dir():
        folder = current.resolve()
        return folder / f"{name}.ipynb", folder / f"{name}.json"
    return out / "executed" / f"{name}.ipynb", out / "results" / f"{name}.json"


def publish(name: str, executed: Path, results: Path, out: Path | None = None) -> None:
    """Publish a completed run's executed notebook and results together, in one atomic rename.

    The pair moves into a fresh folder ``out/published/.<name>-<random>``; the link
    ``out/published/<name>`` is then replaced by one pointing at it (``os.replace`` of a link is
    atomic), and ``out/executed/<name>.ipynb`` and ``out/results/<name>.json`` are links through
    it. The folder of the previous publication is removed afterwards.

    Parameters
    ----------
    name : str
        Notebook name.
    executed : pathlib.Path
        The executed notebook (moved).
    results : pathlib.Path
        Its results JSON (moved).
    out : pathlib.Path or None
        The output folder (default ``_build``).
    """
    out = BUILD if out is None else out
    published = out / "published"
    published.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=published))
    os.replace(executed, folder / f"{name}.ipynb")
    os.replace(results, folder / f"{name}.json")
    current = published / name
    previous = current.resolve() if current.is_symlink() else None
    _replace_link(current, folder.name)
    for kind, suffix in (("executed", ".ipynb"), ("results", ".json")):
        link = out / kind / f"{name}{suffix}"
        link.parent.mkdir(parents=True, exist_ok=True)
        target = Path("..") / "published" / name / f"{name}{suffix}"
        if not (link.is_symlink() and Path(os.readlink(link)) == target):
            _replace_link(link, target)
    if previous is not None and previous != folder.resolve():
        shutil.rmtree(previous, ignore_errors=True)


def _replace_link(link: Path, target: str | Path) -> None:
    """Point ``link`` at ``target``, replacing whatever is there in one rename."""
    temporary = link.with_name(f".{link.name}.{os.getpid()}.link")
    temporary.unlink(missing_ok=True)
    os.symlink(target, temporary)
    os.replace(temporary, link)


def _failed_cell(executed: Path) -> str:
    """The cell that was running when a run failed, from papermill's per-cell status."""
    try:
        cells = json.loads(executed.read_text())["cells"]
    except (OSError, ValueError, KeyError):
        return "an unknown cell"
    code = [c for c in cells if c.get("cell_type") == "code"]
    for i, cell in enumerate(code):  # papermill stamps each cell's end time; the first without one was running
        meta = cell.get("metadata", {}).get("papermill", {})
        if meta.get("status") in ("running", "failed") or not meta.get("end_time"):
            first = next((line for line in "".join(cell.get("source", "")).splitlines() if line.strip()), "")
            return f"code cell {i + 1} ({first[:60]!r})"
    return "an unknown cell"


def _keep_failed(name: str, scratch: Path, out: Path) -> Path:
    """Keep the failed run's executed notebook as ``out/failed/<name>.ipynb``, replacing an older failure."""
    failed = out / "failed" / f"{name}.ipynb"
    failed.parent.mkdir(parents=True, exist_ok=True)
    failed.unlink(missing_ok=True)  # an older failure never stands for this one
    if (scratch / f"{name}.ipynb").exists():
        shutil.copyfile(scratch / f"{name}.ipynb", failed)
    return failed


def _shown(path: Path) -> Path:
    return path.relative_to(ROOT) if path.is_relative_to(ROOT) else path


def execute(
    name: str,
    profile: str = DEFAULT_PROFILE,
    overrides: dict[str, Any] | None = None,
    force: bool = False,
    output_dir: Path | None = None,
    timeout: int = 1800,
    env: dict[str, str] | None = None,
) -> Path:
    """Execute one notebook and publish its executed copy and results; return the results path.

    Raises :class:`ParameterError` before starting a kernel when the parameters are wrong or their
    estimated peak memory exceeds what the machine has (:func:`.memory.check_memory`), and
    :class:`RunError` when a cell fails.

    Parameters
    ----------
    name : str
        Notebook name.
    profile : str
        Profile of the parameters.
    overrides : dict of str to Any or None
        Parameter values that replace the profile's.
    force : bool
        Execute even when the published outputs are current.
    output_dir : pathlib.Path or None
        Receives ``executed/<name>.ipynb`` and ``results/<name>.json`` (default ``_build``).
    timeout : int
        Execution timeout per cell, in seconds.
    env : dict of str to str or None
        Environment variables added for the kernel (for example a forced CPU kernel path, or another
        cache folder).

    Returns
    -------
    pathlib.Path
        The results JSON.
    """
    import papermill
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    parameters = resolve_parameters(name, profile, overrides)
    check_memory(name, {p.name: p.default for p in read_parameters(notebook_path(name))} | parameters)
    key = run_key(name, parameters)
    out = Path(output_dir) if output_dir else BUILD
    executed_path, results_path = out / "executed" / f"{name}.ipynb", out / "results" / f"{name}.json"
    if output_dir is None and not force and is_current(name, key):
        print(f"[{name}] up to date (run key {key}); use --force to execute again")
        return results_path
    notebook = read_notebook_source(notebook_path(name))
    scratch_root = out / ".runs"
    scratch_root.mkdir(parents=True, exist_ok=True)
    remove_abandoned_runs(scratch_root)
    scratch = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=scratch_root))
    (scratch / "owner.pid").write_text(f"{os.getpid()}\n")
    kernel_env = KERNEL_ENV | (env or {})
    env_before = {k: os.environ.get(k) for k in (*kernel_env, RESULTS_ENV, RUN_KEY_ENV)}
    os.environ.update(kernel_env)
    os.environ[RESULTS_ENV] = str(scratch / "results.json")
    os.environ[RUN_KEY_ENV] = key
    started = time.time()
    print(f"[{name}] executing with profile {profile!r} ...", flush=True)
    try:
        papermill.execute_notebook(
            notebook,
            str(scratch / f"{name}.ipynb"),
            parameters=parameters,
            kernel_name="python3",
            cwd=str(ROOT),
            progress_bar=sys.stderr.isatty(),
            log_output=False,
            execution_timeout=timeout,
        )
        if interrupted := interrupted_cells(scratch / f"{name}.ipynb"):
            raise RunError(f"{name}: interrupted (KeyboardInterrupt in cells {interrupted}); the previous outputs were left as they were")
        data = json.loads((scratch / "results.json").read_text())
        if not data.get("complete"):
            raise RunError(f"{name}: the notebook ended without calling run.finish(); its results are incomplete")
        publish(name, scratch / f"{name}.ipynb", scratch / "results.json", out)
    except papermill.PapermillExecutionError as exc:
        failed = _keep_failed(name, scratch, out)
        raise RunError(
            f"{name}: cell {exc.exec_count} raised {exc.ename}: {exc.evalue}\n"
            f"The executed notebook with the traceback is in {_shown(failed)}; "
            f"the previous outputs were left as they were.\n{''.join(exc.traceback[-3:]) if exc.traceback else ''}"
        ) from None
    except (DeadKernelError, CellTimeoutError) as exc:
        failed = _keep_failed(name, scratch, out)
        what = (
            "the kernel died (killed from outside, often by the out-of-memory killer: run with smaller sizes)"
            if isinstance(exc, DeadKernelError)
            else f"a cell ran past the {timeout} s timeout"
        )
        raise RunError(
            f"{name}: {what}, in {_failed_cell(failed)}.\n"
            f"The notebook as far as it ran is in {_shown(failed)}; the previous outputs were left as they were."
        ) from None
    finally:
        for k, v in env_before.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        shutil.rmtree(scratch, ignore_errors=True)
    print(f"[{name}] done in {time.time() - started:.0f} s -> {results_path.relative_to(ROOT) if results_path.is_relative_to(ROOT) else results_path}")
    return results_path


def load_results(results_dir: Path = RESULTS) -> dict[str, dict[str, Any]]:
    """Every published results JSON, by notebook name.

    Parameters
    ----------
    results_dir : pathlib.Path
        Folder of the results.

    Returns
    -------
    dict of str to dict
        Results by notebook.
    """
    return {p.stem: json.loads(p.read_text()) for p in sorted(results_dir.glob("*.json"))}


def chapter_title(name: str) -> str:
    """The title of a chapter: the first Markdown heading of its notebook.

    Parameters
    ----------
    name : str
        Notebook name.

    Returns
    -------
    str
        The heading's text (the notebook's name when it has none).
    """
    for cell in read_notebook_source(notebook_path(name)).cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return name


def placeholder_page(name: str) -> str:
    """The page of a chapter that has not been executed yet: its title and how to run it.

    Parameters
    ----------
    name : str
        Notebook name.

    Returns
    -------
    str
        Markdown.
    """
    return (
        f"# {chapter_title(name)}\n\n"
        ":::{admonition} Not yet run\n:class: warning\n\n"
        "This chapter has not been executed in this build, so it shows no numbers and no figures. "
        f"Run it with `make run NB={name}` (or every chapter with `make book`); its claims are listed "
        "as not run on the claims page until then.\n:::\n"
    )


def stage_book(stage: Path | None = None, require_all: bool = True, out: Path | None = None) -> Path:
    """Assemble the book's source: the pages in ``book/``, the executed notebooks, generated pages.

    Each chapter's notebook and results are copied from one publication (:func:`published_pair`),
    so a page and its numbers always come from the same run.

    Parameters
    ----------
    stage : pathlib.Path or None
        Folder to assemble into (replaced; default ``<out>/book``).
    require_all : bool
        Refuse to build when a chapter has never been executed (``make book``); otherwise such a
        chapter gets a placeholder page saying how to run it (``make run NB=...``).
    out : pathlib.Path or None
        The output folder the runs were published into (default ``_build``).

    Returns
    -------
    pathlib.Path
        ``stage``.
    """
    from .pages import claims_page, reproduce_box, status_page

    out = BUILD if out is None else out
    stage = out / "book" if stage is None else stage
    pairs = {name: published_pair(name, out) for name in notebook_names()}
    missing = [n for n, (executed, _) in pairs.items() if not executed.exists()]
    if missing and require_all:
        raise RunError(f"no executed notebook for {', '.join(missing)}; run `make notebooks` (or `make book`) first")
    if stage.exists():
        shutil.rmtree(stage)
    shutil.copytree(BOOK, stage)
    (stage / "executed").mkdir()
    downloads = stage / "downloads"  # linked with {download} from each chapter's Reproduce box
    downloads.mkdir(parents=True)
    results = {}
    for name, (executed, results_file) in pairs.items():
        if name in missing:
            atomic_write_text(stage / "executed" / f"{name}.md", placeholder_page(name))
            continue
        shutil.copyfile(executed, stage / "executed" / f"{name}.ipynb")
        shutil.copyfile(executed, downloads / f"{name}.ipynb")
        if results_file.exists():
            shutil.copyfile(results_file, downloads / f"{name}.json")
            results[name] = json.loads(results_file.read_text())
        _append_markdown_cell(stage / "executed" / f"{name}.ipynb", reproduce_box(name, results.get(name)))
    mathjax = mathjax_folder()
    shutil.copytree(mathjax, stage / "_vendor" / "mathjax")  # html_static_path in _config.yml
    from .bundles import imported_runs

    atomic_write_text(stage / "claims.md", claims_page(results, imported_runs()))
    atomic_write_text(stage / "status.md", status_page(results))
    stage_sweeps(stage, out)
    stage_imported(stage)
    return stage


def stage_imported(stage: Path) -> None:
    """The runs imported from elsewhere (:mod:`.bundles`): each executed notebook as a page of
    ``<stage>/imported/``, headed by its label (profile, device, commit, and what differs from this
    checkout), and an index page ``imported.md``.

    Parameters
    ----------
    stage : pathlib.Path
        The staged book.
    """
    import nbformat

    from .bundles import imported_runs
    from .pages import imported_header, imported_index

    runs = imported_runs()
    (stage / "imported").mkdir(exist_ok=True)
    for run in runs:
        notebook = nbformat.read(run.folder / f"{run.notebook}.ipynb", as_version=4)
        notebook.cells.insert(0, nbformat.v4.new_markdown_cell(imported_header(run, chapter_title(run.notebook))))
        nbformat.write(notebook, stage / "imported" / f"{run.notebook}--{run.label}.ipynb")
    atomic_write_text(stage / "imported.md", imported_index(runs))
    if runs:  # a section per run under the index page in the staged table of contents
        import yaml

        toc = yaml.safe_load((stage / "_toc.yml").read_text())
        entry = next(c for part in toc["parts"] for c in part["chapters"] if c.get("file") == "imported")
        entry["sections"] = [{"file": f"imported/{run.notebook}--{run.label}"} for run in runs]
        atomic_write_text(stage / "_toc.yml", yaml.safe_dump(toc, sort_keys=False, allow_unicode=True))

def stage_sweeps(stage: Path, out: Path) -> None:
    """A page per declared sweep in ``<stage>/sweeps/``, with the tables and maps gathered in
    ``<out>/sweeps`` (:mod:`.sweeps`), else those published in ``book/sweeps/``, or a note saying
    how to run it.

    Parameters
    ----------
    stage : pathlib.Path
        The staged book.
    out : pathlib.Path
        The output folder the sweeps were gathered into.
    """
    from .pages import sweep_page
    from .sweeps import all_sweeps, load_sweep, published_tables

    (stage / "sweeps").mkdir(exist_ok=True)
    for notebook, sweep in all_sweeps():
        tables = published_tables(notebook, sweep)
        sources = {profile: Path(table["published"]["folder"]) for profile, table in tables.items()}
        for table_path in sorted((out / "sweeps" / notebook / sweep).glob("*/table.json")):  # this build's own runs come first
            tables[table_path.parent.name], sources[table_path.parent.name] = json.loads(table_path.read_text()), table_path.parent
        for profile, table in tables.items():
            figures = stage / "sweeps" / f"{notebook}.{sweep}" / profile
            figures.mkdir(parents=True)
            for name in table["figures"]:
                shutil.copyfile(sources[profile] / "figures" / name, figures / name)
        declared = load_sweep(notebook, sweep)
        title = f"Sweep: {' × '.join(declared.grid)} ({chapter_title(notebook).split(':')[0]})"
        page = sweep_page(notebook, sweep, tables, declared.description, title)
        atomic_write_text(stage / "sweeps" / f"{notebook}.{sweep}.md", page)


def _append_markdown_cell(path: Path, text: str) -> None:
    """Add a Markdown cell at the end of the notebook at ``path`` (a staged copy)."""
    import nbformat

    notebook = nbformat.read(path, as_version=4)
    notebook.cells.append(nbformat.v4.new_markdown_cell(text))
    nbformat.write(notebook, path)


MATHJAX_VERSION = "3.2.2"
MATHJAX = ROOT / ".venv" / "mathjax" / "node_modules" / "mathjax" / "es5"


def mathjax_folder() -> Path:
    """MathJax's browser build, installed from the npm registry by ``make env``.

    Served with the book so that equations render offline, with no CDN.

    Returns
    -------
    pathlib.Path
        Its folder; a :class:`RunError` when it is missing.
    """
    if not (MATHJAX / "tex-mml-chtml.js").exists():
        raise RunError(
            f"MathJax {MATHJAX_VERSION} is missing from {MATHJAX}; install it with `make env` "
            f"(npm install --prefix .venv/mathjax mathjax@{MATHJAX_VERSION})"
        )
    return MATHJAX


def build_book(require_all: bool = True) -> Path:
    """Stage the book and render it to ``_build/html`` with warnings as errors.

    One build at a time: a second build waits for the first (a lock on ``_build/.book.lock``),
    since both stage into and render from the same folders.

    Parameters
    ----------
    require_all : bool
        Refuse to build when a chapter was never executed; otherwise it gets a placeholder page.

    Returns
    -------
    pathlib.Path
        The folder of the rendered book, ``_build/html``.
    """
    import fcntl

    BUILD.mkdir(parents=True, exist_ok=True)
    with open(BUILD / ".book.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _build_book(require_all)


def _build_book(require_all: bool) -> Path:
    stage = stage_book(require_all=require_all)
    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    command = [
        str(jupyter_book), "build", str(stage),
        "--config", str(ROOT / "_config.yml"), "--path-output", str(ROOT),
        "--warningiserror", "--nitpick", "--keep-going", "--quiet",
    ]  # fmt: skip
    result = subprocess.run(command, cwd=ROOT)
    if result.returncode != 0:
        raise RunError("the book build failed (warnings count as errors); see the messages above")
    html = BUILD / "html"
    print(f"book built: {html / 'index.html'}")
    return html


def _parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m superposition.book.pipeline", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="execute one notebook and publish its outputs")
    run.add_argument("notebook", help=f"one of: {', '.join(notebook_names())}")
    run.add_argument("--profile", default=DEFAULT_PROFILE, help="default, smoke, paper, ...")
    run.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"))
    run.add_argument("-f", "--parameters-file", type=Path, help="YAML file of name: value pairs")
    run.add_argument("--force", action="store_true", help="execute even when the outputs are current")
    run_all = sub.add_parser("run-all", help="execute every notebook with its default parameters")
    run_all.add_argument("--force", action="store_true", help="execute even when the outputs are current")
    run_all.add_argument("--missing-only", action="store_true", help="execute only notebooks never executed")
    build = sub.add_parser("build-book", help="stage the pages and render the HTML book")
    build.add_argument("--allow-missing", action="store_true", help="give chapters never executed a placeholder page instead of refusing")
    params = sub.add_parser("params", help="list a notebook's parameters and profiles")
    params.add_argument("notebook")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Command line: ``run``, ``run-all``, ``build-book`` or ``params``.

    Parameters
    ----------
    argv : list of str or None
        Arguments (None: ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status: 0 on success, 1 when a run fails, 2 for wrong parameters or a missing file.
    """
    args = _parse_args(sys.argv[1:] if argv is None else argv)
    try:
        if args.command == "run":
            overrides: dict[str, Any] = {}
            if args.parameters_file:
                overrides.update(read_parameters_file(args.parameters_file))
            overrides.update({k: parse_cli_value(v) for k, v in args.parameter})
            execute(args.notebook, args.profile, overrides, force=args.force)
        elif args.command == "run-all":
            for name in notebook_names():
                if args.missing_only and (EXECUTED / f"{name}.ipynb").exists():
                    continue
                execute(name, force=args.force)
        elif args.command == "build-book":
            build_book(require_all=not args.allow_missing)
        elif args.command == "params":
            from .params import available_profiles

            path = notebook_path(args.notebook)
            for p in read_parameters(path):
                print(f"{p.name:<22} {p.type_name:<6} default {p.default!r:<12} {p.help}")
            print("profiles:", ", ".join(available_profiles(path)))
    except (ParameterError, RunError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2 if isinstance(exc, ParameterError | FileNotFoundError) else 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
