"""Do representations add? Statistics for Paper B's Fig. 1 test, built so that it can fail.

The design: ``n_objects`` objects, every unordered pair (i, j) with i < j shown as a composite
"A and B", and each object shown alone. For pair p = (i, j) the three representations are
``a[p] = f(i alone)``, ``b[p] = f(j alone)`` and ``ab[p] = f(i and j)``.

- :func:`pair_scores`: per pair, cs(a + b, ab), the calibrated baseline cs(a, b), their
  difference (the *gain*), and the rank of the pair's own composite among all composites when
  a + b is used to look it up. With ``centred=True`` every representation first loses the mean
  representation of the whole stimulus set, which removes the shared offset that makes any two
  pooled representations similar (and sums of them nearly "additive") even in an untrained
  network; the test is then f(AB) − μ ≈ (f(A) − μ) + (f(B) − μ).
- :func:`object_bootstrap`: intervals that respect that pairs sharing an object are dependent
  (objects are resampled, a pair is weighted by the product of its objects' counts).
- :func:`object_permutation_test`: is a composite closer to its own sum than to the sums of
  pairs of other objects? Object labels of the composites are permuted.
- :func:`disjoint_pairs` + :func:`paired_tests`: the paired t-test and Wilcoxon signed-rank
  test on pairs that share no object (independent samples).
- :func:`composite_analogies`: "i and j" − i + k retrieves "k and j"?
- :class:`StimulusLayout`: where the parts and composites of each item sit among a representation's
  rows; :func:`summary_of_rows` summarises one representation laid out so, :func:`summary_table`
  many of them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from scipy import stats

from ..metrics.intervals import Estimate, percentile_bounds, percentile_estimate
from ..runtime import make_generator


def object_pairs(n_objects: int) -> np.ndarray:
    """Every pair (i, j), i < j, in row-major order.

    Parameters
    ----------
    n_objects : int
        Number of objects (at least 2).

    Returns
    -------
    (n_objects (n_objects − 1) / 2, 2) numpy.ndarray
        Object ids of each pair, int64.
    """
    if n_objects < 2:
        raise ValueError(f"n_objects must be at least 2; got {n_objects}")
    i, j = np.triu_indices(n_objects, k=1)
    return np.stack([i, j], axis=1).astype(np.int64)


def _unit(x: torch.Tensor) -> torch.Tensor:
    return torch.nn.functional.normalize(x, dim=-1, eps=1e-12)


@dataclass(frozen=True)
class PairScores:
    """Per-pair statistics.

    Attributes
    ----------
    sum_similarity : (n_pairs,) numpy.ndarray
        cs(a + b, ab).
    baseline : (n_pairs,) numpy.ndarray
        cs(a, b).
    rank : (n_pairs,) numpy.ndarray
        Rank of the pair's composite among all composites by cs to a + b (0: first).
    similarity_matrix : (n_pairs, n_pairs) numpy.ndarray
        cs(a[p] + b[p], ab[q]).
    """

    sum_similarity: np.ndarray  # cs(a + b, ab)
    baseline: np.ndarray  # cs(a, b)
    rank: np.ndarray  # rank of the pair's composite among all composites by cs to a + b (0: first)
    similarity_matrix: np.ndarray  # (n_pairs, n_pairs): cs(a[p] + b[p], ab[q])

    @property
    def gain(self) -> np.ndarray:
        """``sum_similarity - baseline`` per pair: ``(n_pairs,)``."""
        return self.sum_similarity - self.baseline

    @property
    def top1(self) -> float:
        """Fraction of pairs whose own composite ranks first."""
        return float(np.mean(self.rank == 0))

    def specific_gain(self, pairs: np.ndarray) -> np.ndarray:
        """Similarity to the own composite minus the mismatched-composite baseline (:func:`mismatched_similarity`).

        Parameters
        ----------
        pairs : (n_pairs, 2) numpy.ndarray
            Object ids of each pair.

        Returns
        -------
        (n_pairs,) numpy.ndarray
            ``sum_similarity - mismatched_similarity(similarity_matrix, pairs)``.
        """
        return self.sum_similarity - mismatched_similarity(self.similarity_matrix, pairs)


def pair_scores(a: np.ndarray, b: np.ndarray, ab: np.ndarray, centred: bool = False) -> PairScores:
    """Additivity statistics of ``a``, ``b``, ``ab``, row p for pair p.

    Parameters
    ----------
    a : (n_pairs, dim) numpy.ndarray
        Representation of the first object of each pair alone.
    b : (n_pairs, dim) numpy.ndarray
        Representation of the second object alone.
    ab : (n_pairs, dim) numpy.ndarray
        Representation of the composite.
    centred : bool
        Subtract from every row the mean over all rows of a, b and ab (the stimulus set's mean
        representation) before comparing.

    Returns
    -------
    PairScores
        The statistics.
    """
    a_t, b_t, ab_t = (torch.as_tensor(np.asarray(x), dtype=torch.float64) for x in (a, b, ab))
    if not a_t.shape == b_t.shape == ab_t.shape or a_t.ndim != 2:
        raise ValueError(f"a, b and ab must share one shape (n_pairs, dim); got {tuple(a_t.shape)}, {tuple(b_t.shape)}, {tuple(ab_t.shape)}")
    if centred:
        mean = torch.cat([a_t, b_t, ab_t]).mean(dim=0)
        a_t, b_t, ab_t = a_t - mean, b_t - mean, ab_t - mean
    sums, comps = _unit(a_t + b_t), _unit(ab_t)
    matrix = sums @ comps.T
    own = matrix.diagonal()
    rank = (matrix > own[:, None]).sum(dim=1)
    baseline = (_unit(a_t) * _unit(b_t)).sum(dim=1)
    return PairScores(own.numpy().copy(), baseline.numpy(), rank.numpy(), matrix.numpy())


def mismatched_similarity(similarity_matrix: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    """The mismatched-composite baseline: per pair, the mean similarity of its sum to composites of other objects.

    For pair ``p`` with objects ``(i, j)``, the mean of ``cs(a[p] + b[p], ab[q])`` over the pairs ``q``
    that share no object with ``p``. A sum that is close to its own composite only because every
    composite is alike scores as high here as on its own composite.

    Parameters
    ----------
    similarity_matrix : (n_pairs, n_pairs) numpy.ndarray
        ``cs(a[p] + b[p], ab[q])`` (:attr:`PairScores.similarity_matrix`).
    pairs : (n_pairs, 2) numpy.ndarray
        Object ids of each pair.

    Returns
    -------
    (n_pairs,) numpy.ndarray
        The mean similarity to the disjoint pairs' composites (NaN for a pair that every other pair touches).
    """
    pairs = np.asarray(pairs)
    shares = (pairs[:, None, :, None] == pairs[None, :, None, :]).any(axis=(2, 3))  # (n_pairs, n_pairs), True on the diagonal
    disjoint = ~shares
    counts = disjoint.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, (np.asarray(similarity_matrix) * disjoint).sum(axis=1) / counts, np.nan)


def object_bootstrap_means(values: np.ndarray, pairs: np.ndarray, n_boot: int = 2000, seed: int = 0) -> np.ndarray:
    """Bootstrap distribution of the mean of ``values`` over pairs, resampling objects.

    Each draw samples the objects with replacement; pair (i, j) then counts c_i · c_j times (c: how
    often each object was drawn), exactly as if the pairs of the resampled objects were listed. A row
    (t, t) stands for a stimulus of its own (a user-supplied triplet) and counts c_t times: the plain
    bootstrap over stimuli. Draws where no pair survives are dropped.

    Parameters
    ----------
    values : (n_pairs,) or (n_stats, n_pairs) numpy.ndarray
        Per-pair values.
    pairs : (n_pairs, 2) numpy.ndarray
        Object ids of each pair.
    n_boot : int
        Bootstrap draws.
    seed : int
        Seed of the draws.

    Returns
    -------
    (n_boot,) or (n_stats, n_boot) numpy.ndarray
        Bootstrap means (fewer than ``n_boot`` when draws were dropped).
    """
    v = np.atleast_2d(np.asarray(values, dtype=np.float64))
    pairs = np.asarray(pairs, dtype=np.int64)
    n_objects = int(pairs.max()) + 1
    g = make_generator(seed, 71)
    draws = torch.randint(0, n_objects, (n_boot, n_objects), generator=g)
    counts = torch.zeros(n_boot, n_objects, dtype=torch.float64).scatter_add_(1, draws, torch.ones_like(draws, dtype=torch.float64))
    same = torch.as_tensor(pairs[:, 0] == pairs[:, 1])
    weights = torch.where(same, counts[:, pairs[:, 0]], counts[:, pairs[:, 0]] * counts[:, pairs[:, 1]])  # (n_boot, n_pairs)
    total = weights.sum(dim=1)
    keep = total > 0
    means = (torch.as_tensor(v) @ weights[keep].T) / total[keep]
    out = means.numpy()
    return out[0] if np.ndim(values) == 1 else out


def object_bootstrap(values: np.ndarray, pairs: np.ndarray, n_boot: int = 2000, seed: int = 0, level: float = 0.95) -> tuple[float, float]:
    """Percentile interval of the mean of ``values`` from :func:`object_bootstrap_means`.

    Parameters
    ----------
    values : (n_pairs,) numpy.ndarray
        Per-pair values.
    pairs : (n_pairs, 2) numpy.ndarray
        Object ids of each pair.
    n_boot : int
        Bootstrap draws.
    seed : int
        Seed of the draws.
    level : float
        Coverage of the interval.

    Returns
    -------
    low, high : float
        Bounds of the interval.
    """
    return percentile_bounds(object_bootstrap_means(values, pairs, n_boot, seed), level)


def object_bootstrap_estimate(values: np.ndarray, pairs: np.ndarray, over: str, n_boot: int = 2000, seed: int = 0) -> Estimate:
    """The mean of per-pair ``values`` with its 95 % object-bootstrap interval (:func:`object_bootstrap_means`).

    Parameters
    ----------
    values : (n_pairs,) numpy.ndarray
        Per-pair values (a gain, a retrieval hit, a difference of two).
    pairs : (n_pairs, 2) numpy.ndarray
        Object ids of each pair.
    over : str
        What was resampled, e.g. ``"12 objects, bootstrap"``.
    n_boot : int
        Bootstrap draws.
    seed : int
        Seed of the draws.

    Returns
    -------
    Estimate
        The mean over pairs with its percentile interval; ``n`` is the number of objects.
    """
    pairs = np.asarray(pairs, dtype=np.int64)
    draws = object_bootstrap_means(values, pairs, n_boot, seed)
    return percentile_estimate(float(np.mean(values)), draws, int(pairs.max()) + 1, over)


def _pair_index(pairs: np.ndarray, n_objects: int) -> np.ndarray:
    """(n_objects, n_objects) int64: the row of pair {i, j} in ``pairs`` at [i, j] and [j, i]; −1
    where the pair is absent."""
    lookup = np.full((n_objects, n_objects), -1, dtype=np.int64)
    lookup[pairs[:, 0], pairs[:, 1]] = np.arange(len(pairs))
    lookup[pairs[:, 1], pairs[:, 0]] = np.arange(len(pairs))
    return lookup


def _relabelled_pairs(pairs: np.ndarray, permutations: np.ndarray) -> np.ndarray:
    """(n_perm, n_pairs): index of pair (π(i), π(j)) for every permutation π (rows of
    ``permutations``, (n_perm, n_objects)) and pair (i, j)."""
    lookup = _pair_index(pairs, permutations.shape[1])
    mapped = lookup[permutations[:, pairs[:, 0]], permutations[:, pairs[:, 1]]]
    if (mapped < 0).any():
        raise ValueError("the pairs must contain every pair of the objects for the permutation test")
    return mapped


def object_permutation_test(similarity_matrix: np.ndarray, pairs: np.ndarray, n_perm: int = 10_000, seed: int = 0) -> float:
    """One-sided p-value that composites are closer to their own sums than chance allows.

    Statistic: the mean of the diagonal. Null: the composites' object labels are exchangeable, so
    pair p is compared with the composite of (π(i), π(j)) for a random permutation π of the objects
    (which keeps the dependence between pairs that share an object).

    Parameters
    ----------
    similarity_matrix : (n_pairs, n_pairs) numpy.ndarray
        Entry [p, q] = cs(sum of pair p, composite q).
    pairs : (n_pairs, 2) numpy.ndarray
        Object ids of each pair; must contain every pair of the objects.
    n_perm : int
        Number of permutations.
    seed : int
        Seed of the permutations.

    Returns
    -------
    float
        The p-value.
    """
    s = np.asarray(similarity_matrix, dtype=np.float64)
    pairs = np.asarray(pairs, dtype=np.int64)
    n_objects = int(pairs.max()) + 1
    g = make_generator(seed, 72)
    perms = torch.argsort(torch.rand(n_perm, n_objects, generator=g), dim=1).numpy()
    mapped = _relabelled_pairs(pairs, perms)
    null = s[np.arange(len(pairs))[None, :], mapped].mean(axis=1)
    observed = float(np.mean(np.diag(s)))
    return float((1 + np.sum(null >= observed - 1e-12)) / (1 + n_perm))


def disjoint_pairs(pairs: np.ndarray, seed: int = 0) -> np.ndarray:
    """Indices of a random set of pairs no two of which share an object.

    A perfect matching of the objects when every pair is present: floor(n_objects / 2) pairs.

    Parameters
    ----------
    pairs : (n_pairs, 2) numpy.ndarray
        Object ids of each pair; must contain every pair of the objects.
    seed : int
        Seed of the matching.

    Returns
    -------
    (floor(n_objects / 2),) numpy.ndarray
        Row indices into ``pairs``.
    """
    pairs = np.asarray(pairs, dtype=np.int64)
    n_objects = int(pairs.max()) + 1
    order = torch.randperm(n_objects, generator=make_generator(seed, 73)).numpy()
    chosen = _pair_index(pairs, n_objects)[order[0 : n_objects - 1 : 2], order[1:n_objects:2]]
    if (chosen < 0).any():
        raise ValueError("the pairs must contain every pair of the objects to draw disjoint pairs")
    return chosen


def paired_tests(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Two-sided p-values of the paired t-test and the Wilcoxon signed-rank test.

    Wilcoxon is exact for small samples; with n pairs it cannot go below 2 / 2**n.

    Parameters
    ----------
    x : (n,) numpy.ndarray
        First sample.
    y : (n,) numpy.ndarray
        Second sample, paired with ``x``.

    Returns
    -------
    p_ttest, p_wilcoxon : float
        The p-values (Wilcoxon 1 when ``x == y``).
    """
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    t_p = float(stats.ttest_rel(x, y).pvalue)
    w_p = float(stats.wilcoxon(x, y, alternative="two-sided").pvalue) if np.any(x != y) else 1.0
    return t_p, w_p


def composite_analogies(objects: np.ndarray, ab: np.ndarray, pairs: np.ndarray, centred: bool = True) -> np.ndarray:
    """Analogy arithmetic on composites: does f("i and j") − f(i) + f(k) retrieve "k and j"?

    Every pair and every object k outside it, replacing either member, is one query; the candidates
    are all composites except the source.

    Parameters
    ----------
    objects : (n_objects, dim) numpy.ndarray
        A representation of each object alone.
    ab : (n_pairs, dim) numpy.ndarray
        Composites.
    pairs : (n_pairs, 2) numpy.ndarray
        Object ids of each composite.
    centred : bool
        Subtract the mean over objects and composites first.

    Returns
    -------
    (n_queries,) numpy.ndarray
        Rank of the target of each query (0: retrieved first).
    """
    o = torch.as_tensor(np.asarray(objects), dtype=torch.float64)
    c = torch.as_tensor(np.asarray(ab), dtype=torch.float64)
    pairs = np.asarray(pairs, dtype=np.int64)
    if centred:
        mean = torch.cat([o, c]).mean(dim=0)
        o, c = o - mean, c - mean
    n_objects = o.shape[0]
    lookup = _pair_index(pairs, n_objects)
    source, removed, added, target = [], [], [], []
    for p, (i, j) in enumerate(pairs.tolist()):
        for k in range(n_objects):
            if k in (i, j):
                continue
            for out, keep in ((i, j), (j, i)):
                source.append(p), removed.append(out), added.append(k), target.append(lookup[k, keep])
    source_t, target_t = torch.as_tensor(source), torch.as_tensor(target)
    queries = _unit(c[source_t] - o[torch.as_tensor(removed)] + o[torch.as_tensor(added)])
    scores = queries @ _unit(c).T
    scores[torch.arange(len(source)), source_t] = -torch.inf
    own = scores[torch.arange(len(source)), target_t]
    return (scores > own[:, None]).sum(dim=1).numpy()


@dataclass(frozen=True)
class AdditivitySummary:
    """Every statistic of one representation space.

    Means over pairs; intervals by :func:`object_bootstrap`; p-values of the gain from
    :func:`paired_tests` on disjoint pairs; ``p_permutation`` from :func:`object_permutation_test` on
    the centred similarities.

    Attributes
    ----------
    raw : PairScores
        Scores of the raw representations.
    centred : PairScores
        Scores after subtracting the mean representation.
    gain_raw_ci, gain_centred_ci : (2,) tuple of float
        Bootstrap intervals of the mean raw and centred gain.
    p_ttest, p_wilcoxon : float
        p-values of the raw gain on disjoint pairs.
    p_permutation : float
        p-value of the object permutation test.
    """

    raw: PairScores
    centred: PairScores
    gain_raw_ci: tuple[float, float]
    gain_centred_ci: tuple[float, float]
    p_ttest: float
    p_wilcoxon: float
    p_permutation: float

    @property
    def gain_raw(self) -> float:
        """Mean gain over pairs, raw representations."""
        return float(self.raw.gain.mean())

    @property
    def gain_centred(self) -> float:
        """Mean gain over pairs, centred representations."""
        return float(self.centred.gain.mean())


def summary_of_parts(a: np.ndarray, b: np.ndarray, ab: np.ndarray, pairs: np.ndarray, independent: np.ndarray, n_boot: int = 2000, n_perm: int = 10_000, seed: int = 0) -> AdditivitySummary:
    """:class:`AdditivitySummary` of ``a``, ``b``, ``ab``.

    Parameters
    ----------
    a, b, ab : (n_pairs, dim) numpy.ndarray
        The parts and composites, as in :func:`pair_scores`.
    pairs : (n_pairs, 2) numpy.ndarray
        Object ids of each pair.
    independent : (n_independent,) numpy.ndarray
        Indices of pairs that share no object (for the paired tests).
    n_boot : int
        Bootstrap draws.
    n_perm : int
        Permutations.
    seed : int
        Seed of both.

    Returns
    -------
    AdditivitySummary
        Every statistic.
    """
    raw, centred = pair_scores(a, b, ab), pair_scores(a, b, ab, centred=True)
    p_t, p_w = paired_tests(raw.sum_similarity[independent], raw.baseline[independent])
    return AdditivitySummary(
        raw=raw,
        centred=centred,
        gain_raw_ci=object_bootstrap(raw.gain, pairs, n_boot, seed),
        gain_centred_ci=object_bootstrap(centred.gain, pairs, n_boot, seed),
        p_ttest=p_t,
        p_wilcoxon=p_w,
        p_permutation=object_permutation_test(centred.similarity_matrix, pairs, n_perm, seed),
    )


LAYOUTS = ("placed", "triplets", "phrases")


@dataclass(frozen=True)
class StimulusLayout:
    """Where the parts and the composite of every test item sit among the rows of a representation.

    ``kind`` is one of :data:`LAYOUTS`:

    ``"placed"``
        rows are the ``n_objects`` objects alone on the left, the same alone on the right, then
        one composite per pair ``(i, j)`` of ``pairs`` (i on the left, j on the right). The parts
        are shown where they are *not* in the composite (a = i on the right, b = j on the left);
        an object's representation is the mean of its two placements.
    ``"triplets"``
        rows are a, b and ab of each item in turn (``pairs`` is ``(p, p)`` for item ``p``); no
        object representations.
    ``"phrases"``
        rows are the ``n_objects`` single phrases, then one composite per pair.

    Attributes
    ----------
    kind : str
        One of :data:`LAYOUTS`.
    pairs : (n_pairs, 2) numpy.ndarray
        Object ids of each item.
    n_objects : int
        Number of objects (0 for triplets).
    """

    kind: str
    pairs: np.ndarray
    n_objects: int

    def __post_init__(self) -> None:
        if self.kind not in LAYOUTS:
            raise ValueError(f"layout kind must be one of {LAYOUTS}, got {self.kind!r}")

    @classmethod
    def triplets(cls, n_items: int) -> StimulusLayout:
        """``n_items`` user triplets, each its own unit.

        Parameters
        ----------
        n_items : int
            Number of triplets.

        Returns
        -------
        StimulusLayout
            A ``"triplets"`` layout.
        """
        return cls("triplets", np.stack([np.arange(n_items), np.arange(n_items)], axis=1), 0)

    def split(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
        """The parts, composites and object representations of ``x``.

        Parameters
        ----------
        x : (n_rows, dim) numpy.ndarray
            A representation laid out as this layout.

        Returns
        -------
        a, b, ab : (n_pairs, dim) numpy.ndarray
            Parts and composites.
        objects : (n_objects, dim) numpy.ndarray or None
            Object representations (None for triplets).
        """
        if self.kind == "triplets":
            t = x.reshape(len(self.pairs), 3, -1)
            return t[:, 0], t[:, 1], t[:, 2], None
        n = self.n_objects
        if self.kind == "phrases":
            singles, composites = x[:n], x[n:]
            return singles[self.pairs[:, 0]], singles[self.pairs[:, 1]], composites, singles
        left, right, composites = x[:n], x[n : 2 * n], x[2 * n :]
        return right[self.pairs[:, 0]], left[self.pairs[:, 1]], composites, (left + right) / 2


def summary_of_rows(x: np.ndarray, layout: StimulusLayout, independent: np.ndarray, n_boot: int = 2000, n_perm: int = 10_000, seed: int = 0) -> AdditivitySummary:
    """:func:`summary_of_parts` of one representation ``x`` laid out as ``layout`` (in float64).

    Parameters
    ----------
    x : (n_rows, dim) numpy.ndarray
        The representation.
    layout : StimulusLayout
        Where parts and composites sit among the rows.
    independent : (n_independent,) numpy.ndarray
        Indices of pairs that share no object.
    n_boot : int
        Bootstrap draws.
    n_perm : int
        Permutations.
    seed : int
        Seed of both.

    Returns
    -------
    AdditivitySummary
        Every statistic.
    """
    a, b, ab, _ = layout.split(np.asarray(x, dtype=np.float64))
    return summary_of_parts(a, b, ab, layout.pairs, independent, n_boot, n_perm, seed)


SUMMARY_COLUMNS = ("sum sim", "baseline", "gain", "gain (centred)", "centred CI", "top-1", "p t-test", "p Wilcoxon", "p permutation")


def summary_table(summaries: Mapping[tuple[str, str], AdditivitySummary], names: tuple[str, str] = ("network", "layer"), columns: Sequence[str] = SUMMARY_COLUMNS) -> pd.DataFrame:
    """One row per summary with ``columns`` of :data:`SUMMARY_COLUMNS`.

    Mean sum similarity and baseline (raw), mean gain raw and centred, the centred gain's bootstrap
    interval, centred top-1 retrieval, and the three p-values.

    Parameters
    ----------
    summaries : mapping (str, str) -> AdditivitySummary
        Summaries keyed by two names (e.g. network and layer).
    names : (2,) tuple of str
        Column names of the two keys.
    columns : sequence of str
        Columns to keep, among :data:`SUMMARY_COLUMNS`.

    Returns
    -------
    pandas.DataFrame
        One row per summary.
    """
    unknown = set(columns) - set(SUMMARY_COLUMNS)
    if unknown:
        raise ValueError(f"columns must be among {SUMMARY_COLUMNS}, got {sorted(unknown)}")
    rows = []
    for (first, second), s in summaries.items():
        values = {"sum sim": s.raw.sum_similarity.mean(), "baseline": s.raw.baseline.mean(), "gain": s.gain_raw, "gain (centred)": s.gain_centred,
                  "centred CI": f"[{s.gain_centred_ci[0]:+.3f}, {s.gain_centred_ci[1]:+.3f}]", "top-1": s.centred.top1,
                  "p t-test": s.p_ttest, "p Wilcoxon": s.p_wilcoxon, "p permutation": s.p_permutation}  # fmt: skip
        rows.append({names[0]: first, names[1]: second, **{c: values[c] for c in columns}})
    return pd.DataFrame(rows)
