"""The one downloader: files declared in ``data_manifests/*.yaml``, verified, cached, never half-written.

A manifest is a YAML file with an ``entries`` list; each entry names one file::

    - name: resnet50-imagenet1k-v2          # unique over all manifests
      url: https://download.pytorch.org/models/resnet50-11ad3fa6.pth
      filename: resnet50-11ad3fa6.pth       # the name in the cache folder
      size: 102540417                       # bytes, or null when not published
      sha256: 11ad3fa6…                     # the full digest, a published prefix (>= 8 hex digits), or null
      licence: BSD-3-Clause (torchvision weights)
      terms: …                              # optional: data-use terms a user must accept first
      description: …

:func:`fetch` returns the cached path of an entry, downloading it first if it is missing. A
download goes to a ``.part`` file beside its target and only becomes the target after its size
and checksum match, so an interrupted or corrupt download is never used: it is deleted and the
error names the entry, the expected checksum and the cache path. Where a manifest publishes only
a prefix of the digest, or none (``sha256: null``: the source publishes no checksums), the full
digest and size of the first download are recorded beside the file (``<filename>.sha256``,
``<filename>.size``) and every later use is checked against them. Entries with ``terms`` are
fetched only after the user accepts them: ``fetch(..., accept_terms=True)`` or the manifest's
file name (e.g. ``nsd``) in the environment variable ``SUPERPOSITION_ACCEPT_TERMS``.

A manifest's file name stays inside the cache's ``downloads`` folder (no absolute path, no ``..``);
an ``https`` download is never redirected to a plain ``http`` (or any other) address; the
``.part`` file of a download whose process died is removed by the next fetch of that file.

The cache folder is ``$SUPERPOSITION_CACHE`` if set, else ``_build/cache`` in the repository.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import yaml

from ..io import BUILD, ROOT, atomic_write_text

MANIFESTS = ROOT / "data_manifests"
CACHE_ENV = "SUPERPOSITION_CACHE"
TERMS_ENV = "SUPERPOSITION_ACCEPT_TERMS"


class DownloadError(RuntimeError):
    """A declared file could not be fetched or failed its checks; the message says which and where."""


@dataclass(frozen=True)
class Entry:
    """One file of a manifest (see the module docstring for the format).

    Attributes
    ----------
    name : str
        Unique over all manifests.
    url : str
        Where the file is downloaded from.
    filename : str
        The name in the cache folder.
    sha256 : str
        The full digest, a published prefix (>= 8 hex digits), or ``""`` when none is published.
    size : int or None
        Bytes, or None when not published.
    licence : str
        Licence of the file.
    description : str
        What the file is.
    manifest : str
        File name of the manifest declaring it.
    terms : str or None
        Data-use terms a user must accept first, if any.
    """

    name: str
    url: str
    filename: str
    sha256: str
    size: int | None
    licence: str
    description: str
    manifest: str
    terms: str | None = None


def cache_dir() -> Path:
    """The folder downloads, trained models and feature caches live in (created if missing).

    Returns
    -------
    pathlib.Path
        The folder: ``$SUPERPOSITION_CACHE`` when set, else ``_build/cache``.
    """
    path = Path(os.environ.get(CACHE_ENV) or BUILD / "cache").expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path


def load_manifests(folder: Path = MANIFESTS) -> dict[str, Entry]:
    """Every entry of every ``*.yaml`` manifest in ``folder``, by name; duplicate names are an error.

    Parameters
    ----------
    folder : pathlib.Path
        Folder of the manifests.

    Returns
    -------
    dict of str to Entry
        The entries by name.
    """
    entries: dict[str, Entry] = {}
    for path in sorted(folder.glob("*.yaml")):
        data = yaml.safe_load(path.read_text()) or {}
        for raw in data.get("entries", []):
            missing = {"name", "url", "filename", "sha256", "licence"} - set(raw)
            if missing:
                raise ValueError(f"{path.name}: entry {raw.get('name', raw)!r} lacks {sorted(missing)}")
            digest = "" if raw["sha256"] is None else str(raw["sha256"]).lower()
            if (digest and len(digest) < 8) or any(c not in "0123456789abcdef" for c in digest):
                raise ValueError(f"{path.name}: entry {raw['name']!r} needs a hex sha256 (a prefix of >= 8 digits, or null); got {digest!r}")
            if not _is_relative_name(str(raw["filename"])):
                raise ValueError(f"{path.name}: entry {raw['name']!r} needs a file name inside the cache folder (no absolute path, no '..'); got {raw['filename']!r}")
            if raw["name"] in entries:
                raise ValueError(f"manifest entry {raw['name']!r} is declared twice ({entries[raw['name']].manifest} and {path.name})")
            entries[raw["name"]] = Entry(
                name=raw["name"],
                url=raw["url"],
                filename=raw["filename"],
                sha256=digest,
                size=None if raw.get("size") is None else int(raw["size"]),
                licence=raw["licence"],
                description=raw.get("description", ""),
                manifest=path.name,
                terms=raw.get("terms"),
            )
    return entries


def _is_relative_name(filename: str) -> bool:
    """Whether a manifest's file name is a relative path that stays below the folder it is joined to."""
    parts = PurePosixPath(filename).parts
    return bool(parts) and not PurePosixPath(filename).is_absolute() and "\\" not in filename and all(p not in ("..", ".", "") for p in parts)


class _NoDowngradeRedirect(urllib.request.HTTPRedirectHandler):
    """Follow a redirect only to https, or from http to http: an https download never leaves https."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: ANN001, ANN201 - urllib's signature
        old_scheme, new_scheme = urllib.parse.urlsplit(req.full_url).scheme, urllib.parse.urlsplit(newurl).scheme
        if new_scheme not in ("http", "https") or (old_scheme == "https" and new_scheme != "https"):
            raise urllib.error.HTTPError(newurl, code, f"refused redirect from {req.full_url} to {newurl} (an https download stays on https)", headers, fp)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _remove_abandoned_parts(target: Path) -> list[Path]:
    """Delete the ``.part`` files of ``target`` whose downloading process is gone.

    Parameters
    ----------
    target : pathlib.Path
        The cached file a download would produce.

    Returns
    -------
    list of pathlib.Path
        The removed files.
    """
    removed = []
    for part in target.parent.glob(target.name + ".*.part"):
        try:
            pid = int(part.name[len(target.name) + 1 : -len(".part")])
            os.kill(pid, 0)
        except ValueError:
            pass
        except ProcessLookupError:
            part.unlink(missing_ok=True)
            removed.append(part)
        except PermissionError:
            continue
    return removed


def entry(name: str, folder: Path = MANIFESTS) -> Entry:
    """The manifest entry ``name``, or an error listing the declared names.

    Parameters
    ----------
    name : str
        Name of the entry.
    folder : pathlib.Path
        Folder of the manifests.

    Returns
    -------
    Entry
        The entry.
    """
    entries = load_manifests(folder)
    if name not in entries:
        raise KeyError(f"no manifest entry {name!r} in {folder}; declared: {', '.join(sorted(entries)) or 'none'}")
    return entries[name]


def sha256_of(path: Path, chunk: int = 1 << 20) -> str:
    """The hex sha256 digest of the file at ``path``.

    Parameters
    ----------
    path : pathlib.Path
        The file.
    chunk : int
        Bytes read at a time.

    Returns
    -------
    str
        Hex digest.
    """
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def _recorded(target: Path, what: str) -> str | None:
    path = target.with_name(f"{target.name}.{what}")
    return path.read_text().strip() if path.exists() else None


def _expected_digest(item: Entry, target: Path) -> str:
    if len(item.sha256) < 64:
        return _recorded(target, "sha256") or item.sha256
    return item.sha256


def _expected_size(item: Entry, target: Path) -> int | None:
    if item.size is not None:
        return item.size
    recorded = _recorded(target, "size")
    return None if recorded is None else int(recorded)


def verify(item: Entry, path: Path, target: Path | None = None) -> None:
    """Raise :class:`DownloadError` unless ``path`` has the entry's size and checksum.

    Parameters
    ----------
    item : Entry
        The manifest entry.
    path : pathlib.Path
        The file to check.
    target : pathlib.Path or None
        The cache path ``path`` is (or will become); a full digest recorded beside it replaces a
        published prefix. Default: ``path``.
    """
    size, expected_size = path.stat().st_size, _expected_size(item, target or path)
    expected = _expected_digest(item, target or path)
    if expected_size is not None and size != expected_size:
        raise DownloadError(
            f"{item.name} ({item.manifest}): {path} has {size:,} bytes, expected {expected_size:,}; "
            f"expected sha256 {expected or '(none published)'}. The file was removed; fetch it again."
        )
    actual = sha256_of(path)
    if not actual.startswith(expected):
        raise DownloadError(
            f"{item.name} ({item.manifest}): checksum mismatch for {path}: expected sha256 {expected}, "
            f"got {actual}. The file was removed; fetch it again."
        )


def terms_accepted(item: Entry) -> bool:
    """Whether the user accepted ``item``'s terms through ``$SUPERPOSITION_ACCEPT_TERMS``.

    The variable holds comma-separated manifest names, e.g. ``nsd``.

    Parameters
    ----------
    item : Entry
        The manifest entry.

    Returns
    -------
    bool
        Whether its manifest is named in the variable.
    """
    accepted = {part.strip() for part in os.environ.get(TERMS_ENV, "").split(",")}
    return Path(item.manifest).stem in accepted


def fetch(name: str, folder: Path = MANIFESTS, timeout: float = 60.0, accept_terms: bool = False) -> Path:
    """The verified local path of manifest entry ``name``, downloading it into :func:`cache_dir` if needed.

    A cached file is verified on every call (size and sha256); one that fails is deleted and
    downloaded again. Errors name the entry, the expected checksum and the cache path.

    Parameters
    ----------
    name : str
        Name of the entry.
    folder : pathlib.Path
        Folder of the manifests.
    timeout : float
        Network timeout in seconds.
    accept_terms : bool
        Accept the entry's data-use ``terms`` (else :func:`terms_accepted` decides); an entry with
        terms is downloaded only when they are accepted.

    Returns
    -------
    pathlib.Path
        Path of the verified file.
    """
    item = entry(name, folder)
    target = cache_dir() / "downloads" / item.filename
    target.parent.mkdir(parents=True, exist_ok=True)
    if item.terms and not target.exists() and not (accept_terms or terms_accepted(item)):
        raise DownloadError(
            f"{item.name} ({item.manifest}) is released under terms you must accept first: {item.terms} "
            f"Accept them with {TERMS_ENV}={Path(item.manifest).stem} (or accept_terms=True), then fetch again."
        )
    if target.exists():
        try:
            verify(item, target)
            return target
        except DownloadError:
            target.unlink()
    _remove_abandoned_parts(target)
    part = target.with_name(target.name + f".{os.getpid()}.part")
    try:
        try:
            opener = urllib.request.build_opener(_NoDowngradeRedirect)
            with opener.open(item.url, timeout=timeout) as response, open(part, "wb") as handle:
                shutil.copyfileobj(response, handle, length=1 << 20)
                announced = response.headers.get("Content-Length")
        except (urllib.error.URLError, OSError, TimeoutError) as error:
            raise DownloadError(
                f"{item.name} ({item.manifest}): could not download {item.url} into {target}: {error}. "
                f"Without network, place the file there by hand (expected sha256 {item.sha256}"
                + (f", {item.size:,} bytes" if item.size else "")
                + ")."
            ) from error
        if announced is not None and part.stat().st_size != int(announced):
            raise DownloadError(
                f"{item.name} ({item.manifest}): the download of {item.url} into {target} stopped after "
                f"{part.stat().st_size:,} of {int(announced):,} bytes; nothing was kept. Fetch it again."
            )
        verify(item, part, target)
        if len(item.sha256) < 64 and _recorded(target, "sha256") is None:  # record what was first verified
            atomic_write_text(target.with_name(target.name + ".sha256"), sha256_of(part) + "\n")
            atomic_write_text(target.with_name(target.name + ".size"), f"{part.stat().st_size}\n")
        os.replace(part, target)
    finally:
        part.unlink(missing_ok=True)
    return target
