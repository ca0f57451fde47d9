"""The synthetic brain: a visual-cortex patch of fsaverage5 and voxels with a known noise ceiling."""

import numpy as np
import pytest

from superposition.data import synthetic_brain


@pytest.fixture(scope="module")
def patch():
    return synthetic_brain.visual_patch(300)


def test_the_patch_surrounds_the_occipital_pole(patch):
    assert len(np.unique(patch.vertices)) == 300 and patch.n_mesh_vertices == 10242
    assert patch.angle.min() == 0.0  # the pole itself
    assert np.bincount(patch.ring).tolist() == [100, 100, 100]
    assert patch.angle[patch.ring == 0].max() <= patch.angle[patch.ring == 1].min()
    with pytest.raises(ValueError, match="n_voxels must be between 3 and 10242"):
        synthetic_brain.visual_patch(2)


def test_voxels_have_the_noise_ceiling_they_claim(patch):
    rng = np.random.default_rng(0)
    features = rng.random((6000, 40)) * (rng.random((6000, 40)) < 0.1)
    voxels = synthetic_brain.simulate_voxels(features, patch, features_per_voxel=3, snr_range=(0.3, 3.0), n_trials=3, seed=1)
    assert voxels.betas.shape == (6000, 300) and voxels.trials.shape == (3, 6000, 300)
    np.testing.assert_allclose(voxels.signal.std(axis=0), 1.0, rtol=1e-4)
    centred = features - features.mean(axis=0)
    np.testing.assert_allclose(centred @ voxels.weights, voxels.signal, atol=1e-4)
    assert ((voxels.weights != 0).sum(axis=0) <= 3).all()
    r = [np.corrcoef(voxels.betas[:, v], voxels.signal[:, v])[0, 1] for v in range(300)]
    np.testing.assert_allclose(r, np.sqrt(voxels.noise_ceiling), atol=0.04)  # sampling error of r at n = 6000
    again = synthetic_brain.simulate_voxels(features, patch, features_per_voxel=3, snr_range=(0.3, 3.0), n_trials=3, seed=1)
    assert np.array_equal(again.betas, voxels.betas)


def test_bad_settings_are_rejected(patch):
    features = np.random.default_rng(0).random((50, 5))
    with pytest.raises(ValueError, match="features_per_voxel must be between 1 and 5"):
        synthetic_brain.simulate_voxels(features, patch, features_per_voxel=6)
    with pytest.raises(ValueError, match="snr_range"):
        synthetic_brain.simulate_voxels(features, patch, snr_range=(2.0, 1.0))
    with pytest.raises(ValueError, match="never vary"):
        synthetic_brain.simulate_voxels(np.zeros((50, 5)), patch)


def test_thresholded_features_are_sparse_nonlinear_and_seeded():
    units = np.random.default_rng(0).normal(size=(2000, 16))
    features = synthetic_brain.thresholded_features(units, 64, 0.05, seed=3)
    assert features.shape == (2000, 64) and (features >= 0).all()
    assert np.allclose((features > 0).mean(axis=0), 0.05, atol=0.002), "each feature active on the asked share"
    assert np.array_equal(features, synthetic_brain.thresholded_features(units, 64, 0.05, seed=3))
    assert not np.array_equal(features, synthetic_brain.thresholded_features(units, 64, 0.05, seed=4))
    with pytest.raises(ValueError, match="active_share"):
        synthetic_brain.thresholded_features(units, 64, 1.0)


def test_dense_voxels_read_every_unit_with_weights_of_one_size():
    units = np.random.default_rng(1).normal(size=(500, 12))
    units[:, 3] = 0.0  # a unit that never varies is dropped
    brain = synthetic_brain.dense_voxels(units, synthetic_brain.visual_patch(40), seed=2)
    assert brain.weights.shape == (11, 40) and (brain.weights != 0).all(), "every varying unit read by every voxel"
    magnitude = np.abs(brain.weights) / np.abs(brain.weights).max(axis=0)
    assert magnitude.min() > 0.99, "a dense mixture: weights of nearly equal size, random signs"
    assert brain.betas.shape == (500, 40)
