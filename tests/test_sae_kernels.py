"""Fast paths of SAE training against the dense products they replace, values and gradients."""

import dataclasses

import pytest
import torch

from superposition.science import sae, sae_kernels


def random_problem(n_saes=3, batch=40, n_latents=24, d=7, seed=0):
    g = torch.Generator().manual_seed(seed)
    directions = torch.randn(n_saes, n_latents, d, generator=g, dtype=torch.float64)
    pre = torch.randn(n_saes, batch, n_latents, generator=g, dtype=torch.float64)
    return pre, directions


def assert_same_product_and_gradients(fast_product, dense_product, inputs):
    """``fast_product(*inputs)`` equals ``dense_product(*inputs)``, and so do their gradients with respect to ``inputs``."""
    fast_inputs = [t.clone().requires_grad_(True) for t in inputs]
    dense_inputs = [t.clone().requires_grad_(True) for t in inputs]
    fast, dense = fast_product(*fast_inputs), dense_product(*dense_inputs)
    torch.testing.assert_close(fast, dense)
    weights = torch.randn_like(dense)
    (fast * weights).sum().backward()
    (dense * weights).sum().backward()
    for a, b in zip(fast_inputs, dense_inputs):
        torch.testing.assert_close(a.grad, b.grad)


def test_decode_selected_equals_the_dense_product_with_its_gradients():
    pre, directions = random_problem()
    values, index = pre.topk(5, dim=-1)
    values = torch.relu(values)
    values[1, :, 3:] = 0.0  # an SAE with a smaller k: zeros count as unselected
    assert_same_product_and_gradients(
        lambda w, v: sae_kernels.decode_selected(w, v, index),
        lambda w, v: torch.zeros_like(pre).scatter(-1, index, v) @ w,
        (directions, values),
    )


def test_dead_columns_lists_each_saes_dead_latents_then_padding():
    dead = torch.tensor([[False, True, False, True], [False, False, False, False], [True, True, True, False]])
    index, valid = sae_kernels.dead_columns(dead)
    assert index.shape == (3, 3)
    assert index[0, :2].tolist() == [1, 3] and index[2].tolist() == [0, 1, 2]
    assert valid.tolist() == [[True, True, False], [False, False, False], [True, True, True]]


def test_gathered_columns_give_the_masked_product_with_its_gradients():
    pre, directions = random_problem()
    dead = torch.rand(pre.shape[0], pre.shape[2], generator=torch.Generator().manual_seed(1)) < 0.3
    dead[1] = False  # an SAE with no dead latent

    def gathered(p, w):
        columns, rows = sae_kernels.gather_columns(p, w, *sae_kernels.dead_columns(dead))
        return columns @ rows

    assert_same_product_and_gradients(gathered, lambda p, w: (p * dead[:, None, :].to(p.dtype)) @ w, (pre, directions))


@pytest.mark.parametrize(
    "changes",
    [
        {"aux_form": "signed"},  # the authors' AuxK on every dead latent
        {"aux_form": "relu", "aux_k": 4},  # Gao et al.'s on the aux_k largest
        {"aux_form": "signed", "decoder_norm_scaling": True, "b_dec_to_input": True},
    ],
)
def test_sae_losses_give_the_same_loss_and_gradients_on_every_route(monkeypatch, changes):
    config = dataclasses.replace(sae.preset("toy", n_latents=32, k=3), **changes)
    h = torch.randn(2, 64, 6, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    results = []
    for rule in ((10**9, 0.0), (1, 1.0)):  # dense products everywhere, then every fast path
        monkeypatch.setattr(sae, "SELECTED_DECODE", rule)
        monkeypatch.setattr(sae, "DEAD_COLUMNS", rule)
        saes = sae.init_saes(2, 6, config, seed=3, dtype=torch.float64, ks=[3, 2])
        for p in saes.parameters():
            p.requires_grad_(True)
        dead = torch.zeros(2, 32, dtype=torch.bool)
        dead[0, 5:17] = True
        loss, mse, z = sae.sae_losses(saes, h, dead)
        loss.sum().backward()
        results.append((loss.detach(), mse.detach(), z, [p.grad for p in saes.parameters()]))
    (loss_a, mse_a, z_a, grads_a), (loss_b, mse_b, z_b, grads_b) = results
    assert float(loss_a[0]) > float(mse_a[0])  # the AuxK term took part
    torch.testing.assert_close(loss_a, loss_b)
    torch.testing.assert_close(mse_a, mse_b)
    torch.testing.assert_close(z_a, z_b)
    for a, b in zip(grads_a, grads_b):
        torch.testing.assert_close(a, b)


def test_fast_paths_are_taken_where_they_were_measured_to_pay():
    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    assert sae.fast_path(sae.SELECTED_DECODE, 1024, 10, cpu)  # the benchmark's k = 10
    assert not sae.fast_path(sae.SELECTED_DECODE, 1024, 102, cpu)  # the DNN preset's share of k
    assert not sae.fast_path(sae.SELECTED_DECODE, 64, 1, cpu) and not sae.fast_path(sae.DEAD_COLUMNS, 64, 1, cpu)  # the toy SAEs
    assert sae.fast_path(sae.DEAD_COLUMNS, 1024, 200, cpu) and not sae.fast_path(sae.DEAD_COLUMNS, 1024, 700, cpu)
    assert not sae.fast_path(sae.SELECTED_DECODE, 1024, 10, cuda)  # measured on CPUs only
