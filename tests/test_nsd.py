"""The NSD loader, read back from a miniature release written in the release's own formats."""

from pathlib import Path

import nibabel
import numpy as np
import pytest
from scipy.io import loadmat, savemat

from superposition.data import downloads, nsd


def write_fixture(root: str | Path, subject: int = 1, shape: tuple[int, int, int] = (6, 5, 4), n_sessions: int = 2, seed: int = 0) -> Path:
    """A miniature NSD release under ``root`` in exactly the release's formats (MATLAB v5 design,
    gzipped NIfTI-1 volumes, int16 betas x 300, 750 trials per session), for ``subject`` and its
    first ``n_sessions`` sessions; voxel responses are random. Returns ``root``."""
    rng = np.random.default_rng(seed)
    root = Path(root)
    affine = np.diag([1.8, 1.8, 1.8, 1.0])

    def save(relative: str, data: np.ndarray) -> None:
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        nibabel.save(nibabel.Nifti1Image(data, affine), path)

    subjectim = np.stack([rng.permutation(73000)[:10000] + 1 for _ in range(8)])
    shared = subjectim[subject - 1, rng.choice(10000, 1000, replace=False)]
    masterordering = rng.integers(1, 10001, size=30000)
    path = root / nsd.relative_path("design")
    path.parent.mkdir(parents=True, exist_ok=True)
    savemat(path, {"masterordering": masterordering[None, :], "subjectim": subjectim, "sharedix": np.sort(shared)[None, :]})
    labels = rng.integers(-1, 8, size=shape).astype(np.int32)
    for atlas in sorted({atlas for atlas, _ in nsd.ROIS.values()}):
        save(nsd.relative_path(atlas, subject), labels)
    save(nsd.relative_path("ncsnr", subject), rng.uniform(0.0, 1.5, size=shape).astype(np.float32))
    for session in range(1, n_sessions + 1):
        betas = np.round(rng.normal(0.0, 2.0, size=shape + (nsd.TRIALS_PER_SESSION,)) * nsd.BETA_SCALE).astype(np.int16)
        save(nsd.relative_path("betas", subject, session), betas)
    return root


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    return write_fixture(tmp_path_factory.mktemp("nsd"), subject=1, n_sessions=2)


def test_the_fixture_has_the_release_layout_and_formats(release):
    design = loadmat(release / "nsddata/experiments/nsd/nsd_expdesign.mat")
    assert design["masterordering"].shape == (1, 30000) and design["subjectim"].shape == (8, 10000) and design["sharedix"].shape == (1, 1000)
    betas = nibabel.load(release / "nsddata_betas/ppdata/subj01/func1pt8mm/betas_fithrf_GLMdenoise_RR/betas_session02.nii.gz")
    assert betas.shape == (6, 5, 4, 750) and betas.get_data_dtype() == np.int16
    assert (release / "nsddata/ppdata/subj01/func1pt8mm/roi/prf-visualrois.nii.gz").exists()


def test_responses_are_the_trial_averages_of_the_roi_voxels(release):
    out = nsd.load_responses(1, "V1v-hV4", sessions=[1, 2], root=release, zscore=False)
    # plain reference: every trial of both sessions, voxel by voxel, averaged per image
    labels = np.asanyarray(nibabel.load(release / "nsddata/ppdata/subj01/func1pt8mm/roi/prf-visualrois.nii.gz").dataobj)
    mask = (labels >= 1) & (labels <= 7)
    mat = loadmat(release / "nsddata/experiments/nsd/nsd_expdesign.mat")
    ids = mat["subjectim"][0, mat["masterordering"][0, :1500] - 1] - 1
    trials = np.concatenate([
        np.asanyarray(nibabel.load(release / f"nsddata_betas/ppdata/subj01/func1pt8mm/betas_fithrf_GLMdenoise_RR/betas_session0{s}.nii.gz").dataobj)[mask].T / 300.0
        for s in (1, 2)
    ])
    for image in out.nsd_ids[:25]:
        row = np.flatnonzero(out.nsd_ids == image)[0]
        np.testing.assert_allclose(out.betas[row], trials[ids == image].mean(axis=0), rtol=1e-5, atol=1e-6)
        assert out.n_trials[row] == (ids == image).sum()
    assert out.betas.shape == (len(np.unique(ids)), mask.sum()) and np.array_equal(out.voxels, np.argwhere(mask))
    assert out.shared.dtype == bool and np.array_equal(out.shared, np.isin(out.nsd_ids, mat["sharedix"].ravel() - 1))
    assert np.all((out.noise_ceiling >= 0) & (out.noise_ceiling < 1))


def test_zscoring_is_per_voxel_within_each_session(release):
    one = nsd.load_responses(1, "hV4", sessions=[1], root=release, zscore=True)
    single = nsd.load_responses(1, "hV4", sessions=[1], root=release, zscore=False)
    # z-scoring is an affine map per voxel, so it preserves each voxel's correlation across images
    for v in range(min(3, one.betas.shape[1])):
        assert np.corrcoef(one.betas[:, v], single.betas[:, v])[0, 1] == pytest.approx(1.0, abs=1e-6)


def test_noise_ceiling_formula():
    assert nsd.noise_ceiling(np.array([1.0]), np.array([3, 3, 3]))[0] == pytest.approx(1 / (1 + 1 / 3))
    assert nsd.noise_ceiling(np.array([0.0, 2.0]), np.array([1]))[0] == 0.0
    mixed = nsd.noise_ceiling(np.array([1.0]), np.array([3, 1]))[0]
    assert mixed == pytest.approx(1 / (1 + (1 / 3 + 1) / 2))


def test_bad_requests_name_what_is_allowed(release, tmp_path, monkeypatch):
    with pytest.raises(ValueError, match=r"subject must be one of \(1, 2, 5, 7\)"):
        nsd.relative_path("betas", 3, 1)
    with pytest.raises(ValueError, match="session must be an int in 1..40"):
        nsd.relative_path("betas", 1, 41)
    with pytest.raises(ValueError, match="roi must be one of"):
        nsd.roi_mask(1, "V9", root=release)
    with pytest.raises(ValueError, match="sessions must be distinct ints"):
        nsd.load_responses(1, "hV4", sessions=[1, 1], root=release)
    with pytest.raises(FileNotFoundError, match="must follow the release layout"):
        nsd.load_responses(1, "hV4", sessions=[3], root=release)
    monkeypatch.setenv(downloads.CACHE_ENV, str(tmp_path))
    monkeypatch.delenv(downloads.TERMS_ENV, raising=False)
    with pytest.raises(downloads.DownloadError, match="terms you must accept first.*SUPERPOSITION_ACCEPT_TERMS=nsd"):
        nsd.design()


def test_every_release_file_is_declared_in_the_manifest():
    entries = downloads.load_manifests()
    names = [nsd.manifest_name(nsd.relative_path("design")), nsd.manifest_name(nsd.STIMULI)]
    for s in nsd.SUBJECTS:
        names += [nsd.manifest_name(nsd.relative_path(kind, s)) for kind in ("prf-visualrois", "floc-faces", "streams", "ncsnr")]
        names += [nsd.manifest_name(nsd.relative_path("betas", s, session)) for session in range(1, 41)]
    assert set(names) <= set(entries)
    assert all(entries[n].terms and entries[n].url.startswith("https://natural-scenes-dataset.s3.amazonaws.com/") for n in names)
