"""Pages generated for the book: the claims page and the status page.

Both are written from the registry (``book/claims.yaml``) and the published results JSON at
book-build time, so neither holds a hand-typed number.
"""

from __future__ import annotations

from typing import Any

from ..io import notebook_names, notebook_path
from .params import read_parameters
from .registry import Check, check_results, load_registry, parse_condition
from .tolerances import ALPHA, EXACT_ATOL, EXACT_RTOL, rule_factor, suite_false_alarm_bound

PAPERS = {"A": "Longon et al. 2025 (Paper A)", "B": "Klindt et al. 2025 (Paper B)"}


def format_value(value: Any) -> str:
    """A short text form of a recorded value.

    Parameters
    ----------
    value : Any
        A recorded value: None, a boolean, string, number or list.

    Returns
    -------
    str
        ``n/a`` for None, an integer with thousands separators, a float to 4 significant digits, a
        list as its first 6 values and its length.
    """
    if value is None:
        return "n/a"
    if isinstance(value, bool | str):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list):
        shown = ", ".join(format_value(v) for v in value[:6])
        return f"[{shown}{', …' if len(value) > 6 else ''}] ({len(value)} values)"
    return str(value)


def is_default_run(name: str, data: dict[str, Any]) -> bool:
    """Whether a results file comes from the notebook's default parameters.

    Parameters
    ----------
    name : str
        Notebook name.
    data : dict of str to Any
        The notebook's results JSON, its provenance holding the parameters used.

    Returns
    -------
    bool
        Whether every declared parameter had its default value.
    """
    defaults = {p.name: p.default for p in read_parameters(notebook_path(name))}
    used = data.get("provenance", {}).get("parameters", {})
    return all(used.get(k) == v for k, v in defaults.items())


def _default_results(results: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {n: d for n, d in results.items() if d.get("complete") and is_default_run(n, d)}


def _status(check: Check) -> str:
    if not check.recorded:
        return "✗ not recorded"
    return "✓ pass" if check.passed else "✗ fail"


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def _band_text(entry: Any) -> str:
    low, high = entry.band()
    return f"[{low:.4g}, {high:.4g}]"


def _margin_rows(entry: Any) -> list[str]:
    """For a claim on a trained number: how many replicate spreads separate it from its threshold."""
    if entry.kind != "trained" or not entry.spread:
        return []
    _, threshold = parse_condition(entry.claim.holds_if)
    margin = (float(entry.expected) - threshold) / float(entry.spread)
    return [
        f"| spread over {entry.runs} runs | {entry.spread:.3g}: the threshold is {abs(margin):.1f} spreads away "
        f"(a verdict needs more than {rule_factor(entry.runs):g}) |"
    ]


def _kinds_text(entries: list[Any]) -> str:
    """The claims page's paragraph on the three kinds of numbers and the trained rule."""
    trained = [e for e in entries if e.kind == "trained"]
    values = sum(len(e.expected) if isinstance(e.expected, list) else 1 for e in trained)
    factors = ", ".join(f"{rule_factor(n):g} for $n$ = {n}" for n in sorted({e.runs for e in trained if e.runs}))
    return (
        "Each registered number is of one of three kinds. An **exact** number comes from fixed data by "
        "deterministic arithmetic (a pretrained network, a closed form, a least-squares fit): another "
        f"CPU changes it only in the last bits, and its tolerance is {EXACT_RTOL:g} relative ({EXACT_ATOL:g} "
        "absolute). A **discrete** number is exact arithmetic that counts outcomes of comparisons "
        "(choices, certified verdicts, permutations), where a near-tie decided by the last bits can flip "
        "one outcome: its tolerance is a few outcomes' worth. A **trained** number comes out of training "
        "(a network, an SAE, an encoder): another CPU, thread count or a GPU rounds differently, which "
        "after thousands of steps is another draw of the training. Its tolerance is $k_n$ times its "
        "standard deviation over $n$ replicate runs with shifted seeds, the published run among them, "
        f"where $k_n$ is the factor for which a correct new draw leaves it with probability $\\alpha$ = {ALPHA:g} "
        f"({factors}; derived in `src/superposition/book/tolerances.py`). Over the {len(trained)} trained "
        f"entries ({values:,} values), some value of a correct run leaves its tolerance with probability "
        f"at most {suite_false_alarm_bound(values):.1%}."
    )


def claims_page(results: dict[str, dict[str, Any]]) -> str:
    """The Markdown of the claims page: a summary table, one section per claim, every number.

    Parameters
    ----------
    results : dict of str to dict
        Notebook name to its results JSON; only complete runs at the default parameters are compared.

    Returns
    -------
    str
        The page.
    """
    entries = load_registry()
    comparable = _default_results(results)
    checks, unregistered = check_results(entries, comparable)
    by_key = {(c.entry.notebook, c.entry.key): c for c in checks}
    claimed = [e for e in entries if e.claim is not None]
    lines = [
        "# Claims and published numbers",
        "",
        "Every claim this book tests, generated from the registry `book/claims.yaml` and the last "
        "run of each notebook at the default parameters (*this book*). Every key is written in its "
        "chapter's notebook: as a string (`run.record(\"n_increases\", ...)`), or as a cell of a table "
        "recorded by `run.record_table(prefix, table, key_columns, descriptions)`, named by one rule: the "
        "prefix, the row's values in the key columns, then the column, joined by underscores "
        "(`change_ridge_w32_min` is column `min` of the row `ridge`, `w32` of the table `change`); "
        "search the notebook for `record_table(\"change\"`. Parameters are not registered: the "
        "parameter table at the top of each chapter shows them.",
        "",
        _kinds_text(entries),
        "",
        "The **verdict** of a claim is read from the band *expected ± tolerance*: it **holds** when "
        "the claim's condition holds on the whole band, **fails** when it holds nowhere on it, and is "
        "**inconclusive** when the band straddles the threshold, so that a new draw of the training "
        "could land on either side. `make test` enforces every tolerance, and the direction of every "
        "claim that holds or fails. The uncertainty here is that of one run of the book; it is not "
        "an interval for the paper's claim itself.",
        "",
        "## Summary",
        "",
        "Paper A: Longon et al. 2025; paper B: Klindt et al. 2025.",
        "",
        "| claim | paper | chapter | verdict | this book | band (expected ± tolerance) | regression |",
        "|---|---|---|---|---|---|---|",
    ]
    sections = []
    for entry in claimed:
        c = entry.claim
        check = by_key.get((entry.notebook, entry.key))
        value = format_value(check.value) if check and check.recorded else "not run"
        holds = "—" if check is None or check.claim_holds is None else ("yes" if check.claim_holds else "no")
        status = _status(check) if check else "not run at default parameters"
        lines.append(
            f"| [`{c.id}`](#claim-{c.id.lower()}) | {c.paper} | {entry.notebook} | "
            f"**{c.verdict}** | {_cell(value)} | {_band_text(entry)} | {status} |"
        )
        sections += [
            f"(claim-{c.id.lower()})=",
            f"### {c.id}",
            "",
            f"**{PAPERS.get(c.paper, c.paper)}, {c.where}.** {c.statement}",
            "",
            "| | |",
            "|---|---|",
            f"| paper's value | {_cell(c.paper_value)} |",
            f"| condition | `{entry.key}` {_cell(c.holds_if)} |",
            f"| this book (notebook `{entry.notebook}`) | {_cell(value)} (condition met by this value: {holds}) |",
            f"| expected | {_cell(format_value(entry.expected))}, {entry.kind} ({entry.tolerance_text}) |",
            f"| band | {_band_text(entry)} |",
            *_margin_rows(entry),
            f"| verdict | **{c.verdict}** |",
            f"| regression | {status} |",
            "",
        ]
    lines += ["", "## The claims", "", *sections]
    lines += [
        "## Every registered number",
        "",
        "| notebook | key | kind | this book | expected | tolerance | regression |",
        "|---|---|---|---|---|---|---|",
    ]
    for entry in entries:
        check = by_key.get((entry.notebook, entry.key))
        value = format_value(check.value) if check and check.recorded else "not run"
        status = _status(check) if check else "not run at default parameters"
        lines.append(
            f"| {entry.notebook} | `{entry.key}` | {entry.kind} | {_cell(value)} | {_cell(format_value(entry.expected))} | "
            f"{_cell(entry.tolerance_text)} | {status} |"
        )
    if unregistered:
        lines += ["", "Recorded but not registered (a defect `make test` reports): " + ", ".join(f"`{k}`" for k in unregistered)]
    return "\n".join(lines) + "\n"


def status_page(results: dict[str, dict[str, Any]]) -> str:
    """The Markdown of the status page: the last run of every notebook.

    Parameters
    ----------
    results : dict of str to dict
        Notebook name to its results JSON; a notebook without one is shown as not run.

    Returns
    -------
    str
        The page.
    """
    entries = load_registry()
    lines = [
        "# Status of the last runs",
        "",
        "The last execution of every notebook, read from its results file.",
        "",
        "| notebook | profile | default parameters | device | commit | started (UTC) | run time | registry checks |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name in notebook_names():
        data = results.get(name)
        if data is None:
            lines.append(f"| {name} | not run | | | | | | |")
            continue
        prov = data["provenance"]
        default = is_default_run(name, data)
        if default:
            checks, _ = check_results(entries, {name: data})
            passed = sum(c.passed for c in checks)
            verdict = f"{passed}/{len(checks)} pass"
        else:
            verdict = "not compared (non-default parameters)"
        lines.append(
            f"| {name} | {prov['profile']} | {'yes' if default else 'no'} | {prov['device']} | `{prov['commit']}` | "
            f"{prov['started']} | {prov['wall_time_s']:.0f} s | {verdict} |"
        )
    return "\n".join(lines) + "\n"


def reproduce_box(name: str, data: dict[str, Any] | None) -> str:
    """The Markdown of a chapter's closing "Reproduce" box.

    It gives the commands for the default and the ``paper`` profile, how long the published run took
    and where, and links to the executed notebook and its results (copied to ``downloads/`` of the
    staged book by the build).

    Parameters
    ----------
    name : str
        Notebook name.
    data : dict of str to Any or None
        The notebook's results JSON; None when the page has no recorded run.

    Returns
    -------
    str
        The box, a MyST admonition.
    """
    if data is None:
        measured = "This page has no recorded run."
    else:
        prov = data["provenance"]
        measured = (
            f"The published run took **{prov['wall_time_s']:.0f} s** on `{prov['device']}` "
            f"(profile `{prov['profile']}`, commit `{prov['commit']}`, {prov['started']})."
        )
    profiles = {p.stem.split(".", 1)[1] for p in notebook_path(name).parent.glob(f"{name}.*.yaml")}
    paper = (
        f"- the papers' full settings, meant for a GPU (downloads and sizes in "
        f"`notebooks/{name}.paper.yaml`; no timing is recorded for it here):\n\n"
        f"  ```bash\n  make run NB={name} PROFILE=paper\n  ```\n"
        if "paper" in profiles
        else ""
    )
    return (
        ":::{admonition} Reproduce this page\n"
        ":class: tip\n\n"
        "From the repository root, after `make env`:\n\n"
        f"- the default parameters (this page):\n\n  ```bash\n  make run NB={name}\n  ```\n\n"
        f"  {measured}\n"
        f"- a quick check in seconds (numbers are not claims): `make run NB={name} PROFILE=smoke`\n"
        f"{paper}\n"
        f"Downloads: {{download}}`the executed notebook <../downloads/{name}.ipynb>` · "
        f"{{download}}`its recorded results (JSON) <../downloads/{name}.json>` · "
        "[the status of every run](../status.md).\n"
        ":::\n"
    )
