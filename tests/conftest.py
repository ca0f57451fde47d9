"""Shared fixtures. ``published_book`` executes every notebook with its default parameters
through the same papermill path as ``make book`` and renders the book strictly, once per session
(``SUPERPOSITION_TEST_REUSE_RUNS=1`` reuses the published runs instead, while developing the page
tests; ``make test`` never sets it)."""

from __future__ import annotations

import os
import re

import pytest

os.environ.setdefault("SUPERPOSITION_QUIET", "1")


@pytest.fixture(scope="session")
def published_book():
    from superposition.book import pipeline
    from superposition.io import BUILD, notebook_names

    if os.environ.get("SUPERPOSITION_TEST_REUSE_RUNS") != "1":  # opt-in while developing page tests
        for name in notebook_names():
            pipeline.execute(name, force=True)
    html = pipeline.build_book()
    return {"html": html, "results": pipeline.load_results(BUILD / "results")}


GLUE_TEXT = re.compile(r"\{glue:text\}`([a-z0-9_]+)(?::([^`]*))?`")


def expected_glued_texts(name: str, run: dict) -> list[str]:
    """What every ``{glue:text}`` of a chapter's prose must show, in order, computed from its
    results JSON: the recorded value (or an estimate's bound, or a parameter) in the prose's format."""
    from superposition.book.params import read_notebook_source
    from superposition.io import notebook_path

    source = "\n".join(c.source for c in read_notebook_source(notebook_path(name)).cells if c.cell_type == "markdown")
    recorded = {key: entry["value"] for key, entry in run["results"].items()}
    for key, entry in run["results"].items():  # an estimate's bounds are glued beside its value
        if entry.get("interval"):
            recorded[f"{key}_low"], recorded[f"{key}_high"] = entry["interval"]
    parameters = run["provenance"]["parameters"]
    expected = []
    for key, spec in GLUE_TEXT.findall(source):
        assert key in recorded or key in parameters, f"{name}: the prose glues {key}, neither a recorded result nor a parameter"
        value = recorded[key] if key in recorded else parameters[key]
        expected.append(format("n/a" if value is None else value, spec or ""))
    return expected
