import json

import numpy as np
import pytest
import torch

from superposition.book import record
from superposition.io import atomic_write_text


@pytest.fixture
def run(tmp_path, monkeypatch):
    monkeypatch.setenv(record.RESULTS_ENV, str(tmp_path / "results.json"))
    return record.start_run("compressed_sensing", {"profile": "default", "n_features": 200}, device="cpu (test)")


def test_results_are_incomplete_until_finish(run):
    run.record("answer", np.float64(0.5), "a number")
    data = json.loads(run.path.read_text())
    assert data["complete"] is False and data["results"]["answer"] == {"value": 0.5, "description": "a number"}
    run.finish()
    data = json.loads(run.path.read_text())
    assert data["complete"] is True
    prov = data["provenance"]
    assert prov["device"] == "cpu (test)" and prov["profile"] == "default" and prov["parameters"]["n_features"] == 200
    assert {"commit", "packages", "wall_time_s", "started", "python"} <= set(prov)
    assert prov["packages"]["torch"].startswith("2.13")


def test_values_become_plain_json(run):
    for key, value in (("arr", np.array([1.0, np.nan, 3.0])), ("tensor_value", torch.tensor(2.5)), ("count", np.int64(7)), ("not_finite", float("inf"))):
        assert run.record(key, value) is None
    assert [run.results[k]["value"] for k in ("arr", "tensor_value", "count", "not_finite")] == [[1.0, None, 3.0], 2.5, 7, None]
    with pytest.raises(TypeError):
        run.record("obj", object())


def test_keys_are_checked(run):
    with pytest.raises(ValueError, match="must match"):
        run.record("Bad Key", 1)
    run.record("once", 1)
    with pytest.raises(ValueError, match="already recorded"):
        run.record("once", 2)
    run.finish()
    with pytest.raises(RuntimeError, match="finished"):
        run.record("late", 1)


def test_an_estimate_keeps_its_interval_and_glues_its_bounds(run, monkeypatch):
    from superposition.metrics import mean_interval

    glued = {}
    monkeypatch.setattr(record, "_glue", lambda key, value: glued.__setitem__(key, value))
    estimate = mean_interval([0.1, 0.2, 0.3], "3 SAE replicates")
    run.record("change", estimate, "a change")
    stored = json.loads(run.path.read_text())["results"]["change"]
    assert stored["value"] == pytest.approx(0.2) and stored["interval"] == pytest.approx(estimate.interval)
    assert stored["n"] == 3 and stored["over"] == "3 SAE replicates" and "Student t" in stored["method"]
    assert glued == {"change": estimate.value, "change_low": estimate.low, "change_high": estimate.high}
    with pytest.raises(ValueError, match="already recorded"):  # a bound's glue name is taken
        run.record("change_low", 1.0)
    run.record("other_high", 1.0)
    with pytest.raises(ValueError, match="'other_high' was already recorded"):  # an estimate's bound would take a recorded key
        run.record("other", estimate)


def test_a_result_may_not_take_a_parameters_name(run):
    with pytest.raises(ValueError, match="name of a parameter"):
        run.record("n_features", 200)


def test_tables_are_recorded_by_the_naming_rule(run):
    rows = [{"metric": "ridge", "cell": "w8", "width": 8, "min": np.float64(0.25), "first": [1.0, 2.0]},
            {"metric": "rsa", "cell": "w8", "width": 8, "min": -0.5, "first": [3.0]}]  # fmt: skip
    run.record_table("change", rows, ["metric", "cell"], {"min": "{metric} at m = {width}", "first": "first of {metric}"})
    assert record.table_key("change", ["ridge", "w8"], "min") == "change_ridge_w8_min"
    assert run.results["change_ridge_w8_min"] == {"value": 0.25, "description": "ridge at m = 8"}
    assert run.results["change_rsa_w8_first"]["value"] == [3.0] and len(run.results) == 4
    run.record_table("single", [{"gain": 1.5}], [], {"gain": "one row, no key columns"})
    assert run.results["single_gain"]["value"] == 1.5


@pytest.mark.parametrize(
    "prefix, rows, key_columns, message",
    [
        ("t", [{"m": "Ridge", "v": 1}], ["m"], "must match"),  # not a lower-case word
        ("t", [{"m": "a", "v": 1}, {"m": "a", "v": 2}], ["m"], "is taken"),  # two rows, one key
        ("n", [{"features": 200}], [], "is taken"),  # n_features is a parameter of the run
    ],
)
def test_a_bad_table_records_nothing(run, prefix, rows, key_columns, message):
    column = "features" if prefix == "n" else "v"
    with pytest.raises(ValueError, match=message):
        run.record_table(prefix, rows, key_columns, {column: "a column"})
    assert not run.results


def test_reproduce_command_lists_only_changed_parameters():
    cmd = record.reproduce_command("compressed_sensing", {"profile": "default", "n_features": 200, "n_trials": 40, "device": "cpu"})
    assert cmd == "make run NB=compressed_sensing PARAMS='-p n_trials 40 -p device cpu'"
    assert record.reproduce_command("compressed_sensing", {"profile": "smoke"}) == "make run NB=compressed_sensing PROFILE=smoke"


def test_parameter_table_marks_changed_values():
    table = record.parameter_table("compressed_sensing", {"profile": "default", "n_trials": 3})
    assert "| `n_trials` | `3` (changed) | `20` |" in table


def test_atomic_write_leaves_the_old_file_on_failure(tmp_path, monkeypatch):
    """A write that fails after its bytes reached the file (the disk fills up at fsync) leaves the
    old content in place and no temporary file: a plain open-write-close would leave the new,
    unfinished text."""
    from superposition import io as project_io

    target = tmp_path / "out.json"
    atomic_write_text(target, "old")

    def disk_full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(project_io.os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space left"):
        atomic_write_text(target, "new and unfinished")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]
    with pytest.raises(TypeError):
        atomic_write_text(target, 123)  # type: ignore[arg-type]
    assert target.read_text() == "old"


def test_every_figure_carries_its_provenance_line(run, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from superposition.book import record

    monkeypatch.setenv(record.RUN_KEY_ENV, "0123456789abcdef")
    monkeypatch.setattr(record, "git_commit", lambda: "feedbeef0000")
    monkeypatch.setattr(record, "_glue", lambda key, value: glued.append((key, value)))
    glued = []
    fig, _ = plt.subplots()
    run.figure("fig_demo", fig)
    [(key, shown)] = glued
    texts = [t.get_text() for t in shown.texts]
    assert key == "fig_demo" and texts == [f"{run.notebook} · profile {run.profile} · run key 0123456789abcdef · {run.device} · commit feedbeef0000"]
    with pytest.raises(ValueError, match="start with 'fig_'"):
        run.figure("demo", plt.figure())


def test_a_folder_replaced_halfway_stays_as_it_was(tmp_path):
    from superposition.io import replace_folder

    folder = tmp_path / "out"
    replace_folder(folder, lambda scratch: (scratch / "a.txt").write_text("old"))

    def half(scratch):
        (scratch / "a.txt").write_text("new")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space left"):
        replace_folder(folder, half)
    assert (folder / "a.txt").read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["out"]
    replace_folder(folder, lambda scratch: (scratch / "b.txt").write_text("new"))
    assert [p.name for p in folder.iterdir()] == ["b.txt"]
