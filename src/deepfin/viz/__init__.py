"""Plots for training and for the course texts' experiments (matplotlib, no pyplot state).

Every function returns the matplotlib ``Figure`` (shown inline in Jupyter) and, given ``path=``, saves it
there as a PNG (or the format the suffix names).
"""

from deepfin.viz._figures import save_figure
from deepfin.viz.classification import (
    plot_confusion_matrix,
    plot_decision_boundaries,
    plot_decision_boundary,
    plot_hidden_representation,
    plot_roc,
    predicted_labels,
)
from deepfin.viz.training import plot_function_fit, plot_history
from deepfin.viz.weights import plot_dense_weights

__all__ = [
    "plot_confusion_matrix", "plot_decision_boundaries", "plot_decision_boundary", "plot_dense_weights",
    "plot_function_fit", "plot_hidden_representation", "plot_history", "plot_roc", "predicted_labels",
    "save_figure",
]
