"""Publication and failure of runs: a notebook and its results are published together or not at
all, a parameter file is read or refused by name, a dead kernel or a timeout ends in one message
with the failed notebook kept, and a book can be built around chapters never run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest

from superposition.book import pipeline
from superposition.book.params import ParameterError
from superposition.io import ROOT, notebook_names

NOTEBOOK = "compressed_sensing"


def _pair(folder: Path, name: str, tag: str) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    executed, results = folder / f"{name}.ipynb", folder / "results.json"
    executed.write_text(json.dumps({"tag": tag}))
    results.write_text(json.dumps({"tag": tag}))
    return executed, results


def test_publish_swaps_notebook_and_results_together_and_cleans_the_old_pair(tmp_path):
    out = tmp_path / "build"
    (out / "results").mkdir(parents=True)
    (out / "results" / "nb.json").write_text('{"tag": "old layout"}')  # a plain file from before is replaced by the link
    pipeline.publish("nb", *_pair(tmp_path / "s1", "nb", "first"), out=out)
    first_folder = (out / "published" / "nb").resolve()
    pipeline.publish("nb", *_pair(tmp_path / "s2", "nb", "second"), out=out)
    executed, results = pipeline.published_pair("nb", out)
    assert json.loads(executed.read_text())["tag"] == json.loads(results.read_text())["tag"] == "second"
    assert json.loads((out / "results" / "nb.json").read_text())["tag"] == "second"
    assert json.loads((out / "executed" / "nb.ipynb").read_text())["tag"] == "second"
    assert not first_folder.exists(), "the previous publication is removed"
    assert [p.name for p in (out / "published").iterdir() if not p.name.startswith(".")] == ["nb"]


def test_a_reader_holding_a_publication_never_mixes_two_runs(tmp_path):
    out = tmp_path / "build"
    pipeline.publish("nb", *_pair(tmp_path / "s1", "nb", "first"), out=out)
    executed, _ = pipeline.published_pair("nb", out)
    pipeline.publish("nb", *_pair(tmp_path / "s2", "nb", "second"), out=out)
    _, results = pipeline.published_pair("nb", out)
    assert json.loads(results.read_text())["tag"] == "second"  # a new reader sees the new pair, whole


@pytest.mark.parametrize(
    "content, message",
    [
        (b"n_trials: [1, 2", "is not valid YAML"),
        (b"- 1\n- 2\n", "holds a YAML list"),
        (b"42\n", "holds a YAML number"),
        (b"\xff\xfe\x00bad", "is not UTF-8 text"),
        (None, "is a folder"),
    ],
    ids=["malformed", "list", "scalar", "not-utf8", "folder"],
)
def test_a_bad_parameter_file_is_refused_by_name_before_anything_runs(tmp_path, capsys, content, message):
    path = tmp_path / "params.yaml"
    if content is None:
        path.mkdir()
    else:
        path.write_bytes(content)
    with pytest.raises(ParameterError, match=message):
        pipeline.read_parameters_file(path)
    assert pipeline.main(["run", NOTEBOOK, "-f", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: parameter file") and message in err and "Traceback" not in err
    assert pipeline.read_parameters_file(_write(tmp_path / "ok.yaml", "n_trials: 4\n")) == {"n_trials": 4}
    assert pipeline.main(["run", NOTEBOOK, "-f", str(tmp_path / "missing.yaml")]) == 2


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_the_book_is_staged_around_chapters_never_run(tmp_path, monkeypatch):
    """What `make run NB=x` on a fresh clone does: the book is built with the other chapters as
    placeholders, and nothing else is executed."""
    monkeypatch.setattr(pipeline, "mathjax_folder", lambda: _mathjax(tmp_path))
    out = tmp_path / "build"
    with pytest.raises(pipeline.RunError, match="no executed notebook"):
        pipeline.stage_book(out=out)
    stage = pipeline.stage_book(out=out, require_all=False)
    for name in notebook_names():
        page = (stage / "executed" / f"{name}.md").read_text()
        assert page.startswith(f"# {pipeline.chapter_title(name)}") and f"make run NB={name}" in page and "Not yet run" in page
    assert not (out / "results").exists() and not (out / "executed").exists(), "nothing was executed"


def _mathjax(tmp_path: Path) -> Path:
    folder = tmp_path / "mathjax"
    folder.mkdir(exist_ok=True)
    (folder / "tex-mml-chtml.js").write_text("")
    return folder


def _start(out: Path, overrides: dict, timeout: int = 1800) -> subprocess.Popen:
    code = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        from superposition.book import pipeline
        try:
            pipeline.execute({NOTEBOOK!r}, "smoke", {overrides!r}, force=True, output_dir=Path({str(out)!r}), timeout={timeout})
        except pipeline.RunError as error:
            print(f"error: {{error}}", file=sys.stderr)
            sys.exit(1)
        """
    )
    return subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env={**os.environ, "SUPERPOSITION_QUIET": "1"}, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # fmt: skip


def _kernel_of(process: subprocess.Popen, deadline: float) -> psutil.Process:
    while time.time() < deadline:
        kernels = [c for c in psutil.Process(process.pid).children(recursive=True) if "ipykernel" in " ".join(c.cmdline())]
        if kernels:
            return kernels[0]
        assert process.poll() is None, process.stderr.read().decode()[-2000:]
        time.sleep(0.05)
    raise AssertionError("no kernel started")


def _ends_in_one_message(err: str) -> None:
    """The runner ends with its message and shows no traceback of its own (the kernel may log its
    own shutdown to the same terminal)."""
    assert err.rstrip().endswith("the previous outputs were left as they were."), err[-2000:]
    assert "superposition/book/pipeline.py" not in err and "papermill" not in err.split("error:")[-1], err[-2000:]


@pytest.mark.notebook
def test_a_dead_kernel_ends_in_one_message_and_keeps_the_failed_notebook(tmp_path):
    """What the out-of-memory killer does: the kernel dies mid-notebook. The run names the cell
    and where the failed notebook is; an older failure is replaced, the published pair stays."""
    pipeline.execute(NOTEBOOK, "smoke", output_dir=tmp_path)
    before = {p.name: p.read_bytes() for p in pipeline.published_pair(NOTEBOOK, tmp_path)}
    stale = tmp_path / "failed" / f"{NOTEBOOK}.ipynb"
    stale.parent.mkdir(parents=True, exist_ok=True)
    stale.write_text("an older failure")
    process = _start(tmp_path, {"seed": 7})
    deadline = time.time() + 180
    kernel = _kernel_of(process, deadline)
    while time.time() < deadline and not any((tmp_path / ".runs").glob("*/results.json")):
        time.sleep(0.05)  # until the notebook has started recording
    kernel.send_signal(signal.SIGKILL)
    assert process.wait(timeout=120) == 1
    err = process.stderr.read().decode()
    assert "the kernel died" in err and "in code cell" in err and f"failed/{NOTEBOOK}.ipynb" in err, err[-2000:]
    _ends_in_one_message(err)
    assert stale.read_text() != "an older failure", "the new failure replaced the older one"
    assert {p.name: p.read_bytes() for p in pipeline.published_pair(NOTEBOOK, tmp_path)} == before


@pytest.mark.notebook
def test_a_cell_timeout_ends_in_one_message(tmp_path):
    process = _start(tmp_path, {}, timeout=1)
    assert process.wait(timeout=300) == 1
    err = process.stderr.read().decode()
    assert "ran past the 1 s timeout" in err and "in code cell" in err, err[-2000:]
    _ends_in_one_message(err)
    assert (tmp_path / "failed" / f"{NOTEBOOK}.ipynb").exists()
    assert not (tmp_path / "results" / f"{NOTEBOOK}.json").exists()


@pytest.mark.notebook
def test_two_runs_of_one_notebook_at_once_publish_a_consistent_pair(tmp_path):
    runs = [_start(tmp_path, {"seed": seed}) for seed in (11, 12)]
    for process in runs:
        assert process.wait(timeout=600) == 0, process.stderr.read().decode()[-2000:]
    executed, results = pipeline.published_pair(NOTEBOOK, tmp_path)
    seed = json.loads(results.read_text())["provenance"]["parameters"]["seed"]
    injected = [c for c in json.loads(executed.read_text())["cells"] if "injected-parameters" in c["metadata"].get("tags", [])]
    assert seed in (11, 12) and f"seed = {seed}" in "".join(injected[0]["source"])
    assert json.loads((tmp_path / "results" / f"{NOTEBOOK}.json").read_text()) == json.loads(results.read_text())
    assert len([p for p in (tmp_path / "published").iterdir() if p.is_dir() and not p.is_symlink()]) == 1, "the losing pair was removed"
