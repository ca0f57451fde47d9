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
import shutil
import sys
import tarfile
import zlib
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
FASHION_MNIST_TRAIN_SIZE = 60_000
"""Images in the Fashion-MNIST training split."""
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

    Returns
    -------
    pathlib.Path
        The folder.
    """
    if _has_all_files(FASHION_MNIST_SYSTEM):
        return FASHION_MNIST_SYSTEM
    folder = downloads.cache_dir() / "fashion-mnist"
    if not _has_all_files(folder):
        _unpack_deb(downloads.fetch("fashion-mnist-deb"), folder)
    return folder


def _read_idx(path: Path, expected_sha256: str, header: int) -> np.ndarray:
    try:
        raw = gzip.decompress(path.read_bytes())
    except (OSError, EOFError, zlib.error) as error:  # a truncated or garbled file (gzip.BadGzipFile is an OSError)
        raise downloads.DownloadError(f"{path}: not a readable gzip file ({error})") from None
    digest = hashlib.sha256(raw).hexdigest()
    if digest != expected_sha256:
        raise downloads.DownloadError(f"{path}: decompressed content has sha256 {digest}, expected {expected_sha256}")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).copy()


def fashion_mnist(split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """Fashion-MNIST ``split`` (``"train"``: 60,000 images, ``"test"``: 10,000).

    Parameters
    ----------
    split : {"train", "test"}
        Which split.

    Returns
    -------
    images : (n, 28, 28) numpy.ndarray
        uint8 images.
    labels : (n,) numpy.ndarray
        int64 labels in 0..9 (:data:`FASHION_MNIST_CLASSES`).
    """
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test'; got {split!r}")
    image_file, image_digest = FASHION_MNIST_FILES[(split, "images")]
    label_file, label_digest = FASHION_MNIST_FILES[(split, "labels")]
    folder = fashion_mnist_folder()
    try:
        images = _read_idx(folder / image_file, image_digest, header=16).reshape(-1, 28, 28)
        labels = _read_idx(folder / label_file, label_digest, header=8).astype(np.int64)
    except downloads.DownloadError as error:
        if folder == FASHION_MNIST_SYSTEM:
            raise downloads.DownloadError(f"{error}; the system's copy is damaged: reinstall the Debian package dataset-fashion-mnist") from None
        print(f"cache: discarded {folder}: {error}; unpacking it again", file=sys.stderr, flush=True)
        shutil.rmtree(folder, ignore_errors=True)
        folder = fashion_mnist_folder()  # unpacked again, once, from the verified download
        images = _read_idx(folder / image_file, image_digest, header=16).reshape(-1, 28, 28)
        labels = _read_idx(folder / label_file, label_digest, header=8).astype(np.int64)
    return images, labels


IMAGE_SUFFIXES = (".jpeg", ".jpg", ".png")


def check_image_folder(path: str | Path, parameter: str = "image_dir", max_entries: int = 10_000) -> Path:
    """Refuse, before anything is computed, a folder that cannot be an image folder.

    The folder must exist, must not be the file system's root, and must hold a readable JPEG or PNG
    image at its top or one level down (class folders, as ImageNet's training split has); at most
    ``max_entries`` entries are looked at, so a wrong folder is never crawled.

    Parameters
    ----------
    path : str or pathlib.Path
        The folder.
    parameter : str
        The parameter that named it, for the message.
    max_entries : int
        Entries looked at, at most.

    Returns
    -------
    pathlib.Path
        The folder, resolved.
    """
    from PIL import Image, UnidentifiedImageError

    root = Path(path).expanduser().resolve()
    if not root.is_dir():
        raise ValueError(f"parameter {parameter!r} must name a folder of JPEG or PNG images; {str(path)!r} is not a folder")
    if root == Path(root.anchor):
        raise ValueError(f"parameter {parameter!r} names the file system's root; give the folder that holds the images")
    seen = 0
    levels = [root]
    for folder in levels:
        for entry in sorted(folder.iterdir()):
            seen += 1
            if seen > max_entries:
                break
            if entry.is_dir() and folder == root:
                levels.append(entry)
            elif entry.suffix.lower() in IMAGE_SUFFIXES:
                try:
                    with Image.open(entry) as image:
                        image.verify()
                    return root
                except (UnidentifiedImageError, OSError) as error:
                    raise ValueError(f"parameter {parameter!r}: {entry} is not a readable image ({error})") from None
    raise ValueError(f"parameter {parameter!r}: {root} holds no JPEG or PNG image at its top or one level down")


def image_folder(path: str | Path, n_images: int, size: int = 224) -> np.ndarray:
    """The first ``n_images`` images (sorted by file name, recursively) of folder ``path``.

    Each is resized so its shorter side is ``size * 256 / 224`` and centre-cropped to ``size`` (the
    usual ImageNet evaluation crop).

    Parameters
    ----------
    path : str or pathlib.Path
        Folder of JPEG/PNG images.
    n_images : int
        Images to read.
    size : int
        Side of the crop in pixels.

    Returns
    -------
    (n_images, size, size, 3) numpy.ndarray
        uint8 images.
    """
    from PIL import Image

    root = Path(path).expanduser()
    if not root.is_dir():
        raise FileNotFoundError(f"image folder {root} does not exist (parameter image_dir); point it to a folder of JPEG/PNG images")
    files = sorted(p for p in root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    if len(files) < n_images:
        raise ValueError(f"image folder {root} holds {len(files)} images; {n_images} were asked for")
    out = np.empty((n_images, size, size, 3), dtype=np.uint8)
    for i, file in enumerate(files[:n_images]):
        try:
            image = Image.open(file).convert("RGB")
        except OSError as error:  # PIL's UnidentifiedImageError is an OSError
            raise ValueError(f"image folder {root}: {file} is not a readable image ({error})") from None
        out[i] = resize_and_centre_crop(image, size, round(size * 256 / 224), Image.BILINEAR)
    return out


def resize_and_centre_crop(image, size: int, short_side: int, resample: int) -> np.ndarray:
    """A PIL ``image`` resized so that its shorter side is ``short_side``, then its centre ``size`` x ``size`` pixels.

    Parameters
    ----------
    image : PIL.Image.Image
        The image.
    size : int
        Side of the crop.
    short_side : int
        Shorter side after resizing (at least ``size``).
    resample : int
        PIL resampling filter.

    Returns
    -------
    (size, size, 3) numpy.ndarray
        uint8 crop.
    """
    scale = short_side / min(image.size)
    image = image.resize((max(size, round(image.width * scale)), max(size, round(image.height * scale))), resample)
    left, top = (image.width - size) // 2, (image.height - size) // 2
    return np.asarray(image.crop((left, top, left + size, top + size)))


def to_model_input(
    images: np.ndarray,
    size: int | None = None,
    channels: int = 3,
    mean: tuple[float, ...] = IMAGENET_MEAN,
    std: tuple[float, ...] = IMAGENET_STD,
) -> torch.Tensor:
    """Images as normalised model inputs.

    Pixels are scaled to [0, 1], grey images repeated over ``channels``, bilinearly resized to
    ``size`` (None keeps h x w), then normalised per channel with ``mean`` and ``std``.

    Parameters
    ----------
    images : (n, h, w) or (n, h, w, c) numpy.ndarray
        uint8 images, grey or colour.
    size : int or None
        Side of the inputs.
    channels : int
        Channels the model takes.
    mean, std : tuple of float
        Per-channel normalisation.

    Returns
    -------
    (n, channels, size, size) torch.Tensor
        float32 inputs.
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


SHIPPED_OBJECTS: dict[str, tuple[str, tuple[int, int, int]]] = {
    "astronaut": ("skimage:astronaut", (10, 100, 320)),
    "cat": ("skimage:chelsea", (0, 60, 300)),
    "coffee": ("skimage:coffee", (10, 100, 380)),
    "rocket": ("skimage:rocket", (60, 170, 360)),
    "cameraman": ("skimage:camera", (20, 100, 400)),
    "coins": ("skimage:coins", (0, 40, 303)),
    "horse": ("skimage:horse", (0, 36, 328)),
    "motorcycle": ("skimage:stereo_motorcycle", (120, 60, 380)),
    "temple": ("sklearn:china.jpg", (20, 10, 400)),
    "flower": ("sklearn:flower.jpg", (60, 120, 360)),
    "officer": ("matplotlib:grace_hopper.jpg", (40, 40, 440)),
    "retina": ("skimage:retina", (0, 0, 1411)),
}
"""Square object crops (top, left, side in pixels) of the photographs that install with
scikit-image, scikit-learn and matplotlib (public domain / CC0 / CC-BY per their docs)."""


def _shipped_photo(source: str) -> np.ndarray:
    """(h, w, 3) uint8: one photograph that ships inside an installed package."""
    package, name = source.split(":")
    if package == "skimage":
        import skimage.data

        image = getattr(skimage.data, name)()
        image = image[0] if isinstance(image, tuple) else image
    elif package == "sklearn":
        from sklearn.datasets import load_sample_image

        image = load_sample_image(name)
    else:
        import matplotlib.cbook
        from PIL import Image

        with matplotlib.cbook.get_sample_data(name) as f:
            image = np.asarray(Image.open(f).convert("RGB"))
    image = np.asarray(image)
    if image.dtype == bool:
        image = np.where(image, 255, 0).astype(np.uint8)  # a silhouette: white object on black
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=2)
    return np.ascontiguousarray(image[..., :3].astype(np.uint8))


def object_crops(names: list[str] | tuple[str, ...] | None = None, size: int = 112) -> np.ndarray:
    """The named :data:`SHIPPED_OBJECTS`, cropped and resized to ``size`` pixels.

    Parameters
    ----------
    names : list or tuple of str, or None
        Objects to return (None: all, in order).
    size : int
        Side in pixels.

    Returns
    -------
    (n_objects, size, size, 3) numpy.ndarray
        uint8 images.
    """
    from PIL import Image

    names = list(SHIPPED_OBJECTS) if names is None else list(names)
    unknown = [n for n in names if n not in SHIPPED_OBJECTS]
    if unknown:
        raise ValueError(f"unknown objects {unknown}; choose from {list(SHIPPED_OBJECTS)}")
    out = np.empty((len(names), size, size, 3), dtype=np.uint8)
    for k, name in enumerate(names):
        source, (top, left, side) = SHIPPED_OBJECTS[name]
        crop = _shipped_photo(source)[top : top + side, left : left + side]
        out[k] = np.asarray(Image.fromarray(crop).resize((size, size), Image.BICUBIC))
    return out


def background_colour(mean: tuple[float, ...] = IMAGENET_MEAN) -> np.ndarray:
    """The colour that normalisation with ``mean`` maps to (nearly) zero.

    Parameters
    ----------
    mean : tuple of float
        Per-channel mean of the normalisation.

    Returns
    -------
    (3,) numpy.ndarray
        uint8 colour.
    """
    return np.round(np.asarray(mean) * 255).astype(np.uint8)


def side_by_side(left: np.ndarray | None, right: np.ndarray | None, canvas: int = 224, mean: tuple[float, ...] = IMAGENET_MEAN) -> np.ndarray:
    """``left`` and/or ``right`` centred in the two halves of a canvas filled with :func:`background_colour`.

    The background is zero after normalisation, so an empty half contributes nothing to the
    normalised pixels.

    Parameters
    ----------
    left : (s, s, 3) numpy.ndarray or None
        uint8 image for the left half, s ≤ canvas / 2.
    right : (s, s, 3) numpy.ndarray or None
        uint8 image for the right half.
    canvas : int
        Side of the canvas.
    mean : tuple of float
        Normalisation mean that sets the background colour.

    Returns
    -------
    (canvas, canvas, 3) numpy.ndarray
        uint8 image.
    """
    out = np.empty((canvas, canvas, 3), dtype=np.uint8)
    out[:] = background_colour(mean)
    half = canvas // 2
    for image, x0 in ((left, 0), (right, half)):
        if image is None:
            continue
        s = image.shape[0]
        if image.shape[:2] != (s, s) or s > half:
            raise ValueError(f"objects must be square and at most canvas / 2 = {half} pixels; got {image.shape}")
        top, offset = (canvas - s) // 2, x0 + (half - s) // 2
        out[top : top + s, offset : offset + s] = image
    return out


def additivity_stimuli(objects: np.ndarray, pairs: np.ndarray, canvas: int = 224) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The images of the additivity test.

    The test compares composite (i, j) with i *right* + j *left*, so no object is at the same place
    in the parts and in the whole and pixels do not add trivially.

    Parameters
    ----------
    objects : (n_objects, s, s, 3) numpy.ndarray
        uint8 object images.
    pairs : (n_pairs, 2) numpy.ndarray
        Object ids (i, j) of each composite.
    canvas : int
        Side of the images.

    Returns
    -------
    alone_left, alone_right : (n_objects, canvas, canvas, 3) numpy.ndarray
        Each object alone in the left and in the right half.
    composites : (n_pairs, canvas, canvas, 3) numpy.ndarray
        i on the left and j on the right.
    """
    left = np.stack([side_by_side(o, None, canvas) for o in objects])
    right = np.stack([side_by_side(None, o, canvas) for o in objects])
    composites = np.stack([side_by_side(objects[i], objects[j], canvas) for i, j in np.asarray(pairs)])
    return left, right, composites


TRIPLET_ROLES = ("a", "b", "ab")


def image_triplets(path: str | Path, size: int = 224) -> tuple[list[str], np.ndarray]:
    """User-supplied A / B / A-and-B images.

    One sub-folder per triplet holding ``a``, ``b`` and ``ab`` (any of .png, .jpg, .jpeg), e.g.
    ``elephant_ball/a.png``; each image resized to ``size`` and centre-cropped. A missing or
    unreadable image raises an error naming the file.

    Parameters
    ----------
    path : str or pathlib.Path
        Folder of at least 3 triplet sub-folders.
    size : int
        Side of the images.

    Returns
    -------
    names : (n_triplets,) list of str
        Sub-folder names.
    images : (n_triplets, 3, size, size, 3) numpy.ndarray
        uint8 images, roles in :data:`TRIPLET_ROLES` order.
    """
    from PIL import Image, UnidentifiedImageError

    root = Path(path).expanduser()
    if not root.is_dir():
        raise FileNotFoundError(f"triplet folder {root} does not exist (parameter triplet_dir)")
    folders = sorted(p for p in root.iterdir() if p.is_dir())
    if len(folders) < 3:
        raise ValueError(f"triplet folder {root} must hold at least 3 sub-folders with a, b and ab images; found {len(folders)}")
    out = np.empty((len(folders), 3, size, size, 3), dtype=np.uint8)
    for t, folder in enumerate(folders):
        for r, role in enumerate(TRIPLET_ROLES):
            found = [folder / f"{role}{ext}" for ext in (".png", ".jpg", ".jpeg") if (folder / f"{role}{ext}").is_file()]
            if not found:
                raise FileNotFoundError(f"triplet {folder.name!r} lacks its {role!r} image: expected {folder / role}.png, .jpg or .jpeg")
            try:
                image = Image.open(found[0]).convert("RGB")
            except (UnidentifiedImageError, OSError) as error:
                raise ValueError(f"cannot read image {found[0]}: {error}") from error
            out[t, r] = resize_and_centre_crop(image, size, size, Image.BICUBIC)
    return [f.name for f in folders], out
