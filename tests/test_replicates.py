import json

import pytest

from superposition.book import pipeline, replicates
from superposition.book.registry import load_registry
from superposition.book.tolerances import trained_tolerance
from superposition.io import notebook_names


def _data(values_per_run, intervals_per_run=None):
    intervals_per_run = intervals_per_run or [{"e": [v["e"] - 0.01, v["e"] + 0.01]} if "e" in v else {} for v in values_per_run]
    return {"notebook": "nb", "runs": [{"replicate": r, "values": v, "intervals": i} for r, (v, i) in enumerate(zip(values_per_run, intervals_per_run))]}


REGISTRY = """# header kept
- {key: a, notebook: nb, kind: trained, expected: 0.10, atol: 0.5, spread: 0.05, runs: 3}
- {key: b, notebook: nb, kind: trained, expected: [1.0, 2.0], atol: 0.5, spread: 0.04, runs: 3}
- {key: c, notebook: nb, kind: trained, expected: best, runs: 3}
- {key: d, notebook: nb, kind: discrete, expected: 7.0, atol: 0.001}
- key: e
  notebook: nb
  kind: trained
  expected: 0.1
  atol: 0.00012
  spread: 1.0e-05
  runs: 8
  interval: [0.09, 0.11]
  runs_interval: [0.09, 0.11]
  claim: {id: X, paper: A, where: w, statement: s, paper_words: v, holds_if: "> 0", rule_source: r, verdict: holds}
"""


def test_apply_tolerances_writes_spread_runs_atol_and_the_verdict_of_the_reproducible_interval(tmp_path):
    path = tmp_path / "claims.yaml"
    path.write_text(REGISTRY)
    runs = [
        {"a": 0.10, "b": [1.0, 2.0], "c": "best", "d": 7.0, "e": 0.1},
        {"a": 0.12, "b": [1.1, 2.0], "c": "best", "d": 7.5, "e": 0.0},
        {"a": 0.08, "b": [0.9, 2.0], "c": "best", "d": 6.5, "e": 0.2},
    ]
    changes = replicates.apply_tolerances("nb", _data(runs), registry=path)
    entries = {e.key: e for e in load_registry(path)}
    assert entries["a"].spread == 0.02 and entries["a"].runs == 3 and entries["a"].atol == trained_tolerance(0.02, 3)
    assert entries["b"].spread == [0.1, 0.0] and entries["b"].atol == trained_tolerance([0.1, 0.0], 3)
    assert entries["c"].spread is None and entries["c"].runs == 3
    assert entries["d"].atol == 0.001 and entries["d"].spread is None  # numbers of other kinds are left alone
    assert entries["e"].claim.verdict == "inconclusive" and changes == ["X (e): holds -> inconclusive"]
    assert entries["e"].spread == 0.1  # the largest spread of the number and its two bounds
    assert entries["e"].runs_interval[0] < 0 < entries["e"].runs_interval[1]  # the runs 0.1, 0.0, 0.2: their mean's t interval
    assert path.read_text().startswith("# header kept")


def test_a_label_that_differs_between_replicates_lists_the_values_seen(tmp_path):
    path = tmp_path / "claims.yaml"
    path.write_text(REGISTRY)
    runs = [{"a": 0.1 + i / 100, "b": [1.0, 2.0], "c": word, "d": 7.0, "e": 0.1} for i, word in enumerate(("best", "other", "best"))]
    replicates.apply_tolerances("nb", _data(runs), registry=path)
    label = {e.key: e for e in load_registry(path)}["c"]
    assert label.seen == ["best", "other"] and label.matches("a third") and not label.matches(3.0)
    assert "label of the draw" in label.tolerance_text


def test_a_key_missing_from_a_replicate_is_named():
    with pytest.raises(KeyError, match=r"nb:a is not recorded in replicates \[1\]"):
        replicates.replicate_values(_data([{"a": 1.0}, {}]), "a")


def test_run_replicates_shifts_the_seeds_resumes_and_writes_after_each_run(tmp_path, monkeypatch):
    from superposition.book import pipeline

    calls = []

    def fake_execute(name, profile="default", overrides=None, force=False, output_dir=None, **kwargs):
        calls.append(overrides)
        out = tmp_path / f"r{len(calls)}.json"
        out.write_text(json.dumps({"results": {"x": {"value": float(len(calls))}}, "provenance": {"commit": "abc"}, "complete": True}))
        return out

    monkeypatch.setattr(pipeline, "execute", fake_execute)
    monkeypatch.setattr(replicates, "published_default_run", lambda name: None)
    path = tmp_path / "toy_alignment.json"
    replicates.run_replicates("toy_alignment", 2, path=path)
    assert calls[1] == replicates.seed_overrides("toy_alignment", 1) and calls[1]["sae_seed"] == 1000
    assert [run["replicate"] for run in json.loads(path.read_text())["runs"]] == [0, 1]
    replicates.run_replicates("toy_alignment", 3, path=path)  # resumes: only replicate 2 runs
    assert len(calls) == 3 and calls[2]["data_seed"] == 2000
    assert [run["values"]["x"] for run in json.loads(path.read_text())["runs"]] == [1.0, 2.0, 3.0]


@pytest.mark.parametrize("name", notebook_names())
def test_trained_tolerances_are_the_rule_applied_to_the_recorded_replicates(name):
    """Every trained entry's spread and runs are those of book/replicates/<name>.json, the runs
    are the replicates the rule names (seeds shifted), and the published run is one of them."""
    trained = [e for e in load_registry() if e.notebook == name and e.kind == "trained"]
    data = replicates.load_replicates(name)
    assert bool(trained) == bool(data["runs"]), "a notebook has replicate runs exactly when it has trained numbers"
    assert [run["replicate"] for run in data["runs"]] == list(range(len(data["runs"])))
    for run in data["runs"]:
        assert run["seeds"] == replicates.seed_overrides(name, run["replicate"])
    for entry in trained:
        spread, n_runs = replicates.measured_spread(data, entry.key, with_interval=entry.interval is not None)
        assert (entry.seen if isinstance(entry.expected, bool | str) else entry.spread, entry.runs) == (spread, n_runs), entry.key
        assert entry.matches(data["runs"][0]["values"][entry.key]), f"{entry.key}: the published run is not within its own tolerance"
        if entry.interval is not None:
            assert entry.interval_matches(data["runs"][0]["intervals"][entry.key]), f"{entry.key}: the published interval is not within its tolerance"
        if entry.claim is not None:
            evidence = replicates.replicate_evidence(data, entry.key, entry.claim.holds_if)
            assert entry.runs_interval == [float(f"{evidence.mean.low:.6g}"), float(f"{evidence.mean.high:.6g}")], f"{entry.key}: runs_interval"


@pytest.mark.parametrize("name", sorted({e.notebook for e in load_registry() if e.kind == "trained"}))
@pytest.mark.notebook
def test_every_notebook_with_trained_numbers_runs_with_its_replicate_seeds(tmp_path, name):
    """A replicate's seeds reach every trained network (its smoke profile, replicate 1's seeds)."""
    data = json.loads(pipeline.execute(name, "smoke", replicates.seed_overrides(name, 1), output_dir=tmp_path).read_text())
    assert data["complete"] and all(data["provenance"]["parameters"][k] == v for k, v in replicates.seed_overrides(name, 1).items())


def test_replicate_evidence_pools_the_runs_and_counts_their_verdicts():
    runs = [{"a": v} for v in (-0.10, -0.12, -0.14)]
    intervals = [{"a": [v - 0.02, v + 0.02]} for v in (-0.10, -0.12, -0.14)]
    intervals[0]["a"] = [-0.2, 0.05]  # one run's own interval straddles 0
    evidence = replicates.replicate_evidence(_data(runs, intervals), "a", "> 0")
    assert evidence.runs == 3 and evidence.mean.value == pytest.approx(-0.12) and evidence.mean.high < 0
    assert evidence.verdicts == {"holds": 0, "fails": 2, "inconclusive": 1}
    assert replicates.replicate_evidence(_data(runs[:1], intervals[:1]), "a", "> 0") is None
