"""Figures without pyplot's global state, and saving that never leaves a half-written file."""

from __future__ import annotations

import os

from matplotlib.figure import Figure

from deepfin._files import save_figure


def new_figure(ncols: int = 1, nrows: int = 1, panel_size=(5.0, 4.0), projection: str | None = None):
    """A Figure of ``nrows x ncols`` panels and the flat list of its axes.

    Parameters
    ----------
    ncols : int, default 1
        Panels per row.
    nrows : int, default 1
        Rows of panels.
    panel_size : tuple of (float, float), default (5.0, 4.0)
        Each panel's width and height in inches.
    projection : str or None, default None
        The axes' projection (``"3d"``, ...).

    Returns
    -------
    fig : matplotlib.figure.Figure
        The figure, with constrained layout, not registered with pyplot.
    axes : list of matplotlib.axes.Axes
        Its panels, row by row.
    """
    fig = Figure(figsize=(panel_size[0] * ncols, panel_size[1] * nrows), layout="constrained")
    axes = [fig.add_subplot(nrows, ncols, i + 1, projection=projection) for i in range(nrows * ncols)]
    return fig, axes


def finish(fig: Figure, path: str | os.PathLike | None, title: str | None = None) -> Figure:
    """Add the title, save to ``path`` (PNG unless its suffix says otherwise) when given, return ``fig``.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure.
    path : str, os.PathLike or None
        Where to save it (never half-written); None saves nothing.
    title : str or None, default None
        The figure's title.

    Returns
    -------
    matplotlib.figure.Figure
        ``fig``.
    """
    if title:
        fig.suptitle(title)
    if path is not None:
        save_figure(fig, path)
    return fig
