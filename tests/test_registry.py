import pytest

from superposition.registry import RegistryError, check_results, load_registry, update_expected


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
- {key: a, notebook: nb, expected: 1.0, atol: 0.1}
- {key: b, notebook: nb, expected: [1.0, null], rtol: 0.01}
- key: c
  notebook: nb
  expected: 0.02
  atol: 0.05
  claim: {id: X, paper: B, where: Fig. 4, statement: s, paper_value: none, holds_if: "< 0.03", verdict: holds}
- {key: d, notebook: nb, expected: yes-text}
""",
    )
    entries = load_registry(path)
    checks, unregistered = check_results(entries, results(a=1.05, b=[1.005, None], c=0.02, d="yes-text", extra=3))
    assert [c.passed for c in checks] == [True, True, True, True]
    assert unregistered == ["nb:extra"]
    checks, _ = check_results(entries, results(a=1.2, b=[1.0, 2.0], c=0.04, d="no"))
    assert [c.passed for c in checks] == [False, False, False, False]
    # c within tolerance of 0.02 but its claim no longer holds: a change of direction fails
    assert checks[2].within_tolerance and checks[2].claim_holds is False
    checks, _ = check_results(entries, results(a=1.0))
    assert [c.recorded for c in checks] == [True, False, False, False]


@pytest.mark.parametrize(
    "text, message",
    [
        ("- {key: a, notebook: nb, expected: 1.0}", "tolerance"),
        ("- {key: a, notebook: nb}", "needs key, notebook and expected"),
        ("- {key: a, notebook: nb, expected: 1, atol: 1, colour: red}", "unknown fields"),
        ("- {key: a, notebook: nb, expected: 1, atol: 1}\n- {key: a, notebook: nb, expected: 1, atol: 1}", "twice"),
        (
            "- {key: a, notebook: nb, expected: 1, atol: 1, claim: {id: X, paper: B, where: w, statement: s, paper_value: v, holds_if: 'about 3', verdict: holds}}",
            "holds_if",
        ),
        (
            "- {key: a, notebook: nb, expected: 1, atol: 1, claim: {id: X, paper: B, where: w, statement: s, paper_value: v, holds_if: '< 3', verdict: maybe}}",
            "verdict",
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
        "- key: a\n  notebook: nb\n  expected: 1.0\n  atol: 0.1\n"
        "- key: b\n  notebook: nb\n  expected:\n  - 1\n  - 2\n  atol: 0.5\n"
        "- key: a\n  notebook: other\n  expected: 7.0\n  atol: 0.1\n"
        "- key: c\n  notebook: nb\n  expected: 3.0\n  rtol: 0.1\n  claim:\n    id: x\n    paper: A\n    where: w\n"
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
        "- key: b\n  notebook: nb\n  expected: [0.1, 0.2,\n    0.3, 0.4]\n  atol: 0.5\n"
        "- key: c\n  notebook: nb\n  expected: 3.0\n  rtol: 0.1\n"
        "- key: d\n  notebook: nb\n  expected: some text\n"
    )
    path.write_text(original)
    update_expected("nb", {"results": {"b": {"value": [1, 2, 3, 4, 5]}}}, path=path)
    entries = {e.key: e for e in load_registry(path)}
    assert entries["b"].expected == [1, 2, 3, 4, 5] and entries["c"].expected == 3.0
    path.write_text(original)
    with pytest.raises(RegistryError, match="needs a stated tolerance"):  # d turns into a number without a tolerance
        update_expected("nb", {"results": {"d": {"value": 2.0}}}, path=path)
    assert path.read_text() == original
