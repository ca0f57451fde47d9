"""A synthetic brain with known ground truth: simulated voxels on a visual-cortex patch of fsaverage5.

No neural recordings install with the environment, so the DNN→brain chapter's default "brain" is
simulated, and says so. Each voxel is a noisy linear read-out of a few ground-truth features
(for example the sparse codes that a network holds in superposition): the features a voxel reads
are those whose centres lie near it on the cortical patch, so neighbouring voxels respond alike
and maps look like maps. Responses are drawn for several trials per image with a per-voxel
signal-to-noise ratio, so the noise ceiling is known exactly (:func:`superposition.data.nsd.noise_ceiling`,
the formula NSD uses), and the trial average plays the role of NSD's betas.

The patch: the ``n_voxels`` vertices of the left fsaverage5 hemisphere (nilearn ships the mesh)
nearest the occipital pole on the sphere; three synthetic ROIs are rings of increasing distance
from the pole (labelled ``"ring 1"`` ... ``"ring 3"``: they are not anatomical areas).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .nsd import noise_ceiling

RING_NAMES = ("ring 1 (pole)", "ring 2", "ring 3")
WORLDS = ("thresholded", "sae_codes", "dense")
"""The simulated worlds of the DNN→brain chapter, by what the voxels read from the held-out network:
``thresholded``, sparse rectified random projections of its units (:func:`thresholded_features`:
sparse and nonlinear, and not made by an SAE); ``sae_codes``, a TopK SAE's codes of its units
(the recipe under test, so favourable to SAEs by construction); ``dense``, dense linear
mixtures of its units (:func:`dense_voxels`: the null, where sparse latents have nothing to
find)."""


@dataclass(frozen=True)
class Patch:
    """Vertices of the left fsaverage5 hemisphere.

    Attributes
    ----------
    vertices : (n,) numpy.ndarray
        Vertex indices.
    sphere : (n, 3) numpy.ndarray
        Unit vectors on the registration sphere.
    angle : (n,) numpy.ndarray
        Angular distance from the pole in radians.
    ring : (n,) numpy.ndarray
        0, 1 or 2 (:data:`RING_NAMES`).
    n_mesh_vertices : int
        Vertices of the hemisphere.
    """

    vertices: np.ndarray
    sphere: np.ndarray
    angle: np.ndarray
    ring: np.ndarray
    n_mesh_vertices: int


def visual_patch(n_voxels: int) -> Patch:
    """The ``n_voxels`` vertices nearest the occipital pole (the most posterior pial vertex).

    Parameters
    ----------
    n_voxels : int
        Number of vertices (at least 3).

    Returns
    -------
    Patch
        The vertices.
    """
    from nilearn import datasets

    mesh = datasets.load_fsaverage("fsaverage5")
    pial = np.asarray(mesh["pial"].parts["left"].coordinates)
    sphere = np.asarray(mesh["sphere"].parts["left"].coordinates, dtype=np.float64)
    if not 3 <= n_voxels <= len(pial):
        raise ValueError(f"n_voxels must be between 3 and {len(pial)}; got {n_voxels}")
    sphere /= np.linalg.norm(sphere, axis=1, keepdims=True)
    pole = sphere[np.argmin(pial[:, 1])]
    angle = np.arccos(np.clip(sphere @ pole, -1.0, 1.0))
    chosen = np.sort(np.argsort(angle, kind="stable")[:n_voxels])
    ranks = np.argsort(np.argsort(angle[chosen], kind="stable"), kind="stable")
    return Patch(
        vertices=chosen,
        sphere=sphere[chosen],
        angle=angle[chosen],
        ring=np.minimum(3 * ranks // n_voxels, 2),
        n_mesh_vertices=len(pial),
    )


@dataclass(frozen=True)
class SyntheticBrain:
    """Simulated voxels.

    Attributes
    ----------
    betas : (n_images, n_voxels) numpy.ndarray
        Trial-averaged responses.
    trials : (n_trials, n_images, n_voxels) numpy.ndarray
        Single-trial responses.
    signal : (n_images, n_voxels) numpy.ndarray
        The noise-free response, unit variance per voxel.
    weights : (n_features, n_voxels) numpy.ndarray
        The read-out of the ground-truth features.
    ncsnr : (n_voxels,) numpy.ndarray
        Signal sd / noise sd.
    noise_ceiling : (n_voxels,) numpy.ndarray
        The fraction of the trial average's variance a perfect model explains.
    patch : Patch
        Where they lie.
    """

    betas: np.ndarray
    trials: np.ndarray
    signal: np.ndarray
    weights: np.ndarray
    ncsnr: np.ndarray
    noise_ceiling: np.ndarray
    patch: Patch


def simulate_voxels(
    features: np.ndarray,
    patch: Patch,
    features_per_voxel: int = 4,
    snr_range: tuple[float, float] = (0.2, 2.0),
    n_trials: int = 3,
    spread: float = 0.05,
    seed: int = 0,
) -> SyntheticBrain:
    """Voxels on ``patch`` reading ground-truth ``features``.

    Every feature gets a centre on the patch (a random voxel); voxel ``v`` reads the
    ``features_per_voxel`` features with the nearest centres, weighted by
    ``exp(-angle^2 / (2 spread^2))`` times a random sign; its signal is scaled to unit variance, and
    each trial adds Gaussian noise of standard deviation ``1 / ncsnr_v``, with ``ncsnr`` log-uniform
    in ``snr_range``.

    Parameters
    ----------
    features : (n_images, n_features) numpy.ndarray
        Ground-truth features.
    patch : Patch
        The voxels' vertices.
    features_per_voxel : int
        Features each voxel reads.
    snr_range : (2,) tuple of float
        Range of ``ncsnr``.
    n_trials : int
        Trials per image.
    spread : float
        Angular width of the read-out weights, in radians.
    seed : int
        Seed of the simulation.

    Returns
    -------
    SyntheticBrain
        The simulated voxels.
    """
    features = np.asarray(features, dtype=np.float64)
    n_images, n_features = features.shape
    n_voxels = len(patch.vertices)
    if not 1 <= features_per_voxel <= n_features:
        raise ValueError(f"features_per_voxel must be between 1 and {n_features}; got {features_per_voxel}")
    if not (0 < snr_range[0] <= snr_range[1]) or n_trials < 1 or spread <= 0:
        raise ValueError(f"need 0 < snr_range[0] <= snr_range[1], n_trials >= 1 and spread > 0; got {snr_range}, {n_trials}, {spread}")
    rng = np.random.default_rng(np.random.SeedSequence([seed, 13]))
    centres = patch.sphere[rng.integers(0, n_voxels, n_features)]  # (n_features, 3)
    angle = np.arccos(np.clip(patch.sphere @ centres.T, -1.0, 1.0))  # (n_voxels, n_features)
    nearest = np.argsort(angle, axis=1, kind="stable")[:, :features_per_voxel]
    weights = np.zeros((n_features, n_voxels))
    rows = np.arange(n_voxels)[:, None]
    weights[nearest.T, rows.T] = (np.exp(-angle[rows, nearest] ** 2 / (2 * spread**2)) * rng.choice([-1.0, 1.0], nearest.shape)).T
    signal = features @ weights
    scale = signal.std(axis=0)
    silent = scale <= 1e-12
    if silent.any():
        raise ValueError(f"{int(silent.sum())} voxels read only features that never vary; use more features_per_voxel or other features")
    signal = (signal - signal.mean(axis=0)) / scale
    weights = weights / scale
    ncsnr = np.exp(rng.uniform(np.log(snr_range[0]), np.log(snr_range[1]), n_voxels))
    noise = np.random.default_rng(np.random.SeedSequence([seed, 14])).standard_normal((n_trials, n_images, n_voxels))
    trials = signal[None] + noise / ncsnr
    return SyntheticBrain(
        betas=trials.mean(axis=0).astype(np.float32),
        trials=trials.astype(np.float32),
        signal=signal.astype(np.float32),
        weights=weights,
        ncsnr=ncsnr,
        noise_ceiling=noise_ceiling(ncsnr, np.full(n_images, n_trials)),
        patch=patch,
    )


def thresholded_features(units: np.ndarray, n_features: int, active_share: float, seed: int = 0) -> np.ndarray:
    """Sparse nonlinear features of ``units`` that no SAE made: rectified random projections.

    The units are standardised; feature ``j`` is ``max(0, w_j . u - t_j)`` for a Gaussian
    direction ``w_j`` and ``t_j`` the ``1 - active_share`` quantile of ``w_j . u`` over the rows,
    so each feature is active on about ``active_share`` of the images. A ground truth for a
    simulated brain that is sparse and nonlinear in the network's units, without being the codes
    of the sparse autoencoder whose benefit is under test.

    Parameters
    ----------
    units : (n_images, n_units) numpy.ndarray
        A network's activations.
    n_features : int
        Features to make.
    active_share : float
        Share of images on which each feature is active, in (0, 1).
    seed : int
        Seed of the directions.

    Returns
    -------
    (n_images, n_features) numpy.ndarray
        The features, nonnegative.
    """
    units = np.asarray(units, dtype=np.float64)
    if not 0 < active_share < 1 or n_features < 1:
        raise ValueError(f"need n_features >= 1 and 0 < active_share < 1; got {n_features}, {active_share}")
    scale = units.std(axis=0)
    standard = np.where(scale > 0, (units - units.mean(axis=0)) / np.where(scale > 0, scale, 1.0), 0.0)
    rng = np.random.default_rng(np.random.SeedSequence([seed, 15]))
    projections = standard @ rng.standard_normal((units.shape[1], n_features))
    return np.maximum(projections - np.quantile(projections, 1 - active_share, axis=0), 0.0)


def dense_voxels(
    units: np.ndarray, patch: Patch, snr_range: tuple[float, float] = (0.2, 2.0), n_trials: int = 3, seed: int = 0
) -> SyntheticBrain:
    """The dense null: every voxel reads a dense random mixture of all of a network's units.

    :func:`simulate_voxels` with every unit read by every voxel and a read-out width far wider
    than the patch (weights of random sign and nearly equal size), on the standardised units.

    Parameters
    ----------
    units : (n_images, n_units) numpy.ndarray
        A network's activations (units that never vary are dropped).
    patch : Patch
        The voxels' vertices.
    snr_range : (2,) tuple of float
        Range of ``ncsnr``.
    n_trials : int
        Trials per image.
    seed : int
        Seed of the simulation.

    Returns
    -------
    SyntheticBrain
        The simulated voxels; ``weights`` are over the varying units.
    """
    units = np.asarray(units, dtype=np.float64)
    varying = units[:, units.std(axis=0) > 0]
    standard = (varying - varying.mean(axis=0)) / varying.std(axis=0)
    return simulate_voxels(standard, patch, features_per_voxel=standard.shape[1], snr_range=snr_range, n_trials=n_trials, spread=100.0, seed=seed)

