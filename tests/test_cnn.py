"""Small CNNs: seeded, deterministic, cached; and the named networks."""

import importlib.util

import numpy as np
import pytest
import torch

from superposition.data import downloads
from superposition.networks import cnn, pretrained


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv(downloads.CACHE_ENV, str(tmp_path))
    return tmp_path


def tiny_data(n=512, seed=0):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, size=n)
    images = rng.integers(0, 60, size=(n, 28, 28), dtype=np.uint8)
    images[labels == 1, 10:18, 10:18] = 250  # a bright square marks class 1
    return images, labels


CONFIG = cnn.CnnConfig(channels=(2, 3, 4), n_classes=2, epochs=2, batch_size=32, lr=1e-2)


def test_training_is_seeded_and_learns():
    images, labels = tiny_data()
    a, history = cnn.train_cnn(CONFIG, 0, images, labels, images, labels)
    b, _ = cnn.train_cnn(CONFIG, 0, images, labels)
    c, _ = cnn.train_cnn(CONFIG, 1, images, labels)
    for (name, pa), pb, pc in zip(a.state_dict().items(), b.state_dict().values(), c.state_dict().values()):
        assert torch.equal(pa, pb), name
    assert not torch.equal(a.layer1[0].weight, c.layer1[0].weight)
    assert history.test_accuracy > 0.9 and len(history.steps) == len(history.train_loss)


def test_trained_cnn_is_cached(cache):
    images, labels = tiny_data(256)
    first, _, cached = cnn.trained_cnn(CONFIG, 3, images, labels, images[:64], labels[:64])
    second, history, cached_again = cnn.trained_cnn(CONFIG, 3, images, labels, images[:64], labels[:64])
    assert (cached, cached_again) == (False, True)
    assert all(torch.equal(p, q) for p, q in zip(first.state_dict().values(), second.state_dict().values()))
    assert history.test_accuracy == pytest.approx(cnn.accuracy(second, images[:64], labels[:64]))
    assert not list(cache.rglob("*.tmp"))


def test_bad_cnn_configs_are_rejected():
    with pytest.raises(ValueError, match="three positive ints"):
        cnn.CnnConfig(channels=(4, 4))
    with pytest.raises(ValueError, match="epochs and batch_size"):
        cnn.CnnConfig(epochs=0)


def test_embedded_networks_load_offline():
    trained_net, preprocess = pretrained.load_network("efficientnet-lite0", input_size=64)
    random_a, _ = pretrained.load_network("efficientnet-lite0-random", seed=0)
    random_b, _ = pretrained.load_network("efficientnet-lite0-random", seed=0)
    assert preprocess.size == 64
    weight = "_conv_stem.weight"
    assert torch.equal(random_a.state_dict()[weight], random_b.state_dict()[weight])
    assert not torch.equal(trained_net.state_dict()[weight], random_a.state_dict()[weight])
    with torch.no_grad():
        assert trained_net(torch.zeros(1, 3, 64, 64)).shape == (1, 1000)
    with pytest.raises(ValueError, match="network must be one of"):
        pretrained.load_network("alexnet")


def test_torchvision_architectures_import_next_to_cpu_torch():
    if importlib.util.find_spec("torchvision") is None:
        pytest.skip("the full-scale networks need the 'full' extra (torchvision)")
    torchvision = pretrained.import_torchvision()
    names = dict(torchvision.models.resnet50().named_modules())
    assert "layer2.3" in names and "layer4.2" in names


def test_random_twins_share_the_architecture_and_not_the_weights():
    twin, preprocess = pretrained.load_random_twin("efficientnet-lite0", input_size=96, seed=0)
    same, _ = pretrained.load_network("efficientnet-lite0-random", seed=0)
    assert preprocess.size == 96
    assert torch.equal(twin.state_dict()["_conv_stem.weight"], same.state_dict()["_conv_stem.weight"])
    if importlib.util.find_spec("torchvision") is not None:  # the full-scale twin needs no download
        vit_a, _ = pretrained.load_random_twin("vit-b-16-imagenet1k-v1", seed=1)
        vit_b, _ = pretrained.load_random_twin("vit-b-16-imagenet1k-v1", seed=1)
        assert "encoder.layers.encoder_layer_11" in dict(vit_a.named_modules())
        assert torch.equal(vit_a.state_dict()["conv_proj.weight"], vit_b.state_dict()["conv_proj.weight"])
    with pytest.raises(ValueError, match="network must be one of"):
        pretrained.load_random_twin("alexnet")
