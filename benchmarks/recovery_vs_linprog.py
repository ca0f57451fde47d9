"""Benchmark: the batched basis-pursuit solver against per-problem loops with the tools a user
would otherwise pick, on the same recovery problems.

- exact basis pursuit by linear programming (``scipy.optimize.linprog``, HiGHS), one problem at a time;
- scikit-learn ``Lasso`` with a small penalty (``alpha = 1e-5``, ``positive=True`` for nonnegative
  codes), one problem at a time.

For each, the recovery verdicts (relative error < 1e-3) are compared with the linprog verdicts,
and the wall times give the speed ratios, all from one run. Usage::

    python benchmarks/recovery_vs_linprog.py [--n-features 200] [--n-delta 10] [--n-rho 12] [--n-trials 4] [--skip-lasso]

Results go to ``benchmarks/results/recovery_vs_linprog.json`` and are printed as a table.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Lasso

from superposition.book.record import package_versions
from superposition.runtime import describe_device, get_device, progress, seed_everything
from superposition.science import basis_pursuit

SUCCESS_TOL = 1e-3


def lasso_solution(a: np.ndarray, y: np.ndarray, nonnegative: bool) -> np.ndarray:
    model = Lasso(alpha=1e-5, fit_intercept=False, positive=nonnegative, max_iter=20_000, tol=1e-8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(a, y).coef_


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n-features", type=int, default=200)
    parser.add_argument("--n-delta", type=int, default=10)
    parser.add_argument("--n-rho", type=int, default=12)
    parser.add_argument("--n-trials", type=int, default=4)
    parser.add_argument("--max-iter", type=int, default=1000)
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--skip-lasso", action="store_true")
    parser.add_argument("--output", type=Path, default=Path(__file__).parent / "results" / "recovery_vs_linprog.json")
    args = parser.parse_args()
    seed_everything(0)
    device = get_device(args.device)
    deltas = np.linspace(0.1, 0.9, args.n_delta)
    rhos = np.linspace(1.0 / args.n_rho, 1.0, args.n_rho)
    report = {
        "settings": vars(args) | {"output": args.output.name},
        "device": describe_device(device),
        "cpu": platform.processor() or platform.machine(),
        "packages": package_versions(("torch", "numpy", "scipy", "scikit-learn")),
        "results": {},
    }
    for nonnegative in (False, True):
        kind = "nonnegative" if nonnegative else "signed"
        problems = [
            basis_pursuit.phase_diagram_row(args.n_features, delta, rhos, args.n_trials, nonnegative, seed=0, row=i)
            for i, delta in enumerate(deltas)
        ]
        n_problems = sum(x0.shape[0] * x0.shape[2] for _, x0 in problems)

        dtype = torch.float32 if device.type == "cpu" else torch.float64
        if device.type == "cuda":  # warm-up outside the timing
            basis_pursuit.recovery_verdicts(problems[0][0].to(device, dtype), problems[0][1].to(device, dtype), nonnegative, max_iter=20)
            torch.cuda.synchronize()
        start = time.perf_counter()
        batched = []
        for a, x0 in problems:
            verdict = basis_pursuit.recovery_verdicts(a.to(device, dtype), x0.to(device, dtype), nonnegative, SUCCESS_TOL, args.max_iter)
            batched.append(verdict.recovered.cpu().numpy().ravel())
        if device.type == "cuda":
            torch.cuda.synchronize()
        t_batched = time.perf_counter() - start
        batched_ok = np.concatenate(batched)

        def loop(solver):
            verdicts, start = [], time.perf_counter()
            for a, x0 in progress(problems, total=len(problems), desc=f"{solver.__name__} ({kind})"):
                a_np, x_np = a.numpy(), x0.numpy()
                for t in range(a_np.shape[0]):
                    for p in range(x_np.shape[2]):
                        x_hat = solver(a_np[t], a_np[t] @ x_np[t, :, p], nonnegative)
                        err = np.linalg.norm(x_hat - x_np[t, :, p]) / np.linalg.norm(x_np[t, :, p])
                        verdicts.append(err < SUCCESS_TOL)
            return np.array(verdicts), time.perf_counter() - start

        lp_ok, t_lp = loop(basis_pursuit.basis_pursuit_reference)
        entry = {
            "n_problems": n_problems,
            "batched_seconds": round(t_batched, 3),
            "linprog_seconds": round(t_lp, 3),
            "speedup_vs_linprog": round(t_lp / t_batched, 2),
            "agreement_with_linprog": round(float((batched_ok == lp_ok).mean()), 4),
            "success_rate_linprog": round(float(lp_ok.mean()), 4),
        }
        if not args.skip_lasso:
            lasso_ok, t_lasso = loop(lasso_solution)
            entry |= {
                "lasso_seconds": round(t_lasso, 3),
                "speedup_vs_lasso": round(t_lasso / t_batched, 2),
                "lasso_agreement_with_linprog": round(float((lasso_ok == lp_ok).mean()), 4),
            }
        report["results"][kind] = entry
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    print(f"device: {report['device']}")
    print(f"{'codes':<12} {'problems':>8} {'batched s':>10} {'linprog s':>10} {'speed-up':>9} {'agree':>7} {'lasso s':>9} {'vs lasso':>9} {'lasso agree':>12}")
    for kind, r in report["results"].items():
        print(
            f"{kind:<12} {r['n_problems']:>8} {r['batched_seconds']:>10.2f} {r['linprog_seconds']:>10.2f} "
            f"{r['speedup_vs_linprog']:>8.1f}x {r['agreement_with_linprog']:>7.2%} "
            f"{r.get('lasso_seconds', float('nan')):>9.2f} {r.get('speedup_vs_lasso', float('nan')):>8.1f}x "
            f"{r.get('lasso_agreement_with_linprog', float('nan')):>12.2%}"
        )


if __name__ == "__main__":
    main()
