"""An automated word-intrusion test of interpretability (Paper B, step 3).

For every unit of a basis (a direction in word-vector space, or an SAE latent), its ``n_top``
most active words plus one *intruder* form a set; a judge that never saw the basis picks the odd
one out. A basis whose units group related words lets the judge find the intruder.

The rules are the same for every family of units, so that signed dense units and nonnegative
sparse latents compete fairly:

- a unit's activations are oriented so that its heavier tail is positive (:func:`orient`; sparse
  nonnegative latents are unchanged), and its top words are its ``n_top`` largest activations;
- an intruder is *low* on the unit (at or below the unit's median activation) and *clearly
  active on another* unit of the same family (in that unit's top ``active_share``), and it is
  matched in frequency to a random one of the top words (drawn among the ``n_matched``
  candidates closest in log frequency rank), so that frequency alone does not give it away;
- the judges: :func:`odd_one_out` (the word least similar on average to the others, in an
  embedding the basis was not built from) and :func:`frequency_odd_one_out` (the word farthest
  from the set's median log frequency rank: what frequency alone achieves).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from scipy import stats

from ..metrics.intervals import bootstrap_draws, percentile_bounds
from ..runtime import make_generator


def orient(acts: np.ndarray) -> np.ndarray:
    """Each column's sign chosen so that its skewness is nonnegative (its heavier tail positive).

    Parameters
    ----------
    acts : (n_words, n_units) numpy.ndarray
        Unit activations.

    Returns
    -------
    (n_words, n_units) numpy.ndarray
        Oriented activations.
    """
    skew = stats.skew(acts, axis=0)
    return acts * np.where(skew < 0, -1.0, 1.0)[None, :]


def random_rotation(dim: int, seed: int) -> np.ndarray:
    """Orthogonal matrix, Haar-distributed (QR of a Gaussian with sign correction).

    Parameters
    ----------
    dim : int
        Dimension.
    seed : int
        Seed of the draw.

    Returns
    -------
    (dim, dim) numpy.ndarray
        The rotation.
    """
    g = make_generator(seed, 91)
    q, r = torch.linalg.qr(torch.randn(dim, dim, generator=g, dtype=torch.float64))
    return (q * torch.sign(torch.diagonal(r))[None, :]).numpy()


@dataclass(frozen=True)
class IntrusionSets:
    """Intrusion sets, one per tested unit.

    Attributes
    ----------
    words : (n_units, n_top + 1) numpy.ndarray
        Word indices of each set, the intruder among them.
    intruder_position : (n_units,) numpy.ndarray
        Position of the intruder in each set.
    units : (n_units,) numpy.ndarray
        The unit each set tests (units without enough active words or without a valid intruder are
        left out).
    """

    words: np.ndarray
    intruder_position: np.ndarray
    units: np.ndarray


def intrusion_sets(
    acts: np.ndarray,
    frequency_rank: np.ndarray | None,
    n_top: int = 5,
    active_share: float = 0.1,
    n_matched: int = 20,
    seed: int = 0,
) -> IntrusionSets:
    """One intrusion set per testable unit of ``acts``, oriented.

    A unit is testable when at least ``n_top`` words are strictly positive on it.

    Parameters
    ----------
    acts : (n_words, n_units) numpy.ndarray
        Unit activations (already oriented).
    frequency_rank : (n_words,) numpy.ndarray or None
        Each word's rank in corpus frequency (0: most frequent), or None for items without a
        frequency (images): the intruder is then drawn among all candidates.
    n_top : int
        Top words per set.
    active_share : float
        An intruder must be in another unit's top ``active_share`` of activations.
    n_matched : int
        Candidates closest in log frequency rank among which the intruder is drawn.
    seed : int
        Seed of the draws.

    Returns
    -------
    IntrusionSets
        The sets.
    """
    acts = np.asarray(acts, dtype=np.float64)
    n_words, n_units = acts.shape
    rng = np.random.default_rng(np.random.SeedSequence([seed, 92]))
    top_cut = np.quantile(acts, 1 - active_share, axis=0)  # (n_units,)
    clearly_active = acts >= top_cut[None, :]
    clearly_active &= acts > 0
    n_active_units = clearly_active.sum(axis=1)  # per word
    median = np.median(acts, axis=0)
    log_rank = None if frequency_rank is None else np.log1p(np.asarray(frequency_rank, dtype=np.float64))
    sets, positions, units = [], [], []
    for u in range(n_units):
        order = np.argsort(-acts[:, u], kind="stable")
        top = order[:n_top]
        if (acts[top, u] <= 0).any():
            continue
        active_elsewhere = n_active_units - clearly_active[:, u]
        candidates = np.flatnonzero((acts[:, u] <= median[u]) & (active_elsewhere > 0))
        candidates = np.setdiff1d(candidates, top)
        if len(candidates) == 0:
            continue
        if log_rank is not None:
            anchor = log_rank[rng.choice(top)]
            candidates = candidates[np.argsort(np.abs(log_rank[candidates] - anchor), kind="stable")[:n_matched]]
        intruder = rng.choice(candidates)
        position = int(rng.integers(n_top + 1))
        words = np.insert(top, position, intruder)
        sets.append(words), positions.append(position), units.append(u)
    if not sets:
        return IntrusionSets(np.empty((0, n_top + 1), dtype=np.int64), np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64))
    return IntrusionSets(np.array(sets, dtype=np.int64), np.array(positions), np.array(units))


def repeated_intrusion_sets(
    acts: np.ndarray, frequency_rank: np.ndarray | None, n_top: int = 5, n_draws: int = 10, seed: int = 0
) -> list[IntrusionSets]:
    """``n_draws`` independent intruder draws for every testable unit (:func:`intrusion_sets` with seeds ``seed + draw``).

    The top words and the testable units do not depend on the draw; only the intruder and its
    position do, so every draw tests the same units in the same order.

    Parameters
    ----------
    acts : (n_words, n_units) numpy.ndarray
        Unit activations (already oriented).
    frequency_rank : (n_words,) numpy.ndarray or None
        Each word's frequency rank, or None for items without a frequency.
    n_top : int
        Top words per set.
    n_draws : int
        Intruder draws per unit.
    seed : int
        Seed of the first draw.

    Returns
    -------
    list of IntrusionSets
        One per draw, each with the same ``units``.
    """
    return [intrusion_sets(acts, frequency_rank, n_top, seed=seed + draw) for draw in range(n_draws)]


def other_unit_sets(sets: IntrusionSets, seed: int = 0) -> IntrusionSets:
    """The other-units null: each unit's top words replaced by top words of other units.

    Set ``i`` keeps its intruder and the intruder's position; each of its ``n_top`` other places
    takes a random top word from a different, randomly chosen other unit. The words keep the
    distribution of top words, but no unit's coherence: a judge that finds the intruder here
    does so from something other than what a unit's top words share.

    Parameters
    ----------
    sets : IntrusionSets
        The sets of one basis (at least ``n_top + 1`` units).
    seed : int
        Seed of the draws.

    Returns
    -------
    IntrusionSets
        Same units, intruders and positions; mixed top words. Empty when there are too few units.
    """
    n_units, size = sets.words.shape
    n_top = size - 1
    if n_units < n_top + 1:
        return IntrusionSets(np.empty((0, size), dtype=np.int64), np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64))
    rng = np.random.default_rng(np.random.SeedSequence([seed, 96]))
    top_words = np.stack([np.delete(row, p) for row, p in zip(sets.words, sets.intruder_position)])  # (n_units, n_top)
    words = sets.words.copy()
    for i in range(n_units):
        donors = rng.choice(np.delete(np.arange(n_units), i), size=n_top, replace=False)
        mixed = top_words[donors, rng.integers(n_top, size=n_top)]
        words[i] = np.insert(mixed, sets.intruder_position[i], sets.words[i, sets.intruder_position[i]])
    return IntrusionSets(words, sets.intruder_position.copy(), sets.units.copy())


def unit_accuracy(embeddings: np.ndarray, draws: list[IntrusionSets]) -> np.ndarray:
    """Each unit's share of draws in which the odd-one-out judge finds the intruder.

    Parameters
    ----------
    embeddings : (n_words, dim) numpy.ndarray
        The judge's embedding of every word.
    draws : list of IntrusionSets
        Draws over the same units (:func:`repeated_intrusion_sets`).

    Returns
    -------
    (n_units,) numpy.ndarray
        Accuracy per unit, in steps of ``1 / len(draws)``.
    """
    correct = [odd_one_out(embeddings, s.words) == s.intruder_position for s in draws]
    return np.mean(correct, axis=0)


def random_sets(n_words: int, n_sets: int, n_top: int = 5, seed: int = 0) -> IntrusionSets:
    """The null control: sets of distinct random words, one of them called the intruder at random.

    A judge should be at chance, 1 / (n_top + 1).

    Parameters
    ----------
    n_words : int
        Vocabulary size.
    n_sets : int
        Number of sets.
    n_top : int
        Each set has ``n_top + 1`` words.
    seed : int
        Seed of the draws.

    Returns
    -------
    IntrusionSets
        ``n_sets`` sets.
    """
    rng = np.random.default_rng(np.random.SeedSequence([seed, 93]))
    words = np.array([rng.choice(n_words, n_top + 1, replace=False) for _ in range(n_sets)], dtype=np.int64)
    return IntrusionSets(words, rng.integers(n_top + 1, size=n_sets), np.arange(n_sets))


def dense_bases(x: np.ndarray, n_rotations: int = 4, seed: int = 0) -> dict[str, np.ndarray]:
    """Dense bases of the space of ``x``, centred first, as unit activations.

    ``"raw"`` (the coordinates), ``"rotation"`` (``n_rotations`` random rotations side by side: they
    carry no basis preference), ``"pca"`` (principal axes) and ``"ica"`` (FastICA with unit-variance
    whitening: a complete sparse-coding baseline). Each column is :func:`orient`-ed.

    Parameters
    ----------
    x : (n_items, dim) numpy.ndarray
        Item vectors.
    n_rotations : int
        Number of random rotations.
    seed : int
        Seed of the rotations, PCA and ICA.

    Returns
    -------
    dict of str to (n_items, n_units) numpy.ndarray
        Activations per basis.
    """
    from sklearn.decomposition import PCA, FastICA

    xc = np.asarray(x, dtype=np.float64)
    xc = xc - xc.mean(axis=0)
    dim = xc.shape[1]
    bases = {
        "raw": xc,
        "rotation": np.concatenate([xc @ random_rotation(dim, seed + r) for r in range(n_rotations)], axis=1),
        "pca": PCA(dim, random_state=seed).fit_transform(xc),
        "ica": FastICA(dim, whiten="unit-variance", random_state=seed, max_iter=1000).fit_transform(xc),
    }
    return {name: orient(acts) for name, acts in bases.items()}


def odd_one_out(embeddings: np.ndarray, sets: np.ndarray) -> np.ndarray:
    """The judge: per set, the word with the lowest mean cosine similarity to the others.

    Parameters
    ----------
    embeddings : (n_words, dim) numpy.ndarray
        Embedding the basis was not built from.
    sets : (n_sets, set_size) numpy.ndarray
        Word indices into ``embeddings``.

    Returns
    -------
    (n_sets,) numpy.ndarray
        Position of the chosen word in each set.
    """
    e = torch.as_tensor(np.asarray(embeddings), dtype=torch.float64)
    e = torch.nn.functional.normalize(e, dim=1)[torch.as_tensor(sets)]  # (n_sets, size, dim)
    sim = e @ e.transpose(1, 2)
    mean_to_others = (sim.sum(dim=2) - sim.diagonal(dim1=1, dim2=2)) / (sets.shape[1] - 1)
    return mean_to_others.argmin(dim=1).numpy()


def frequency_odd_one_out(frequency_rank: np.ndarray, sets: np.ndarray) -> np.ndarray:
    """The frequency-only judge: per set, the word whose log frequency rank is farthest from the set's median.

    Parameters
    ----------
    frequency_rank : (n_words,) numpy.ndarray
        Each word's rank in corpus frequency.
    sets : (n_sets, set_size) numpy.ndarray
        Word indices.

    Returns
    -------
    (n_sets,) numpy.ndarray
        Position of the chosen word in each set.
    """
    log_rank = np.log1p(np.asarray(frequency_rank, dtype=np.float64))[sets]
    return np.abs(log_rank - np.median(log_rank, axis=1, keepdims=True)).argmax(axis=1)


def bootstrap_mean(values: np.ndarray, n_boot: int = 2000, seed: int = 0, level: float = 0.95) -> tuple[float, float]:
    """Percentile interval of the mean of ``values`` resampled with replacement.

    Parameters
    ----------
    values : (n,) numpy.ndarray
        Values.
    n_boot : int
        Bootstrap resamples.
    seed : int
        Seed of the resamples.
    level : float
        Coverage of the interval.

    Returns
    -------
    low, high : float
        Bounds of the interval.
    """
    values = np.asarray(values, dtype=np.float64)
    means = bootstrap_draws(len(values), lambda idx: values[idx].mean(axis=1), n_boot, seed, stream=94)
    return percentile_bounds(means, level)


def permutation_gap_test(first: np.ndarray, second: np.ndarray, n_perm: int = 10_000, seed: int = 0) -> float:
    """Two-sided p-value that mean(first) − mean(second) is this large by chance.

    Permutes which group each unit's score belongs to (all permutations batched).

    Parameters
    ----------
    first : (n_first,) numpy.ndarray
        Scores of the first group.
    second : (n_second,) numpy.ndarray
        Scores of the second group.
    n_perm : int
        Number of permutations.
    seed : int
        Seed of the permutations.

    Returns
    -------
    float
        The p-value, ``(1 + n_extreme) / (1 + n_perm)``.
    """
    a, b = np.asarray(first, dtype=np.float64), np.asarray(second, dtype=np.float64)
    pooled = torch.as_tensor(np.concatenate([a, b]))
    g = make_generator(seed, 95)
    perms = torch.argsort(torch.rand(n_perm, len(pooled), generator=g), dim=1)
    shuffled = pooled[perms]
    null = shuffled[:, : len(a)].mean(dim=1) - shuffled[:, len(a) :].mean(dim=1)
    observed = a.mean() - b.mean()
    return float((1 + (null.abs() >= abs(observed) - 1e-12).sum().item()) / (1 + n_perm))
