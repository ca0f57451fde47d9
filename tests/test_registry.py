import pytest

from superposition.book.registry import Claim, Entry, RegistryError, check_results, load_registry, update_expected


def write(tmp_path, text):
    path = tmp_path / "claims.yaml"
    path.write_text(text)
    return path


def results(**values):
    return {"nb": {"results": {k: {"value": v} for k, v in values.items()}}}


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
  claim: {id: X, paper: B, where: Fig. 4, statement: s, paper_value: none, holds_if: "< 0.03", verdict: holds}
- {key: d, notebook: nb, kind: exact, expected: yes-text}
- {key: e, notebook: nb, kind: trained, expected: [1.0, 2.0], atol: [0.18, 1.0e-06], spread: [0.02, 0.0], runs: 8}
- key: f
  notebook: nb
  kind: trained
  expected: 0.05
  atol: 0.088
  spread: 0.01
  runs: 8
  claim: {id: Y, paper: A, where: Fig. 2, statement: s, paper_value: none, holds_if: "> 0", verdict: inconclusive}
""",
    )
    entries = load_registry(path)
    checks, unregistered = check_results(entries, results(a=1.05, b=[1.005, None], c=0.02, d="yes-text", e=[1.15, 2.0], f=0.05, extra=3))
    assert [c.passed for c in checks] == [True] * 6
    assert unregistered == ["nb:extra"]
    checks, _ = check_results(entries, results(a=1.2, b=[1.0, 2.0], c=0.04, d="no", e=[1.0, 2.1], f=0.2))
    assert [c.passed for c in checks] == [False] * 6
    # an inconclusive claim: any value within tolerance passes, on either side of the threshold
    checks, _ = check_results(entries, results(f=-0.03))
    assert checks[-1].passed and checks[-1].claim_holds is False
    checks, _ = check_results(entries, results(a=1.0))
    assert [c.recorded for c in checks] == [True] + [False] * 5


def test_a_claim_whose_value_crosses_its_threshold_fails_even_within_tolerance():
    """The registry refuses such an entry (its band would give 'inconclusive'), but the check stays."""
    claim = Claim("X", "B", "w", "s", "none", "< 0.03", "holds")
    entry = Entry("c", "nb", "exact", 0.02, 0.01, 0.0, claim)
    checks, _ = check_results([entry], results(c=0.03))
    assert checks[0].within_tolerance and checks[0].claim_holds is False and not checks[0].passed


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
        (
            "- {key: a, notebook: nb, kind: discrete, expected: 1, atol: 1, claim: {id: X, paper: B, where: w, statement: s, paper_value: v, holds_if: 'about 3', verdict: holds}}",
            "holds_if",
        ),
        (
            "- {key: a, notebook: nb, kind: discrete, expected: 1, atol: 1, claim: {id: X, paper: B, where: w, statement: s, paper_value: v, holds_if: '< 3', verdict: maybe}}",
            "verdict",
        ),
        (  # the band [0, 2] straddles 1.5: a new draw could land on either side
            "- {key: a, notebook: nb, kind: discrete, expected: 1, atol: 1, claim: {id: X, paper: B, where: w, statement: s, paper_value: v, holds_if: '< 1.5', verdict: holds}}",
            "gives 'inconclusive'",
        ),
        (
            "- {key: a, notebook: nb, kind: discrete, expected: 1, atol: 0.1, claim: {id: X, paper: B, where: w, statement: s, paper_value: v, holds_if: '< 1.5', verdict: inconclusive}}",
            "gives 'holds'",
        ),
        (
            "- {key: a, notebook: nb, kind: discrete, expected: [1, 2], atol: 0.1, claim: {id: X, paper: B, where: w, statement: s, paper_value: v, holds_if: '< 1.5', verdict: holds}}",
            "single number",
        ),
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
        "    statement: s\n    paper_value: p\n    holds_if: < 5\n    verdict: holds\n"
    )
    results = {"results": {"a": {"value": 2.5}, "b": {"value": [3, 4, 5]}, "c": {"value": 9.0}}}
    assert update_expected("nb", results, keys=["a", "b"], path=path) == ["a", "b"]
    entries = {(e.notebook, e.key): e for e in load_registry(path)}
    assert entries[("nb", "a")].expected == 2.5 and entries[("nb", "b")].expected == [3, 4, 5]
    assert entries[("other", "a")].expected == 7.0 and entries[("nb", "c")].expected == 3.0
    assert entries[("nb", "c")].claim.verdict == "holds" and path.read_text().startswith("# a comment")


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
