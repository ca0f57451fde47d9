"""Real images for the network chapters, and their preprocessing into model inputs.

- :func:`fashion_mnist`: the embedded default, 70,000 real 28x28 photographs of clothing
  (Fashion-MNIST), from the Debian package when installed, else from its ``.deb`` declared in
  ``data_manifests/images.yaml``; the decompressed files are checked against fixed digests.
- :func:`image_folder`: full scale, images read from a folder the user points to (e.g. the
  ImageNet validation set), in sorted file order.
- :func:`to_model_input`: grey or colour ``uint8`` images → a normalised float batch at a
  model's resolution.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import lzma
import os
import tarfile
from pathlib import Path

import numpy as np
import torch

from . import downloads

FASHION_MNIST_SYSTEM = Path("/usr/share/datasets/fashion-mnist")
FASHION_MNIST_FILES = {
    ("train", "images"): ("train-images-idx3-ubyte.gz", "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"),
    ("train", "labels"): ("train-labels-idx1-ubyte.gz", "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"),
    ("test", "images"): ("t10k-images-idx3-ubyte.gz", "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"),
    ("test", "labels"): ("t10k-labels-idx1-ubyte.gz", "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"),
}
"""File name and sha256 of the *decompressed* idx file (Debian re-gzipped the upstream files, so
the .gz digests differ from Zalando's; the contents are the same)."""
FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def _has_all_files(folder: Path) -> bool:
    return all((folder / name).exists() for name, _ in FASHION_MNIST_FILES.values())


def _unpack_deb(deb: Path, folder: Path) -> None:
    """Copy the four Fashion-MNIST idx files out of the Debian package ``deb`` into ``folder``.

    A .deb is an ``ar`` archive whose ``data.tar.xz`` member holds the installed files; each
    file is written under a temporary name and renamed, so ``folder`` never holds a partial file.
    """
    blob = deb.read_bytes()
    if not blob.startswith(b"!<arch>\n"):
        raise ValueError(f"{deb} is not a Debian package (no ar header)")
    offset, data = 8, None
    while offset + 60 <= len(blob):
        header = blob[offset : offset + 60]
        member, size = header[:16].decode().strip().rstrip("/"), int(header[48:58].decode().strip())
        if member.startswith("data.tar"):
            data = blob[offset + 60 : offset + 60 + size]
            break
        offset += 60 + size + (size % 2)
    if data is None:
        raise ValueError(f"{deb} has no data.tar member")
    wanted = {name for name, _ in FASHION_MNIST_FILES.values()}
    folder.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(lzma.decompress(data) if member.endswith(".xz") else data)) as archive:
        for info in archive.getmembers():
            name = Path(info.name).name
            if info.isfile() and name in wanted:
                tmp = folder / f".{name}.{os.getpid()}.tmp"
                tmp.write_bytes(archive.extractfile(info).read())
                os.replace(tmp, folder / name)


def fashion_mnist_folder() -> Path:
    """The folder holding the four Fashion-MNIST ``.gz`` files, fetching them on first use.

    Order: the Debian package's ``/usr/share/datasets/fashion-mnist``, then the cache
    (``<cache>/fashion-mnist``), then the ``fashion-mnist-deb`` manifest entry (fetched,
    verified and unpacked into the cache).
    """
    if _has_all_files(FASHION_MNIST_SYSTEM):
        return FASHION_MNIST_SYSTEM
    folder = downloads.cache_dir() / "fashion-mnist"
    if not _has_all_files(folder):
        _unpack_deb(downloads.fetch("fashion-mnist-deb"), folder)
    return folder


def _read_idx(path: Path, expected_sha256: str, header: int) -> np.ndarray:
    raw = gzip.decompress(path.read_bytes())
    digest = hashlib.sha256(raw).hexdigest()
    if digest != expected_sha256:
        raise downloads.DownloadError(f"{path}: decompressed content has sha256 {digest}, expected {expected_sha256}; delete the file and run again")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).copy()


def fashion_mnist(split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """Fashion-MNIST ``split`` (``"train"``: 60,000 images, ``"test"``: 10,000).

    Returns ``images``: (n, 28, 28) uint8 and ``labels``: (n,) int64 in 0..9
    (:data:`FASHION_MNIST_CLASSES`).
    """
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test'; got {split!r}")
    folder = fashion_mnist_folder()
    image_file, image_digest = FASHION_MNIST_FILES[(split, "images")]
    label_file, label_digest = FASHION_MNIST_FILES[(split, "labels")]
    images = _read_idx(folder / image_file, image_digest, header=16).reshape(-1, 28, 28)
    labels = _read_idx(folder / label_file, label_digest, header=8).astype(np.int64)
    return images, labels


def image_folder(path: str | Path, n_images: int, size: int = 224) -> np.ndarray:
    """The first ``n_images`` images (sorted by file name, recursively) of folder ``path``.

    Each is resized so its shorter side is ``size * 256 / 224`` and centre-cropped to ``size``
    (the usual ImageNet evaluation crop). Returns (n_images, size, size, 3) uint8.
    """
    from PIL import Image

    root = Path(path).expanduser()
    if not root.is_dir():
        raise FileNotFoundError(f"image folder {root} does not exist (parameter image_dir); point it to a folder of JPEG/PNG images")
    files = sorted(p for p in root.rglob("*") if p.suffix.lower() in (".jpeg", ".jpg", ".png"))
    if len(files) < n_images:
        raise ValueError(f"image folder {root} holds {len(files)} images; {n_images} were asked for")
    short = round(size * 256 / 224)
    out = np.empty((n_images, size, size, 3), dtype=np.uint8)
    for i, file in enumerate(files[:n_images]):
        image = Image.open(file).convert("RGB")
        scale = short / min(image.size)
        image = image.resize((max(size, round(image.width * scale)), max(size, round(image.height * scale))), Image.BILINEAR)
        left, top = (image.width - size) // 2, (image.height - size) // 2
        out[i] = np.asarray(image.crop((left, top, left + size, top + size)))
    return out


def to_model_input(
    images: np.ndarray,
    size: int | None = None,
    channels: int = 3,
    mean: tuple[float, ...] = IMAGENET_MEAN,
    std: tuple[float, ...] = IMAGENET_STD,
) -> torch.Tensor:
    """``images``: (n, h, w) grey or (n, h, w, c) uint8 → (n, channels, size, size) float32.

    Pixels are scaled to [0, 1], grey images repeated over ``channels``, bilinearly resized to
    ``size`` (None keeps h x w), then normalised per channel with ``mean`` and ``std``.
    """
    x = torch.as_tensor(np.asarray(images), dtype=torch.float32) / 255.0
    x = x[:, None] if x.ndim == 3 else x.permute(0, 3, 1, 2)
    if x.shape[1] == 1 and channels > 1:
        x = x.expand(-1, channels, -1, -1)
    if x.shape[1] != channels:
        raise ValueError(f"images have {x.shape[1]} channels; the model takes {channels}")
    if size is not None and tuple(x.shape[-2:]) != (size, size):
        x = torch.nn.functional.interpolate(x, size=(size, size), mode="bilinear", align_corners=False, antialias=False)
    m = torch.as_tensor(mean[:channels], dtype=x.dtype)[None, :, None, None]
    s = torch.as_tensor(std[:channels], dtype=x.dtype)[None, :, None, None]
    return ((x - m) / s).contiguous()
