import math

import numpy as np
import pytest
from scipy import stats

from superposition.book import tolerances as tol


@pytest.mark.parametrize("n_runs", [3, 8])
def test_the_factor_table_is_the_exact_factor_rounded_up(n_runs):
    exact = tol.rule_factor_exact(n_runs)
    assert exact <= tol.rule_factor(n_runs) < exact + 1e-3
    assert tol.exceedance_probability(tol.rule_factor(n_runs), n_runs) <= tol.ALPHA


def test_the_factor_lies_between_its_bounds():
    """Above the large-n limit sqrt(2) z(1 - alpha/2); below the factor that treats s as
    independent of the registered draw (sqrt(2) t_{n-1}), which overstates the spread's tail."""
    limit = math.sqrt(2) * stats.norm.ppf(1 - tol.ALPHA / 2)
    for n in tol.RULE_FACTORS:
        assert limit < tol.rule_factor(n) < math.sqrt(2) * stats.t.ppf(1 - tol.ALPHA / 2, n - 1)
    assert tol.rule_factor(21) == pytest.approx(tol.rule_factor_exact(21), abs=1e-3)
    with pytest.raises(ValueError, match="at least 3 runs"):
        tol.rule_factor(2)


def test_the_rule_leaves_a_new_draw_outside_with_probability_alpha():
    """The derivation, simulated over 4e6 trials (ALPHA * 4e6 = 400 expected): the registered draw
    x0 among the n runs that give s, one new draw x'."""
    rng = np.random.default_rng(0)
    n, trials = 8, 4_000_000
    outside = 0
    for _ in range(4):
        draws = rng.normal(size=(trials // 4, n + 1))
        s = draws[:, :n].std(axis=1, ddof=1)
        outside += int((np.abs(draws[:, n] - draws[:, 0]) > tol.rule_factor(n) * s).sum())
    assert 0.8 * tol.ALPHA * trials < outside < 1.2 * tol.ALPHA * trials


def test_round_up_keeps_two_significant_figures_and_never_rounds_down():
    assert tol.round_up(0.012301) == 0.013
    assert tol.round_up(0.013) == 0.013
    assert tol.round_up(1234.0) == 1300.0
    assert tol.round_up(0.0) == 0.0
    for value in np.random.default_rng(1).uniform(1e-6, 10, 200):
        assert tol.round_up(float(value)) >= value


def test_spread_of_numbers_lists_and_words():
    assert tol.spread([1.0, 2.0, 3.0]) == pytest.approx(1.0)
    assert tol.spread([[1.0, 5.0], [3.0, 5.0], [2.0, 5.0]]) == pytest.approx([1.0, 0.0])
    assert tol.spread([[1.0, None], [2.0, 3.0], [3.0, 4.0]])[1] is None
    assert tol.spread(["a", "a", "a"]) is None and tol.spread([True, True, True]) is None
    with pytest.raises(ValueError, match="different lengths"):
        tol.spread([[1.0], [1.0, 2.0]])


def test_trained_tolerance_applies_the_factor_and_the_floor():
    assert tol.trained_tolerance(0.01, 8) == tol.round_up(tol.rule_factor(8) * 0.01)
    assert tol.trained_tolerance(0.0, 8) == tol.MIN_ATOL
    assert tol.trained_tolerance([0.01, None, 0.0], 6) == [tol.round_up(tol.rule_factor(6) * 0.01), tol.MIN_ATOL, tol.MIN_ATOL]
    assert tol.trained_tolerance(None, 8) is None


def test_replicate_overrides_shift_every_seed_and_nothing_else():
    defaults = {"seed": 0, "source_seed": 0, "target_seed": 1, "n_steps": 100, "profile": "default"}
    assert tol.replicate_overrides(defaults, 0) == {"seed": 0, "source_seed": 0, "target_seed": 1}
    assert tol.replicate_overrides(defaults, 2) == {"seed": 2000, "source_seed": 2000, "target_seed": 2001}
    with pytest.raises(ValueError, match="no seed parameter"):
        tol.replicate_overrides({"n_steps": 3}, 1)


def test_every_notebook_that_trains_has_seed_parameters():
    from superposition.book.params import read_parameters
    from superposition.book.registry import load_registry
    from superposition.io import notebook_names, notebook_path

    trained = {e.notebook for e in load_registry() if e.kind == "trained"}
    assert trained
    for name in trained & set(notebook_names()):
        defaults = {p.name: p.default for p in read_parameters(notebook_path(name))}
        assert tol.replicate_overrides(defaults, 1), name
