"""The cross-validation protocol shared by the fold-based alignment metrics.

Every fold-based metric compares a *source* representation with a *target* representation
of the same stimuli, in that direction, and follows the same steps (Longon, Klindt & Khosla
2025, authors' code ``cest-andre/align-interp``):

1. Folds: ``sklearn.model_selection.KFold(n_splits=5, shuffle=True, random_state=42)``.
2. Dead units: a unit (column) that is constant, in particular all-zero, in the train part or
   in the test part of any fold is dropped. The decision is taken once over all folds, so every
   fold uses the same units. (The authors drop all-zero units; a constant non-zero unit has no
   correlation with anything either, so it is dropped too.)
3. Normalisation: within each fold, every column is centred and scaled to unit L2 norm,
   separately on the train part and on the test part, so that dot products are Pearson
   correlations.
4. A score per fold, summarised by :class:`FoldScores`.

Inputs are NumPy arrays or torch tensors of shape ``(n_samples, n_units)``. Computation runs in
torch (float64 unless asked otherwise) on the requested device; results are plain floats and
NumPy arrays.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.stats
import torch
from numpy.typing import NDArray
from sklearn.model_selection import KFold

from ..runtime import get_device

N_FOLDS = 5
SEED = 42
DTYPES = (torch.float64, torch.float32)

Fold = tuple[NDArray[np.int64], NDArray[np.int64]]


@dataclass(frozen=True)
class FoldScores:
    """Scores of one directional metric (source -> target) over cross-validation folds.

    Attributes
    ----------
    per_fold : np.ndarray, (n_folds,)
        The score on each fold's test part.
    mean : float
        Mean of ``per_fold``.
    sem : float
        Standard error of the mean over folds (``scipy.stats.sem``, ``ddof=1``).
    n_source_units, n_target_units : int
        Units used, after dropping dead ones.
    n_dropped_source, n_dropped_target : int
        Units dropped as dead (constant in the train or test part of some fold).
    alphas : np.ndarray or None
        Ridge only: the penalty chosen on each fold, ``(n_folds,)`` with one penalty shared by
        all targets, ``(n_folds, n_target_units)`` with one penalty per target.
    per_target : np.ndarray or None
        Ridge only: the score of every target unit on every fold, ``(n_folds, n_target_units)``
        (e.g. a voxel's Pearson r, for maps).
    """

    per_fold: NDArray[np.float64]
    mean: float
    sem: float
    n_source_units: int
    n_target_units: int
    n_dropped_source: int
    n_dropped_target: int
    alphas: NDArray[np.float64] | None = None
    per_target: NDArray[np.float64] | None = None


@dataclass(frozen=True)
class PreparedPair:
    """A validated (source, target) pair with dead units removed, and its folds.

    Attributes
    ----------
    source : torch.Tensor, (n_samples, n_source_units)
    target : torch.Tensor, (n_samples, n_target_units)
    folds : list of (train_index, test_index)
    n_dropped_source, n_dropped_target : int
    """

    source: torch.Tensor
    target: torch.Tensor
    folds: list[Fold]
    n_dropped_source: int
    n_dropped_target: int


def resolve_device(device: str | torch.device) -> torch.device:
    """The torch device for ``device``.

    Parameters
    ----------
    device : str or torch.device
        ``"cpu"``, ``"cuda"``, ``"auto"`` or a ``torch.device``.

    Returns
    -------
    torch.device
        The device.
    """
    if isinstance(device, torch.device):
        return device
    if not isinstance(device, str):
        raise ValueError(f"device must be 'cpu', 'cuda', 'auto' or a torch.device, got {device!r}")
    return get_device(device)


def check_dtype(dtype: torch.dtype) -> torch.dtype:
    """``dtype`` if it is torch.float64 or torch.float32, else a ValueError.

    Parameters
    ----------
    dtype : torch.dtype
        The precision asked for.

    Returns
    -------
    torch.dtype
        ``dtype``.
    """
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be torch.float64 or torch.float32, got {dtype!r}")
    return dtype


def as_matrix(
    data: Any, name: str, device: str | torch.device = "cpu", dtype: torch.dtype = torch.float64
) -> torch.Tensor:
    """Validate a 2-D array of finite real numbers and return it as a tensor.

    Parameters
    ----------
    data : array-like or torch.Tensor, (n_samples, n_units)
    name : str
        The argument's name, used in error messages.
    device, dtype : str or torch.device, torch.dtype
        Where and in which precision the tensor lives.

    Returns
    -------
    torch.Tensor, (n_samples, n_units), of ``dtype`` on ``device``.
    """
    dtype = check_dtype(dtype)
    if isinstance(data, torch.Tensor):
        tensor = data.detach()
    else:
        try:
            array = np.asarray(data)
        except (TypeError, ValueError) as err:
            raise ValueError(f"{name} must be a numeric array: {err}") from err
        if array.dtype == object or not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
            raise ValueError(f"{name} must be a numeric array, got dtype {array.dtype}")
        tensor = torch.from_numpy(np.ascontiguousarray(array))
    if tensor.is_complex():
        raise ValueError(f"{name} must be real, got a complex array")
    if tensor.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n_samples, n_units), got shape {tuple(tensor.shape)}")
    if tensor.shape[0] == 0 or tensor.shape[1] == 0:
        raise ValueError(f"{name} is empty: shape {tuple(tensor.shape)}")
    tensor = tensor.to(device=resolve_device(device), dtype=dtype)
    if not bool(torch.isfinite(tensor).all()):
        raise ValueError(f"{name} contains NaN or infinite values")
    return tensor


def check_pair(source: torch.Tensor, target: torch.Tensor) -> None:
    """Raise a ValueError unless ``source`` and ``target`` have the same number of samples.

    Parameters
    ----------
    source : torch.Tensor, (n_samples, n_source_units)
    target : torch.Tensor, (n_samples, n_target_units)
    """
    if source.shape[0] != target.shape[0]:
        raise ValueError(
            f"source and target must have the same number of samples (rows), "
            f"got source {source.shape[0]} and target {target.shape[0]}"
        )


def kfold_indices(n_samples: int, n_folds: int = N_FOLDS, seed: int = SEED) -> list[Fold]:
    """Train/test indices of ``KFold(n_splits=n_folds, shuffle=True, random_state=seed)``.

    Parameters
    ----------
    n_samples : int
        Number of samples (at least ``n_folds``).
    n_folds : int
        Number of folds (at least 2).
    seed : int
        Seed of the shuffle (non-negative).

    Returns
    -------
    list of (train_index, test_index), each an integer array; ``n_folds`` entries.
    """
    if isinstance(n_folds, bool) or not isinstance(n_folds, int | np.integer) or n_folds < 2:
        raise ValueError(f"n_folds must be an int >= 2, got {n_folds!r}")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    if n_samples < n_folds:
        raise ValueError(f"source and target have {n_samples} samples, fewer than n_folds={n_folds}")
    splitter = KFold(n_splits=int(n_folds), shuffle=True, random_state=int(seed))
    return [(train, test) for train, test in splitter.split(np.zeros((n_samples, 1)))]


def constant_columns(data: torch.Tensor) -> torch.Tensor:
    """Which columns are constant (all entries equal), e.g. all-zero.

    Parameters
    ----------
    data : torch.Tensor, (n_samples, n_units)

    Returns
    -------
    torch.Tensor of bool, (n_units,)
    """
    return data.amax(dim=0) == data.amin(dim=0)


def dead_units(data: torch.Tensor, folds: list[Fold]) -> torch.Tensor:
    """Units that are constant in the train part or the test part of any fold.

    Parameters
    ----------
    data : torch.Tensor, (n_samples, n_units)
    folds : list of (train_index, test_index)

    Returns
    -------
    torch.Tensor of bool, (n_units,): True for a dead unit.
    """
    n_samples, n_folds = data.shape[0], len(folds)
    fold_of = np.full(n_samples, -1, dtype=np.int64)
    for f, (train, test) in enumerate(folds):
        fold_of[test] = f
    partition = (fold_of >= 0).all() and all(len(train) + len(test) == n_samples for train, test in folds)
    if not partition:  # general folds: check every part directly
        dead = torch.zeros(data.shape[1], dtype=torch.bool, device=data.device)
        for train, test in folds:
            for part in (train, test):
                dead |= constant_columns(data.index_select(0, torch.as_tensor(part, device=data.device)))
        return dead
    # The test parts partition the samples (as KFold's do) and each train part is the rest, so
    # every train part contains another fold's test part: a unit constant on a train part is
    # constant on that test part too, and checking the test parts suffices (one pass).
    index = torch.as_tensor(fold_of, device=data.device)[:, None].expand_as(data)
    shape = (n_folds, data.shape[1])
    high = torch.full(shape, -torch.inf, dtype=data.dtype, device=data.device).scatter_reduce(0, index, data, "amax")
    low = torch.full(shape, torch.inf, dtype=data.dtype, device=data.device).scatter_reduce(0, index, data, "amin")
    return (high == low).any(dim=0)


def kept_units(data: Any, n_folds: int = N_FOLDS, seed: int = SEED) -> NDArray[np.bool_]:
    """Which units of one representation the fold-based metrics keep (step 2 on the metrics' folds).

    A unit is kept unless it is constant in the train part or the test part of some fold of
    :func:`kfold_indices` ``(n_samples, n_folds, seed)``, the folds every metric of a
    :func:`prepare_pair` uses: the count of kept units is the number of units (neurons or latents)
    a metric actually compares, which can be smaller than the number that vary over all samples.

    Parameters
    ----------
    data : array-like or torch.Tensor, (n_samples, n_units)
        The representation.
    n_folds, seed : int
        The folds (the metrics' defaults).

    Returns
    -------
    numpy.ndarray of bool, (n_units,)
        True for a unit the metrics keep.
    """
    x = as_matrix(data, "data")
    return (~dead_units(x, kfold_indices(x.shape[0], n_folds, seed))).numpy()


def normalize_columns(data: torch.Tensor) -> torch.Tensor:
    """Centre every column and scale it to unit L2 norm.

    Parameters
    ----------
    data : torch.Tensor, (n_samples, n_units), no constant column.

    Returns
    -------
    torch.Tensor, (n_samples, n_units): dot products of columns are Pearson correlations.
    """
    centred = data - data.mean(dim=0, keepdim=True)
    return centred / torch.linalg.vector_norm(centred, dim=0, keepdim=True)


def prepare_pair(
    source: Any,
    target: Any,
    n_folds: int = N_FOLDS,
    seed: int = SEED,
    device: str | torch.device = "cpu",
    dtype: torch.dtype = torch.float64,
) -> PreparedPair:
    """Validate a (source, target) pair, make the folds and drop dead units (steps 1-2).

    Parameters
    ----------
    source : array-like or torch.Tensor, (n_samples, n_source_units)
    target : array-like or torch.Tensor, (n_samples, n_target_units)
    n_folds, seed : int
        The folds are ``KFold(n_folds, shuffle=True, random_state=seed)``.
    device, dtype : str or torch.device, torch.dtype
        Where and in which precision to compute.

    Returns
    -------
    PreparedPair with tensors of shapes (n_samples, kept source units) and (n_samples, kept
    target units).
    """
    x = as_matrix(source, "source", device, dtype)
    y = as_matrix(target, "target", device, dtype)
    check_pair(x, y)
    folds = kfold_indices(x.shape[0], n_folds, seed)
    dead_x, dead_y = dead_units(x, folds), dead_units(y, folds)
    for name, dead in (("source", dead_x), ("target", dead_y)):
        if bool(dead.all()):
            raise ValueError(
                f"all {dead.numel()} units of {name} are dead (constant in the train or test part of some fold)"
            )
    return PreparedPair(
        source=x[:, ~dead_x],
        target=y[:, ~dead_y],
        folds=folds,
        n_dropped_source=int(dead_x.sum()),
        n_dropped_target=int(dead_y.sum()),
    )


def fold_parts(data: torch.Tensor, fold: Fold) -> tuple[torch.Tensor, torch.Tensor]:
    """The train and test rows of ``data`` for one fold.

    Parameters
    ----------
    data : torch.Tensor, (n_samples, n_units)
    fold : (train_index, test_index)
        Row indices of the fold's two parts.

    Returns
    -------
    train, test : torch.Tensor, (n_train, n_units) and (n_test, n_units)
    """
    train, test = (torch.as_tensor(part, device=data.device) for part in fold)
    return data.index_select(0, train), data.index_select(0, test)


def summarize(
    per_fold: list[float] | NDArray[np.float64],
    pair: PreparedPair,
    alphas: NDArray[np.float64] | None = None,
) -> FoldScores:
    """Bundle per-fold scores into a :class:`FoldScores`; a non-finite score is an error.

    Parameters
    ----------
    per_fold : list of float or np.ndarray, (n_folds,)
        The score of each fold.
    pair : PreparedPair
        The pair scored (for its unit counts).
    alphas : np.ndarray, (n_folds,) or (n_folds, n_target_units), or None
        Chosen ridge penalties, if any.

    Returns
    -------
    FoldScores
    """
    scores = np.asarray(per_fold, dtype=np.float64)
    if not np.isfinite(scores).all():
        raise RuntimeError(f"a fold score is not finite: {scores}")
    return FoldScores(
        per_fold=scores,
        mean=float(scores.mean()),
        sem=float(scipy.stats.sem(scores)),
        n_source_units=int(pair.source.shape[1]),
        n_target_units=int(pair.target.shape[1]),
        n_dropped_source=pair.n_dropped_source,
        n_dropped_target=pair.n_dropped_target,
        alphas=alphas,
    )
