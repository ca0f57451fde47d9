"""Runs made elsewhere (a GPU node, a cluster job), packed with their provenance and brought home.

A *bundle* is one ``.tar.gz`` holding a finished run of one notebook: the executed notebook, its
results JSON and a manifest with the run's provenance (notebook, profile, parameters, run key,
library commit, lock-file digest, device, wall time) and the SHA-256 of both files.

- :func:`pack` makes a bundle from a published run (``_build`` by default, or the folder a sweep
  point or another machine's checkout published into).
- :func:`import_bundle` checks a bundle before anything of it is kept: every file against its
  digest, the manifest against the results' own provenance, and the run key against the one this
  checkout computes for the same notebook and parameters. A different run key means the code or
  the lock file differs from the checkout; such a bundle is refused unless ``allow_mismatch``,
  and then labelled so wherever it is shown. Accepted bundles go to ``book/imported/<notebook>/
  <label>/``, which the book build shows beside the default runs (:func:`imported_runs`).

Usage::

    python -m superposition.book.bundles pack toy_alignment [--from _build] [-o toy_alignment-paper.tar.gz]
    python -m superposition.book.bundles import toy_alignment-paper.tar.gz [--allow-mismatch]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import re
import sys
import tarfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..io import BOOK, BUILD, ROOT, atomic_write_json, notebook_names, replace_folder
from .params import ParameterError
from .record import lock_digest

IMPORTED = BOOK / "imported"
MANIFEST = "manifest.json"
FORMAT = 1


class BundleError(ValueError):
    """A bundle that cannot be packed or imported; the message says why."""


@dataclass(frozen=True)
class ImportedRun:
    """A run imported into the book.

    Attributes
    ----------
    notebook, label : str
        The notebook and the run's folder name under ``book/imported/<notebook>/``.
    folder : pathlib.Path
        The folder (executed notebook, results, manifest).
    manifest : dict
        The bundle's manifest, with the import's note (``imported``: when, and ``mismatch``: what
        differs from the checkout that imported it, or None).
    results : dict
        The run's results JSON.
    """

    notebook: str
    label: str
    folder: Path
    manifest: dict[str, Any]
    results: dict[str, Any]

    @property
    def profile(self) -> str:
        """The run's profile."""
        return str(self.manifest["profile"])

    @property
    def device(self) -> str:
        """The device the run computed on."""
        return str(self.manifest["device"])

    @property
    def mismatch(self) -> str | None:
        """What differs from the checkout that imported the run, or None."""
        return self.manifest.get("import", {}).get("mismatch")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40]


def pack(notebook: str, source: Path | None = None, output: Path | None = None) -> Path:
    """Pack the published run of ``notebook`` in ``source`` into a bundle.

    Parameters
    ----------
    notebook : str
        The notebook.
    source : pathlib.Path or None
        The folder the run was published into (default ``_build``).
    output : pathlib.Path or None
        The bundle's path (default ``<notebook>-<profile>-<run key>.tar.gz`` in the current folder).

    Returns
    -------
    pathlib.Path
        The bundle.
    """
    from .pipeline import published_pair

    if notebook not in notebook_names():
        raise BundleError(f"unknown notebook {notebook!r}; allowed: {', '.join(notebook_names())}")
    executed, results = published_pair(notebook, BUILD if source is None else Path(source))
    if not (executed.is_file() and results.is_file()):
        raise BundleError(f"no published run of {notebook} in {source or BUILD}: run it first (make run NB={notebook})")
    data = json.loads(results.read_text())
    if not data.get("complete"):
        raise BundleError(f"the run of {notebook} in {results} is incomplete; only finished runs are packed")
    prov = data["provenance"]
    files = {f"{notebook}.ipynb": executed.read_bytes(), f"{notebook}.json": results.read_bytes()}
    manifest = {
        "format": FORMAT, "notebook": notebook, "profile": prov["profile"], "parameters": prov["parameters"], "run_key": prov["run_key"],
        "commit": prov["commit"], "lock_digest": prov.get("lock_digest", "unknown"), "device": prov["device"], "cpu": prov.get("cpu"),
        "wall_time_s": prov["wall_time_s"], "started": prov["started"], "packed": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "files": {name: _sha256(content) for name, content in files.items()},
    }  # fmt: skip
    output = Path(output) if output else Path(f"{notebook}-{prov['profile']}-{prov['run_key']}.tar.gz")
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(output.name + ".partial")
    with tarfile.open(partial, "w:gz") as tar:
        for name, content in {MANIFEST: json.dumps(manifest, indent=2, sort_keys=True).encode(), **files}.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    partial.replace(output)
    return output


def read_bundle(path: Path) -> tuple[dict[str, Any], dict[str, bytes]]:
    """The manifest and files of a bundle, each file checked against its digest.

    Parameters
    ----------
    path : pathlib.Path
        The bundle.

    Returns
    -------
    manifest : dict
        The manifest.
    files : dict of str to bytes
        The files by name.
    """
    try:
        with tarfile.open(path, "r:gz") as tar:
            members = {m.name: m for m in tar.getmembers()}
            if any(not m.isfile() or "/" in m.name or m.name.startswith(".") for m in members.values()):
                raise BundleError(f"bundle {path} holds something other than plain files at its top level")
            contents = {name: tar.extractfile(m).read() for name, m in members.items()}
    except (OSError, tarfile.TarError) as error:
        raise BundleError(f"bundle {path} cannot be read as a .tar.gz ({error})") from None
    if MANIFEST not in contents:
        raise BundleError(f"bundle {path} has no {MANIFEST}")
    manifest = json.loads(contents.pop(MANIFEST))
    if manifest.get("format") != FORMAT:
        raise BundleError(f"bundle {path} has format {manifest.get('format')!r}; this checkout reads format {FORMAT}")
    expected = manifest.get("files", {})
    if set(expected) != set(contents):
        raise BundleError(f"bundle {path} holds {sorted(contents)}, its manifest lists {sorted(expected)}")
    for name, content in contents.items():
        if _sha256(content) != expected[name]:
            raise BundleError(f"bundle {path}: {name} does not match its digest in the manifest (the bundle was changed after packing)")
    return manifest, contents


def check_provenance(manifest: dict[str, Any], results: dict[str, Any]) -> str | None:
    """What differs between a bundle's run and this checkout, or None when nothing does.

    Raises :class:`BundleError` when the manifest disagrees with the results' own provenance.

    Parameters
    ----------
    manifest : dict
        The bundle's manifest.
    results : dict
        The run's results JSON.

    Returns
    -------
    str or None
        A sentence naming the difference (lock file, or code), or None.
    """
    from .pipeline import resolve_parameters, run_key

    prov = results.get("provenance", {})
    for key in ("run_key", "commit", "profile", "device", "parameters"):
        if prov.get(key) != manifest.get(key):
            raise BundleError(f"the manifest's {key} ({manifest.get(key)!r}) differs from the run's own provenance ({prov.get(key)!r})")
    if not results.get("complete"):
        raise BundleError("the bundled run is incomplete")
    notebook = manifest["notebook"]
    if notebook not in notebook_names():
        raise BundleError(f"the bundle's notebook {notebook!r} is not a notebook of this checkout")
    parameters = {k: v for k, v in manifest["parameters"].items() if k != "profile"}
    try:
        here = run_key(notebook, resolve_parameters(notebook, manifest["profile"], parameters))
    except ParameterError as error:
        return f"its parameters do not apply to this checkout's notebook ({error})"
    if here == manifest["run_key"]:
        return None
    if manifest.get("lock_digest") != lock_digest():
        return f"made with another lock file (constraints.txt {manifest.get('lock_digest')} there, {lock_digest()} here)"
    return f"made with other code (commit {manifest['commit']}; its run key {manifest['run_key']}, this checkout's {here})"


def import_bundle(path: Path, allow_mismatch: bool = False, into: Path | None = None) -> ImportedRun:
    """Check a bundle and keep it in ``book/imported/<notebook>/<label>/``.

    Parameters
    ----------
    path : pathlib.Path
        The bundle.
    allow_mismatch : bool
        Import a run whose code or lock file differs from this checkout, labelled so.
    into : pathlib.Path or None
        The folder of imported runs (default ``book/imported``).

    Returns
    -------
    ImportedRun
        The imported run.
    """
    manifest, files = read_bundle(Path(path))
    notebook = manifest["notebook"]
    results = json.loads(files[f"{notebook}.json"])
    mismatch = check_provenance(manifest, results)
    if mismatch and not allow_mismatch:
        raise BundleError(f"refused: the run in {path} was {mismatch}; pass --allow-mismatch to import it labelled so")
    label = f"{_slug(manifest['profile'])}-{_slug(manifest['device'])}-{manifest['run_key']}"
    folder = (IMPORTED if into is None else Path(into)) / notebook / label
    manifest["import"] = {"imported": datetime.now(timezone.utc).isoformat(timespec="seconds"), "bundle": Path(path).name, "mismatch": mismatch}

    def fill(scratch: Path) -> None:
        for name, content in files.items():
            (scratch / name).write_bytes(content)
        atomic_write_json(scratch / MANIFEST, manifest)

    replace_folder(folder, fill)
    return ImportedRun(notebook, label, folder, manifest, results)


def imported_runs(notebook: str | None = None, into: Path | None = None) -> list[ImportedRun]:
    """The runs imported into the book, by notebook and label.

    Parameters
    ----------
    notebook : str or None
        Only this notebook's runs (default: all).
    into : pathlib.Path or None
        The folder of imported runs (default ``book/imported``).

    Returns
    -------
    list of ImportedRun
        The runs.
    """
    root = IMPORTED if into is None else Path(into)
    runs = []
    for manifest_path in sorted(root.glob(f"{notebook or '*'}/*/{MANIFEST}")):
        manifest = json.loads(manifest_path.read_text())
        folder = manifest_path.parent
        results = json.loads((folder / f"{manifest['notebook']}.json").read_text())
        runs.append(ImportedRun(manifest["notebook"], folder.name, folder, manifest, results))
    return runs


def _parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m superposition.book.bundles", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("pack", help="pack a published run into a bundle")
    p.add_argument("notebook")
    p.add_argument("--from", dest="source", type=Path, default=None, help="the folder the run was published into (default _build)")
    p.add_argument("-o", "--output", type=Path, default=None)
    p = sub.add_parser("import", help="check a bundle and import it into book/imported")
    p.add_argument("bundle", type=Path)
    p.add_argument("--allow-mismatch", action="store_true", help="import a run made with other code or another lock file, labelled so")
    sub.add_parser("list", help="the imported runs")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Command line: ``pack``, ``import`` or ``list``.

    Parameters
    ----------
    argv : list of str or None
        Arguments (None: ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status: 0 on success, 2 when a bundle is refused or cannot be packed.
    """
    args = _parse_args(sys.argv[1:] if argv is None else argv)
    try:
        if args.command == "pack":
            print(pack(args.notebook, args.source, args.output))
        elif args.command == "import":
            run = import_bundle(args.bundle, args.allow_mismatch)
            note = f" (labelled: {run.mismatch})" if run.mismatch else ""
            print(f"imported {run.notebook} ({run.profile} on {run.device}) into {run.folder.relative_to(ROOT) if run.folder.is_relative_to(ROOT) else run.folder}{note}")
        else:
            for run in imported_runs():
                print(f"{run.notebook}/{run.label}: profile {run.profile}, {run.device}" + (f", {run.mismatch}" if run.mismatch else ""))
    except BundleError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
