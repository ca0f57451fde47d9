"""Benchmark: TopK SAE training here against overcomplete and SAELens, speed and quality at one budget.

Three trainers, each with its own TopK SAE class and training loop:

- this project: ``sae.train_saes`` on a batch of SAEs (the case's preset, or a recipe);
- ``overcomplete`` 0.3.0: ``TopKSAE`` (its default encoder: linear, batch norm, ReLU before the
  TopK; unit-norm dictionary rows, no decoder bias) with ``train_sae`` and its AuxK loss
  ``top_k_auxiliary_loss``, Adam;
- ``sae-lens`` 6.54.12: ``TopKTrainingSAE`` with ``SAETrainer`` (Adam, its defaults otherwise, as
  its ``train_toy_sae`` sets them).

Every trainer sees the same pre-generated batches with the same latents, k, learning rate, Adam
betas, batch (1,024) and number of steps; each SAE is scored by one function,
:func:`quality`, on held-out samples: FVU (``sae.sae_quality``'s definition), latents that never
fire, and the MCC of the latents against the ground-truth features
(``metrics.mean_correlation_coefficient``). Cases:

- ``toy``: the toy chapter's default model (64 features, probability 0.1, width 32, 10,000
  steps); SAEs with 64 latents, k = 7, 2,000 steps on its first batches, the toy preset (lr 1e-3);
- ``large_k102`` and ``large_k10``: 1,024 features with probability 0.01 along random unit
  directions in 256 dimensions; 1,024 latents, k = 102 (the DNN preset's share) and k = 10 (about
  the number of active features), 1,000 steps, the DNN preset (lr 4e-4).

With ``--ablations`` this project's trainer also runs each of SAELens's training choices alone on
the case's preset (``sae.SaeConfig`` settings: ``b_dec_to_input``, ``decoder_norm_scaling``, a tied
initialisation at decoder norm 0.1, ``grad_clip``), all four together, and the ``saelens_like``
recipe (the three that help in every case) and the ``small_tied_init`` recipe (the same three with
decoder rows starting at norm 0.003); ``--leave-one-out`` adds all four but one, ``--init-scan``
the ``saelens_like`` recipe at initial decoder norms from 1 to 0.0001. Seeds are
SAE initialisations (the data are fixed); results give each figure's range over seeds.

``--repeats R`` times each trainer R times, in turn, and reports the median (a shared machine's
load changes within minutes). Usage (the peers live in their own environment, ``make bench-env``)::

    OMP_NUM_THREADS=1 .venv-bench/bin/python benchmarks/sae_peers.py                        # a quarter of the steps
    OMP_NUM_THREADS=1 .venv-bench/bin/python benchmarks/sae_peers.py --scale 1 --ablations --leave-one-out --init-scan   # the published table

Results go to ``benchmarks/results/sae_peers.json`` (``sae_peers_scale0.25.json`` at the default scale)
and are printed as a table.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import time
import types
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

os.environ.setdefault("TQDM_DISABLE", "1")  # SAELens's progress bar, read when tqdm is imported
os.environ.setdefault("SUPERPOSITION_QUIET", "1")

import numpy as np
import torch
from timing import write_report

from superposition import metrics
from superposition.runtime import make_generator
from superposition.science import sae, toy

Coder = Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]]
"""A trained SAE as a function: activations (n, d) to codes (n, n_latents) and reconstruction (n, d)."""


@dataclass(frozen=True)
class Data:
    """One case's data.

    Attributes
    ----------
    batches : (n_steps, batch, d) torch.Tensor
        Training batches, the same for every trainer.
    h_eval : (n_eval, d) torch.Tensor
        Held-out activations.
    x_eval : (n_eval, n_features) torch.Tensor
        Their ground-truth features.
    """

    batches: torch.Tensor
    h_eval: torch.Tensor
    x_eval: torch.Tensor


@dataclass(frozen=True)
class Case:
    """One benchmark case.

    Attributes
    ----------
    name : str
        Its name.
    config : sae.SaeConfig
        This project's settings (latents, k, learning rate and betas shared with the peers).
    n_steps : int
        Training steps at scale 1.
    data : str
        ``"toy"`` or ``"embedded"``.
    """

    name: str
    config: sae.SaeConfig
    n_steps: int
    data: str


BATCH = 1024
TRAINERS = ("ours", "overcomplete", "saelens")
CASES = (
    Case("toy", sae.preset("toy"), 2000, "toy"),
    Case("large_k102", sae.preset("dnn", n_latents=1024, k=102), 1000, "embedded"),
    Case("large_k10", sae.preset("dnn", n_latents=1024, k=10), 1000, "embedded"),
)
SAELENS_CHOICES = {
    "b_dec_to_input": {"b_dec_to_input": True},
    "decoder_norm_scaling": {"decoder_norm_scaling": True},
    "tied_small_init": {"tied_init": True, "decoder_init_norm": 0.1},
    "grad_clip": {"grad_clip": 1.0},
}
"""SAELens's training choices as settings of this project's trainer (its AuxK loss is left as the
preset's: SAELens counts a latent dead after 1,000 silent steps, so its own AuxK loss barely acts
within these budgets)."""


def ablation_arms(base: sae.SaeConfig, leave_one_out: bool) -> dict[str, sae.SaeConfig]:
    """This project's trainer with SAELens's choices: each alone, all four, the ``saelens_like`` recipe.

    Parameters
    ----------
    base : sae.SaeConfig
        The case's preset.
    leave_one_out : bool
        Also all four but one, for each.

    Returns
    -------
    dict of str to sae.SaeConfig
        The arms by name.
    """
    everything = {key: value for changes in SAELENS_CHOICES.values() for key, value in changes.items()}
    arms = {f"ours+{name}": replace(base, **changes) for name, changes in SAELENS_CHOICES.items()}
    arms["ours+all_four"] = replace(base, **everything)
    if leave_one_out:
        for name, changes in SAELENS_CHOICES.items():
            arms[f"ours+all_four-{name}"] = replace(base, **{**everything, **{key: getattr(base, key) for key in changes}})
    arms["ours:saelens_like"] = sae.recipe("saelens_like", base)
    arms["ours:small_tied_init"] = sae.recipe("small_tied_init", base)
    return arms


INIT_NORMS = (1.0, 0.3, 0.1, 0.03, 0.01, 0.003, 0.001, 0.0001)
"""Initial decoder norms of the ``--init-scan`` arms."""


def init_scan_arms(base: sae.SaeConfig) -> dict[str, sae.SaeConfig]:
    """The ``saelens_like`` recipe at each initial decoder norm of :data:`INIT_NORMS`.

    Parameters
    ----------
    base : sae.SaeConfig
        The case's preset.

    Returns
    -------
    dict of str to sae.SaeConfig
        The arms by name, ``ours:saelens_like@<norm>``.
    """
    like = sae.recipe("saelens_like", base)
    return {f"ours:saelens_like@{norm:g}": replace(like, decoder_init_norm=norm) for norm in INIT_NORMS}


def toy_data(n_steps: int, n_eval: int, model_steps: int = 10_000, width: int = 32, seed: int = 0) -> Data:
    """The toy chapter's default model (Paper A's variant, power importances, probability 0.1) and its activations.

    Parameters
    ----------
    n_steps : int
        Training batches (the model's first batches, as the chapter's SAEs see them).
    n_eval : int
        Held-out samples, from the batches after the model's 80 % (the chapter's held-out part).
    model_steps : int
        Training steps of the toy model.
    width : int
        Its hidden width.
    seed : int
        Seed of the model and of its data.

    Returns
    -------
    Data
        Batches of hidden activations, held-out activations and features.
    """
    models = toy.init_toy_models(64, [width], [seed], hidden_relu=True)
    probability = torch.tensor([0.1])
    toy.train_toy_models(models, toy.importance_weights(64, "power"), probability, model_steps, batch_size=BATCH, data_seed=seed, log_every=model_steps)
    batches = torch.stack([h[0] for _, h in toy.hidden_batches(models, seed, 0, n_steps, BATCH, probability)])
    first_eval = int(0.8 * model_steps)
    x_eval, h_eval = toy.collect_hidden(models, seed, first_eval, -(-n_eval // BATCH), BATCH, probability)
    return Data(batches, h_eval[0, :n_eval], x_eval[:n_eval])


def embedded_data(n_steps: int, n_eval: int, n_features: int = 1024, d: int = 256, probability: float = 0.01, seed: int = 0) -> Data:
    """Sparse features (uniform on [0, 1] with ``probability``, else 0) along random unit directions.

    Parameters
    ----------
    n_steps : int
        Training batches.
    n_eval : int
        Held-out samples.
    n_features : int
        Ground-truth features.
    d : int
        Dimensions they are embedded in.
    probability : float
        Probability that a feature is active.
    seed : int
        Seed of the directions and samples.

    Returns
    -------
    Data
        Batches, held-out activations and features.
    """
    directions = torch.randn(n_features, d, generator=make_generator(seed, 0))
    directions /= torch.linalg.vector_norm(directions, dim=1, keepdim=True)
    p = torch.tensor([probability])

    def draw(n: int, stream: int, index: int) -> torch.Tensor:
        return toy.sample_features(n, n_features, p, make_generator(seed, stream, index))[0]

    batches = torch.stack([draw(BATCH, 1, step) @ directions for step in range(n_steps)])
    x_eval = draw(n_eval, 2, 0)
    return Data(batches, x_eval @ directions, x_eval)


@torch.no_grad()
def quality(coder: Coder, data: Data, chunk: int = 4096) -> dict[str, float]:
    """Held-out quality of one trained SAE, the same function for every trainer.

    Parameters
    ----------
    coder : Coder
        The SAE.
    data : Data
        The case's data (``h_eval``, ``x_eval`` are used).
    chunk : int
        Samples encoded at once.

    Returns
    -------
    dict
        ``fvu`` (``sum ||h - h_hat||^2 / sum ||h - mean h||^2``, as ``sae.sae_quality``), ``dead``
        (latents that never fire), ``l0`` (mean active latents) and ``mcc`` (against the features).
    """
    h = data.h_eval
    parts = [coder(h[i : i + chunk]) for i in range(0, h.shape[0], chunk)]
    z = torch.cat([p[0] for p in parts])
    h_hat = torch.cat([p[1] for p in parts])
    active = z != 0
    return {
        "fvu": float(((h - h_hat) ** 2).sum() / ((h - h.mean(dim=0)) ** 2).sum()),
        "dead": int((~active.any(dim=0)).sum()),
        "l0": float(active.sum(dim=1).double().mean()),
        "mcc": metrics.mean_correlation_coefficient(data.x_eval, z, dtype=torch.float32),
    }


def our_coders(saes: sae.Saes) -> list[Coder]:
    """Each SAE of a trained batch as a :data:`Coder`."""

    def coder(j: int) -> Coder:
        one = saes.select([j])
        return lambda h: (lambda z: (z[0], one.decode(z)[0]))(one.encode(h[None]))

    return [coder(j) for j in range(saes.w_enc.shape[0])]


def train_ours(config: sae.SaeConfig, data: Data, seeds: list[int]) -> tuple[list[Coder], float]:
    """This project: one :func:`sae.train_saes` call for all seeds (it chooses the passes).

    Returns
    -------
    coders : list of Coder
        One per seed.
    seconds : float
        Wall time of the training.
    """
    d = data.batches.shape[2]
    saes = sae.init_saes(len(seeds), d, config, seed=0, streams=seeds)
    n_steps = data.batches.shape[0]
    start = time.perf_counter()
    sae.train_saes(saes, (b[None].expand(len(seeds), -1, -1) for b in data.batches), n_steps, log_every=n_steps)
    return our_coders(saes), time.perf_counter() - start


def overcomplete_sae() -> types.ModuleType:
    """``overcomplete.sae`` without the package's ``__init__``.

    That ``__init__`` imports overcomplete's vision models (torchvision, timm, OpenCV), which the
    SAEs do not use; the PyPI torchvision wheel beside the CPU build of torch cannot load.

    Returns
    -------
    module
        ``overcomplete.sae``.
    """
    if "overcomplete.sae" not in sys.modules:
        spec = importlib.util.find_spec("overcomplete")
        if spec is None:
            raise SystemExit("overcomplete is not installed: build the benchmark environment with `make bench-env`")
        package = types.ModuleType("overcomplete")
        package.__path__ = list(spec.submodule_search_locations)
        sys.modules["overcomplete"] = package
    import overcomplete.sae as module

    return module


def train_overcomplete(config: sae.SaeConfig, data: Data, seed: int) -> tuple[Coder, float]:
    """overcomplete 0.3.0: ``TopKSAE`` trained by ``train_sae`` with ``top_k_auxiliary_loss`` and Adam."""
    oc = overcomplete_sae()
    from overcomplete.sae.losses import top_k_auxiliary_loss

    torch.manual_seed(seed)
    model = oc.TopKSAE(data.batches.shape[2], nb_concepts=config.n_latents, top_k=config.k)
    optimiser = torch.optim.Adam(model.parameters(), lr=config.lr, betas=config.betas)
    start = time.perf_counter()
    oc.train_sae(model, list(data.batches), top_k_auxiliary_loss, optimiser, nb_epochs=1, monitoring=0)
    seconds = time.perf_counter() - start
    model.eval()

    def coder(h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        _, z, h_hat = model(h)
        return z, h_hat

    return coder, seconds


def train_saelens(config: sae.SaeConfig, data: Data, seed: int) -> tuple[Coder, float]:
    """SAELens 6.54.12: ``TopKTrainingSAE`` trained by ``SAETrainer`` (settings of its ``train_toy_sae``)."""
    from sae_lens import LoggingConfig, SAETrainer, TopKTrainingSAE, TopKTrainingSAEConfig
    from sae_lens.config import SAETrainerConfig

    n_steps, _, d = data.batches.shape
    torch.manual_seed(seed)
    model = TopKTrainingSAE(TopKTrainingSAEConfig(d_in=d, d_sae=config.n_latents, k=config.k, dtype="float32", device="cpu"))
    trainer_config = SAETrainerConfig(
        total_training_samples=n_steps * BATCH, train_batch_size_samples=BATCH, lr=config.lr, lr_end=config.lr,
        adam_beta1=config.betas[0], adam_beta2=config.betas[1], device="cpu", dead_feature_window=1000,
        feature_sampling_window=2000, logger=LoggingConfig(log_to_wandb=False),
    )  # fmt: skip
    trainer = SAETrainer(cfg=trainer_config, sae=model, data_provider=iter(data.batches))
    start = time.perf_counter()
    trainer.fit()
    seconds = time.perf_counter() - start
    model.eval()

    def coder(h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        z = model.encode(h)
        return z, model.decode(z)

    return coder, seconds


def summary(runs: list[dict[str, float]], seconds: list[float], n_saes: int) -> dict[str, Any]:
    """Median and range over seeds of each figure, and the seconds per SAE.

    Parameters
    ----------
    runs : list of dict
        :func:`quality` per seed.
    seconds : list of float
        Wall time of training all ``n_saes`` SAEs, once per repetition.
    n_saes : int
        SAEs trained in each repetition (one per seed).

    Returns
    -------
    dict
        Per figure: ``median``, ``min``, ``max`` and the values; ``seconds`` (the median over
        repetitions, each of them in ``seconds_repeated``) and ``seconds_per_sae``.
    """
    out: dict[str, Any] = {"n_seeds": len(runs)}
    for key in runs[0]:
        values = [r[key] for r in runs]
        out[key] = {"median": float(np.median(values)), "min": float(min(values)), "max": float(max(values)), "values": values}
    out["seconds"] = round(float(np.median(seconds)), 2)
    out["seconds_repeated"] = [round(t, 2) for t in seconds]
    out["seconds_per_sae"] = round(float(np.median(seconds)) / n_saes, 3)
    return out


def train_arm(name: str, config: sae.SaeConfig, data: Data, seeds: list[int]) -> tuple[list[Coder], float]:
    """One arm on every seed: a peer in a loop over seeds, or this project's trainer in one call.

    Returns
    -------
    coders : list of Coder
        One per seed.
    seconds : float
        Wall time of the training, all seeds together.
    """
    if name not in ("overcomplete", "saelens"):
        return train_ours(config, data, seeds)
    train = train_overcomplete if name == "overcomplete" else train_saelens
    coders, seconds = zip(*(train(config, data, seed) for seed in seeds))
    return list(coders), float(sum(seconds))


def run_case(
    case: Case, data: Data, seeds: list[int], trainers: list[str], ablations: bool, leave_one_out: bool = False, repeats: int = 1, init_scan: bool = False
) -> dict[str, Any]:
    """Every trainer (and with ``ablations`` the arms of :func:`ablation_arms`, with ``init_scan`` those of :func:`init_scan_arms`) on one case.

    Quality comes from the first repetition; the trainers (not the ablation arms) are timed
    ``repeats`` times, one after another in turn, so that a change of the machine's load falls on
    all of them.

    Returns
    -------
    dict
        :func:`summary` per arm, with ``time_vs_ours``.
    """
    arms = {"ours": case.config} if "ours" in trainers else {}
    if ablations:
        arms |= ablation_arms(case.config, leave_one_out)
    if init_scan:
        arms |= init_scan_arms(case.config)
    arms |= {name: case.config for name in ("overcomplete", "saelens") if name in trainers}
    runs: dict[str, list[dict[str, float]]] = {}
    seconds: dict[str, list[float]] = {name: [] for name in arms}
    for repeat in range(repeats):
        for name, config in arms.items():
            if repeat > 0 and name not in TRAINERS:
                continue
            coders, t = train_arm(name, config, data, seeds)
            seconds[name].append(t)
            if repeat == 0:
                runs[name] = [quality(c, data) for c in coders]
            print(f"  {case.name} {name}: {t:.1f} s", flush=True)
    results = {name: summary(runs[name], seconds[name], len(seeds)) for name in arms}
    if "ours" in results:
        for r in results.values():
            r["time_vs_ours"] = round(r["seconds_per_sae"] / results["ours"]["seconds_per_sae"], 2)
    return results


def print_table(results: dict[str, dict[str, Any]]) -> None:
    """The results as a table: median over seeds, with the range over seeds in brackets."""

    def cell(r: dict[str, Any], key: str, digits: int) -> str:
        f = r[key]
        return f"{f['median']:.{digits}f} [{f['min']:.{digits}f}, {f['max']:.{digits}f}]"

    print(f"{'case':<11} {'trainer':<34} {'SAEs':>4} {'s/SAE':>7} {'x ours':>7} {'held-out FVU':>24} {'dead latents':>20} {'MCC':>24}")
    for case, arms in results.items():
        for name, r in arms.items():
            ratio = f"{r['time_vs_ours']:.2f}" if "time_vs_ours" in r else "-"
            print(f"{case:<11} {name:<34} {r['n_seeds']:>4} {r['seconds_per_sae']:>7.1f} {ratio:>7} {cell(r, 'fvu', 3):>24} {cell(r, 'dead', 0):>20} {cell(r, 'mcc', 3):>24}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=0.25, help="training steps of every case times this (1: 2,000 toy, 1,000 large, the published table)")
    parser.add_argument("--seeds", type=int, default=3, help="SAE initialisations per trainer in the large cases")
    parser.add_argument("--toy-seeds", type=int, default=8, help="SAE initialisations per trainer in the toy case")
    parser.add_argument("--cases", default=",".join(c.name for c in CASES), help="comma-separated cases")
    parser.add_argument("--trainers", default=",".join(TRAINERS), help="comma-separated trainers")
    parser.add_argument("--repeats", type=int, default=1, help="timings of each trainer, taken in turn (quality from the first)")
    parser.add_argument("--ablations", action="store_true", help="also this project's trainer with each SAELens choice alone, all four, and the saelens_like recipe")
    parser.add_argument("--leave-one-out", action="store_true", help="with --ablations, also all four SAELens choices but one")
    parser.add_argument("--init-scan", action="store_true", help="also the saelens_like recipe at initial decoder norms from 1 to 0.0001")
    parser.add_argument("--n-eval", type=int, default=16384, help="held-out samples")
    parser.add_argument("--output", type=Path, default=None, help="default: results/sae_peers.json at scale 1, else results/sae_peers_scale<scale>.json")
    args = parser.parse_args()
    name = "sae_peers.json" if args.scale == 1 else f"sae_peers_scale{args.scale:g}.json"
    output = args.output or Path(__file__).parent / "results" / name
    trainers = args.trainers.split(",")
    load_before = os.getloadavg()
    results: dict[str, Any] = {}
    for case in CASES:
        if case.name not in args.cases.split(","):
            continue
        n_steps = max(1, round(case.n_steps * args.scale))
        data = toy_data(n_steps, args.n_eval) if case.data == "toy" else embedded_data(n_steps, args.n_eval)
        seeds = list(range(args.toy_seeds if case.data == "toy" else args.seeds))
        print(f"{case.name}: {n_steps} steps, d = {data.batches.shape[2]}, {case.config.n_latents} latents, k = {case.config.k}, {len(seeds)} seeds", flush=True)
        results[case.name] = run_case(case, data, seeds, trainers, args.ablations, args.leave_one_out, args.repeats, args.init_scan)
    settings = {
        "scale": args.scale, "seeds": {"toy": args.toy_seeds, "large": args.seeds}, "repeats": args.repeats, "batch": BATCH, "n_eval": args.n_eval, "threads": torch.get_num_threads(),
        "cases": {c.name: {"steps": max(1, round(c.n_steps * args.scale)), "n_latents": c.config.n_latents, "k": c.config.k, "lr": c.config.lr, "betas": list(c.config.betas)} for c in CASES if c.name in results},
        "saelens_choices": SAELENS_CHOICES if args.ablations else {}, "leave_one_out": args.leave_one_out,
        "saelens_like": sae.SAELENS_LIKE, "small_tied_init": sae.SMALL_TIED_INIT, "init_scan": list(INIT_NORMS) if args.init_scan else [],
    }  # fmt: skip
    write_report(output, settings, torch.device("cpu"), load_before, ("torch", "numpy", "overcomplete", "sae-lens"), results)
    print_table(results)


if __name__ == "__main__":
    main()
