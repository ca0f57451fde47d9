"""A Sphinx extension for the book: pages that load nothing from outside and raise no script
errors.

Jupyter Book 1 always loads ``sphinx_thebe``, which declares its ``THEBE_JS_URL`` constant in two
inline scripts on every page (a script error in every browser) although live code is switched
off here (``launch_buttons.thebe: false``). This extension drops those scripts and
``sphinx-thebe.js`` from every page. The theme also logs a console error on a reader's first
visit (no colour mode stored yet); the extension sets the mode to ``auto`` first, which is what
the theme falls back to anyway. Enabled in ``_config.yml`` under ``sphinx.extra_extensions``.
"""

from __future__ import annotations

from typing import Any


def _is_thebe(script: Any) -> bool:
    body = str(getattr(script, "attributes", {}).get("body", ""))
    return "THEBE_JS_URL" in body or str(script).endswith("sphinx-thebe.js") or "sphinx-thebe.js" in str(script)


def drop_thebe_scripts(app: Any, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
    """``html-page-context`` handler: remove the thebe scripts from the page's script list.

    Parameters
    ----------
    app : sphinx.application.Sphinx
        The Sphinx application.
    pagename : str
        Name of the page.
    templatename : str
        Its template.
    context : dict
        The page's template context; its ``script_files`` are filtered in place.
    doctree : docutils.nodes.document or None
        The page's doctree.
    """
    if "script_files" in context:
        context["script_files"] = [s for s in context["script_files"] if not _is_thebe(s)]


FIRST_VISIT_MODE = "if (!document.documentElement.dataset.mode) { document.documentElement.dataset.mode = 'auto'; }"


def setup(app: Any) -> dict[str, Any]:
    """Register the extension: the page-context handler and the first-visit script.

    Parameters
    ----------
    app : sphinx.application.Sphinx
        The Sphinx application.

    Returns
    -------
    dict of str to Any
        Extension metadata (safe for parallel reading and writing).
    """
    app.connect("html-page-context", drop_thebe_scripts, priority=900)
    app.add_js_file(None, body=FIRST_VISIT_MODE, priority=100)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
