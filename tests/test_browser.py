"""Every page of the built book as a reader's browser shows it: headless Chromium (Debian's
package, which ``make test`` installs where it is missing), driven by Playwright, served from
localhost with every other address blocked. For each page at 1280 px: no script errors, every
figure loaded, every equation typeset by the MathJax the book ships, every glued number shown,
nothing wider than the text column unless it scrolls inside it, and no request leaves the machine. A screenshot of each page is kept in ``_build/screenshots``."""

from __future__ import annotations

import functools
import http.server
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from superposition.book.sweeps import all_sweeps
from superposition.io import BUILD, notebook_names

from conftest import expected_glued_texts

pytestmark = [pytest.mark.notebook, pytest.mark.browser]

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
"""Flags that let Debian's Chromium run headless as root on a machine without internet."""
WIDE_ELEMENTS = """() => {
    // elements past the text column's right edge that no scrolling box inside the column contains
    const column = document.querySelector('article.bd-article') || document.querySelector('main');
    const edge = column.getBoundingClientRect().right + 1;
    const scrolled = el => {
        for (let box = el.parentElement; box && box !== column; box = box.parentElement) {
            const overflow = getComputedStyle(box).overflowX;
            if (overflow === 'auto' || overflow === 'scroll') return box.getBoundingClientRect().right <= edge;
            if (overflow === 'hidden' || overflow === 'clip') return false;
        }
        return false;
    };
    return [...column.querySelectorAll('*')]
        .filter(el => el.getClientRects().length && el.getBoundingClientRect().right > edge && !scrolled(el))
        .map(el => `${el.tagName.toLowerCase()}.${[...el.classList].join('.')} (right edge ${Math.round(el.getBoundingClientRect().right)} > ${Math.round(edge)})`)
        .slice(0, 8);
}"""
"""JavaScript: what sticks out of the text column at the page's width (``[]`` when nothing does)."""
PAGES = ["intro", "claims", "status", "references", "imported"] + [f"executed/{name}" for name in notebook_names()]
PAGES += [f"sweeps/{notebook}.{sweep}" for notebook, sweep in all_sweeps()]
SCREENSHOTS = BUILD / "screenshots"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        pass


@pytest.fixture(scope="session")
def book_server(published_book) -> Iterator[str]:
    """The built HTML served on a free localhost port."""
    handler = functools.partial(_QuietHandler, directory=str(published_book["html"]))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    assert executable, "Debian's chromium is needed for the page tests; `make test` installs it (apt-get install chromium)"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS, headless=True)
        yield chromium
        chromium.close()


def _static_pasted(html: Path, page: str) -> list[str]:
    soup = BeautifulSoup((html / f"{page}.html").read_text(), "html.parser")
    return [span.get_text() for span in soup.find("main").find_all("span", class_="pasted-text")]


def test_the_column_check_sees_what_sticks_out(published_book, book_server, browser):
    """The control of the width check: on a real page, a wide box and a wide paragraph clipped by a
    box that hides its overflow are found; a wide paragraph in a box that scrolls inside the
    column is not."""
    tab = browser.new_page(viewport={"width": 1280, "height": 1000})
    tab.goto(f"{book_server}/intro.html", wait_until="load")
    assert tab.evaluate(WIDE_ELEMENTS) == []
    tab.evaluate(
        """() => {
            const column = document.querySelector('article.bd-article');
            column.insertAdjacentHTML('beforeend', '<div class="wide-box" style="width: 3000px">x</div>'
                + '<div style="overflow: hidden"><p class="clipped" style="width: 3000px">x</p></div>'
                + '<div style="overflow-x: auto"><p class="scrolled" style="width: 3000px">x</p></div>');
        }"""
    )
    wide = tab.evaluate(WIDE_ELEMENTS)
    tab.close()
    flagged = {w.split(" ")[0] for w in wide}
    assert {"div.wide-box", "p.clipped"} <= flagged and not any("scrolled" in w for w in wide), wide


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_offline_in_a_browser(published_book, book_server, browser, page):
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    tab = context.new_page()
    errors, outside = [], []
    tab.on("pageerror", lambda error: errors.append(f"page error: {error}"))
    tab.on("console", lambda message: errors.append(f"console {message.type}: {message.text}") if message.type == "error" else None)

    def only_local(route) -> None:
        if route.request.url.startswith(book_server) or route.request.url.startswith("data:"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    tab.route("**/*", only_local)
    tab.goto(f"{book_server}/{page}.html", wait_until="load")
    tab.evaluate("() => (window.MathJax && MathJax.startup && MathJax.startup.promise) || null")
    state = tab.evaluate(
        """() => {
            const main = document.querySelector('main');
            const math = [...main.querySelectorAll('.math')];
            return {
                broken: [...main.querySelectorAll('img')].filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src),
                images: main.querySelectorAll('img').length,
                math: math.length,
                typeset: math.filter(m => m.querySelector('mjx-container') && !m.querySelector('mjx-merror')).length,
                pasted: [...main.querySelectorAll('span.pasted-text')].map(s => s.innerText),
                mathjax: Boolean(window.MathJax && window.MathJax.version),
            };
        }"""
    )
    wide = tab.evaluate(WIDE_ELEMENTS)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(SCREENSHOTS / f"{page.replace('/', '_')}.png"), full_page=page != "claims")
    context.close()
    assert not errors, errors
    assert not outside, f"the page asked for addresses outside the book: {outside}"
    assert not state["broken"], f"figures that did not load: {state['broken']}"
    assert state["typeset"] == state["math"], f"{state['math'] - state['typeset']} of {state['math']} equations were not typeset"
    if page.startswith("executed/"):  # what the reader sees is the recorded number, formatted as the prose asks
        assert state["pasted"] == expected_glued_texts(page.split("/", 1)[1], published_book["results"][page.split("/", 1)[1]])
    else:
        assert state["pasted"] == _static_pasted(published_book["html"], page)
    assert state["mathjax"] or state["math"] == 0, "MathJax did not load"
    assert not wide, f"wider than the text column at 1280 px, with no scrolling box around them: {wide}"
    if page.startswith("executed/"):
        assert state["images"] > 0, "a chapter shows figures"
        assert all(text.strip() for text in state["pasted"]), "every glued number is visible"
