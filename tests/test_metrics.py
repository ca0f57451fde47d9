"""Alignment metrics: each fast path against a plain reference, known answers, population values
under linear mixing, and input validation."""

from __future__ import annotations

import itertools

import numpy as np
import ot
import pytest
import scipy.optimize
import scipy.stats
import torch
from sklearn.linear_model import RidgeCV
from sklearn.model_selection import KFold

from superposition import metrics
from superposition.metrics import population

ALPHAS = np.logspace(-8, 8, 17)


def shared_structure(n_samples, n_source, n_target, n_latent=6, noise=0.5, seed=0):
    """Two noisy linear read-outs of shared latents: (n_samples, n_source), (n_samples, n_target)."""
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n_samples, n_latent))
    x = z @ rng.standard_normal((n_latent, n_source)) + noise * rng.standard_normal((n_samples, n_source))
    y = z @ rng.standard_normal((n_latent, n_target)) + noise * rng.standard_normal((n_samples, n_target))
    return x, y


def reference_folds(n_samples):
    return list(KFold(n_splits=5, shuffle=True, random_state=42).split(np.zeros(n_samples)))


def unit_columns(a):
    a = a - a.mean(axis=0)
    return a / np.linalg.norm(a, axis=0)


def random_orthogonal(m, rng):
    q, r = np.linalg.qr(rng.standard_normal((m, m)))
    return q * np.sign(np.diag(r))


# ---------------------------------------------------------------- protocol


def test_folds_are_sklearns_kfold():
    ours = metrics.kfold_indices(103)
    ref = reference_folds(103)
    assert len(ours) == 5
    for (train, test), (train_ref, test_ref) in zip(ours, ref, strict=True):
        np.testing.assert_array_equal(train, train_ref)
        np.testing.assert_array_equal(test, test_ref)
    other = metrics.kfold_indices(103, n_folds=4, seed=1)
    assert not np.array_equal(other[0][1], ref[0][1])


def test_dead_units_are_decided_once_over_all_folds():
    x, y = shared_structure(120, 8, 7)
    folds = reference_folds(120)
    x[:, 2] = 0.0  # all-zero
    x[:, 5] = 3.0  # constant, non-zero
    y[:, 1] = 0.0
    y[:, 4] = 0.0
    y[folds[0][1][0], 4] = 1.0  # active on a single sample: all-zero in other folds' test parts
    pair = metrics.prepare_pair(x, y)
    assert (pair.n_dropped_source, pair.n_dropped_target) == (2, 2)
    for data in (x, y):  # the one-pass rule agrees with checking every part directly
        direct = np.zeros(data.shape[1], dtype=bool)
        for train, test in folds:
            for part in (train, test):
                direct |= np.ptp(data[part], axis=0) == 0
        np.testing.assert_array_equal(metrics.dead_units(torch.from_numpy(data), folds).numpy(), direct)
    scores = metrics.semi_matching(x, y)
    assert (scores.n_source_units, scores.n_target_units) == (6, 5)
    assert (scores.n_dropped_source, scores.n_dropped_target) == (2, 2)
    clean = metrics.semi_matching(np.delete(x, [2, 5], axis=1), np.delete(y, [1, 4], axis=1))
    np.testing.assert_allclose(scores.per_fold, clean.per_fold, rtol=0, atol=1e-12)


def test_kept_units_are_the_units_every_metric_compares():
    """kept_units against a plain reference (sklearn's folds, each part checked with numpy), and
    against the unit counts the metrics report, on sparse codes with units that fire in one fold only."""
    rng = np.random.default_rng(3)
    codes = np.maximum(rng.standard_normal((150, 20)) - 1.5, 0.0)
    codes[:, 0] = 0.0  # never fires
    codes[:, 1] = 0.0
    codes[7, 1] = 2.0  # fires on one image: zero in the other folds' test parts
    codes[:, 2] = 0.0
    codes[rng.choice(150, 40, replace=False), 2] = 1.0  # fires on many images
    reference = np.ones(20, dtype=bool)
    for train, test in KFold(n_splits=5, shuffle=True, random_state=42).split(codes):
        for part in (train, test):
            reference &= np.ptp(codes[part], axis=0) > 0
    kept = metrics.kept_units(codes)
    assert kept.dtype == bool and kept.shape == (20,) and not kept[:2].any() and kept[2]
    np.testing.assert_array_equal(kept, reference)
    assert int((codes.std(axis=0) > 0).sum()) > int(kept.sum())  # "fires on some image" counts more
    neurons = rng.standard_normal((150, 6))
    table = metrics.score_pairs({"codes→neurons": (codes, neurons), "neurons→codes": (neurons, codes)}, ["ridge", "semi_matching", "soft_matching"])
    assert set(table[table.pair == "codes→neurons"].n_source_units) == {int(kept.sum())}
    assert set(table[table.pair == "neurons→codes"].n_target_units) == {int(kept.sum())}
    np.testing.assert_array_equal(metrics.kept_units(torch.from_numpy(codes)), kept)


def test_fold_scores_summary():
    x, y = shared_structure(100, 5, 6)
    scores = metrics.semi_matching(x, y)
    assert scores.per_fold.shape == (5,)
    assert scores.mean == pytest.approx(scores.per_fold.mean(), abs=1e-15)
    assert scores.sem == pytest.approx(scipy.stats.sem(scores.per_fold), abs=1e-15)


# ---------------------------------------------------------------- semi-matching


def test_semi_matching_matches_a_double_loop():
    x, y = shared_structure(90, 7, 5, noise=1.0, seed=1)
    expected = []
    for train, test in reference_folds(90):
        total = 0.0
        for j in range(y.shape[1]):
            train_corr = [np.corrcoef(x[train, i], y[train, j])[0, 1] for i in range(x.shape[1])]
            best = int(np.argmax(train_corr))
            total += np.corrcoef(x[test, best], y[test, j])[0, 1]
        expected.append(total / y.shape[1])
    got = metrics.semi_matching(x, y)
    np.testing.assert_allclose(got.per_fold, expected, rtol=0, atol=1e-10)


# ---------------------------------------------------------------- soft-matching


def transportation_lp(cost):
    """Optimal value of the uniform-marginal transportation LP, by scipy's linprog (HiGHS)."""
    m, n = cost.shape
    rows = np.kron(np.eye(m), np.ones((1, n)))
    cols = np.kron(np.ones((1, m)), np.eye(n))
    result = scipy.optimize.linprog(
        cost.ravel(),
        A_eq=np.vstack([rows, cols]),
        b_eq=np.concatenate([np.full(m, 1 / m), np.full(n, 1 / n)]),
        bounds=(0, None),
        method="highs",
    )
    assert result.status == 0
    return result.fun


@pytest.mark.parametrize("shape", [(6, 9), (9, 4), (7, 7)])
def test_transport_plan_is_optimal(shape):
    rng = np.random.default_rng(sum(shape))
    cost = rng.uniform(0, 2, size=shape)
    plan = metrics.transport_plan(cost)
    m, n = shape
    assert plan.shape == shape
    assert plan.min() >= 0
    np.testing.assert_allclose(plan.sum(axis=1), np.full(m, 1 / m), atol=1e-12)
    np.testing.assert_allclose(plan.sum(axis=0), np.full(n, 1 / n), atol=1e-12)
    value = float(np.sum(plan * cost))
    emd_plan = ot.emd(np.full(m, 1 / m), np.full(n, 1 / n), cost)
    assert value == pytest.approx(float(np.sum(emd_plan * cost)), abs=1e-9)
    assert value == pytest.approx(transportation_lp(cost), abs=1e-7)


def test_transport_plan_beats_a_random_feasible_plan():
    rng = np.random.default_rng(3)
    cost = rng.uniform(size=(5, 8))
    plan = metrics.transport_plan(cost)
    assert np.sum(plan * cost) < np.sum(np.full((5, 8), 1 / 40) * cost) - 1e-3


@pytest.mark.parametrize("n_source, n_target", [(6, 9), (8, 8)])
def test_soft_matching_matches_emd_reference(n_source, n_target):
    x, y = shared_structure(150, n_source, n_target, noise=1.0, seed=2)
    expected = []
    for train, test in reference_folds(150):
        corr_train = unit_columns(x[train]).T @ unit_columns(y[train])
        plan = ot.emd(np.full(n_source, 1 / n_source), np.full(n_target, 1 / n_target), 1 - corr_train)
        expected.append(np.sum(plan * (unit_columns(x[test]).T @ unit_columns(y[test]))))
    got = metrics.soft_matching(x, y)
    np.testing.assert_allclose(got.per_fold, expected, rtol=0, atol=1e-9)


def test_soft_matching_is_symmetric():
    x, y = shared_structure(150, 6, 9, noise=1.0, seed=5)
    assert metrics.soft_matching(x, y).mean == pytest.approx(metrics.soft_matching(y, x).mean, abs=1e-9)


# ---------------------------------------------------------------- ridge


def ridge_data(n, p, t, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, p)) * rng.uniform(0.2, 3.0, size=p)
    y = x @ rng.standard_normal((p, t)) * 0.3 + rng.standard_normal((n, t)) * 2.0
    return x - x.mean(axis=0), y - y.mean(axis=0)


@pytest.mark.parametrize("alpha_per_target", [False, True])
@pytest.mark.parametrize("n, p, t", [(200, 40, 30), (300, 30, 70), (50, 90, 12), (700, 300, 20), (300, 420, 15)])
def test_fit_ridge_cv_matches_sklearn(n, p, t, alpha_per_target):
    x, y = ridge_data(n, p, t, seed=n + p)
    x_new = np.random.default_rng(0).standard_normal((25, p))
    ref = RidgeCV(alphas=ALPHAS, fit_intercept=False, alpha_per_target=alpha_per_target, store_cv_results=True).fit(x, y)
    got = metrics.fit_ridge_cv(x, y, ALPHAS, alpha_per_target=alpha_per_target)
    np.testing.assert_array_equal(np.asarray(got.alpha), np.asarray(ref.alpha_))
    scale = np.abs(ref.coef_).max()
    np.testing.assert_allclose(got.coef, ref.coef_.T, rtol=0, atol=1e-6 * scale)
    pred_ref = ref.predict(x_new)
    np.testing.assert_allclose(x_new @ got.coef, pred_ref, rtol=0, atol=1e-6 * np.abs(pred_ref).max())
    loo_ref = ref.cv_results_.mean(axis=0) if alpha_per_target else ref.cv_results_.mean(axis=(0, 1))
    # n < p: on centred data the errors at tiny alphas are at round-off level (see the docs)
    loo_ref = loo_ref.T if alpha_per_target else loo_ref
    np.testing.assert_allclose(got.loo_mse, loo_ref, rtol=1e-6, atol=1e-9 * loo_ref.max())


@pytest.mark.parametrize("n, p", [(150, 30), (40, 40), (30, 70)])
def test_fit_ridge_cv_matches_sklearn_on_uncentred_data(n, p):
    rng = np.random.default_rng(n * p)
    x = rng.standard_normal((n, p)) + 2.0
    y = x @ rng.standard_normal((p, 5)) * 0.2 + rng.standard_normal((n, 5)) + 1.0
    ref = RidgeCV(alphas=ALPHAS, fit_intercept=False).fit(x, y)
    got = metrics.fit_ridge_cv(x, y)
    assert got.alpha == ref.alpha_
    np.testing.assert_allclose(got.coef, ref.coef_.T, rtol=0, atol=1e-6 * np.abs(ref.coef_).max())


def test_shared_alpha_errors_are_the_mean_of_per_target_errors():
    x, y = ridge_data(700, 300, 40, seed=1)
    shared = metrics.fit_ridge_cv(x, y).loo_mse
    per_target = metrics.fit_ridge_cv(x, y, alpha_per_target=True).loo_mse
    np.testing.assert_allclose(shared, per_target.mean(axis=1), rtol=1e-10)


def test_fit_ridge_cv_picks_an_interior_alpha():
    x, y = ridge_data(200, 40, 30, seed=240)
    fit = metrics.fit_ridge_cv(x, y)
    assert ALPHAS[0] < fit.alpha < ALPHAS[-1]  # the comparison above is not only about the grid's ends


@pytest.mark.parametrize("alpha_per_target", [False, True])
@pytest.mark.parametrize("n_samples, n_source", [(150, 20), (60, 80)])
def test_ridge_predictivity_matches_sklearn_pipeline(n_samples, n_source, alpha_per_target):
    x, y = shared_structure(n_samples, n_source, 9, noise=1.5, seed=n_source)
    expected, alphas = [], []
    for train, test in reference_folds(n_samples):
        x_train, x_test = x[train] - x[train].mean(0), x[test] - x[test].mean(0)
        y_train, y_test = y[train] - y[train].mean(0), y[test] - y[test].mean(0)
        model = RidgeCV(alphas=ALPHAS, fit_intercept=False, alpha_per_target=alpha_per_target).fit(x_train, y_train)
        pred = model.predict(x_test)
        expected.append(np.mean([np.corrcoef(pred[:, j], y_test[:, j])[0, 1] for j in range(y.shape[1])]))
        alphas.append(model.alpha_)
    got = metrics.ridge_predictivity(x, y, alpha_per_target=alpha_per_target)
    np.testing.assert_allclose(got.per_fold, expected, rtol=0, atol=1e-6)
    np.testing.assert_array_equal(got.alphas, np.asarray(alphas))


def test_ridge_standardize_uses_unit_norm_columns():
    x, y = shared_structure(150, 10, 6, noise=1.0, seed=4)
    x = x * np.linspace(0.1, 10, 10)  # unequal scales: standardising changes the penalty's effect
    expected = []
    for train, test in reference_folds(150):
        model = RidgeCV(alphas=ALPHAS, fit_intercept=False).fit(unit_columns(x[train]), unit_columns(y[train]))
        pred = model.predict(unit_columns(x[test]))
        expected.append(np.mean([np.corrcoef(pred[:, j], y[test, j])[0, 1] for j in range(6)]))
    got = metrics.ridge_predictivity(x, y, standardize=True)
    np.testing.assert_allclose(got.per_fold, expected, rtol=0, atol=1e-6)


def test_float32_agrees_with_float64():
    x, y = shared_structure(400, 30, 20, noise=1.0, seed=6)
    for metric in (metrics.semi_matching, metrics.soft_matching, metrics.ridge_predictivity):
        assert metric(x, y, dtype=torch.float32).mean == pytest.approx(metric(x, y).mean, abs=1e-4)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_agrees_with_cpu():
    x, y = shared_structure(500, 40, 30, noise=1.0, seed=7)
    for metric in (metrics.semi_matching, metrics.soft_matching, metrics.ridge_predictivity):
        np.testing.assert_allclose(metric(x, y, device="cuda").per_fold, metric(x, y).per_fold, atol=1e-9)


# ---------------------------------------------------------------- RSA and CKA


def rsa_reference(x, y):
    live = np.any(x != 0, axis=1) & np.any(y != 0, axis=1)
    x, y = x[live][:, np.any(x != 0, axis=0)], y[live][:, np.any(y != 0, axis=0)]
    upper = np.triu_indices(x.shape[0], k=1)
    return scipy.stats.pearsonr((1 - np.corrcoef(x))[upper], (1 - np.corrcoef(y))[upper]).statistic


@pytest.mark.parametrize("n_source, n_target", [(12, 9), (300, 250)])  # unit-space and stimulus-space routes
def test_rsa_matches_direct_formula(n_source, n_target):
    x, y = shared_structure(80, n_source, n_target, noise=2.0, seed=8)
    x, y = np.maximum(x, 0), np.maximum(y, 0)
    x[[3, 10], :] = 0.0  # dead stimuli, different in the two inputs
    y[[10, 20], :] = 0.0
    x[:, 4] = 0.0  # a dead unit
    assert metrics.rsa(x, y) == pytest.approx(rsa_reference(x, y), abs=1e-10)


def test_rsa_subsample_is_seeded():
    x, y = shared_structure(300, 10, 12, noise=1.0, seed=9)
    a = metrics.rsa(x, y, n_stimuli=100, seed=3)
    assert a == metrics.rsa(x, y, n_stimuli=100, seed=3)
    assert a != metrics.rsa(x, y, n_stimuli=100, seed=4)
    assert a == pytest.approx(metrics.rsa(x, y), abs=0.15)


def cka_reference(x, y):
    x, y = x - x.mean(0), y - y.mean(0)
    return np.linalg.norm(y.T @ x) ** 2 / (np.linalg.norm(x.T @ x) * np.linalg.norm(y.T @ y))


@pytest.mark.parametrize("n_source, n_target", [(10, 7), (120, 150)])
def test_linear_cka_matches_direct_formula(n_source, n_target):
    x, y = shared_structure(60, n_source, n_target, noise=1.0, seed=10)
    assert metrics.linear_cka(x, y) == pytest.approx(cka_reference(x, y), abs=1e-10)
    rotation = random_orthogonal(n_source, np.random.default_rng(0))
    assert metrics.linear_cka(3.0 * x @ rotation, y) == pytest.approx(cka_reference(x, y), abs=1e-10)


# ---------------------------------------------------------------- recovery scores


def mcc_brute_force(features, latents):
    corr = np.abs(np.corrcoef(features.T, latents.T)[: features.shape[1], features.shape[1] :])
    n_f, n_l = corr.shape
    if n_l >= n_f:
        best = max(sum(corr[i, p[i]] for i in range(n_f)) for p in itertools.permutations(range(n_l), n_f))
    else:
        best = max(sum(corr[p[j], j] for j in range(n_l)) for p in itertools.permutations(range(n_f), n_l))
    return best / n_f


@pytest.mark.parametrize("n_features, n_latents", [(4, 4), (3, 6), (5, 3)])
def test_mcc_matches_brute_force(n_features, n_latents):
    rng = np.random.default_rng(n_features * 10 + n_latents)
    features = rng.standard_normal((200, n_features))
    latents = features @ rng.standard_normal((n_features, n_latents)) + rng.standard_normal((200, n_latents))
    got = metrics.mean_correlation_coefficient(features, latents)
    assert got == pytest.approx(mcc_brute_force(features, latents), abs=1e-12)


def test_max_correlation_ignores_dead_latents():
    rng = np.random.default_rng(11)
    features = rng.standard_normal((300, 3))
    latents = np.column_stack([features[:, 0] * -2 + 1, np.zeros(300), features[:, 1] + rng.standard_normal(300)])
    got = metrics.max_correlation_per_feature(features, latents)
    assert got[0] == pytest.approx(1.0, abs=1e-12)
    assert got[1] == pytest.approx(abs(np.corrcoef(features[:, 1], latents[:, 2])[0, 1]), abs=1e-12)
    assert got[2] < 0.2


# ---------------------------------------------------------------- known answers


def test_identical_codes_score_one_everywhere():
    x, _ = shared_structure(300, 12, 1, noise=0.3, seed=12)
    for metric in (metrics.semi_matching, metrics.soft_matching, metrics.ridge_predictivity):
        assert metric(x, x).mean == pytest.approx(1.0, abs=1e-8)
    assert metrics.rsa(x, x) == pytest.approx(1.0, abs=1e-12)
    assert metrics.linear_cka(x, x) == pytest.approx(1.0, abs=1e-12)
    assert metrics.mean_correlation_coefficient(x, x) == pytest.approx(1.0, abs=1e-12)


def test_permuted_rescaled_codes_score_one_on_unit_metrics():
    rng = np.random.default_rng(13)
    x, _ = shared_structure(300, 12, 1, noise=0.3, seed=13)
    y = x[:, rng.permutation(12)] * rng.uniform(0.1, 10.0, size=12) + rng.standard_normal(12)
    for metric in (metrics.semi_matching, metrics.soft_matching, metrics.ridge_predictivity):
        assert metric(x, y).mean == pytest.approx(1.0, abs=1e-8)
    assert metrics.mean_correlation_coefficient(x, y) == pytest.approx(1.0, abs=1e-12)


def test_rotated_codes_score_one_on_ridge_only():
    rng = np.random.default_rng(14)
    z = rng.laplace(size=(400, 10))  # independent features: the unit basis is meaningful
    y = z @ random_orthogonal(10, rng)
    assert metrics.ridge_predictivity(z, y).mean == pytest.approx(1.0, abs=1e-6)
    assert metrics.semi_matching(z, y).mean < 0.8
    assert metrics.soft_matching(z, y).mean < 0.6
    assert metrics.mean_correlation_coefficient(z, y) < 0.8


# ---------------------------------------------------------------- population values


def linear_codes(seed, n_features=8, n_source=5, n_target=6):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n_source, n_features)), rng.standard_normal((n_target, n_features)), rng.uniform(0.5, 2.0, n_features)


def sparse_features(n_samples, variances, seed, density=0.3):
    """Independent zero-mean sparse features: Bernoulli(density) times uniform, with the given variances."""
    rng = np.random.default_rng(seed)
    width = np.sqrt(3 * variances / density)
    active = rng.random((n_samples, len(variances))) < density
    return active * rng.uniform(-1, 1, (n_samples, len(variances))) * width


@pytest.mark.parametrize("n_source, n_target", [(5, 6), (6, 6)])
def test_population_values_match_large_samples(n_source, n_target):
    a, b, var = linear_codes(15, n_source=n_source, n_target=n_target)
    z = sparse_features(200_000, var, seed=16)
    x, y = z @ a.T, z @ b.T
    np.testing.assert_allclose(
        np.corrcoef(x.T, y.T)[:n_source, n_source:], population.population_correlations(a, b, var), atol=0.01
    )
    assert metrics.semi_matching(x, y).mean == pytest.approx(population.population_semi_matching(a, b, var), abs=0.01)
    assert metrics.soft_matching(x, y).mean == pytest.approx(population.population_soft_matching(a, b, var), abs=0.01)
    ridge_pop = population.population_ridge(a, b, var)
    assert ridge_pop < 0.99  # fewer source units than features: not everything is predictable
    assert metrics.ridge_predictivity(x, y).mean == pytest.approx(ridge_pop, abs=0.01)


def test_population_ridge_with_gaussian_features():
    a, b, var = linear_codes(17, n_features=6, n_source=4, n_target=3)
    z = np.random.default_rng(18).standard_normal((200_000, 6)) * np.sqrt(var)
    per_unit = population.population_ridge_correlations(a, b, var)
    got = metrics.ridge_predictivity(z @ a.T, z @ b.T)
    assert got.mean == pytest.approx(per_unit.mean(), abs=0.01)


def test_population_known_cases():
    a, _, var = linear_codes(19)
    rng = np.random.default_rng(20)
    permuted = a[rng.permutation(5)] * rng.uniform(0.5, 3.0, size=(5, 1))
    rotated = random_orthogonal(5, rng) @ a
    for value in (
        population.population_semi_matching(a, a, var),
        population.population_soft_matching(a, a, var),
        population.population_ridge(a, a, var),
        population.population_semi_matching(a, permuted, var),
        population.population_soft_matching(a, permuted, var),
        population.population_ridge(a, rotated, var),
    ):
        assert value == pytest.approx(1.0, abs=1e-12)
    assert population.population_semi_matching(a, rotated, var) < 0.95


# ---------------------------------------------------------------- bad input


GOOD_X, GOOD_Y = shared_structure(40, 4, 3, seed=21)
WITH_NAN = GOOD_X.copy()
WITH_NAN[3, 1] = np.nan
WITH_INF = GOOD_Y.copy()
WITH_INF[0, 0] = np.inf
FOLD_METRICS = [metrics.semi_matching, metrics.soft_matching, metrics.ridge_predictivity]


@pytest.mark.parametrize("metric", FOLD_METRICS, ids=lambda f: f.__name__)
@pytest.mark.parametrize(
    "source, target, kwargs, name",
    [
        (GOOD_X, GOOD_Y[:30], {}, "target"),
        (GOOD_X[:4], GOOD_Y[:4], {}, "n_folds"),
        (WITH_NAN, GOOD_Y, {}, "source"),
        (GOOD_X, WITH_INF, {}, "target"),
        (GOOD_X[:, 0], GOOD_Y, {}, "source"),
        (GOOD_X, GOOD_Y[:, 0], {}, "target"),
        (np.zeros((40, 4)), GOOD_Y, {}, "source"),
        (GOOD_X, np.ones((40, 3)), {}, "target"),
        (GOOD_X, GOOD_Y, {"n_folds": 1}, "n_folds"),
        (GOOD_X, GOOD_Y, {"seed": -1}, "seed"),
        (GOOD_X, GOOD_Y, {"device": "tpu"}, "device"),
        (GOOD_X, GOOD_Y, {"dtype": torch.int64}, "dtype"),
    ],
)
def test_fold_metrics_reject_bad_input(metric, source, target, kwargs, name):
    with pytest.raises(ValueError, match=name):
        metric(source, target, **kwargs)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"alpha_per_target": "yes"}, "alpha_per_target"),
        ({"standardize": 1}, "standardize"),
        ({"alphas": [1.0, -1.0]}, "alphas"),
        ({"alphas": [[1.0]]}, "alphas"),
        ({"alphas": [np.nan]}, "alphas"),
    ],
)
def test_ridge_rejects_bad_options(kwargs, name):
    with pytest.raises(ValueError, match=name):
        metrics.ridge_predictivity(GOOD_X, GOOD_Y, **kwargs)


@pytest.mark.parametrize("metric", [metrics.rsa, metrics.linear_cka], ids=lambda f: f.__name__)
@pytest.mark.parametrize(
    "source, target, name",
    [
        (GOOD_X, GOOD_Y[:30], "target"),
        (WITH_NAN, GOOD_Y, "source"),
        (GOOD_X, WITH_INF, "target"),
        (GOOD_X[:, 0], GOOD_Y, "source"),
        (np.zeros((40, 4)), GOOD_Y, "source"),
        (GOOD_X, np.full((40, 3), 2.0), "target"),
    ],
)
def test_similarities_reject_bad_input(metric, source, target, name):
    with pytest.raises(ValueError, match=name):
        metric(source, target)


def test_rsa_rejects_bad_subsample():
    with pytest.raises(ValueError, match="n_stimuli"):
        metrics.rsa(GOOD_X, GOOD_Y, n_stimuli=2)


@pytest.mark.parametrize("score", [metrics.mean_correlation_coefficient, metrics.max_correlation_per_feature])
@pytest.mark.parametrize(
    "features, latents, name",
    [
        (GOOD_X, GOOD_Y[:30], "latents"),
        (WITH_NAN, GOOD_Y, "features"),
        (GOOD_X, WITH_INF, "latents"),
        (GOOD_X, GOOD_Y[:, 0], "latents"),
        (GOOD_X, np.zeros((40, 3)), "latents"),
        (np.column_stack([GOOD_X, np.ones(40)]), GOOD_Y, "features"),
    ],
)
def test_recovery_scores_reject_bad_input(score, features, latents, name):
    with pytest.raises(ValueError, match=name):
        score(features, latents)


@pytest.mark.parametrize(
    "a_source, a_target, variances, name",
    [
        (np.ones((3, 4)), np.ones((2, 5)), np.ones(4), "a_source and a_target"),
        (np.ones((3, 4)), np.ones((2, 4)), np.ones(3), "variances"),
        (np.ones(4), np.ones((2, 4)), np.ones(4), "a_source"),
        (np.ones((3, 4)), np.ones((2, 4)), -np.ones(4), "variances"),
        (np.vstack([np.ones(4), np.zeros(4)]), np.ones((2, 4)), np.ones(4), "a_source"),
    ],
)
def test_population_rejects_bad_input(a_source, a_target, variances, name):
    with pytest.raises(ValueError, match=name):
        population.population_ridge(a_source, a_target, variances)


def test_transport_plan_rejects_bad_cost():
    with pytest.raises(ValueError, match="cost"):
        metrics.transport_plan(np.array([[0.0, np.nan]]))
    with pytest.raises(ValueError, match="cost"):
        metrics.transport_plan(np.ones(3))


# ---------------------------------------------------------------- tables of many pairs


def test_score_pairs_runs_every_metric_on_every_pair():
    x, y = shared_structure(300, 5, 4)
    table = metrics.score_pairs({"xy": (x, y), "yx": (y, x)}, ["semi_matching", "ridge", "linear_cka"])
    assert list(table["pair"]) == ["xy", "yx"] * 3
    assert list(table["metric"]) == ["semi_matching"] * 2 + ["ridge"] * 2 + ["linear_cka"] * 2
    semi = metrics.semi_matching(y, x)
    row = table[(table.pair == "yx") & (table.metric == "semi_matching")].iloc[0]
    assert row["mean"] == semi.mean and row["sem"] == semi.sem and row["n_target_units"] == 5
    cka = table[(table.pair == "xy") & (table.metric == "linear_cka")].iloc[0]
    assert cka["mean"] == metrics.linear_cka(x, y) and np.isnan(cka["sem"]) and cka["per_fold"] is None
    with pytest.raises(ValueError, match="metrics must be a non-empty selection of semi_matching"):
        metrics.score_pairs({"xy": (x, y)}, ["cca"])
    np.testing.assert_allclose(metrics.relative_change([1.2, 0.5], [1.0, 1.0]), [20.0, -50.0])


def test_population_scores_collects_the_three_fold_metrics():
    a, b, var = linear_codes(21)
    got = population.population_scores(a, b, var)
    assert got == {
        "semi_matching": population.population_semi_matching(a, b, var),
        "soft_matching": population.population_soft_matching(a, b, var),
        "ridge": population.population_ridge(a, b, var),
    }


@pytest.mark.parametrize("alpha_per_target", [False, True])
def test_ridge_in_target_batches_equals_all_at_once_and_keeps_per_target_scores(alpha_per_target):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((120, 15))
    y = x @ rng.standard_normal((15, 23)) + rng.standard_normal((120, 23)) * rng.uniform(0.1, 3.0, 23)
    whole = metrics.ridge_predictivity(x, y, alpha_per_target=alpha_per_target)
    batched = metrics.ridge_predictivity(x, y, alpha_per_target=alpha_per_target, target_batch_size=4)
    np.testing.assert_allclose(batched.per_fold, whole.per_fold, rtol=1e-12)
    np.testing.assert_array_equal(batched.alphas, whole.alphas)
    assert whole.per_target.shape == (5, 23)
    np.testing.assert_allclose(whole.per_target.mean(axis=1), whole.per_fold, rtol=1e-12)
    with pytest.raises(ValueError, match="target_batch_size must be a positive int"):
        metrics.ridge_predictivity(x, y, target_batch_size=0)


def test_penalty_factors_reproduce_the_shrinkage_matrix():
    from superposition.metrics.regression import _penalty_factors

    s2 = torch.as_tensor(np.logspace(-3, 4, 300))
    alphas = torch.as_tensor(ALPHAS)
    g = alphas[:, None] / (s2[None, :] + alphas[:, None])
    a, b = _penalty_factors(g)
    assert a.shape[1] < len(ALPHAS)  # low numerical rank: the saving of the per-target route
    torch.testing.assert_close(a @ b.mT, g, atol=1e-13, rtol=0)
