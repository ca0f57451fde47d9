"""Shared fixtures. ``published_book`` executes every notebook with its default parameters
through the same papermill path as ``make book`` and renders the book strictly, once per session
(``SUPERPOSITION_TEST_REUSE_RUNS=1`` reuses the published runs instead, while developing the page
tests; ``make test`` never sets it)."""

from __future__ import annotations

import os

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
