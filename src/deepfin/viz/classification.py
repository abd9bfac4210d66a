"""Pictures of classifiers: decision boundaries, hidden representations, confusion matrices, ROC curves."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import ConfusionMatrixDisplay, RocCurveDisplay

from deepfin.viz._figures import finish, new_figure

_CMAP = "Spectral"


def plot_decision_boundary(model, X, y, ax=None, resolution: int = 200, path=None, title: str | None = None):
    """Predicted class over the plane of two input features, with the points coloured by true class.

    Parameters
    ----------
    model : Model
        A model of two inputs; its outputs become labels as ``predicted_labels`` says.
    X : array_like of shape (n, 2)
        The points.
    y : array_like
        Their true classes (0, 1, ...).
    ax : matplotlib.axes.Axes or None, default None
        The panel to draw on; None makes a new figure.
    resolution : int, default 200
        Grid points per axis at which the model predicts.
    path : str, os.PathLike or None, default None
        Where to save the figure (PNG unless the suffix names another format); None saves nothing.
    title : str or None, default None
        The panel's title.

    Returns
    -------
    matplotlib.figure.Figure
        The figure of the panel.

    Raises
    ------
    ValueError
        If ``X`` does not have 2 columns.
    """
    X, y = _two_features(X), np.ravel(y)
    fig = None
    if ax is None:
        fig, (ax,) = new_figure()
    pad = 0.1 * (X.max(axis=0) - X.min(axis=0))
    lo, hi = X.min(axis=0) - pad, X.max(axis=0) + pad
    xx, yy = np.meshgrid(np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution))
    grid = np.column_stack([xx.ravel(), yy.ravel()])
    labels = predicted_labels(model.predict(grid, verbose=0)).reshape(xx.shape)
    classes = max(int(y.max()), int(labels.max())) + 1
    levels = np.arange(classes + 1) - 0.5
    ax.contourf(xx, yy, labels, levels=levels, cmap=_CMAP, alpha=0.35)
    ax.scatter(X[:, 0], X[:, 1], c=y, cmap=_CMAP, vmin=0, vmax=classes - 1, s=8, edgecolors="k", linewidths=0.2)
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    if title:
        ax.set_title(title)
    return finish(ax.figure, path)


def plot_decision_boundaries(models: dict, X, y, path=None, title: str | None = None):
    """Decision boundaries of several models side by side, one panel each, titled by the dict's keys.

    Parameters
    ----------
    models : dict of str to Model
        The models by panel title.
    X : array_like of shape (n, 2)
        The points.
    y : array_like
        Their true classes.
    path : str, os.PathLike or None, default None
        Where to save the figure (PNG unless the suffix names another format); None saves nothing.
    title : str or None, default None
        The figure's title.

    Returns
    -------
    matplotlib.figure.Figure
        The figure.
    """
    fig, axes = new_figure(ncols=len(models), panel_size=(4.5, 4.0))
    for ax, (label, model) in zip(axes, models.items()):
        plot_decision_boundary(model, X, y, ax=ax, title=label)
    return finish(fig, path, title)


def plot_hidden_representation(activations, y, path=None, title: str | None = None):
    """A 3-unit hidden layer's activations as points in 3-D, coloured by class.

    This is the middle panel of Jansen (2020, ch. 17)'s picture of the circles network: the hidden layer's
    projection of the input from two to three dimensions, in which the two classes become linearly separable.

    Parameters
    ----------
    activations : array_like of shape (n, 3)
        The hidden layer's outputs.
    y : array_like
        The classes.
    path : str, os.PathLike or None, default None
        Where to save the figure (PNG unless the suffix names another format); None saves nothing.
    title : str or None, default None
        The figure's title.

    Returns
    -------
    matplotlib.figure.Figure
        The figure.

    Raises
    ------
    ValueError
        If ``activations`` is not of shape (n, 3).
    """
    activations, y = np.asarray(activations), np.ravel(y)
    if activations.ndim != 2 or activations.shape[1] != 3:
        raise ValueError(f"plot_hidden_representation needs activations of 3 units, shape (n, 3). "
                         f"Received shape {activations.shape}.")
    fig, (ax,) = new_figure(panel_size=(6.0, 5.0), projection="3d")
    ax.scatter(*activations.T, c=y, cmap=_CMAP, s=4, alpha=0.6)
    ax.set_xlabel("$h_1$")
    ax.set_ylabel("$h_2$")
    ax.set_zlabel("$h_3$")
    return finish(fig, path, title)


def plot_confusion_matrix(y_true, y_pred, labels=None, path=None, title: str | None = None):
    """Counts of true against predicted class (scikit-learn's display), the numbers written in the cells.

    Parameters
    ----------
    y_true, y_pred : array_like
        True and predicted labels.
    labels : array_like or None, default None
        The classes to show, in order; None gives those present.
    path : str, os.PathLike or None, default None
        Where to save the figure (PNG unless the suffix names another format); None saves nothing.
    title : str or None, default None
        The figure's title.

    Returns
    -------
    matplotlib.figure.Figure
        The figure.
    """
    fig, (ax,) = new_figure(panel_size=(6.0, 5.0))
    ConfusionMatrixDisplay.from_predictions(np.ravel(y_true), np.ravel(y_pred), labels=labels, ax=ax,
                                            colorbar=True)
    return finish(fig, path, title)


def plot_roc(y_true, scores, path=None, title: str | None = None, name: str | None = None):
    """ROC curve of scores against binary labels, with its AUC in the legend (scikit-learn's display).

    Parameters
    ----------
    y_true : array_like
        Binary labels.
    scores : array_like
        Scores (probabilities), higher for the positive class.
    path : str, os.PathLike or None, default None
        Where to save the figure (PNG unless the suffix names another format); None saves nothing.
    title : str or None, default None
        The figure's title.
    name : str or None, default None
        The curve's name in the legend.

    Returns
    -------
    matplotlib.figure.Figure
        The figure, with the chance level drawn.
    """
    fig, (ax,) = new_figure(panel_size=(5.0, 5.0))
    RocCurveDisplay.from_predictions(np.ravel(y_true), np.ravel(scores), ax=ax, name=name,
                                     plot_chance_level=True)
    return finish(fig, path, title)


def predicted_labels(outputs) -> np.ndarray:
    """Class labels from model outputs: threshold 0.5 for one sigmoid column, arg-max for several.

    Parameters
    ----------
    outputs : array_like
        A model's outputs: one column (or a vector) of probabilities, or one column per class.

    Returns
    -------
    np.ndarray
        The labels, one per row.

    Examples
    --------
    >>> import numpy as np
    >>> from deepfin import viz
    >>> viz.predicted_labels(np.array([[0.2], [0.7]]))
    array([0, 1])
    >>> viz.predicted_labels(np.array([[0.1, 0.6, 0.3]]))
    array([1])
    """
    outputs = np.asarray(outputs)
    if outputs.ndim == 1 or outputs.shape[-1] == 1:
        return (np.ravel(outputs) > 0.5).astype(int)
    return outputs.argmax(axis=-1)


def _two_features(X) -> np.ndarray:
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"Decision boundaries are drawn for 2 input features. Received X of shape {X.shape}.")
    return X
