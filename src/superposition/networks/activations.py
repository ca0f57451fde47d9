"""Activations of named layers of any torch module, read out per image and cached on disk.

:func:`extract_features` runs a model over images in batches, grabs the outputs of named
submodules with forward hooks, reduces each to one vector per image with a read-out (Paper A:
the centre spatial position of a CNN feature map, the CLS token of a ViT; the spatial mean as an
option), and stores them as memory-mapped ``.npy`` files, sealed with their digests and checked on
every read (:mod:`superposition.data.artifacts`). The cache key hashes the model's architecture
and weights, the layers, the read-out, the images, the preprocessing, this module's source, the
versions of torch and the library and the device kind, so a changed model, read-out code or
preprocessing is recomputed and an unchanged one is read back.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import torch

from ..data import artifacts, downloads
from ..data.images import IMAGENET_MEAN, IMAGENET_STD, to_model_input
from ..runtime import progress

READOUTS = ("centre", "mean", "cls")


@dataclass(frozen=True)
class Preprocess:
    """How ``uint8`` images become model inputs (see :func:`superposition.data.images.to_model_input`).

    Attributes
    ----------
    size : int or None
        Side of the square input in pixels (None: keep the images' size).
    channels : int
        Input channels.
    mean, std : tuple of float
        Per-channel normalisation (ImageNet's by default).
    """

    size: int | None = None
    channels: int = 3
    mean: tuple[float, ...] = IMAGENET_MEAN
    std: tuple[float, ...] = IMAGENET_STD

    def __call__(self, images: np.ndarray) -> torch.Tensor:
        """Model inputs from images.

        Parameters
        ----------
        images : (n, h, w) or (n, h, w, c) numpy.ndarray
            uint8 images.

        Returns
        -------
        (n, channels, size, size) torch.Tensor
            float32 inputs.
        """
        return to_model_input(images, self.size, self.channels, self.mean, self.std)


def readout(acts: torch.Tensor, how: str) -> torch.Tensor:
    """One vector per image from a layer's output.

    Parameters
    ----------
    acts : (batch, channels, h, w), (batch, tokens, dim) or (batch, units) torch.Tensor
        Feature maps, token sequences or vectors.
    how : {"centre", "mean", "cls"}
        ``"centre"`` (the channel vector at position (h // 2, w // 2)), ``"mean"`` (mean over
        positions or tokens) or ``"cls"`` (token 0).

    Returns
    -------
    (batch, units) torch.Tensor
        One vector per image.
    """
    if how not in READOUTS:
        raise ValueError(f"readout must be one of {READOUTS}; got {how!r}")
    if acts.ndim == 2:
        return acts
    if acts.ndim == 4:
        if how == "cls":
            raise ValueError("readout 'cls' needs a token sequence (batch, tokens, dim); this layer gives feature maps: use 'centre' or 'mean'")
        return acts[:, :, acts.shape[2] // 2, acts.shape[3] // 2] if how == "centre" else acts.mean(dim=(2, 3))
    if acts.ndim == 3:
        if how == "centre":
            raise ValueError("readout 'centre' needs feature maps (batch, channels, h, w); this layer gives tokens: use 'cls' or 'mean'")
        return acts[:, 0] if how == "cls" else acts.mean(dim=1)
    raise ValueError(f"cannot read out a layer output of shape {tuple(acts.shape)}")


class _Done(Exception):
    """Raised by the last hook to skip the rest of the forward pass."""


def _fingerprint(model: torch.nn.Module, images: np.ndarray, layers: Sequence[str], how: str, preprocess: Preprocess, device: torch.device) -> str:
    """The cache key of a read-out: the model (architecture and weights), the images, the layers,
    the read-out, the preprocessing, this module's source, versions and device kind."""
    weights = [tensor.detach().cpu().contiguous().numpy() for tensor in model.state_dict().values()]
    inputs = {"model": repr(model), "weights": list(model.state_dict()), "layers": list(layers), "readout": how, "preprocess": asdict(preprocess)}
    return artifacts.artifact_key(inputs, [sys.modules[__name__]], [*weights, images], str(device))


def check_layers(model: torch.nn.Module, layers: dict[str, str], network: str) -> None:
    """Refuse, before anything trains, a layer name that ``model`` does not have.

    Parameters
    ----------
    model : torch.nn.Module
        The network, or an untrained one of the same architecture (the names are the same).
    layers : dict of str to str
        Parameter name -> the layer name it gives.
    network : str
        What the network is, for the message.
    """
    names = [name for name, _ in model.named_modules() if name]
    for parameter, layer in layers.items():
        if layer not in names:
            top = [n for n in names if "." not in n]
            raise ValueError(f"parameter {parameter!r} must name a layer of {network}, one of {top} or a submodule such as {names[len(names) // 2]!r}; got {layer!r}")


@torch.no_grad()
def _run(model: torch.nn.Module, images: np.ndarray, layers: Sequence[str], how: str, preprocess: Preprocess, batch_size: int, device: torch.device, out: dict[str, np.ndarray] | None, desc: str) -> dict[str, np.ndarray]:
    modules = dict(model.named_modules())
    unknown = [name for name in layers if name not in modules]
    if unknown:
        raise ValueError(f"layers {unknown} are not submodules of {type(model).__name__}; some names it has: {list(modules)[1:12]}")
    captured: dict[str, torch.Tensor] = {}

    def hook(name: str):
        def grab(module, inputs, output):
            captured[name] = readout(output[0] if isinstance(output, tuple) else output, how)
            if len(captured) == len(layers):
                raise _Done

        return grab

    handles = [modules[name].register_forward_hook(hook(name)) for name in layers]
    was_training = model.training
    model.eval().to(device)
    try:
        for start in progress(range(0, len(images), batch_size), total=-(-len(images) // batch_size), desc=desc):
            captured.clear()
            try:
                model(preprocess(images[start : start + batch_size]).to(device))
            except _Done:
                pass
            if out is None:
                out = {name: np.empty((len(images), captured[name].shape[1]), dtype=np.float32) for name in layers}
            for name in layers:
                out[name][start : start + batch_size] = captured[name].float().cpu().numpy()
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)
    return out


def extract_features(
    model: torch.nn.Module,
    images: np.ndarray,
    layers: Sequence[str],
    readout_how: str = "centre",
    preprocess: Preprocess = Preprocess(),
    batch_size: int = 128,
    device: torch.device | str = "cpu",
    cache: bool = True,
    desc: str = "features",
) -> dict[str, np.ndarray]:
    """Read-outs of ``layers`` (names from ``model.named_modules()``) for every image.

    With ``cache`` the read-outs are read-only memory-mapped arrays under ``<cache>/features/<key>/``
    (written to a temporary folder and renamed when complete, so an interrupted run leaves nothing
    that looks finished).

    Parameters
    ----------
    model : torch.nn.Module
        The network.
    images : (n, h, w) or (n, h, w, c) numpy.ndarray
        uint8 images.
    layers : sequence of str
        Names of submodules whose outputs are read out.
    readout_how : {"centre", "mean", "cls"}
        The read-out (:func:`readout`).
    preprocess : Preprocess
        How the images become model inputs.
    batch_size : int
        Images per forward pass.
    device : torch.device or str
        Where the model runs.
    cache : bool
        Keep the read-outs on disk and reuse them.
    desc : str
        Label of the progress bar.

    Returns
    -------
    dict of str to (n, units) numpy.ndarray
        float32 read-out of each layer.
    """
    if readout_how not in READOUTS:
        raise ValueError(f"readout must be one of {READOUTS}; got {readout_how!r}")
    device = torch.device(device)
    if not cache:
        return {k: np.asarray(v) for k, v in _run(model, images, layers, readout_how, preprocess, batch_size, device, None, desc).items()}
    key = _fingerprint(model, images, layers, readout_how, preprocess, device)
    folder = downloads.cache_dir() / "features" / key
    files = {name: folder / f"{name.replace('/', '_')}.npy" for name in layers}
    if artifacts.verified(folder, [f.name for f in files.values()]):
        try:
            return {name: np.load(path, mmap_mode="r") for name, path in files.items()}
        except (OSError, ValueError) as error:
            artifacts.discard(folder, f"cannot be loaded ({error})")
    tmp = artifacts.temporary(folder)
    try:
        # one pass to learn each layer's width, written straight into memory-mapped files
        first = _run(model, images[:1], layers, readout_how, preprocess, 1, device, None, desc="")
        out = {name: np.lib.format.open_memmap(tmp / files[name].name, "w+", np.float32, (len(images), first[name].shape[1])) for name in layers}
        _run(model, images, layers, readout_how, preprocess, batch_size, device, out, desc)
        for array in out.values():
            array.flush()
        del out
        artifacts.publish(tmp, folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {name: np.load(path, mmap_mode="r") for name, path in files.items()}


def layer_activations(
    model: torch.nn.Module,
    images: np.ndarray,
    layer: str,
    readout_how: str = "centre",
    preprocess: Preprocess = Preprocess(),
    batch_size: int = 128,
    device: torch.device | str = "cpu",
) -> np.ndarray:
    """The read-out of one ``layer`` (:func:`extract_features`, cached).

    Parameters
    ----------
    model : torch.nn.Module
        The network.
    images : (n_images, h, w) or (n_images, h, w, c) numpy.ndarray
        uint8 images.
    layer : str
        Name of the submodule.
    readout_how : {"centre", "mean", "cls"}
        The read-out.
    preprocess : Preprocess
        How the images become model inputs.
    batch_size : int
        Images per forward pass.
    device : torch.device or str
        Where the model runs.

    Returns
    -------
    (n_images, units) numpy.ndarray
        float32 read-out, an in-memory copy.
    """
    return np.array(extract_features(model, images, [layer], readout_how, preprocess, batch_size=batch_size, device=device)[layer], dtype=np.float32)
