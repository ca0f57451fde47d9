"""Figure helpers shared by chapters. They draw what they are given and compute nothing new."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from numpy.typing import NDArray

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

    ``deltas``: (n_delta,); ``rhos``: (n_delta, n_rho) cell centres; ``success_rate``:
    (n_delta, n_rho). ``curves`` and ``points`` map a legend label to ``(x, y)``.
    """
    d_edges = _edges(deltas)
    for i in range(deltas.size):
        r_edges = _edges(rhos[i])
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


def _edges(centres: NDArray[np.float64]) -> NDArray[np.float64]:
    centres = np.asarray(centres, dtype=np.float64)
    mids = 0.5 * (centres[1:] + centres[:-1])
    return np.concatenate([[centres[0] - (mids[0] - centres[0])], mids, [centres[-1] + (centres[-1] - mids[-1])]])


def new_figure(n_cols: int = 1, width: float = 5.2, height: float = 4.2) -> tuple[Figure, list[Axes]]:
    """A figure with ``n_cols`` axes side by side."""
    fig, axes = plt.subplots(1, n_cols, figsize=(width * n_cols, height), squeeze=False)
    return fig, list(axes[0])
