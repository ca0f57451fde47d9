"""Pages generated for the book: the claims page and the status page.

Both are written from the registry (``book/claims.yaml``) and the published results JSON at
book-build time, so neither holds a hand-typed number.
"""

from __future__ import annotations

from typing import Any

from .params import read_parameters
from .project import notebook_names, notebook_path
from .registry import Check, check_results, load_registry

PAPERS = {"A": "Longon et al. 2025 (Paper A)", "B": "Klindt et al. 2025 (Paper B)"}


def format_value(value: Any) -> str:
    """A short text form of a recorded value."""
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
    """Whether a results file comes from the notebook's default parameters."""
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


def claims_page(results: dict[str, dict[str, Any]]) -> str:
    """The Markdown of the claims page: a summary table, one section per claim, every number."""
    entries = load_registry()
    comparable = _default_results(results)
    checks, unregistered = check_results(entries, comparable)
    by_key = {(c.entry.notebook, c.entry.key): c for c in checks}
    claimed = [e for e in entries if e.claim is not None]
    lines = [
        "# Claims and published numbers",
        "",
        "Every claim this book tests, generated from the registry `book/claims.yaml` and the last "
        "run of each notebook. *This book* is the value recorded by the last run at the default "
        "parameters; *expected* is the registered value with its tolerance, which `make test` "
        "enforces. *Claim holds* applies the claim's condition to the recorded value; a claim that "
        "does not hold at the sizes this book runs is published as such, and its registered verdict "
        "says so.",
        "",
        "## Summary",
        "",
        "| claim | paper | chapter | claim holds | regression |",
        "|---|---|---|---|---|",
    ]
    sections = []
    for entry in claimed:
        c = entry.claim
        check = by_key.get((entry.notebook, entry.key))
        value = format_value(check.value) if check and check.recorded else "not run"
        holds = "—" if check is None or check.claim_holds is None else ("yes" if check.claim_holds else "no")
        status = _status(check) if check else "not run at default parameters"
        lines.append(f"| [`{c.id}`](#claim-{c.id.lower()}) | {PAPERS.get(c.paper, c.paper)} | {entry.notebook} | {holds} | {status} |")
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
            f"| this book (notebook `{entry.notebook}`) | {_cell(value)} |",
            f"| expected | {_cell(format_value(entry.expected))} ({entry.tolerance_text}) |",
            f"| claim holds | {holds} (registered verdict: {c.verdict}) |",
            f"| regression | {status} |",
            "",
        ]
    lines += ["", "## The claims", "", *sections]
    lines += [
        "## Every registered number",
        "",
        "| notebook | key | this book | expected | tolerance | regression |",
        "|---|---|---|---|---|---|",
    ]
    for entry in entries:
        check = by_key.get((entry.notebook, entry.key))
        value = format_value(check.value) if check and check.recorded else "not run"
        status = _status(check) if check else "not run at default parameters"
        lines.append(
            f"| {entry.notebook} | `{entry.key}` | {_cell(value)} | {_cell(format_value(entry.expected))} | "
            f"{entry.tolerance_text} | {status} |"
        )
    if unregistered:
        lines += ["", "Recorded but not registered (a defect `make test` reports): " + ", ".join(f"`{k}`" for k in unregistered)]
    return "\n".join(lines) + "\n"


def status_page(results: dict[str, dict[str, Any]]) -> str:
    """The Markdown of the status page: the last run of every notebook."""
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
    """The Markdown of a chapter's closing "Reproduce" box: the commands for the default and
    the ``paper`` profile, how long the published run took and where, and links to the executed
    notebook and its results (copied to ``downloads/`` of the staged book by the build)."""
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
