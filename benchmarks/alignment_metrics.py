"""Benchmark: the alignment metrics at DNN scale against the routes a user would otherwise take.

On synthetic source and target responses that share a low-dimensional latent structure
(ReLU read-outs of the same Gaussian latents, plus noise, with a few dead target units), with
the 5-fold protocol of Longon, Klindt & Khosla (2025):

- soft-matching (``metrics.soft_matching``) against, per fold, NumPy correlations and
  ``ot.emd`` from POT on the cost ``1 - corr``;
- ridge predictivity (``metrics.ridge_predictivity``, one penalty shared by all targets)
  against, per fold, ``sklearn.linear_model.RidgeCV(alphas=np.logspace(-8, 8, 17),
  fit_intercept=False)``, ``predict`` and a per-target Pearson correlation.

Both routes get the same data and the same folds, and drop the same dead units; the wall
times, their ratios and the largest per-fold score differences come from one run. Usage::

    python benchmarks/alignment_metrics.py [--n-stimuli 10000] [--n-source 1536] [--n-target 2000]
        [--n-latent 64] [--device auto|cpu|cuda] [--no-float32]

Results go to ``benchmarks/results/alignment_metrics.json`` and are printed as a table.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

import numpy as np
import ot
import torch
from sklearn.linear_model import RidgeCV
from timing import timed, write_report

from superposition import metrics
from superposition.metrics.protocol import kfold_indices
from superposition.runtime import get_device, seed_everything

ALPHAS = np.logspace(-8, 8, 17)


def synthetic_responses(
    n_stimuli: int, n_source: int, n_target: int, n_latent: int, n_dead: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """ReLU read-outs of shared Gaussian latents: (n_stimuli, n_source), (n_stimuli, n_target)."""
    rng = np.random.default_rng(seed)
    latents = rng.standard_normal((n_stimuli, n_latent))

    def readout(n_units: int) -> np.ndarray:
        weights = rng.standard_normal((n_latent, n_units)) / np.sqrt(n_latent)
        bias = rng.uniform(-1.0, 0.5, size=n_units)
        return np.maximum(latents @ weights + bias + 0.5 * rng.standard_normal((n_stimuli, n_units)), 0.0)

    source, target = readout(n_source), readout(n_target)
    target[:, rng.choice(n_target, size=n_dead, replace=False)] = 0.0
    return source, target


def drop_dead(data: np.ndarray, folds: list) -> np.ndarray:
    """Remove units that are all-zero in the train or test part of any fold."""
    dead = np.zeros(data.shape[1], dtype=bool)
    for train, test in folds:
        dead |= np.all(data[train] == 0, axis=0) | np.all(data[test] == 0, axis=0)
    return data[:, ~dead]


def unit_columns(data: np.ndarray) -> np.ndarray:
    centred = data - data.mean(axis=0)
    return centred / np.linalg.norm(centred, axis=0)


def soft_matching_reference(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Per fold: NumPy correlations and POT's exact ``ot.emd`` plan on ``1 - corr_train``."""
    folds = kfold_indices(source.shape[0])
    x, y = drop_dead(source, folds), drop_dead(target, folds)
    a, b = np.full(x.shape[1], 1.0 / x.shape[1]), np.full(y.shape[1], 1.0 / y.shape[1])
    scores = []
    for train, test in folds:
        corr_train = unit_columns(x[train]).T @ unit_columns(y[train])
        plan, log = ot.emd(a, b, 1.0 - corr_train, numItermax=100_000_000, log=True)
        if log["warning"] is not None:
            raise RuntimeError(f"ot.emd did not converge: {log['warning']}")
        scores.append(float(np.sum(plan * (unit_columns(x[test]).T @ unit_columns(y[test])))))
    return np.array(scores)


def ridge_reference(source: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per fold: centre, ``RidgeCV(alphas, fit_intercept=False)``, predict, per-target Pearson."""
    folds = kfold_indices(source.shape[0])
    x, y = drop_dead(source, folds), drop_dead(target, folds)
    scores, alphas = [], []
    for train, test in folds:
        x_train, x_test = x[train] - x[train].mean(axis=0), x[test] - x[test].mean(axis=0)
        y_train, y_test = y[train] - y[train].mean(axis=0), y[test] - y[test].mean(axis=0)
        model = RidgeCV(alphas=ALPHAS, fit_intercept=False).fit(x_train, y_train)
        prediction = model.predict(x_test)
        scores.append(float(np.mean(np.sum(unit_columns(prediction) * unit_columns(y_test), axis=0))))
        alphas.append(model.alpha_)
    return np.array(scores), np.array(alphas)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n-stimuli", type=int, default=10_000)
    parser.add_argument("--n-source", type=int, default=1536)
    parser.add_argument("--n-target", type=int, default=2000)
    parser.add_argument("--n-latent", type=int, default=64)
    parser.add_argument("--n-dead", type=int, default=20, help="target units set to zero")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--no-float32", action="store_true", help="skip the extra float32 runs")
    parser.add_argument("--output", type=Path, default=Path(__file__).parent / "results" / "alignment_metrics.json")
    args = parser.parse_args()
    seed_everything(args.seed)
    device = get_device(args.device)
    source, target = synthetic_responses(args.n_stimuli, args.n_source, args.n_target, args.n_latent, args.n_dead, args.seed)
    load_before = os.getloadavg()

    # Warm-up outside the timings (library initialisation, BLAS threads), on a small problem.
    small_x, small_y = source[:500, :50], target[:500, :60]
    metrics.ridge_predictivity(small_x, small_y, device=device)
    metrics.soft_matching(small_x, small_y, device=device)
    ridge_reference(small_x, small_y)
    soft_matching_reference(small_x, small_y)

    dtypes = [torch.float64] + ([] if args.no_float32 else [torch.float32])
    results: dict[str, dict[str, Any]] = {}

    soft_ref, t_soft_ref = timed("soft_matching_reference", lambda: soft_matching_reference(source, target), device)
    for dtype in dtypes:
        name = f"soft_matching_{str(dtype).removeprefix('torch.')}"
        ours, t_ours = timed(name, lambda: metrics.soft_matching(source, target, device=device, dtype=dtype), device)
        results[name] = {
            "seconds": round(t_ours, 3),
            "reference": "numpy correlations + ot.emd per fold",
            "reference_seconds": round(t_soft_ref, 3),
            "speedup": round(t_soft_ref / t_ours, 2),
            "mean": ours.mean,
            "reference_mean": float(soft_ref.mean()),
            "max_abs_fold_difference": float(np.abs(ours.per_fold - soft_ref).max()),
            "per_fold": ours.per_fold.tolist(),
            "reference_per_fold": soft_ref.tolist(),
            "n_source_units": ours.n_source_units,
            "n_target_units": ours.n_target_units,
            "n_dropped_target": ours.n_dropped_target,
        }

    (ridge_ref, ref_alphas), t_ridge_ref = timed("ridge_reference", lambda: ridge_reference(source, target), device)
    for dtype in dtypes:
        name = f"ridge_{str(dtype).removeprefix('torch.')}"
        ours, t_ours = timed(name, lambda: metrics.ridge_predictivity(source, target, device=device, dtype=dtype), device)
        results[name] = {
            "seconds": round(t_ours, 3),
            "reference": "sklearn RidgeCV(alphas=np.logspace(-8, 8, 17), fit_intercept=False) + predict + Pearson per fold",
            "reference_seconds": round(t_ridge_ref, 3),
            "speedup": round(t_ridge_ref / t_ours, 2),
            "mean": ours.mean,
            "reference_mean": float(ridge_ref.mean()),
            "max_abs_fold_difference": float(np.abs(ours.per_fold - ridge_ref).max()),
            "per_fold": ours.per_fold.tolist(),
            "reference_per_fold": ridge_ref.tolist(),
            "alphas": ours.alphas.tolist(),
            "reference_alphas": ref_alphas.tolist(),
            "same_alphas": bool(np.array_equal(ours.alphas, ref_alphas)),
        }

    write_report(args.output, vars(args) | {"output": args.output.name, "n_folds": 5, "alphas": "np.logspace(-8, 8, 17)"},
                 device, load_before, ("torch", "numpy", "scipy", "scikit-learn", "pot"), results)  # fmt: skip
    print(f"sizes: {args.n_stimuli} stimuli, {args.n_source} source units, {args.n_target} target units")
    print(f"{'metric':<22} {'ours s':>8} {'reference s':>12} {'speed-up':>9} {'ours mean':>10} {'ref mean':>10} {'max |diff|':>11}")
    for name, r in results.items():
        print(
            f"{name:<22} {r['seconds']:>8.2f} {r['reference_seconds']:>12.2f} {r['speedup']:>8.1f}x "
            f"{r['mean']:>10.6f} {r['reference_mean']:>10.6f} {r['max_abs_fold_difference']:>11.2e}"
        )


if __name__ == "__main__":
    main()
