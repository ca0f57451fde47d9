"""Small CNNs trained here on real images, several seeds at once, cached on disk.

:class:`SmallCnn` is a plain three-block CNN (conv 3x3 → ReLU, max-pool after blocks 1 and 2,
global average pool, linear read-out) whose blocks ``layer1``, ``layer2``, ``layer3`` are the
named layers a feature extractor hooks. :func:`trained_cnn` trains one per seed (Paper A's
"same architecture, two seeds" pair) once per setting and reads it back from the cache
afterwards. Seeds train one after another: on CPU, stacking two networks into grouped
convolutions or ``torch.func.vmap`` made a training step 1.5x slower than two plain steps
(0.052 s against 0.035 s for two networks on a batch of 128, 2 cores), so there is no batched path.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
from torch import nn

from ..data import artifacts, downloads
from ..data.images import fashion_mnist, to_model_input
from ..runtime import make_generator, progress
from .activations import Preprocess

FASHION_MNIST_MEAN = (0.2860,)
FASHION_MNIST_STD = (0.3530,)
FASHION_MNIST_PREPROCESS = Preprocess(size=None, channels=1, mean=FASHION_MNIST_MEAN, std=FASHION_MNIST_STD)
"""The inputs a :class:`SmallCnn` takes: Fashion-MNIST images normalised, one channel, 28 x 28."""


@dataclass(frozen=True)
class CnnConfig:
    """Architecture and training of a :class:`SmallCnn`.

    Attributes
    ----------
    channels : (3,) tuple of int
        Output channels of the three conv blocks.
    in_channels : int
        Input channels.
    n_classes : int
        Number of classes.
    epochs, batch_size : int
        Training passes and images per step.
    lr : float
        Adam learning rate (cross-entropy on the given images).
    """

    channels: tuple[int, int, int] = (16, 32, 64)
    in_channels: int = 1
    n_classes: int = 10
    epochs: int = 3
    batch_size: int = 128
    lr: float = 3e-3

    def __post_init__(self) -> None:
        if len(self.channels) != 3 or min(self.channels) < 1:
            raise ValueError(f"channels must be three positive ints; got {self.channels}")
        if self.epochs < 1 or self.batch_size < 1 or not self.lr > 0:
            raise ValueError(f"epochs and batch_size must be >= 1 and lr > 0; got {self.epochs}, {self.batch_size}, {self.lr}")


class SmallCnn(nn.Module):
    """One CNN: ``x`` (batch, in_channels, h, w) → logits (batch, n_classes)."""

    def __init__(self, config: CnnConfig = CnnConfig()):
        super().__init__()
        c1, c2, c3 = config.channels
        self.layer1 = nn.Sequential(nn.Conv2d(config.in_channels, c1, 3, padding=1), nn.ReLU())
        self.layer2 = nn.Sequential(nn.MaxPool2d(2), nn.Conv2d(c1, c2, 3, padding=1), nn.ReLU())
        self.layer3 = nn.Sequential(nn.MaxPool2d(2), nn.Conv2d(c2, c3, 3, padding=1), nn.ReLU())
        self.head = nn.Linear(c3, config.n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits of ``x``.

        Parameters
        ----------
        x : (batch, in_channels, h, w) torch.Tensor
            Input images.

        Returns
        -------
        (batch, n_classes) torch.Tensor
            Logits.
        """
        return self.head(self.layer3(self.layer2(self.layer1(x))).mean(dim=(2, 3)))


def init_cnn(config: CnnConfig, seed: int) -> SmallCnn:
    """A freshly initialised :class:`SmallCnn` (torch's default init) drawn from ``seed`` alone.

    Parameters
    ----------
    config : CnnConfig
        Architecture.
    seed : int
        Seed of the weights.

    Returns
    -------
    SmallCnn
        The untrained network.
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(make_generator(seed, 7).initial_seed()))
        return SmallCnn(config)


def fashion_mnist_input(images: np.ndarray) -> torch.Tensor:
    """Images normalised with Fashion-MNIST's mean and std.

    Parameters
    ----------
    images : (n, 28, 28) numpy.ndarray
        uint8 images.

    Returns
    -------
    (n, 1, 28, 28) torch.Tensor
        float32 inputs.
    """
    return to_model_input(images, None, 1, FASHION_MNIST_MEAN, FASHION_MNIST_STD)


@dataclass
class CnnHistory:
    """Training curve of one network.

    Attributes
    ----------
    steps : (n_logs,) list of int
        Steps at which the loss was logged.
    train_loss : (n_logs,) list of float
        Training loss of the batch at those steps.
    test_accuracy : float
        Accuracy on the test images (NaN when none were given).
    """

    steps: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    test_accuracy: float = float("nan")


def train_cnn(
    config: CnnConfig,
    seed: int,
    images: np.ndarray,
    labels: np.ndarray,
    test_images: np.ndarray | None = None,
    test_labels: np.ndarray | None = None,
    device: torch.device | str = "cpu",
    log_every: int = 50,
) -> tuple[SmallCnn, CnnHistory]:
    """Train a :class:`SmallCnn` from :func:`init_cnn` ``(seed)`` with cross-entropy.

    The training images are seen in the order drawn from stream ``(seed, 1, epoch)``.

    Parameters
    ----------
    config : CnnConfig
        Architecture and training.
    seed : int
        Seed of the weights and of the order.
    images : (n, 28, 28) numpy.ndarray
        uint8 training images.
    labels : (n,) numpy.ndarray
        int labels.
    test_images : (n_test, 28, 28) numpy.ndarray or None
        Images for the test accuracy.
    test_labels : (n_test,) numpy.ndarray or None
        Their labels.
    device : torch.device or str
        Where the network trains.
    log_every : int
        Log the loss every this many steps.

    Returns
    -------
    net : SmallCnn
        The network, in eval mode on the CPU.
    history : CnnHistory
        Its training curve.
    """
    device = torch.device(device)
    net = init_cnn(config, seed).to(device).train()
    x_all = fashion_mnist_input(images).to(device)
    y_all = torch.as_tensor(labels, device=device)
    optimiser = torch.optim.Adam(net.parameters(), lr=config.lr)
    steps_per_epoch = len(images) // config.batch_size
    history = CnnHistory()
    step = 0
    for epoch in range(config.epochs):
        order = torch.randperm(len(images), generator=make_generator(seed, 1, epoch)).to(device)
        for b in progress(range(steps_per_epoch), total=steps_per_epoch, desc=f"CNN seed {seed}, epoch {epoch + 1}/{config.epochs}"):
            index = order[b * config.batch_size : (b + 1) * config.batch_size]
            loss = nn.functional.cross_entropy(net(x_all[index]), y_all[index])
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            step += 1
            if step % log_every == 0:
                history.steps.append(step)
                history.train_loss.append(float(loss.detach()))
    net = net.eval().cpu()
    if test_images is not None and test_labels is not None:
        history.test_accuracy = accuracy(net, test_images, test_labels)
    return net, history


@torch.no_grad()
def accuracy(net: nn.Module, images: np.ndarray, labels: np.ndarray, batch_size: int = 1000) -> float:
    """Classification accuracy of ``net`` on ``images`` with ``labels``.

    Parameters
    ----------
    net : torch.nn.Module
        The network.
    images : (n, 28, 28) numpy.ndarray
        uint8 images.
    labels : (n,) numpy.ndarray
        int labels.
    batch_size : int
        Images per forward pass.

    Returns
    -------
    float
        Fraction classified correctly.
    """
    correct = 0
    for start in range(0, len(images), batch_size):
        predicted = net(fashion_mnist_input(images[start : start + batch_size])).argmax(dim=-1)
        correct += int((predicted == torch.as_tensor(labels[start : start + batch_size])).sum())
    return correct / len(images)


def trained_cnn(
    config: CnnConfig,
    seed: int,
    images: np.ndarray,
    labels: np.ndarray,
    test_images: np.ndarray,
    test_labels: np.ndarray,
    device: torch.device | str = "cpu",
) -> tuple[SmallCnn, CnnHistory, bool]:
    """:func:`train_cnn`, or its cached result for the same config, seed, data, code and device kind.

    The cache key (:func:`superposition.data.artifacts.artifact_key`) hashes the config, the
    seed, the images and the labels, the source of this module, the torch and library versions
    and the device kind; the weights and history are sealed with their digests and checked on
    every read, so a changed training code, a truncated or altered file is never served: it is
    discarded, named on stderr, and the network is trained again.

    Parameters
    ----------
    config : CnnConfig
        Architecture and training.
    seed : int
        Seed of the network.
    images : (n, 28, 28) numpy.ndarray
        uint8 training images.
    labels : (n,) numpy.ndarray
        int labels.
    test_images : (n_test, 28, 28) numpy.ndarray
        Test images.
    test_labels : (n_test,) numpy.ndarray
        Their labels.
    device : torch.device or str
        Where the network trains.

    Returns
    -------
    net : SmallCnn
        The network.
    history : CnnHistory
        Its training curve.
    cached : bool
        Whether it came from the cache.
    """
    key = artifacts.artifact_key({"config": asdict(config), "seed": seed}, [sys.modules[__name__]], (images, labels, test_images, test_labels), str(device))
    folder = downloads.cache_dir() / "cnns" / key
    if artifacts.verified(folder, ["weights.pt", "history.json"]):
        try:
            net = SmallCnn(config)
            net.load_state_dict(torch.load(folder / "weights.pt", map_location="cpu", weights_only=True))
            return net.eval(), CnnHistory(**json.loads((folder / "history.json").read_text())), True
        except (OSError, RuntimeError, ValueError, TypeError) as error:
            artifacts.discard(folder, f"cannot be loaded ({error})")
    net, history = train_cnn(config, seed, images, labels, test_images, test_labels, device)
    tmp = artifacts.temporary(folder)
    torch.save(net.state_dict(), tmp / "weights.pt")
    (tmp / "history.json").write_text(json.dumps(asdict(history)))
    artifacts.publish(tmp, folder)
    return net, history, False


def fashion_mnist_cnns(
    config: CnnConfig, seeds: tuple[int, ...], n_train_images: int = 60_000, device: torch.device | str = "cpu"
) -> dict[int, tuple[SmallCnn, CnnHistory]]:
    """One :class:`SmallCnn` per seed, trained on Fashion-MNIST.

    Trained on the first ``n_train_images`` of the training split and tested on the test split
    (:func:`trained_cnn`: read back from the cache when trained before).

    Parameters
    ----------
    config : CnnConfig
        Architecture and training.
    seeds : tuple of int
        One network per seed.
    n_train_images : int
        Training images used.
    device : torch.device or str
        Where the networks train.

    Returns
    -------
    dict of int to (SmallCnn, CnnHistory)
        Network and history per seed.
    """
    images, labels = fashion_mnist("train")
    test_images, test_labels = fashion_mnist("test")
    out = {}
    for seed in seeds:
        net, history, _ = trained_cnn(config, seed, images[:n_train_images], labels[:n_train_images], test_images, test_labels, device)
        out[seed] = (net, history)
    return out
