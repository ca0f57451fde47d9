"""Sweeps: the sweep file is checked before anything runs, points are keyed by run key, Snakemake
skips unchanged points, resumes after an interruption, reports a failing point by name, and the
cluster profile plans with no scheduler present."""

import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml

from superposition.book import params, pipeline, sweeps
from superposition.book.params import ParameterError
from superposition.io import NOTEBOOKS, ROOT, notebook_path

SMOKE_SWEEP = {
    "description": "two smoke points",
    "base_profile": "smoke",
    "base": {"k_sweep": "", "dead_latent_check": False, "tms_probabilities": 2, "tms_steps": 10},
    "grid": {"feature_probability": [0.1, 0.2], "widths": ["4"]},
    "collect": {"ridge": "change_ridge_w{widths}_mean"},
    "rule": "> 0",
}


def _write(tmp_path: Path, spec: dict) -> Path:
    path = tmp_path / "toy_alignment.test.sweep.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def test_the_toy_sweep_file_loads_and_is_not_a_profile():
    sweep = sweeps.load_sweep("toy_alignment", "sparsity_width")
    assert list(sweep.grid) == ["feature_probability", "widths"] and sweep.rule == "> 0"
    assert len(sweeps.points(sweep)) == 9
    assert "sparsity_width.sweep" not in params.available_profiles(notebook_path("toy_alignment"))
    assert sweeps.load_sweep("toy_alignment", "sparsity_width", "smoke").base_profile == "smoke"


@pytest.mark.parametrize(
    "change, message",
    [
        ({"grid": {"feature_probability": []}}, "non-empty list"),
        ({"grid": {"no_such_parameter": [1], "widths": ["4"]}}, "no_such_parameter"),
        ({"grid": {"feature_probability": ["many"], "widths": ["4"]}}, "feature_probability"),
        ({"collect": {"ridge": "change_ridge_w{width}_mean"}}, "neither grid nor base"),
        ({"base": {"widths": "4"}}, "both in 'base' and in 'grid'"),
        ({"colour": "red"}, "must be a mapping with the fields"),
        ({"rule": "bigger"}, "'rule' must look like"),
    ],
)
def test_a_bad_sweep_file_is_refused_before_anything_runs(tmp_path, change, message):
    path = _write(tmp_path, SMOKE_SWEEP | change)
    with pytest.raises((ParameterError, ValueError), match=message):
        sweeps.points(sweeps.load_sweep("toy_alignment", "test", path=path))


@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("*.sweep.yaml")), ids=lambda p: p.name)
def test_every_declared_sweep_plans_in_every_profile(path):
    """Each profile of each sweep file resolves every point's parameters (names, types, ranges the
    parameter table declares) before anything runs."""
    notebook, sweep = path.name.removesuffix(".sweep.yaml").split(".")
    spec = yaml.safe_load(path.read_text())
    for profile in ["default", *spec.get("profiles", {})]:
        assert sweeps.points(sweeps.load_sweep(notebook, sweep, profile)), (path.name, profile)


def test_unknown_sweeps_and_profiles_are_named(tmp_path):
    with pytest.raises(ParameterError, match="declared sweeps: sae_recipe, sparsity_width"):
        sweeps.load_sweep("toy_alignment", "nothing")
    with pytest.raises(ParameterError, match="allowed: default, paper, smoke"):
        sweeps.load_sweep("toy_alignment", "sparsity_width", "huge")


def test_points_are_keyed_by_run_key_and_a_changed_point_changes_only_its_key(tmp_path):
    first = sweeps.points(sweeps.load_sweep("toy_alignment", "test", path=_write(tmp_path, SMOKE_SWEEP)))
    changed = SMOKE_SWEEP | {"grid": {"feature_probability": [0.1, 0.3], "widths": ["4"]}}
    second = sweeps.points(sweeps.load_sweep("toy_alignment", "test", path=_write(tmp_path, changed)))
    assert [p.id for p in first] == ["feature_probability=0.1,widths=4", "feature_probability=0.2,widths=4"]
    assert first[0].run_key == second[0].run_key != first[1].run_key != second[1].run_key
    assert first[0].run_key == pipeline.run_key("toy_alignment", first[0].parameters)
    plan = json.loads(sweeps.plan(sweeps.load_sweep("toy_alignment", "test", path=_write(tmp_path, SMOKE_SWEEP)), tmp_path / "out").read_text())
    assert plan["grid"] == [["feature_probability", [0.1, 0.2]], ["widths", ["4"]]]
    assert plan["points"][1]["results"].endswith(f"points/{first[1].run_key}/results/toy_alignment.json")


def test_the_cluster_profile_plans_without_a_scheduler(tmp_path):
    plan = sweeps.plan(sweeps.load_sweep("toy_alignment", "sparsity_width", "paper"), tmp_path)
    command = sweeps.snakemake_command(plan, cluster="slurm", dry_run=True)
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "point" in done.stdout and "30" in done.stdout  # 5 x 6 points, one job each
    with pytest.raises(ParameterError, match="allowed: slurm"):
        sweeps.snakemake_command(plan, cluster="pbs")


@pytest.mark.notebook
def test_a_smoke_sweep_runs_skips_resumes_and_names_a_failing_point(tmp_path):
    path, out = _write(tmp_path, SMOKE_SWEEP), tmp_path / "sweeps"
    assert sweeps.run_sweep("toy_alignment", "test", cores=2, out=out, path=path) == 0
    root = out / "toy_alignment" / "test" / "default"
    table = json.loads((root / "table.json").read_text())
    assert [r["point"] for r in table["rows"]] == ["feature_probability=0.1,widths=4", "feature_probability=0.2,widths=4"]
    assert all(r["ridge verdict"] in ("holds", "fails", "inconclusive") and r["ridge low"] <= r["ridge"] <= r["ridge high"] for r in table["rows"])
    results = [Path(e["results"]) for e in json.loads((root / "plan.json").read_text())["points"]]
    stamps = [p.resolve().stat().st_mtime_ns for p in results]
    assert sweeps.run_sweep("toy_alignment", "test", cores=2, out=out, path=path) == 0  # unchanged: nothing runs
    assert [p.resolve().stat().st_mtime_ns for p in results] == stamps
    results[1].unlink()  # a point that never finished (an interrupted sweep)
    assert sweeps.run_sweep("toy_alignment", "test", cores=2, out=out, path=path) == 0
    assert results[0].resolve().stat().st_mtime_ns == stamps[0] and results[1].exists()
    broken = _write(tmp_path, SMOKE_SWEEP | {"grid": {"feature_probability": [0.1, 0.2], "widths": ["4", "400000"]}})
    assert sweeps.run_sweep("toy_alignment", "test", cores=2, out=out, path=broken) == 1
    missing = [e["id"] for e in sweeps.missing_points(root / "plan.json")]
    assert missing == ["feature_probability=0.1,widths=400000", "feature_probability=0.2,widths=400000"]
    assert results[0].exists() and results[1].exists()


def test_the_sweep_page_shows_the_gathered_table_or_says_how_to_run_it(tmp_path):
    from superposition.book import pages

    empty = pages.sweep_page("toy_alignment", "sparsity_width", {}, "where it holds", "Sweep: a × b")
    assert "has not run in this build" in empty and "make sweep NB=toy_alignment SWEEP=sparsity_width" in empty
    row = {"point": "feature_probability=0.1,widths=8", "feature_probability": 0.1, "widths": "8", "ridge": -0.2, "ridge low": -0.3,
           "ridge high": -0.1, "ridge verdict": "fails", "run_key": "0123456789abcdef", "commit": "abc", "device": "cpu (2 threads)", "wall_time_s": 95.0}  # fmt: skip
    table = {"grid": [["feature_probability", [0.1]], ["widths", ["8"]]], "collect": [["ridge", "change_ridge_w{widths}_mean"]], "rule": "> 0",
             "rows": [row], "figures": ["00_ridge.png"]}  # fmt: skip
    page = pages.sweep_page("toy_alignment", "sparsity_width", {"default": table}, "where it holds", "Sweep: a × b")
    assert "![00_ridge.png](toy_alignment.sparsity_width/default/00_ridge.png)" in page
    assert "| feature_probability=0.1,widths=8 | 0.1 | 8 | -0.2 [-0.3, -0.1], fails | `0123456789abcdef` | 95 |" in page


def test_figures_mark_verdicts_and_their_boundaries(tmp_path):
    rows = [{"a": a, "b": b, "x": v, "x low": v - 0.1, "x high": v + 0.1, "x verdict": "holds" if v > 0.1 else "inconclusive"}
            for (a, b), v in zip([(1, 1), (2, 1), (1, 2), (2, 2)], [0.5, 0.05, 0.4, 0.3])]  # fmt: skip
    names = sweeps.draw_figures({"a": [1, 2], "b": [1, 2]}, ["x"], rows, "> 0", tmp_path)
    assert names == ["00_x.png"] and (tmp_path / "00_x.png").stat().st_size > 1000
    line = sweeps.draw_figures({"a": [1, 2, 3]}, ["x"], [{**rows[0], "a": a} for a in (1, 2, 3)], None, tmp_path / "line")
    assert (tmp_path / "line" / line[0]).is_file()


def _gathered(out: Path, notebook: str, sweep: str) -> Path:
    """A gathered table for every point of a declared sweep, as :func:`sweeps.gather` writes it, without running."""
    declared = sweeps.load_sweep(notebook, sweep)
    root = sweeps.sweep_root(declared, out)
    (root / "figures").mkdir(parents=True)
    (root / "figures" / "00_x.png").write_bytes(b"png")
    rows = [{"point": p.id, **p.values, "x": 0.2, "x low": 0.1, "x high": 0.3, "x verdict": "holds", "run_key": p.run_key, "commit": "abc",
             "device": "cpu (2 threads)", "wall_time_s": 300.0} for p in sweeps.points(declared)]  # fmt: skip
    table = {"grid": [[k, v] for k, v in declared.grid.items()], "collect": [["x", "x"]], "rule": "> 0", "rows": rows, "figures": ["00_x.png"]}
    (root / "table.json").write_text(json.dumps(table))
    (root / "table.csv").write_text("point\n")
    return root


def test_a_published_sweep_is_this_checkouts_and_its_page_warns_when_it_goes_stale(tmp_path):
    from superposition.book import pages

    root, published = _gathered(tmp_path / "sweeps", "toy_alignment", "sae_recipe"), tmp_path / "book"
    target = sweeps.publish("toy_alignment", "sae_recipe", out=tmp_path / "sweeps", published=published)
    assert target == published / "toy_alignment" / "sae_recipe" / "default" / "table.json" and (target.parent / "figures" / "00_x.png").is_file()
    tables = sweeps.published_tables("toy_alignment", "sae_recipe", published)
    assert tables["default"]["published"]["stale"] == []
    page = pages.sweep_page("toy_alignment", "sae_recipe", tables, "robustness", "Sweep: sae_recipe")
    assert "Published with the book" in page and "the same code and parameters" in page and "{warning}" not in page
    table = json.loads(target.read_text())
    table["rows"][1]["run_key"] = "0000000000000000"  # made by other code
    target.write_text(json.dumps(table))
    tables = sweeps.published_tables("toy_alignment", "sae_recipe", published)
    assert tables["default"]["published"]["stale"] == ["sae_recipe=saelens_like"]
    assert "{warning}" in pages.sweep_page("toy_alignment", "sae_recipe", tables, "robustness", "Sweep: sae_recipe")
    (root / "table.json").write_text(target.read_text())
    with pytest.raises(ParameterError, match="sae_recipe=saelens_like"):  # what is published was made by this code
        sweeps.publish("toy_alignment", "sae_recipe", out=tmp_path / "sweeps", published=published)
    with pytest.raises(ParameterError, match="no gathered table"):
        sweeps.publish("toy_alignment", "sparsity_width", out=tmp_path / "sweeps", published=published)


@pytest.mark.parametrize("path", sorted(sweeps.PUBLISHED.glob("*/*/*/table.json")), ids=lambda p: "/".join(p.parts[-4:-1]))
def test_published_sweep_tables_carry_verdicts_their_intervals_give(path):
    """Each published row's verdict is the rule applied to its interval (holds or fails only when
    the whole interval says so), each value lies in its interval, and each figure is there."""
    from superposition.book.verdicts import parse_rule, verdict

    table = json.loads(path.read_text())
    rule = parse_rule(table["rule"])
    for row in table["rows"]:
        for column, _ in table["collect"]:
            assert row[f"{column} low"] <= row[column] <= row[f"{column} high"], (row["point"], column)
            assert row[f"{column} verdict"] == verdict(rule, row[f"{column} low"], row[f"{column} high"]), (row["point"], column)
    assert all((path.parent / "figures" / name).is_file() for name in table["figures"])


def test_a_build_without_the_sweep_stages_its_published_table(tmp_path):
    """A fresh clone has no ``_build/sweeps``: the staged page and figures come from ``book/sweeps``."""
    (tmp_path / "stage").mkdir()
    pipeline.stage_sweeps(tmp_path / "stage", tmp_path / "out")
    for path in sorted(sweeps.PUBLISHED.glob("*/*/*/table.json")):
        notebook, sweep, profile = path.parts[-4:-1]
        page = (tmp_path / "stage" / "sweeps" / f"{notebook}.{sweep}.md").read_text()
        assert f"Published with the book (`book/sweeps/{notebook}/{sweep}/{profile}/`)" in page
        figures = tmp_path / "stage" / "sweeps" / f"{notebook}.{sweep}" / profile
        assert sorted(p.name for p in figures.iterdir()) == sorted(json.loads(path.read_text())["figures"])
