"""Pictures of classifiers: decision boundaries, hidden representations, confusion matrices, ROC curves."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import ConfusionMatrixDisplay, RocCurveDisplay

from deepfin.viz._figures import finish, new_figure

_CMAP = "Spectral"


def plot_decision_boundary(model, X, y, ax=None, resolution: int = 200, path=None, title: str | None = None):
    """Predicted class over the plane of two input features, with the points coloured by true class."""
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
    """Decision boundaries of several models side by side, one panel each, titled by the dict's keys."""
    fig, axes = new_figure(ncols=len(models), panel_size=(4.5, 4.0))
    for ax, (label, model) in zip(axes, models.items()):
        plot_decision_boundary(model, X, y, ax=ax, title=label)
    return finish(fig, path, title)


def plot_hidden_representation(activations, y, path=None, title: str | None = None):
    """A 3-unit hidden layer's activations as points in 3-D, coloured by class (the seed's middle panel)."""
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
    """Counts of true against predicted class (scikit-learn's display), the numbers written in the cells."""
    fig, (ax,) = new_figure(panel_size=(6.0, 5.0))
    ConfusionMatrixDisplay.from_predictions(np.ravel(y_true), np.ravel(y_pred), labels=labels, ax=ax,
                                            colorbar=True)
    return finish(fig, path, title)


def plot_roc(y_true, scores, path=None, title: str | None = None, name: str | None = None):
    """ROC curve of scores against binary labels, with its AUC in the legend (scikit-learn's display)."""
    fig, (ax,) = new_figure(panel_size=(5.0, 5.0))
    RocCurveDisplay.from_predictions(np.ravel(y_true), np.ravel(scores), ax=ax, name=name,
                                     plot_chance_level=True)
    return finish(fig, path, title)


def predicted_labels(outputs) -> np.ndarray:
    """Class labels from model outputs: threshold 0.5 for one sigmoid column, arg-max for several."""
    outputs = np.asarray(outputs)
    if outputs.ndim == 1 or outputs.shape[-1] == 1:
        return (np.ravel(outputs) > 0.5).astype(int)
    return outputs.argmax(axis=-1)


def _two_features(X) -> np.ndarray:
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"Decision boundaries are drawn for 2 input features. Received X of shape {X.shape}.")
    return X
