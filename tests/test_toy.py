"""Toy models of superposition: batched training against one-at-a-time training, and the TMS diagnostics."""

import numpy as np
import pytest
import torch

from superposition.science import toy


def test_importance_weights():
    power = toy.importance_weights(64, "power")
    assert float(power[0]) == 1.0 and float(power[-1]) == pytest.approx((1 + 63 / 32) ** -2)
    np.testing.assert_allclose(toy.importance_weights(4, "geometric", decay=0.7).numpy(), [1, 0.7, 0.49, 0.343])
    assert bool((toy.importance_weights(3, "uniform") == 1).all())
    with pytest.raises(ValueError, match="importance kind"):
        toy.importance_weights(3, "linear")


def test_feature_batches_are_the_same_whatever_range_reads_them():
    p = torch.tensor([0.2])
    full = list(toy.feature_batches(3, 0, 40, 8, 5, p))
    tail = list(toy.feature_batches(3, 21, 19, 8, 5, p))
    assert len(full) == 40 and len(tail) == 19
    for a, b in zip(full[21:], tail):
        assert torch.equal(a, b)
    x = torch.cat(full, dim=1)
    assert x.shape == (1, 320, 5) and float(x.min()) >= 0 and float(x.max()) <= 1
    assert abs(float((x > 0).float().mean()) - 0.2) < 0.05


@pytest.mark.parametrize("hidden_relu", [False, True])
def test_batched_training_equals_training_each_instance_alone(hidden_relu):
    imp = toy.importance_weights(12, "geometric", decay=0.9)
    p = torch.tensor([0.3])
    both = toy.init_toy_models(12, [3, 5], [0, 1], hidden_relu, dtype=torch.float64)
    toy.train_toy_models(both, imp, p, n_steps=30, batch_size=64, log_every=10)
    for j, (width, seed) in enumerate([(3, 0), (5, 1)]):
        alone = toy.init_toy_models(12, [width], [seed], hidden_relu, dtype=torch.float64)
        toy.train_toy_models(alone, imp, p, n_steps=30, batch_size=64, log_every=10)
        np.testing.assert_allclose(both.weights[j, :, :width].numpy(), alone.weights[0].numpy(), atol=1e-10)
        np.testing.assert_allclose(both.bias[j].numpy(), alone.bias[0].numpy(), atol=1e-10)
    assert float(both.weights[0, :, 3:].abs().max()) == 0.0  # padding stays zero


def test_training_lowers_the_loss_and_sparsity_sweeps_use_one_stream_per_instance():
    models = toy.init_toy_models(20, [5] * 3, [0] * 3, hidden_relu=False)
    history = toy.train_toy_models(models, toy.importance_weights(20, "geometric"), torch.tensor([1.0, 0.3, 0.05]), n_steps=300, batch_size=256)
    assert history.shape == (3, 3)
    assert bool((history[-1] < history[0]).all())
    with pytest.raises(ValueError, match="probability"):
        toy.train_toy_models(models, toy.importance_weights(20), torch.tensor([0.1, 0.2]), n_steps=1)


def test_diagnostics_on_known_geometries():
    # two orthogonal unit features, then an antipodal pair sharing one dimension, then a dropped feature
    w = torch.tensor([[[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]], [[1.0, 0.0], [-1.0, 0.0], [0.0, 0.0]]], dtype=torch.float64)
    np.testing.assert_allclose(toy.feature_norms(w).numpy(), [[1, 1, 0], [1, 1, 0]])
    np.testing.assert_allclose(toy.feature_dimensionality(w).numpy(), [[1, 1, 0], [0.5, 0.5, 0]], atol=1e-12)
    np.testing.assert_allclose(toy.dimensions_per_feature(w, torch.tensor([2, 2])).numpy(), [1.0, 1.0])
    # against a plain loop on random weights
    r = torch.randn(2, 6, 3, dtype=torch.float64)
    for i in range(2):
        for f in range(6):
            unit = r[i, f] / r[i, f].norm()
            dots = torch.stack([(unit @ r[i, g]) ** 2 for g in range(6)])
            assert float(toy.feature_dimensionality(r)[i, f]) == pytest.approx(float(r[i, f].norm() ** 2 / dots.sum()))


def test_hidden_batches_match_each_instance_alone_and_the_feature_variance():
    models = toy.init_toy_models(10, [3, 5], [0, 1], hidden_relu=True)
    p = torch.tensor([0.25])
    x, h = toy.collect_hidden(models, 2, 5, 3, 400, p)
    assert x.shape == (1200, 10) and h.shape == (2, 1200, 5)
    assert torch.equal(x, torch.cat(list(toy.feature_batches(2, 5, 3, 400, 10, p)), dim=1)[0])
    torch.testing.assert_close(h[0, :, :3], models.instance_hidden(0, x))
    torch.testing.assert_close(h[1], models.instance_hidden(1, x))
    assert float(h[0, :, 3:].abs().max()) == 0.0
    assert float(x.var(dim=0).mean()) == pytest.approx(toy.feature_variance(0.25), rel=0.1)
    with pytest.raises(ValueError, match="one probability"):
        next(toy.hidden_batches(models, 0, 0, 1, 8, torch.tensor([0.1, 0.2])))
    assert toy.represented_features(torch.tensor([[[1.0, 0.0], [0.1, 0.2]]])).tolist() == [[True, False]]


def test_bad_sizes_are_rejected():
    with pytest.raises(ValueError, match="same length"):
        toy.init_toy_models(8, [2, 3], [0], hidden_relu=True)
    with pytest.raises(ValueError, match="widths"):
        toy.init_toy_models(8, [0], [0], hidden_relu=True)
