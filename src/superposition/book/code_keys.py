"""Which library files a piece of code depends on, and a digest of them.

A notebook's outputs depend on the library modules it imports, directly or through other
modules, and on nothing else of the library: editing the book's page generator must not make
every chapter stale, while editing the SAE trainer must make stale exactly the chapters that use
it. :func:`library_modules` follows the ``import`` statements of the code (those inside
functions too, which the library uses for lazy imports) through the package's source files.
"""

from __future__ import annotations

import ast
import hashlib
from collections.abc import Iterable
from pathlib import Path

PACKAGE_NAME = "superposition"
PACKAGE_DIR = Path(__file__).resolve().parents[1]


def module_file(module: str, package_dir: Path = PACKAGE_DIR) -> Path | None:
    """The source file of ``module`` (a package's ``__init__.py``), or None when it is not a module of the library.

    None also for a name imported from a module, or a module of another package.

    Parameters
    ----------
    module : str
        Dotted name, ``superposition.x.y``.
    package_dir : pathlib.Path
        Folder of the library's package.

    Returns
    -------
    pathlib.Path or None
        The file.
    """
    parts = module.split(".")
    if parts[0] != PACKAGE_NAME:
        return None
    base = package_dir.joinpath(*parts[1:])
    if (base / "__init__.py").exists():
        return base / "__init__.py"
    if base.with_suffix(".py").exists():
        return base.with_suffix(".py")
    return None


def imported_modules(source: str, module: str = "", is_package: bool = False) -> set[str]:
    """Dotted names that ``source`` imports from the library, anywhere in it.

    A ``from pkg import name`` yields both ``pkg`` and ``pkg.name``, since ``name`` may be a module.

    Parameters
    ----------
    source : str
        Python source.
    module : str
        The dotted name of the code's own module (for relative imports).
    is_package : bool
        Whether ``module`` is a package (its ``__init__.py``).

    Returns
    -------
    set of str
        Library module names.
    """
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = module.split(".") if is_package else module.split(".")[:-1]
                parts = parts[: len(parts) - node.level + 1]
                base = ".".join([*parts, *([node.module] if node.module else [])])
            else:
                base = node.module or ""
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names}
    return {name for name in found if name.split(".")[0] == PACKAGE_NAME}


def library_modules(sources: Iterable[str], package_dir: Path = PACKAGE_DIR) -> list[Path]:
    """The library files that code ``sources`` imports, directly or through other library modules.

    With the ``__init__.py`` of every package on the way; sorted.

    Parameters
    ----------
    sources : iterable of str
        Python sources (a notebook's code cells).
    package_dir : pathlib.Path
        Folder of the library's package.

    Returns
    -------
    list of pathlib.Path
        The files, sorted.
    """
    pending = set().union(*(imported_modules(s) for s in sources))
    done: dict[str, Path] = {}
    while pending:
        module = pending.pop()
        parts = module.split(".")
        pending |= {".".join(parts[:i]) for i in range(1, len(parts))} - done.keys()  # parent packages run first
        path = module_file(module, package_dir)
        if path is None or module in done:
            continue
        done[module] = path
        pending |= imported_modules(path.read_text(), module, path.name == "__init__.py") - done.keys()
    return sorted(set(done.values()))


def notebook_sources(notebook: Path) -> list[str]:
    """The code cells of a jupytext notebook (cells that are not Python, such as magics, are skipped).

    Parameters
    ----------
    notebook : pathlib.Path
        The notebook's source.

    Returns
    -------
    list of str
        Parsable code cells.
    """
    from .params import read_notebook_source

    cells = [c.source for c in read_notebook_source(notebook).cells if c.cell_type == "code"]
    parsable = []
    for cell in cells:
        try:
            ast.parse(cell)
        except SyntaxError:
            continue
        parsable.append(cell)
    return parsable


def digest(files: Iterable[Path], root: Path) -> hashlib._Hash:
    """A sha256 over each file's path (relative to ``root``) and bytes, in the given order.

    Missing files are skipped.

    Parameters
    ----------
    files : iterable of pathlib.Path
        The files.
    root : pathlib.Path
        Folder the paths are taken relative to.

    Returns
    -------
    hashlib._Hash
        The running hash (call ``hexdigest()``).
    """
    hashed = hashlib.sha256()
    for path in files:
        if path.exists():
            hashed.update(path.relative_to(root).as_posix().encode())
            hashed.update(path.read_bytes())
    return hashed
