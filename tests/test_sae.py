"""Sparse autoencoders: batched training against one SAE alone, TopK and AuxK behaviour, quality measures."""

import numpy as np
import pytest
import torch

from superposition import sae


def planted_codes(n=4096, n_features=12, d=6, p=0.15, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, n_features, generator=g) * (torch.rand(n, n_features, generator=g) < p)
    w = torch.randn(n_features, d, generator=g)
    w = w / w.norm(dim=1, keepdim=True)
    return x, x @ w


def test_topk_keeps_exactly_k_nonnegative_values():
    cfg = sae.preset("toy", n_latents=16, k=3)
    s = sae.init_saes(2, 5, cfg)
    z = s.encode(torch.randn(2, 50, 5))
    assert z.shape == (2, 50, 16)
    assert bool(((z > 0).sum(-1) <= 3).all()) and bool((z >= 0).all())
    pre = s.pre_activations(torch.randn(2, 50, 5))
    kept = s.activate(pre)
    top = pre.topk(3, dim=-1).values.clamp_min(0)
    np.testing.assert_allclose(kept.sort(dim=-1, descending=True).values[..., :3].numpy(), top.numpy())


@pytest.mark.parametrize("kind", ["topk", "relu"])
def test_batched_training_equals_one_sae_alone(kind):
    cfg = sae.SaeConfig(kind=kind, n_latents=10, k=3, l1=1e-3)
    _, h = planted_codes()
    batches = [h[i : i + 128] for i in range(0, 1024, 128)]
    two = sae.init_saes(2, 6, cfg, seed=4, dtype=torch.float32)
    sae.train_saes(two, (torch.stack([b, 2 * b]) for b in batches), n_steps=8, log_every=4)
    one = sae.init_saes(1, 6, cfg, seed=4)
    sae.train_saes(one, (b[None] for b in batches), n_steps=8, log_every=4)
    for a, b in zip(two.parameters(), one.parameters()):
        np.testing.assert_allclose(a[0].numpy(), b[0].numpy(), atol=1e-6)


def test_auxk_gives_dead_latents_a_gradient():
    cfg = sae.preset("toy", n_latents=8, k=1, aux_alpha=0.5)
    s = sae.init_saes(1, 4, cfg)
    h = torch.randn(1, 32, 4)
    for p in s.parameters():
        p.requires_grad_(True)
    dead = torch.zeros(1, 8, dtype=torch.bool)
    dead[0, 5] = True
    loss, _, _ = sae.sae_losses(s, h, dead)
    loss.sum().backward()
    with_aux = s.w_dec.grad[0, 5].abs().sum()
    s.w_dec.grad = None
    loss, _, _ = sae.sae_losses(s, h, torch.zeros_like(dead))
    loss.sum().backward()
    assert float(with_aux) > 0 and float(s.w_dec.grad[0, 5].abs().sum()) < float(with_aux)


def test_training_recovers_planted_sparse_features():
    x, h = planted_codes(n=20_000)
    cfg = sae.preset("toy", n_latents=24, k=3)
    s = sae.init_saes(1, 6, cfg, seed=1)
    batches = (h[None, i % 19_000 : i % 19_000 + 256] for i in range(0, 10**9, 256))
    history = sae.train_saes(s, batches, n_steps=1500, log_every=500)
    assert history[-1, 0] < history[0, 0]
    q = sae.sae_quality(s, h[None])
    assert q.fvu.shape == (1,) and 0 <= q.fvu[0] < 0.2
    assert q.l0[0] <= 3
    z = sae.encode_in_batches(s, h[None])[0]

    def mean_max_corr(codes):
        with np.errstate(invalid="ignore", divide="ignore"):  # dead latents have no variance
            corr = np.corrcoef(np.hstack([x.numpy(), codes.numpy()]).T)[:12, 12:]
        return np.nanmean(np.nanmax(np.abs(corr), axis=1))

    # the latents line up with the planted features far better than the mixed units do
    assert mean_max_corr(z) > 0.6 and mean_max_corr(z) > mean_max_corr(h) + 0.1


def test_quality_of_a_perfect_reconstruction():
    cfg = sae.SaeConfig(kind="relu", n_latents=3)
    s = sae.init_saes(1, 3, cfg)
    s.w_enc[0] = torch.eye(3)
    s.w_dec[0] = torch.eye(3)
    h = torch.rand(1, 100, 3)
    q = sae.sae_quality(s, h)
    assert q.fvu[0] == pytest.approx(0.0, abs=1e-10) and q.dead[0] == 0


def test_bad_configs_are_rejected():
    with pytest.raises(ValueError, match="kind"):
        sae.SaeConfig(kind="jumprelu")
    with pytest.raises(ValueError, match="k <= n_latents"):
        sae.SaeConfig(n_latents=4, k=5)
    with pytest.raises(ValueError, match="preset"):
        sae.preset("vit")
