"""Sparse autoencoders: batched training against one SAE alone, TopK and AuxK behaviour, quality measures."""

import dataclasses

import numpy as np
import pytest
import torch

from superposition.science import sae


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


@pytest.mark.parametrize("kind", ["topk", "relu", "batchtopk"])
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
    np.testing.assert_allclose(in_batches.l0, q.l0)
    np.testing.assert_array_equal(in_batches.dead, q.dead)
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


def test_batchtopk_keeps_k_per_sample_on_average_and_learns_an_inference_threshold():
    cfg = sae.SaeConfig(kind="batchtopk", n_latents=12, k=3, aux_alpha=0.0)
    s = sae.init_saes(2, 6, cfg, seed=1)
    pre = s.pre_activations(torch.randn(2, 40, 6))
    z = s.activate_batch(pre)
    # exactly k x batch values kept per SAE (all pre-activations here are nonzero), the largest ones
    kept = (z != 0).sum(dim=(1, 2))
    positive = (pre > 0).sum(dim=(1, 2))
    assert kept.tolist() == torch.minimum(positive, torch.tensor(3 * 40)).tolist()
    flat = pre.reshape(2, -1)
    assert torch.allclose(z.reshape(2, -1).sum(-1), flat.topk(120, dim=-1).values.clamp_min(0).sum(-1))
    with pytest.raises(ValueError, match="no inference thresholds"):
        sae.Saes(s.w_enc, s.b_enc, s.w_dec, s.b_dec, s.widths, s.ks, cfg, thresholds=None).encode(torch.randn(2, 5, 6))
    _, h = planted_codes()
    sae.train_saes(s, (torch.stack([h[i : i + 64]] * 2) for i in range(0, 2048, 64)), n_steps=32, log_every=8)
    assert bool((s.thresholds > 0).all())
    codes = s.encode(h[None, :500].expand(2, -1, -1))
    assert torch.equal(codes > 0, s.pre_activations(h[None, :500].expand(2, -1, -1)) > s.thresholds[:, None, None])


def test_aux_k_keeps_only_the_largest_dead_pre_activations():
    cfg = sae.SaeConfig(kind="topk", n_latents=10, k=2, aux_alpha=1.0, aux_k=3)
    s = sae.init_saes(1, 6, cfg, seed=2)
    h = torch.randn(1, 16, 6)
    dead = torch.zeros(1, 10, dtype=torch.bool)
    dead[0, :6] = True
    loss, mse, z = sae.sae_losses(s, h, dead)
    # plain reference: the AuxK reconstruction from the 3 largest dead pre-activations (ReLU) per sample
    pre = torch.relu(s.pre_activations(h))[0]
    masked = pre * dead[0].float()
    reference = torch.zeros_like(masked)
    for i in range(16):
        top = masked[i].topk(3)
        reference[i, top.indices] = top.values
    residual = h[0] - s.decode(z)[0]
    aux = ((reference @ s.w_dec[0] - residual) ** 2).sum(-1).mean() / 6
    assert torch.allclose(loss - mse, aux[None], atol=1e-6)


def test_tied_init_and_unit_norm_decoder():
    cfg = sae.SaeConfig(kind="topk", n_latents=8, k=2, tied_init=True, unit_norm_decoder=True)
    s = sae.init_saes(2, 5, cfg, seed=3)
    assert torch.equal(s.w_enc, s.w_dec.transpose(1, 2))
    _, h = planted_codes(d=5)
    sae.train_saes(s, (torch.stack([h[i : i + 64]] * 2) for i in range(0, 1024, 64)), n_steps=16, log_every=8)
    torch.testing.assert_close(torch.linalg.vector_norm(s.w_dec, dim=-1), torch.ones(2, 8))


def test_recipes_change_one_setting_each_and_saelens_like_three():
    base = sae.preset("dnn", n_latents=64, k=6)
    assert sae.recipe("authors", base) == base
    assert sae.recipe("lr_high", base).lr == pytest.approx(4 * base.lr)
    assert sae.recipe("batchtopk", base).kind == "batchtopk"
    assert sae.recipe("auxk_strong", base).aux_k == 12
    assert set(sae.RECIPES) == {"authors", "auxk_strong", "tied_init", "unit_norm", "lr_low", "lr_high", "batchtopk", "saelens_like", "small_tied_init"}
    changed = {f.name for f in dataclasses.fields(base) if getattr(sae.recipe("saelens_like", base), f.name) != getattr(base, f.name)}
    assert changed == {"tied_init", "decoder_init_norm", "b_dec_to_input", "grad_clip"}
    with pytest.raises(ValueError, match="recipe must be one of"):
        sae.recipe("magic", base)
    with pytest.raises(ValueError, match="aux_k >= 0"):
        sae.SaeConfig(aux_k=-1)
    with pytest.raises(ValueError, match="kind must be one of"):
        sae.SaeConfig(kind="jumprelu")


def test_epoch_batches_visit_every_sample_once_per_epoch_in_each_saes_own_order():
    acts = torch.arange(2 * 10 * 1, dtype=torch.float32).reshape(2, 10, 1)
    batches = list(sae.epoch_batches(acts, batch_size=3, n_epochs=2, seed=5))
    assert len(batches) == 2 * 3 and batches[0].shape == (2, 3, 1)
    first_epoch = torch.cat(batches[:3], dim=1)[..., 0]
    for j in range(2):
        assert len(set(first_epoch[j].tolist())) == 9 and set(first_epoch[j].tolist()) <= set(acts[j, :, 0].tolist())
    assert not torch.equal(first_epoch[0] - first_epoch[0].min(), first_epoch[1] - 10)  # different orders
    again = list(sae.epoch_batches(acts, batch_size=3, n_epochs=2, seed=5))
    assert all(torch.equal(a, b) for a, b in zip(batches, again))
    with pytest.raises(ValueError, match="batch_size"):
        next(sae.epoch_batches(acts, batch_size=11, n_epochs=1, seed=0))


def test_normalize_samples_and_fit_saes_history():
    acts = torch.randn(300, 7) * 3 + 1
    normed = sae.normalize_samples(acts)
    torch.testing.assert_close(normed.mean(-1), torch.zeros(300), atol=1e-5, rtol=0)
    torch.testing.assert_close(normed.std(-1), torch.ones(300), atol=1e-4, rtol=0)
    cfg = sae.preset("dnn", n_latents=14, k=2)
    saes, history = sae.fit_saes(torch.stack([normed, normed.flip(1)]), cfg, n_epochs=2, batch_size=32, n_logs=4)
    assert history.dead.shape == history.mse.shape == (4, 2) and history.steps.tolist() == [4, 8, 12, 16]
    assert bool((history.dead >= 0).all() and (history.dead <= 14).all())
    with pytest.raises(ValueError, match="no training step"):
        sae.fit_saes(normed[None, :10], cfg, n_epochs=1, batch_size=32)


def test_fit_and_encode_returns_trained_and_untrained_codes():
    _, h = planted_codes(n=1200)
    train, evaluate = h[:1000].numpy(), h[1000:].numpy()
    cfg = sae.preset("dnn", n_latents=12, k=3)
    out = sae.fit_and_encode([train, train * 2], [evaluate, evaluate * 2], cfg, n_epochs=2, batch_size=50, seed=1)
    assert out.codes.shape == out.random_codes.shape == (2, 200, 12)
    assert ((out.codes > 0).sum(-1) <= 3).all() and not np.array_equal(out.codes, out.random_codes)
    # per-sample normalisation: rescaled inputs give the same codes (same seed, same first SAE)
    rescaled = sae.fit_and_encode([train * 2], [evaluate * 2], cfg, n_epochs=2, batch_size=50, seed=1)
    assert np.mean(np.abs(rescaled.codes[0] - out.codes[0]) > 1e-4) < 0.01  # up to rare TopK ties under rounding
    assert out.quality.fvu.shape == (2,) and out.history.dead.shape[1] == 2


def test_shared_streams_start_saes_of_one_width_alike():
    config = sae.preset("toy", n_latents=8, k=2)
    own = sae.init_saes(3, 6, config, 0, widths=[6, 6, 4])
    shared = sae.init_saes(3, 6, config, 0, widths=[6, 6, 4], streams=[0, 0, 0])
    assert not torch.equal(own.w_enc[0], own.w_enc[1])
    assert torch.equal(shared.w_enc[0], shared.w_enc[1]) and torch.equal(shared.w_dec[0], shared.w_dec[1])
    assert torch.equal(shared.w_enc[0], own.w_enc[0])
    assert torch.equal(shared.w_enc[2], sae.init_saes(1, 6, config, 0, widths=[4]).w_enc[0])  # stream 0 at width 4
    with pytest.raises(ValueError, match="one random stream per SAE"):
        sae.init_saes(3, 6, config, 0, streams=[0, 1])


def test_signed_aux_loss_gives_a_dead_latent_with_negative_pre_activations_a_gradient():
    h = torch.rand(1, 32, 4) + 0.5  # positive inputs
    grads = {}
    for form in sae.AUX_FORMS:
        config = sae.preset("toy", n_latents=3, k=1, aux_form=form)
        saes = sae.init_saes(1, 4, config, 0)
        saes.w_enc[0, :, 2] = -1.0  # latent 2: negative pre-activation on every sample, so dead
        saes.w_enc.requires_grad_(True)
        loss, _, z = sae.sae_losses(saes, h)
        assert not bool((z[0, :, 2] > 0).any())
        loss.sum().backward()
        grads[form] = saes.w_enc.grad[0, :, 2].abs().sum().item()
    assert grads["relu"] == 0.0 and grads["signed"] > 0.0
    with pytest.raises(ValueError, match="aux_form must be one of"):
        sae.preset("toy", aux_form="tanh")


class PlainTopKSae(torch.nn.Module):
    """One TopK SAE written the plain way, with SAELens's training choices as switches (no AuxK)."""

    def __init__(self, saes: sae.Saes, j: int) -> None:
        super().__init__()
        self.cfg = saes.config
        self.w_enc, self.b_enc, self.w_dec, self.b_dec = (torch.nn.Parameter(t[j].clone()) for t in saes.parameters())

    def codes_and_reconstruction(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = h - self.b_dec if self.cfg.b_dec_to_input else h
        pre = x @ self.w_enc + self.b_enc
        norms = self.w_dec.norm(dim=-1)
        if self.cfg.decoder_norm_scaling:
            pre = pre * norms
        values, index = pre.topk(self.cfg.k, dim=-1)
        z = torch.zeros_like(pre).scatter(-1, index, torch.relu(values))
        decoder = self.w_dec / norms[:, None] if self.cfg.decoder_norm_scaling else self.w_dec
        return z, z @ decoder + self.b_dec

    def summed_loss(self, h: torch.Tensor) -> torch.Tensor:
        """Squared error summed over units, averaged over samples (SAELens's scale)."""
        return ((self.codes_and_reconstruction(h)[1] - h) ** 2).sum(dim=-1).mean()


def train_plain(module: PlainTopKSae, batches: list[torch.Tensor]) -> None:
    """The reference loop: AdamW on the loss per unit, the gradient clipped on the summed loss."""
    cfg, width = module.cfg, batches[0].shape[-1]
    optimiser = torch.optim.AdamW(module.parameters(), lr=cfg.lr, betas=cfg.betas, eps=cfg.eps, weight_decay=cfg.weight_decay)
    for h in batches:
        optimiser.zero_grad()
        module.summed_loss(h).backward()
        if cfg.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(module.parameters(), cfg.grad_clip)
        for p in module.parameters():
            p.grad /= width
        optimiser.step()


@pytest.mark.parametrize(
    "option",
    [
        {"b_dec_to_input": True},
        {"decoder_norm_scaling": True},
        {"grad_clip": 0.05},
        {"tied_init": True, "decoder_init_norm": 0.1},
        {"b_dec_to_input": True, "decoder_norm_scaling": True, "grad_clip": 0.05, "tied_init": True, "decoder_init_norm": 0.1},
        "saelens_like",
    ],
)
def test_saelens_training_choices_equal_a_plain_reference(option):
    base = sae.SaeConfig(kind="topk", n_latents=12, k=3, aux_alpha=0.0, lr=3e-3, weight_decay=0.0)
    cfg = sae.recipe("saelens_like", base) if option == "saelens_like" else dataclasses.replace(base, **option)
    _, h = planted_codes()
    h = h + 0.5  # an offset for the decoder bias to learn
    batches = [h[i : i + 128] for i in range(0, 2048, 128)]
    saes = sae.init_saes(2, 6, cfg, seed=5)
    plain = [PlainTopKSae(saes, j) for j in range(2)]
    sae.train_saes(saes, (torch.stack([b, 2 * b]) for b in batches), n_steps=len(batches), log_every=8)
    for j, module in enumerate(plain):
        train_plain(module, [(j + 1) * b for b in batches])
        for ours, reference in zip(saes.parameters(), module.parameters()):
            np.testing.assert_allclose(ours[j].numpy(), reference.detach().numpy(), atol=2e-5)
        z, h_hat = module.codes_and_reconstruction((j + 1) * h[:200])
        torch.testing.assert_close(saes.select([j]).encode((j + 1) * h[None, :200])[0], z.detach(), atol=1e-4, rtol=1e-4)
        torch.testing.assert_close(saes.select([j]).decode(z.detach()[None])[0], h_hat.detach(), atol=1e-5, rtol=1e-5)


def test_grad_clip_is_torch_clip_grad_norm_per_sae_on_the_summed_loss():
    cfg = sae.SaeConfig(kind="topk", n_latents=10, k=2, aux_alpha=0.0, grad_clip=0.3)
    saes = sae.init_saes(3, 5, cfg, seed=1, widths=[5, 4, 5])
    h = torch.nn.functional.pad(torch.randn(3, 64, 4), (0, 1))
    h[0, :, 4] = torch.randn(64)
    h[2] *= 1e-3  # a small gradient, left as it is
    for p in saes.parameters():
        p.requires_grad_(True)
    loss, _, _ = sae.sae_losses(saes, h)
    loss.sum().backward()
    raw = [p.grad.clone() for p in saes.parameters()]
    sae.clip_gradients(saes, cfg.grad_clip)
    for j, width in enumerate([5, 4, 5]):
        summed = [torch.nn.Parameter(torch.zeros_like(g[j])) for g in raw]
        for p, g in zip(summed, raw):
            p.grad = g[j] * width  # the gradient of the loss summed over units
        torch.nn.utils.clip_grad_norm_(summed, cfg.grad_clip)
        for ours, reference in zip(saes.parameters(), summed):
            torch.testing.assert_close(ours.grad[j], reference.grad / width)
    assert torch.equal(saes.w_enc.grad[2], raw[0][2]) and not torch.equal(saes.w_enc.grad[0], raw[0][0])


def test_decoder_init_norm_and_tied_init():
    cfg = sae.SaeConfig(kind="topk", n_latents=9, k=2, tied_init=True, decoder_init_norm=0.1)
    saes = sae.init_saes(2, 5, cfg, seed=0, widths=[5, 3])
    torch.testing.assert_close(torch.linalg.vector_norm(saes.w_dec, dim=-1), torch.full((2, 9), 0.1))
    assert torch.equal(saes.w_enc, saes.w_dec.transpose(1, 2)) and float(saes.w_dec[1, :, 3:].abs().max()) == 0
    directions = sae.init_saes(2, 5, dataclasses.replace(cfg, decoder_init_norm=0.0, tied_init=False), seed=0, widths=[5, 3]).w_dec
    torch.testing.assert_close(saes.w_dec, 0.1 * directions / torch.linalg.vector_norm(directions, dim=-1, keepdim=True))
    with pytest.raises(ValueError, match="exclude each other"):
        sae.SaeConfig(decoder_init_norm=0.1, unit_norm_decoder=True)
    with pytest.raises(ValueError, match="grad_clip >= 0"):
        sae.SaeConfig(grad_clip=-1.0)


@pytest.mark.parametrize("kind", ["topk", "batchtopk"])
def test_every_grouping_of_the_passes_trains_the_same_saes(kind):
    cfg = dataclasses.replace(sae.preset("dnn", n_latents=16, k=3), kind=kind, aux_alpha=0.1, dead_after=2, grad_clip=0.5)
    _, h = planted_codes()
    batches = [torch.stack([h[i : i + 64], 2 * h[i : i + 64], h[i + 64 : i + 128]]) for i in range(0, 1920, 128)]
    trained, seen = {}, {}
    for group in (3, 2, 1):
        saes = sae.init_saes(3, 6, cfg, seed=2)
        history = sae.train_saes(saes, iter(batches), len(batches), log_every=5, group=group,
                                 callback=lambda step, s, g=group: seen.setdefault(g, []).append(s.w_dec.clone()))  # fmt: skip
        trained[group] = (saes, history)
        assert not any(p.requires_grad for p in saes.parameters())
    for group in (2, 1):
        for a, b in zip(trained[group][0].parameters(), trained[3][0].parameters()):
            torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-5)
        np.testing.assert_allclose(trained[group][1], trained[3][1], rtol=1e-5)
        for a, b in zip(seen[group], seen[3]):  # the callback sees every pass's SAEs up to date
            torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-5)
    if kind == "batchtopk":
        torch.testing.assert_close(trained[1][0].thresholds, trained[3][0].thresholds, atol=1e-6, rtol=1e-5)
    unlogged = sae.init_saes(3, 6, cfg, seed=2)  # windows of WINDOW_STEPS batches, none cut by a logging step
    assert sae.train_saes(unlogged, iter(batches), len(batches), log_every=100, group=1).shape == (0, 3)
    for a, b in zip(unlogged.parameters(), trained[3][0].parameters()):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-5)


def test_group_size_keeps_the_codes_of_one_pass_within_the_limit():
    assert sae.group_size(18, 1024, 64, "cpu") == 18  # the toy chapter's SAEs: one pass
    assert sae.group_size(8, 1024, 1024, "cpu") == 1  # 2**20 values per SAE: a pass each
    assert sae.group_size(8, 4096, 4096, "cuda") == 8
    size = sae.group_size(100, 256, 1024, "cpu")
    assert size * 256 * 1024 < sae.GROUP_ELEMENTS <= (size + 1) * 256 * 1024


def test_saelens_like_recipe():
    base = sae.preset("dnn", n_latents=64, k=6)
    cfg = sae.recipe("saelens_like", base)
    assert cfg.b_dec_to_input and cfg.tied_init and cfg.decoder_init_norm == 0.1 and cfg.grad_clip == 1.0
    assert not cfg.decoder_norm_scaling  # it leaves most latents dead at small k
    assert (cfg.n_latents, cfg.k, cfg.lr) == (base.n_latents, base.k, base.lr)
    assert sae.preset("dnn") == sae.DNN_PRESET and not sae.DNN_PRESET.b_dec_to_input  # the authors' recipe stays the default
    small = sae.recipe("small_tied_init", base)
    assert small == dataclasses.replace(cfg, decoder_init_norm=0.003)
    s = sae.init_saes(2, 5, small, seed=1)
    torch.testing.assert_close(torch.linalg.vector_norm(s.w_dec, dim=-1), torch.full((2, 64), 0.003))
