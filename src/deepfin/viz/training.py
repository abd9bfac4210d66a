"""Training curves and fitted functions."""

from __future__ import annotations

import numpy as np

from deepfin.viz._figures import finish, new_figure


def plot_history(history, keys=None, log_scale: bool = False, path=None, title: str | None = None):
    """Loss and metric curves per epoch, one panel per quantity, validation dashed beside training.

    Parameters
    ----------
    history : History, dict, or dict of str to History or dict
        A ``History`` (what ``fit`` returns), its ``.history`` dict, or a mapping of labels to either, to compare
        several runs on the same panels (the learning-rate experiment of DataCamp's course *Introduction to Deep
        Learning in Python*).
    keys : list of str or None, default None
        The quantities to draw (without ``val_``); None draws every one logged.
    log_scale : bool, default False
        Put the loss panels on a log axis.
    path : str, os.PathLike or None, default None
        Where to save the figure; None saves nothing.
    title : str or None, default None
        The figure's title.

    Returns
    -------
    matplotlib.figure.Figure
        The figure.

    Raises
    ------
    ValueError
        If the history holds no logged quantities.
    TypeError
        If ``history`` is none of the above.

    Examples
    --------
    >>> from deepfin import viz
    >>> figure = viz.plot_history({"loss": [1.0, 0.5], "val_loss": [1.1, 0.7], "accuracy": [0.5, 0.7]})
    >>> [ax.get_ylabel() for ax in figure.axes]
    ['loss', 'accuracy']
    """
    runs = _as_runs(history)
    if keys is None:
        keys = list(dict.fromkeys(k for logs in runs.values() for k in logs if not k.startswith("val_")))
    if not keys:
        raise ValueError("The history holds no logged quantities to plot.")
    fig, axes = new_figure(ncols=len(keys))
    for ax, key in zip(axes, keys):
        for i, (label, logs) in enumerate(runs.items()):
            colour = f"C{i}"
            prefix = f"{label}: " if label else ""
            if key in logs:
                epochs = np.arange(1, len(logs[key]) + 1)
                ax.plot(epochs, logs[key], color=colour, label=f"{prefix}training")
            if f"val_{key}" in logs:
                epochs = np.arange(1, len(logs[f"val_{key}"]) + 1)
                ax.plot(epochs, logs[f"val_{key}"], color=colour, linestyle="--", label=f"{prefix}validation")
        ax.set_xlabel("epoch")
        ax.set_ylabel(key)
        if log_scale and "loss" in key:
            ax.set_yscale("log")
        ax.legend(fontsize="small")
    return finish(fig, path, title)


def plot_function_fit(x, target, fits: dict, xlabel: str = "x", ylabel: str = "f(x)", target_label: str = "target",
                      path=None, title: str | None = None):
    """A target function and one or more fitted curves on the same axes.

    The picture of *Machine Learning in Finance* (2019)'s universal approximator.

    Parameters
    ----------
    x : array_like
        The points.
    target : array_like
        The target function's values at ``x``.
    fits : dict of str to array_like
        Each fitted curve's values at ``x``, by legend label.
    xlabel, ylabel : str, default "x", "f(x)"
        The axes' labels.
    target_label : str, default "target"
        The target's legend label.
    path : str, os.PathLike or None, default None
        Where to save the figure; None saves nothing.
    title : str or None, default None
        The figure's title.

    Returns
    -------
    matplotlib.figure.Figure
        The figure.
    """
    x = np.ravel(x)
    fig, (ax,) = new_figure(panel_size=(7.0, 4.5))
    ax.plot(x, np.ravel(target), color="black", linewidth=2.5, label=target_label)
    for label, values in fits.items():
        ax.plot(x, np.ravel(values), linewidth=1.5, label=label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend()
    return finish(fig, path, title)


def _as_runs(history) -> dict:
    if hasattr(history, "history"):
        return {"": history.history}
    if isinstance(history, dict) and history and all(isinstance(v, list) for v in history.values()):
        return {"": history}
    if isinstance(history, dict):
        return {str(label): getattr(run, "history", run) for label, run in history.items()}
    raise TypeError(f"plot_history needs a History, its .history dict, or a dict of them. Received {type(history)}.")
