"""Faults injected into the run path: a run interrupted mid-notebook (SIGINT, SIGKILL) and two
runs at once. Published outputs change only when a run completes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from superposition.book import pipeline
from superposition.io import ROOT

NOTEBOOK = "compressed_sensing"


def _start_run(out: Path, notebook: str = NOTEBOOK, overrides: dict | None = None) -> subprocess.Popen:
    """A pipeline run in its own process group (so that a signal reaches it and its kernel)."""
    code = textwrap.dedent(
        f"""
        from pathlib import Path
        from superposition.book import pipeline
        pipeline.execute({notebook!r}, "smoke", {overrides or {}!r}, force=True, output_dir=Path({str(out)!r}))
        """
    )
    env = {**os.environ, "SUPERPOSITION_QUIET": "1"}
    # the child must not inherit an ignored SIGINT from the test process (an earlier test or the
    # harness may leave SIGINT ignored, and Python keeps an inherited SIG_IGN): then no interrupt
    # would ever reach it and the SIGINT case would test nothing
    return subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env, start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # fmt: skip


def _wait_until_mid_notebook(out: Path, process: subprocess.Popen, timeout: float = 120) -> None:
    """Until the notebook has started recording (its scratch results file exists)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if any((out / ".runs").glob("*/results.json")):
            return
        assert process.poll() is None, f"the run ended before it could be interrupted: {process.stderr.read().decode()[-2000:]}"
        time.sleep(0.05)
    raise AssertionError("the run never reached its first recorded result")


def _published(out: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in sorted((out / "results").glob("*")) + sorted((out / "executed").glob("*"))}


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGKILL], ids=["SIGINT", "SIGKILL"])
@pytest.mark.notebook
def test_an_interrupted_run_keeps_the_previous_outputs_and_the_next_run_completes(tmp_path, signum):
    pipeline.execute(NOTEBOOK, "smoke", output_dir=tmp_path)
    before = _published(tmp_path)
    process = _start_run(tmp_path, overrides={"seed": 5})
    _wait_until_mid_notebook(tmp_path, process)
    os.killpg(process.pid, signum)
    process.wait(timeout=60)
    assert process.returncode != 0
    assert _published(tmp_path) == before, "an interrupted run changed the published outputs"
    time.sleep(1)  # let an orphaned kernel notice its parent is gone
    pipeline.execute(NOTEBOOK, "smoke", {"seed": 5}, output_dir=tmp_path)
    results = json.loads((tmp_path / "results" / f"{NOTEBOOK}.json").read_text())
    assert results["complete"] and results["provenance"]["parameters"]["seed"] == 5
    assert not any((tmp_path / ".runs").iterdir()), "the abandoned scratch folder was cleaned up"


@pytest.mark.notebook
def test_two_runs_at_once_do_not_overwrite_each_other(tmp_path):
    """What ``make -j2`` or two terminals do: two notebooks (one of them filling the shared
    feature cache) executed into the same output folder at the same time."""
    together = tmp_path / "together"
    runs = {name: _start_run(together, name) for name in (NOTEBOOK, "additivity")}
    for process in runs.values():
        assert process.wait(timeout=600) == 0, process.stderr.read().decode()[-2000:]
    for name in runs:
        data = json.loads((together / "results" / f"{name}.json").read_text())
        assert data["notebook"] == name and data["complete"]
        cells = json.loads((together / "executed" / f"{name}.ipynb").read_text())["cells"]
        assert any(f'open_chapter(\n    "{name}"' in "".join(c["source"]) for c in cells), "each executed notebook is its own"
    pipeline.execute(NOTEBOOK, "smoke", output_dir=tmp_path / "alone")
    alone = json.loads((tmp_path / "alone" / "results" / f"{NOTEBOOK}.json").read_text())["results"]
    concurrent = json.loads((together / "results" / f"{NOTEBOOK}.json").read_text())["results"]
    assert {k: v["value"] for k, v in concurrent.items()} == {k: v["value"] for k, v in alone.items()}
    assert not any((together / ".runs").iterdir())


def test_an_interrupt_that_the_kernel_only_printed_is_still_an_interrupt(tmp_path):
    """ipykernel may stream a KeyboardInterrupt to stderr and carry on: such a notebook counts as interrupted."""
    executed = tmp_path / "nb.ipynb"
    cells = [
        {"cell_type": "code", "outputs": [{"output_type": "stream", "name": "stdout", "text": ["fine\n"]}]},
        {"cell_type": "markdown"},
        {"cell_type": "code", "outputs": [{"output_type": "stream", "name": "stderr", "text": ["\n", "KeyboardInterrupt\n"]}]},
        {"cell_type": "code", "outputs": [{"output_type": "error", "ename": "KeyboardInterrupt", "evalue": "", "traceback": []}]},
    ]
    executed.write_text(json.dumps({"cells": cells}))
    assert pipeline.interrupted_cells(executed) == [2, 3]
    executed.write_text(json.dumps({"cells": cells[:2]}))
    assert pipeline.interrupted_cells(executed) == []
