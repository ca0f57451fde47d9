"""Benchmark: training N sparse autoencoders at once against training them one after another.

The reference is the straightforward route: one TopK SAE as a ``torch.nn.Module`` (two
``nn.Linear`` layers, TopK with ReLU, the AuxK loss on latents silent in the batch in the
preset's form, AdamW), as in the authors' toy code, trained N times in a Python loop. Ours is ``sae.train_saes`` on one
batch of N SAEs. Both start from the same weights and see the same batches; the script reports
samples per second (N SAEs x batch x steps / wall time), the ratio, and the largest weight
difference after training (they do the same arithmetic, in a different order). Beside them, two
more routes of the library: all N SAEs in one pass (``group = N``) and N separate calls of one SAE
each (the library in a loop); ``train_saes`` chooses its passes by size (``sae.group_size``), and
the route should never lose to either. Three sizes:

- ``toy``: Paper A's toy SAE (32 inputs, 64 latents, k = 7, batch 1,024);
- ``network``: a layer-sized SAE (256 inputs, 1,024 latents, k = 32, batch 256);
- ``large``: the peer benchmark's larger SAE (256 inputs, 1,024 latents, k = 102, batch 1,024).

On a CPU it also times the two products of the training loss that have a fast path
(``loss_routes``): the decoding of the kept latents (dense code matrix against
``sae_kernels.decode_selected``, at several shares k / latents) and the AuxK product over the dead
latents (masked matrix against their gathered columns, at several shares of dead latents), one
forward and backward pass each; ``sae.SELECTED_DECODE`` and ``sae.DEAD_COLUMNS`` are set from them.

Usage::

    python benchmarks/sae_training.py [--steps 300] [--device auto|cpu|cuda] [--routes-only]

Results go to ``benchmarks/results/sae_training.json`` and are printed as a table.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from timing import timed, write_report
from torch import nn

from superposition.runtime import get_device, seed_everything
from superposition.science import sae

SIZES = {
    "toy": {"d": 32, "n_latents": 64, "k": 7, "batch": 1024, "n_saes": [1, 6, 20], "step_scale": 1.0},
    "network": {"d": 256, "n_latents": 1024, "k": 32, "batch": 256, "n_saes": [1, 4], "step_scale": 0.25},
    "large": {"d": 256, "n_latents": 1024, "k": 102, "batch": 1024, "n_saes": [1, 4, 8], "step_scale": 0.1},
}


class PlainTopKSae(nn.Module):
    """One TopK SAE the straightforward way: ``z = TopK(ReLU(W_enc h + b_enc))``, ``h_hat = W_dec z + b_dec``."""

    def __init__(self, d: int, n_latents: int, k: int, aux_alpha: float, aux_form: str = "signed") -> None:
        super().__init__()
        self.encoder, self.decoder = nn.Linear(d, n_latents), nn.Linear(n_latents, d)
        self.k, self.aux_alpha, self.aux_form = k, aux_alpha, aux_form

    def loss(self, h: torch.Tensor) -> torch.Tensor:
        """Reconstruction MSE plus the AuxK loss; ``h``: (batch, d)."""
        pre = self.encoder(h)
        values, index = pre.topk(self.k, dim=-1)
        z = torch.zeros_like(pre).scatter(-1, index, torch.relu(values))
        h_hat = self.decoder(z)
        loss = ((h - h_hat) ** 2).mean()
        dead = ~(z > 0).any(dim=0)
        if bool(dead.any()) and self.aux_form == "signed":  # the authors' code: raw pre-activations, bias, residual not detached
            loss = loss + self.aux_alpha * ((self.decoder(pre * dead) - (h - h_hat)) ** 2).mean()
        elif bool(dead.any()):  # Gao et al.: the ReLU of the pre-activations, no bias, residual fixed
            residual_hat = (torch.relu(pre) * dead) @ self.decoder.weight.T
            loss = loss + self.aux_alpha * ((residual_hat - (h - h_hat).detach()) ** 2).mean()
        return loss


def plain_copies(saes: sae.Saes) -> list[PlainTopKSae]:
    """The SAEs of a batch as separate modules with the same weights."""
    cfg, copies = saes.config, []
    for j in range(saes.w_enc.shape[0]):
        module = PlainTopKSae(saes.w_enc.shape[1], cfg.n_latents, cfg.k, cfg.aux_alpha, cfg.aux_form).to(saes.w_enc.device)
        with torch.no_grad():
            module.encoder.weight.copy_(saes.w_enc[j].T)
            module.encoder.bias.copy_(saes.b_enc[j])
            module.decoder.weight.copy_(saes.w_dec[j].T)
            module.decoder.bias.copy_(saes.b_dec[j])
        copies.append(module)
    return copies


def train_one_by_one(modules: list[PlainTopKSae], batches: list[torch.Tensor], n_steps: int, lr: float) -> None:
    """The reference loop: each SAE trained alone, one after another; ``batches``: (n_saes, batch, d) each."""
    for j, module in enumerate(modules):
        optimiser = torch.optim.AdamW(module.parameters(), lr=lr, weight_decay=0.01)
        for step in range(n_steps):
            loss = module.loss(batches[step % len(batches)][j])
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()


def train_one_at_a_time(saes: sae.Saes, pool: list[torch.Tensor], n_steps: int) -> None:
    """The library in a loop: each SAE of ``saes`` trained by its own ``train_saes`` call, one after another."""
    for j in range(saes.w_enc.shape[0]):
        sae.train_saes(saes.select([j]), (pool[step % len(pool)][j : j + 1] for step in range(n_steps)), n_steps, log_every=n_steps)


def activation_pool(n_saes: int, d: int, batch: int, device: torch.device, n_batches: int = 16) -> list[torch.Tensor]:
    """Sparse nonnegative activations (ReLU of random mixtures of sparse features): (n_saes, batch, d) each."""
    g = torch.Generator().manual_seed(0)
    mixing = torch.randn(n_saes, 4 * d, d, generator=g) / (2 * d) ** 0.5
    pool = []
    for _ in range(n_batches):
        features = torch.rand(n_saes, batch, 4 * d, generator=g) * (torch.rand(n_saes, batch, 4 * d, generator=g) < 0.05)
        pool.append(torch.relu(features @ mixing).to(device))
    return pool


KERNEL_CASES = {
    "k_share": [(1024, 256, k, 0.0) for k in (7, 10, 32, 64, 102)] + [(512, 128, k, 0.0) for k in (8, 16)] + [(256, 64, 8, 0.0), (64, 32, 7, 0.0)],
    "dead_share": [(n, d, k, share) for n, d, k in ((1024, 256, 10), (1024, 256, 102), (512, 128, 51)) for share in (0.05, 0.2, 0.4, 0.6)]
    + [(256, 64, 26, 0.05), (256, 64, 26, 0.2), (64, 32, 7, 0.1), (64, 32, 7, 0.25)],
}
"""The products :func:`sae.sae_losses` routes by size: (latents, inputs, k, share of dead latents)."""


def loss_route_seconds(n_latents: int, d: int, k: int, dead_share: float, fast: bool, batch: int = 1024, repeats: int = 12) -> float:
    """Median seconds of one forward and backward pass of ``sae.sae_losses`` (one SAE, the authors' AuxK).

    With ``dead_share = 0`` (no dead latent, no AuxK term) ``fast`` switches the decoding of the
    kept latents; otherwise it switches the AuxK product over the dead latents' columns, and the
    decoding takes the library's route in both.
    """
    saved = (sae.SELECTED_DECODE, sae.DEAD_COLUMNS)
    forced = (1, 1.0) if fast else (10**9, 0.0)
    if dead_share == 0:
        sae.SELECTED_DECODE = forced
    else:
        sae.DEAD_COLUMNS = forced
    try:
        config = sae.preset("dnn", n_latents=n_latents, k=k)
        saes = sae.init_saes(1, d, config, seed=0)
        for p in saes.parameters():
            p.requires_grad_(True)
        h = torch.relu(torch.randn(1, batch, d, generator=torch.Generator().manual_seed(0)))
        dead = torch.zeros(1, n_latents, dtype=torch.bool)
        dead[0, : round(dead_share * n_latents)] = True
        times = []
        for _ in range(repeats + 2):
            start = time.perf_counter()
            loss, _, _ = sae.sae_losses(saes, h, dead)
            loss.sum().backward()
            times.append(time.perf_counter() - start)
        return float(np.median(times[2:]))
    finally:
        sae.SELECTED_DECODE, sae.DEAD_COLUMNS = saved


def kernel_routes() -> dict[str, dict[str, Any]]:
    """Dense products against the fast paths at each size of :data:`KERNEL_CASES`, and the route chosen."""
    results = {}
    for kind, cases in KERNEL_CASES.items():
        for n_latents, d, k, dead_share in cases:
            dense = loss_route_seconds(n_latents, d, k, dead_share, fast=False)
            fast = loss_route_seconds(n_latents, d, k, dead_share, fast=True)
            share = k / n_latents if kind == "k_share" else dead_share
            rule = sae.SELECTED_DECODE if kind == "k_share" else sae.DEAD_COLUMNS
            results[f"{kind}_{n_latents}_{k}_{dead_share}"] = {
                "routes": kind, "n_latents": n_latents, "d": d, "k": k, "dead_share": dead_share, "share": round(share, 4),
                "dense_ms": round(1e3 * dense, 2), "fast_ms": round(1e3 * fast, 2), "dense_over_fast": round(dense / fast, 2),
                "chosen": "fast" if sae.fast_path(rule, n_latents, round(share * n_latents), torch.device("cpu")) else "dense",
            }  # fmt: skip
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=300, help="training steps of the toy size (the network size runs a quarter)")
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--routes-only", action="store_true", help="time only the loss's dense and fast products (CPU), which set sae.SELECTED_DECODE and sae.DEAD_COLUMNS")
    parser.add_argument("--output", type=Path, default=Path(__file__).parent / "results" / "sae_training.json")
    args = parser.parse_args()
    os.environ.setdefault("SUPERPOSITION_QUIET", "1")  # no progress bars in the timings
    seed_everything(0)
    device = get_device(args.device)
    load_before = os.getloadavg()
    results: dict[str, dict[str, Any]] = {}
    for size, spec in ({} if args.routes_only else SIZES).items():
        n_steps = max(1, int(args.steps * spec["step_scale"]))
        config = sae.preset("toy", n_latents=spec["n_latents"], k=spec["k"])
        for n_saes in spec["n_saes"]:
            pool = activation_pool(n_saes, spec["d"], spec["batch"], device)
            batched = sae.init_saes(n_saes, spec["d"], config, seed=1, device=device)
            modules = plain_copies(batched)
            # warm-up outside the timings
            sae.train_saes(sae.init_saes(n_saes, spec["d"], config, device=device), iter(pool), 2, log_every=1)
            train_one_by_one(plain_copies(sae.init_saes(n_saes, spec["d"], config, device=device)), pool, 2, config.lr)
            name = f"{size}_{n_saes}"
            batches = (pool[step % len(pool)] for step in range(n_steps))
            _, t_ours = timed(name, lambda: sae.train_saes(batched, batches, n_steps, log_every=n_steps), device)
            _, t_ref = timed(name + "_reference", lambda: train_one_by_one(modules, pool, n_steps, config.lr), device)
            one_pass = sae.init_saes(n_saes, spec["d"], config, seed=1, device=device)
            passes = (pool[step % len(pool)] for step in range(n_steps))
            _, t_one_pass = timed(name + "_one_pass", lambda: sae.train_saes(one_pass, passes, n_steps, log_every=n_steps, group=n_saes), device)
            _, t_loop = timed(name + "_library_loop", lambda: train_one_at_a_time(sae.init_saes(n_saes, spec["d"], config, seed=1, device=device), pool, n_steps), device)
            samples = n_saes * spec["batch"] * n_steps
            with torch.no_grad():
                difference = max(float((batched.w_enc[j] - m.encoder.weight.T).abs().max()) for j, m in enumerate(modules))
            results[name] = {
                "size": size, "n_saes": n_saes, "d": spec["d"], "n_latents": spec["n_latents"], "k": spec["k"],
                "batch": spec["batch"], "steps": n_steps,
                "seconds": round(t_ours, 3), "reference_seconds": round(t_ref, 3),
                "samples_per_second": round(samples / t_ours), "reference_samples_per_second": round(samples / t_ref),
                "speedup": round(t_ref / t_ours, 2),
                "group_size": sae.group_size(n_saes, spec["batch"], spec["n_latents"], device),
                "one_pass_seconds": round(t_one_pass, 3), "library_loop_seconds": round(t_loop, 3),
                "route_vs_one_pass": round(t_one_pass / t_ours, 2), "route_vs_library_loop": round(t_loop / t_ours, 2),
                "max_abs_encoder_weight_difference": difference,
            }  # fmt: skip
    routes = kernel_routes() if device.type == "cpu" else {}
    for size in {r["size"] for r in results.values()}:
        one = results[f"{size}_1"]["seconds"]
        for name, r in results.items():
            if r["size"] == size:
                r["cost_relative_to_one_sae"] = round(r["seconds"] / one, 2)
    settings = {"steps": args.steps, "device": args.device, "optimiser": "AdamW lr 1e-3, weight decay 0.01", "aux_alpha": 0.1, "threads": torch.get_num_threads(), "group_elements": sae.GROUP_ELEMENTS}
    settings |= {"selected_decode": list(sae.SELECTED_DECODE), "dead_columns": list(sae.DEAD_COLUMNS)}
    write_report(args.output, settings, device, load_before, ("torch", "numpy"), results | {"loss_routes": routes})
    print(f"{'case':<10} {'group':>5} {'ours s':>7} {'one pass s':>10} {'lib loop s':>10} {'plain loop s':>12} {'speed-up':>9} {'samples/s':>11} {'vs 1 SAE':>9} {'max |dW|':>9}")
    for name, r in results.items():
        print(f"{name:<10} {r['group_size']:>5} {r['seconds']:>7.2f} {r['one_pass_seconds']:>10.2f} {r['library_loop_seconds']:>10.2f} {r['reference_seconds']:>12.2f} {r['speedup']:>8.1f}x "
              f"{r['samples_per_second']:>11,} {r['cost_relative_to_one_sae']:>8.2f}x {r['max_abs_encoder_weight_difference']:>9.1e}")  # fmt: skip

    if routes:
        print(f"\n{'loss products':<28} {'share':>6} {'dense ms':>9} {'fast ms':>8} {'dense/fast':>10} {'chosen':>7}")
        for name, r in routes.items():
            print(f"{name:<28} {r['share']:>6.3f} {r['dense_ms']:>9.2f} {r['fast_ms']:>8.2f} {r['dense_over_fast']:>9.2f}x {r['chosen']:>7}")


if __name__ == "__main__":
    main()
