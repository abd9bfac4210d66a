"""ROC AUC by one sort (the weighted Mann-Whitney statistic, ties counting half): equal to scikit-learn's
``roc_auc_score`` with ``sample_weight`` (tested to 1e-12) and some twenty times faster on a few thousand rows,
which matters where it runs once an epoch (the ``AUC`` metric) or a thousand times (a bootstrap)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def weighted_auc(scores: np.ndarray, positive: np.ndarray, weights: np.ndarray) -> float:
    """ROC AUC of ``scores`` for the boolean ``positive``, rows weighted; NaN with one class only."""
    return auc_with_weights(scores, positive)(weights)


def auc_with_weights(scores: np.ndarray, positive: np.ndarray) -> Callable[[np.ndarray], float]:
    """``weighted_auc`` of fixed scores and labels as a function of the weights: the sort is done once."""
    order = np.argsort(scores, kind="stable")
    tie_group = np.cumsum(np.r_[True, np.diff(scores[order]) != 0]) - 1
    pos = np.asarray(positive, dtype=bool)[order]

    def auc(weights: np.ndarray) -> float:
        w = np.asarray(weights, dtype=np.float64)[order]
        pos_weight = np.bincount(tie_group, w * pos)
        neg_weight = np.bincount(tie_group, w * ~pos)
        total_pos, total_neg = pos_weight.sum(), neg_weight.sum()
        if total_pos == 0 or total_neg == 0:
            return float("nan")
        below = np.cumsum(neg_weight) - neg_weight
        return float(pos_weight @ (below + 0.5 * neg_weight) / (total_pos * total_neg))

    return auc
