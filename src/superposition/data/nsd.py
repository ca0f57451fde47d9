"""The Natural Scenes Dataset (Allen et al. 2022) as Paper A used it: betas, ROIs, noise ceilings.

NSD is released under data-use terms (https://naturalscenesdataset.org), on a public bucket; the
files this module reads are declared in ``data_manifests/nsd.yaml`` and fetched, verified and
cached by :func:`superposition.data.downloads.fetch` once the terms are accepted, or read from a local
copy of the release (``root``). The release layout, relative to its root::

    nsddata/experiments/nsd/nsd_expdesign.mat
        masterordering (1, 30000): trial -> 1-based index into the subject's 10,000 images
        subjectim (8, 10000): the subject's images as 1-based NSD ids (1..73,000)
        sharedix (1, 1000): 1-based NSD ids of the images every subject saw
    nsddata/ppdata/subjNN/func1pt8mm/roi/{prf-visualrois,floc-faces,streams}.nii.gz
        integer labels per voxel (0: outside the ROI set, -1: outside the brain)
    nsddata_betas/ppdata/subjNN/func1pt8mm/betas_fithrf_GLMdenoise_RR/betas_sessionSS.nii.gz
        (X, Y, Z, 750) int16 single-trial betas, percent signal change x 300
    nsddata_betas/ppdata/subjNN/func1pt8mm/betas_fithrf_GLMdenoise_RR/ncsnr.nii.gz
        (X, Y, Z) noise-ceiling signal-to-noise ratio

:func:`load_responses` reads one subject's betas in one ROI, session by session (z-scored per
voxel within each session, as NSD recommends, or raw), and averages the repeats of each image;
:func:`noise_ceiling` turns ``ncsnr`` into the fraction of variance a perfect model could
explain given how many trials were averaged (Allen et al. 2022).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import downloads

SUBJECTS = (1, 2, 5, 7)
"""The subjects who completed all 40 sessions (Paper A's split file covers these four)."""
N_SESSIONS = 40
TRIALS_PER_SESSION = 750
BETA_SCALE = 300.0
STIMULI = "nsddata_stimuli/stimuli/nsd/nsd_stimuli.hdf5"
"""The 73,000 images (dataset ``imgBrick``: (73000, 425, 425, 3) uint8), about 37 GB."""
ROIS: dict[str, tuple[str, tuple[int, ...]]] = {
    "V1v-hV4": ("prf-visualrois", (1, 2, 3, 4, 5, 6, 7)),
    "V1v": ("prf-visualrois", (1,)),
    "V2v": ("prf-visualrois", (3,)),
    "V3v": ("prf-visualrois", (5,)),
    "hV4": ("prf-visualrois", (7,)),
    "FFA": ("floc-faces", (2, 3)),
    "ventral": ("streams", (5,)),
}
"""ROI name -> (atlas file, labels). prf-visualrois: 1 V1v, 2 V1d, 3 V2v, 4 V2d, 5 V3v, 6 V3d,
7 hV4; floc-faces: 2 FFA-1, 3 FFA-2; streams: 5 ventral."""


def relative_path(kind: str, subject: int | None = None, session: int | None = None) -> str:
    """The path of one release file relative to the release root.

    Parameters
    ----------
    kind : str
        ``"design"``, ``"ncsnr"``, ``"betas"`` (with ``session``), or an atlas name
        (``"prf-visualrois"``, ``"floc-faces"``, ``"streams"``).
    subject : int or None
        Subject, one of :data:`SUBJECTS` (not needed for ``"design"``).
    session : int or None
        Session in 1..N_SESSIONS (for ``"betas"``).

    Returns
    -------
    str
        The relative path.
    """
    if kind == "design":
        return "nsddata/experiments/nsd/nsd_expdesign.mat"
    if subject not in SUBJECTS:
        raise ValueError(f"subject must be one of {SUBJECTS}; got {subject!r}")
    betas = f"nsddata_betas/ppdata/subj{subject:02d}/func1pt8mm/betas_fithrf_GLMdenoise_RR"
    if kind == "ncsnr":
        return f"{betas}/ncsnr.nii.gz"
    if kind == "betas":
        if not (isinstance(session, int) and 1 <= session <= N_SESSIONS):
            raise ValueError(f"session must be an int in 1..{N_SESSIONS}; got {session!r}")
        return f"{betas}/betas_session{session:02d}.nii.gz"
    atlases = sorted({atlas for atlas, _ in ROIS.values()})
    if kind in atlases:
        return f"nsddata/ppdata/subj{subject:02d}/func1pt8mm/roi/{kind}.nii.gz"
    raise ValueError(f"kind must be 'design', 'ncsnr', 'betas' or one of {atlases}; got {kind!r}")


def manifest_name(relative: str) -> str:
    """The ``data_manifests/nsd.yaml`` entry name of a release file.

    Parameters
    ----------
    relative : str
        Path relative to the release root.

    Returns
    -------
    str
        ``"nsd:" + relative``.
    """
    return "nsd:" + relative


def locate(relative: str, root: str | Path | None = None, accept_terms: bool = False) -> Path:
    """A release file: ``root / relative`` for a local copy of the release, else fetched from the manifest.

    Fetching (verified, cached) needs the NSD terms accepted.

    Parameters
    ----------
    relative : str
        Path relative to the release root.
    root : str or pathlib.Path or None
        A local copy of the release, in the release layout; None fetches.
    accept_terms : bool
        Accept the NSD data-use terms for the download.

    Returns
    -------
    pathlib.Path
        Path of the file.
    """
    if root is not None:
        path = Path(root).expanduser() / relative
        if not path.exists():
            raise FileNotFoundError(f"{path} is missing: the NSD copy at {root} must follow the release layout (see superposition.data.nsd)")
        return path
    return downloads.fetch(manifest_name(relative), accept_terms=accept_terms)


@dataclass(frozen=True)
class Design:
    """The NSD experimental design, 0-based.

    Attributes
    ----------
    masterordering : (30000,) numpy.ndarray
        Trial -> index into a subject's images.
    subjectim : (8, 10000) numpy.ndarray
        NSD ids per subject.
    sharedix : (1000,) numpy.ndarray
        NSD ids of the shared images.
    """

    masterordering: np.ndarray
    subjectim: np.ndarray
    sharedix: np.ndarray

    def trial_ids(self, subject: int, n_trials: int) -> np.ndarray:
        """NSD ids (0-based) of the first ``n_trials`` trials of ``subject``.

        Parameters
        ----------
        subject : int
            Subject (1-based).
        n_trials : int
            Number of trials.

        Returns
        -------
        (n_trials,) numpy.ndarray
            NSD ids.
        """
        return self.subjectim[subject - 1, self.masterordering[:n_trials]]


def design(root: str | Path | None = None, accept_terms: bool = False) -> Design:
    """Read ``nsd_expdesign.mat`` (MATLAB v5 file) into a 0-based :class:`Design`.

    Parameters
    ----------
    root : str or pathlib.Path or None
        A local copy of the release; None fetches (:func:`locate`).
    accept_terms : bool
        Accept the NSD data-use terms for the download.

    Returns
    -------
    Design
        The design.
    """
    from scipy.io import loadmat

    mat = loadmat(locate(relative_path("design"), root, accept_terms))
    return Design(
        masterordering=mat["masterordering"].ravel().astype(np.int64) - 1,
        subjectim=mat["subjectim"].astype(np.int64) - 1,
        sharedix=mat["sharedix"].ravel().astype(np.int64) - 1,
    )


def _volume(path: Path) -> np.ndarray:
    import nibabel

    return np.asanyarray(nibabel.load(path).dataobj)


def roi_mask(subject: int, roi: str, root: str | Path | None = None, accept_terms: bool = False) -> np.ndarray:
    """Boolean mask of ``roi`` for ``subject``.

    Parameters
    ----------
    subject : int
        Subject.
    roi : str
        A key of :data:`ROIS`.
    root : str or pathlib.Path or None
        A local copy of the release; None fetches.
    accept_terms : bool
        Accept the NSD data-use terms for the download.

    Returns
    -------
    (X, Y, Z) numpy.ndarray
        Boolean mask.
    """
    if roi not in ROIS:
        raise ValueError(f"roi must be one of {sorted(ROIS)}; got {roi!r}")
    atlas, labels = ROIS[roi]
    return np.isin(_volume(locate(relative_path(atlas, subject), root, accept_terms)), labels)


def noise_ceiling(ncsnr: np.ndarray, n_trials: np.ndarray) -> np.ndarray:
    """Noise ceiling (fraction of variance, 0..1) of trial-averaged responses (Allen et al. 2022).

    ``ncsnr^2 / (ncsnr^2 + mean(1 / n_trials))``. Its square root bounds the Pearson r of any model.

    Parameters
    ----------
    ncsnr : (n_voxels,) numpy.ndarray
        Noise-ceiling signal-to-noise ratio per voxel.
    n_trials : (n_images,) numpy.ndarray
        Trials averaged per image.

    Returns
    -------
    (n_voxels,) numpy.ndarray
        Noise ceiling.
    """
    snr2 = np.asarray(ncsnr, dtype=np.float64) ** 2
    return snr2 / (snr2 + float(np.mean(1.0 / np.asarray(n_trials, dtype=np.float64))))


@dataclass(frozen=True)
class Responses:
    """One subject's responses in one ROI.

    Attributes
    ----------
    betas : (n_images, n_voxels) numpy.ndarray
        float32, averaged over each image's trials.
    nsd_ids : (n_images,) numpy.ndarray
        0-based NSD ids, sorted.
    n_trials : (n_images,) numpy.ndarray
        Trials averaged.
    shared : (n_images,) numpy.ndarray
        Boolean, the image is one of the 1,000 every subject saw.
    voxels : (n_voxels, 3) numpy.ndarray
        Voxel indices in the (X, Y, Z) volume.
    ncsnr : (n_voxels,) numpy.ndarray
        Noise-ceiling SNR.
    noise_ceiling : (n_voxels,) numpy.ndarray
        Fraction of variance.
    """

    betas: np.ndarray
    nsd_ids: np.ndarray
    n_trials: np.ndarray
    shared: np.ndarray
    voxels: np.ndarray
    ncsnr: np.ndarray
    noise_ceiling: np.ndarray


def load_responses(
    subject: int,
    roi: str,
    sessions: Sequence[int] = tuple(range(1, N_SESSIONS + 1)),
    root: str | Path | None = None,
    zscore: bool = True,
    accept_terms: bool = False,
) -> Responses:
    """Trial-averaged betas of ``subject`` in ``roi`` over ``sessions`` (see :class:`Responses`).

    Each session file is read once, cut to the ROI's voxels and (with ``zscore``) z-scored per voxel
    over its 750 trials; the trials of each image are then averaged.

    Parameters
    ----------
    subject : int
        Subject.
    roi : str
        A key of :data:`ROIS`.
    sessions : sequence of int
        Distinct sessions in 1..N_SESSIONS.
    root : str or pathlib.Path or None
        A local copy of the release; None fetches.
    zscore : bool
        z-score each voxel per session.
    accept_terms : bool
        Accept the NSD data-use terms for the download.

    Returns
    -------
    Responses
        The responses.
    """
    sessions = list(sessions)
    if not sessions or any(not (isinstance(s, int) and 1 <= s <= N_SESSIONS) for s in sessions) or len(set(sessions)) != len(sessions):
        raise ValueError(f"sessions must be distinct ints in 1..{N_SESSIONS}; got {sessions}")
    mask = roi_mask(subject, roi, root, accept_terms)
    if not mask.any():
        raise ValueError(f"roi {roi!r} has no voxel for subject {subject}")
    plan = design(root, accept_terms)
    ids, parts = [], []
    for session in sessions:
        volume = _volume(locate(relative_path("betas", subject, session), root, accept_terms))
        if volume.shape[:3] != mask.shape or volume.shape[3] != TRIALS_PER_SESSION:
            raise ValueError(f"session {session} of subject {subject} has shape {volume.shape}; expected {mask.shape + (TRIALS_PER_SESSION,)}")
        values = volume[mask].T.astype(np.float32)  # (750, n_voxels)
        if np.issubdtype(volume.dtype, np.integer):
            values /= BETA_SCALE
        if zscore:
            spread = values.std(axis=0)
            values = (values - values.mean(axis=0)) / np.where(spread > 0, spread, 1.0)
        parts.append(values)
        first = (session - 1) * TRIALS_PER_SESSION
        ids.append(plan.trial_ids(subject, first + TRIALS_PER_SESSION)[first:])
    trials, trial_ids = np.concatenate(parts), np.concatenate(ids)
    nsd_ids, inverse, n_trials = np.unique(trial_ids, return_inverse=True, return_counts=True)
    sums = np.zeros((len(nsd_ids), trials.shape[1]), dtype=np.float64)
    np.add.at(sums, inverse, trials)
    snr = _volume(locate(relative_path("ncsnr", subject), root, accept_terms))[mask].astype(np.float64)
    return Responses(
        betas=(sums / n_trials[:, None]).astype(np.float32),
        nsd_ids=nsd_ids,
        n_trials=n_trials,
        shared=np.isin(nsd_ids, plan.sharedix),
        voxels=np.argwhere(mask),
        ncsnr=snr,
        noise_ceiling=noise_ceiling(snr, n_trials),
    )


def stimuli(nsd_ids: Sequence[int], root: str | Path | None = None, accept_terms: bool = False) -> np.ndarray:
    """The images of ``nsd_ids`` (0-based), in that order.

    Needs h5py (the ``full`` extra); reads only the requested images from the 37 GB file.

    Parameters
    ----------
    nsd_ids : (n,) sequence of int
        NSD ids.
    root : str or pathlib.Path or None
        A local copy of the release; None fetches.
    accept_terms : bool
        Accept the NSD data-use terms for the download.

    Returns
    -------
    (n, 425, 425, 3) numpy.ndarray
        uint8 images.
    """
    try:
        import h5py
    except ImportError as error:
        raise ImportError("reading the NSD stimuli needs h5py: pip install -c constraints.txt -e '.[full]'") from error
    unique, inverse = np.unique(np.asarray(nsd_ids, dtype=np.int64), return_inverse=True)
    with h5py.File(locate(STIMULI, root, accept_terms), "r") as handle:
        brick = handle["imgBrick"]
        if unique.size and (unique[0] < 0 or unique[-1] >= brick.shape[0]):
            raise ValueError(f"nsd_ids must lie in 0..{brick.shape[0] - 1}")
        images = brick[unique]  # h5py reads strictly increasing indices
    return images[inverse]
