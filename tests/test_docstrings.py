"""Every public function and method of the library has a numpydoc docstring naming its parameters.

For every module under ``src/superposition`` (parsed with :mod:`ast`, nothing is imported), each
public function (name not starting with ``_``) and each public method of a public class must have a
docstring; when it takes parameters besides ``self``/``cls``, the docstring must have a
``Parameters`` section (a line ``Parameters`` followed by a line of dashes) that names each of them
as ``name :`` or ``name, other :`` (``*args``/``**kwargs`` as written or as ``args``/``kwargs``).
Functions decorated with ``@property`` or ``@overload`` are skipped, and so is ``__post_init__`` of
dataclasses (their fields go in the class's ``Attributes`` section).

The modules in :data:`EXCLUDED` (book/record.py, book/registry.py, book/pages.py and book/chapter.py)
do not follow the style yet; remove them from the set once they do, and they are checked too.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "superposition"

EXCLUDED: frozenset[str] = frozenset()
"""Modules (relative to ``src/superposition``) not checked yet."""

SKIPPED_DECORATORS = {"property", "overload", "cached_property"}

MODULES = sorted(p.relative_to(PACKAGE).as_posix() for p in PACKAGE.rglob("*.py"))


def decorator_names(node: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    """Last dotted component of each decorator (``@typing.overload`` -> ``overload``)."""
    names = set()
    for dec in node.decorator_list:
        target = dec.func if isinstance(dec, ast.Call) else dec
        if isinstance(target, ast.Attribute):
            names.add(target.attr)
        elif isinstance(target, ast.Name):
            names.add(target.id)
    return names


def public_functions(tree: ast.Module):
    """``(qualified name, node, is_method)`` for every public function and public method of a public class."""
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and not node.name.startswith("_"):
            yield node.name, node, False
        elif isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            for item in node.body:
                if not isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) or item.name.startswith("_"):
                    continue
                yield f"{node.name}.{item.name}", item, True


def parameter_names(node: ast.FunctionDef | ast.AsyncFunctionDef, is_method: bool) -> list[str]:
    args = node.args
    positional = [a.arg for a in args.posonlyargs + args.args]
    if is_method and positional and positional[0] in {"self", "cls"} and "staticmethod" not in decorator_names(node):
        positional = positional[1:]
    names = positional + [a.arg for a in args.kwonlyargs]
    if args.vararg:
        names.append("*" + args.vararg.arg)
    if args.kwarg:
        names.append("**" + args.kwarg.arg)
    return names


def parameters_section(doc: str) -> str | None:
    """The text of the ``Parameters`` section (up to the next section header), or None."""
    lines = doc.expandtabs().splitlines()
    for i in range(len(lines) - 1):
        if lines[i].strip() == "Parameters" and re.fullmatch(r"-{3,}", lines[i + 1].strip()):
            body = []
            for j in range(i + 2, len(lines)):
                if j + 1 < len(lines) and lines[j].strip() and re.fullmatch(r"-{3,}", lines[j + 1].strip()):
                    break
                body.append(lines[j])
            return "\n".join(body)
    return None


def documented_names(section: str) -> set[str]:
    """Names on ``name :`` / ``name, other :`` lines of a Parameters section."""
    names = set()
    for line in section.splitlines():
        match = re.match(r"\s*(\*{0,2}\w+(?:\s*,\s*\*{0,2}\w+)*)\s*:(?:\s|$)", line)
        if match:
            for name in match.group(1).split(","):
                name = name.strip()
                names.add(name)
                names.add(name.lstrip("*"))
    return names


def problems(relpath: str) -> list[str]:
    tree = ast.parse((PACKAGE / relpath).read_text(encoding="utf-8"))
    found = []
    for qualname, node, is_method in public_functions(tree):
        if decorator_names(node) & SKIPPED_DECORATORS:
            continue
        doc = ast.get_docstring(node)
        if not doc:
            found.append(f"{qualname}: no docstring")
            continue
        params = parameter_names(node, is_method)
        if not params:
            continue
        section = parameters_section(doc)
        if section is None:
            found.append(f"{qualname}: no Parameters section (parameters: {', '.join(params)})")
            continue
        named = documented_names(section)
        missing = [p for p in params if p not in named and p.lstrip("*") not in named]
        if missing:
            found.append(f"{qualname}: Parameters section does not name {', '.join(missing)}")
    return found


@pytest.mark.parametrize("relpath", [m for m in MODULES if m not in EXCLUDED])
def test_public_functions_have_numpydoc_parameters(relpath: str) -> None:
    found = problems(relpath)
    assert not found, f"{relpath}:\n  " + "\n  ".join(found)


def test_excluded_modules_exist() -> None:
    """A stale entry in EXCLUDED (a module renamed or removed) would hide nothing; flag it."""
    assert EXCLUDED <= set(MODULES), sorted(EXCLUDED - set(MODULES))
