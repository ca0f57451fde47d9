"""Where the project's files live, and how they are written without half-written states."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from collections.abc import Callable
from typing import Any


def _find_root() -> Path:
    here = Path(__file__).resolve().parents[2]
    if (here / "pyproject.toml").exists() and (here / "notebooks").is_dir():
        return here
    for candidate in [Path.cwd(), *Path.cwd().parents]:
        if (candidate / "notebooks").is_dir() and (candidate / "book").is_dir():
            return candidate
    return Path.cwd()


ROOT = _find_root()
NOTEBOOKS = ROOT / "notebooks"
BOOK = ROOT / "book"
BUILD = ROOT / "_build"
EXECUTED = BUILD / "executed"
RESULTS = BUILD / "results"
SCRATCH = BUILD / "scratch"
REGISTRY = BOOK / "claims.yaml"


def notebook_path(name: str) -> Path:
    """The source of notebook ``name`` (``notebooks/<name>.py``), or a clear error.

    Parameters
    ----------
    name : str
        Notebook name (a suffix is ignored).

    Returns
    -------
    pathlib.Path
        Path of the notebook's source; ``FileNotFoundError`` listing the known notebooks if absent.
    """
    path = NOTEBOOKS / f"{Path(name).stem}.py"
    if not path.exists():
        known = ", ".join(notebook_names()) or "none"
        raise FileNotFoundError(f"no notebook {name!r} in {NOTEBOOKS}; known notebooks: {known}")
    return path


def notebook_names() -> list[str]:
    """Every notebook of the book, by name, in a stable order.

    Returns
    -------
    list of str
        Notebook names, sorted.
    """
    return sorted(p.stem for p in NOTEBOOKS.glob("*.py"))


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that readers see the old file or the new one, never a part.

    The text goes to a temporary file in the same folder, is flushed to disk, and then replaces
    ``path`` in one rename.

    Parameters
    ----------
    path : pathlib.Path
        Destination; its folder is created if needed.
    text : str
        Content, written as UTF-8.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_json(path: Path, data: Any) -> None:
    """:func:`atomic_write_text` for JSON (sorted keys, two-space indent, strict floats).

    Parameters
    ----------
    path : pathlib.Path
        Destination.
    data : Any
        JSON-serialisable value (no NaN or infinity).
    """
    atomic_write_text(path, json.dumps(data, indent=2, sort_keys=True, allow_nan=False) + "\n")


def replace_folder(folder: Path, fill: Callable[[Path], None]) -> None:
    """Replace ``folder`` by a new one that ``fill`` writes, leaving no half-written folder.

    ``fill`` writes into a scratch folder beside ``folder`` (same file system), which then takes
    its place by a rename; if ``fill`` fails, the scratch folder is removed and ``folder`` stays
    as it was.

    Parameters
    ----------
    folder : pathlib.Path
        Destination; its parent is created if needed.
    fill : callable
        ``fill(scratch)`` writes the new content into the folder ``scratch``.
    """
    import shutil

    folder.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    try:
        fill(scratch)
        if folder.exists():
            shutil.rmtree(folder)
        scratch.rename(folder)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
