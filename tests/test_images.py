"""Real images: Fashion-MNIST from its Debian package (verified), folders of photographs, model inputs."""

import gzip
import io
import lzma
import tarfile

import numpy as np
import pytest
import torch

from superposition.data import downloads, images


def fake_deb(path, files):
    """A minimal Debian package (ar archive with data.tar.xz) holding ``files`` under /usr/share/datasets."""
    tar_bytes = io.BytesIO()
    with tarfile.open(fileobj=tar_bytes, mode="w") as archive:
        for name, content in files.items():
            info = tarfile.TarInfo(f"./usr/share/datasets/fashion-mnist/{name}")
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
    members = {"debian-binary": b"2.0\n", "control.tar.xz": lzma.compress(b""), "data.tar.xz": lzma.compress(tar_bytes.getvalue())}
    out = b"!<arch>\n"
    for name, data in members.items():
        out += f"{name + '/':<16}{0:<12}{0:<6}{0:<6}{'100644':<8}{len(data):<10}`\n".encode() + data + (b"\n" if len(data) % 2 else b"")
    path.write_bytes(out)


def test_the_deb_is_unpacked_and_a_wrong_content_digest_is_caught(tmp_path, monkeypatch):
    monkeypatch.setattr(images, "FASHION_MNIST_SYSTEM", tmp_path / "absent")
    monkeypatch.setenv(downloads.CACHE_ENV, str(tmp_path / "cache"))
    idx = gzip.compress(bytes(16 + 2 * 28 * 28))
    files = {name: idx for name, _ in images.FASHION_MNIST_FILES.values()}
    deb = tmp_path / "package.deb"
    fake_deb(deb, files)
    monkeypatch.setattr(downloads, "fetch", lambda name: deb)
    folder = images.fashion_mnist_folder()
    assert folder == tmp_path / "cache" / "fashion-mnist"
    assert sorted(p.name for p in folder.iterdir()) == sorted(files)
    with pytest.raises(downloads.DownloadError, match="decompressed content has sha256"):
        images.fashion_mnist("train")


def test_fashion_mnist_loads_the_real_data():
    x, y = images.fashion_mnist("test")
    assert x.shape == (10_000, 28, 28) and x.dtype == np.uint8 and x.flags.writeable
    assert y.shape == (10_000,) and np.bincount(y).tolist() == [1000] * 10
    with pytest.raises(ValueError, match="split must be 'train' or 'test'"):
        images.fashion_mnist("validation")


def test_model_inputs_are_resized_repeated_and_normalised():
    grey = np.full((2, 28, 28), 255, dtype=np.uint8)
    x = images.to_model_input(grey, size=64, channels=3)
    assert x.shape == (2, 3, 64, 64)
    expected = (1 - torch.tensor(images.IMAGENET_MEAN)) / torch.tensor(images.IMAGENET_STD)
    torch.testing.assert_close(x[0, :, 10, 10], expected)
    with pytest.raises(ValueError, match="3 channels; the model takes 1"):
        images.to_model_input(np.zeros((1, 8, 8, 3), dtype=np.uint8), channels=1)


def test_image_folder_crops_in_sorted_order(tmp_path):
    from PIL import Image

    for i, size in enumerate([(40, 30), (30, 50), (64, 64)]):
        Image.fromarray(np.full((size[1], size[0], 3), 40 * i, dtype=np.uint8)).save(tmp_path / f"img{i}.png")
    out = images.image_folder(tmp_path, 3, size=24)
    assert out.shape == (3, 24, 24, 3) and out[:, 0, 0, 0].tolist() == [0, 40, 80]
    with pytest.raises(ValueError, match="holds 3 images; 4 were asked for"):
        images.image_folder(tmp_path, 4)
    with pytest.raises(FileNotFoundError, match="image_dir"):
        images.image_folder(tmp_path / "nowhere", 1)


def test_shipped_object_crops_load_offline():
    crops = images.object_crops(size=48)
    assert crops.shape == (len(images.SHIPPED_OBJECTS), 48, 48, 3) and crops.dtype == np.uint8
    assert all(crop.std() > 10 for crop in crops), "every crop holds an image, not a flat colour"
    with pytest.raises(ValueError, match=r"unknown objects \['unicorn'\]"):
        images.object_crops(["cat", "unicorn"])


def test_parts_are_shown_where_they_are_not_in_the_composite():
    crops = images.object_crops(["cat", "coffee", "horse"], size=32)
    pairs = np.array([[0, 1], [0, 2], [1, 2]])
    left, right, composites = images.additivity_stimuli(crops, pairs, canvas=64)
    assert left.shape == right.shape == (3, 64, 64, 3) and composites.shape == (3, 64, 64, 3)
    background = images.to_model_input(np.stack([images.side_by_side(None, None, 64)]))
    assert float(background.abs().max()) < 0.03, "the empty canvas is (nearly) zero after normalisation"
    np.testing.assert_array_equal(composites[0, 16:48, :32], crops[0])
    np.testing.assert_array_equal(composites[0, 16:48, 32:], crops[1])
    np.testing.assert_array_equal(right[0, 16:48, 32:], crops[0])  # A alone on the right
    assert (right[0, :, :32] == images.background_colour()).all()
    with pytest.raises(ValueError, match="at most canvas / 2"):
        images.side_by_side(crops[0], None, canvas=48)


def _write_triplets(root, n=3, size=40):
    from PIL import Image

    rng = np.random.default_rng(0)
    for t in range(n):
        folder = root / f"item{t}"
        folder.mkdir(parents=True)
        for role in images.TRIPLET_ROLES:
            Image.fromarray(rng.integers(0, 255, (size, size + 10, 3), dtype=np.uint8)).save(folder / f"{role}.png")


def test_image_triplets_load_and_name_missing_or_unreadable_files(tmp_path):
    _write_triplets(tmp_path)
    names, triplets = images.image_triplets(tmp_path, size=32)
    assert names == ["item0", "item1", "item2"] and triplets.shape == (3, 3, 32, 32, 3)
    (tmp_path / "item1" / "ab.png").unlink()
    with pytest.raises(FileNotFoundError, match=r"triplet 'item1' lacks its 'ab' image: expected .*item1/ab.png"):
        images.image_triplets(tmp_path)
    (tmp_path / "item1" / "ab.jpg").write_bytes(b"not an image")
    with pytest.raises(ValueError, match=r"cannot read image .*item1/ab.jpg"):
        images.image_triplets(tmp_path)
    with pytest.raises(FileNotFoundError, match="triplet folder .* does not exist"):
        images.image_triplets(tmp_path / "nowhere")


def test_an_image_folder_is_checked_at_its_top_before_anything_is_computed(tmp_path):
    from PIL import Image

    from superposition.data.images import check_image_folder

    with pytest.raises(ValueError, match="names the file system's root"):
        check_image_folder("/")
    with pytest.raises(ValueError, match="is not a folder"):
        check_image_folder(tmp_path / "missing")
    (tmp_path / "empty" / "deeper" / "deepest").mkdir(parents=True)
    Image.new("RGB", (8, 8)).save(tmp_path / "empty" / "deeper" / "deepest" / "too_deep.png")
    with pytest.raises(ValueError, match="holds no JPEG or PNG image at its top or one level down"):
        check_image_folder(tmp_path / "empty", "triplet_dir")
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "a.jpg").write_bytes(b"not an image")
    with pytest.raises(ValueError, match=r"parameter 'image_dir': .*a.jpg is not a readable image"):
        check_image_folder(tmp_path / "broken")
    (tmp_path / "classes" / "n01440764").mkdir(parents=True)
    Image.new("RGB", (8, 8)).save(tmp_path / "classes" / "n01440764" / "x.JPEG")
    assert check_image_folder(tmp_path / "classes") == (tmp_path / "classes").resolve()
