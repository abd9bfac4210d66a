"""Grid search over the seed's space, scored by ROC AUC on walk-forward folds (scikit-learn's GridSearchCV)."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
from sklearn.model_selection import GridSearchCV

from deepfin.finance.evaluation import auc_scorer
from deepfin.finance.validation import Window


def grid_search(model, grid: dict, X: pd.DataFrame, y: pd.Series, windows: list[Window],
                advance: Callable[[], None] = lambda: None) -> GridSearchCV:
    """GridSearchCV over ``grid`` (names of the pipeline's ``net`` step) with one fold per window.

    No refit: the chosen parameters are refitted window by window by the walk-forward evaluation.
    ``advance`` is called after each fit is scored (a progress bar).
    """
    search = GridSearchCV(model, {f"net__{name}": values for name, values in grid.items()}, scoring=auc_scorer(advance),
                          cv=[window.rows(X.index) for window in windows], refit=False, error_score="raise")
    return search.fit(X, y)


def results_table(search: GridSearchCV) -> pd.DataFrame:
    """One row per candidate: its parameters, mean and spread of the fold AUCs, rank."""
    results = pd.DataFrame(search.cv_results_)
    params = pd.DataFrame([{k.removeprefix("net__"): v for k, v in p.items()} for p in results["params"]])
    table = params.assign(mean_auc=results["mean_test_score"], std_auc=results["std_test_score"],
                          rank=results["rank_test_score"])
    return table.sort_values("rank").reset_index(drop=True)


def best_params(search: GridSearchCV) -> dict:
    return {k.removeprefix("net__"): v for k, v in search.best_params_.items()}
