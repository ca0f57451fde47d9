"""The default book on another CPU kernel path, compared with the registry.

Usage (from the repository root)::

    make kernel-check                                    # every notebook
    make kernel-check NB=toy_alignment                   # one notebook
    python -m superposition.book.kernel_check --notebooks toy_alignment,additivity

Registered numbers must hold on any x86 CPU, not only on the machine that registered them. One
machine imitates another by forcing the vector kernels that torch, MKL and oneDNN pick at run
time: on a machine with AVX-512 the check runs with the AVX2 kernels (``ATEN_CPU_CAPABILITY=avx2
MKL_CBWR=AVX2 ONEDNN_MAX_CPU_ISA=AVX2``, and numpy's AVX-512 targets disabled with
``NPY_DISABLE_CPU_FEATURES``), elsewhere with no vectorisation (``ATEN_CPU_CAPABILITY=default
MKL_CBWR=COMPATIBLE ONEDNN_MAX_CPU_ISA=SSE41``, numpy at its baseline). Every notebook is
executed at its default parameters into ``_build/kernel-check/`` with a cache of its own, so
networks and SAEs train again on that path (downloads are shared with the book's cache). The
run passes when every number lies within its registered tolerance (exact numbers: their tight
tolerance; trained numbers: the tolerance from their replicate spread) and every robust claim
keeps its verdict. The report is printed and written to ``_build/kernel-check/report.json``;
``--compare-only`` compares the last results again (after a change of the registry).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from ..io import BUILD, atomic_write_json, notebook_names, notebook_path
from .registry import check_results, failure_lines, load_registry
from .tolerances import KINDS

KERNEL_CHECK = BUILD / "kernel-check"
SHARED_CACHE_FOLDERS = ("downloads", "fashion-mnist")
"""Cache folders of downloaded data, shared with the book's cache (nothing in them is computed)."""


NUMPY_AVX512 = ("X86_V4", "AVX512_ICL", "AVX512_SPR")
NUMPY_AVX2 = ("X86_V3",)
"""numpy's dispatched SIMD targets above AVX2 and at AVX2 (its names since 2.4)."""


def other_kernel_path(capability: str, numpy_features: dict[str, bool] | None = None) -> dict[str, str]:
    """The environment that forces a kernel path other than ``capability``.

    Numpy targets this machine uses above the forced level are disabled too
    (``NPY_DISABLE_CPU_FEATURES``).

    Parameters
    ----------
    capability : str
        Torch's own name for the path it takes: ``AVX512``, ``AVX2``, ``DEFAULT``, ...
    numpy_features : dict of str to bool or None
        Numpy's ``__cpu_features__`` (None: read them from numpy).

    Returns
    -------
    dict of str to str
        Environment variables.
    """
    if capability.upper() == "AVX512":
        env = {"ATEN_CPU_CAPABILITY": "avx2", "MKL_CBWR": "AVX2", "ONEDNN_MAX_CPU_ISA": "AVX2"}
        disable = NUMPY_AVX512
    else:
        env = {"ATEN_CPU_CAPABILITY": "default", "MKL_CBWR": "COMPATIBLE", "ONEDNN_MAX_CPU_ISA": "SSE41"}
        disable = NUMPY_AVX2 + NUMPY_AVX512
    if numpy_features is None:
        from numpy._core._multiarray_umath import __cpu_features__ as numpy_features
    if names := [name for name in disable if numpy_features.get(name)]:
        env["NPY_DISABLE_CPU_FEATURES"] = " ".join(names)
    return env


def prepare_cache(folder: Path) -> Path:
    """A cache of the check's own, with the downloaded data linked from the book's cache.

    Parameters
    ----------
    folder : pathlib.Path
        Folder of the check's cache (created).

    Returns
    -------
    pathlib.Path
        ``folder``.
    """
    from ..data.downloads import cache_dir

    shared = cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    for name in SHARED_CACHE_FOLDERS:
        link, source = folder / name, shared / name
        if source.exists() and not link.exists():
            link.symlink_to(source.resolve(), target_is_directory=True)
    return folder


def summary_by_kind(checks: list[Any]) -> dict[str, Any]:
    """Counts by kind and the largest distance from ``expected`` in units of the tolerance.

    Parameters
    ----------
    checks : list
        Checks of results against registry entries.

    Returns
    -------
    dict of str to Any
        ``passed``, ``checked`` and ``by_kind`` counts.
    """
    summary: dict[str, Any] = {"passed": sum(c.passed for c in checks), "checked": len(checks), "by_kind": {}}
    for kind in KINDS:
        of_kind = [c for c in checks if c.entry.kind == kind]
        ratios = [r for c in of_kind if (r := tolerance_ratio(c.value, c.entry)) is not None]
        summary["by_kind"][kind] = {
            "checked": len(of_kind),
            "passed": sum(c.passed for c in of_kind),
            "identical": sum(c.value == c.entry.expected for c in of_kind),
            "max_distance_over_tolerance": max(ratios, default=0.0),
        }
    return summary


def tolerance_ratio(value: Any, entry: Any) -> float | None:
    """``|value - expected| / tolerance`` (the largest over a list); None for strings and booleans.

    Parameters
    ----------
    value : Any
        The value found.
    entry : registry entry
        Its registry entry (``expected``, ``atol``, ``rtol``).

    Returns
    -------
    float or None
        The ratio.
    """
    expected, atol = entry.expected, entry.atol
    if isinstance(expected, list):
        if not isinstance(value, list) or len(value) != len(expected):
            return None
        atols = atol if isinstance(atol, list) else [atol] * len(expected)
        ratios = [_ratio(v, e, a, entry.rtol) for v, e, a in zip(value, expected, atols, strict=True)]
        return max((r for r in ratios if r is not None), default=None)
    return _ratio(value, expected, atol, entry.rtol)


def _ratio(value: Any, expected: Any, atol: float, rtol: float) -> float | None:
    if any(isinstance(x, bool | str) or x is None for x in (value, expected)):
        return None
    tolerance = max(float(atol), rtol * abs(float(expected)))
    distance = abs(float(value) - float(expected))
    return distance / tolerance if tolerance > 0 else (0.0 if distance == 0 else float("inf"))


def run_check(notebooks: list[str], out: Path = KERNEL_CHECK) -> dict[str, str]:
    """Execute ``notebooks`` at their defaults on the other kernel path into ``out``.

    Parameters
    ----------
    notebooks : list of str
        Notebook names.
    out : pathlib.Path
        Output folder of the check.

    Returns
    -------
    dict of str to str
        The environment that forced the kernel path.
    """
    import torch

    from ..data.downloads import CACHE_ENV
    from . import pipeline

    env = other_kernel_path(torch.backends.cpu.get_cpu_capability())
    cache = {CACHE_ENV: str(prepare_cache(out / "cache"))}
    for name in notebooks:
        pipeline.execute(name, force=True, output_dir=out, env=env | cache)
    return env


def compare(notebooks: list[str], out: Path = KERNEL_CHECK) -> dict[str, Any]:
    """Compare the kernel-check results of ``notebooks`` in ``out`` with the registry.

    The report is also written to ``out/report.json``.

    Parameters
    ----------
    notebooks : list of str
        Notebook names.
    out : pathlib.Path
        Output folder of the check.

    Returns
    -------
    dict of str to Any
        The report, by notebook.
    """
    entries = load_registry()
    report: dict[str, Any] = {"notebooks": {}}
    for name in notebooks:
        path = out / "results" / f"{name}.json"
        if not path.exists():
            raise FileNotFoundError(f"no kernel-check results for {name} in {path.parent}; run `make kernel-check NB={name}`")
        data = json.loads(path.read_text())
        checks, unregistered = check_results(entries, {name: data})
        report["notebooks"][name] = {
            "cpu": data["provenance"].get("cpu"),
            "wall_time_s": data["provenance"].get("wall_time_s"),
            **summary_by_kind(checks),
            "failures": failure_lines(checks),
            "unregistered": unregistered,
        }
    atomic_write_json(out / "report.json", report)
    return report


def format_report(report: dict[str, Any]) -> str:
    """The report as text: one block per notebook.

    Parameters
    ----------
    report : dict of str to Any
        As returned by :func:`compare`.

    Returns
    -------
    str
        The text.
    """
    lines = []
    for name, item in report["notebooks"].items():
        cpu = item.get("cpu") or {}
        forced = ", ".join(f"{k}={v}" for k, v in cpu.items() if k not in ("model", "capability", "threads"))
        lines.append(
            f"{name}: {item['passed']}/{item['checked']} pass on {cpu.get('model', '?')}, torch capability "
            f"{cpu.get('capability', '?')} ({forced or 'nothing forced'}), {item['wall_time_s']:.0f} s"
        )
        for kind, counts in item["by_kind"].items():
            if counts["checked"]:
                lines.append(
                    f"  {kind}: {counts['passed']}/{counts['checked']} pass, {counts['identical']} identical, "
                    f"largest distance {counts['max_distance_over_tolerance']:.3g} of the tolerance"
                )
        lines += [f"  FAIL {line}" for line in item["failures"]]
        lines += [f"  UNREGISTERED {key}" for key in item["unregistered"]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command line: run the check (unless ``--compare-only``), compare and print the report.

    Parameters
    ----------
    argv : list of str or None
        Arguments (None: ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status: 0 when everything passes, 1 on failures or unregistered results, 2 when a
        forcing variable is already set.
    """
    parser = argparse.ArgumentParser(prog="python -m superposition.book.kernel_check", description=__doc__.split("\n")[0])
    parser.add_argument("--notebooks", default="", help="comma-separated notebooks (default: every notebook)")
    parser.add_argument("--compare-only", action="store_true", help="compare the last kernel-check results again, without running")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    names = [n.strip() for n in args.notebooks.split(",") if n.strip()] or notebook_names()
    for name in names:
        notebook_path(name)  # an unknown notebook is refused before anything runs
    if forced := [k for k in (*other_kernel_path("AVX512", {}), "NPY_DISABLE_CPU_FEATURES") if k in os.environ]:
        print(f"error: unset {', '.join(forced)} first; the check chooses the kernel path itself", file=sys.stderr)
        return 2
    if not args.compare_only:
        run_check(names)
    report = compare(names)
    print(format_report(report))
    failed = any(item["failures"] or item["unregistered"] for item in report["notebooks"].values())
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
