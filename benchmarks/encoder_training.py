"""Benchmark: training steps per second of the identifiability chapter's encoders.

The default model of the chapter (d = 5, 100 clusters, kappa = 10, encoder with hidden widths
128 x 4 and layer normalisation, batch 1,024): ``identifiability.train_encoders`` on N seeds in
one batched pass, against the straightforward route, one ``torch.nn.Sequential`` encoder and
classifier per seed trained in a Python loop on the same data-generating process. Reports steps
per second per seed (N seeds x steps / wall time) and the ratio, from one run. Usage::

    python benchmarks/encoder_training.py [--steps 300] [--seeds 1 3 8] [--device auto|cpu|cuda]

Results go to ``benchmarks/results/encoder_training.json`` and are printed as a table.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import torch
import torch.nn.functional as F
from timing import timed, write_report
from torch import nn

from superposition.runtime import get_device, make_generator, seed_everything
from superposition.science import identifiability as ident

D, N_CLUSTERS, KAPPA, HIDDEN, BATCH, LR = 5, 100, 10.0, (128, 128, 128, 128), 1024, 3e-3


def plain_encoder(seed: int) -> nn.Module:
    """The same architecture as ``ident.init_encoders`` as an ``nn.Sequential`` (its own initialisation)."""
    torch.manual_seed(seed)
    layers: list[nn.Module] = []
    widths = [D, *HIDDEN]
    for a, b in zip(widths[:-1], widths[1:]):
        layers += [nn.Linear(a, b), nn.LayerNorm(b), nn.LeakyReLU(0.01)]
    layers += [nn.Linear(HIDDEN[-1], D), nn.Linear(D, N_CLUSTERS, bias=False)]
    return nn.Sequential(*layers)


def train_one_by_one(seeds: list[int], mixing: ident.InvertibleMlp, centres: torch.Tensor, n_steps: int, device: torch.device) -> None:
    """The reference: each seed's encoder trained alone, one after another, on fresh batches."""
    for seed in seeds:
        model = plain_encoder(seed).to(device)
        optimiser = torch.optim.Adam(model.parameters(), lr=LR)
        stream = make_generator(0, 0)
        for _ in range(n_steps):
            z, labels = ident.sample_dataset(BATCH, centres, KAPPA, stream)
            loss = F.cross_entropy(model(mixing(z.to(device))), labels.to(device))
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 3, 8])
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--output", type=Path, default=Path(__file__).parent / "results" / "encoder_training.json")
    args = parser.parse_args()
    os.environ.setdefault("SUPERPOSITION_QUIET", "1")  # no progress bars in the timings
    seed_everything(0)
    device = get_device(args.device)
    centres = ident.cluster_centres(N_CLUSTERS, D, make_generator(0, 0, 0))
    mixing = ident.invertible_mlp(D, make_generator(0, 0, 1))
    load_before = os.getloadavg()
    # warm-up outside the timings
    ident.train_encoders(ident.init_encoders(D, N_CLUSTERS, [0], hidden=HIDDEN, device=device), mixing, centres, KAPPA, 3, lr=LR, eval_every=3, n_eval=256)
    train_one_by_one([0], mixing, centres, 3, device)
    results = {}
    for n_seeds in args.seeds:
        seeds = list(range(n_seeds))
        encoders = ident.init_encoders(D, N_CLUSTERS, seeds, hidden=HIDDEN, device=device)
        name = f"seeds_{n_seeds}"
        _, t_ours = timed(name, lambda: ident.train_encoders(encoders, mixing, centres, KAPPA, args.steps, lr=LR, eval_every=args.steps, n_eval=256), device)
        _, t_ref = timed(name + "_reference", lambda: train_one_by_one(seeds, mixing, centres, args.steps, device), device)
        results[name] = {
            "n_seeds": n_seeds, "steps": args.steps, "seconds": round(t_ours, 3), "reference_seconds": round(t_ref, 3),
            "steps_per_second": round(args.steps / t_ours, 1), "seed_steps_per_second": round(n_seeds * args.steps / t_ours, 1),
            "reference_seed_steps_per_second": round(n_seeds * args.steps / t_ref, 1), "speedup": round(t_ref / t_ours, 2),
        }  # fmt: skip
    write_report(args.output, {"d": D, "n_clusters": N_CLUSTERS, "kappa": KAPPA, "hidden": list(HIDDEN), "batch": BATCH, "lr": LR, "steps": args.steps}, device, load_before, ("torch", "numpy"), results)
    print(f"{'seeds':>6} {'ours s':>8} {'loop s':>8} {'speed-up':>9} {'steps/s':>8} {'seed-steps/s':>13} {'loop seed-steps/s':>18}")
    for r in results.values():
        print(f"{r['n_seeds']:>6} {r['seconds']:>8.2f} {r['reference_seconds']:>8.2f} {r['speedup']:>8.1f}x {r['steps_per_second']:>8.1f} "
              f"{r['seed_steps_per_second']:>13.1f} {r['reference_seed_steps_per_second']:>18.1f}")  # fmt: skip


if __name__ == "__main__":
    main()
