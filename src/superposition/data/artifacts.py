"""Cached artifacts (trained networks, activations): keyed on what made them, verified on every read.

An artifact is a folder under the cache (:func:`superposition.data.downloads.cache_dir`). Its key
(:func:`artifact_key`) hashes everything that made it: the inputs (a JSON-able dict), the source
of the library modules that compute it, the versions of torch and of this library, the device
kind, and the arrays it was computed from (hashed in place, without copying). A change of any of
them gives another key, so a stale artifact is never served.

When an artifact is complete its folder gets a ``DIGESTS.json`` listing the sha256 of every file
(:func:`seal`); the folder is built under a temporary name and renamed into place
(:func:`publish`), so an interrupted write leaves nothing that looks finished, and two processes
that build the same artifact at once keep one whole copy. Every read checks the digests first
(:func:`verified`): a folder with a missing, changed or unreadable file is discarded, a line naming
its path is printed, and the caller computes the artifact again.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

DIGESTS = "DIGESTS.json"


def hash_array(digest: Any, array: np.ndarray) -> None:
    """Feed an array's dtype, shape and bytes to ``digest`` without copying a contiguous array.

    Parameters
    ----------
    digest : hashlib hash object
        The running hash.
    array : numpy.ndarray or array_like
        The array (a non-contiguous one is made contiguous first).
    """
    a = np.ascontiguousarray(array)
    digest.update(f"{a.dtype.str}{a.shape}".encode())
    digest.update(memoryview(a).cast("B"))


def _library_version() -> str:
    try:
        return metadata.version("superposition")
    except metadata.PackageNotFoundError:
        return "unknown"


def artifact_key(inputs: dict[str, Any], code: Sequence[ModuleType], arrays: Sequence[np.ndarray] = (), device: str = "cpu") -> str:
    """The key of an artifact: a hash of its inputs, the code that computes it, versions and device kind.

    Parameters
    ----------
    inputs : dict of str to Any
        Settings that shape the artifact (JSON-able).
    code : sequence of module
        The library modules whose source computes it.
    arrays : sequence of numpy.ndarray
        Data it is computed from (hashed without copying).
    device : str
        Where it is computed; only the kind (``cpu``, ``cuda``) enters the key.

    Returns
    -------
    str
        24 hex digits.
    """
    import torch

    digest = hashlib.sha256()
    versions = {"torch": torch.__version__, "superposition": _library_version(), "device": str(device).split(":")[0]}
    digest.update(json.dumps({"inputs": inputs, "versions": versions}, sort_keys=True, default=str).encode())
    for module in code:
        digest.update(module.__name__.encode())
        digest.update(Path(module.__file__).read_bytes())
    for array in arrays:
        hash_array(digest, array)
    return digest.hexdigest()[:24]


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def seal(folder: Path) -> None:
    """Write ``DIGESTS.json``: the sha256 of every other file in ``folder`` (recursively).

    Parameters
    ----------
    folder : pathlib.Path
        The artifact's folder, complete.
    """
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.name != DIGESTS)
    (folder / DIGESTS).write_text(json.dumps({str(p.relative_to(folder)): _file_digest(p) for p in files}, indent=1))


def discard(folder: Path, reason: str) -> None:
    """Remove a cached artifact that failed its check, saying which and why (on stderr).

    Parameters
    ----------
    folder : pathlib.Path
        The artifact's folder.
    reason : str
        What was wrong.
    """
    print(f"cache: discarded {folder}: {reason}; computing it again", file=sys.stderr, flush=True)
    shutil.rmtree(folder, ignore_errors=True)


def verified(folder: Path, required: Sequence[str]) -> bool:
    """Whether ``folder`` holds a complete artifact whose files match their digests.

    A folder that exists but fails (no ``DIGESTS.json``, a required file missing, a digest that
    differs, a file that cannot be read) is discarded (:func:`discard`).

    Parameters
    ----------
    folder : pathlib.Path
        The artifact's folder.
    required : sequence of str
        Files (relative to the folder) that a complete artifact has.

    Returns
    -------
    bool
        True when it can be used; False when it is missing or was discarded.
    """
    if not folder.exists():
        return False
    try:
        listed = json.loads((folder / DIGESTS).read_text())
        missing = [name for name in required if name not in listed]
        if missing:
            discard(folder, f"files {missing} are not sealed")
            return False
        for name, expected in listed.items():
            if _file_digest(folder / name) != expected:
                discard(folder, f"{name} changed since it was written (sha256 differs)")
                return False
    except (OSError, ValueError) as error:
        discard(folder, f"unreadable ({error})")
        return False
    return True


def publish(tmp: Path, folder: Path) -> None:
    """Seal the artifact built in ``tmp`` and rename it to ``folder``.

    When another process published the same artifact first, its copy is kept and ``tmp`` removed.

    Parameters
    ----------
    tmp : pathlib.Path
        The temporary folder, complete.
    folder : pathlib.Path
        The artifact's folder.
    """
    seal(tmp)
    try:
        os.replace(tmp, folder)
    except OSError:  # the folder exists (and is not empty): another process finished first
        shutil.rmtree(tmp, ignore_errors=True)


def temporary(folder: Path) -> Path:
    """A fresh temporary folder beside ``folder`` for this process to build the artifact in.

    Parameters
    ----------
    folder : pathlib.Path
        The artifact's folder.

    Returns
    -------
    pathlib.Path
        The empty temporary folder.
    """
    tmp = folder.with_name(f".{folder.name}.{os.getpid()}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    return tmp
