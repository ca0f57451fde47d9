import pytest

from superposition.book.registry import Claim, Entry, RegistryError, check_results, load_registry, update_expected


def write(tmp_path, text):
    path = tmp_path / "claims.yaml"
    path.write_text(text)
    return path


INTERVALS = {"c": [0.015, 0.025], "f": [0.03, 0.07]}


def results(intervals=None, **values):
    intervals = INTERVALS if intervals is None else intervals
    return {"nb": {"results": {k: {"value": v, **({"interval": intervals[k]} if k in intervals else {})} for k, v in values.items()}}}


def test_tolerances_directions_and_missing_keys(tmp_path):
    path = write(
        tmp_path,
        """
- {key: a, notebook: nb, kind: discrete, expected: 1.0, atol: 0.1}
- {key: b, notebook: nb, kind: discrete, expected: [1.0, null], rtol: 0.01}
- key: c
  notebook: nb
  kind: exact
  expected: 0.02
  atol: 1.0e-06
  rtol: 0.0001
  interval: [0.015, 0.025]
  claim: {id: X, paper: B, where: Fig. 4, statement: s, paper_words: w, holds_if: "< 0.03", rule_source: r, verdict: holds}
- {key: d, notebook: nb, kind: exact, expected: yes-text}
- {key: e, notebook: nb, kind: trained, expected: [1.0, 2.0], atol: [0.18, 1.0e-06], spread: [0.02, 0.0], runs: 8}
- key: f
  notebook: nb
  kind: trained
  expected: 0.05
  atol: 0.088
  spread: 0.01
  runs: 8
  interval: [0.03, 0.07]
  runs_interval: [-0.01, 0.09]
  claim: {id: Y, paper: A, where: Fig. 2, statement: s, paper_words: w, holds_if: "> 0", rule_source: r, verdict: inconclusive}
""",
    )
    entries = load_registry(path)
    checks, unregistered = check_results(entries, results(a=1.05, b=[1.005, None], c=0.02, d="yes-text", e=[1.15, 2.0], f=0.05, extra=3))
    assert [c.passed for c in checks] == [True] * 6
    assert unregistered == ["nb:extra"]
    checks, _ = check_results(entries, results(a=1.2, b=[1.0, 2.0], c=0.04, d="no", e=[1.0, 2.1], f=0.2))
    assert [c.passed for c in checks] == [False] * 6
    # an inconclusive claim: any value within tolerance passes, on either side of the threshold
    checks, _ = check_results(entries, results(f=-0.03, intervals={"f": [-0.05, -0.01]}))
    assert checks[-1].passed and checks[-1].run_verdict == "fails"
    checks, _ = check_results(entries, results(a=1.0))
    assert [c.recorded for c in checks] == [True] + [False] * 5
    # a claim's interval is compared too: a bound out of tolerance fails, a missing interval fails
    checks, _ = check_results(entries, results(c=0.02, intervals={"c": [0.015, 0.026]}))
    assert not checks[2].passed and checks[2].within_tolerance is False and checks[2].run_verdict == "holds"
    checks, _ = check_results(entries, results(c=0.02, intervals={}))
    assert not checks[2].passed and checks[2].run_verdict is None


def test_a_claim_whose_interval_crosses_its_threshold_fails_even_within_tolerance():
    """The registry refuses such an entry (its reproducible interval would be inconclusive), but the check stays."""
    claim = Claim("X", "B", "w", "s", "words", "< 0.03", "source", "holds")
    entry = Entry("c", "nb", "exact", 0.02, 0.01, 0.0, claim, interval=[0.015, 0.025])
    checks, _ = check_results([entry], results(c=0.02, intervals={"c": [0.015, 0.031]}))
    assert checks[0].within_tolerance and checks[0].run_verdict == "inconclusive" and not checks[0].passed


CLAIMED = "- {{key: a, notebook: nb, kind: discrete, expected: {expected}, interval: {interval}, atol: {atol}, claim: {{id: X, paper: B, where: w, statement: s, paper_words: w, holds_if: '{rule}', rule_source: r, verdict: {verdict}}}}}"


@pytest.mark.parametrize(
    "interval, verdict",
    [([0.9, 1.1], "holds"), ([1.45, 1.55], "inconclusive"), ([1.3, 1.6], "inconclusive"), ([1.7, 1.9], "fails")],
)
def test_a_claim_flips_to_inconclusive_when_its_interval_straddles_the_threshold(tmp_path, interval, verdict):
    expected = sum(interval) / 2
    text = CLAIMED.format(expected=expected, interval=interval, atol=0.01, rule="< 1.5", verdict=verdict)
    assert load_registry(write(tmp_path, text))[0].claim.verdict == verdict
    for other in {"holds", "fails", "inconclusive"} - {verdict}:
        with pytest.raises(RegistryError, match="registered verdict"):
            load_registry(write(tmp_path, CLAIMED.format(expected=expected, interval=interval, atol=0.01, rule="< 1.5", verdict=other)))


def test_the_registry_rejects_a_tolerance_wider_than_the_distance_to_the_threshold(tmp_path):
    """The interval [1.3, 1.4] clears '< 1.5' by 0.1: a tolerance of 0.05 keeps 'holds', one of 0.2 does not."""
    assert load_registry(write(tmp_path, CLAIMED.format(expected=1.35, interval=[1.3, 1.4], atol=0.05, rule="< 1.5", verdict="holds")))
    with pytest.raises(RegistryError, match="wider than the distance 0.1"):
        load_registry(write(tmp_path, CLAIMED.format(expected=1.35, interval=[1.3, 1.4], atol=0.2, rule="< 1.5", verdict="holds")))
    assert load_registry(write(tmp_path, CLAIMED.format(expected=1.35, interval=[1.3, 1.4], atol=0.2, rule="< 1.5", verdict="inconclusive")))


TRAINED = (
    "- {{key: a, notebook: nb, kind: trained, expected: 0.1, interval: [0.05, 0.15], runs_interval: {runs}, atol: 0.88, spread: 0.1, runs: 8, "
    "claim: {{id: X, paper: A, where: w, statement: s, paper_words: w, holds_if: '> 0', rule_source: r, verdict: {verdict}}}}}"
)


def test_a_trained_claim_reads_its_replicate_runs_not_the_tolerance(tmp_path):
    """One run is one draw of the training: the verdict reads the interval of the mean over the
    replicate runs, not this run's interval widened by its (large) tolerance."""
    entry = load_registry(write(tmp_path, TRAINED.format(runs=[0.02, 0.12], verdict="holds")))[0]
    assert entry.claim.verdict == "holds" and entry.runs_interval == [0.02, 0.12]
    assert load_registry(write(tmp_path, TRAINED.format(runs=[-0.02, 0.12], verdict="inconclusive")))[0].claim.verdict == "inconclusive"
    with pytest.raises(RegistryError, match=r"interval over the 8 replicate runs \[-0.02, 0.12\] against '> 0' gives 'inconclusive'"):
        load_registry(write(tmp_path, TRAINED.format(runs=[-0.02, 0.12], verdict="holds")))
    with pytest.raises(RegistryError, match="needs runs_interval"):
        load_registry(write(tmp_path, TRAINED.format(runs=[0.02, 0.12], verdict="holds").replace("runs_interval: [0.02, 0.12], ", "")))
    # a run of another machine: its value and interval within tolerance pass, whatever its own interval says
    checks, _ = check_results([entry], {"nb": {"results": {"a": {"value": 0.3, "interval": [-0.1, 0.7]}}}})
    assert checks[0].passed and checks[0].run_verdict == "inconclusive"
    checks, _ = check_results([entry], {"nb": {"results": {"a": {"value": 1.2, "interval": [-0.1, 0.7]}}}})
    assert not checks[0].passed


def test_an_equivalence_rule_holds_inside_its_margin_only(tmp_path):
    assert load_registry(write(tmp_path, CLAIMED.format(expected=0.0, interval=[-0.01, 0.01], atol=0.001, rule="within ±0.02", verdict="holds")))
    assert load_registry(write(tmp_path, CLAIMED.format(expected=0.0, interval=[-0.03, 0.01], atol=0.001, rule="within ±0.02", verdict="inconclusive")))
    assert load_registry(write(tmp_path, CLAIMED.format(expected=0.05, interval=[0.03, 0.07], atol=0.001, rule="within ±0.02", verdict="fails")))


@pytest.mark.parametrize(
    "text, message",
    [
        ("- {key: a, notebook: nb, kind: discrete, expected: 1.0}", "tolerance"),
        ("- {key: a, notebook: nb, kind: exact, expected: 1.0, atol: 0.01}", "an exact number has the tolerance"),
        ("- {key: a, notebook: nb, kind: exact, expected: 3, atol: 1.0e-06, rtol: 0.0001}", r"\(0.5, 0.0\)"),
        ("- {key: a, notebook: nb, kind: exact}", "needs key, notebook, kind and expected"),
        ("- {key: a, notebook: nb, expected: 1.0, atol: 1}", "needs key, notebook, kind and expected"),
        ("- {key: a, notebook: nb, kind: guessed, expected: 1.0, atol: 1}", "kind must be one of"),
        ("- {key: a, notebook: nb, kind: discrete, expected: 1, atol: 1, colour: red}", "unknown fields"),
        ("- {key: a, notebook: nb, kind: discrete, expected: 1, atol: 1}\n- {key: a, notebook: nb, kind: discrete, expected: 1, atol: 1}", "twice"),
        ("- {key: a, notebook: nb, kind: discrete, expected: [1, 2], atol: [1]}", "same length"),
        ("- {key: a, notebook: nb, kind: discrete, expected: 1, atol: 1, spread: 0.1, runs: 8}", "only a trained number"),
        ("- {key: a, notebook: nb, kind: trained, expected: 1.0, atol: 0.5, spread: 0.1}", "runs >= 3"),
        ("- {key: a, notebook: nb, kind: trained, expected: 1.0, atol: 0.5, runs: 8}", "needs its spread"),
        ("- {key: a, notebook: nb, kind: trained, expected: 1.0, atol: 0.5, spread: 0.1, runs: 8}", "does not follow the trained rule"),
        ("- {key: a, notebook: nb, kind: trained, expected: 1.0, atol: 1.2, rtol: 0.1, spread: 0.1, runs: 8}", "not an rtol"),
        ("- {key: a, notebook: nb, kind: trained, expected: word, spread: 0.0, runs: 8}", "has no spread"),
        ("- {key: a, notebook: nb, kind: trained, expected: word, runs: 8, seen: [other, third]}", "the expected one among them"),
        ("- {key: a, notebook: nb, kind: trained, expected: 1.0, atol: 1.0e-06, spread: 0.0, runs: 8, seen: [1.0, 2.0]}", "only a trained string"),
        ("- {key: a, notebook: nb, kind: discrete, expected: word, seen: [word, other]}", "only a trained number"),
        (CLAIMED.format(expected=1, interval=[1, 1], atol=1, rule="about 3", verdict="holds"), "holds_if"),
        (CLAIMED.format(expected=1, interval=[1, 1], atol=1, rule="< 3", verdict="maybe"), "verdict"),
        (CLAIMED.format(expected=1, interval=[1, 1], atol=1, rule="within ±0", verdict="holds"), "holds_if"),
        (  # the reproducible interval [0, 2] straddles 1.5: a rerun could land on either side
            CLAIMED.format(expected=1, interval=[1, 1], atol=1, rule="< 1.5", verdict="holds"),
            "wider than the distance",
        ),
        (CLAIMED.format(expected=1, interval=[1, 1], atol=0.1, rule="< 1.5", verdict="inconclusive"), "gives 'holds'"),
        (CLAIMED.format(expected=1, interval=[1.1, 1.2], atol=0.1, rule="< 1.5", verdict="holds"), "must hold the expected number"),
        (CLAIMED.format(expected=1, interval=[1.2, 0.9], atol=0.1, rule="< 1.5", verdict="holds"), "must hold the expected number"),
        (CLAIMED.format(expected=1, interval=[0.9], atol=0.1, rule="< 1.5", verdict="holds"), "two finite numbers"),
        (  # a claim without an interval
            "- {key: a, notebook: nb, kind: discrete, expected: 1, atol: 0.1, claim: {id: X, paper: B, where: w, statement: s, paper_words: w, holds_if: '< 1.5', rule_source: r, verdict: holds}}",
            "needs its interval",
        ),
        (  # a claim without the source of its rule
            "- {key: a, notebook: nb, kind: discrete, expected: 1, interval: [1, 1], atol: 0.1, claim: {id: X, paper: B, where: w, statement: s, paper_words: w, holds_if: '< 1.5', verdict: holds}}",
            "needs the fields",
        ),
        (
            "- {key: a, notebook: nb, kind: discrete, expected: 1, interval: [1, 1], atol: 0.1, claim: {id: X, paper: B, where: w, statement: s, paper_words: w, holds_if: '< 1.5', rule_source: '', verdict: holds}}",
            "source of its rule",
        ),
        (  # a control that is not registered
            "- {key: a, notebook: nb, kind: discrete, expected: 1, interval: [1, 1], atol: 0.1, claim: {id: X, paper: B, where: w, statement: s, paper_words: w, holds_if: '< 1.5', rule_source: r, control: {key: z, label: random}, verdict: holds}}",
            "the control 'z' is not a registered number",
        ),
        (
            "- {key: a, notebook: nb, kind: discrete, expected: [1, 2], atol: 0.1, claim: {id: X, paper: B, where: w, statement: s, paper_words: w, holds_if: '< 1.5', rule_source: r, verdict: holds}}",
            "needs its interval",
        ),
        ("- {key: a, notebook: nb, kind: discrete, expected: 1, interval: [1, 1], runs_interval: [0, 2], atol: 0.1}", "only a trained number with an interval"),
    ],
)
def test_malformed_registries_are_rejected(tmp_path, text, message):
    with pytest.raises(RegistryError, match=message):
        load_registry(write(tmp_path, text))


def test_the_book_registry_is_valid():
    entries = load_registry()
    assert any(e.claim for e in entries)


def test_update_expected_rewrites_values_and_keeps_the_rest(tmp_path):
    path = tmp_path / "claims.yaml"
    path.write_text(
        "# a comment\n"
        "- key: a\n  notebook: nb\n  kind: discrete\n  expected: 1.0\n  atol: 0.1\n"
        "- key: b\n  notebook: nb\n  kind: exact\n  expected:\n  - 1\n  - 2\n  atol: 0.5\n"
        "- key: a\n  notebook: other\n  kind: discrete\n  expected: 7.0\n  atol: 0.1\n"
        "- key: c\n  notebook: nb\n  kind: discrete\n  expected: 3.0\n  rtol: 0.1\n  claim:\n    id: x\n    paper: A\n    where: w\n"
        "    statement: s\n    paper_words: p\n    holds_if: < 5\n    rule_source: r\n    verdict: holds\n  interval: [2.9, 3.1]\n"
    )
    results = {"results": {"a": {"value": 2.5}, "b": {"value": [3, 4, 5]}, "c": {"value": 9.0, "interval": [8.0, 10.0]}}}
    assert update_expected("nb", results, keys=["a", "b"], path=path) == ["a", "b"]
    entries = {(e.notebook, e.key): e for e in load_registry(path)}
    assert entries[("nb", "a")].expected == 2.5 and entries[("nb", "b")].expected == [3, 4, 5]
    assert entries[("other", "a")].expected == 7.0 and entries[("nb", "c")].expected == 3.0
    assert entries[("nb", "c")].claim.verdict == "holds" and path.read_text().startswith("# a comment")
    # updating a claim's number rewrites its interval and the verdict of its reproducible interval
    assert update_expected("nb", results, keys=["c"], path=path) == ["c (verdict: holds -> fails)"]
    entry = {(e.notebook, e.key): e for e in load_registry(path)}[("nb", "c")]
    assert entry.expected == 9.0 and entry.interval == [8.0, 10.0] and entry.claim.verdict == "fails"


def test_update_expected_replaces_a_wrapped_list_and_never_writes_an_invalid_file(tmp_path):
    path = tmp_path / "claims.yaml"
    original = (
        "- key: b\n  notebook: nb\n  kind: discrete\n  expected: [0.1, 0.2,\n    0.3, 0.4]\n  atol: 0.5\n"
        "- key: c\n  notebook: nb\n  kind: discrete\n  expected: 3.0\n  rtol: 0.1\n"
        "- key: d\n  notebook: nb\n  kind: exact\n  expected: some text\n"
    )
    path.write_text(original)
    update_expected("nb", {"results": {"b": {"value": [1, 2, 3, 4, 5]}}}, path=path)
    entries = {e.key: e for e in load_registry(path)}
    assert entries["b"].expected == [1, 2, 3, 4, 5] and entries["c"].expected == 3.0
    path.write_text(original)
    with pytest.raises(RegistryError, match="needs a stated tolerance"):  # d turns into a number without a tolerance
        update_expected("nb", {"results": {"d": {"value": 2.0}}}, path=path)
    assert path.read_text() == original
