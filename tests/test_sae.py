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


def test_saes_on_inputs_of_different_widths_train_as_they_would_alone():
    cfg = sae.preset("toy", n_latents=10, k=3)
    _, h = planted_codes()
    narrow = h[:, :4]
    batches = [slice(i, i + 128) for i in range(0, 1024, 128)]
    padded = torch.nn.functional.pad(narrow, (0, 2))
    both = sae.init_saes(2, 6, cfg, seed=4, widths=[6, 4])
    sae.train_saes(both, (torch.stack([h[b], padded[b]]) for b in batches), n_steps=8, log_every=4)
    wide = sae.init_saes(1, 6, cfg, seed=4)
    sae.train_saes(wide, (h[None, b] for b in batches), n_steps=8, log_every=4)
    alone = sae.init_saes(2, 4, cfg, seed=4)  # SAE 1 of this pair draws from stream (4, 1), as SAE 1 of `both`
    sae.train_saes(alone, (torch.stack([narrow[b], narrow[b]]) for b in batches), n_steps=8, log_every=4)
    np.testing.assert_allclose(both.w_enc[0].numpy(), wide.w_enc[0].numpy(), atol=1e-6)
    np.testing.assert_allclose(both.w_enc[1, :4].numpy(), alone.w_enc[1].numpy(), atol=1e-6)
    np.testing.assert_allclose(both.w_dec[1, :, :4].numpy(), alone.w_dec[1].numpy(), atol=1e-6)
    np.testing.assert_allclose(both.b_dec[1, :4].numpy(), alone.b_dec[1].numpy(), atol=1e-6)
    assert float(both.w_enc[1, 4:].abs().max()) == 0 and float(both.w_dec[1, :, 4:].abs().max()) == 0
    assert float(both.b_dec[1, 4:].abs().max()) == 0
    q = sae.sae_quality(both, torch.stack([h, padded]))
    np.testing.assert_allclose(q.fvu[1], sae.sae_quality(alone, torch.stack([narrow, narrow])).fvu[1], rtol=1e-5)
    in_batches = sae.sae_quality(both, torch.stack([h, padded]), batch_size=300)
    np.testing.assert_allclose(in_batches.fvu, q.fvu, rtol=1e-6)
    np.testing.assert_allclose(in_batches.l0, q.l0) and np.testing.assert_array_equal(in_batches.dead, q.dead)
    second = both.select([1])
    assert second.w_enc.shape == (1, 6, 10) and int(second.widths[0]) == 4
    torch.testing.assert_close(second.encode(padded[None]), both.encode(torch.stack([h, padded]))[1:])
    with pytest.raises(ValueError, match="widths"):
        sae.init_saes(2, 6, cfg, widths=[6, 7])


def test_a_sweep_over_k_in_one_batch_equals_each_k_alone():
    cfg = sae.preset("toy", n_latents=10, k=3)
    _, h = planted_codes()
    batches = [h[i : i + 128] for i in range(0, 1024, 128)]
    sweep = sae.init_saes(2, 6, cfg, seed=4, ks=[2, 5])
    sae.train_saes(sweep, (torch.stack([b, b]) for b in batches), n_steps=8, log_every=4)
    assert int((sweep.encode(h[None].expand(2, -1, -1)) > 0).sum(-1).max(-1).values[0]) <= 2
    for j, k in enumerate((2, 5)):
        alone = sae.init_saes(2, 6, sae.preset("toy", n_latents=10, k=k), seed=4)
        sae.train_saes(alone, (torch.stack([b, b]) for b in batches), n_steps=8, log_every=4)
        np.testing.assert_allclose(sweep.w_enc[j].numpy(), alone.w_enc[j].numpy(), atol=1e-6)
        np.testing.assert_allclose(sweep.w_dec[j].numpy(), alone.w_dec[j].numpy(), atol=1e-6)
    with pytest.raises(ValueError, match="ks"):
        sae.init_saes(2, 6, cfg, ks=[2, 11])


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
