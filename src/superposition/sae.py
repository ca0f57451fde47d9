"""Sparse autoencoders, several trained at once, and their quality measures.

An SAE maps activations ``h`` (``d`` units) to ``n_latents`` sparse codes ``z`` and back:
``z = act(h W_enc + b_enc)``, ``h_hat = z W_dec + b_dec`` (untied). Two kinds:

- ``"topk"`` (Makhzani & Frey 2013; Gao et al. 2024): keep the ``k`` largest pre-activations
  (ReLU on the kept values), zero the rest. With ``aux_alpha > 0`` the AuxK loss makes dead
  latents useful: the dead latents' pre-activations (all of them, ReLU) reconstruct the residual
  ``h - h_hat``; a latent is dead when it has not fired for ``dead_after`` steps (1 = not in the
  current batch, Paper A's toy setting).
- ``"relu"``: ``z = ReLU(pre)`` with an L1 penalty ``l1 * mean_batch sum_j |z_j| ||W_dec_j||``.

``n_saes`` SAEs with the same ``n_latents`` share tensors with a leading SAE axis and train in
one batched pass (one per model, or per layer, or per seed). Inputs of different widths are
zero-padded to the widest, ``d``: SAE ``j`` then has zero encoder rows and decoder columns beyond
its own width ``widths[j]``, which get no gradient and stay zero, and its losses are normalised by
its own width, so it trains exactly as it would alone. :func:`train_saes` is the one
training loop of the book: the toy chapter and the network chapters call it with their presets.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
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
    ``w_dec`` (n_saes, n_latents, d), ``b_dec`` (n_saes, d), ``widths`` (n_saes,) the input width
    of each SAE (units beyond it are zero padding in every input), ``ks`` (n_saes,) the active
    latents of each TopK SAE (``config.k`` unless a sweep gave each SAE its own), and their config."""

    w_enc: torch.Tensor
    b_enc: torch.Tensor
    w_dec: torch.Tensor
    b_dec: torch.Tensor
    widths: torch.Tensor
    ks: torch.Tensor
    config: SaeConfig

    def parameters(self) -> list[torch.Tensor]:
        return [self.w_enc, self.b_enc, self.w_dec, self.b_dec]

    def select(self, rows: Sequence[int]) -> Saes:
        """The SAEs ``rows`` of this batch, as a smaller batch (copies of their tensors)."""
        index = torch.as_tensor(list(rows), device=self.w_enc.device)
        return Saes(*(t[index] for t in (self.w_enc, self.b_enc, self.w_dec, self.b_dec, self.widths, self.ks)), config=self.config)

    def pre_activations(self, h: torch.Tensor) -> torch.Tensor:
        """``h``: (n_saes, batch, d) → (n_saes, batch, n_latents)."""
        return h @ self.w_enc + self.b_enc[:, None, :]

    def activate(self, pre: torch.Tensor) -> torch.Tensor:
        """Sparse codes from pre-activations (TopK with ReLU on the kept values, or ReLU)."""
        if self.config.kind == "relu":
            return torch.relu(pre)
        k_max = int(self.ks.max())
        values, index = pre.topk(k_max, dim=-1)
        if int(self.ks.min()) < k_max:  # SAE j keeps its ks[j] largest
            rank = torch.arange(k_max, device=pre.device)
            values = values * (rank < self.ks[:, None, None]).to(pre.dtype)
        return torch.zeros_like(pre).scatter(-1, index, torch.relu(values))

    def encode(self, h: torch.Tensor) -> torch.Tensor:
        """Codes ``z``: (n_saes, batch, n_latents) of ``h``: (n_saes, batch, d)."""
        return self.activate(self.pre_activations(h))

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Reconstruction ``h_hat``: (n_saes, batch, d)."""
        return z @ self.w_dec + self.b_dec[:, None, :]


def init_saes(
    n_saes: int,
    d: int,
    config: SaeConfig,
    seed: int = 0,
    device: torch.device | str = "cpu",
    dtype: torch.dtype = torch.float32,
    widths: Sequence[int] | None = None,
    ks: Sequence[int] | None = None,
) -> Saes:
    """``n_saes`` untrained SAEs on inputs of ``d`` units; biases 0.

    SAE ``j`` draws its weights from the stream ``(seed, j)``. ``widths``: the input width of each
    SAE when inputs are zero-padded to ``d`` (default: all ``d``); SAE ``j`` gets the weights it
    would get alone on ``widths[j]`` units, padded with zeros. ``ks``: active latents per TopK
    SAE, for a sweep over k in one batch (default: all ``config.k``).
    """
    widths = [d] * n_saes if widths is None else [int(w) for w in widths]
    if len(widths) != n_saes or not all(1 <= w <= d for w in widths):
        raise ValueError(f"widths must give n_saes = {n_saes} input widths between 1 and d = {d}; got {widths}")
    ks = [min(config.k, config.n_latents)] * n_saes if ks is None else [int(k) for k in ks]
    if len(ks) != n_saes or not all(1 <= k <= config.n_latents for k in ks):
        raise ValueError(f"ks must give n_saes = {n_saes} values of k between 1 and n_latents = {config.n_latents}; got {ks}")
    n_latents = config.n_latents
    w_enc = torch.zeros((n_saes, d, n_latents), dtype=dtype)
    w_dec = torch.zeros((n_saes, n_latents, d), dtype=dtype)
    for j, width in enumerate(widths):
        g = make_generator(seed, j)
        if config.init == "xavier_normal":
            std = np.sqrt(2.0 / (width + n_latents))
            w_enc[j, :width] = std * torch.randn((width, n_latents), generator=g, dtype=dtype)
            w_dec[j, :, :width] = std * torch.randn((n_latents, width), generator=g, dtype=dtype)
        else:  # kaiming_uniform with a = sqrt(5), torch's nn.Linear default: bound 1 / sqrt(fan_in)
            w_enc[j, :width] = (2 * torch.rand((width, n_latents), generator=g, dtype=dtype) - 1) / np.sqrt(width)
            w_dec[j, :, :width] = (2 * torch.rand((n_latents, width), generator=g, dtype=dtype) - 1) / np.sqrt(n_latents)
    return Saes(
        w_enc=w_enc.to(device),
        b_enc=torch.zeros((n_saes, n_latents), dtype=dtype, device=device),
        w_dec=w_dec.to(device),
        b_dec=torch.zeros((n_saes, d), dtype=dtype, device=device),
        widths=torch.as_tensor(widths, device=device),
        ks=torch.as_tensor(ks, device=device),
        config=config,
    )


def sae_losses(saes: Saes, h: torch.Tensor, dead: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Training loss per SAE and the codes.

    ``h``: (n_saes, batch, d), zero beyond each SAE's width; ``dead``: (n_saes, n_latents) bool,
    latents counted as dead (TopK AuxK); ``None`` counts the latents silent in this batch.
    Returns ``(loss, reconstruction_mse, z)``: loss and MSE (n_saes,), the MSE being the mean
    over the batch and the SAE's own units; ``z``: (n_saes, batch, n_latents).
    """
    cfg = saes.config
    pre = saes.pre_activations(h)
    z = saes.activate(pre)
    h_hat = saes.decode(z)
    units = saes.widths.to(h.dtype)

    def mean_square(error: torch.Tensor) -> torch.Tensor:
        return (error**2).sum(dim=2).mean(dim=1) / units

    mse = mean_square(h - h_hat)
    loss = mse
    if cfg.kind == "topk" and cfg.aux_alpha > 0:
        if dead is None:
            dead = ~(z > 0).any(dim=1)
        if not bool(dead.any()):  # no dead latent in any SAE: the AuxK term is zero
            return loss, mse, z
        dead_codes = torch.relu(pre) * dead[:, None, :].to(pre.dtype)
        residual_hat = dead_codes @ saes.w_dec
        aux = mean_square(residual_hat - (h - h_hat).detach())
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
        if cfg.dead_after > 1:
            with torch.no_grad():
                steps_since_fired = torch.where((z > 0).any(dim=1), 0, steps_since_fired + 1)
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
def sae_quality(saes: Saes, h: torch.Tensor, batch_size: int = 65_536) -> SaeQuality:
    """:class:`SaeQuality` of each SAE on ``h``: (n_saes, n_samples, d), accumulated over batches of samples
    so that no (n_saes, n_samples, n_latents) array of codes is ever held."""
    h = h.to(saes.w_enc.device, saes.w_enc.dtype)
    mean = h.mean(dim=1, keepdim=True)
    residual = torch.zeros(h.shape[0], dtype=torch.float64, device=h.device)
    total = torch.zeros_like(residual)
    n_active = torch.zeros_like(residual)
    fired = torch.zeros(saes.b_enc.shape, dtype=torch.bool, device=h.device)
    for start in range(0, h.shape[1], batch_size):
        part = h[:, start : start + batch_size]
        z = saes.encode(part)
        residual += ((part - saes.decode(z)) ** 2).sum(dim=(1, 2)).double()
        total += ((part - mean) ** 2).sum(dim=(1, 2)).double()
        active = z > 0
        n_active += active.sum(dim=(1, 2)).double()
        fired |= active.any(dim=1)
    return SaeQuality(
        fvu=(residual / total).cpu().numpy(),
        l0=(n_active / h.shape[1]).cpu().numpy(),
        dead=(~fired).sum(dim=-1).cpu().numpy(),
    )
