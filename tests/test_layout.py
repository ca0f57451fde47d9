"""The package's wings and the one direction of their imports (the map in ``superposition/__init__.py``)."""

import ast
from pathlib import Path

import pytest

import superposition
from superposition.book.code_keys import PACKAGE_DIR, imported_modules, notebook_sources
from superposition.io import notebook_names, notebook_path

ALLOWED = {
    "runtime": set(),
    "io": set(),
    "data": {"io", "runtime"},
    "metrics": {"io", "runtime"},
    "networks": {"data", "io", "runtime"},
    "science": {"metrics", "data", "io", "runtime"},
    "book": {"metrics", "data", "io", "runtime"},
}
"""The wings each wing may import, besides itself."""


def wing_of(module: str) -> str:
    return module.split(".")[1]


def library_files() -> list[Path]:
    return sorted(p for p in PACKAGE_DIR.rglob("*.py") if p != PACKAGE_DIR / "__init__.py")


def dotted_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_every_module_is_in_a_wing_of_the_map():
    assert set(superposition.__all__) == set(ALLOWED)
    assert {wing_of(dotted_name(p)) for p in library_files()} == set(ALLOWED)


@pytest.mark.parametrize("path", library_files(), ids=lambda p: dotted_name(p))
def test_imports_point_one_way(path):
    module = dotted_name(path)
    wing = wing_of(module)
    imported = {wing_of(name) for name in imported_modules(path.read_text(), module, path.name == "__init__.py") if name.count(".")}
    assert imported - {wing} <= ALLOWED[wing], f"{module} imports {sorted(imported - {wing} - ALLOWED[wing])}"


@pytest.mark.parametrize("wing", ["book", "data", "networks", "science"])  # metrics exports its functions
def test_each_wing_maps_its_modules(wing):
    package = __import__(f"superposition.{wing}", fromlist=["__all__"])
    modules = {p.stem for p in (PACKAGE_DIR / wing).glob("*.py") if p.stem != "__init__"}
    assert set(package.__all__) >= modules, f"superposition.{wing}.__all__ misses {sorted(modules - set(package.__all__))}"
    assert all(f":mod:`.{name}`" in package.__doc__ for name in modules)


@pytest.mark.parametrize("name", notebook_names())
def test_notebooks_define_no_function(name):
    defined = [
        f"{type(node).__name__} at cell line {getattr(node, 'lineno', '?')}"
        for source in notebook_sources(notebook_path(name))
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda | ast.ClassDef)
    ]
    assert not defined, f"{name} defines {defined}: the library computes, the notebook tells the story"


CELL_LINES = 20
"""The longest code cell a reader meets: short enough to read at a glance."""


@pytest.mark.parametrize("name", notebook_names())
def test_code_cells_are_short(name):
    """Every code cell but the declarations (the parameters cell and the cell of the chapter's
    parameter rules, ``open_chapter(...)``) has at most :data:`CELL_LINES` lines."""
    from superposition.book.params import read_notebook_source

    cells = [c for c in read_notebook_source(notebook_path(name)).cells if c.cell_type == "code"]
    long = [
        f"cell {i} ({len(c.source.splitlines())} lines): {c.source.splitlines()[0][:60]}"
        for i, c in enumerate(cells)
        if len(c.source.splitlines()) > CELL_LINES and "parameters" not in c.metadata.get("tags", []) and not c.source.startswith("chapter = open_chapter(")
    ]
    assert not long, f"{name}: code cells longer than {CELL_LINES} lines: {long}"


@pytest.mark.parametrize("name", notebook_names())
def test_every_registry_key_is_written_in_its_notebook(name):
    from superposition.book.registry import formatted_record_keys, load_registry, unsourced_keys

    sources = notebook_sources(notebook_path(name))
    keys = [e.key for e in load_registry() if e.notebook == name]
    missing = unsourced_keys(keys, sources)
    assert not missing, f"{name}: keys with no string or record_table call in the notebook: {missing}"
    formatted = formatted_record_keys(sources)
    assert not formatted, f"{name}: run.record keys built by f-strings {formatted}; record a table with run.record_table"


def test_keys_are_found_as_strings_or_by_the_table_naming_rule():
    from superposition.book.registry import formatted_record_keys, unsourced_keys

    cell = (
        'run.record_table("change", rows, ["metric", "cell"], {"min": "{metric}", **{f"change_{m}": "x" for m in ms}})\n'
        'run.record("gap", 2.0)\nkeys = {"SAE→SAE": "sae_sae"}\nrun.record(f"r_{name}", 1.0)'
    )
    keys = ["change_ridge_w32_min", "change_semi_matching_w8_change_rsa", "gap", "sae_sae", "change_ridge_min", "gap_2", "r_sae"]
    assert unsourced_keys(keys, [cell]) == ["change_ridge_min", "gap_2", "r_sae"]
    assert formatted_record_keys([cell]) == ["f'r_{name}'"]
