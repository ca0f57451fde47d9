import pytest

from superposition.book.verdicts import Rule, RuleError, parse_rule, reproducible_interval, verdict


@pytest.mark.parametrize(
    "text, low, high, expected",
    [
        ("> 0", 0.1, 0.3, "holds"),
        ("> 0", -0.3, -0.1, "fails"),
        ("> 0", -0.1, 0.3, "inconclusive"),
        ("< 0.03", 0.01, 0.02, "holds"),
        ("< 0.03", 0.02, 0.04, "inconclusive"),
        (">= 0", 0.0, 0.1, "holds"),
        ("> 0", 0.0, 0.1, "inconclusive"),
        ("> 0.98", 0.981, 0.99, "holds"),
        ("within ±0.02", -0.01, 0.015, "holds"),
        ("within +-0.02", -0.03, 0.0, "inconclusive"),
        ("within ±0.02", 0.02, 0.05, "fails"),
        ("within ±0.02", -0.5, 0.5, "inconclusive"),
    ],
)
def test_verdict_of_a_rule_on_an_interval(text, low, high, expected):
    assert verdict(parse_rule(text), low, high) == expected


def test_a_verdict_needs_its_sign_not_only_its_size():
    """A gap that is significantly negative fails a '> 0' rule: a p-value alone would have let it hold."""
    assert verdict(parse_rule("> 0"), -0.2, -0.05) == "fails"


@pytest.mark.parametrize("text", ["about 3", "> ", "within 0.1", "within ±0", "= 1", ""])
def test_unreadable_rules_are_refused(text):
    with pytest.raises(RuleError, match="holds_if"):
        parse_rule(text)


def test_distance_and_reproducible_interval():
    assert Rule("<", 1.5).distance(1.3, 1.4) == pytest.approx(0.1)
    assert Rule("<", 1.5).distance(1.3, 1.6) == 0.0
    assert Rule("within", 0.02).distance(-0.005, 0.01) == pytest.approx(0.01)
    assert reproducible_interval(1.0, 2.0, 0.1) == (0.9, 2.1)
    assert reproducible_interval(1.0, 2.0, 0.0, 0.1) == pytest.approx((0.9, 2.2))
    with pytest.raises(ValueError):
        verdict(Rule(">", 0.0), 1.0, 0.0)
