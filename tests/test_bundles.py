"""Runs made elsewhere: a bundle packed from one output folder imports into another with its
label, a changed file or a manifest that disagrees with the run is refused, and a run made with
other code is refused unless the import is told to label it."""

import io
import json
import tarfile

import nbformat
import pytest

from superposition.book import bundles, pages, pipeline
from superposition.book.record import lock_digest


def _publish(out, run_key=None, profile="smoke", device="cuda (NVIDIA H100 80GB HBM3)"):
    """A finished run of toy_alignment published into ``out``, as a run elsewhere would leave it."""
    parameters = pipeline.resolve_parameters("toy_alignment", profile)
    key = run_key or pipeline.run_key("toy_alignment", parameters)
    provenance = {"parameters": parameters, "profile": profile, "device": device, "commit": "0123456789ab", "run_key": key,
                  "lock_digest": lock_digest(), "wall_time_s": 12.5, "started": "2026-12-05T10:00:00+00:00"}  # fmt: skip
    results = {"notebook": "toy_alignment", "complete": True, "provenance": provenance,
               "results": {"change_ridge_w32_mean": {"value": 0.2, "interval": [0.1, 0.3], "description": "d"}}}  # fmt: skip
    scratch = out / "scratch"
    scratch.mkdir(parents=True)
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Toy")]), scratch / "toy_alignment.ipynb")
    (scratch / "results.json").write_text(json.dumps(results))
    pipeline.publish("toy_alignment", scratch / "toy_alignment.ipynb", scratch / "results.json", out)
    return results


def _rewrite(bundle, change):
    """The bundle with ``change(name, content) -> content`` applied to its files (no digest updated)."""
    with tarfile.open(bundle, "r:gz") as tar:
        contents = {m.name: tar.extractfile(m).read() for m in tar.getmembers()}
    with tarfile.open(bundle, "w:gz") as tar:
        for name, content in contents.items():
            content = change(name, content)
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))


def test_a_bundle_from_one_folder_imports_into_another_with_its_label(tmp_path):
    _publish(tmp_path / "elsewhere")
    bundle = bundles.pack("toy_alignment", tmp_path / "elsewhere", tmp_path / "run.tar.gz")
    run = bundles.import_bundle(bundle, into=tmp_path / "imported")
    assert run.mismatch is None and run.profile == "smoke" and run.device.startswith("cuda")
    assert (run.folder / "toy_alignment.ipynb").is_file() and run.results["results"]["change_ridge_w32_mean"]["value"] == 0.2
    [listed] = bundles.imported_runs("toy_alignment", into=tmp_path / "imported")
    assert listed.label == run.label and "smoke" in listed.label and "h100" in listed.label
    assert "profile `smoke` on cuda" in pages.imported_label(listed) and "matches this checkout" in pages.imported_header(listed, "Toy")


def test_a_changed_file_or_a_manifest_that_disagrees_is_refused(tmp_path):
    _publish(tmp_path / "elsewhere")
    bundle = bundles.pack("toy_alignment", tmp_path / "elsewhere", tmp_path / "run.tar.gz")
    _rewrite(bundle, lambda name, c: c.replace(b"0.2", b"0.9") if name.endswith(".json") and name != "manifest.json" else c)
    with pytest.raises(bundles.BundleError, match="does not match its digest"):
        bundles.import_bundle(bundle, into=tmp_path / "imported")
    bundle = bundles.pack("toy_alignment", tmp_path / "elsewhere", tmp_path / "run2.tar.gz")

    def lie(name, content):
        if name != "manifest.json":
            return content
        manifest = json.loads(content)
        manifest["device"] = "cpu"
        return json.dumps(manifest).encode()

    _rewrite(bundle, lie)
    with pytest.raises(bundles.BundleError, match="manifest's device"):
        bundles.import_bundle(bundle, into=tmp_path / "imported")
    assert not (tmp_path / "imported" / "toy_alignment").exists() or not any((tmp_path / "imported" / "toy_alignment").iterdir())


def test_a_run_made_with_other_code_is_refused_unless_labelled(tmp_path):
    _publish(tmp_path / "elsewhere", run_key="0" * 16, profile="paper")
    bundle = bundles.pack("toy_alignment", tmp_path / "elsewhere", tmp_path / "run.tar.gz")
    with pytest.raises(bundles.BundleError, match="refused: .* made with other code .*--allow-mismatch"):
        bundles.import_bundle(bundle, into=tmp_path / "imported")
    run = bundles.import_bundle(bundle, allow_mismatch=True, into=tmp_path / "imported")
    assert run.mismatch.startswith("made with other code")
    assert "made with other code" in pages.imported_label(run) and "need not match" in pages.imported_header(run, "Toy")
    page = pages.claims_page({}, [run])
    assert "paper profile (imported)" in page and "+0.2 [+0.1, +0.3]" in page


def test_an_unfinished_or_missing_run_is_not_packed(tmp_path):
    with pytest.raises(bundles.BundleError, match="no published run of toy_alignment"):
        bundles.pack("toy_alignment", tmp_path / "nothing")
    with pytest.raises(bundles.BundleError, match="unknown notebook"):
        bundles.pack("no_such_chapter", tmp_path)
    with pytest.raises(bundles.BundleError, match="cannot be read"):
        (tmp_path / "junk.tar.gz").write_bytes(b"junk")
        bundles.import_bundle(tmp_path / "junk.tar.gz", into=tmp_path / "imported")


def test_the_staged_book_lists_imported_runs_in_its_table_of_contents(tmp_path, monkeypatch):
    _publish(tmp_path / "elsewhere", profile="paper")
    bundle = bundles.pack("toy_alignment", tmp_path / "elsewhere", tmp_path / "run.tar.gz")
    monkeypatch.setattr(bundles, "IMPORTED", tmp_path / "imported")
    run = bundles.import_bundle(bundle)
    stage = tmp_path / "stage"
    stage.mkdir()
    (stage / "_toc.yml").write_text((pipeline.BOOK / "_toc.yml").read_text())
    pipeline.stage_imported(stage)
    assert f"imported/toy_alignment--{run.label}" in (stage / "_toc.yml").read_text()
    staged = nbformat.read(stage / "imported" / f"toy_alignment--{run.label}.ipynb", as_version=4)
    assert staged.cells[0].source.startswith(":::{admonition} Imported run:")
    assert "| `toy_alignment` |" in (stage / "imported.md").read_text()
