"""Benchmark: ridge with one penalty per voxel, the DNN→brain encoding model, against scikit-learn and himalaya.

Synthetic "voxels": noisy linear read-outs of synthetic network features, each voxel with its
own signal-to-noise ratio, so that the best penalty differs from voxel to voxel. Every route
fits, per fold of the 5-fold protocol (centred train and test parts), a ridge regression without
intercept with one penalty per voxel chosen from ``np.logspace(-8, 8, 17)``, predicts the test
part and scores each voxel by Pearson r:

- ``metrics.ridge_predictivity(..., alpha_per_target=True, target_batch_size=...)`` (float64 and
  float32), leave-one-out penalty choice, voxels in batches;
- ``sklearn.linear_model.RidgeCV(alphas, fit_intercept=False, alpha_per_target=True)`` (the same
  leave-one-out criterion: same penalties, same scores up to rounding);
- himalaya's ``RidgeCV`` (torch backend, voxels in batches), which chooses each penalty by an
  inner 5-fold cross-validation instead of leave-one-out, so its penalties and scores differ
  slightly: the table reports by how much.

Each route runs in its own process so that its peak resident memory (``VmHWM``) is its own; the
wall times and their ratios come from one run. Usage::

    python benchmarks/voxel_ridge.py [--n-images 3000] [--n-features 800] [--n-voxels 8000]
        [--target-batch-size 2048] [--device auto|cpu|cuda]

(NSD scale: ``--n-images 10000 --n-features 2048 --n-voxels 30000``, meant for a GPU.) Results go
to ``benchmarks/results/voxel_ridge.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ALPHAS = np.logspace(-8, 8, 17)
ROUTES = ("ours_float64", "ours_float32", "sklearn", "himalaya")


def synthetic_voxels(n_images: int, n_features: int, n_voxels: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Features (n_images, n_features): ReLU of correlated Gaussians; voxels (n_images, n_voxels):
    sparse linear read-outs of them plus noise, with signal-to-noise ratios from 0.05 to 5."""
    rng = np.random.default_rng(seed)
    mixing = rng.standard_normal((n_features // 4, n_features)) / np.sqrt(n_features // 4)
    features = np.maximum(rng.standard_normal((n_images, n_features // 4)) @ mixing, 0.0)
    readout = rng.standard_normal((n_features, n_voxels)) * (rng.random((n_features, n_voxels)) < 0.05)
    signal = features @ readout
    signal /= signal.std(axis=0) + 1e-12
    snr = np.exp(rng.uniform(np.log(0.05), np.log(5.0), n_voxels))
    return features, (signal * np.sqrt(snr) + rng.standard_normal((n_images, n_voxels))).astype(np.float64)


def pearson_columns(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a, b = a - a.mean(axis=0), b - b.mean(axis=0)
    return (a * b).sum(axis=0) / np.maximum(np.linalg.norm(a, axis=0) * np.linalg.norm(b, axis=0), 1e-300)


def run_route(route: str, args: argparse.Namespace, out: Path) -> None:
    """In a child process: fit every fold with ``route``; save per-voxel r and penalties; print timing and peak memory."""
    import torch

    from superposition import metrics
    from superposition.metrics.protocol import kfold_indices
    from superposition.runtime import get_device

    x, y = synthetic_voxels(args.n_images, args.n_features, args.n_voxels, args.seed)
    folds = kfold_indices(args.n_images)
    device = get_device(args.device)
    start = time.perf_counter()
    if route.startswith("ours"):
        dtype = torch.float64 if route == "ours_float64" else torch.float32
        scores = metrics.ridge_predictivity(x, y, alpha_per_target=True, target_batch_size=args.target_batch_size, device=device, dtype=dtype)
        r, alphas = scores.per_target, scores.alphas
    else:
        r, alphas = np.empty((len(folds), args.n_voxels)), np.empty((len(folds), args.n_voxels))
        for f, (train, test) in enumerate(folds):
            x_train, x_test = x[train] - x[train].mean(axis=0), x[test] - x[test].mean(axis=0)
            y_train, y_test = y[train] - y[train].mean(axis=0), y[test] - y[test].mean(axis=0)
            if route == "sklearn":
                from sklearn.linear_model import RidgeCV

                model = RidgeCV(alphas=ALPHAS, fit_intercept=False, alpha_per_target=True).fit(x_train, y_train)
                prediction, alphas[f] = model.predict(x_test), model.alpha_
            else:
                from himalaya.backend import set_backend
                from himalaya.ridge import RidgeCV as HimalayaRidgeCV

                backend = set_backend("torch_cuda" if device.type == "cuda" else "torch", on_error="raise")
                model = HimalayaRidgeCV(alphas=ALPHAS, cv=5, fit_intercept=False,
                                        solver_params=dict(n_targets_batch=args.target_batch_size, n_alphas_batch=len(ALPHAS)))  # fmt: skip
                model.fit(backend.asarray(x_train), backend.asarray(y_train))
                prediction = backend.to_numpy(model.predict(backend.asarray(x_test)))
                alphas[f] = backend.to_numpy(model.best_alphas_)
            r[f] = pearson_columns(prediction, y_test)
    if device.type == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    peak_kib = next(int(line.split()[1]) for line in Path("/proc/self/status").read_text().splitlines() if line.startswith("VmHWM"))
    np.save(out / f"{route}_r.npy", np.asarray(r))
    np.save(out / f"{route}_alphas.npy", np.asarray(alphas))
    print(json.dumps({"seconds": round(seconds, 3), "peak_rss_mib": round(peak_kib / 1024, 1)}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n-images", type=int, default=3000)
    parser.add_argument("--n-features", type=int, default=800)
    parser.add_argument("--n-voxels", type=int, default=8000)
    parser.add_argument("--target-batch-size", type=int, default=2048)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--route", choices=ROUTES, help=argparse.SUPPRESS)
    parser.add_argument("--scratch", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--output", type=Path, default=Path(__file__).parent / "results" / "voxel_ridge.json")
    args = parser.parse_args()
    if args.route:
        run_route(args.route, args, args.scratch)
        return

    from timing import LOADS, write_report

    from superposition.runtime import get_device

    device = get_device(args.device)
    load_before = os.getloadavg()
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as scratch:
        for route in ROUTES:
            if route == "himalaya":
                try:
                    import himalaya  # noqa: F401
                except ImportError:
                    print("himalaya is not installed (pip install -c constraints.txt -e '.[bench]'): skipped")
                    continue
            command = [sys.executable, __file__, "--route", route, "--scratch", scratch, "--n-images", str(args.n_images),
                       "--n-features", str(args.n_features), "--n-voxels", str(args.n_voxels), "--seed", str(args.seed),
                       "--target-batch-size", str(args.target_batch_size), "--device", args.device]  # fmt: skip
            before = os.getloadavg()[0]
            done = subprocess.run(command, check=True, capture_output=True, text=True)
            LOADS[route] = [round(before, 2), round(os.getloadavg()[0], 2)]
            results[route] = json.loads(done.stdout.strip().splitlines()[-1])
            results[route]["r"] = np.load(Path(scratch) / f"{route}_r.npy")
            results[route]["alphas"] = np.load(Path(scratch) / f"{route}_alphas.npy")
    reference = results["sklearn"]
    report = {}
    for route, r in results.items():
        report[route] = {
            "seconds": r["seconds"],
            "peak_rss_mib": r["peak_rss_mib"],
            "speedup_vs_sklearn": round(reference["seconds"] / r["seconds"], 2),
            "mean_r": float(r["r"].mean()),
            "max_abs_r_difference_vs_sklearn": float(np.abs(r["r"] - reference["r"]).max()),
            "share_of_same_alphas_as_sklearn": float(np.mean(np.isclose(r["alphas"], reference["alphas"], rtol=1e-5, atol=0))),
        }
    write_report(args.output, vars(args) | {"output": args.output.name, "route": None, "scratch": None, "n_folds": 5, "alphas": "np.logspace(-8, 8, 17)"},
                 device, load_before, ("torch", "numpy", "scipy", "scikit-learn", "himalaya"), report)  # fmt: skip
    print(f"sizes: {args.n_images} images, {args.n_features} features, {args.n_voxels} voxels, 5 folds, one penalty per voxel")
    print(f"{'route':<14} {'seconds':>8} {'vs sklearn':>10} {'peak MiB':>9} {'mean r':>8} {'max |dr|':>9} {'same alpha':>10}")
    for route, r in report.items():
        print(f"{route:<14} {r['seconds']:>8.2f} {r['speedup_vs_sklearn']:>9.2f}x {r['peak_rss_mib']:>9.0f} {r['mean_r']:>8.4f} "
              f"{r['max_abs_r_difference_vs_sklearn']:>9.1e} {r['share_of_same_alphas_as_sklearn']:>10.3f}")  # fmt: skip


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    main()
