"""Figure helpers shared by chapters. They draw what they are given and compute nothing new."""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from numpy.typing import NDArray

from ..metrics.compare import relative_change

PALETTE = sns.color_palette("colorblind")


def setup_style() -> None:
    """The book's plotting style."""
    sns.set_theme(context="notebook", style="whitegrid", palette=PALETTE)
    plt.rcParams.update({"figure.dpi": 110, "savefig.bbox": "tight", "axes.titleweight": "bold"})


def phase_diagram_heatmap(
    ax: Axes,
    deltas: NDArray[np.float64],
    rhos: NDArray[np.float64],
    success_rate: NDArray[np.float64],
    curves: dict[str, tuple[NDArray[np.float64], NDArray[np.float64]]],
    points: dict[str, tuple[NDArray[np.float64], NDArray[np.float64]]] | None = None,
    title: str = "",
) -> None:
    """Success probability over the (delta, rho) grid, with curves and points drawn over it.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Axes to draw on.
    deltas : (n_delta,) numpy.ndarray
        Cell centres along delta.
    rhos : (n_delta, n_rho) numpy.ndarray
        Cell centres along rho, per row.
    success_rate : (n_delta, n_rho) numpy.ndarray
        Success probability per cell.
    curves : dict of str to ((n,) numpy.ndarray, (n,) numpy.ndarray)
        Legend label -> ``(x, y)`` line.
    points : dict of str to ((n,) numpy.ndarray, (n,) numpy.ndarray) or None
        Legend label -> ``(x, y)`` markers.
    title : str
        Axes title.
    """
    d_edges = cell_edges(deltas)
    for i in range(deltas.size):
        r_edges = cell_edges(rhos[i])
        mesh = ax.pcolormesh(
            d_edges[i : i + 2], r_edges, success_rate[i][:, None], cmap="viridis", vmin=0, vmax=1, shading="flat"
        )
    styles = ["-", "--", ":", "-."]
    for (label, (x, y)), style in zip(curves.items(), styles):
        ax.plot(x, y, style, color="white" if style == "-" else "#ff7f0e", lw=2.2, label=label)
    for label, (x, y) in (points or {}).items():
        ax.plot(x, y, "o", ms=5, mfc="none", mec="red", mew=1.5, label=label)
    ax.set(xlim=(0, 1), ylim=(0, 1), xlabel=r"$\delta = M/N$", ylabel=r"$\rho = K/M$", title=title)
    ax.grid(False)
    ax.legend(loc="upper left", fontsize=8, framealpha=0.85)
    ax.figure.colorbar(mesh, ax=ax, label="P(recovery)")


def cell_edges(centres: NDArray[np.float64] | list[float]) -> NDArray[np.float64]:
    """Edges of the cells around ``centres``, for ``pcolormesh``.

    Parameters
    ----------
    centres : (n,) numpy.ndarray or list of float
        Cell centres.

    Returns
    -------
    (n + 1,) numpy.ndarray
        Cell edges.
    """
    centres = np.asarray(centres, dtype=np.float64)
    if centres.size == 1:
        return np.array([centres[0] - 0.05, centres[0] + 0.05])
    mids = 0.5 * (centres[1:] + centres[:-1])
    return np.concatenate([[centres[0] - (mids[0] - centres[0])], mids, [centres[-1] + (centres[-1] - mids[-1])]])


def new_figure(n_cols: int = 1, width: float = 5.2, height: float = 4.2, n_rows: int = 1) -> tuple[Figure, list[Axes]]:
    """A figure with ``n_cols`` axes side by side, in ``n_rows`` rows.

    Parameters
    ----------
    n_cols : int
        Number of axes per row.
    width : float
        Width per axes, in inches.
    height : float
        Height per row in inches.
    n_rows : int
        Number of rows.

    Returns
    -------
    fig : matplotlib.figure.Figure
        The figure.
    axes : list of matplotlib.axes.Axes
        Its ``n_rows * n_cols`` axes, row by row.
    """
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(width * n_cols, height * n_rows), squeeze=False, layout="constrained")
    return fig, list(axes.ravel())


def condition_bars(
    ax: Axes,
    groups: list[str],
    conditions: list[str],
    means: NDArray[np.float64],
    sems: NDArray[np.float64] | None = None,
    baseline: int | None = 0,
    title: str = "",
    ylabel: str = "",
    counts: list[list[str]] | None = None,
) -> None:
    """Grouped bars: one group per entry of ``groups`` (e.g. widths), one bar per condition.

    Error bars are ``sems`` (fold standard errors) where given and finite. With ``baseline`` set,
    every other bar is labelled with its change relative to the baseline condition of its group, in
    percent (as Paper A prints). With ``counts``, each bar carries a text at its foot (e.g. the
    units a metric compared).

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Axes to draw on.
    groups : (n_groups,) list of str
        Group labels.
    conditions : (n_conditions,) list of str
        Condition labels.
    means : (n_groups, n_conditions) numpy.ndarray
        Bar heights.
    sems : (n_groups, n_conditions) numpy.ndarray or None
        Error bars.
    baseline : int or None
        Index of the baseline condition, or None for no labels.
    title : str
        Axes title.
    ylabel : str
        Label of the y axis.
    counts : (n_groups, n_conditions) nested list of str or None
        Text written upwards inside each bar, from its foot.
    """
    means = np.asarray(means, dtype=float)
    n_groups, n_conditions = means.shape
    width = 0.8 / n_conditions
    x = np.arange(n_groups)
    for c, (label, color) in enumerate(zip(conditions, PALETTE)):
        positions = x - 0.4 + width * (c + 0.5)
        err = None if sems is None else np.where(np.isfinite(sems[:, c]), sems[:, c], 0.0)
        ax.bar(positions, means[:, c], width * 0.92, yerr=err, capsize=2, color=color, label=label)
        if baseline is not None and c != baseline:
            change = relative_change(means[:, c], means[:, baseline])
            for p, m, ch in zip(positions, means[:, c], change):
                ax.annotate(f"{ch:+.0f}%", (p, max(m, 0.0)), xytext=(0, 2), textcoords="offset points",
                            ha="center", va="bottom", fontsize=6, rotation=90)  # fmt: skip
        for g, p in enumerate(positions if counts is not None else []):
            ax.annotate(counts[g][c], (p, 0.0), xytext=(0, 2), textcoords="offset points", ha="center", va="bottom", fontsize=6, rotation=90)
    ax.set_xticks(x, groups)
    ax.set(title=title, ylabel=ylabel)
    ax.title.set_fontsize(9)
    top = np.nanmax(means)
    ax.set_ylim(min(0.0, np.nanmin(means) * 1.1), max(1.0, top * 1.25))


def change_grid(
    ax: Axes,
    sources: list[str],
    targets: list[str],
    change: NDArray[np.float64],
    low: NDArray[np.float64],
    high: NDArray[np.float64],
    limit: float,
    title: str = "",
) -> Any:
    """A heat map of changes over (source, target) pairs, each cell labelled with its interval.

    Blue below zero, red above (a diverging map, symmetric about zero); a cell whose interval lies
    wholly on one side of zero is labelled in bold; cells without a value (NaN) stay blank.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Axes to draw on.
    sources : (n_sources,) list of str
        Row labels.
    targets : (n_targets,) list of str
        Column labels.
    change : (n_sources, n_targets) numpy.ndarray
        The change per pair (NaN: no pair).
    low, high : (n_sources, n_targets) numpy.ndarray
        Ends of its interval.
    limit : float
        The colour scale runs from ``-limit`` to ``limit``.
    title : str
        Axes title.

    Returns
    -------
    matplotlib.image.AxesImage
        The image (for a colour bar).
    """
    image = ax.imshow(np.ma.masked_invalid(change), cmap="RdBu_r", vmin=-limit, vmax=limit, aspect="auto")
    for i, j in zip(*np.nonzero(np.isfinite(change))):
        decided = low[i, j] > 0 or high[i, j] < 0
        ax.text(j, i, f"{change[i, j]:+.3f}\n[{low[i, j]:+.2f}, {high[i, j]:+.2f}]", ha="center", va="center", fontsize=6.5,
                fontweight="bold" if decided else "normal")  # fmt: skip
    ax.set_xticks(range(len(targets)), targets, rotation=30, ha="right", fontsize=8)
    ax.set_yticks(range(len(sources)), sources, fontsize=8)
    ax.set(xlabel="target", ylabel="source", title=title)
    ax.title.set_fontsize(9)
    ax.grid(False)
    return image
