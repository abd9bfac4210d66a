"""Plots of an out-of-sample evaluation and its backtest."""

from __future__ import annotations

import numpy as np
import pandas as pd
from skfolio import measures

from deepfin.viz._figures import finish, new_figure


def plot_auc_by_window(table: pd.DataFrame, overall: float, interval: tuple[float, float], path=None,
                       title: str | None = None):
    """ROC AUC of each walk-forward test window, chance at 0.5, and the pooled AUC with its interval.

    Parameters
    ----------
    table : pd.DataFrame
        One row per window, with columns ``window`` (its number), ``auc`` and ``test`` (its dates, ``"start to
        end"``).
    overall : float
        The pooled AUC.
    interval : tuple of (float, float)
        Its confidence interval.
    path : str, os.PathLike or None, default None
        Where to save the figure; None saves nothing.
    title : str or None, default None
        The figure's title.

    Returns
    -------
    matplotlib.figure.Figure
        The figure.
    """
    fig, (ax,) = new_figure(panel_size=(max(6.0, 0.35 * len(table)), 4.0))
    ax.bar(table["window"], table["auc"] - 0.5, bottom=0.5, color="tab:blue", alpha=0.7, label="test window")
    ax.axhline(0.5, color="black", lw=1, label="chance")
    ax.axhspan(*interval, color="tab:orange", alpha=0.25, label=f"pooled {overall:.3f} [{interval[0]:.3f}, "
                                                                 f"{interval[1]:.3f}]")
    ax.axhline(overall, color="tab:orange", lw=1.5)
    ax.set_xticks(table["window"], [label.split(" to ")[0][:7] for label in table["test"]], rotation=90,
                  fontsize=7)
    ax.set(xlabel="test window (first date)", ylabel="ROC AUC")
    ax.legend(loc="upper left", fontsize=8)
    return finish(fig, path, title)


def plot_ic_by_window(ic: pd.Series, window_of: pd.Series, names: list[str] | None = None, path=None,
                      title: str | None = None):
    """Mean rank information coefficient of each walk-forward test window: alphalens's IC, by window.

    Each bar carries two standard errors of the window's per-date ICs; zero and the mean over all dates are
    drawn across.

    Parameters
    ----------
    ic : pd.Series
        The rank IC of each date.
    window_of : pd.Series
        Maps each date to its window.
    names : list of str or None, default None
        Labels of the windows, by window number.
    path : str, os.PathLike or None, default None
        Where to save the figure; None saves nothing.
    title : str or None, default None
        The figure's title.

    Returns
    -------
    matplotlib.figure.Figure
        The figure.
    """
    by_window = ic.groupby(window_of.reindex(ic.index).to_numpy()).agg(["mean", "std", "count"])
    fig, (ax,) = new_figure(panel_size=(max(6.0, 0.35 * len(by_window)), 4.0))
    error = 2 * by_window["std"].fillna(0.0) / np.sqrt(by_window["count"])
    ax.bar(by_window.index, by_window["mean"], yerr=error, color="tab:purple", alpha=0.7, capsize=2,
           label="window mean, +/- 2 s.e.")
    ax.axhline(0.0, color="black", lw=1)
    ax.axhline(ic.mean(), color="tab:orange", lw=1.5, label=f"mean over all dates {ic.mean():+.4f}")
    if names is not None:
        ax.set_xticks(by_window.index, [names[int(w)] for w in by_window.index], rotation=90, fontsize=7)
    ax.set(xlabel="test window (first date)", ylabel="rank IC (Spearman)")
    ax.legend(loc="upper left", fontsize=8)
    return finish(fig, path, title)


def plot_equity_curves(returns: pd.DataFrame, path=None, title: str | None = None, log_scale: bool = True):
    """Growth of $1 (compounded) and drawdowns of each column of per-period returns.

    Parameters
    ----------
    returns : pd.DataFrame
        Per-period returns, one column per strategy (missing values count as 0).
    path : str, os.PathLike or None, default None
        Where to save the figure; None saves nothing.
    title : str or None, default None
        The figure's title.
    log_scale : bool, default True
        Draw the growth on a log axis.

    Returns
    -------
    matplotlib.figure.Figure
        The figure.
    """
    fig, (growth, drawdown) = new_figure(nrows=2, panel_size=(9.0, 3.5))
    for name, series in returns.items():
        r = series.fillna(0.0).to_numpy()
        growth.plot(series.index, measures.get_cumulative_returns(r, compounded=True), label=name, lw=1.2)
        drawdown.plot(series.index, measures.get_drawdowns(r, compounded=True), label=name, lw=1.0)
    growth.set(ylabel="growth of $1", yscale="log" if log_scale else "linear")
    drawdown.set(ylabel="drawdown", xlabel="date")
    growth.legend(fontsize=8)
    for ax in (growth, drawdown):
        ax.grid(alpha=0.3)
    return finish(fig, path, title)


def plot_decile_returns(deciles: pd.Series, period: str = "period", path=None, title: str | None = None):
    """Mean next-period return (in %) of each decile of predicted probability; a working model rises left to right.

    Parameters
    ----------
    deciles : pd.Series
        The mean next-period return of each decile (1 = lowest), as a fraction.
    period : str, default "period"
        The period's name in the axis label (``"month"``, ...).
    path : str, os.PathLike or None, default None
        Where to save the figure; None saves nothing.
    title : str or None, default None
        The figure's title.

    Returns
    -------
    matplotlib.figure.Figure
        The figure.
    """
    fig, (ax,) = new_figure(panel_size=(6.0, 4.0))
    values = 100 * deciles.to_numpy()
    ax.bar(deciles.index, values, color=np.where(values >= 0, "tab:green", "tab:red"))
    ax.axhline(100 * deciles.mean(), color="black", lw=1, ls="--", label="mean of all deciles")
    ax.set(xlabel="decile of predicted probability (1 = lowest)", ylabel=f"mean next-{period} return (%)",
           xticks=list(deciles.index))
    ax.legend(fontsize=8)
    return finish(fig, path, title)


def plot_importance(importance: pd.DataFrame, path=None, title: str | None = None):
    """Scaled feature importance, one bar panel per model.

    Parameters
    ----------
    importance : pd.DataFrame
        Rows: features in their order; columns: models.
    path : str, os.PathLike or None, default None
        Where to save the figure; None saves nothing.
    title : str or None, default None
        The figure's title.

    Returns
    -------
    matplotlib.figure.Figure
        The figure.
    """
    fig, axes = new_figure(nrows=importance.shape[1], panel_size=(9.0, 2.2))
    for ax, (name, values) in zip(axes, importance.items()):
        ax.bar(range(len(values)), values.to_numpy(), color="tab:blue", alpha=0.8)
        ax.set_xticks(range(len(values)), list(importance.index), rotation=90, fontsize=7)
        ax.set(ylabel=f"{name}\nshare", xlim=(-0.6, len(values) - 0.4))
        ax.grid(alpha=0.3, axis="y")
    return finish(fig, path, title)
