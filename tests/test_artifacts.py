"""Cached artifacts are keyed on what made them and verified on every read: a changed code, a
zeroed array, a truncated weights file or a garbled data file is never served; it is discarded,
named, and computed again."""

from __future__ import annotations

import gzip
import hashlib
import types

import numpy as np
import pytest
import torch

from superposition.data import artifacts, downloads, images
from superposition.networks import activations, cnn


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv(downloads.CACHE_ENV, str(tmp_path / "cache"))
    return tmp_path / "cache"


def _module(path, text):
    path.write_text(text)
    module = types.ModuleType("fake_code")
    module.__file__ = str(path)
    return module


def test_the_key_changes_with_inputs_code_data_and_device_kind(tmp_path):
    code = _module(tmp_path / "a.py", "def train(): return 1\n")
    data = np.arange(12, dtype=np.float32).reshape(3, 4)
    key = artifacts.artifact_key({"seed": 0}, [code], [data], "cpu")
    assert key == artifacts.artifact_key({"seed": 0}, [code], [data.copy()], "cpu")
    assert key == artifacts.artifact_key({"seed": 0}, [code], [np.asfortranarray(data)], "cpu"), "the values, not the memory layout"
    assert key != artifacts.artifact_key({"seed": 1}, [code], [data], "cpu")
    assert key != artifacts.artifact_key({"seed": 0}, [code], [data + 1], "cpu")
    assert key != artifacts.artifact_key({"seed": 0}, [code], [data.astype(np.float64)], "cpu")
    assert key != artifacts.artifact_key({"seed": 0}, [code], [data], "cuda")
    assert artifacts.artifact_key({}, [], [], "cuda:0") == artifacts.artifact_key({}, [], [], "cuda:1")
    edited = _module(tmp_path / "a.py", "def train(): return 2\n")
    assert key != artifacts.artifact_key({"seed": 0}, [edited], [data], "cpu")


def test_a_sealed_folder_is_verified_and_a_changed_file_discarded(tmp_path, capsys):
    folder = tmp_path / "artifact"
    tmp = artifacts.temporary(folder)
    (tmp / "a.npy").write_bytes(b"\x01" * 64)
    artifacts.publish(tmp, folder)
    assert artifacts.verified(folder, ["a.npy"]) and not tmp.exists()
    (folder / "a.npy").write_bytes(b"\x00" * 64)  # same size, zeroed
    assert not artifacts.verified(folder, ["a.npy"]) and not folder.exists()
    assert f"cache: discarded {folder}: a.npy changed since it was written" in capsys.readouterr().err
    folder.mkdir()
    (folder / "a.npy").write_bytes(b"\x01" * 64)  # written by an older version: never sealed
    assert not artifacts.verified(folder, ["a.npy"]) and "unreadable" in capsys.readouterr().err


def test_zeroed_cached_activations_are_recomputed_not_served(cache, capsys):
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(16, 3))
    pictures = np.random.default_rng(0).integers(0, 255, (5, 4, 4), dtype=np.uint8)
    first = np.array(activations.extract_features(model, pictures, ["1"], "mean", activations.Preprocess(size=4, channels=1))["1"])  # a copy, not the memory map
    (folder,) = (cache / "features").iterdir()
    stored = folder / "1.npy"
    header = len(stored.read_bytes()) - first.size * 4
    stored.write_bytes(stored.read_bytes()[:header] + b"\x00" * first.size * 4)
    again = activations.extract_features(model, pictures, ["1"], "mean", activations.Preprocess(size=4, channels=1))["1"]
    np.testing.assert_array_equal(again, first)
    assert np.abs(again).sum() > 0 and f"cache: discarded {folder}" in capsys.readouterr().err


def _tiny_data():
    rng = np.random.default_rng(1)
    return rng.integers(0, 255, (64, 28, 28), dtype=np.uint8), rng.integers(0, 10, 64), rng.integers(0, 255, (32, 28, 28), dtype=np.uint8), rng.integers(0, 10, 32)


def test_a_truncated_weights_file_is_retrained_and_a_code_change_is_a_new_network(cache, capsys, tmp_path, monkeypatch):
    config = cnn.CnnConfig(channels=(2, 2, 2), epochs=1, batch_size=32)
    data = _tiny_data()
    net, _, cached = cnn.trained_cnn(config, 0, *data)
    assert not cached and cnn.trained_cnn(config, 0, *data)[2]
    (folder,) = (cache / "cnns").iterdir()
    weights = folder / "weights.pt"
    weights.write_bytes(weights.read_bytes()[:100])
    again, _, cached = cnn.trained_cnn(config, 0, *data)
    assert not cached and f"cache: discarded {folder}" in capsys.readouterr().err
    for a, b in zip(net.state_dict().values(), again.state_dict().values()):
        torch.testing.assert_close(a, b)
    edited = tmp_path / "cnn_edited.py"
    edited.write_text(open(cnn.__file__).read() + "\n# the training code changed\n")
    monkeypatch.setattr(cnn, "__file__", str(edited))
    assert not cnn.trained_cnn(config, 0, *data)[2], "changed training code: the old network is not served"
    assert len(list((cache / "cnns").iterdir())) == 2


def test_a_garbled_fashion_mnist_file_is_discarded_and_unpacked_again(cache, monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(images, "FASHION_MNIST_SYSTEM", tmp_path / "no-system-copy")
    contents = {("train", "images"): bytes(16) + bytes(784), ("train", "labels"): bytes(8) + bytes([3])}  # one image, one label
    files = {}
    for (split, kind), raw in contents.items():
        files[(split, kind)] = (f"{split}-{kind}.gz", hashlib.sha256(raw).hexdigest())
    files[("test", "images")], files[("test", "labels")] = files[("train", "images")], files[("train", "labels")]
    monkeypatch.setattr(images, "FASHION_MNIST_FILES", files)
    unpacked = []

    def unpack(deb, folder):
        folder.mkdir(parents=True, exist_ok=True)
        for key, raw in contents.items():
            (folder / files[key][0]).write_bytes(gzip.compress(raw))
        unpacked.append(folder)

    monkeypatch.setattr(images, "_unpack_deb", unpack)
    monkeypatch.setattr(downloads, "fetch", lambda name: tmp_path / "package.deb")
    pictures, labels = images.fashion_mnist("train")
    assert pictures.shape == (1, 28, 28) and labels.tolist() == [3] and len(unpacked) == 1
    target = cache / "fashion-mnist" / files[("train", "images")][0]
    target.write_bytes(target.read_bytes()[:10])  # truncated
    pictures, labels = images.fashion_mnist("train")
    assert pictures.shape == (1, 28, 28) and len(unpacked) == 2
    assert f"cache: discarded {cache / 'fashion-mnist'}" in capsys.readouterr().err
