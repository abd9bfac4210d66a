"""Out-of-sample predictions: a model fitted on each walk-forward window's training rows predicts its test rows;
and the shuffled cross-validation a textbook evaluation uses, for comparison.

Each window (each fold) is one unit of work for ``deepfin.parallel.resumable``: a joblib job, recorded in a run's
journal as it finishes and taken from it when an interrupted run resumes.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

import numpy as np
import pandas as pd
from joblib import delayed
from sklearn.base import clone
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold

from deepfin import parallel
from deepfin.finance.validation.walk_forward import Window


def walk_forward_predictions(model, X: pd.DataFrame, y: pd.Series, windows: list[Window], realised=None,
                             advance: Callable[[], None] = lambda: None, n_jobs: int = 1, journal=None,
                             last_model: bool = True):
    """Fit a clone of ``model`` on each window's training rows and predict all of its test rows.

    ``realised`` (the date each label becomes known) keeps training to labels known before the test window and
    is passed on to the model's ``fit`` where it takes it. The windows are independent joblib jobs (``n_jobs``).
    With a ``journal`` (``deepfin.finance.pipeline.journal``) each window's probabilities are recorded as it
    finishes and a window already recorded is not fitted again. Returns the predictions (rows (date, ticker); columns
    ``window``, ``probability``, ``label``, NaN where unknown) and the model fitted on the last window (fitted
    again where the journal held that window, as a journal keeps no models; None then with ``last_model=False``).
    """
    keys = [None if journal is None else journal.key(("walk-forward window", model, list(X.columns),
                                                      *window.rows(X.index, realised))) for window in windows]

    def jobs(todo):
        return (delayed(_fit_window)(model, X, y, windows[number], realised, number) for number in todo)

    def restore(number, stored):
        return _part(X, y, windows[number].rows(X.index, realised)[1], number, stored["probability"]), None

    def record(done):
        return {"probability": done[0]["probability"].to_numpy()}

    parts, last = {}, None
    for number, (part, fitted) in parallel.resumable(keys, journal, jobs, record, restore, n_jobs):
        parts[number] = part
        last = fitted if number == len(windows) - 1 else last
        advance()
    if last is None and last_model:
        last = _fit_window(model, X, y, windows[-1], realised, len(windows) - 1)[1]
    return pd.concat([parts[number] for number in range(len(windows))]), last


def _fit_window(model, X: pd.DataFrame, y: pd.Series, window: Window, realised, number: int):
    """Window ``number``'s predictions and the model fitted on it."""
    train, test = window.rows(X.index, realised)
    fitted = clone(model).fit(X.iloc[train], y.iloc[train], **realised_for(model, realised, train))
    return _part(X, y, test, number, fitted.predict_proba(X.iloc[test])[:, 1]), fitted


def _part(X: pd.DataFrame, y: pd.Series, test: np.ndarray, number: int, probability: np.ndarray) -> pd.DataFrame:
    """One window's predictions: its test rows, their probabilities and labels."""
    return pd.DataFrame({"window": number, "probability": probability, "label": y.iloc[test].to_numpy()},
                        index=X.index[test])


def realised_for(model, realised, rows=slice(None)) -> dict:
    """``{"realised": ...}`` for a model whose ``fit`` takes the dates its labels are realised, else ``{}``."""
    if realised is None or "realised" not in inspect.signature(model.fit).parameters:
        return {}
    return {"realised": np.asarray(realised)[rows]}


def shuffled_cv_auc(model, X: pd.DataFrame, y: pd.Series, n_splits: int = 5, seed: int = 0,
                    advance: Callable[[], None] = lambda: None, n_jobs: int = 1, journal=None) -> float:
    """The seed's evaluation: mean ROC AUC over shuffled stratified K-fold (rows of every date on both sides)
    of the rows whose label ``y`` is known (not NaN); the folds are joblib jobs (``n_jobs``), ``advance()`` is
    called as each is scored. With a ``journal`` each fold's AUC is recorded as it finishes and a fold already
    recorded is not fitted again."""
    labelled = np.flatnonzero(y.notna().to_numpy())

    def folds():  # positions in X of each fold's training and test rows, made as needed rather than held
        splitter = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed)
        return ((labelled[train], labelled[test]) for train, test in splitter.split(labelled, y.iloc[labelled]))

    keys = [None] * n_splits if journal is None else [journal.key(("shuffled fold", model, list(X.columns), *fold))
                                                      for fold in folds()]

    def jobs(todo):
        return (delayed(_fold_auc)(model, X, y, train, test)
                for number, (train, test) in enumerate(folds()) if number in todo)

    scores = {}
    for number, score in parallel.resumable(keys, journal, jobs, lambda auc: {"auc": auc},
                                            lambda number, record: record["auc"], n_jobs):
        scores[number] = score
        advance()
    return float(np.mean([scores[number] for number in range(n_splits)]))


def _fold_auc(model, X: pd.DataFrame, y: pd.Series, train, test) -> float:
    fitted = clone(model)
    if hasattr(fitted, "fit_rows"):  # fits on X.iloc[train] without copying those rows first
        fitted.fit_rows(X, y, train)
    else:
        fitted.fit(X.iloc[train], y.iloc[train])
    return float(roc_auc_score(y.iloc[test], fitted.predict_proba(X.iloc[test])[:, 1]))
