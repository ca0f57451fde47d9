"""Pages generated for the book: the claims page, the status page and the sweep pages.

They are written from the registry (``book/claims.yaml``), the published results JSON and the
gathered sweep tables at book-build time, so none holds a hand-typed number.
"""

from __future__ import annotations

from typing import Any

from ..io import notebook_names, notebook_path
from .params import available_profiles, read_parameters
from .registry import Check, check_results, load_registry
from .replicates import load_replicates, replicate_evidence
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


VERDICT_MARKS = {"holds": "▲ holds", "fails": "▼ fails", "inconclusive": "◆ inconclusive"}
"""A verdict as the pages show it: a shape and a word (colour-blind safe; the colour, from
``book/_css/companion.css``, only repeats it)."""


def verdict_badge(verdict: str) -> str:
    """A verdict as an inline HTML badge: shape, word and class ``verdict-<verdict>``.

    Parameters
    ----------
    verdict : {"holds", "fails", "inconclusive"}
        The verdict.

    Returns
    -------
    str
        The badge.
    """
    return f'<span class="verdict verdict-{verdict}">{VERDICT_MARKS[verdict]}</span>'


def _number(value: Any) -> str:
    return format_value(value) if isinstance(value, str | bool | list) or value is None else f"{float(value):+.4g}"


def _interval_text(interval: Any) -> str:
    if not isinstance(interval, list) or len(interval) != 2:
        return "no interval"
    low, high = interval
    return f"[{float(low):+.4g}, {float(high):+.4g}]"


def _recorded(results: dict[str, dict[str, Any]], notebook: str, key: str) -> dict[str, Any] | None:
    return results.get(notebook, {}).get("results", {}).get(key)


def _claim_value(check: Check | None, recorded: dict[str, Any] | None) -> str:
    """This book's number with its interval and what varied."""
    if check is None or not check.recorded or recorded is None:
        return "not run"
    basis = f" ({recorded['over']})" if recorded.get("over") else ""
    return f"{_number(check.value)} {_interval_text(check.interval)}{basis}"


def _control_value(entry: Any, results: dict[str, dict[str, Any]]) -> str:
    c = entry.claim
    if not c.control_key:
        return "—"
    recorded = _recorded(results, entry.notebook, c.control_key)
    if recorded is None:
        return f"{c.control_label}: not run"
    interval = f" {_interval_text(recorded['interval'])}" if recorded.get("interval") else ""
    return f"{c.control_label}: {_number(recorded['value'])}{interval}"


def _figure_link(entry: Any, ran: bool) -> str:
    """A link to the claim's figure on its chapter page (to the page when the chapter has not run)."""
    if entry.claim.figure and ran:
        return f"{{ref}}`{entry.notebook} <{entry.claim.figure}>`"
    return f"{{doc}}`{entry.notebook} <executed/{entry.notebook}>`"


def _kinds_text(entries: list[Any]) -> str:
    """The claims page's paragraph on the three kinds of numbers and the trained rule."""
    trained = [e for e in entries if e.kind == "trained"]
    values = sum(len(e.expected) if isinstance(e.expected, list) else 1 for e in trained) + sum(2 for e in trained if e.interval)
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
        f"entries ({values:,} values and interval ends), some value of a correct run leaves its tolerance "
        f"with probability at most {suite_false_alarm_bound(values):.1%}."
    )


HOW_TO_READ = """:::{admonition} How to read a verdict
:class: note

Each claim is a **rule** on one number (for example *the change of alignment is > 0*), taken from
the paper's words or from a stated derivation, and fixed before the run; the number comes with a
95 % **interval** from the variation the claim is about: independently trained SAEs or encoders,
bootstrap resamples of objects, questions or units (the count is printed beside it).

- <span class="verdict verdict-holds">▲ holds</span>: the rule holds on the whole interval;
- <span class="verdict verdict-fails">▼ fails</span>: the rule fails on the whole interval;
- <span class="verdict verdict-inconclusive">◆ inconclusive</span>: the interval straddles the
  threshold; the data do not decide, which is an honest result, not a defect.

Which interval the verdict reads depends on the kind of number. An exact or discrete number (a
pretrained network, a closed form, a count of outcomes) is judged on its interval widened at each
end by how far a correct rerun on another CPU, a GPU or another thread count may move it (the
*reproducible interval*), so that no correct rerun can turn the verdict around. A number that
comes out of training is one draw of that training: its claim is judged on the interval of its
mean over the chapter's replicate runs, in which every seed (networks, SAEs, data) is drawn again
(the runs are counted beside it); this run's own interval is shown beside it. Where a **control** could have passed the same test (an untrained SAE, a random-weight
twin, a shuffled pairing), the claim is stated against it and the control's number stands beside
it. Numbers without a claim are descriptive: regression-tested, not evidence.
:::"""


def _summary_rows(claimed: list[Any]) -> list[str]:
    """Counts of holds / fails / inconclusive per paper and per chapter."""
    groups: dict[tuple[str, str], dict[str, int]] = {}
    for e in claimed:
        for group in (("paper", e.claim.paper), ("chapter", e.notebook)):
            counts = groups.setdefault(group, dict.fromkeys(VERDICT_MARKS, 0))
            counts[e.claim.verdict] += 1
    rows = ["| | claims | ▲ holds | ▼ fails | ◆ inconclusive |", "|---|---|---|---|---|"]
    for (kind, name), counts in groups.items():
        label = f"**{PAPERS.get(name, name)}**" if kind == "paper" else f"{{doc}}`{name} <executed/{name}>`"
        rows.append(f"| {label} | {sum(counts.values())} | {counts['holds']} | {counts['fails']} | {counts['inconclusive']} |")
    return rows


def imported_verdict(run: Any, key: str, holds_if: str) -> str:
    """A claim as a run made elsewhere reads it: its number, interval and verdict on that interval.

    Parameters
    ----------
    run : superposition.book.bundles.ImportedRun
        The run.
    key : str
        The claim's key.
    holds_if : str
        The claim's rule.

    Returns
    -------
    str
        The cell's text.
    """
    from .verdicts import parse_rule, verdict

    recorded = run.results.get("results", {}).get(key)
    if recorded is None or not isinstance(recorded.get("value"), int | float):
        return "not recorded"
    value = float(recorded["value"])
    low, high = recorded.get("interval") or (value, value)
    return f"{value:+.4g} {_interval_text([low, high])} {verdict_badge(verdict(parse_rule(holds_if), float(low), float(high)))}"


def claims_page(results: dict[str, dict[str, Any]], imported: list[Any] | None = None) -> str:
    """The Markdown of the claims page: verdicts per paper and chapter, one row per claim, every number.

    Parameters
    ----------
    results : dict of str to dict
        Notebook name to its results JSON; only complete runs at the default parameters are compared.
    imported : list of superposition.book.bundles.ImportedRun or None
        Runs made elsewhere; those of the ``paper`` profile add a column with their verdicts.

    Returns
    -------
    str
        The page.
    """
    entries = load_registry()
    comparable = _default_results(results)
    checks, unregistered = check_results(entries, comparable)
    by_key = {(c.entry.notebook, c.entry.key): c for c in checks}
    claimed = sorted((e for e in entries if e.claim is not None), key=lambda e: (e.claim.paper, e.notebook, e.claim.id))
    lines = [
        "# Claims and published numbers",
        "",
        "Every claim this book tests, generated from the registry `book/claims.yaml` and the last run of each "
        "notebook at its default parameters (*this book*).",
        "",
        HOW_TO_READ,
        "",
        "## Summary",
        "",
        *_summary_rows(claimed),
        "",
        "## The claims",
        "",
        "Paper A: Longon et al. 2025; Paper B: Klindt et al. 2025. *This book*: the number, its 95 % interval "
        "and what varied; *control*: the number of the control that could have falsified the claim.",
        "",
    ]
    paper_runs = {run.notebook: run for run in imported or [] if run.profile == "paper"}
    paper_column = ["paper profile (imported)"] if paper_runs else []
    lines += [
        "| " + " | ".join(["claim", "statement", "rule", "this book", "control", "verdict", *paper_column, "chapter"]) + " |",
        "|" + "---|" * (7 + len(paper_column)),
    ]
    if paper_runs:
        lines[-2:-2] = ["The column *paper profile (imported)* reads each claim on a run of the `paper` profile made elsewhere (see [runs made elsewhere](imported.md)), "
                        "on that run's own interval: " + "; ".join(f"`{n}` {imported_label(r)}" for n, r in paper_runs.items()) + ".", ""]  # fmt: skip
    sections = []
    for entry in claimed:
        c = entry.claim
        check = by_key.get((entry.notebook, entry.key))
        recorded = _recorded(comparable, entry.notebook, entry.key)
        value = _claim_value(check, recorded)
        if entry.kind == "trained" and entry.runs_interval is not None:
            value += f"; over {entry.runs} replicate runs: {_interval_text(entry.runs_interval)}"
        status = _status(check) if check else "not run at default parameters"
        paper_cell = [_cell(imported_verdict(paper_runs[entry.notebook], entry.key, c.holds_if)) if entry.notebook in paper_runs else "not imported"] if paper_runs else []
        lines.append(
            f"| [`{c.id}`](#claim-{c.id.lower()}) ({c.paper}) | {_cell(c.statement)} | `{_cell(c.holds_if)}` | "
            f"{_cell(value)} | {_cell(_control_value(entry, comparable))} | {verdict_badge(c.verdict)} | "
            + "".join(f"{cell} | " for cell in paper_cell) + f"{_figure_link(entry, entry.notebook in results)} |"
        )
        run_verdict = f"{check.run_verdict} on this run's own interval" if check and check.run_verdict else "—"
        if entry.kind == "trained":
            evidence = replicate_evidence(load_replicates(entry.notebook), entry.key, c.holds_if)
            reads = (
                f"the interval over the replicate runs, every seed redrawn: {evidence.runs} runs, mean {evidence.mean.value:+.4g}, "
                f"95 % interval [{evidence.mean.low:+.4g}, {evidence.mean.high:+.4g}]; the runs' own intervals give "
                + ", ".join(f"{n} {v}" for v, n in evidence.verdicts.items())
                if evidence
                else f"the interval over the replicate runs {_interval_text(entry.runs_interval)}"
            )
        else:
            low, high = entry.reproducible_interval()
            reads = f"the reproducible interval [{low:+.4g}, {high:+.4g}] (this interval widened by the tolerance)"
        sections += [
            f"(claim-{c.id.lower()})=",
            f"### {c.id}",
            "",
            f"**{PAPERS.get(c.paper, c.paper)}, {c.where}.** {c.statement}",
            "",
            f"> {c.paper_words}",
            "",
            "| | |",
            "|---|---|",
            f"| rule | `{entry.key}` {_cell(c.holds_if)} |",
            f"| where the rule comes from | {_cell(c.rule_source)} |",
            f"| this book | {_cell(value)}; {_cell(recorded.get('method', '')) if recorded else ''} |",
            f"| control | {_cell(_control_value(entry, comparable))} |",
            f"| registered | {_number(entry.expected)} {_interval_text(entry.interval)}, {entry.kind} ({_cell(entry.tolerance_text)}) |",
            f"| the verdict reads | {_cell(reads)} |",
            f"| verdict | {verdict_badge(c.verdict)} ({run_verdict}) |",
            f"| regression | {status} |",
            f"| figure | {_figure_link(entry, entry.notebook in results)} |",
            "",
        ]
    lines += ["", *sections]
    lines += [
        "## Every registered number",
        "",
        _kinds_text(entries),
        "",
        "Every key is written in its chapter's notebook: as a string (`run.record(\"n_increases\", ...)`), or as "
        "a cell of a table recorded by `run.record_table(prefix, table, key_columns, descriptions)`, named by one "
        "rule: the prefix, the row's values in the key columns, then the column, joined by underscores "
        "(`change_ridge_w32_mean` is column `mean` of the row `ridge`, `w32` of the table `change`); search the "
        "notebook for `record_table(\"change\"`. Parameters are not registered: the parameter table at the top of "
        "each chapter shows them. Numbers without a claim are descriptive: they guard the published pages "
        "against regressions but are not evidence for or against a paper.",
        "",
        "| notebook | key | kind | claim | this book | expected | tolerance | regression |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for entry in entries:
        check = by_key.get((entry.notebook, entry.key))
        value = format_value(check.value) if check and check.recorded else "not run"
        status = _status(check) if check else "not run at default parameters"
        role = f"[{entry.claim.id}](#claim-{entry.claim.id.lower()})" if entry.claim else "descriptive"
        lines.append(
            f"| {entry.notebook} | `{entry.key}` | {entry.kind} | {role} | {_cell(value)} | {_cell(format_value(entry.expected))} | "
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
    profiles = set(available_profiles(notebook_path(name)))
    paper = (
        f"- the papers' full settings, meant for a GPU (downloads and sizes in "
        f"`notebooks/{name}.paper.yaml`; no timing is recorded for it here):\n\n"
        f"  ```bash\n  make run NB={name} PROFILE=paper\n  ```\n"
        if "paper" in profiles
        else ""
    )
    from .bundles import imported_runs
    from .sweeps import available_sweeps

    elsewhere = "".join(f"- made elsewhere: [{imported_label(run)}](../imported/{name}--{run.label}.ipynb)\n" for run in imported_runs(name))
    sweeps = "".join(
        f"- a sweep of this chapter over a grid of parameters, run by Snakemake (its page: "
        f"[{sweep.replace('_', ' ')}](../sweeps/{name}.{sweep}.md)):\n\n  ```bash\n  make sweep NB={name} SWEEP={sweep}\n  ```\n"
        for sweep in available_sweeps(name)
    )
    return (
        ":::{admonition} Reproduce this page\n"
        ":class: tip\n\n"
        "From the repository root, after `make env`:\n\n"
        f"- the default parameters (this page):\n\n  ```bash\n  make run NB={name}\n  ```\n\n"
        f"  {measured}\n"
        f"- a quick check in seconds (numbers are not claims): `make run NB={name} PROFILE=smoke`\n"
        f"{paper}{sweeps}{elsewhere}\n"
        f"Downloads: {{download}}`the executed notebook <../downloads/{name}.ipynb>` · "
        f"{{download}}`its recorded results (JSON) <../downloads/{name}.json>` · "
        "[the status of every run](../status.md).\n"
        ":::\n"
    )


def sweep_page(notebook: str, sweep: str, tables: dict[str, dict[str, Any]], description: str, title: str) -> str:
    """The Markdown page of a sweep: what it asks, how to run it, and its gathered tables.

    Parameters
    ----------
    notebook, sweep : str
        The sweep (``notebooks/<notebook>.<sweep>.sweep.yaml``).
    tables : dict of str to dict
        Sweep profile -> its gathered table (:func:`superposition.book.sweeps.gather`), whose
        figures the build copied to ``sweeps/<notebook>.<sweep>/<profile>/``; a published table
        (:func:`superposition.book.sweeps.published_tables`) carries ``"published"``; empty when
        the sweep has not run.
    description : str
        The sweep file's description.
    title : str
        The page's title.

    Returns
    -------
    str
        The page.
    """
    lines = [
        f"# {title}", "",
        description, "",
        ":::{admonition} Run this sweep\n:class: tip\n",
        "From the repository root, after `make env` (Snakemake runs the points on every local core; a point",
        "whose run key is unchanged is skipped, and a stopped sweep resumes where it stopped):\n",
        f"```bash\nmake sweep NB={notebook} SWEEP={sweep}                        # the default grid, here\n"
        f"make sweep NB={notebook} SWEEP={sweep} SWEEP_PROFILE=paper CLUSTER=slurm   # the paper grid, one GPU job per point\n```\n",
        f"The grid and the collected numbers are declared in `notebooks/{notebook}.{sweep}.sweep.yaml`; the",
        f"results go to `_build/sweeps/{notebook}/{sweep}/<profile>/table.csv`.",
        ":::", "",
    ]  # fmt: skip
    if not tables:
        lines += ["```{note}", "This sweep has not run in this build: its table and maps appear here once it has.", "```", ""]
    for profile, table in tables.items():
        rows = table["rows"]
        grid_names = [name for name, _ in table["grid"]]
        columns = [column for column, _ in table["collect"]]
        devices = sorted({str(r["device"]) for r in rows})
        commits = sorted({str(r["commit"]) for r in rows})
        lines += [f"## Profile `{profile}`", "", f"{len(rows)} points on {', '.join(devices)} (commit {', '.join(commits)}); rule: `{table.get('rule')}`,"
                  " verdict holds (+) or fails (−) only when the whole 95 % interval says so, else inconclusive (?).", ""]  # fmt: skip
        if "published" in table:
            stale = table["published"]["stale"]
            where = f"Published with the book (`book/sweeps/{notebook}/{sweep}/{profile}/`), not run in this build."
            if stale:
                lines += [where, "", "```{warning}", f"Points {', '.join(stale)} were made by other code or parameters than this checkout's "
                          "(their run keys differ): run the sweep again and publish it.", "```", ""]  # fmt: skip
            else:
                lines += [f"{where} Every point's run key is the one this checkout computes: the same code and parameters.", ""]
        for name in table["figures"]:
            lines += [f"![{name}]({notebook}.{sweep}/{profile}/{name})", ""]
        header = ["point", *grid_names, *(f"{c} [95 % interval], verdict" for c in columns), "run key", "wall time (s)"]
        lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        for r in rows:
            cells = [f"{_number(r[c])} [{_number(r[c + ' low'])}, {_number(r[c + ' high'])}], {r.get(c + ' verdict', '–')}" for c in columns]
            wall = f"{r['wall_time_s']:.0f}" if isinstance(r.get("wall_time_s"), (int, float)) else "–"
            lines.append("| " + " | ".join([_cell(str(r["point"])), *(_cell(str(r[g])) for g in grid_names), *cells, f"`{r['run_key']}`", wall]) + " |")
        lines.append("")
    return "\n".join(lines) + "\n"


def imported_label(run: Any) -> str:
    """A run made elsewhere as the pages name it: profile, device, and what differs from here.

    Parameters
    ----------
    run : superposition.book.bundles.ImportedRun
        The run.

    Returns
    -------
    str
        The label.
    """
    return f"profile `{run.profile}` on {run.device}" + (f" (**{run.mismatch}**)" if run.mismatch else "")


def imported_header(run: Any, title: str) -> str:
    """The admonition that heads the page of a run made elsewhere.

    Parameters
    ----------
    run : superposition.book.bundles.ImportedRun
        The run.
    title : str
        The chapter's title.

    Returns
    -------
    str
        Markdown.
    """
    m = run.manifest
    return (
        f":::{{admonition}} Imported run: {title}, {imported_label(run)}\n:class: important\n\n"
        f"This page is a run of `{run.notebook}` made on another machine and brought into the book from a bundle "
        f"(`{m['import']['bundle']}`, imported {m['import']['imported']}): profile `{run.profile}`, device `{run.device}`, "
        f"commit `{m['commit']}`, run key `{m['run_key']}`, lock file `{m.get('lock_digest')}`, run time {m['wall_time_s']:.0f} s, "
        f"started {m['started']}. Its files were checked against the digests packed with them"
        + (f"; it was {run.mismatch}, so its numbers need not match this book's code." if run.mismatch else "; its run key matches this checkout's code and lock file.")
        + f" The default run is [the chapter's page](../executed/{run.notebook}.ipynb).\n:::\n"
    )


def imported_index(runs: list[Any]) -> str:
    """The page listing the runs made elsewhere, and how to pack and import one.

    Parameters
    ----------
    runs : list of superposition.book.bundles.ImportedRun
        The imported runs.

    Returns
    -------
    str
        Markdown.
    """
    lines = [
        "# Runs made elsewhere", "",
        "Runs of the chapters made on other machines (a GPU node, a cluster job), packed with their provenance and",
        "checked on import: every file against its digest, and the run key against this checkout's code, lock file",
        "and parameters. A run made with other code is refused unless imported with `--allow-mismatch`, and is then",
        "labelled so here and on its page.", "",
        "```bash",
        "# on the machine that made the run (after make run NB=<name> PROFILE=paper there):",
        "python -m superposition.book.bundles pack <name> -o <name>-paper.tar.gz",
        "# here:",
        "python -m superposition.book.bundles import <name>-paper.tar.gz",
        "make book",
        "```", "",
    ]  # fmt: skip
    if not runs:
        return "\n".join(lines + ["No run has been imported into this book yet.", ""])
    lines += ["| chapter | run | commit | run time | page |", "|---|---|---|---|---|"]
    for run in runs:
        lines.append(f"| `{run.notebook}` | {_cell(imported_label(run))} | `{run.manifest['commit']}` | {run.manifest['wall_time_s']:.0f} s | "
                     f"[open](imported/{run.notebook}--{run.label}.ipynb) |")  # fmt: skip
    return "\n".join(lines) + "\n"
