"""The intrusion test's rules and judges on inputs whose answers are known."""

from __future__ import annotations

import numpy as np
import pytest

from superposition.science import intrusion


def _clustered(n_clusters: int = 6, per_cluster: int = 30, dim: int = 12, seed: int = 0):
    """Word vectors in tight clusters, and a sparse code whose unit c fires on cluster c."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n_clusters, dim)) * 5
    labels = np.repeat(np.arange(n_clusters), per_cluster)
    vectors = centres[labels] + rng.normal(size=(len(labels), dim))
    sparse = np.zeros((len(labels), n_clusters))
    sparse[np.arange(len(labels)), labels] = rng.uniform(0.5, 1.0, size=len(labels))
    return vectors, sparse, labels


def test_orient_makes_the_heavy_tail_positive():
    x = np.stack([np.r_[np.zeros(99), 10.0], np.r_[np.zeros(99), -10.0]], axis=1)
    oriented = intrusion.orient(x)
    assert oriented.max(axis=0).tolist() == [10.0, 10.0]


def test_random_rotations_are_orthogonal_and_seeded():
    q = intrusion.random_rotation(7, seed=3)
    np.testing.assert_allclose(q @ q.T, np.eye(7), atol=1e-12)
    np.testing.assert_array_equal(q, intrusion.random_rotation(7, seed=3))
    assert not np.allclose(q, intrusion.random_rotation(7, seed=4))


def test_intruders_follow_the_rule_and_the_judge_finds_them_in_a_clustered_code():
    vectors, sparse, labels = _clustered()
    rank = np.arange(len(labels))
    sets = intrusion.intrusion_sets(sparse, rank, n_top=5, seed=1)
    assert len(sets.units) == sparse.shape[1] and sets.words.shape == (6, 6)
    for words, position, unit in zip(sets.words, sets.intruder_position, sets.units):
        intruder = words[position]
        top = np.delete(words, position)
        assert (labels[top] == unit).all(), "top words are the unit's most active"
        assert sparse[intruder, unit] <= np.median(sparse[:, unit]) and labels[intruder] != unit
    judged = intrusion.odd_one_out(vectors, sets.words)
    assert (judged == sets.intruder_position).all()
    # a basis that ignores the clusters gives the judge nothing to go on
    noise = np.random.default_rng(2).normal(size=sparse.shape)
    noise_sets = intrusion.intrusion_sets(noise, rank, seed=1)
    assert np.mean(intrusion.odd_one_out(vectors, noise_sets.words) == noise_sets.intruder_position) < 0.7


def test_intruders_are_matched_in_frequency_and_the_null_is_at_chance():
    vectors, sparse, labels = _clustered(n_clusters=20, per_cluster=40)
    rank = np.random.default_rng(0).permutation(len(labels))
    sets = intrusion.intrusion_sets(sparse, rank, n_top=5, n_matched=5, seed=0)
    spread = np.abs(np.log1p(rank[sets.words]) - np.log1p(rank[sets.words]).mean(axis=1, keepdims=True))
    intruder_spread = spread[np.arange(len(sets.units)), sets.intruder_position]
    assert intruder_spread.mean() < spread.mean() * 1.5
    null = intrusion.random_sets(len(labels), 3000, n_top=5, seed=0)
    assert len(set(map(tuple, null.words[:50]))) == 50 and all(len(set(w)) == 6 for w in null.words)
    chance = np.mean(intrusion.odd_one_out(vectors, null.words) == null.intruder_position)
    assert chance == pytest.approx(1 / 6, abs=0.03)
    frequency_pick = intrusion.frequency_odd_one_out(np.array([1, 2, 3, 1000]), np.array([[0, 1, 2, 3]]))
    assert frequency_pick.tolist() == [3]


def test_dense_bases_span_the_space():
    rng = np.random.default_rng(0)
    x = rng.laplace(size=(500, 6)) @ rng.normal(size=(6, 6))
    bases = intrusion.dense_bases(x, n_rotations=2, seed=0)
    assert {k: v.shape for k, v in bases.items()} == {"raw": (500, 6), "rotation": (500, 12), "pca": (500, 6), "ica": (500, 6)}
    for acts in bases.values():
        assert np.linalg.matrix_rank(acts) == 6


def test_bootstrap_and_permutation_gap_against_plain_versions():
    a = np.r_[np.ones(40), np.zeros(10)]
    b = np.r_[np.ones(20), np.zeros(30)]
    low, high = intrusion.bootstrap_mean(a, n_boot=4000, seed=0)
    assert low < 0.8 < high and high - low < 0.3
    p = intrusion.permutation_gap_test(a, b, n_perm=4000, seed=0)
    assert p < 0.01
    assert intrusion.permutation_gap_test(a, a.copy(), n_perm=500, seed=0) == 1.0
    # the batched null equals a loop over the same permutations
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=8), rng.normal(size=5) + 0.5
    import torch

    from superposition.runtime import make_generator

    perms = torch.argsort(torch.rand(300, 13, generator=make_generator(0, 95)), dim=1).numpy()
    pooled = np.r_[x, y]
    null = np.array([pooled[p][:8].mean() - pooled[p][8:].mean() for p in perms])
    expected = (1 + np.sum(np.abs(null) >= abs(x.mean() - y.mean()) - 1e-12)) / 301
    assert intrusion.permutation_gap_test(x, y, n_perm=300, seed=0) == pytest.approx(expected)


def test_repeated_draws_test_the_same_units_and_unit_accuracy_averages_them():
    vectors, sparse, labels = _clustered(n_clusters=8)
    rank = np.arange(len(labels))
    draws = intrusion.repeated_intrusion_sets(sparse, rank, n_top=5, n_draws=4, seed=3)
    assert len(draws) == 4 and all((d.units == draws[0].units).all() for d in draws)
    assert any((d.words != draws[0].words).any() for d in draws[1:]), "the intruders are redrawn"
    for d in draws:  # the top words do not depend on the draw
        tops = [set(np.delete(w, p)) for w, p in zip(d.words, d.intruder_position)]
        assert tops == [set(np.delete(w, p)) for w, p in zip(draws[0].words, draws[0].intruder_position)]
    plain = np.mean([intrusion.odd_one_out(vectors, d.words) == d.intruder_position for d in draws], axis=0)
    assert np.array_equal(intrusion.unit_accuracy(vectors, draws), plain)
    assert np.allclose(intrusion.unit_accuracy(vectors, draws), 1.0), "a clustered code is found in every draw"


def test_other_unit_null_mixes_top_words_and_falls_to_chance_on_a_clustered_code():
    vectors, sparse, labels = _clustered(n_clusters=8)
    rank = np.arange(len(labels))
    draws = intrusion.repeated_intrusion_sets(sparse, rank, n_top=5, n_draws=6, seed=0)
    nulls = [intrusion.other_unit_sets(d, seed=j) for j, d in enumerate(draws)]
    for d, n in zip(draws, nulls):
        assert (n.intruder_position == d.intruder_position).all() and (n.units == d.units).all()
        rows = np.arange(len(d.units))
        assert (n.words[rows, n.intruder_position] == d.words[rows, d.intruder_position]).all(), "the intruder is kept"
        for i, (words, position) in enumerate(zip(n.words, n.intruder_position)):
            donors = labels[np.delete(words, position)]
            assert len(set(donors)) == 5 and i not in set(donors), "each top word from a different other unit"
    # the judge found every intruder of the clustered code; without a unit's coherence it is near chance
    assert intrusion.unit_accuracy(vectors, nulls).mean() < 0.5
    assert intrusion.unit_accuracy(vectors, draws).mean() == 1.0
    few = intrusion.IntrusionSets(draws[0].words[:3], draws[0].intruder_position[:3], draws[0].units[:3])
    assert len(intrusion.other_unit_sets(few).units) == 0, "too few units for a null"
