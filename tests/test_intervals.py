import numpy as np
import pytest
from scipy import stats

from superposition.metrics.intervals import Estimate, bootstrap_interval, exact_estimate, mean_interval, percentile_estimate


def test_mean_interval_is_the_student_t_interval():
    values = np.array([0.1, 0.3, 0.2, 0.25])
    est = mean_interval(values, "4 replicates")
    half = stats.t.ppf(0.975, 3) * values.std(ddof=1) / 2
    assert est.value == pytest.approx(values.mean()) and est.interval == pytest.approx([values.mean() - half, values.mean() + half])
    assert est.n == 4 and est.over == "4 replicates" and "Student t" in est.method
    with pytest.raises(ValueError, match="at least 2"):
        mean_interval([1.0], "one")


def test_t_interval_covers_the_mean_at_its_level():
    rng = np.random.default_rng(0)
    hits = [(lambda e: e.low < 1.0 < e.high)(mean_interval(rng.normal(1.0, 2.0, 3), "3")) for _ in range(4000)]
    assert 0.935 < np.mean(hits) < 0.965


def test_bootstrap_interval_is_reproducible_and_close_to_the_normal_interval():
    values = np.random.default_rng(1).normal(0.5, 1.0, 400)
    a, b = bootstrap_interval(values, "400 units", seed=3), bootstrap_interval(values, "400 units", seed=3)
    assert a == b and a.n == 400
    se = values.std(ddof=1) / 20
    assert a.low == pytest.approx(values.mean() - 1.96 * se, abs=0.3 * se)
    assert a.high == pytest.approx(values.mean() + 1.96 * se, abs=0.3 * se)


def test_percentile_estimate_contains_its_value_and_estimates_are_validated():
    est = percentile_estimate(5.0, np.linspace(0, 1, 100), 10, "10 objects")
    assert est.low <= 5.0 == est.high
    assert exact_estimate(0.3).interval == [0.3, 0.3]
    with pytest.raises(ValueError, match="low <= high"):
        Estimate(0.0, 1.0, -1.0, 2, "x", "y")
    with pytest.raises(ValueError, match="finite"):
        Estimate(float("nan"), 0.0, 1.0, 2, "x", "y")
    assert mean_interval([1.0, 2.0], "2").shifted(-1.0).value == pytest.approx(0.5)


def test_difference_interval_matches_the_normal_interval_of_two_means():
    from superposition.metrics.intervals import difference_interval

    rng = np.random.default_rng(2)
    a, b = rng.binomial(1, 0.6, 300).astype(float), rng.binomial(1, 0.4, 500).astype(float)
    est = difference_interval(a, b, "300 and 500 units", seed=1)
    se = np.sqrt(a.var(ddof=1) / 300 + b.var(ddof=1) / 500)
    assert est.value == pytest.approx(a.mean() - b.mean())
    assert est.low == pytest.approx(est.value - 1.96 * se, abs=0.2 * se) and est.high == pytest.approx(est.value + 1.96 * se, abs=0.2 * se)


def test_largest_abs_interval():
    from superposition.metrics.intervals import largest_abs_interval

    est = largest_abs_interval([0.01, -0.03], [0.001, 0.002], 4, "2 cases")
    t = stats.t.ppf(0.975, 4)
    assert est.value == 0.03 and est.high == pytest.approx(0.03 + t * 0.002) and est.low == pytest.approx(0.03 - t * 0.002)
