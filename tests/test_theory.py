import numpy as np
import pytest

from superposition.science import theory


@pytest.mark.parametrize("signed", [True, False])
def test_two_closed_forms_agree(signed):
    delta = np.linspace(0.01, 1.0, 60)
    a = theory.l1_transition_max_form(delta, signed)
    b = theory.l1_transition_minimax_form(delta, signed)
    np.testing.assert_allclose(a, b, atol=1e-6)


@pytest.mark.parametrize("signed", [True, False])
def test_max_form_matches_a_dense_grid_search(signed):
    """The golden-section search finds the maximum a brute-force grid finds."""
    kappa = 2.0 if signed else 1.0
    z = np.linspace(0, 8, 200_001)[:, None]
    delta = np.array([0.05, 0.3, 0.7, 0.95])
    g = theory.gaussian_tail_term(z)
    with np.errstate(divide="ignore", invalid="ignore"):
        brute = np.nan_to_num((1 - kappa / delta * g) / (1 + z**2 - kappa * g), nan=-np.inf).max(axis=0)
    np.testing.assert_allclose(theory.l1_transition_max_form(delta, signed), brute, atol=1e-8)


def test_transition_is_increasing_and_nonnegative_codes_are_easier():
    delta = np.linspace(0.02, 0.98, 49)
    signed = theory.l1_phase_transition(delta, signed=True)
    nonneg = theory.l1_phase_transition(delta, signed=False)
    assert np.all(np.diff(signed) > 0) and np.all(np.diff(nonneg) > 0)
    assert np.all(nonneg > signed)
    assert theory.l1_phase_transition(1.0, True) == pytest.approx(1.0, abs=1e-6)


def test_small_delta_asymptote():
    """rho*(delta) ~ 1 / (2 log(1/delta)) as delta -> 0 (leading order, slow convergence)."""
    delta = np.array([1e-6, 1e-8])
    ratio = theory.l1_phase_transition(delta, signed=True) * 2 * np.log(1 / delta)
    assert np.all(np.abs(ratio - 1) < 0.35)
    assert abs(ratio[1] - 1) < abs(ratio[0] - 1)


def test_gaussian_tail_term_is_the_expected_squared_excess():
    rng = np.random.default_rng(0)
    x = rng.standard_normal(2_000_000)
    for z in (0.0, 0.5, 1.5):
        mc = np.mean(np.clip(x - z, 0, None) ** 2)
        assert theory.gaussian_tail_term(z) == pytest.approx(mc, rel=0.01)


def test_log_rule_capacity_solves_the_rule():
    m, n = np.array([300.0, 512.0, 768.0]), np.array([1e5, 1e6, 1e4])
    k = theory.log_rule_capacity(m, n)
    np.testing.assert_allclose(k * np.log(n / k), m, rtol=1e-9)
    # beyond M >= N/e the rule admits every K; the capacity is clipped at M
    assert theory.log_rule_capacity(4096, 1e4) == pytest.approx(4096)


def test_log_rule_rho_is_independent_of_n():
    for n in (1e3, 1e5):
        m = 0.1 * n
        assert theory.log_rule_capacity(m, n) / m == pytest.approx(float(theory.log_rule_rho(0.1)), rel=1e-9)


def test_l1_capacity_is_m_times_rho_star():
    assert theory.l1_capacity(300, 1e4, signed=False) == pytest.approx(300 * float(theory.l1_phase_transition(0.03, False)))


@pytest.mark.parametrize("bad", [0.0, -0.1, 1.5, np.nan])
def test_bad_delta_is_rejected(bad):
    with pytest.raises(ValueError, match="delta"):
        theory.l1_phase_transition(bad)
