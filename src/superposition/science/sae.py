"""Sparse autoencoders, several trained at once, and their quality measures.

An SAE maps activations ``h`` (``d`` units) to ``n_latents`` sparse codes ``z`` and back:
``z = act(h W_enc + b_enc)``, ``h_hat = z W_dec + b_dec`` (untied). Two kinds:

- ``"topk"`` (Makhzani & Frey 2013; Gao et al. 2024): keep the ``k`` largest pre-activations
  (ReLU on the kept values), zero the rest. With ``aux_alpha > 0`` the AuxK loss makes dead
  latents useful: the dead latents' pre-activations reconstruct the residual ``h - h_hat``; a
  latent is dead when it has not fired for ``dead_after`` steps (1 = not in the current batch,
  Paper A's toy setting). Two forms (``aux_form``): ``"relu"`` (Gao et al. 2024: the ReLU of the
  dead pre-activations, decoded without bias, fit the residual held fixed) and ``"signed"``
  (Paper A's code: the raw dead pre-activations, negative ones included, decoded with the decoder
  bias, fit the residual with gradients through it). A dead latent's pre-activation is mostly
  negative, so only the signed form gives it a gradient that can bring it back.
- ``"relu"``: ``z = ReLU(pre)`` with an L1 penalty ``l1 * mean_batch sum_j |z_j| ||W_dec_j||``.
- ``"batchtopk"`` (Bussmann et al. 2024): in training, keep the ``k x batch`` largest
  pre-activations of the whole batch (so samples share a budget of ``k`` on average); at
  inference, keep pre-activations above a threshold, the running mean of the smallest kept value.

Remedies for dead latents, each a setting (Gao et al. 2024): ``aux_k`` (the AuxK loss uses only the
``aux_k`` largest dead pre-activations; 0 = all dead latents, Paper A's setting), ``dead_after``,
``tied_init`` (encoder initialised as the decoder's transpose), ``unit_norm_decoder`` (decoder
directions renormalised to unit length after every step).

Training choices of SAELens's TopK trainer, each a setting that is off by default (the presets keep
the authors' recipe; :func:`recipe` ``"saelens_like"`` combines those that help): ``b_dec_to_input`` (the
decoder bias is subtracted from the input before encoding: ``pre = (h - b_dec) W_enc + b_enc``),
``decoder_norm_scaling`` (pre-activations multiplied by each latent's decoder norm and codes
decoded through unit-length directions, so that the TopK choice does not depend on how the
decoder's norms drift), ``decoder_init_norm`` (decoder rows start at this norm; with ``tied_init``
the encoder starts as their transpose) and ``grad_clip`` (each SAE's gradient rescaled to at most
this norm before every step).

``n_saes`` SAEs with the same ``n_latents`` share tensors with a leading SAE axis and train in
one batched pass (one per model, or per layer, or per seed). Inputs of different widths are
zero-padded to the widest, ``d``: SAE ``j`` then has zero encoder rows and decoder columns beyond
its own width ``widths[j]``, which get no gradient and stay zero, and its losses are normalised by
its own width, so it trains exactly as it would alone. :func:`train_saes` is the one
training loop of the book: the toy chapter and the network chapters call it with their presets.
On a CPU, a batch of large SAEs trains faster in groups than in one pass (the tensors of one pass
outgrow the caches): :func:`group_size` chooses how many SAEs share a pass, and every grouping
gives the same SAEs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace

import numpy as np
import torch

from ..runtime import make_generator, progress
from . import sae_kernels

SAE_KINDS = ("topk", "batchtopk", "relu")
AUX_FORMS = ("relu", "signed")
THRESHOLD_MOMENTUM = 0.99
"""BatchTopK's inference threshold is an exponential moving average (this momentum) of the
smallest activation kept in each training batch."""


@dataclass(frozen=True)
class SaeConfig:
    """Settings of an SAE and its training.

    Attributes
    ----------
    kind : {"topk", "batchtopk", "relu"}
        Kind of SAE.
    n_latents : int
        Number of latents.
    k : int
        Active latents (TopK; the mean per sample for BatchTopK).
    aux_alpha : float
        Weight of the AuxK loss (TopK kinds).
    dead_after : int
        Steps without firing before a latent counts as dead.
    l1 : float
        L1 coefficient (ReLU).
    lr, betas, eps, weight_decay : float, (2,) tuple of float, float, float
        The optimiser (AdamW; ``weight_decay = 0`` is Adam).
    init : {"xavier_normal", "kaiming_uniform"}
        Weight initialisation.
    aux_k : int
        Dead latents the AuxK loss may use per sample (0 = all).
    tied_init : bool
        Start the encoder as the decoder's transpose.
    unit_norm_decoder : bool
        Keep decoder directions at unit length.
    aux_form : {"relu", "signed"}
        Form of the AuxK loss (see the module docstring).
    b_dec_to_input : bool
        Subtract the decoder bias from the input before encoding.
    decoder_norm_scaling : bool
        Multiply pre-activations by the decoder norms and decode through unit-length directions.
    decoder_init_norm : float
        Norm of every decoder row at initialisation (0 = the norm the init draws).
    grad_clip : float
        Largest norm of each SAE's gradient, measured on its loss summed over its units as
        SAELens and Gao et al. (2024) write it (``width x`` the loss here); 0 = no clipping.
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
    aux_k: int = 0
    tied_init: bool = False
    unit_norm_decoder: bool = False
    aux_form: str = "relu"
    b_dec_to_input: bool = False
    decoder_norm_scaling: bool = False
    decoder_init_norm: float = 0.0
    grad_clip: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in SAE_KINDS:
            raise ValueError(f"kind must be one of {SAE_KINDS}; got {self.kind!r}")
        if self.aux_k < 0 or self.dead_after < 1:
            raise ValueError(f"need aux_k >= 0 and dead_after >= 1; got aux_k={self.aux_k}, dead_after={self.dead_after}")
        if self.init not in ("xavier_normal", "kaiming_uniform"):
            raise ValueError(f"init must be 'xavier_normal' or 'kaiming_uniform'; got {self.init!r}")
        if self.aux_form not in AUX_FORMS:
            raise ValueError(f"aux_form must be one of {AUX_FORMS}; got {self.aux_form!r}")
        if self.n_latents < 1 or (self.kind != "relu" and not 1 <= self.k <= self.n_latents):
            raise ValueError(f"need n_latents >= 1 and 1 <= k <= n_latents; got n_latents={self.n_latents}, k={self.k}")
        if not (self.decoder_init_norm >= 0 and self.grad_clip >= 0):
            raise ValueError(f"need decoder_init_norm >= 0 and grad_clip >= 0; got {self.decoder_init_norm} and {self.grad_clip}")
        if self.decoder_init_norm > 0 and self.unit_norm_decoder:
            raise ValueError("decoder_init_norm and unit_norm_decoder exclude each other: a unit-norm decoder starts at norm 1")


TOY_PRESET = SaeConfig(kind="topk", n_latents=64, k=7, aux_alpha=0.1, dead_after=1, lr=1e-3, weight_decay=0.01, init="xavier_normal", aux_form="signed")
"""Paper A's toy SAE (authors' code at b589eb7): TopK k = 7, 64 latents, AuxK alpha 0.1 on latents
dead in the current batch (their raw pre-activations: the signed form), AdamW lr 1e-3, batch
1,024, one epoch."""

DNN_PRESET = SaeConfig(
    kind="topk", n_latents=1536, k=153, aux_alpha=1e-4, dead_after=32, lr=4e-4, eps=6.25e-10, weight_decay=0.0, init="kaiming_uniform", aux_form="signed"
)
"""Paper A's network SAE (b589eb7 ``sae.py``, the active ViT-B/16 setting: 768 units x 2 = 1,536
latents, k = 153): TopK with AuxK alpha 1e-4 on latents dead for 32 steps (their raw
pre-activations: the signed form), Adam lr 4e-4, eps
6.25e-10, Kaiming-uniform init, batch 64. ``n_latents`` (input width x expansion) and ``k`` depend
on the layer: change them with :func:`preset`."""


INTERPRETABILITY_TOPK_PRESET = SaeConfig(kind="topk", n_latents=200, k=8, aux_alpha=1 / 32, dead_after=50, lr=1e-3, weight_decay=0.0)
"""The TopK SAE of the interpretability chapter (on sparse codes in superposition, with unit-norm
decoders, and on word vectors): AuxK weight 1/32 as Gao et al. (2024) on latents silent for 50
steps, Adam lr 1e-3; ``n_latents`` and ``k`` are the chapter's parameters."""

INTERPRETABILITY_RELU_PRESET = SaeConfig(kind="relu", n_latents=200, l1=1e-3, lr=1e-3, weight_decay=0.0)
"""The ReLU + L1 SAE of the interpretability chapter (Adam lr 1e-3); ``n_latents`` and ``l1`` are
the chapter's parameters."""

PRESETS = {"toy": TOY_PRESET, "dnn": DNN_PRESET, "interpretability_topk": INTERPRETABILITY_TOPK_PRESET, "interpretability_relu": INTERPRETABILITY_RELU_PRESET}
"""The named presets of :func:`preset`."""

def preset(name: str, **changes) -> SaeConfig:
    """A named preset (one of :data:`PRESETS`) with ``changes`` applied.

    Parameters
    ----------
    name : str
        Name of the preset, a key of :data:`PRESETS`.
    **changes : dict
        Fields of :class:`SaeConfig` to change (e.g. ``n_latents``, ``k``).

    Returns
    -------
    SaeConfig
        The preset with the changes.
    """
    if name not in PRESETS:
        raise ValueError(f"SAE preset must be one of {sorted(PRESETS)}; got {name!r}")
    return replace(PRESETS[name], **changes)



def layer_config(width: int, expansion: float, k_fraction: float, k: int | None = None, **changes) -> SaeConfig:
    """Paper A's network SAE (:data:`DNN_PRESET`) for a layer of ``width`` units.

    It has ``int(expansion * width)`` latents and ``k`` the share ``k_fraction`` of them (at least 1)
    unless ``k`` is given.

    Parameters
    ----------
    width : int
        Units of the layer.
    expansion : float
        Latents per unit.
    k_fraction : float
        Share of the latents active per sample, used when ``k`` is None.
    k : int or None
        Active latents, overriding ``k_fraction``.
    **changes : dict
        Further fields to change, as in :func:`preset` (e.g. ``lr``).

    Returns
    -------
    SaeConfig
        The layer's SAE settings.
    """
    n_latents = int(expansion * width)
    return preset("dnn", n_latents=n_latents, k=k if k is not None else max(1, round(k_fraction * n_latents)), **changes)

@dataclass
class Saes:
    """A batch of SAEs.

    Attributes
    ----------
    w_enc : (n_saes, d, n_latents) torch.Tensor
        Encoder weights.
    b_enc : (n_saes, n_latents) torch.Tensor
        Encoder biases.
    w_dec : (n_saes, n_latents, d) torch.Tensor
        Decoder weights.
    b_dec : (n_saes, d) torch.Tensor
        Decoder biases.
    widths : (n_saes,) torch.Tensor
        Input width of each SAE (units beyond it are zero padding in every input).
    ks : (n_saes,) torch.Tensor
        Active latents of each TopK SAE (``config.k`` unless a sweep gave each SAE its own).
    config : SaeConfig
        Their settings.
    thresholds : (n_saes,) torch.Tensor or None
        Inference thresholds of BatchTopK SAEs (set by training); None for other kinds.
    """

    w_enc: torch.Tensor
    b_enc: torch.Tensor
    w_dec: torch.Tensor
    b_dec: torch.Tensor
    widths: torch.Tensor
    ks: torch.Tensor
    config: SaeConfig
    thresholds: torch.Tensor | None = None

    def parameters(self) -> list[torch.Tensor]:
        """The trainable tensors.

        Returns
        -------
        list of torch.Tensor
            ``[w_enc, b_enc, w_dec, b_dec]``.
        """
        return [self.w_enc, self.b_enc, self.w_dec, self.b_dec]

    def select(self, rows: Sequence[int]) -> Saes:
        """The SAEs ``rows`` of this batch, as a smaller batch (copies of their tensors).

        Parameters
        ----------
        rows : (n_selected,) sequence of int
            Indices of the SAEs to keep.

        Returns
        -------
        Saes
            The selected SAEs, with the same config.
        """
        index = torch.as_tensor(list(rows), device=self.w_enc.device)
        thresholds = None if self.thresholds is None else self.thresholds[index]
        return Saes(*(t[index] for t in (self.w_enc, self.b_enc, self.w_dec, self.b_dec, self.widths, self.ks)), config=self.config, thresholds=thresholds)

    def pre_activations(self, h: torch.Tensor) -> torch.Tensor:
        """Pre-activations ``h W_enc + b_enc``.

        With ``b_dec_to_input``, ``(h - b_dec) W_enc + b_enc``; with ``decoder_norm_scaling``, each
        latent's pre-activation times the norm of its decoder row.

        Parameters
        ----------
        h : (n_saes, batch, d) torch.Tensor
            Activations.

        Returns
        -------
        (n_saes, batch, n_latents) torch.Tensor
            Pre-activations.
        """
        w_enc, b_enc = self.w_enc, self.b_enc
        if self.config.decoder_norm_scaling:  # scaling the encoder's columns is cheaper than scaling every pre-activation
            norms = torch.linalg.vector_norm(self.w_dec, dim=-1)
            w_enc, b_enc = w_enc * norms[:, None, :], b_enc * norms
        if self.config.b_dec_to_input:  # (h - b_dec) W = h W - b_dec W: no gradient through a second (batch, d) input
            b_enc = b_enc - (self.b_dec[:, None, :] @ w_enc)[:, 0, :]
        return h @ w_enc + b_enc[:, None, :]

    def decoder_directions(self) -> torch.Tensor:
        """The matrix that codes multiply: ``W_dec``, or its rows at unit length with ``decoder_norm_scaling``.

        Returns
        -------
        (n_saes, n_latents, d) torch.Tensor
            Decoder directions.
        """
        if self.config.decoder_norm_scaling:
            return self.w_dec / torch.linalg.vector_norm(self.w_dec, dim=-1, keepdim=True)
        return self.w_dec

    def activate(self, pre: torch.Tensor) -> torch.Tensor:
        """Sparse codes from pre-activations.

        TopK with ReLU on the kept values, ReLU, or BatchTopK's inference rule: ReLU above each SAE's
        threshold.

        Parameters
        ----------
        pre : (n_saes, batch, n_latents) torch.Tensor
            Pre-activations.

        Returns
        -------
        (n_saes, batch, n_latents) torch.Tensor
            Codes.
        """
        if self.config.kind == "relu":
            return torch.relu(pre)
        if self.config.kind == "batchtopk":
            if self.thresholds is None:
                raise ValueError("this BatchTopK SAE has no inference thresholds yet: train it with train_saes first")
            return torch.relu(pre) * (pre > self.thresholds[:, None, None]).to(pre.dtype)
        values, index = self.top_k(pre)
        return torch.zeros_like(pre).scatter_(-1, index, values)

    def top_k(self, pre: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The TopK codes as the kept values and their latents.

        Parameters
        ----------
        pre : (n_saes, batch, n_latents) torch.Tensor
            Pre-activations.

        Returns
        -------
        values : (n_saes, batch, k_max) torch.Tensor
            ReLU of the ``k_max = max(ks)`` largest pre-activations, zero beyond each SAE's own k.
        index : (n_saes, batch, k_max) torch.Tensor
            Their latents.
        """
        k_max = int(self.ks.max())
        per_sae_k = int(self.ks.min()) < k_max
        values, index = pre.topk(k_max, dim=-1, sorted=per_sae_k)  # the order is needed only to cut at each SAE's k
        if per_sae_k:  # SAE j keeps its ks[j] largest
            rank = torch.arange(k_max, device=pre.device)
            values = values * (rank < self.ks[:, None, None]).to(pre.dtype)
        return torch.relu(values), index

    def activate_batch(self, pre: torch.Tensor) -> torch.Tensor:
        """Training-time codes.

        BatchTopK keeps the ``k x batch`` largest pre-activations of each SAE's whole batch (ReLU on
        them); other kinds as :meth:`activate`.

        Parameters
        ----------
        pre : (n_saes, batch, n_latents) torch.Tensor
            Pre-activations.

        Returns
        -------
        (n_saes, batch, n_latents) torch.Tensor
            Codes.
        """
        if self.config.kind != "batchtopk":
            return self.activate(pre)
        n_saes, batch, n_latents = pre.shape
        flat = pre.reshape(n_saes, batch * n_latents)
        budget = self.ks * batch
        values, index = flat.topk(int(budget.max()), dim=-1)
        keep = torch.arange(values.shape[1], device=pre.device)[None, :] < budget[:, None]
        return torch.zeros_like(flat).scatter(-1, index, torch.relu(values) * keep.to(pre.dtype)).reshape(pre.shape)

    def encode(self, h: torch.Tensor) -> torch.Tensor:
        """Codes ``z`` of ``h``.

        Parameters
        ----------
        h : (n_saes, batch, d) torch.Tensor
            Activations.

        Returns
        -------
        (n_saes, batch, n_latents) torch.Tensor
            Codes.
        """
        return self.activate(self.pre_activations(h))

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Reconstruction ``h_hat = z W_dec + b_dec`` (``W_dec`` as :meth:`decoder_directions`).

        Parameters
        ----------
        z : (n_saes, batch, n_latents) torch.Tensor
            Codes.

        Returns
        -------
        (n_saes, batch, d) torch.Tensor
            Reconstruction.
        """
        return z @ self.decoder_directions() + self.b_dec[:, None, :]


def init_saes(
    n_saes: int,
    d: int,
    config: SaeConfig,
    seed: int = 0,
    device: torch.device | str = "cpu",
    dtype: torch.dtype = torch.float32,
    widths: Sequence[int] | None = None,
    ks: Sequence[int] | None = None,
    streams: Sequence[int] | None = None,
) -> Saes:
    """``n_saes`` untrained SAEs on inputs of ``d`` units; biases 0.

    SAE ``j`` draws its weights from the stream ``(seed, streams[j])`` (default ``(seed, j)``:
    every SAE its own draw); with ``widths`` it gets the weights it would get alone on
    ``widths[j]`` units, padded with zeros. SAEs of one width given the same stream start from
    the same weights, as Paper A's code does by seeding every SAE with ``torch.manual_seed(0)``.

    Parameters
    ----------
    n_saes : int
        Number of SAEs.
    d : int
        Input width (the widest one when inputs are zero-padded).
    config : SaeConfig
        Settings of the SAEs.
    seed : int
        Seed of the weights.
    device : torch.device or str
        Where the tensors live.
    dtype : torch.dtype
        Precision of the tensors.
    widths : (n_saes,) sequence of int or None
        Input width of each SAE when inputs are zero-padded to ``d`` (default: all ``d``).
    ks : (n_saes,) sequence of int or None
        Active latents per TopK SAE, for a sweep over k in one batch (default: all ``config.k``).
    streams : (n_saes,) sequence of int or None
        Random stream of each SAE's weights (default: ``0, 1, …, n_saes - 1``).

    Returns
    -------
    Saes
        The untrained SAEs.
    """
    widths = [d] * n_saes if widths is None else [int(w) for w in widths]
    if len(widths) != n_saes or not all(1 <= w <= d for w in widths):
        raise ValueError(f"widths must give n_saes = {n_saes} input widths between 1 and d = {d}; got {widths}")
    ks = [min(config.k, config.n_latents)] * n_saes if ks is None else [int(k) for k in ks]
    if len(ks) != n_saes or not all(1 <= k <= config.n_latents for k in ks):
        raise ValueError(f"ks must give n_saes = {n_saes} values of k between 1 and n_latents = {config.n_latents}; got {ks}")
    streams = list(range(n_saes)) if streams is None else [int(i) for i in streams]
    if len(streams) != n_saes:
        raise ValueError(f"streams must give one random stream per SAE (n_saes = {n_saes}); got {len(streams)}")
    n_latents = config.n_latents
    w_enc = torch.zeros((n_saes, d, n_latents), dtype=dtype)
    w_dec = torch.zeros((n_saes, n_latents, d), dtype=dtype)
    for j, width in enumerate(widths):
        g = make_generator(seed, streams[j])
        if config.init == "xavier_normal":
            std = np.sqrt(2.0 / (width + n_latents))
            w_enc[j, :width] = std * torch.randn((width, n_latents), generator=g, dtype=dtype)
            w_dec[j, :, :width] = std * torch.randn((n_latents, width), generator=g, dtype=dtype)
        else:  # kaiming_uniform with a = sqrt(5), torch's nn.Linear default: bound 1 / sqrt(fan_in)
            w_enc[j, :width] = (2 * torch.rand((width, n_latents), generator=g, dtype=dtype) - 1) / np.sqrt(width)
            w_dec[j, :, :width] = (2 * torch.rand((n_latents, width), generator=g, dtype=dtype) - 1) / np.sqrt(n_latents)
    if config.unit_norm_decoder or config.decoder_init_norm > 0:
        norm = config.decoder_init_norm if config.decoder_init_norm > 0 else 1.0
        w_dec = norm * w_dec / torch.linalg.vector_norm(w_dec, dim=-1, keepdim=True).clamp_min(1e-12)
    if config.tied_init:
        w_enc = w_dec.transpose(1, 2).clone()
    return Saes(
        w_enc=w_enc.to(device),
        b_enc=torch.zeros((n_saes, n_latents), dtype=dtype, device=device),
        w_dec=w_dec.to(device),
        b_dec=torch.zeros((n_saes, d), dtype=dtype, device=device),
        widths=torch.as_tensor(widths, device=device),
        ks=torch.as_tensor(ks, device=device),
        config=config,
        thresholds=torch.zeros(n_saes, dtype=dtype, device=device) if config.kind == "batchtopk" else None,
    )


def sae_losses(saes: Saes, h: torch.Tensor, dead: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Training loss per SAE and the codes.

    Parameters
    ----------
    saes : Saes
        The SAEs.
    h : (n_saes, batch, d) torch.Tensor
        Activations, zero beyond each SAE's width.
    dead : (n_saes, n_latents) torch.Tensor or None
        Boolean, latents counted as dead (TopK AuxK); None counts the latents silent in this batch.

    Returns
    -------
    loss : (n_saes,) torch.Tensor
        Training loss.
    reconstruction_mse : (n_saes,) torch.Tensor
        MSE, the mean over the batch and the SAE's own units.
    z : (n_saes, batch, n_latents) torch.Tensor
        Training-time codes.
    """
    cfg = saes.config
    pre = saes.pre_activations(h)
    directions = saes.decoder_directions()
    if cfg.kind == "topk" and fast_path(SELECTED_DECODE, cfg.n_latents, int(saes.ks.max()), pre.device):
        values, index = saes.top_k(pre)
        h_hat = sae_kernels.decode_selected(directions, values, index) + saes.b_dec[:, None, :]
        with torch.no_grad():
            z = torch.zeros_like(pre).scatter_(-1, index, values)
    else:
        z = saes.activate_batch(pre)
        h_hat = z @ directions + saes.b_dec[:, None, :]
    units = saes.widths.to(h.dtype)

    def mean_square(error: torch.Tensor) -> torch.Tensor:
        return (error**2).sum(dim=2).mean(dim=1) / units

    mse = mean_square(h - h_hat)
    loss = mse
    if cfg.kind != "relu" and cfg.aux_alpha > 0:
        if dead is None:
            dead = ~(z > 0).any(dim=1)
        if not bool(dead.any()):  # no dead latent in any SAE: the AuxK term is zero
            return loss, mse, z
        signed = cfg.aux_form == "signed"
        source = pre if signed else torch.relu(pre)
        if 0 < cfg.aux_k < cfg.n_latents:  # only the aux_k largest dead pre-activations
            values, index = (source * dead[:, None, :].to(pre.dtype)).topk(cfg.aux_k, dim=-1)
            if fast_path(SELECTED_DECODE, cfg.n_latents, cfg.aux_k, pre.device):
                product = sae_kernels.decode_selected(directions, values, index)
            else:
                product = torch.zeros_like(source).scatter(-1, index, values) @ directions
        elif fast_path(DEAD_COLUMNS, cfg.n_latents, int(dead.sum(dim=1).max()), pre.device):
            columns, rows = sae_kernels.gather_columns(source, directions, *sae_kernels.dead_columns(dead))
            product = columns @ rows
        else:
            product = (source * dead[:, None, :].to(pre.dtype)) @ directions
        if signed:  # Paper A's code: decoded with the bias, gradients through the residual
            aux = mean_square(product + saes.b_dec[:, None, :] - (h - h_hat))
        else:
            aux = mean_square(product - (h - h_hat).detach())
        loss = loss + cfg.aux_alpha * torch.where(dead.any(dim=1), aux, torch.zeros_like(aux))
    if cfg.kind == "relu" and cfg.l1 > 0:
        decoder_norms = torch.linalg.vector_norm(directions, dim=-1)  # (n_saes, n_latents)
        loss = loss + cfg.l1 * (z.abs() * decoder_norms[:, None, :]).sum(dim=-1).mean(dim=-1)
    return loss, mse, z


SELECTED_DECODE = (1024, 1 / 32)
"""On a CPU, a TopK SAE's training decodes its codes from the kept latents alone
(:func:`.sae_kernels.decode_selected`) when it has at least this many latents (first) and k is at
most this share of them (second); otherwise it multiplies the whole code matrix. The same holds
for the AuxK loss's ``aux_k`` largest dead pre-activations. Measured in
``benchmarks/sae_training.py`` (``loss_routes``): 1.1 to 1.5 times faster at 1,024 latents and
k up to 32, slower at 512 latents or fewer, or at k = 64 of 1,024."""

DEAD_COLUMNS = (256, 1 / 2)
"""On a CPU, the AuxK loss on all dead latents multiplies only their columns
(:func:`.sae_kernels.gather_columns`) when the SAEs have at least this many latents (first) and at
most this share of them is dead in every SAE of the pass (second); otherwise it masks the whole
matrix. Measured in ``benchmarks/sae_training.py``: 1.05 to 1.5 times faster from 256 latents
with up to 40 % dead, slower on the toy's 64 latents."""


def fast_path(rule: tuple[int, float], n_latents: int, count: int, device: torch.device) -> bool:
    """Whether a product over ``count`` of ``n_latents`` latents takes its fast path under ``rule``.

    Parameters
    ----------
    rule : (2,) tuple of int and float
        :data:`SELECTED_DECODE` or :data:`DEAD_COLUMNS`: the fewest latents, the largest share.
    n_latents : int
        Latents per SAE.
    count : int
        Latents taking part (k, ``aux_k`` or the most dead latents of any SAE).
    device : torch.device
        Where the SAEs are; the fast paths are measured on CPUs only.

    Returns
    -------
    bool
        True for the fast path.
    """
    fewest, share = rule
    return device.type == "cpu" and n_latents >= fewest and count <= share * n_latents


GROUP_ELEMENTS = 2**21
"""On a CPU, SAEs share one training pass while the codes of the pass (SAEs x batch x latents)
hold fewer than this many values (8 MiB in float32); beyond it, the tensors of one pass outgrow
the caches and separate passes are faster (measured in ``benchmarks/sae_training.py``)."""


WINDOW_STEPS = 16
"""With several passes, each pass trains this many consecutive steps (a window of batches held in
memory) before the next pass takes them: its weights stay in the caches, so that the passes run
as fast as separate trainings one after another."""

WINDOW_BYTES = 2**28
"""The most memory a window of batches may hold (fewer steps per window for larger batches)."""


def group_size(n_saes: int, batch: int, n_latents: int, device: torch.device | str) -> int:
    """How many SAEs :func:`train_saes` trains in one pass.

    All of them on an accelerator; on a CPU as many as keep the codes of one pass below
    :data:`GROUP_ELEMENTS` values, at least one.

    Parameters
    ----------
    n_saes : int
        SAEs to train.
    batch : int
        Samples per batch.
    n_latents : int
        Latents per SAE.
    device : torch.device or str
        Where they train.

    Returns
    -------
    int
        SAEs per pass, between 1 and ``n_saes``.
    """
    if torch.device(device).type != "cpu":
        return n_saes
    return max(1, min(n_saes, (GROUP_ELEMENTS - 1) // (batch * n_latents)))


def clip_gradients(saes: Saes, max_norm: float) -> None:
    """Rescale each SAE's gradient, in place, to at most ``max_norm``.

    The norm is that of the gradient of the SAE's loss summed over its units (``width`` times the
    loss of :func:`sae_losses`), over all four tensors together, with the rule of
    ``torch.nn.utils.clip_grad_norm_``: factor ``min(1, max_norm / (norm + 1e-6))``.

    Parameters
    ----------
    saes : Saes
        SAEs whose tensors hold gradients.
    max_norm : float
        Largest gradient norm.
    """
    grads = [p.grad for p in saes.parameters()]
    squares = sum((g.flatten(1) ** 2).sum(dim=1) for g in grads)
    norms = squares.sqrt() * saes.widths.to(squares.dtype)  # (n_saes,)
    factor = (max_norm / (norms + 1e-6)).clamp(max=1.0)
    for g in grads:
        g.mul_(factor.view(-1, *[1] * (g.dim() - 1)))


@dataclass
class TrainingPass:
    """SAEs trained together in one pass, with their optimiser state.

    Attributes
    ----------
    saes : Saes
        The SAEs of the pass.
    rows : slice
        Their rows in the whole batch of SAEs.
    optimiser : torch.optim.Optimizer
        Their AdamW.
    steps_since_fired : (n_pass, n_latents) torch.Tensor
        Steps since each latent last fired.
    """

    saes: Saes
    rows: slice
    optimiser: torch.optim.Optimizer
    steps_since_fired: torch.Tensor


def training_passes(saes: Saes, size: int) -> list[TrainingPass]:
    """The SAEs in passes of ``size`` (one pass holding ``saes`` itself when ``size`` covers them all).

    Parameters
    ----------
    saes : Saes
        The SAEs to train.
    size : int
        SAEs per pass.

    Returns
    -------
    list of TrainingPass
        The passes, in order of rows; gradients switched on for their tensors.
    """
    n_saes = saes.w_enc.shape[0]
    rows = [slice(start, min(start + size, n_saes)) for start in range(0, n_saes, size)]
    passes = []
    for part in rows:
        members = saes if len(rows) == 1 else saes.select(range(part.start, part.stop))
        for p in members.parameters():
            p.requires_grad_(True)
        cfg = members.config
        optimiser = torch.optim.AdamW(members.parameters(), lr=cfg.lr, betas=cfg.betas, eps=cfg.eps, weight_decay=cfg.weight_decay)
        steps_since_fired = torch.zeros(members.b_enc.shape, dtype=torch.long, device=members.b_enc.device)
        passes.append(TrainingPass(members, part, optimiser, steps_since_fired))
    return passes


@torch.no_grad()
def gather_passes(saes: Saes, passes: list[TrainingPass]) -> None:
    """Copy the tensors of every pass into their rows of ``saes``.

    Parameters
    ----------
    saes : Saes
        The whole batch of SAEs.
    passes : list of TrainingPass
        Its passes.
    """
    for part in passes:
        if part.saes is saes:
            continue
        for whole, piece in zip(saes.parameters(), part.saes.parameters()):
            whole[part.rows] = piece
        if saes.thresholds is not None:
            saes.thresholds[part.rows] = part.saes.thresholds


def training_step(part: TrainingPass, h: torch.Tensor, step: int) -> torch.Tensor:
    """One optimisation step of the SAEs of a pass.

    Parameters
    ----------
    part : TrainingPass
        The pass; its SAEs, optimiser and dead-latent counts are updated in place.
    h : (n_pass, batch, d) torch.Tensor
        Its slice of the batch.
    step : int
        Index of the step (0 starts BatchTopK's threshold average).

    Returns
    -------
    (n_pass,) torch.Tensor
        Reconstruction MSE per SAE, detached.
    """
    saes, cfg = part.saes, part.saes.config
    # dead_after = 1: dead means silent in this batch (sae_losses decides from its codes)
    dead = None if cfg.dead_after <= 1 else part.steps_since_fired >= cfg.dead_after
    loss, mse, z = sae_losses(saes, h, dead)
    part.optimiser.zero_grad(set_to_none=True)
    loss.sum().backward()
    if cfg.grad_clip > 0:
        clip_gradients(saes, cfg.grad_clip)
    part.optimiser.step()
    with torch.no_grad():
        if cfg.unit_norm_decoder:
            saes.w_dec /= torch.linalg.vector_norm(saes.w_dec, dim=-1, keepdim=True).clamp_min(1e-12)
        if cfg.dead_after > 1:
            part.steps_since_fired = torch.where((z > 0).any(dim=1), 0, part.steps_since_fired + 1)
        if cfg.kind == "batchtopk":  # inference threshold: running mean of the smallest kept value
            smallest = torch.where(z > 0, z, torch.inf).flatten(1).min(dim=1).values
            smallest = torch.where(torch.isfinite(smallest), smallest, torch.zeros_like(smallest))
            saes.thresholds = smallest if step == 0 else THRESHOLD_MOMENTUM * saes.thresholds + (1 - THRESHOLD_MOMENTUM) * smallest
    return mse.detach()


def window_steps(h: torch.Tensor, n_passes: int) -> int:
    """Steps per window of batches: 1 for one pass, else :data:`WINDOW_STEPS` within :data:`WINDOW_BYTES`.

    Parameters
    ----------
    h : (n_saes, batch, d) torch.Tensor
        One batch.
    n_passes : int
        Passes the SAEs train in.

    Returns
    -------
    int
        Steps per window, at least 1.
    """
    if n_passes == 1:
        return 1
    return max(1, min(WINDOW_STEPS, WINDOW_BYTES // (h.numel() * h.element_size())))


def train_window(passes: list[TrainingPass], window: list[torch.Tensor], first_step: int) -> torch.Tensor:
    """Every pass through the steps of a window of batches, one pass after another.

    Parameters
    ----------
    passes : list of TrainingPass
        The passes.
    window : list of (n_saes, batch, d) torch.Tensor
        Consecutive batches.
    first_step : int
        Index of the window's first step.

    Returns
    -------
    (n_saes,) torch.Tensor
        Reconstruction MSE per SAE at the window's last step.
    """
    last = []
    for part in passes:
        for offset, h in enumerate(window):
            mse = training_step(part, h[part.rows], first_step + offset)
        last.append(mse)
    return torch.cat(last)


def train_saes(
    saes: Saes,
    batches: Iterable[torch.Tensor],
    n_steps: int,
    log_every: int = 100,
    desc: str = "SAEs",
    callback: Callable[[int, Saes], None] | None = None,
    group: int | None = None,
) -> np.ndarray:
    """Train every SAE of ``saes`` at once on ``batches`` of activations, in place.

    The SAEs train in passes of ``group`` SAEs, each a batched step of its own (default:
    :func:`group_size`'s choice for the first batch); with several passes, each trains through a
    window of batches (:func:`window_steps`, ending at every logging step) before the next. Each SAE
    gets the same updates whatever the grouping, up to rounding.

    Parameters
    ----------
    saes : Saes
        The SAEs to train.
    batches : iterable of (n_saes, batch, d) torch.Tensor
        At least ``n_steps`` batches; SAE ``j`` is trained on slice ``j`` (each SAE on its own
        model's activations).
    n_steps : int
        Number of optimisation steps.
    log_every : int
        Record the MSE (and call ``callback``) every this many steps.
    desc : str
        Label of the progress bar.
    callback : callable or None
        ``callback(step, saes)``, called at the logging steps (e.g. to count live latents on
        held-out data).
    group : int or None
        SAEs per pass (None: :func:`group_size`).

    Returns
    -------
    (n_steps // log_every, n_saes) numpy.ndarray
        Reconstruction MSE per SAE every ``log_every`` steps.
    """
    n_saes = saes.w_enc.shape[0]
    passes: list[TrainingPass] = []
    window: list[torch.Tensor] = []
    history = []
    iterator = iter(batches)
    for step in progress(range(n_steps), total=n_steps, desc=desc):
        window.append(next(iterator).to(saes.w_enc.device, saes.w_enc.dtype))
        if not passes:
            h = window[0]
            size = group if group is not None else group_size(n_saes, h.shape[1], saes.config.n_latents, h.device)
            passes = training_passes(saes, max(1, size))
            length = window_steps(h, len(passes))
        logging = (step + 1) % log_every == 0
        if len(window) < length and not logging and step + 1 < n_steps:
            continue
        mse = train_window(passes, window, step + 1 - len(window))
        window = []
        if logging:
            history.append(mse.cpu().numpy())
            if callback is not None:
                gather_passes(saes, passes)
                callback(step + 1, saes)
    gather_passes(saes, passes)
    for part in passes:
        for p in part.saes.parameters():
            p.requires_grad_(False)
    return np.array(history).reshape(-1, n_saes)


@dataclass(frozen=True)
class SaeQuality:
    """Quality of each SAE on held-out activations.

    Attributes
    ----------
    fvu : (n_saes,) numpy.ndarray
        Fraction of variance unexplained, ``sum ||h - h_hat||^2 / sum ||h - mean(h)||^2`` (the mean
        over the evaluation samples, per unit).
    l0 : (n_saes,) numpy.ndarray
        Mean number of active latents per sample.
    dead : (n_saes,) numpy.ndarray
        Number of latents that never fire on the evaluation set.
    """

    fvu: np.ndarray
    l0: np.ndarray
    dead: np.ndarray


@torch.no_grad()
def encode_in_batches(saes: Saes, h: torch.Tensor, batch_size: int = 65_536) -> torch.Tensor:
    """Codes of ``h``, computed in batches of samples.

    Parameters
    ----------
    saes : Saes
        The SAEs.
    h : (n_saes, n_samples, d) torch.Tensor
        Activations.
    batch_size : int
        Samples per batch.

    Returns
    -------
    (n_saes, n_samples, n_latents) torch.Tensor
        Codes.
    """
    return torch.cat([saes.encode(h[:, i : i + batch_size]) for i in range(0, h.shape[1], batch_size)], dim=1)


@torch.no_grad()
def sae_quality(saes: Saes, h: torch.Tensor, batch_size: int = 65_536) -> SaeQuality:
    """:class:`SaeQuality` of each SAE on ``h``.

    Accumulated over batches of samples so that no (n_saes, n_samples, n_latents) array of codes is
    ever held.

    Parameters
    ----------
    saes : Saes
        The SAEs.
    h : (n_saes, n_samples, d) torch.Tensor
        Held-out activations.
    batch_size : int
        Samples per batch.

    Returns
    -------
    SaeQuality
        FVU, L0 and dead latents per SAE.
    """
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


def normalize_samples(acts: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """Paper A's input normalisation for network SAEs ("LN").

    Each sample minus its mean over units, divided by its standard deviation over units.

    Parameters
    ----------
    acts : (..., n_units) torch.Tensor
        Activations.
    eps : float
        Added to the standard deviation.

    Returns
    -------
    (..., n_units) torch.Tensor
        Normalised activations, same shape.
    """
    centred = acts - acts.mean(dim=-1, keepdim=True)
    return centred / (centred.std(dim=-1, keepdim=True) + eps)


def epoch_batches(acts: torch.Tensor, batch_size: int, n_epochs: int, seed: int) -> Iterator[torch.Tensor]:
    """Shuffled mini-batches over a fixed set of activations, epoch after epoch.

    SAE ``j`` draws its own order from stream ``(seed, j, epoch)``; ``n_epochs * (n_samples //
    batch_size)`` batches (the last partial batch of each epoch is dropped).

    Parameters
    ----------
    acts : (n_saes, n_samples, d) torch.Tensor
        Activations.
    batch_size : int
        Samples per batch (at most ``n_samples``).
    n_epochs : int
        Number of passes.
    seed : int
        Seed of the shuffles.

    Yields
    ------
    (n_saes, batch_size, d) torch.Tensor
        One batch.
    """
    n_saes, n_samples, _ = acts.shape
    if batch_size > n_samples:
        raise ValueError(f"batch_size = {batch_size} exceeds the {n_samples} samples")
    rows = torch.arange(n_saes, device=acts.device)[:, None]
    for epoch in range(n_epochs):
        orders = torch.stack([torch.randperm(n_samples, generator=make_generator(seed, j, epoch)) for j in range(n_saes)]).to(acts.device)
        for start in range(0, n_samples - batch_size + 1, batch_size):
            yield acts[rows, orders[:, start : start + batch_size]]


@dataclass(frozen=True)
class FitHistory:
    """What :func:`fit_saes` logged.

    Attributes
    ----------
    steps : (n_logs,) numpy.ndarray
        Steps at which it logged.
    mse : (n_logs, n_saes) numpy.ndarray
        Training reconstruction error.
    dead : (n_logs, n_saes) numpy.ndarray
        Latents that never fire on the probe data.
    """

    steps: np.ndarray
    mse: np.ndarray
    dead: np.ndarray


def fit_saes(
    train: torch.Tensor,
    config: SaeConfig,
    n_epochs: int,
    batch_size: int,
    seed: int = 0,
    probe: torch.Tensor | None = None,
    n_logs: int = 10,
    widths: Sequence[int] | None = None,
    desc: str = "SAEs",
    ks: Sequence[int] | None = None,
) -> tuple[Saes, FitHistory]:
    """SAEs fitted to fixed sets of activations for ``n_epochs`` shuffled passes.

    The network chapters' recipe: :func:`train_saes` with :func:`epoch_batches`.

    Parameters
    ----------
    train : (n_saes, n_samples, d) torch.Tensor
        Training activations, SAE ``j`` on slice ``j``.
    config : SaeConfig
        Settings of the SAEs.
    n_epochs : int
        Number of passes over ``train``.
    batch_size : int
        Samples per batch.
    seed : int
        Seed of the weights and shuffles.
    probe : (n_saes, n_probe, d) torch.Tensor or None
        Held-out activations on which dead latents are counted (default: the training data).
    n_logs : int
        How many times dead latents are counted during training.
    widths : (n_saes,) sequence of int or None
        As in :func:`init_saes`.
    desc : str
        Label of the progress bar.
    ks : (n_saes,) sequence of int or None
        As in :func:`init_saes`.

    Returns
    -------
    saes : Saes
        The trained SAEs.
    history : FitHistory
        What was logged.
    """
    n_saes, n_samples, d = train.shape
    n_steps = n_epochs * (n_samples // batch_size)
    if n_steps < 1:
        raise ValueError(f"no training step: {n_epochs} epochs of {n_samples} samples in batches of {batch_size}")
    saes = init_saes(n_saes, d, config, seed, train.device, train.dtype, widths=widths, ks=ks)
    probe = train if probe is None else probe
    steps, dead = [], []

    def count_dead(step: int, current: Saes) -> None:
        steps.append(step)
        dead.append(sae_quality(current, probe).dead)

    log_every = max(1, n_steps // n_logs)
    mse = train_saes(saes, epoch_batches(train, batch_size, n_epochs, seed), n_steps, log_every, desc, callback=count_dead)
    return saes, FitHistory(steps=np.array(steps), mse=mse, dead=np.array(dead).reshape(-1, n_saes))


RECIPES: dict[str, str] = {
    "authors": "Paper A's recipe: TopK, AuxK weight 1e-4 on latents silent for 32 steps (all of them, raw pre-activations), Adam, Kaiming-uniform init",
    "auxk_strong": "AuxK as Gao et al. (2024): weight 1/32 on the ReLU of the 2k largest dead pre-activations, latents dead after 256 silent steps",
    "tied_init": "encoder initialised as the decoder's transpose",
    "unit_norm": "decoder directions kept at unit norm after every step",
    "lr_low": "learning rate / 4",
    "lr_high": "learning rate x 4",
    "batchtopk": "BatchTopK (Bussmann et al. 2024): k x batch largest pre-activations per batch; a threshold at inference",
    "saelens_like": "three of SAELens's TopK training choices, each of which helps in some benchmark case and hurts in none: a tied "
    "initialisation with decoder rows of norm 0.1, the decoder bias subtracted from the input, each SAE's gradient clipped at norm 1 "
    "(not SAELens's fourth, pre-activations scaled by the decoder norms, which leaves most latents dead at small k)",
    "small_tied_init": "saelens_like with decoder rows starting at norm 0.003 instead of 0.1, about half the length of one Adam step "
    "(lr x sqrt(inputs)), so that the first updates rather than the random draw set the directions",
}
"""Named SAE recipes for networks: the authors', established remedies for dead latents, and SAELens's training choices."""

SAELENS_LIKE = {"tied_init": True, "decoder_init_norm": 0.1, "b_dec_to_input": True, "grad_clip": 1.0}
"""The settings of the ``"saelens_like"`` recipe: three of the four training choices of SAELens 6.54's
``TopKTrainingSAE`` and ``SAETrainer`` (``benchmarks/sae_peers.py`` measures each alone, all four,
and all four but one). The small tied initialisation and the decoder bias off the input help in
every case, the gradient clip on the toy SAEs only (the larger SAEs' gradients stay below norm 1). SAELens's fourth, ``decoder_norm_scaling``, helps at k = 102 of 1,024 latents
(MCC 0.408 with it, 0.390 without) but leaves three quarters of the latents dead at k = 10 and
lowers the toy SAEs' MCC."""

SMALL_TIED_INIT = SAELENS_LIKE | {"decoder_init_norm": 0.003}
"""The settings of the ``"small_tied_init"`` recipe: ``saelens_like`` with decoder rows (and the tied
encoder) starting at norm 0.003. ``benchmarks/sae_peers.py --init-scan`` trains ``saelens_like`` at
initial norms from 1 to 0.0001: at k = 102 of 1,024 latents the MCC rises steadily as the norm
falls (0.390 at 0.1, 0.449 at 0.003, 0.468 at 0.0001), at k = 10 and on the toy it stays within a
few hundredths between 0.001 and 0.03, and at 0.0001 the k = 10 SAEs lose 389 of their latents.
0.003, read off that scan, is about half of one Adam step's length (lr x sqrt(inputs): 0.0064 for
the DNN preset on 256 inputs, 0.0057 for the toy's on 32)."""


def recipe(name: str, base: SaeConfig) -> SaeConfig:
    """The recipe ``name`` (one of :data:`RECIPES`) applied to ``base``.

    Parameters
    ----------
    name : str
        Name of the recipe, a key of :data:`RECIPES`.
    base : SaeConfig
        The authors' settings scaled to the layer: :func:`preset` ``("dnn", n_latents=..., k=...)``.

    Returns
    -------
    SaeConfig
        ``base`` with the recipe's changes.
    """
    changes = {
        "authors": {},
        "auxk_strong": {"aux_alpha": 1 / 32, "aux_k": min(2 * base.k, base.n_latents), "dead_after": 256, "aux_form": "relu"},
        "tied_init": {"tied_init": True},
        "unit_norm": {"unit_norm_decoder": True},
        "lr_low": {"lr": base.lr / 4},
        "lr_high": {"lr": base.lr * 4},
        "batchtopk": {"kind": "batchtopk"},
        "saelens_like": SAELENS_LIKE,
        "small_tied_init": SMALL_TIED_INIT,
    }
    if name not in changes:
        raise ValueError(f"SAE recipe must be one of {sorted(changes)}; got {name!r}")
    return replace(base, **changes[name])


@dataclass(frozen=True)
class FittedCodes:
    """What :func:`fit_and_encode` returns.

    Attributes
    ----------
    codes : (n_saes, n_eval, n_latents) numpy.ndarray
        Codes of the trained SAEs on the evaluation activations.
    random_codes : (n_saes, n_eval, n_latents) numpy.ndarray
        The same of the untrained SAEs (the random-SAE control).
    saes : Saes
        The trained SAEs.
    history : FitHistory
        Their training log.
    quality : SaeQuality
        Their quality on the evaluation activations.
    """

    codes: np.ndarray
    random_codes: np.ndarray
    saes: Saes
    history: FitHistory
    quality: SaeQuality


def fit_and_encode(
    train: Sequence[np.ndarray],
    evaluate: Sequence[np.ndarray],
    config: SaeConfig,
    n_epochs: int,
    batch_size: int,
    seed: int = 0,
    device: torch.device | str = "cpu",
    normalize: bool = True,
    n_logs: int = 10,
    desc: str = "SAEs",
) -> FittedCodes:
    """SAEs fitted to activation matrices of one width and applied to held-out ones.

    With ``normalize`` both go through :func:`normalize_samples` first (Paper A's network recipe).
    Dead latents are counted on the evaluation activations ``n_logs`` times during training.

    Parameters
    ----------
    train : (n_saes,) sequence of (n_train, d) array
        ``train[j]``: training activations of representation ``j``.
    evaluate : (n_saes,) sequence of (n_eval, d) array
        ``evaluate[j]``: held-out activations of representation ``j``.
    config : SaeConfig
        Settings of the SAEs.
    n_epochs : int
        Number of passes over the training activations.
    batch_size : int
        Samples per batch.
    seed : int
        Seed of the weights and shuffles.
    device : torch.device or str
        Where the SAEs train.
    normalize : bool
        Apply :func:`normalize_samples` to both sets first.
    n_logs : int
        How many times dead latents are counted.
    desc : str
        Label of the progress bar.

    Returns
    -------
    FittedCodes
        Codes of the trained and untrained SAEs, the SAEs, their history and quality.
    """
    def stack(arrays: Sequence[np.ndarray]) -> torch.Tensor:
        tensor = torch.stack([torch.as_tensor(np.asarray(a), dtype=torch.float32, device=device) for a in arrays])
        return normalize_samples(tensor) if normalize else tensor

    train_t, eval_t = stack(train), stack(evaluate)
    saes, history = fit_saes(train_t, config, n_epochs, batch_size, seed=seed, probe=eval_t, n_logs=n_logs, desc=desc)
    untrained = init_saes(len(train), train_t.shape[2], config, seed, train_t.device, train_t.dtype)
    return FittedCodes(
        codes=encode_in_batches(saes, eval_t).cpu().numpy(),
        random_codes=encode_in_batches(untrained, eval_t).cpu().numpy(),
        saes=saes,
        history=history,
        quality=sae_quality(saes, eval_t),
    )
