"""The cluster-on-sphere data-generating process of Paper B, and encoders trained on it.

Reizinger et al. 2024 ("Cross-entropy is all you need to invert the data generating process",
Paper B; code ``klindtlab/csi``, ``simulation/main_sup.py``) test their Theorem 1 in a synthetic
setting:

- latents ``z`` on the unit sphere ``S^{d-1}``: a cluster label ``c`` is drawn uniformly from
  ``n_clusters`` cluster vectors ``v_c`` (the centres), then ``z ~ vMF(v_c, kappa)``;
- observations ``x = g(z)``: a frozen invertible MLP (:func:`invertible_mlp`);
- an encoder ``f`` and a linear classifier ``W`` (no bias) trained with cross-entropy to predict
  ``c`` from ``x``. The theorem says that at the optimum ``h = f(g(z))`` is a linear function of
  ``z``; the evidence is the linear R^2 of ``z`` from ``h`` (:func:`linear_r2`).

With vMF conditionals and equal priors, ``p(c | z)`` is proportional to ``exp(kappa v_c . z)``:
the Bayes-optimal classifier is linear in ``z`` and its cross-entropy is the floor any encoder can
reach (:func:`bayes_cross_entropy`).

Several encoders (seeds) train at once in one set of tensors with a leading instance axis
(:class:`Encoders`, :func:`train_encoders`); they see the same data-generating process and, by
default, the same batches. Samples are drawn from explicit CPU ``torch.Generator`` streams and
moved to the encoders' device; training runs in float32, the regressions in float64 on the CPU.

Differences from csi, on purpose: labels are uniform over clusters (csi draws one of 10,240
indices and takes it modulo the number of clusters, nearly uniform); the encoder is compact, with
a per-sample LayerNorm instead of BatchNorm (csi: six hidden layers of 10d-50d units with
BatchNorm, :func:`csi_hidden`); the generator's layers
are the best-conditioned matrices of one batched pool (csi draws one matrix at a time until it
beats the best of a 25,000-matrix pool); the held-out set is sampled once, not at every evaluation.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from ..runtime import make_generator, progress

CENTRE_KINDS = ("uniform", "laplace", "normal")
"""Distributions of the cluster vectors: csi's ``m_p`` = 0, 1, 2."""

CONDITIONAL_KINDS = ("vmf", "laplace", "normal")
"""Distributions of a sample around its cluster vector: csi's ``c_p`` = 0, 1, 2."""

MAX_POOL_ENTRIES = 4_000_000
"""Cap on ``pool_size * d * d`` for the generator's candidate matrices (about 0.2 s at d = 20)."""

MAX_VMF_ROUNDS = 64
"""Rejection rounds of Wood's sampler before giving up (acceptance is above 1/2 per round)."""


def _check_dim(d: int) -> None:
    if not isinstance(d, (int, np.integer)) or d < 2:
        raise ValueError(f"d must be an int >= 2 (the sphere S^(d-1) in R^d); got {d!r}")


def _check_kappa(kappa: float) -> None:
    if not np.isfinite(kappa) or kappa < 0:
        raise ValueError(f"kappa must be a finite number >= 0; got {kappa!r}")


def _as_cpu(x: torch.Tensor | np.ndarray, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    return torch.as_tensor(x).detach().to(device="cpu", dtype=dtype)


# ----------------------------------------------------------------------------------------------
# Latents


def uniform_sphere(n_samples: int, d: int, generator: torch.Generator, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Points uniform on the unit sphere: normalised standard normals.

    Parameters
    ----------
    n_samples : int
        Number of points.
    d : int
        Ambient dimension (at least 2): the sphere ``S^{d-1}``.
    generator : torch.Generator
        Random stream of the draws.
    dtype : torch.dtype
        Precision of the result (drawn in float64).

    Returns
    -------
    (n_samples, d) torch.Tensor
        Unit-norm rows.
    """
    _check_dim(d)
    x = torch.randn((n_samples, d), generator=generator, dtype=torch.float64)
    return (x / torch.linalg.vector_norm(x, dim=-1, keepdim=True)).to(dtype)


def _project(x: torch.Tensor) -> torch.Tensor:
    """Rows of ``x`` (n, d) scaled to unit norm."""
    return x / torch.linalg.vector_norm(x, dim=-1, keepdim=True)


def _laplace_noise(shape: tuple[int, ...], scale: float, generator: torch.Generator) -> torch.Tensor:
    """Independent Laplace(0, scale) entries, float64: the difference of two Exp(1) draws, scaled."""
    e = torch.empty((2, *shape), dtype=torch.float64).exponential_(generator=generator)
    return scale * (e[0] - e[1])


def cluster_centres(n_clusters: int, d: int, generator: torch.Generator, kind: str = "uniform", scale: float = 1.0) -> torch.Tensor:
    """Cluster vectors ``v_c`` on the unit sphere.

    - ``"uniform"``: uniform on the sphere (csi ``m_p = 0``, the paper's default);
    - ``"laplace"``: ``e_1`` plus independent Laplace(0, ``scale``) noise per coordinate,
      projected to the sphere (csi ``m_p = 1``, scale 1);
    - ``"normal"``: ``e_1`` plus independent N(0, ``scale^2``) noise, projected (csi ``m_p = 2``,
      scale 1).

    Parameters
    ----------
    n_clusters : int
        Number of clusters (at least 1).
    d : int
        Latent dimension (at least 2).
    generator : torch.Generator
        Random stream of the draws.
    kind : {"uniform", "laplace", "normal"}
        Distribution of the centres (:data:`CENTRE_KINDS`).
    scale : float
        Noise scale of the Laplace and normal kinds (positive).

    Returns
    -------
    (n_clusters, d) torch.Tensor
        Unit-norm centres, float32.
    """
    _check_dim(d)
    if n_clusters < 1:
        raise ValueError(f"n_clusters must be >= 1; got {n_clusters!r}")
    if kind not in CENTRE_KINDS:
        raise ValueError(f"centre kind must be one of {CENTRE_KINDS}; got {kind!r}")
    if kind == "uniform":
        return uniform_sphere(n_clusters, d, generator)
    if not scale > 0:
        raise ValueError(f"scale must be > 0; got {scale!r}")
    e1 = torch.zeros(d, dtype=torch.float64)
    e1[0] = 1.0
    if kind == "laplace":
        noise = _laplace_noise((n_clusters, d), scale, generator)
    else:
        noise = scale * torch.randn((n_clusters, d), generator=generator, dtype=torch.float64)
    return _project(e1 + noise).to(torch.float32)


# ----------------------------------------------------------------------------------------------
# Conditionals


def _wood_weights(n_samples: int, d: int, kappa: float, generator: torch.Generator) -> torch.Tensor:
    """The component ``w = mu . z`` of vMF(mu, kappa) samples on S^(d-1): ``(n_samples,)`` float64.

    Wood (1994): with ``b = (d-1) / (2 kappa + sqrt(4 kappa^2 + (d-1)^2))``, ``x0 = (1-b)/(1+b)``,
    ``c = kappa x0 + (d-1) log(1 - x0^2)``, propose ``w = (1 - (1+b) y) / (1 - (1-b) y)`` with
    ``y ~ Beta((d-1)/2, (d-1)/2)`` and accept when ``kappa w + (d-1) log(1 - x0 w) - c >= log u``.
    All samples are proposed at once; each round redraws only the rejected ones. The Beta draw is
    ``(1 + t) / 2`` with ``t`` the first coordinate of a uniform point on S^(d-1), whose density is
    proportional to ``(1 - t^2)^((d-3)/2)``.
    """
    m = d - 1
    b = m / (2.0 * kappa + math.sqrt(4.0 * kappa**2 + m**2))
    x0 = (1.0 - b) / (1.0 + b)
    c = kappa * x0 + m * math.log1p(-(x0**2))
    w = torch.empty(n_samples, dtype=torch.float64)
    pending = torch.arange(n_samples)
    for _ in range(MAX_VMF_ROUNDS):
        k = pending.numel()
        if k == 0:
            return w
        g = torch.randn((k, d), generator=generator, dtype=torch.float64)
        y = 0.5 * (1.0 + g[:, 0] / torch.linalg.vector_norm(g, dim=-1))
        proposal = (1.0 - (1.0 + b) * y) / (1.0 - (1.0 - b) * y)
        u = torch.rand(k, generator=generator, dtype=torch.float64)
        accept = kappa * proposal + m * torch.log1p(-x0 * proposal) - c >= torch.log(u)
        w[pending[accept]] = proposal[accept]
        pending = pending[~accept]
    if pending.numel() > 0:
        raise RuntimeError(f"vMF rejection sampling left {pending.numel()} samples after {MAX_VMF_ROUNDS} rounds")
    return w


def _householder_from_e1(x: torch.Tensor, mu: torch.Tensor) -> torch.Tensor:
    """Reflect rows of ``x`` (n, d) by the Householder map sending ``e_1`` to ``mu`` (n, d) unit rows."""
    u = -mu.clone()
    u[:, 0] += 1.0  # u = e_1 - mu
    uu = (u * u).sum(dim=-1, keepdim=True)
    coefficient = torch.where(uu > 1e-24, 2.0 * (u * x).sum(dim=-1, keepdim=True) / uu.clamp_min(1e-24), torch.zeros_like(uu))
    return x - coefficient * u


def sample_vmf(mu: torch.Tensor, kappa: float, generator: torch.Generator) -> torch.Tensor:
    """Exact von Mises-Fisher samples, one per row of ``mu``.

    The component along ``e_1`` comes from Wood's rejection sampler (:func:`_wood_weights`), the rest
    is uniform on the orthogonal sphere, and a Householder reflection maps ``e_1`` to each row's
    ``mu``. Computed in float64 on the CPU.

    Parameters
    ----------
    mu : (n, d) torch.Tensor
        Unit vectors, the mean directions.
    kappa : float
        Concentration, ``>= 0`` (0: uniform).
    generator : torch.Generator
        Random stream of the draws.

    Returns
    -------
    (n, d) torch.Tensor
        Samples, in ``mu``'s dtype and on its device.
    """
    _check_kappa(kappa)
    mu = torch.as_tensor(mu)
    if mu.ndim != 2:
        raise ValueError(f"mu must be (n, d); got shape {tuple(mu.shape)}")
    n, d = mu.shape
    _check_dim(d)
    mu64 = _as_cpu(mu)
    if not torch.allclose(torch.linalg.vector_norm(mu64, dim=-1), torch.ones(n, dtype=torch.float64), atol=1e-4):
        raise ValueError("mu must have unit-norm rows")
    mu64 = _project(mu64)
    w = _wood_weights(n, d, float(kappa), generator)
    v = _project(torch.randn((n, d - 1), generator=generator, dtype=torch.float64))
    x = torch.cat([w[:, None], torch.sqrt((1.0 - w**2).clamp_min(0.0))[:, None] * v], dim=1)
    return _householder_from_e1(x, mu64).to(dtype=mu.dtype, device=mu.device)


def csi_scale(kappa: float) -> float:
    """The scale csi gives its Laplace and normal conditionals for ``c_param = kappa``: ``kappa / 10``.

    Note the direction: a larger ``kappa`` spreads these conditionals *more*, the opposite of the vMF.

    Parameters
    ----------
    kappa : float
        csi's ``c_param``.

    Returns
    -------
    float
        ``kappa / 10``.
    """
    return kappa / 10.0


def sample_latents(
    centres: torch.Tensor, labels: torch.Tensor, kappa: float, generator: torch.Generator, kind: str = "vmf", scale: float | None = None
) -> torch.Tensor:
    """Latents around their cluster vectors.

    - ``"vmf"``: ``z ~ vMF(v_c, kappa)`` (:func:`sample_vmf`; csi ``c_p = 0``);
    - ``"laplace"``: ``v_c`` plus independent Laplace(0, ``scale``) noise, projected to the sphere
      (csi ``c_p = 1``);
    - ``"normal"``: ``v_c`` plus independent N(0, ``scale^2``) noise, projected (csi ``c_p = 2``).

    Parameters
    ----------
    centres : (n_clusters, d) torch.Tensor
        Unit-norm cluster vectors.
    labels : (n,) torch.Tensor
        Cluster of each sample, in ``[0, n_clusters)``.
    kappa : float
        Concentration of the vMF, ``>= 0``.
    generator : torch.Generator
        Random stream of the draws.
    kind : {"vmf", "laplace", "normal"}
        Conditional distribution (:data:`CONDITIONAL_KINDS`).
    scale : float or None
        Noise scale (Laplace, normal): default :func:`csi_scale` of ``kappa``, csi's
        ``c_param / 10`` (1 at the default ``kappa = 10``). Ignored for the vMF.

    Returns
    -------
    (n, d) torch.Tensor
        Unit-norm latents, float32.
    """
    if kind not in CONDITIONAL_KINDS:
        raise ValueError(f"conditional kind must be one of {CONDITIONAL_KINDS}; got {kind!r}")
    _check_kappa(kappa)
    centres = torch.as_tensor(centres)
    labels = torch.as_tensor(labels)
    if centres.ndim != 2:
        raise ValueError(f"centres must be (n_clusters, d); got shape {tuple(centres.shape)}")
    if labels.ndim != 1:
        raise ValueError(f"labels must be (n,); got shape {tuple(labels.shape)}")
    if labels.numel() and (int(labels.min()) < 0 or int(labels.max()) >= centres.shape[0]):
        raise ValueError(f"labels must lie in [0, n_clusters = {centres.shape[0]}); got range [{int(labels.min())}, {int(labels.max())}]")
    mu = _as_cpu(centres)[labels.cpu()]
    if kind == "vmf":
        return sample_vmf(mu, kappa, generator).to(torch.float32)
    scale = csi_scale(kappa) if scale is None else scale
    if not scale > 0:
        raise ValueError(f"scale must be > 0 for {kind!r} conditionals; got {scale!r}")
    if kind == "laplace":
        noise = _laplace_noise(tuple(mu.shape), scale, generator)
    else:
        noise = scale * torch.randn(mu.shape, generator=generator, dtype=torch.float64)
    return _project(mu + noise).to(torch.float32)


def sample_dataset(
    n_samples: int, centres: torch.Tensor, kappa: float, generator: torch.Generator, kind: str = "vmf", scale: float | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Labels uniform over the clusters, then latents around them.

    Parameters
    ----------
    n_samples : int
        Number of samples.
    centres : (n_clusters, d) torch.Tensor
        Unit-norm cluster vectors.
    kappa : float
        Concentration, as in :func:`sample_latents`.
    generator : torch.Generator
        Random stream of the draws.
    kind : {"vmf", "laplace", "normal"}
        Conditional distribution, as in :func:`sample_latents`.
    scale : float or None
        Noise scale, as in :func:`sample_latents`.

    Returns
    -------
    z : (n_samples, d) torch.Tensor
        Latents, float32.
    labels : (n_samples,) torch.Tensor
        Cluster labels, int64.
    """
    labels = torch.randint(0, torch.as_tensor(centres).shape[0], (n_samples,), generator=generator)
    return sample_latents(centres, labels, kappa, generator, kind, scale), labels


# ----------------------------------------------------------------------------------------------
# The generator g


@dataclass
class InvertibleMlp:
    """The frozen mixing ``x = g(z)``: ``n_layers`` bias-free ``d x d`` linear maps, LeakyReLU between.

    Attributes
    ----------
    weights : (n_layers, d, d) torch.Tensor
        ``torch.nn.Linear`` convention: layer ``i`` maps ``x`` to ``x @ weights[i].T``; every column
        has unit L2 norm.
    negative_slope : float
        Slope of the LeakyReLU for negative inputs (0.2).
    condition_numbers : (n_layers,) torch.Tensor
        2-norm condition number of each layer.
    threshold : float
        Condition numbers of accepted candidates are at most this.
    pool_size : int
        How many candidate matrices were drawn.
    """

    weights: torch.Tensor
    negative_slope: float
    condition_numbers: torch.Tensor
    threshold: float
    pool_size: int

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """``g(z)``.

        Parameters
        ----------
        z : (..., d) torch.Tensor
            Latents.

        Returns
        -------
        (..., d) torch.Tensor
            Observations, in ``z``'s dtype.
        """
        weights = self.weights.to(device=z.device, dtype=z.dtype)
        x = z
        for i in range(weights.shape[0]):
            x = x @ weights[i].T
            if i < weights.shape[0] - 1:
                x = F.leaky_relu(x, self.negative_slope)
        return x

    __call__ = forward

    def inverse(self, x: torch.Tensor) -> torch.Tensor:
        """``g^{-1}(x)``; the matrices are inverted in float64.

        Parameters
        ----------
        x : (..., d) torch.Tensor
            Observations.

        Returns
        -------
        (..., d) torch.Tensor
            Latents, in ``x``'s dtype.
        """
        inverses = torch.linalg.inv(self.weights.to(torch.float64)).to(device=x.device, dtype=x.dtype)
        z = x
        for i in reversed(range(inverses.shape[0])):
            if i < inverses.shape[0] - 1:
                z = torch.where(z >= 0, z, z / self.negative_slope)
            z = z @ inverses[i].T
        return z


def _condition_numbers(matrices: torch.Tensor) -> torch.Tensor:
    """2-norm condition numbers of ``matrices``: (n, d, d) -> (n,), one batched SVD."""
    s = torch.linalg.svdvals(matrices)
    return s[..., 0] / s[..., -1]


def invertible_mlp(
    d: int,
    generator: torch.Generator,
    n_layers: int = 4,
    negative_slope: float = 0.2,
    pool_size: int = 25_000,
    quantile: float = 0.0,
) -> InvertibleMlp:
    """A random invertible MLP with well-conditioned layers (csi's ``construct_invertible_mlp``).

    One batched draw of ``pool_size`` candidate matrices, uniform on [-1, 1] with L2-normalised
    columns, and one batched SVD for their condition numbers. The threshold is the ``quantile`` of
    the pool's condition numbers, but never below its ``n_layers``-th smallest; the layers are the
    first ``n_layers`` candidates (in draw order) at or below it. csi uses ``quantile = 0`` (a layer
    must beat the best of 25,000 random matrices): here, with the default 0, the layers are the
    ``n_layers`` best of the pool.

    Parameters
    ----------
    d : int
        Dimension of latents and observations (at least 2).
    generator : torch.Generator
        Random stream of the candidates.
    n_layers : int
        Number of linear maps (at least 1).
    negative_slope : float
        LeakyReLU slope (positive, for ``g`` to be invertible).
    pool_size : int
        Candidate matrices; capped so that ``pool_size * d^2`` stays below :data:`MAX_POOL_ENTRIES`
        (10,000 candidates at d = 20).
    quantile : float
        Quantile of the pool's condition numbers used as threshold, in [0, 1].

    Returns
    -------
    InvertibleMlp
        The generator, float32 weights.
    """
    _check_dim(d)
    if n_layers < 1:
        raise ValueError(f"n_layers must be >= 1; got {n_layers!r}")
    if not 0.0 <= quantile <= 1.0:
        raise ValueError(f"quantile must lie in [0, 1]; got {quantile!r}")
    if not 0.0 < negative_slope:
        raise ValueError(f"negative_slope must be > 0 for g to be invertible; got {negative_slope!r}")
    pool_size = int(min(pool_size, max(n_layers, MAX_POOL_ENTRIES // (d * d))))
    if pool_size < n_layers:
        raise ValueError(f"pool_size must be >= n_layers = {n_layers}; got {pool_size}")
    pool = 2.0 * torch.rand((pool_size, d, d), generator=generator, dtype=torch.float64) - 1.0
    pool = pool / torch.linalg.vector_norm(pool, dim=-2, keepdim=True)
    cond = _condition_numbers(pool)
    rank = max(int(pool_size * quantile), n_layers - 1)
    threshold = float(torch.sort(cond).values[min(rank, pool_size - 1)])
    chosen = torch.nonzero(cond <= threshold).flatten()[:n_layers]
    return InvertibleMlp(
        weights=pool[chosen].to(torch.float32), negative_slope=negative_slope, condition_numbers=cond[chosen], threshold=threshold, pool_size=pool_size
    )


def mixing_linear_r2(mixing: InvertibleMlp, z: torch.Tensor) -> float:
    """How linear ``g`` is: R^2 of ``z`` from ``x = g(z)`` by linear regression.

    Fitted on the first half of the rows, scored on the second (as csi prints at start-up).

    Parameters
    ----------
    mixing : InvertibleMlp
        The generator ``g``.
    z : (n, d) torch.Tensor
        Latents.

    Returns
    -------
    float
        Test R^2.
    """
    x = mixing(torch.as_tensor(z, dtype=torch.float64))
    half = z.shape[0] // 2
    return float(linear_r2(x[:half], z[:half], x[half:], z[half:]))


# ----------------------------------------------------------------------------------------------
# The Bayes optimum


def bayes_logits(z: torch.Tensor, centres: torch.Tensor, kappa: float) -> torch.Tensor:
    """Log-posterior up to a constant under vMF conditionals and equal priors: ``kappa z v_c^T``.

    Parameters
    ----------
    z : (n, d) torch.Tensor
        Latents.
    centres : (n_clusters, d) torch.Tensor
        Cluster vectors.
    kappa : float
        Concentration, ``>= 0``.

    Returns
    -------
    (n, n_clusters) torch.Tensor
        Logits, float64 on the CPU.
    """
    _check_kappa(kappa)
    return kappa * _as_cpu(z) @ _as_cpu(centres).T


def bayes_cross_entropy(z: torch.Tensor, labels: torch.Tensor, centres: torch.Tensor, kappa: float, kind: str = "vmf") -> float:
    """Cross-entropy of the Bayes-optimal classifier on the samples ``(z, labels)``.

    The mean over samples of ``-log softmax(kappa z @ centres.T)[label]``: on fresh samples, a Monte
    Carlo estimate of the lowest cross-entropy any encoder can reach. Only for ``kind = "vmf"``: for
    Laplace or normal conditionals the posterior is not linear in ``z`` and is not computed
    (``ValueError``).

    Parameters
    ----------
    z : (n, d) torch.Tensor
        Latents.
    labels : (n,) torch.Tensor
        Cluster labels.
    centres : (n_clusters, d) torch.Tensor
        Cluster vectors.
    kappa : float
        Concentration.
    kind : str
        Conditional distribution; must be ``"vmf"``.

    Returns
    -------
    float
        Mean cross-entropy.
    """
    if kind != "vmf":
        raise ValueError(f"kind must be 'vmf' for the Bayes optimum (Laplace and normal conditionals have no posterior linear in z); got {kind!r}")
    z, labels, centres = torch.as_tensor(z), torch.as_tensor(labels), torch.as_tensor(centres)
    if z.ndim != 2 or centres.ndim != 2 or z.shape[1] != centres.shape[1]:
        raise ValueError(f"z must be (n, d) and centres (n_clusters, d) with the same d; got {tuple(z.shape)} and {tuple(centres.shape)}")
    if labels.shape != (z.shape[0],):
        raise ValueError(f"labels must be (n,) = ({z.shape[0]},); got {tuple(labels.shape)}")
    return float(F.cross_entropy(bayes_logits(z, centres, kappa), labels.cpu().long()))


# ----------------------------------------------------------------------------------------------
# Encoders


@dataclass
class Encoders:
    """A batch of MLP encoders ``f`` with linear classifiers ``W``, one per instance.

    Attributes
    ----------
    weights : list of (n_instances, width_in, width_out) torch.Tensor
        One per layer: d -> hidden ... -> n_out.
    biases : list of (n_instances, width_out) torch.Tensor
        One per layer.
    classifier : (n_instances, n_out, n_clusters) torch.Tensor
        Linear classifier, no bias.
    gains, shifts : list of (n_instances, width_out) torch.Tensor
        One per hidden layer, the affine part of the layer normalisation (empty lists without one).
    layer_norm : bool
        Normalise each hidden layer per sample (``torch.nn.LayerNorm``, before the activation) or not.
    negative_slope : float
        LeakyReLU slope between layers (0.01, torch's default, as in csi's encoder).
    """

    weights: list[torch.Tensor]
    biases: list[torch.Tensor]
    classifier: torch.Tensor
    gains: list[torch.Tensor]
    shifts: list[torch.Tensor]
    layer_norm: bool = False
    negative_slope: float = 0.01

    @property
    def n_instances(self) -> int:
        """Number of instances (encoders) in the batch."""
        return self.classifier.shape[0]

    def parameters(self) -> list[torch.Tensor]:
        """The trainable tensors.

        Returns
        -------
        list of torch.Tensor
            Weights, biases, classifier, gains and shifts.
        """
        return [*self.weights, *self.biases, self.classifier, *self.gains, *self.shifts]

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Representations ``h = f(x)``.

        Parameters
        ----------
        x : (batch, d) or (n_instances, batch, d) torch.Tensor
            Observations (2-D: shared by all instances).

        Returns
        -------
        (n_instances, batch, n_out) torch.Tensor
            Representations.
        """
        h = x if x.ndim == 3 else x[None]
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            h = h @ w + b[:, None, :]
            if i < len(self.weights) - 1:
                if self.layer_norm:
                    h = F.layer_norm(h, h.shape[-1:], eps=1e-5) * self.gains[i][:, None, :] + self.shifts[i][:, None, :]
                h = F.leaky_relu(h, self.negative_slope)
        return h

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """Class logits ``W f(x)``.

        Parameters
        ----------
        x : (batch, d) or (n_instances, batch, d) torch.Tensor
            Observations.

        Returns
        -------
        (n_instances, batch, n_clusters) torch.Tensor
            Logits.
        """
        return self.encode(x) @ self.classifier

    def select(self, rows: Sequence[int]) -> Encoders:
        """The instances ``rows``, as a smaller batch (copies).

        Parameters
        ----------
        rows : (n_selected,) sequence of int
            Indices of the instances to keep.

        Returns
        -------
        Encoders
            The selected instances.
        """
        index = torch.as_tensor(list(rows), device=self.classifier.device)
        return Encoders(
            [w[index] for w in self.weights],
            [b[index] for b in self.biases],
            self.classifier[index],
            [g[index] for g in self.gains],
            [s[index] for s in self.shifts],
            self.layer_norm,
            self.negative_slope,
        )


def init_encoders(
    d: int,
    n_clusters: int,
    seeds: Sequence[int],
    n_out: int | None = None,
    hidden: Sequence[int] = (64, 64),
    layer_norm: bool = True,
    device: torch.device | str = "cpu",
    dtype: torch.dtype = torch.float32,
) -> Encoders:
    """Untrained encoders, one per seed, with torch's ``nn.Linear`` initialisation.

    Every weight and bias is uniform on ``[-1/sqrt(fan_in), 1/sqrt(fan_in)]``. Instance ``j`` draws
    from the stream ``make_generator(seeds[j])``: the same encoder whatever is trained beside it.

    Parameters
    ----------
    d : int
        Input dimension (at least 2).
    n_clusters : int
        Number of classes (at least 2).
    seeds : (n_instances,) sequence of int
        One seed per instance.
    n_out : int or None
        The representation's dimension (default ``d``; smaller shows M < d).
    hidden : sequence of int
        Widths of the hidden layers (csi's much larger encoder: :func:`csi_hidden`).
    layer_norm : bool
        A per-sample LayerNorm (gain 1, shift 0 at init) on every hidden layer, before the LeakyReLU;
        it stands in for csi's BatchNorm, keeps instances and samples independent, and (d = 5, 100
        clusters) reaches a given R^2 in fewer steps than no normalisation.
    device : torch.device or str
        Where the tensors live.
    dtype : torch.dtype
        Precision of the tensors.

    Returns
    -------
    Encoders
        The untrained encoders.
    """
    _check_dim(d)
    n_out = d if n_out is None else n_out
    if n_out < 1:
        raise ValueError(f"n_out must be >= 1; got {n_out!r}")
    if n_clusters < 2:
        raise ValueError(f"n_clusters must be >= 2; got {n_clusters!r}")
    if len(seeds) < 1:
        raise ValueError("seeds must name at least one instance")
    if any(h < 1 for h in hidden):
        raise ValueError(f"hidden widths must be >= 1; got {list(hidden)}")
    widths = [d, *hidden, n_out]
    n = len(seeds)
    weights = [torch.empty((n, a, b), dtype=dtype) for a, b in zip(widths[:-1], widths[1:])]
    biases = [torch.empty((n, b), dtype=dtype) for b in widths[1:]]
    classifier = torch.empty((n, n_out, n_clusters), dtype=dtype)
    for j, seed in enumerate(seeds):
        g = make_generator(int(seed))
        for w, b in zip(weights, biases):
            bound = 1.0 / math.sqrt(w.shape[1])
            w[j] = bound * (2 * torch.rand(w.shape[1:], generator=g, dtype=dtype) - 1)
            b[j] = bound * (2 * torch.rand(b.shape[1:], generator=g, dtype=dtype) - 1)
        classifier[j] = (2 * torch.rand(classifier.shape[1:], generator=g, dtype=dtype) - 1) / math.sqrt(n_out)
    n_norms = len(hidden) if layer_norm else 0
    gains = [torch.ones((n, width), dtype=dtype, device=device) for width in hidden[:n_norms]]
    shifts = [torch.zeros((n, width), dtype=dtype, device=device) for width in hidden[:n_norms]]
    return Encoders(
        [w.to(device) for w in weights], [b.to(device) for b in biases], classifier.to(device), gains, shifts, layer_norm
    )


def csi_hidden(d: int) -> tuple[int, ...]:
    """csi's encoder widths for ``d`` latents: ``(10d, 50d, 50d, 50d, 50d, 10d)``.

    Parameters
    ----------
    d : int
        Latent dimension (at least 2).

    Returns
    -------
    (6,) tuple of int
        Hidden widths.
    """
    _check_dim(d)
    return (10 * d, 50 * d, 50 * d, 50 * d, 50 * d, 10 * d)


@dataclass
class TrainingHistory:
    """What :func:`train_encoders` logs at step 0 and every ``eval_every`` steps.

    Attributes
    ----------
    steps : (n_evals,) numpy.ndarray
        Optimiser steps taken before each evaluation.
    train_loss : (n_evals, n_instances) numpy.ndarray
        Mean training cross-entropy over the steps since the previous evaluation (NaN at step 0).
    test_loss : (n_evals, n_instances) numpy.ndarray
        Cross-entropy on the held-out set.
    r2 : (n_evals, n_instances) numpy.ndarray
        Linear R^2 of ``z`` from ``f(g(z))`` on the held-out set (fitted on its first half, scored on
        its second).
    bayes_loss : float or None
        Cross-entropy of the Bayes-optimal classifier on the held-out set (vMF), else None.
    """

    steps: np.ndarray
    train_loss: np.ndarray
    test_loss: np.ndarray
    r2: np.ndarray
    bayes_loss: float | None


@torch.no_grad()
def _evaluate(encoders: Encoders, mixing: InvertibleMlp, z: torch.Tensor, labels: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Held-out cross-entropy and linear R^2 per instance, each (n_instances,)."""
    x = mixing(z)
    h = encoders.encode(x)
    logits = h @ encoders.classifier
    loss = F.cross_entropy(logits.transpose(1, 2), labels[None].expand(h.shape[0], -1), reduction="none").mean(dim=1)
    half = z.shape[0] // 2
    r2 = linear_r2(h[:, :half], z[:half], h[:, half:], z[half:])
    return loss.double().cpu().numpy(), np.asarray(r2)


def train_encoders(
    encoders: Encoders,
    mixing: InvertibleMlp,
    centres: torch.Tensor,
    kappa: float,
    n_steps: int,
    data_seed: int | Sequence[int] = 0,
    kind: str = "vmf",
    scale: float | None = None,
    batch_size: int = 1024,
    lr: float = 1e-3,
    eval_every: int = 100,
    n_eval: int = 8192,
    desc: str = "encoders",
) -> TrainingHistory:
    """Train every instance at once with Adam on cross-entropy over fresh samples; in place.

    Each step draws ``batch_size`` labels and latents (:func:`sample_dataset`), maps them through
    ``mixing`` and takes one Adam step on the sum over instances of each instance's mean
    cross-entropy (Adam is per-parameter, so each instance trains as it would alone). Batches come
    from the stream ``make_generator(seed, 0)``; the held-out set of ``n_eval`` samples, the same at
    every evaluation, from ``make_generator(seed, 1)`` of the first seed.

    Parameters
    ----------
    encoders : Encoders
        The instances to train.
    mixing : InvertibleMlp
        The generator ``g``, acting on ``d`` dimensions.
    centres : (n_clusters, d) torch.Tensor
        Cluster vectors, one per logit.
    kappa : float
        Concentration of the conditionals.
    n_steps : int
        Optimisation steps (``>= 0``).
    data_seed : int or (n_instances,) sequence of int
        One int for batches shared by all instances (they then differ only by their init), or one
        seed per instance for a data stream each.
    kind : {"vmf", "laplace", "normal"}
        Conditional distribution.
    scale : float or None
        Noise scale of the Laplace and normal conditionals (see :func:`sample_latents`).
    batch_size : int
        Samples per step.
    lr : float
        Adam learning rate.
    eval_every : int
        Evaluate every this many steps (and at the last step).
    n_eval : int
        Size of the held-out set (at least 4).
    desc : str
        Label of the progress bar.

    Returns
    -------
    TrainingHistory
        Losses and R^2 at each evaluation.
    """
    if kind not in CONDITIONAL_KINDS:
        raise ValueError(f"conditional kind must be one of {CONDITIONAL_KINDS}; got {kind!r}")
    _check_kappa(kappa)
    centres = torch.as_tensor(centres)
    d = encoders.weights[0].shape[1]
    if centres.ndim != 2 or centres.shape[1] != d or mixing.weights.shape[-1] != d:
        raise ValueError(f"centres must be (n_clusters, d = {d}) and mixing must act on d = {d}; got {tuple(centres.shape)} and {mixing.weights.shape[-1]}")
    if centres.shape[0] != encoders.classifier.shape[-1]:
        raise ValueError(f"centres must have n_clusters = {encoders.classifier.shape[-1]} rows, one per logit; got {centres.shape[0]}")
    if n_steps < 0 or eval_every < 1 or batch_size < 1 or n_eval < 4:
        raise ValueError(f"need n_steps >= 0, eval_every >= 1, batch_size >= 1, n_eval >= 4; got {n_steps}, {eval_every}, {batch_size}, {n_eval}")
    n = encoders.n_instances
    seeds = [int(data_seed)] if isinstance(data_seed, (int, np.integer)) else [int(s) for s in data_seed]
    if len(seeds) not in (1, n):
        raise ValueError(f"data_seed must be one int or one seed per instance (n_instances = {n}); got {len(seeds)} seeds")
    device, dtype = encoders.classifier.device, encoders.classifier.dtype
    streams = [make_generator(s, 0) for s in seeds]
    z_eval, labels_eval = sample_dataset(n_eval, centres, kappa, make_generator(seeds[0], 1), kind, scale)
    bayes = bayes_cross_entropy(z_eval, labels_eval, centres, kappa) if kind == "vmf" else None
    z_eval, labels_eval = z_eval.to(device=device, dtype=dtype), labels_eval.to(device)

    steps, train_loss, test_loss, r2 = [0], [np.full(n, np.nan)], [], []
    loss, score = _evaluate(encoders, mixing, z_eval, labels_eval)
    test_loss.append(loss)
    r2.append(score)
    params = encoders.parameters()
    for p in params:
        p.requires_grad_(True)
    optimiser = torch.optim.Adam(params, lr=lr)
    running = torch.zeros(n, dtype=torch.float64, device=device)
    for step in progress(range(1, n_steps + 1), total=n_steps, desc=desc):
        batches = [sample_dataset(batch_size, centres, kappa, g, kind, scale) for g in streams]
        z = torch.stack([b[0] for b in batches]).to(device=device, dtype=dtype)
        labels = torch.stack([b[1] for b in batches]).to(device).expand(n, -1)
        logits = encoders.logits(mixing(z))
        per_instance = F.cross_entropy(logits.transpose(1, 2), labels, reduction="none").mean(dim=1)
        optimiser.zero_grad(set_to_none=True)
        per_instance.sum().backward()
        optimiser.step()
        running += per_instance.detach().double()
        if step % eval_every == 0 or step == n_steps:
            since = step - steps[-1]
            steps.append(step)
            train_loss.append((running / since).cpu().numpy())
            running.zero_()
            loss, score = _evaluate(encoders, mixing, z_eval, labels_eval)
            test_loss.append(loss)
            r2.append(score)
    for p in params:
        p.requires_grad_(False)
    return TrainingHistory(np.array(steps), np.array(train_loss), np.array(test_loss), np.array(r2), bayes)


# ----------------------------------------------------------------------------------------------
# Evaluation


def _regression_inputs(
    source_train: torch.Tensor, target_train: torch.Tensor, source_test: torch.Tensor, target_test: torch.Tensor
) -> tuple[list[torch.Tensor], bool]:
    """Float64 CPU copies broadcast to a common leading instance axis, and whether one was given."""
    arrays = [_as_cpu(a) for a in (source_train, target_train, source_test, target_test)]
    names = ("source_train", "target_train", "source_test", "target_test")
    for name, a in zip(names, arrays):
        if a.ndim not in (2, 3):
            raise ValueError(f"{name} must be (n, dim) or (n_instances, n, dim); got shape {tuple(a.shape)}")
    batched = any(a.ndim == 3 for a in arrays)
    arrays = [a if a.ndim == 3 else a[None] for a in arrays]
    n_inst = max(a.shape[0] for a in arrays)
    if any(a.shape[0] not in (1, n_inst) for a in arrays):
        raise ValueError(f"instance axes must be 1 or n_instances = {n_inst}; got {[a.shape[0] for a in arrays]}")
    arrays = [a.expand(n_inst, -1, -1) for a in arrays]
    xtr, ytr, xte, yte = arrays
    if xtr.shape[1] != ytr.shape[1] or xte.shape[1] != yte.shape[1]:
        raise ValueError(f"source and target must have the same number of samples; got train {xtr.shape[1]} vs {ytr.shape[1]}, test {xte.shape[1]} vs {yte.shape[1]}")
    if xtr.shape[2] != xte.shape[2] or ytr.shape[2] != yte.shape[2]:
        raise ValueError(f"train and test must have the same dimensions; got source {xtr.shape[2]} vs {xte.shape[2]}, target {ytr.shape[2]} vs {yte.shape[2]}")
    return arrays, batched


def r2_score(target: torch.Tensor, prediction: torch.Tensor) -> torch.Tensor:
    """R^2 averaged uniformly over target dimensions, as sklearn's ``r2_score``.

    A constant target dimension scores 1 when predicted exactly, else 0 (sklearn's ``force_finite``).

    Parameters
    ----------
    target : (n_instances, n, q) torch.Tensor
        True values.
    prediction : (n_instances, n, q) torch.Tensor
        Predicted values.

    Returns
    -------
    (n_instances,) torch.Tensor
        R^2 per instance.
    """
    residual = ((target - prediction) ** 2).sum(dim=1)
    total = ((target - target.mean(dim=1, keepdim=True)) ** 2).sum(dim=1)
    constant = total == 0
    score = 1.0 - residual / torch.where(constant, torch.ones_like(total), total)
    score = torch.where(constant, (residual == 0).to(score.dtype), score)
    return score.mean(dim=-1)


def _result(score: torch.Tensor, batched: bool) -> float | np.ndarray:
    return score.numpy() if batched else float(score[0])


def linear_r2(
    source_train: torch.Tensor, target_train: torch.Tensor, source_test: torch.Tensor, target_test: torch.Tensor
) -> float | np.ndarray:
    """Test R^2 of least-squares linear regression with intercept, fitted on the training rows.

    Equal to sklearn's ``LinearRegression().fit(source_train, target_train)`` then
    ``r2_score(target_test, prediction)`` (uniform average over the ``q`` targets); the minimum-norm
    solution (LAPACK ``gelsd``) when the sources are rank-deficient. float64 on the CPU. Either
    direction: ``z`` from ``f(g(z))`` or ``f(g(z))`` from ``z``. Each argument may have a leading
    instance axis; a 2-D array is shared by all instances.

    Parameters
    ----------
    source_train : (n_train, p) or (n_instances, n_train, p) torch.Tensor
        Training sources.
    target_train : (n_train, q) or (n_instances, n_train, q) torch.Tensor
        Training targets.
    source_test : (n_test, p) or (n_instances, n_test, p) torch.Tensor
        Test sources.
    target_test : (n_test, q) or (n_instances, n_test, q) torch.Tensor
        Test targets.

    Returns
    -------
    float or (n_instances,) numpy.ndarray
        Test R^2; an array when an instance axis was given.
    """
    (xtr, ytr, xte, yte), batched = _regression_inputs(source_train, target_train, source_test, target_test)
    x_mean, y_mean = xtr.mean(dim=1, keepdim=True), ytr.mean(dim=1, keepdim=True)
    coefficients = torch.linalg.lstsq(xtr - x_mean, ytr - y_mean, driver="gelsd").solution
    prediction = (xte - x_mean) @ coefficients + y_mean
    return _result(r2_score(yte, prediction), batched)


def _fourier_features(x: torch.Tensor, frequencies: torch.Tensor, phases: torch.Tensor) -> torch.Tensor:
    """``sqrt(2 / D) cos(x W + b)``: (n_instances, n, D)."""
    return math.sqrt(2.0 / frequencies.shape[-1]) * torch.cos(x @ frequencies + phases)


def _ridge_fit_predict(phi_train: torch.Tensor, y_train: torch.Tensor, phi_test: torch.Tensor, alpha: float) -> torch.Tensor:
    """Ridge with an unpenalised intercept: predictions (n_instances, n_test, q)."""
    p_mean, y_mean = phi_train.mean(dim=1, keepdim=True), y_train.mean(dim=1, keepdim=True)
    a = phi_train - p_mean
    gram = a.transpose(1, 2) @ a
    eye = torch.eye(gram.shape[-1], dtype=gram.dtype)
    coefficients = torch.linalg.solve(gram + alpha * a.shape[1] * eye, a.transpose(1, 2) @ (y_train - y_mean))
    return (phi_test - p_mean) @ coefficients + y_mean


def nonlinear_r2(
    source_train: torch.Tensor,
    target_train: torch.Tensor,
    source_test: torch.Tensor,
    target_test: torch.Tensor,
    n_features: int = 1024,
    lengthscales: Sequence[float] = (0.5, 1.0, 2.0),
    alphas: Sequence[float] = (1e-6, 1e-4, 1e-2),
    seed: int = 0,
) -> float | np.ndarray:
    """Test R^2 of a nonlinear probe: kernel ridge regression with random Fourier features.

    A ceiling for :func:`linear_r2` (same shapes and return). Sources are standardised with the
    training mean and standard deviation; features ``sqrt(2/D) cos(x W / (l sqrt(p)) + b)`` with
    ``W ~ N(0, 1)``, ``b ~ U[0, 2 pi)`` (a Gaussian kernel of lengthscale ``l sqrt(p)``, ``D =
    n_features``) from the stream ``make_generator(seed)``, shared by all instances. Ridge penalty
    ``alpha * n_train``, intercept unpenalised. Per instance, ``l`` and ``alpha`` are chosen on the
    grids by R^2 on the last fifth of the training rows after fitting on the first four fifths, then
    refitted on all training rows.

    Parameters
    ----------
    source_train : (n_train, p) or (n_instances, n_train, p) torch.Tensor
        Training sources.
    target_train : (n_train, q) or (n_instances, n_train, q) torch.Tensor
        Training targets.
    source_test : (n_test, p) or (n_instances, n_test, p) torch.Tensor
        Test sources.
    target_test : (n_test, q) or (n_instances, n_test, q) torch.Tensor
        Test targets.
    n_features : int
        Number of random Fourier features ``D``.
    lengthscales : sequence of float
        Grid of lengthscales ``l``.
    alphas : sequence of float
        Grid of ridge penalties ``alpha``.
    seed : int
        Seed of the random features.

    Returns
    -------
    float or (n_instances,) numpy.ndarray
        Test R^2; an array when an instance axis was given.
    """
    (xtr, ytr, xte, yte), batched = _regression_inputs(source_train, target_train, source_test, target_test)
    mean, std = xtr.mean(dim=1, keepdim=True), xtr.std(dim=1, keepdim=True).clamp_min(1e-12)
    xtr, xte = (xtr - mean) / std, (xte - mean) / std
    p = xtr.shape[-1]
    g = make_generator(seed)
    frequencies = torch.randn((p, n_features), generator=g, dtype=torch.float64)
    phases = 2 * math.pi * torch.rand(n_features, generator=g, dtype=torch.float64)
    n_fit = (4 * xtr.shape[1]) // 5
    best_score = torch.full((xtr.shape[0],), -math.inf, dtype=torch.float64)
    best_prediction = torch.zeros_like(yte)
    for lengthscale in lengthscales:
        w = frequencies / (lengthscale * math.sqrt(p))
        phi_fit, phi_val = _fourier_features(xtr[:, :n_fit], w, phases), _fourier_features(xtr[:, n_fit:], w, phases)
        phi_train, phi_test = _fourier_features(xtr, w, phases), _fourier_features(xte, w, phases)
        for alpha in alphas:
            score = r2_score(ytr[:, n_fit:], _ridge_fit_predict(phi_fit, ytr[:, :n_fit], phi_val, alpha))
            better = score > best_score
            if bool(better.any()):
                prediction = _ridge_fit_predict(phi_train, ytr, phi_test, alpha)
                best_prediction = torch.where(better[:, None, None], prediction, best_prediction)
                best_score = torch.where(better, score, best_score)
    return _result(r2_score(yte, best_prediction), batched)


@dataclass(frozen=True)
class Process:
    """One data-generating process.

    Attributes
    ----------
    centres : (n_clusters, d) torch.Tensor
        Cluster vectors.
    mixing : InvertibleMlp
        The frozen generator.
    raw_r2 : float
        Linear R^2 of ``z`` from ``x = g(z)`` (how nonlinear ``g`` is).
    d : int
        Latent dimension.
    n_clusters : int
        Number of clusters.
    kappa : float
        Concentration of the conditionals.
    kind : str
        Conditional distribution.
    """

    centres: torch.Tensor
    mixing: InvertibleMlp
    raw_r2: float
    d: int
    n_clusters: int
    kappa: float
    kind: str


def make_process(d: int, n_clusters: int, kappa: float, kind: str, seed: int, offset: int, n_check: int = 8192) -> Process:
    """The process of setting ``offset`` of a sweep seeded by ``seed``.

    Centres, generator and the ``n_check`` latents of its linear R^2 come from the streams
    ``make_generator(seed, offset, 0 / 1 / 2)``.

    Parameters
    ----------
    d : int
        Latent dimension.
    n_clusters : int
        Number of clusters.
    kappa : float
        Concentration of the conditionals.
    kind : str
        Conditional distribution.
    seed : int
        Seed of the sweep.
    offset : int
        Index of the setting in the sweep.
    n_check : int
        Latents on which ``raw_r2`` is measured.

    Returns
    -------
    Process
        The process.
    """
    centres = cluster_centres(n_clusters, d, make_generator(seed, offset, 0))
    mixing = invertible_mlp(d, make_generator(seed, offset, 1))
    z_check = uniform_sphere(n_check, d, make_generator(seed, offset, 2), dtype=torch.float64)
    return Process(centres, mixing, mixing_linear_r2(mixing, z_check), d, n_clusters, kappa, kind)


@dataclass(frozen=True)
class EncoderTraining:
    """The training settings a chapter shares between its runs.

    Attributes
    ----------
    hidden : "csi" or tuple of int
        Hidden widths, or ``"csi"`` for :func:`csi_hidden` at each ``d``.
    data_seed : int
        The batches' seed.
    batch_size, lr, eval_every, n_eval : int, float, int, int
        As in :func:`train_encoders` (``eval_every`` capped at the run's steps).
    device : torch.device or str
        Where the encoders train.
    """

    hidden: str | tuple[int, ...]
    data_seed: int
    batch_size: int
    lr: float
    eval_every: int
    n_eval: int
    device: torch.device | str = "cpu"

    def hidden_widths(self, d: int) -> tuple[int, ...]:
        """The encoder's hidden widths at latent dimension ``d``.

        Parameters
        ----------
        d : int
            Latent dimension.

        Returns
        -------
        tuple of int
            Hidden widths.
        """
        return csi_hidden(d) if self.hidden == "csi" else tuple(self.hidden)


def train_on_process(process: Process, seeds: Sequence[int], n_steps: int, settings: EncoderTraining, n_out: int | None = None, desc: str = "encoders") -> tuple[Encoders, TrainingHistory]:
    """Encoders, one per seed (:func:`init_encoders`), trained on ``process`` for ``n_steps`` (:func:`train_encoders`).

    Parameters
    ----------
    process : Process
        The data-generating process.
    seeds : (n_instances,) sequence of int
        One seed per encoder.
    n_steps : int
        Optimisation steps.
    settings : EncoderTraining
        Shared training settings.
    n_out : int or None
        Representation dimension (default ``d``).
    desc : str
        Label of the progress bar.

    Returns
    -------
    encoders : Encoders
        The trained encoders.
    history : TrainingHistory
        Their training log.
    """
    encoders = init_encoders(process.d, process.n_clusters, seeds, n_out=n_out, hidden=settings.hidden_widths(process.d), device=settings.device)
    history = train_encoders(
        encoders, process.mixing, process.centres, process.kappa, n_steps, data_seed=settings.data_seed, kind=process.kind,
        batch_size=settings.batch_size, lr=settings.lr, eval_every=min(settings.eval_every, n_steps), n_eval=settings.n_eval, desc=desc,
    )  # fmt: skip
    return encoders, history
