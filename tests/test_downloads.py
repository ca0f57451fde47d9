"""The downloader: verified, cached, never keeps a corrupt or partial file, and says what failed where."""

import hashlib

import pytest

from superposition.data import downloads


def manifest(folder, source, sha256, size, name="thing"):
    folder.mkdir(exist_ok=True)
    (folder / "test.yaml").write_text(
        f"entries:\n  - name: {name}\n    url: {source.as_uri()}\n    filename: thing.bin\n"
        f"    size: {size}\n    sha256: {sha256}\n    licence: CC0\n"
    )
    return folder


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv(downloads.CACHE_ENV, str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_fetch_downloads_verifies_and_reuses(tmp_path, cache):
    source = tmp_path / "source.bin"
    source.write_bytes(b"payload" * 100)
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    folder = manifest(tmp_path / "m", source, digest, 700)
    path = downloads.fetch("thing", folder)
    assert path == cache / "downloads" / "thing.bin" and path.read_bytes() == source.read_bytes()
    source.unlink()  # a second fetch uses the verified cached copy
    assert downloads.fetch("thing", folder) == path


def test_a_checksum_mismatch_names_the_entry_the_checksum_and_the_cache_path_and_keeps_nothing(tmp_path, cache):
    source = tmp_path / "source.bin"
    source.write_bytes(b"corrupted payload")
    folder = manifest(tmp_path / "m", source, "ab" * 32, "null")
    with pytest.raises(downloads.DownloadError) as error:
        downloads.fetch("thing", folder)
    message = str(error.value)
    assert "thing (test.yaml)" in message and "ab" * 32 in message and str(cache / "downloads") in message
    assert list((cache / "downloads").iterdir()) == []


def test_a_truncated_download_is_rejected_by_size(tmp_path, cache):
    source = tmp_path / "source.bin"
    source.write_bytes(b"short")
    folder = manifest(tmp_path / "m", source, hashlib.sha256(b"short").hexdigest(), 999)
    with pytest.raises(downloads.DownloadError, match="has 5 bytes, expected 999"):
        downloads.fetch("thing", folder)
    assert list((cache / "downloads").iterdir()) == []


def test_a_missing_network_gives_a_clear_message(tmp_path, cache):
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "net.yaml").write_text(
        "entries:\n  - name: remote\n    url: http://127.0.0.1:9/none.bin\n    filename: none.bin\n    size: null\n"
        "    sha256: 0123456789abcdef\n    licence: CC0\n"
    )
    with pytest.raises(downloads.DownloadError, match=r"remote \(net.yaml\): could not download .* place the file there by hand \(expected sha256 0123456789abcdef"):
        downloads.fetch("remote", folder, timeout=5)
    assert list((cache / "downloads").iterdir()) == []


def test_a_published_prefix_is_checked_and_the_full_digest_recorded(tmp_path, cache):
    source = tmp_path / "source.bin"
    source.write_bytes(b"weights")
    digest = hashlib.sha256(b"weights").hexdigest()
    folder = manifest(tmp_path / "m", source, digest[:8], "null")
    path = downloads.fetch("thing", folder)
    assert (path.parent / "thing.bin.sha256").read_text().strip() == digest
    path.write_bytes(b"weightz")  # corrupted in the cache: detected against the recorded digest, fetched again
    assert downloads.fetch("thing", folder).read_bytes() == b"weights"


def test_bad_manifests_are_rejected(tmp_path):
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "a.yaml").write_text("entries:\n  - name: x\n    url: u\n    filename: f\n    sha256: xyz\n    licence: l\n")
    with pytest.raises(ValueError, match="needs a hex sha256"):
        downloads.load_manifests(folder)
    (folder / "a.yaml").write_text("entries:\n  - name: x\n    url: u\n")
    with pytest.raises(ValueError, match="lacks"):
        downloads.load_manifests(folder)
    with pytest.raises(KeyError, match="no manifest entry 'y'"):
        downloads.entry("y", tmp_path)


def test_the_project_manifests_declare_url_checksum_and_licence():
    entries = downloads.load_manifests()
    assert {"fashion-mnist-deb", "resnet50-imagenet1k-v1", "resnet50-imagenet1k-v2", "vit-b-16-imagenet1k-v1"} <= set(entries)
    assert len(entries["fashion-mnist-deb"].sha256) == 64 and entries["fashion-mnist-deb"].size == 30900652


def test_without_a_published_checksum_the_first_download_is_recorded_and_enforced(tmp_path, cache):
    source = tmp_path / "source.bin"
    source.write_bytes(b"first release")
    folder = manifest(tmp_path / "m", source, "null", "null")
    path = downloads.fetch("thing", folder)
    assert (path.parent / "thing.bin.sha256").read_text().strip() == hashlib.sha256(b"first release").hexdigest()
    assert (path.parent / "thing.bin.size").read_text().strip() == "13"
    path.write_bytes(b"first releasX")  # same size, other content: caught, replaced by a fresh download
    source.write_bytes(b"first release")
    assert downloads.fetch("thing", folder).read_bytes() == b"first release"
    path.unlink()
    source.write_bytes(b"a changed file")  # the source changed since the first download: refused
    with pytest.raises(downloads.DownloadError, match="has 14 bytes, expected 13"):
        downloads.fetch("thing", folder)


def test_entries_with_terms_need_acceptance(tmp_path, cache, monkeypatch):
    source = tmp_path / "source.bin"
    source.write_bytes(b"data")
    folder = manifest(tmp_path / "m", source, "null", "null")
    text = (folder / "test.yaml").read_text() + "    terms: Sign the data-use agreement at https://example.org/terms.\n"
    (folder / "test.yaml").write_text(text)
    monkeypatch.delenv(downloads.TERMS_ENV, raising=False)
    with pytest.raises(downloads.DownloadError, match=r"terms you must accept first: Sign the data-use agreement.*SUPERPOSITION_ACCEPT_TERMS=test"):
        downloads.fetch("thing", folder)
    monkeypatch.setenv(downloads.TERMS_ENV, "other, test")
    assert downloads.fetch("thing", folder).read_bytes() == b"data"


def test_a_connection_that_stops_early_keeps_nothing(tmp_path, cache):
    import http.server
    import threading

    class Short(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.write(b"only a part")

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Short)
    threading.Thread(target=server.handle_request, daemon=True).start()
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "net.yaml").write_text(
        f"entries:\n  - name: remote\n    url: http://127.0.0.1:{server.server_port}/x.bin\n    filename: x.bin\n"
        "    size: null\n    sha256: null\n    licence: CC0\n"
    )
    with pytest.raises(downloads.DownloadError, match=r"stopped after 11 of 1,000 bytes"):
        downloads.fetch("remote", folder, timeout=10)
    server.server_close()
    assert list((cache / "downloads").iterdir()) == []


@pytest.mark.parametrize("filename", ["/etc/passwd", "../outside.bin", "a/../../b", "a\\..\\b", ""])
def test_a_manifest_file_name_cannot_escape_the_cache(tmp_path, filename):
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "bad.yaml").write_text(
        f"entries:\n  - name: escape\n    url: https://example.org/x\n    filename: '{filename}'\n    size: null\n    sha256: null\n    licence: CC0\n"
    )
    with pytest.raises(ValueError, match="needs a file name inside the cache folder"):
        downloads.load_manifests(folder)


def test_an_https_download_is_never_redirected_off_https():
    import io
    import urllib.error
    import urllib.request

    handler = downloads._NoDowngradeRedirect()
    request = urllib.request.Request("https://example.org/file.bin")
    for target in ("http://example.org/file.bin", "ftp://example.org/file.bin", "file:///etc/passwd"):
        with pytest.raises(urllib.error.HTTPError, match="refused redirect"):
            handler.redirect_request(request, io.BytesIO(), 302, "Found", {}, target)
    assert handler.redirect_request(request, io.BytesIO(), 302, "Found", {}, "https://mirror.example.org/file.bin").full_url.startswith("https://mirror")
    plain = urllib.request.Request("http://deb.example.org/a.deb")
    assert handler.redirect_request(plain, io.BytesIO(), 302, "Found", {}, "http://mirror.example.org/a.deb") is not None


def test_the_part_file_of_a_dead_download_is_removed_by_the_next_fetch(tmp_path, cache):
    import subprocess
    import sys

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True).stdout.strip()
    source = tmp_path / "source.bin"
    source.write_bytes(b"payload" * 10)
    folder = manifest(tmp_path / "m", source, hashlib.sha256(source.read_bytes()).hexdigest(), 70)
    (cache / "downloads").mkdir(parents=True)
    stale = cache / "downloads" / f"thing.bin.{dead}.part"
    stale.write_bytes(b"half a download")
    assert downloads.fetch("thing", folder).read_bytes() == source.read_bytes()
    assert not stale.exists() and sorted(p.name for p in (cache / "downloads").iterdir()) == ["thing.bin"]
