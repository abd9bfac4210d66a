"""Grid search scored on walk-forward folds, and what the best of many noisy candidates is worth.

The grid is by default the ``param_grid`` of Jansen (2020, ch. 17) (``deepfin.finance.pipeline.config``); the
search is deepfin's ``GridSearchCV``, scikit-learn's with stacked networks.

Each fold is scored by ROC AUC and, where a ``strategy`` is given, by the per-period Sharpe ratio of the
long-short book its predictions imply (before and after costs): those are the trials the deflated Sharpe
ratio of the chosen network's backtest is measured against.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from skfolio import measures

from deepfin._ranking import weighted_auc
from deepfin.finance.validation.predictions import realised_for
from deepfin.finance.validation.walk_forward import Window
from deepfin.tuning import GridSearchCV


def grid_search(model, grid: dict, X: pd.DataFrame, y: pd.Series, windows: list[Window], realised=None,
                strategy: Callable[[pd.Series], pd.DataFrame] | None = None, known_by=None,
                advance: Callable[[int], None] | None = None, n_jobs: int = 1, journal=None) -> GridSearchCV:
    """Search ``grid`` with deepfin's ``GridSearchCV``, one fold per walk-forward window.

    The candidates whose networks share a layer pattern train together as one stack, and the (fold, stack) jobs
    run on ``n_jobs`` processes. Training rows are those whose label is realised before the fold's test dates
    (``realised`` is passed on to the model's ``fit`` where it takes it); test rows are the labelled ones, and
    with ``known_by`` (the date the choice is made) only those realised before it. ``strategy`` maps a fold's predicted
    probabilities to its book's per-date ``before_costs`` and ``after_costs`` returns. No refit: the chosen
    parameters are refitted window by window by the walk-forward evaluation. ``advance(n)`` is called as each
    job's n fits are scored (a progress bar). ``journal`` records each job's scores as it finishes and skips
    the jobs it holds (``GridSearchCV``'s ``journal``).

    Parameters
    ----------
    model : DateHoldoutClassifier
        The estimator; ``grid``'s names are those of its ``net`` (searched as ``net__NAME``).
    grid : dict
        Parameter name -> list of values.
    X : pd.DataFrame
        The rows, indexed by (date, ticker).
    y : pd.Series
        Their labels, NaN where unknown.
    windows : list of Window
        The tuning windows, one fold each.
    realised : array-like of datetime or None, default None
        The date each label becomes known.
    strategy : callable or None, default None
        Probabilities (a Series of a fold's test rows) -> the book's per-date ``before_costs`` and
        ``after_costs``; without it the folds are scored by AUC alone.
    known_by : pd.Timestamp or None, default None
        The date the choice is made.
    advance : callable or None, default None
        Called with the number of fits scored.
    n_jobs : int, default 1
        Processes.
    journal : Journal or None, default None
        Records the jobs' scores.

    Returns
    -------
    GridSearchCV
        The fitted search, not refitted; its ``cv_results_`` hold each fold's ``auc`` (and ``sharpe``,
        ``sharpe_after_costs``).
    """
    folds = []
    for window in windows:
        train, test = window.rows(X.index, realised)
        scored = y.iloc[test].notna().to_numpy(copy=True)
        if known_by is not None and realised is not None:
            scored &= np.asarray(pd.DatetimeIndex(realised)[test] < known_by)
        folds.append((train, test[scored]))
    search = GridSearchCV(model, {f"net__{name}": values for name, values in grid.items()},
                          scoring=_fold_scorer(strategy), cv=folds, refit=False, error_score="raise", n_jobs=n_jobs,
                          progress=advance, journal=journal)
    return search.fit(X, y, **realised_for(model, realised))


def _fold_scorer(strategy):
    def scored(estimator, X_test, y_test):
        probability = estimator.predict_proba(X_test)[:, 1]
        scores = {"auc": _fold_auc(y_test, probability)}
        if strategy is not None:
            book = strategy(pd.Series(probability, index=X_test.index))
            scores["sharpe"] = per_period_sharpe(book["before_costs"])
            scores["sharpe_after_costs"] = per_period_sharpe(book["after_costs"])
        return scores

    return scored


def _fold_auc(y_test, probability: np.ndarray) -> float:
    """Compute scikit-learn's ``roc_auc_score`` (NaN on a fold of one class, as recent scikit-learn's) by one sort.

    The scorer runs for every candidate and fold, where scikit-learn's input checks cost more than the AUC
    (7 ms).
    """
    return weighted_auc(probability, np.asarray(y_test) == 1, np.ones(len(y_test)))


def per_period_sharpe(returns: pd.Series) -> float:
    """Compute the Sharpe ratio per period: mean over standard deviation, not annualised.

    That is what the deflated Sharpe ratio compares. NaN for fewer than two returns or no spread.

    Examples
    --------
    >>> import pandas as pd
    >>> round(per_period_sharpe(pd.Series([0.01, -0.02, 0.03, 0.01])), 4)
    0.3638
    """
    std = returns.std(ddof=1)
    return float(returns.mean() / std) if len(returns) > 1 and std > 0 else float("nan")


def results_table(search: GridSearchCV) -> pd.DataFrame:
    """Tabulate a finished search: one row per candidate, best first.

    Returns
    -------
    pd.DataFrame
        The candidate's parameters (without ``net__``), ``mean_auc`` and ``std_auc`` over the folds, the mean
        fold ``sharpe`` and ``sharpe_after_costs`` (per period) where scored, and ``rank`` by mean AUC (a NaN
        mean, from a fold of one class, ranks last), sorted by rank.
    """
    results = pd.DataFrame(search.cv_results_)
    params = pd.DataFrame([{k.removeprefix("net__"): v for k, v in p.items()} for p in results["params"]])
    table = params.assign(mean_auc=results["mean_test_auc"], std_auc=results["std_test_auc"])
    for name in ("sharpe", "sharpe_after_costs"):
        if f"mean_test_{name}" in results:
            table[name] = results[f"mean_test_{name}"]
    table["rank"] = table["mean_auc"].rank(ascending=False, method="min", na_option="bottom").astype(int)
    return table.sort_values("rank", kind="stable").reset_index(drop=True)


def best_params(table: pd.DataFrame) -> dict:
    """Read the parameters of the best-ranked candidate of ``results_table`` (NumPy scalars as Python's).

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"dense_layers": [[64], [64, 64]], "dropout": [0.5, 0.25], "mean_auc": [0.53, 0.51],
    ...                       "std_auc": [0.01, 0.02], "rank": [1, 2]})
    >>> best_params(table)
    {'dense_layers': [64], 'dropout': 0.5}
    """
    return {name: value.item() if isinstance(value, np.generic) else value for name, value in table.iloc[0].items()
            if name not in ("mean_auc", "std_auc", "sharpe", "sharpe_after_costs", "rank")}


def selection_bias(table: pd.DataFrame) -> dict:
    """Compare the best mean AUC with the best expected of as many candidates with no skill.

    The expected best is Bailey and Lopez de Prado's expected maximum (skfolio's formula) of as many candidates
    with true AUC 0.5 and the candidates' spread.

    Returns
    -------
    dict
        ``candidates`` (with a mean AUC), ``best_auc``, ``mean_auc``, ``spread`` (their standard deviation)
        and ``expected_best_by_chance``; NaN figures when no candidate has a mean AUC.
    """
    aucs = table["mean_auc"].dropna().to_numpy()
    if not len(aucs):  # every candidate's folds held one class: no AUC to compare
        return {"candidates": 0, "best_auc": float("nan"), "mean_auc": float("nan"), "spread": float("nan"),
                "expected_best_by_chance": float("nan")}
    spread = float(np.std(aucs, ddof=1)) if len(aucs) > 1 else 0.0
    return {"candidates": int(len(aucs)), "best_auc": float(aucs.max()), "mean_auc": float(aucs.mean()),
            "spread": spread, "expected_best_by_chance": float(measures.expected_max_sharpe_ratio(
                n_trials=len(aucs), trial_sharpe_ratio_std=spread, trial_sharpe_ratio_mean=0.5))}


def deflated_sharpe(returns: pd.Series, trial_sharpe_ratios) -> float:
    """Compute the deflated Sharpe ratio: P(true Sharpe > 0) once the number and spread of the trials count.

    Parameters
    ----------
    returns : pd.Series
        The chosen strategy's returns a period.
    trial_sharpe_ratios : array-like of float
        The per-period Sharpe ratios of every trial (non-finite ones are dropped).

    Returns
    -------
    float
        The probability; NaN without trials or with fewer than three returns.
    """
    trials = np.asarray(trial_sharpe_ratios, dtype=float)
    trials = trials[np.isfinite(trials)]
    if len(trials) == 0 or len(returns.dropna()) < 3:
        return float("nan")
    return float(measures.deflated_sharpe_ratio(returns.dropna().to_numpy(), trials))
