"""Run keys follow the library modules a notebook imports, and nothing else of the library."""

import textwrap

from superposition.book import code_keys, pipeline
from superposition.io import ROOT, notebook_names, notebook_path

PACKAGE = ROOT / "src" / "superposition"


def _write(folder, name, text=""):
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))


def test_imports_are_followed_through_modules_lazy_imports_and_packages(tmp_path):
    package = tmp_path / "superposition"
    _write(package, "__init__.py")
    _write(package, "a.py", "import numpy\n\ndef f():\n    from .b import g\n    return g()\n")
    _write(package, "b.py", "from .sub import deep\n")
    _write(package, "sub/__init__.py", "from .deep import h\n")
    _write(package, "sub/deep.py", "x = 1\n")
    _write(package, "c_unused.py")
    _write(package, "d.py")
    _write(package, "e.py", "def func():\n    pass\n")
    notebook = ["from superposition import a, d as renamed\nfrom superposition.e import func\nimport os"]
    found = {p.relative_to(package).as_posix() for p in code_keys.library_modules(notebook, package)}
    assert found == {"__init__.py", "a.py", "b.py", "sub/__init__.py", "sub/deep.py", "d.py", "e.py"}


def test_relative_imports_resolve_from_modules_and_packages():
    assert code_keys.imported_modules("from .matching import x", "superposition.metrics.compare") >= {"superposition.metrics.matching"}
    assert code_keys.imported_modules("from ..runtime import y", "superposition.metrics.compare") >= {"superposition.runtime"}
    assert code_keys.imported_modules("from .compare import z", "superposition.metrics", is_package=True) >= {"superposition.metrics.compare"}
    assert code_keys.imported_modules("import numpy, os.path") == set()


def test_the_book_machinery_makes_no_chapter_stale_and_the_science_makes_its_chapters_stale():
    closures = {name: set(code_keys.library_modules(code_keys.notebook_sources(notebook_path(name)))) for name in notebook_names()}
    book = PACKAGE / "book"
    machinery = {book / f"{m}.py" for m in ("pipeline", "pages", "registry", "replicates", "kernel_check", "tolerances", "code_keys", "sphinx_offline")}
    for name, files in closures.items():
        assert not files & machinery, name
        assert {book / "record.py", book / "params.py", PACKAGE / "__init__.py"} <= files, name
    science = PACKAGE / "science"
    assert {name for name, files in closures.items() if science / "sae.py" in files} == {"dnn_alignment", "dnn_brain", "interpretability", "toy_alignment"}
    assert {name for name, files in closures.items() if science / "basis_pursuit.py" in files} == {"compressed_sensing", "interpretability"}


def test_run_key_changes_with_parameters():
    params = pipeline.resolve_parameters("compressed_sensing")
    assert pipeline.run_key("compressed_sensing", params) == pipeline.run_key("compressed_sensing", dict(params))
    assert pipeline.run_key("compressed_sensing", params) != pipeline.run_key("compressed_sensing", {**params, "seed": 1})
