"""Feature extraction: hooks and read-outs against a plain forward pass; the on-disk cache."""

import numpy as np
import pytest
import torch
from torch import nn

from superposition.data import downloads
from superposition.networks import activations


class Tiny(nn.Module):
    def __init__(self, seed=0):
        super().__init__()
        torch.manual_seed(seed)
        self.conv = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU())
        self.head = nn.Linear(4, 3)
        self.calls = 0

    def forward(self, x):
        self.calls += 1
        return self.head(self.conv(x).mean(dim=(2, 3)))


PRE = activations.Preprocess(size=None, channels=1, mean=(0.5,), std=(0.25,))


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv(downloads.CACHE_ENV, str(tmp_path))
    return tmp_path


def pictures(n=10, seed=0):
    return np.random.default_rng(seed).integers(0, 256, size=(n, 7, 9), dtype=np.uint8)


def test_readouts():
    maps = torch.arange(2 * 3 * 5 * 4, dtype=torch.float32).reshape(2, 3, 5, 4)
    torch.testing.assert_close(activations.readout(maps, "centre"), maps[:, :, 2, 2])
    torch.testing.assert_close(activations.readout(maps, "mean"), maps.mean(dim=(2, 3)))
    tokens = torch.randn(2, 6, 8)
    torch.testing.assert_close(activations.readout(tokens, "cls"), tokens[:, 0])
    with pytest.raises(ValueError, match="'cls' needs a token sequence"):
        activations.readout(maps, "cls")
    with pytest.raises(ValueError, match="'centre' needs feature maps"):
        activations.readout(tokens, "centre")
    with pytest.raises(ValueError, match="readout must be one of"):
        activations.readout(maps, "max")


def test_hooks_match_a_plain_forward_pass_in_any_batch_size(cache):
    net, images = Tiny(), pictures()
    expected_maps = net.conv(PRE(images))
    out = activations.extract_features(net, images, ["conv", "head"], "centre", PRE, batch_size=3, cache=False)
    torch.testing.assert_close(torch.as_tensor(out["conv"]), expected_maps[:, :, 3, 4])
    torch.testing.assert_close(torch.as_tensor(out["head"]), net(PRE(images)))
    early = activations.extract_features(net, images, ["conv.0"], "mean", PRE, batch_size=4, cache=False)
    torch.testing.assert_close(torch.as_tensor(early["conv.0"]), nn.functional.conv2d(PRE(images), net.conv[0].weight, net.conv[0].bias, padding=1).mean(dim=(2, 3)))
    with pytest.raises(ValueError, match=r"layers \['fc9'\] are not submodules of Tiny"):
        activations.extract_features(net, images, ["fc9"], cache=False, preprocess=PRE)


def test_the_cache_is_reused_and_invalidated_by_weights_preprocessing_and_images(cache):
    net, images = Tiny(), pictures()
    first = activations.extract_features(net, images, ["conv"], "centre", PRE, batch_size=4)
    assert isinstance(first["conv"], np.memmap) and not first["conv"].flags.writeable
    calls = net.calls
    again = activations.extract_features(net, images, ["conv"], "centre", PRE, batch_size=4)
    assert net.calls == calls and np.array_equal(first["conv"], again["conv"])
    with torch.no_grad():
        net.conv[0].bias += 1.0
    changed = activations.extract_features(net, images, ["conv"], "centre", PRE, batch_size=4)
    assert net.calls > calls and not np.array_equal(first["conv"], changed["conv"])
    other_pre = activations.extract_features(net, images, ["conv"], "centre", activations.Preprocess(size=None, channels=1, mean=(0.4,), std=(0.25,)))
    assert not np.array_equal(changed["conv"], other_pre["conv"])
    other_images = activations.extract_features(net, pictures(seed=1), ["conv"], "centre", PRE)
    assert not np.array_equal(changed["conv"], other_images["conv"])
    assert len(list((cache / "features").iterdir())) == 4


def test_an_interrupted_extraction_leaves_nothing_that_looks_finished(cache):
    class Failing(Tiny):
        def forward(self, x):
            if self.calls >= 2:
                raise KeyboardInterrupt
            return super().forward(x)

    with pytest.raises(KeyboardInterrupt):
        activations.extract_features(Failing(), pictures(), ["conv"], "centre", PRE, batch_size=2)
    assert not (cache / "features").exists() or list((cache / "features").iterdir()) == []
    out = activations.extract_features(Tiny(), pictures(), ["conv"], "centre", PRE, batch_size=2)
    assert out["conv"].shape == (10, 4)


def test_a_layer_name_is_checked_against_the_network_before_anything_trains():
    from superposition.networks import cnn
    from superposition.networks.activations import check_layers

    net = cnn.init_cnn(cnn.CnnConfig(channels=(4, 8, 16)), 0)
    check_layers(net, {"late_layer": "layer3"}, "the small CNN")
    with pytest.raises(ValueError, match=r"parameter 'late_layer' must name a layer of the small CNN, one of \[.*'layer3'.*\] or a submodule such as .*; got 'layer9'"):
        check_layers(net, {"early_layer": "layer2", "late_layer": "layer9"}, "the small CNN")
