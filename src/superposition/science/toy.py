"""Toy models of superposition, trained many at once.

Two tied-weight autoencoders over ``n`` sparse features (Elhage et al. 2022, "Toy Models of
Superposition", TMS; and the variant of Longon, Klindt & Khosla 2025, Paper A):

- TMS ReLU-output model: ``h = x W``, ``x' = ReLU(h W' + b)``;
- Paper A's model: ``h = ReLU(x W)``, ``x' = ReLU(h W' + b)`` (a privileged hidden basis).

``W`` is ``(n_features, n_hidden)``: row ``i`` is the direction of feature ``i``. Many instances
(seeds, widths, sparsities) live in one set of tensors with a leading instance axis and train in one
batched pass. Narrower instances are zero-padded to the widest one; the padded columns get no
gradient and stay exactly zero, so each instance is the model of its own width.

Features: ``x_i ~ U[0, 1]`` with probability ``p`` (the feature probability, ``1 - S`` in TMS
notation), else 0, independently. Loss: importance-weighted squared error,
``mean_batch sum_i I_i (x_i - x'_i)^2 / n``, summed over instances.

Data are generated on the fly in chunks of batches, each chunk from its own seeded stream
(:func:`feature_chunk`), so a later pass (the SAE's) can regenerate exactly the samples a model
was trained on without holding millions of rows.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ..runtime import make_generator, progress

BATCHES_PER_CHUNK = 16
"""Batches drawn from one seeded stream; chunk ``c`` of a dataset is the same on every pass."""


def importance_weights(n_features: int, kind: str = "power", decay: float = 0.7, scale: float = 32.0, exponent: float = 2.0) -> torch.Tensor:
    """Importance ``I_i`` per feature.

    - ``"power"`` (Paper A): ``I_i = (1 + i / scale)^(-exponent)``, ``i = 0 … n - 1``; with the
      defaults and 64 features, from 1 down to 0.1135;
    - ``"geometric"`` (TMS): ``I_i = decay^i``;
    - ``"uniform"``: ``I_i = 1``.

    Parameters
    ----------
    n_features : int
        Number of features ``n``.
    kind : {"power", "geometric", "uniform"}
        Shape of the importance profile; anything else raises ``ValueError``.
    decay : float
        Ratio of the geometric profile.
    scale : float
        Scale of ``i`` in the power profile.
    exponent : float
        Exponent of the power profile.

    Returns
    -------
    (n_features,) torch.Tensor
        The importances, float64.
    """
    i = torch.arange(n_features, dtype=torch.float64)
    if kind == "power":
        return (1.0 + i / scale) ** (-exponent)
    if kind == "geometric":
        return decay**i
    if kind == "uniform":
        return torch.ones(n_features, dtype=torch.float64)
    raise ValueError(f"importance kind must be one of 'power', 'geometric', 'uniform'; got {kind!r}")


def sample_features(
    n_samples: int, n_features: int, probability: torch.Tensor, generator: torch.Generator, dtype: torch.dtype = torch.float32
) -> torch.Tensor:
    """Sparse uniform features.

    ``x_i ~ U[0, 1]`` where a uniform draw falls below ``p``, else 0.

    Parameters
    ----------
    n_samples : int
        Samples per group.
    n_features : int
        Number of features.
    probability : (n_groups,) torch.Tensor
        Feature probability per group of instances (one group for data shared by all instances).
    generator : torch.Generator
        Random stream the draws come from.
    dtype : torch.dtype
        Precision of the features.

    Returns
    -------
    (n_groups, n_samples, n_features) torch.Tensor
        The features.
    """
    probability = torch.as_tensor(probability, dtype=dtype).reshape(-1, 1, 1)
    shape = (probability.shape[0], n_samples, n_features)
    keep = torch.rand(shape, generator=generator, dtype=dtype) <= probability
    values = torch.rand(shape, generator=generator, dtype=dtype)
    return torch.where(keep, values, torch.zeros((), dtype=dtype))


def feature_variance(probability: float) -> float:
    """Variance of one sparse uniform feature: ``p/3 - p^2/4`` (``x = u`` w.p. ``p``, ``u ~ U[0, 1]``, else 0).

    Parameters
    ----------
    probability : float
        Feature probability ``p``.

    Returns
    -------
    float
        The variance.
    """
    return probability / 3.0 - probability**2 / 4.0


def feature_chunk(data_seed: int, chunk: int, batch_size: int, n_features: int, probability: torch.Tensor, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Chunk ``chunk`` of a seeded dataset.

    Parameters
    ----------
    data_seed : int
        Seed of the dataset.
    chunk : int
        Index of the chunk; each chunk has its own stream seeded by ``(data_seed, chunk)``.
    batch_size : int
        Samples per batch.
    n_features : int
        Number of features.
    probability : (n_groups,) torch.Tensor
        Feature probability per group (see :func:`sample_features`).
    dtype : torch.dtype
        Precision of the features.

    Returns
    -------
    (BATCHES_PER_CHUNK, n_groups, batch_size, n_features) torch.Tensor
        The chunk's batches.
    """
    generator = make_generator(data_seed, chunk)
    x = sample_features(BATCHES_PER_CHUNK * batch_size, n_features, probability, generator, dtype)
    return x.reshape(x.shape[0], BATCHES_PER_CHUNK, batch_size, n_features).transpose(0, 1)


def feature_batches(
    data_seed: int, first_batch: int, n_batches: int, batch_size: int, n_features: int, probability: torch.Tensor, dtype: torch.dtype = torch.float32
) -> Iterator[torch.Tensor]:
    """Batches ``first_batch … first_batch + n_batches - 1`` of a seeded dataset.

    Batch ``b`` is the same whatever range it is read in, so a model's training pass and a later
    pass over "the first 80 %" or "the last 20 %" of its data see the same samples.

    Parameters
    ----------
    data_seed : int
        Seed of the dataset.
    first_batch : int
        Index of the first batch to yield.
    n_batches : int
        Number of batches to yield.
    batch_size : int
        Samples per batch.
    n_features : int
        Number of features.
    probability : (n_groups,) torch.Tensor
        Feature probability per group (see :func:`sample_features`).
    dtype : torch.dtype
        Precision of the features.

    Yields
    ------
    (n_groups, batch_size, n_features) torch.Tensor
        One batch.
    """
    batch = first_batch
    end = first_batch + n_batches
    while batch < end:
        chunk, offset = divmod(batch, BATCHES_PER_CHUNK)
        x = feature_chunk(data_seed, chunk, batch_size, n_features, probability, dtype)
        for b in range(offset, min(BATCHES_PER_CHUNK, offset + end - batch)):
            yield x[b]
        batch = (chunk + 1) * BATCHES_PER_CHUNK


@dataclass
class ToyModels:
    """A batch of tied-weight toy autoencoders.

    Attributes
    ----------
    weights : (n_instances, n_features, n_hidden_max) torch.Tensor
        Row ``i`` of an instance is the direction of feature ``i``.
    bias : (n_instances, n_features) torch.Tensor
        Output bias.
    widths : (n_instances,) torch.Tensor
        Hidden width of each instance (columns beyond it are zero).
    hidden_relu : bool
        ReLU on the hidden layer (Paper A) or not (TMS).
    """

    weights: torch.Tensor
    bias: torch.Tensor
    widths: torch.Tensor
    hidden_relu: bool

    @property
    def hidden_mask(self) -> torch.Tensor:
        """``(n_instances, 1, n_hidden_max)``: 1 on each instance's own hidden units."""
        cols = torch.arange(self.weights.shape[-1], device=self.weights.device)
        return (cols[None, :] < self.widths[:, None]).to(self.weights.dtype)[:, None, :]

    def hidden(self, x: torch.Tensor) -> torch.Tensor:
        """Hidden activations of ``x``.

        Parameters
        ----------
        x : (n_instances or 1, batch, n_features) torch.Tensor
            Features.

        Returns
        -------
        (n_instances, batch, n_hidden_max) torch.Tensor
            Hidden activations (ReLU'd when ``hidden_relu``).
        """
        h = x @ self.weights
        return torch.relu(h) if self.hidden_relu else h

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """Reconstruction ``x'`` of ``x``.

        Parameters
        ----------
        x : (n_instances or 1, batch, n_features) torch.Tensor
            Features.

        Returns
        -------
        (n_instances, batch, n_features) torch.Tensor
            ``ReLU(h W' + b)``.
        """
        return torch.relu(self.hidden(x) @ self.weights.transpose(-1, -2) + self.bias[:, None, :])

    def instance_hidden(self, i: int, x: torch.Tensor) -> torch.Tensor:
        """Hidden activations of instance ``i`` alone, unpadded.

        Parameters
        ----------
        i : int
            Index of the instance.
        x : (batch, n_features) torch.Tensor
            Features.

        Returns
        -------
        (batch, width_i) torch.Tensor
            Hidden activations of the instance's own units.
        """
        w = self.weights[i, :, : int(self.widths[i])]
        h = x @ w
        return torch.relu(h) if self.hidden_relu else h


def init_toy_models(
    n_features: int, widths: Sequence[int], seeds: Sequence[int], hidden_relu: bool, device: torch.device | str = "cpu", dtype: torch.dtype = torch.float32
) -> ToyModels:
    """Instances with Xavier-normal weights (std ``sqrt(2 / (n_features + width))``) and zero bias.

    Instance ``j`` has width ``widths[j]`` and its weights come from the stream seeded by
    ``(seeds[j], widths[j])``: the same model whatever else is trained beside it.

    Parameters
    ----------
    n_features : int
        Number of features.
    widths : (n_instances,) sequence of int
        Hidden width of each instance (positive).
    seeds : (n_instances,) sequence of int
        Seed of each instance's weights; same length as ``widths``.
    hidden_relu : bool
        ReLU on the hidden layer (Paper A) or not (TMS).
    device : torch.device or str
        Where the tensors live.
    dtype : torch.dtype
        Precision of the tensors.

    Returns
    -------
    ToyModels
        The instances, zero-padded to the widest width.
    """
    if len(widths) != len(seeds):
        raise ValueError(f"widths and seeds must have the same length; got {len(widths)} and {len(seeds)}")
    if min(widths) < 1:
        raise ValueError(f"widths must be positive; got {list(widths)}")
    n_max = max(widths)
    weights = torch.zeros((len(widths), n_features, n_max), dtype=dtype)
    for j, (width, seed) in enumerate(zip(widths, seeds)):
        std = np.sqrt(2.0 / (n_features + width))
        weights[j, :, :width] = std * torch.randn((n_features, width), generator=make_generator(seed, width), dtype=dtype)
    return ToyModels(
        weights=weights.to(device),
        bias=torch.zeros((len(widths), n_features), dtype=dtype, device=device),
        widths=torch.as_tensor(list(widths), device=device),
        hidden_relu=hidden_relu,
    )


def train_toy_models(
    models: ToyModels,
    importance: torch.Tensor,
    probability: torch.Tensor,
    n_steps: int,
    batch_size: int = 1024,
    data_seed: int = 0,
    lr: float = 1e-3,
    weight_decay: float = 0.01,
    log_every: int = 100,
    desc: str = "toy models",
) -> np.ndarray:
    """Train every instance at once with AdamW (constant learning rate) on fresh batches.

    Batch ``b`` is batch ``b`` of the dataset ``data_seed`` (see :func:`feature_batches`).
    ``models`` is trained in place.

    Parameters
    ----------
    models : ToyModels
        The instances to train.
    importance : (n_features,) or (n_instances, n_features) torch.Tensor
        Importance weights of the loss.
    probability : (1,) or (n_instances,) torch.Tensor
        One feature probability when all instances see the same data (Paper A: both seeds on one
        dataset), or one per instance for one data stream per instance (a sparsity sweep).
    n_steps : int
        Number of optimisation steps (one batch each).
    batch_size : int
        Samples per batch.
    data_seed : int
        Seed of the dataset.
    lr : float
        Learning rate.
    weight_decay : float
        AdamW weight decay.
    log_every : int
        Record the loss every this many steps.
    desc : str
        Label of the progress bar.

    Returns
    -------
    (n_steps // log_every, n_instances) numpy.ndarray
        The loss per instance every ``log_every`` steps.
    """
    device, dtype = models.weights.device, models.weights.dtype
    n_instances, n_features = models.weights.shape[:2]
    probability = torch.as_tensor(probability, dtype=dtype).reshape(-1)
    if probability.numel() not in (1, n_instances):
        raise ValueError(f"probability must have 1 or n_instances = {n_instances} entries; got {probability.numel()}")
    importance = torch.as_tensor(importance, dtype=dtype, device=device).expand(n_instances, n_features)[:, None, :]
    mask = models.hidden_mask
    models.weights.requires_grad_(True)
    models.bias.requires_grad_(True)
    optimiser = torch.optim.AdamW([models.weights, models.bias], lr=lr, weight_decay=weight_decay)
    history = []
    batches = feature_batches(data_seed, 0, n_steps, batch_size, n_features, probability, dtype)
    for step, x in enumerate(progress(batches, total=n_steps, desc=desc)):
        x = x.to(device)
        per_instance = (importance * (x - models.reconstruct(x)) ** 2).mean(dim=(1, 2))
        optimiser.zero_grad(set_to_none=True)
        per_instance.sum().backward()
        models.weights.grad *= mask
        optimiser.step()
        if (step + 1) % log_every == 0:
            history.append(per_instance.detach().cpu().numpy())
    models.weights.requires_grad_(False)
    models.bias.requires_grad_(False)
    return np.array(history).reshape(-1, n_instances)


@torch.no_grad()
def hidden_batches(
    models: ToyModels, data_seed: int, first_batch: int, n_batches: int, batch_size: int, probability: torch.Tensor
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """The models' hidden activations on batches ``first_batch …`` of a shared dataset.

    The hidden activations are zero beyond each instance's width: the input of a batch of SAEs, one
    per model (:func:`superposition.science.sae.init_saes` with ``widths``).

    Parameters
    ----------
    models : ToyModels
        The trained instances.
    data_seed : int
        Seed of the dataset.
    first_batch : int
        Index of the first batch.
    n_batches : int
        Number of batches.
    batch_size : int
        Samples per batch.
    probability : (1,) torch.Tensor
        The feature probability the models were trained with (one value: data shared by all instances).

    Yields
    ------
    x : (batch_size, n_features) torch.Tensor
        Features.
    h : (n_instances, batch_size, n_hidden_max) torch.Tensor
        Hidden activations.
    """
    device, dtype = models.weights.device, models.weights.dtype
    probability = torch.as_tensor(probability, dtype=dtype).reshape(-1)
    if probability.numel() != 1:
        raise ValueError(f"hidden_batches needs data shared by all instances: one probability, got {probability.numel()}")
    n_features = models.weights.shape[1]
    for x in feature_batches(data_seed, first_batch, n_batches, batch_size, n_features, probability, dtype):
        x = x.to(device)
        yield x[0], models.hidden(x)


def collect_hidden(
    models: ToyModels, data_seed: int, first_batch: int, n_batches: int, batch_size: int, probability: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """All of :func:`hidden_batches` at once.

    Parameters
    ----------
    models : ToyModels
        The trained instances.
    data_seed : int
        Seed of the dataset.
    first_batch : int
        Index of the first batch.
    n_batches : int
        Number of batches.
    batch_size : int
        Samples per batch.
    probability : (1,) torch.Tensor
        The feature probability the models were trained with.

    Returns
    -------
    x : (n, n_features) torch.Tensor
        Features, ``n = n_batches * batch_size``.
    h : (n_instances, n, n_hidden_max) torch.Tensor
        Hidden activations.
    """
    pairs = list(hidden_batches(models, data_seed, first_batch, n_batches, batch_size, probability))
    return torch.cat([x for x, _ in pairs]), torch.cat([h for _, h in pairs], dim=1)


def feature_norms(weights: torch.Tensor) -> torch.Tensor:
    """``||W_i||`` per feature. About 1: represented; about 0: dropped.

    Parameters
    ----------
    weights : (n_instances, n_features, n_hidden_max) torch.Tensor
        Toy-model weights.

    Returns
    -------
    (n_instances, n_features) torch.Tensor
        Norm of each feature's row.
    """
    return torch.linalg.vector_norm(weights, dim=-1)


def represented_features(weights: torch.Tensor, threshold: float = 0.5) -> torch.Tensor:
    """Which features an instance represents, ``||W_i|| > threshold``.

    Parameters
    ----------
    weights : (n_instances, n_features, n_hidden_max) torch.Tensor
        Toy-model weights.
    threshold : float
        Norm above which a feature counts as represented.

    Returns
    -------
    (n_instances, n_features) torch.Tensor
        Boolean mask.
    """
    return feature_norms(weights) > threshold


def _overlaps(weights: torch.Tensor) -> torch.Tensor:
    """``(W_hat_i . W_j)^2`` with the diagonal: (n_instances, n_features, n_features)."""
    unit = weights / feature_norms(weights).clamp_min(1e-12)[..., None]
    return (unit @ weights.transpose(-1, -2)) ** 2


def dimensions_per_feature(weights: torch.Tensor, widths: torch.Tensor) -> torch.Tensor:
    """``D* = m / ||W||_F^2`` per instance. Sticks at 1 and 1/2 in TMS.

    Parameters
    ----------
    weights : (n_instances, n_features, n_hidden_max) torch.Tensor
        Toy-model weights.
    widths : (n_instances,) torch.Tensor
        Hidden width ``m`` of each instance.

    Returns
    -------
    (n_instances,) torch.Tensor
        Dimensions per feature.
    """
    return widths.to(weights.dtype) / (weights**2).sum(dim=(-2, -1))


def feature_dimensionality(weights: torch.Tensor) -> torch.Tensor:
    """``D_i = ||W_i||^2 / sum_j (W_hat_i . W_j)^2`` per feature.

    Clusters at 1 (own dimension), 3/4, 2/3, 1/2 (antipodal pair), 2/5, 3/8 in TMS; 0 for a
    dropped feature.

    Parameters
    ----------
    weights : (n_instances, n_features, n_hidden_max) torch.Tensor
        Toy-model weights.

    Returns
    -------
    (n_instances, n_features) torch.Tensor
        Feature dimensionality.
    """
    return feature_norms(weights) ** 2 / _overlaps(weights).sum(dim=-1).clamp_min(1e-12)
