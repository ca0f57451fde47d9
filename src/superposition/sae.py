"""Sparse autoencoders, several trained at once, and their quality measures.

An SAE maps activations ``h`` (``d`` units) to ``n_latents`` sparse codes ``z`` and back:
``z = act(h W_enc + b_enc)``, ``h_hat = z W_dec + b_dec`` (untied). Two kinds:

- ``"topk"`` (Makhzani & Frey 2013; Gao et al. 2024): keep the ``k`` largest pre-activations
  (ReLU on the kept values), zero the rest. With ``aux_alpha > 0`` the AuxK loss makes dead
  latents useful: the dead latents' pre-activations (all of them, ReLU) reconstruct the residual
  ``h - h_hat``; a latent is dead when it has not fired for ``dead_after`` steps (1 = not in the
  current batch, Paper A's toy setting).
- ``"relu"``: ``z = ReLU(pre)`` with an L1 penalty ``l1 * mean_batch sum_j |z_j| ||W_dec_j||``.

``n_saes`` SAEs with the same ``d`` and ``n_latents`` share tensors with a leading SAE axis and
train in one batched pass (one per model, or per layer, or per seed). :func:`train_saes` is the one
training loop of the book: the toy chapter and the network chapters call it with their presets.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

import numpy as np
import torch

from .runtime import make_generator, progress


@dataclass(frozen=True)
class SaeConfig:
    """Settings of an SAE and its training.

    kind: ``"topk"`` or ``"relu"``; k: active latents (TopK); n_latents; aux_alpha: weight of the
    AuxK loss (TopK); dead_after: steps without firing before a latent counts as dead; l1: L1
    coefficient (ReLU); lr, betas, eps, weight_decay: the optimiser (AdamW; ``weight_decay = 0``
    is Adam); init: ``"xavier_normal"`` or ``"kaiming_uniform"``.
    """

    kind: str = "topk"
    n_latents: int = 64
    k: int = 7
    aux_alpha: float = 0.1
    dead_after: int = 1
    l1: float = 0.0
    lr: float = 1e-3
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8
    weight_decay: float = 0.01
    init: str = "xavier_normal"

    def __post_init__(self) -> None:
        if self.kind not in ("topk", "relu"):
            raise ValueError(f"kind must be 'topk' or 'relu'; got {self.kind!r}")
        if self.init not in ("xavier_normal", "kaiming_uniform"):
            raise ValueError(f"init must be 'xavier_normal' or 'kaiming_uniform'; got {self.init!r}")
        if self.n_latents < 1 or (self.kind == "topk" and not 1 <= self.k <= self.n_latents):
            raise ValueError(f"need n_latents >= 1 and 1 <= k <= n_latents; got n_latents={self.n_latents}, k={self.k}")


TOY_PRESET = SaeConfig(kind="topk", n_latents=64, k=7, aux_alpha=0.1, dead_after=1, lr=1e-3, weight_decay=0.01, init="xavier_normal")
"""Paper A's toy SAE (authors' code at b589eb7): TopK k = 7, 64 latents, AuxK alpha 0.1 on latents
dead in the current batch, AdamW lr 1e-3, batch 1,024, one epoch."""

DNN_PRESET = SaeConfig(
    kind="topk", n_latents=1536, k=153, aux_alpha=1e-4, dead_after=32, lr=4e-4, eps=6.25e-10, weight_decay=0.0, init="kaiming_uniform"
)
"""Paper A's network SAE (b589eb7 ``sae.py``, the active ViT-B/16 setting: 768 units x 2 = 1,536
latents, k = 153): TopK with AuxK alpha 1e-4 on latents dead for 32 steps, Adam lr 4e-4, eps
6.25e-10, Kaiming-uniform init, batch 64. ``n_latents`` (input width x expansion) and ``k`` depend
on the layer: change them with :func:`preset`."""


def preset(name: str, **changes) -> SaeConfig:
    """A named preset (``"toy"`` or ``"dnn"``) with ``changes`` applied (e.g. ``n_latents``, ``k``)."""
    presets = {"toy": TOY_PRESET, "dnn": DNN_PRESET}
    if name not in presets:
        raise ValueError(f"SAE preset must be one of {sorted(presets)}; got {name!r}")
    return replace(presets[name], **changes)


@dataclass
class Saes:
    """A batch of SAEs: ``w_enc`` (n_saes, d, n_latents), ``b_enc`` (n_saes, n_latents),
    ``w_dec`` (n_saes, n_latents, d), ``b_dec`` (n_saes, d), and their config."""

    w_enc: torch.Tensor
    b_enc: torch.Tensor
    w_dec: torch.Tensor
    b_dec: torch.Tensor
    config: SaeConfig

    def parameters(self) -> list[torch.Tensor]:
        return [self.w_enc, self.b_enc, self.w_dec, self.b_dec]

    def pre_activations(self, h: torch.Tensor) -> torch.Tensor:
        """``h``: (n_saes, batch, d) → (n_saes, batch, n_latents)."""
        return h @ self.w_enc + self.b_enc[:, None, :]

    def activate(self, pre: torch.Tensor) -> torch.Tensor:
        """Sparse codes from pre-activations (TopK with ReLU on the kept values, or ReLU)."""
        if self.config.kind == "relu":
            return torch.relu(pre)
        values, index = pre.topk(self.config.k, dim=-1)
        return torch.zeros_like(pre).scatter(-1, index, torch.relu(values))

    def encode(self, h: torch.Tensor) -> torch.Tensor:
        """Codes ``z``: (n_saes, batch, n_latents) of ``h``: (n_saes, batch, d)."""
        return self.activate(self.pre_activations(h))

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Reconstruction ``h_hat``: (n_saes, batch, d)."""
        return z @ self.w_dec + self.b_dec[:, None, :]


def init_saes(n_saes: int, d: int, config: SaeConfig, seed: int = 0, device: torch.device | str = "cpu", dtype: torch.dtype = torch.float32) -> Saes:
    """``n_saes`` untrained SAEs; SAE ``j`` draws its weights from the stream ``(seed, j)``, biases 0."""
    w_enc = torch.empty((n_saes, d, config.n_latents), dtype=dtype)
    w_dec = torch.empty((n_saes, config.n_latents, d), dtype=dtype)
    for j in range(n_saes):
        g = make_generator(seed, j)
        if config.init == "xavier_normal":
            std = np.sqrt(2.0 / (d + config.n_latents))
            w_enc[j] = std * torch.randn((d, config.n_latents), generator=g, dtype=dtype)
            w_dec[j] = std * torch.randn((config.n_latents, d), generator=g, dtype=dtype)
        else:  # kaiming_uniform with a = sqrt(5), torch's nn.Linear default: bound 1 / sqrt(fan_in)
            w_enc[j] = (2 * torch.rand((d, config.n_latents), generator=g, dtype=dtype) - 1) / np.sqrt(d)
            w_dec[j] = (2 * torch.rand((config.n_latents, d), generator=g, dtype=dtype) - 1) / np.sqrt(config.n_latents)
    return Saes(
        w_enc=w_enc.to(device),
        b_enc=torch.zeros((n_saes, config.n_latents), dtype=dtype, device=device),
        w_dec=w_dec.to(device),
        b_dec=torch.zeros((n_saes, d), dtype=dtype, device=device),
        config=config,
    )


def sae_losses(saes: Saes, h: torch.Tensor, dead: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Training loss per SAE and the codes.

    ``h``: (n_saes, batch, d); ``dead``: (n_saes, n_latents) bool, latents counted as dead (TopK
    AuxK); ``None`` counts the latents silent in this batch. Returns ``(loss, reconstruction_mse, z)``: loss and MSE (n_saes,), the MSE being the
    mean over batch and units; ``z``: (n_saes, batch, n_latents).
    """
    cfg = saes.config
    pre = saes.pre_activations(h)
    z = saes.activate(pre)
    h_hat = saes.decode(z)
    mse = ((h - h_hat) ** 2).mean(dim=(1, 2))
    loss = mse
    if cfg.kind == "topk" and cfg.aux_alpha > 0:
        if dead is None:
            dead = ~(z > 0).any(dim=1)
        dead_codes = torch.relu(pre) * dead[:, None, :].to(pre.dtype)
        residual_hat = dead_codes @ saes.w_dec
        aux = ((residual_hat - (h - h_hat).detach()) ** 2).mean(dim=(1, 2))
        loss = loss + cfg.aux_alpha * torch.where(dead.any(dim=1), aux, torch.zeros_like(aux))
    if cfg.kind == "relu" and cfg.l1 > 0:
        decoder_norms = torch.linalg.vector_norm(saes.w_dec, dim=-1)  # (n_saes, n_latents)
        loss = loss + cfg.l1 * (z.abs() * decoder_norms[:, None, :]).sum(dim=-1).mean(dim=-1)
    return loss, mse, z


def train_saes(saes: Saes, batches: Iterable[torch.Tensor], n_steps: int, log_every: int = 100, desc: str = "SAEs") -> np.ndarray:
    """Train every SAE of ``saes`` at once on ``batches`` of activations, in place.

    ``batches`` yields ``(n_saes, batch, d)`` tensors (SAE ``j`` is trained on slice ``j``: each
    SAE on its own model's activations), at least ``n_steps`` of them. Returns the reconstruction
    MSE per SAE every ``log_every`` steps: ``(n_steps // log_every, n_saes)``.
    """
    cfg = saes.config
    params = saes.parameters()
    for p in params:
        p.requires_grad_(True)
    optimiser = torch.optim.AdamW(params, lr=cfg.lr, betas=cfg.betas, eps=cfg.eps, weight_decay=cfg.weight_decay)
    steps_since_fired = torch.zeros(saes.b_enc.shape, dtype=torch.long, device=saes.b_enc.device)
    history = []
    iterator = iter(batches)
    for step in progress(range(n_steps), total=n_steps, desc=desc):
        h = next(iterator).to(saes.w_enc.device, saes.w_enc.dtype)
        # dead_after = 1: dead means silent in this batch (sae_losses decides from its codes)
        dead = None if cfg.dead_after <= 1 else steps_since_fired >= cfg.dead_after
        loss, mse, z = sae_losses(saes, h, dead)
        optimiser.zero_grad(set_to_none=True)
        loss.sum().backward()
        optimiser.step()
        with torch.no_grad():
            fired = (z > 0).any(dim=1)
            steps_since_fired = torch.where(fired, 0, steps_since_fired + 1)
        if (step + 1) % log_every == 0:
            history.append(mse.detach().cpu().numpy())
    for p in params:
        p.requires_grad_(False)
    return np.array(history).reshape(-1, saes.w_enc.shape[0])


@dataclass(frozen=True)
class SaeQuality:
    """Quality of each SAE on held-out activations (arrays over SAEs, ``(n_saes,)``).

    fvu: fraction of variance unexplained, ``sum ||h - h_hat||^2 / sum ||h - mean(h)||^2`` (the
    mean over the evaluation samples, per unit); l0: mean number of active latents per sample;
    dead: number of latents that never fire on the evaluation set.
    """

    fvu: np.ndarray
    l0: np.ndarray
    dead: np.ndarray


@torch.no_grad()
def encode_in_batches(saes: Saes, h: torch.Tensor, batch_size: int = 65_536) -> torch.Tensor:
    """Codes of ``h``: (n_saes, n_samples, d) → (n_saes, n_samples, n_latents), in batches."""
    return torch.cat([saes.encode(h[:, i : i + batch_size]) for i in range(0, h.shape[1], batch_size)], dim=1)


@torch.no_grad()
def sae_quality(saes: Saes, h: torch.Tensor) -> SaeQuality:
    """:class:`SaeQuality` of each SAE on ``h``: (n_saes, n_samples, d)."""
    h = h.to(saes.w_enc.device, saes.w_enc.dtype)
    z = encode_in_batches(saes, h)
    h_hat = saes.decode(z)
    residual = ((h - h_hat) ** 2).sum(dim=(1, 2))
    total = ((h - h.mean(dim=1, keepdim=True)) ** 2).sum(dim=(1, 2))
    active = z > 0
    return SaeQuality(
        fvu=(residual / total).cpu().numpy(),
        l0=active.sum(dim=-1).double().mean(dim=-1).cpu().numpy(),
        dead=(~active.any(dim=1)).sum(dim=-1).cpu().numpy(),
    )
