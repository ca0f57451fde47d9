"""How close do sparse autoencoders come to what compressed sensing allows? (Paper B, step 2)

Synthetic superposition with known ground truth, over a grid of cells (delta = M/N, rho = K/M):
N nonnegative sparse features, each active with probability K/N (K active on average, values
uniform in (0, 1)), mixed into M dimensions by a random dictionary with unit-norm Gaussian
columns. Three ways to read the features back, from best-informed to most amortised:

- optimal sparse inference with the *true* dictionary (nonnegative basis pursuit, the batched
  solver of :mod:`superposition.science.basis_pursuit`);
- the same inference with the dictionary an SAE *learned* (its decoder directions);
- the SAE's own one-pass encoder (TopK or ReLU + L1).

The first minus the second is what dictionary learning costs; the second minus the third is the
*amortisation gap* of the encoder. :func:`grid_problems` draws every cell's data (inputs
zero-padded to the widest cell, so all SAEs of the grid train in one batched pass);
:func:`dictionary_inference` solves basis pursuit for a batch of dictionaries at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..runtime import make_generator
from . import basis_pursuit


@dataclass(frozen=True)
class GridProblems:
    """Every problem's data, ``n_replicates`` independent problems (dictionary and samples) per grid cell, cell-major.

    Attributes
    ----------
    cells : (n_problems, 2) numpy.ndarray
        (delta, rho) as asked.
    replicate : (n_problems,) numpy.ndarray
        The replicate index.
    m, k : (n_problems,) numpy.ndarray
        The integer sizes M = round(delta N) and K = max(1, round(rho M)).
    dictionaries : (n_problems, max_m, n_features) torch.Tensor
        Unit-norm columns, zero rows beyond each problem's M.
    codes_train, codes_eval : (n_problems, n_samples, n_features) torch.Tensor
        The ground-truth features.
    x_train, x_eval : (n_problems, n_samples, max_m) torch.Tensor
        Their mixtures, zero beyond M.
    """

    def cell_means(self, values: np.ndarray) -> np.ndarray:
        """The mean over each cell's replicates.

        Parameters
        ----------
        values : (n_problems,) numpy.ndarray
            One value per problem, cell-major.

        Returns
        -------
        (n_cells,) numpy.ndarray
            One mean per cell.
        """
        return np.asarray(values).reshape(-1, int(self.replicate.max()) + 1).mean(axis=1)

    cells: np.ndarray
    replicate: np.ndarray
    m: np.ndarray
    k: np.ndarray
    dictionaries: torch.Tensor
    codes_train: torch.Tensor
    codes_eval: torch.Tensor
    x_train: torch.Tensor
    x_eval: torch.Tensor

    @property
    def n_features(self) -> int:
        """Number of features N (columns of the dictionaries)."""
        return int(self.dictionaries.shape[2])


def sparse_nonnegative_codes(n_samples: int, n_features: int, probability: float, generator: torch.Generator) -> torch.Tensor:
    """Each feature active with ``probability``, values U(0, 1).

    Parameters
    ----------
    n_samples : int
        Number of samples.
    n_features : int
        Number of features.
    probability : float
        Probability that a feature is active.
    generator : torch.Generator
        Random stream of the draws.

    Returns
    -------
    (n_samples, n_features) torch.Tensor
        Codes, float32.
    """
    active = torch.rand((n_samples, n_features), generator=generator) < probability
    return active * torch.rand((n_samples, n_features), generator=generator)


def grid_problems(n_features: int, deltas: list[float], rhos: list[float], n_train: int, n_eval: int, seed: int = 0, n_replicates: int = 1) -> GridProblems:
    """The data of every (delta, rho) cell and replicate, each problem from its own stream ``(seed, cell, replicate)``.

    Parameters
    ----------
    n_features : int
        Number of features N.
    deltas : list of float
        Undersampling ratios M/N, in (0, 1].
    rhos : list of float
        Sparsity ratios K/M, in (0, 1].
    n_train : int
        Training samples per problem.
    n_eval : int
        Evaluation samples per problem.
    seed : int
        Seed of the grid.
    n_replicates : int
        Independent problems per cell (at least 1).

    Returns
    -------
    GridProblems
        The data.
    """
    if not all(0 < d <= 1 for d in deltas) or not all(0 < r <= 1 for r in rhos):
        raise ValueError(f"deltas and rhos must lie in (0, 1]; got {deltas}, {rhos}")
    if n_replicates < 1:
        raise ValueError(f"n_replicates must be at least 1; got {n_replicates}")
    cells = np.array([(d, r) for d in deltas for r in rhos for _ in range(n_replicates)], dtype=np.float64)
    replicate = np.tile(np.arange(n_replicates), len(deltas) * len(rhos))
    m = np.array([max(1, round(d * n_features)) for d, _ in cells])
    k = np.array([max(1, round(r * mm)) for (_, r), mm in zip(cells, m)])
    max_m = int(m.max())
    n_problems = len(cells)
    dictionaries = torch.zeros(n_problems, max_m, n_features)
    codes_train = torch.empty(n_problems, n_train, n_features)
    codes_eval = torch.empty(n_problems, n_eval, n_features)
    for c in range(n_problems):
        g = make_generator(seed, 81, c // n_replicates, int(replicate[c]))
        a = torch.randn((int(m[c]), n_features), generator=g)
        dictionaries[c, : m[c]] = a / torch.linalg.vector_norm(a, dim=0, keepdim=True)
        codes_train[c] = sparse_nonnegative_codes(n_train, n_features, k[c] / n_features, g)
        codes_eval[c] = sparse_nonnegative_codes(n_eval, n_features, k[c] / n_features, g)
    mix = lambda codes: codes @ dictionaries.transpose(1, 2)  # noqa: E731 - (n_problems, n, max_m)
    return GridProblems(cells, replicate, m, k, dictionaries, codes_train, codes_eval, mix(codes_train), mix(codes_eval))


def dictionary_inference(dictionaries: torch.Tensor, m: np.ndarray, x: torch.Tensor, max_iter: int = 1000, tol: float = 1e-5, device: torch.device | str = "cpu") -> torch.Tensor:
    """Nonnegative basis pursuit of every sample against its cell's dictionary.

    Problems of equal M are solved in one batched ADMM call.

    Parameters
    ----------
    dictionaries : (n_problems, max_m, n_features) torch.Tensor
        Dictionaries, zero beyond each problem's ``m``.
    m : (n_problems,) numpy.ndarray
        Measurements of each problem.
    x : (n_problems, n_samples, max_m) torch.Tensor
        Mixtures.
    max_iter : int
        ADMM iterations at most.
    tol : float
        ADMM tolerance.
    device : torch.device or str
        Where the solver runs.

    Returns
    -------
    (n_problems, n_samples, n_features) torch.Tensor
        Codes, float32 on the CPU.
    """
    out = torch.empty(x.shape[0], x.shape[1], dictionaries.shape[2])
    for width in np.unique(m):
        rows = np.flatnonzero(m == width)
        a = dictionaries[rows, :width].to(device, torch.float64)
        y = x[rows, :, :width].transpose(1, 2).to(device, torch.float64)
        result = basis_pursuit.basis_pursuit_admm(a, y, nonnegative=True, max_iter=max_iter, tol=tol)
        out[rows] = result.x.transpose(1, 2).float().cpu()
    return out


def learned_dictionaries(w_dec: torch.Tensor, m: np.ndarray) -> torch.Tensor:
    """SAE decoders as dictionaries with unit-norm columns within each problem's ``m``.

    Zero beyond ``m``; a dead all-zero column stays zero.

    Parameters
    ----------
    w_dec : (n_problems, n_latents, max_m) torch.Tensor
        SAE decoder weights.
    m : (n_problems,) numpy.ndarray
        Measurements of each problem.

    Returns
    -------
    (n_problems, max_m, n_latents) torch.Tensor
        Dictionaries, float32 on the CPU.
    """
    d = w_dec.detach().transpose(1, 2).clone().float().cpu()
    for c, width in enumerate(m):
        d[c, width:] = 0
    return d / torch.linalg.vector_norm(d, dim=1, keepdim=True).clamp_min(1e-12)


def score_cells(truth: torch.Tensor, estimate: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Recovery of every problem's ground truth.

    The mean correlation coefficient (one-to-one matching) and the mean over features of the best
    absolute correlation with any latent; 0 where every latent is silent. Features that never fire
    on the evaluation samples are left out.

    Parameters
    ----------
    truth : (n_problems, n_samples, n_features) torch.Tensor
        Ground-truth features.
    estimate : (n_problems, n_samples, n_latents) torch.Tensor
        Recovered codes.

    Returns
    -------
    mcc : (n_problems,) numpy.ndarray
        Mean correlation coefficient.
    max_correlation : (n_problems,) numpy.ndarray
        Mean best absolute correlation.
    """
    from ..metrics.recovery_scores import feature_latent_correlations, matched_correlation

    mcc, best = np.zeros(truth.shape[0]), np.zeros(truth.shape[0])
    for c in range(truth.shape[0]):
        varying = truth[c].std(dim=0) > 0  # a feature silent on every evaluation sample cannot be scored
        if not bool((estimate[c].std(dim=0) > 0).any()) or not bool(varying.any()):
            continue
        corr = feature_latent_correlations(truth[c][:, varying], estimate[c])
        mcc[c], best[c] = matched_correlation(corr), corr.max(axis=1).mean()
    return mcc, best
