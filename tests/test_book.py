"""End to end: every notebook executed with its defaults, every number compared with the
registry, and the HTML book checked page by page."""

import re
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from superposition.book.pages import is_default_run
from superposition.book.registry import check_results, failure_lines, load_registry
from superposition.io import notebook_names

from conftest import expected_glued_texts

pytestmark = pytest.mark.notebook


def test_every_notebook_ran_completely_with_defaults(published_book):
    results = published_book["results"]
    assert sorted(results) == notebook_names()
    for name, data in results.items():
        assert data["complete"], name
        assert is_default_run(name, data), name


def test_every_registered_number_is_reproduced(published_book):
    checks, unregistered = check_results(load_registry(), published_book["results"])
    assert not unregistered, f"recorded but not in book/claims.yaml: {unregistered}"
    failures = failure_lines(checks)
    assert not failures, "\n".join(failures)
    registered_notebooks = {e.notebook for e in load_registry()}
    assert registered_notebooks <= set(notebook_names())
    assert set(notebook_names()) <= registered_notebooks, "every notebook publishes registered numbers"


def _page(html: Path, name: str) -> BeautifulSoup:
    return BeautifulSoup((html / f"{name}.html").read_text(), "html.parser")


@pytest.mark.parametrize("name", notebook_names())
def test_chapter_page_shows_figures_parameters_glued_numbers_and_provenance(published_book, name):
    html = published_book["html"]
    soup = _page(html, f"executed/{name}")
    main = soup.find("main")
    images = main.find_all("img")
    assert images, "a chapter has figures"
    for img in images:
        assert (html / "executed" / img["src"]).resolve().exists(), img["src"]
    figures = main.find_all("figure")
    assert figures and all(f.find("figcaption") for f in figures), "figures carry captions"
    headers = [[th.get_text(strip=True) for th in t.find_all("th")] for t in main.find_all("table")]
    assert ["parameter", "this run", "default", "meaning"] in headers
    text = main.get_text(" ", strip=True)
    assert f"make run NB={name}" in text and "Provenance." in text
    assert "Reproduce this page" in text and f"make run NB={name} PROFILE=paper" in text and "The published run took" in text
    assert "{glue" not in text, "unresolved glue"
    # every glued number in the prose is the recorded value, formatted as the prose asks
    expected = expected_glued_texts(name, published_book["results"][name])
    pasted = [span.get_text() for span in main.find_all("span", class_="pasted-text")]
    assert pasted == expected


def test_claims_page_lists_every_claim_with_its_verdict(published_book):
    text = _page(published_book["html"], "claims").get_text(" ", strip=True)
    for entry in load_registry():
        assert entry.key in text
        if entry.claim:
            assert entry.claim.id in text
    assert "✗" not in text and "✓ pass" in text


def test_status_page_shows_every_notebook(published_book):
    text = _page(published_book["html"], "status").get_text(" ", strip=True)
    for name in notebook_names():
        assert name in text
    assert "pass" in text


def test_internal_links_resolve(published_book):
    html = published_book["html"]
    broken = []
    for page in html.rglob("*.html"):
        for a in BeautifulSoup(page.read_text(), "html.parser").find_all("a", href=True):
            href = a["href"].split("#")[0]
            if not href or re.match(r"^[a-z]+:", href):
                continue
            if not (page.parent / href).resolve().exists():
                broken.append(f"{page.relative_to(html)} -> {href}")
    assert not broken, broken


def test_intro_and_references_are_rendered(published_book):
    html = published_book["html"]
    assert "Superposition" in _page(html, "intro").get_text()
    refs = _page(html, "references").get_text()
    assert "Donoho" in refs and "Klindt" in refs and "Longon" in refs
