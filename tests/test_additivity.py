"""The additivity statistics against plain loop implementations, and their behaviour on
inputs whose answer is known."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from superposition.runtime import make_generator
from superposition.science import additivity


def _cos(x: np.ndarray, y: np.ndarray) -> float:
    return float(x @ y / np.linalg.norm(x) / np.linalg.norm(y))


def _parts(n_objects: int = 6, dim: int = 20, noise: float = 0.5, seed: int = 0):
    rng = np.random.default_rng(seed)
    objects = rng.normal(size=(n_objects, dim)) + 2.0  # a shared offset, as pooled features have
    pairs = additivity.object_pairs(n_objects)
    a, b = objects[pairs[:, 0]], objects[pairs[:, 1]]
    ab = a + b + noise * rng.normal(size=a.shape)
    return objects, pairs, a, b, ab


def test_object_pairs_lists_every_pair_once():
    pairs = additivity.object_pairs(5)
    assert pairs.shape == (10, 2)
    assert [tuple(p) for p in pairs] == list(itertools.combinations(range(5), 2))
    with pytest.raises(ValueError, match="at least 2"):
        additivity.object_pairs(1)


@pytest.mark.parametrize("centred", [False, True])
def test_pair_scores_match_a_plain_loop(centred):
    _, _, a, b, ab = _parts()
    scores = additivity.pair_scores(a, b, ab, centred=centred)
    if centred:
        mean = np.concatenate([a, b, ab]).mean(axis=0)
        a, b, ab = a - mean, b - mean, ab - mean
    n = len(a)
    matrix = np.array([[_cos(a[p] + b[p], ab[q]) for q in range(n)] for p in range(n)])
    np.testing.assert_allclose(scores.similarity_matrix, matrix, atol=1e-12)
    np.testing.assert_allclose(scores.sum_similarity, np.diag(matrix), atol=1e-12)
    np.testing.assert_allclose(scores.baseline, [_cos(a[p], b[p]) for p in range(n)], atol=1e-12)
    np.testing.assert_array_equal(scores.rank, [sum(matrix[p, q] > matrix[p, p] for q in range(n)) for p in range(n)])
    np.testing.assert_allclose(scores.gain, scores.sum_similarity - scores.baseline)


def test_exact_sums_are_retrieved_and_centring_removes_a_shared_offset():
    objects, pairs, a, b, ab = _parts(noise=0.0)
    exact = additivity.pair_scores(a, b, ab)
    np.testing.assert_allclose(exact.sum_similarity, 1.0, atol=1e-12)
    assert exact.top1 == 1.0
    # composites unrelated to their parts but sharing a large offset: raw similarity near 1,
    # centred similarity near 0 and retrieval near chance
    rng = np.random.default_rng(1)
    offset = 50 * np.ones(a.shape[1])
    a2, b2, ab2 = (rng.normal(size=a.shape) + offset for _ in range(3))
    raw, centred = additivity.pair_scores(a2, b2, ab2), additivity.pair_scores(a2, b2, ab2, centred=True)
    assert raw.sum_similarity.mean() > 0.99
    assert abs(centred.sum_similarity.mean()) < 0.2
    with pytest.raises(ValueError, match="share one shape"):
        additivity.pair_scores(a, b, ab[:, :3])


def _reference_bootstrap(values: np.ndarray, pairs: np.ndarray, n_boot: int, seed: int) -> np.ndarray:
    """Resample objects, list the pairs of the resampled list position by position, average."""
    n_objects = int(pairs.max()) + 1
    draws = torch.randint(0, n_objects, (n_boot, n_objects), generator=make_generator(seed, 71)).numpy()
    index = {tuple(p): k for k, p in enumerate(pairs.tolist())}
    means = []
    for draw in draws:
        if (pairs[:, 0] == pairs[:, 1]).all():  # one unit per row: the plain bootstrap
            chosen = [index[(o, o)] for o in draw]
        else:
            chosen = [index[(min(u, v), max(u, v))] for u, v in itertools.combinations(draw.tolist(), 2) if u != v]
        if chosen:
            means.append(values[chosen].mean())
    return np.array(means)


def test_object_bootstrap_weights_equal_listing_the_resampled_pairs():
    rng = np.random.default_rng(0)
    pairs = additivity.object_pairs(5)
    values = rng.normal(size=len(pairs))
    fast = additivity.object_bootstrap_means(values, pairs, n_boot=300, seed=3)
    np.testing.assert_allclose(fast, _reference_bootstrap(values, pairs, 300, 3), atol=1e-12)
    stacked = additivity.object_bootstrap_means(np.stack([values, 2 * values]), pairs, n_boot=300, seed=3)
    np.testing.assert_allclose(stacked[1], 2 * fast, atol=1e-12)


def test_triplets_are_bootstrapped_as_independent_units():
    values = np.arange(8, dtype=float)
    units = np.stack([np.arange(8), np.arange(8)], axis=1)
    fast = additivity.object_bootstrap_means(values, units, n_boot=200, seed=1)
    np.testing.assert_allclose(fast, _reference_bootstrap(values, units, 200, 1), atol=1e-12)
    low, high = additivity.object_bootstrap(values, units, n_boot=2000, seed=1)
    assert low < values.mean() < high


def test_permutation_test_relabels_objects_and_detects_specific_composites():
    objects, pairs, a, b, ab = _parts(n_objects=7, noise=0.3)
    specific = additivity.pair_scores(a, b, ab, centred=True)
    # only the identity (drawn with probability 1 / 7! per draw) ties with the observed statistic
    assert additivity.object_permutation_test(specific.similarity_matrix, pairs, n_perm=999) <= 3 / 1000
    rng = np.random.default_rng(5)
    p_null = [
        additivity.object_permutation_test(rng.normal(size=(len(pairs), len(pairs))), pairs, n_perm=199, seed=s) for s in range(30)
    ]
    assert 0.25 < np.mean(p_null) < 0.75  # roughly uniform under the null
    perms = np.array([[2, 0, 1, 3]])
    mapped = additivity._relabelled_pairs(additivity.object_pairs(4), perms)
    for k, (i, j) in enumerate(additivity.object_pairs(4)):
        target = sorted((perms[0, i], perms[0, j]))
        assert tuple(additivity.object_pairs(4)[mapped[0, k]]) == tuple(target)


def test_disjoint_pairs_share_no_object():
    pairs = additivity.object_pairs(9)
    chosen = additivity.disjoint_pairs(pairs, seed=4)
    assert len(chosen) == 4
    used = pairs[chosen].ravel()
    assert len(set(used.tolist())) == len(used)


def test_paired_tests_and_the_floor_of_wilcoxon():
    x, y = np.arange(6.0) + 10, np.zeros(6)
    p_t, p_w = additivity.paired_tests(x, y)
    assert p_t < 1e-4
    assert p_w == pytest.approx(2 / 2**6)
    assert additivity.paired_tests(y, y)[1] == 1.0


def test_composite_analogies_are_exact_for_sums_and_poor_for_noise():
    objects, pairs, _, _, _ = _parts(n_objects=6, dim=40)
    composites = objects[pairs[:, 0]] + objects[pairs[:, 1]]
    ranks = additivity.composite_analogies(objects, composites, pairs)
    assert len(ranks) == len(pairs) * (6 - 2) * 2
    assert (ranks == 0).all()
    noise = np.random.default_rng(2).normal(size=composites.shape)
    assert np.mean(additivity.composite_analogies(objects, noise, pairs) == 0) < 0.3


def test_summarise_collects_every_statistic():
    _, pairs, a, b, ab = _parts()
    summary = additivity.summary_of_parts(a, b, ab, pairs, additivity.disjoint_pairs(pairs), n_boot=200, n_perm=200)
    assert summary.gain_raw == pytest.approx(summary.raw.gain.mean())
    assert summary.gain_centred_ci[0] < summary.gain_centred < summary.gain_centred_ci[1]
    assert 0 < summary.p_permutation <= 1 and 0 < summary.p_ttest <= 1


def test_stimulus_layouts_find_the_parts_of_every_item():
    pairs = additivity.object_pairs(3)  # (0, 1), (0, 2), (1, 2)
    left, right, composite = np.arange(3.0)[:, None], 10 + np.arange(3.0)[:, None], 100 + np.arange(3.0)[:, None]
    a, b, ab, objects = additivity.StimulusLayout("placed", pairs, 3).split(np.concatenate([left, right, composite]))
    assert a.ravel().tolist() == [10, 10, 11] and b.ravel().tolist() == [1, 2, 2]  # each part where it is not in the composite
    assert ab.ravel().tolist() == [100, 101, 102] and objects.ravel().tolist() == [5, 6, 7]
    a, b, ab, objects = additivity.StimulusLayout("phrases", pairs, 3).split(np.concatenate([left, composite]))
    assert (a.ravel().tolist(), b.ravel().tolist(), objects.ravel().tolist()) == ([0, 0, 1], [1, 2, 2], [0, 1, 2])
    triplets = additivity.StimulusLayout.triplets(2)
    a, b, ab, objects = triplets.split(np.arange(6.0)[:, None])
    assert (a.ravel().tolist(), b.ravel().tolist(), ab.ravel().tolist(), objects) == ([0, 3], [1, 4], [2, 5], None)
    with pytest.raises(ValueError, match="layout kind must be one of"):
        additivity.StimulusLayout("stacked", pairs, 3)


def test_summary_table_has_one_row_per_summary_and_refuses_unknown_columns():
    rng = np.random.default_rng(0)
    pairs = additivity.object_pairs(5)
    composites = additivity.StimulusLayout("placed", pairs, 5)
    x = rng.normal(size=(10 + len(pairs), 8))
    summary = additivity.summary_of_rows(x, composites, additivity.disjoint_pairs(pairs, 0), n_boot=50, n_perm=50)
    a, b, ab, _ = composites.split(x)
    assert summary.gain_raw == pytest.approx(additivity.summary_of_parts(a, b, ab, pairs, additivity.disjoint_pairs(pairs, 0), 50, 50).gain_raw)
    table = additivity.summary_table({("net", "l1"): summary, ("net", "l2"): summary}, columns=("gain", "p t-test"))
    assert table.columns.tolist() == ["network", "layer", "gain", "p t-test"] and len(table) == 2
    with pytest.raises(ValueError, match="columns must be among"):
        additivity.summary_table({("net", "l1"): summary}, columns=("gain", "effect"))


def test_mismatched_similarity_averages_the_composites_of_disjoint_pairs():
    pairs = additivity.object_pairs(5)
    matrix = np.random.default_rng(0).normal(size=(len(pairs), len(pairs)))
    plain = []
    for p, (i, j) in enumerate(pairs):
        others = [q for q, (k, l) in enumerate(pairs) if not {i, j} & {k, l}]
        plain.append(matrix[p, others].mean())
    assert np.allclose(additivity.mismatched_similarity(matrix, pairs), plain)
    # sums that equal their composites: the own similarity is 1 and the specific gain positive
    rng = make_generator(0, 1)
    objects = torch.randn(5, 16, generator=rng, dtype=torch.float64).numpy()
    a, b = objects[pairs[:, 0]], objects[pairs[:, 1]]
    scores = additivity.pair_scores(a, b, a + b, centred=True)
    specific = scores.sum_similarity - additivity.mismatched_similarity(scores.similarity_matrix, pairs)
    assert (specific > 0.5).all()
    assert np.array_equal(scores.specific_gain(pairs), specific)
    # with three objects every pair shares one with every other: no baseline
    assert np.isnan(additivity.mismatched_similarity(np.eye(3), additivity.object_pairs(3))).all()
