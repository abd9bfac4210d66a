"""``GridSearchCV``: scikit-learn's grid search, training the candidates that can stack as one model.

Its signature, ``cv_results_`` and fitted attributes are scikit-learn's (it subclasses
``sklearn.model_selection.GridSearchCV``, so ``predict``, ``score``, ``best_estimator_``... behave the same).
What differs is how the fits run: the candidates are grouped by the estimator (``group_candidates``: deepfin's
Keras wrappers, ``DateHoldoutClassifier`` and pipelines ending in one group the networks that share a layer
pattern) and each (split, group) is one job, whose candidates train together through the estimator's
``fit_many``; other estimators fit one candidate per job. Jobs run through joblib (``n_jobs``; under
``deepfin.parallel.cluster`` on Dask). A stacked candidate's ``fit_time`` is its share of its group's time.
With a ``journal`` (``deepfin.finance.pipeline.journal``) each job's scores are recorded as it finishes, and a job
already recorded is not run again (an interrupted search resumes).
"""

from __future__ import annotations

import numbers
import time
from collections.abc import Callable

import numpy as np
from joblib import delayed
from numpy.ma import MaskedArray
from scipy.stats import rankdata
from sklearn import model_selection
from sklearn.base import clone, is_classifier
from sklearn.metrics import check_scoring
from sklearn.model_selection import ParameterGrid, check_cv
from sklearn.pipeline import Pipeline

from deepfin import parallel


class GridSearchCV(model_selection.GridSearchCV):
    """Exhaustive search over ``param_grid`` with cross-validation, as scikit-learn's, stacking what it can.

    A job's identity in a journal is the estimator, the split's training and test positions and its candidates,
    so a journal must be kept to one data set. After ``fit``, ``stack_groups_`` lists the groups of candidate
    indices trained together.

    Parameters
    ----------
    estimator : estimator
        As scikit-learn's; deepfin's Keras wrappers (and pipelines ending in one) train candidates together.
    param_grid : dict or list of dict
        As scikit-learn's.
    scoring, n_jobs, refit, cv, verbose, pre_dispatch, error_score, return_train_score
        As scikit-learn's ``GridSearchCV``; the jobs run through joblib (on Dask under
        ``deepfin.parallel.cluster``).
    progress : callable or None, default None
        Called with the number of fits each finished job completed (for a progress bar). scikit-learn's has no
        such argument.
    journal : object or None, default None
        Records each job's scores as it finishes (its ``put(identity, record)``) and gives back those of jobs
        already done (its ``get(identity)``, None for a job not done; ``key(identity)`` makes the key), so an
        interrupted search resumes. scikit-learn's has no such argument.

    Examples
    --------
    Candidates that differ only in their learning rate share a layer pattern and train as one stack:

    >>> import numpy as np
    >>> from deepfin import Sequential, layers, optimizers
    >>> from deepfin.tuning import GridSearchCV
    >>> from deepfin.wrappers import KerasClassifier
    >>> def make_model(n_features_in_, learning_rate=0.001):
    ...     model = Sequential([layers.Input((n_features_in_,)), layers.Dense(4, activation="relu"),
    ...                         layers.Dense(1, activation="sigmoid")])
    ...     model.compile(optimizer=optimizers.Adam(learning_rate), loss="binary_crossentropy")
    ...     return model
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(40, 3))
    >>> y = (X[:, 0] > 0).astype(int)
    >>> estimator = KerasClassifier(make_model, epochs=2, random_state=0)
    >>> search = GridSearchCV(estimator, {"learning_rate": [0.001, 0.01]}, cv=2).fit(X, y)
    >>> search.stack_groups_
    [[0, 1]]
    >>> sorted(search.best_params_)
    ['learning_rate']
    """

    def __init__(self, estimator, param_grid, *, scoring=None, n_jobs=None, refit=True, cv=None, verbose=0,
                 pre_dispatch="2*n_jobs", error_score=np.nan, return_train_score=False,
                 progress: Callable[[int], None] | None = None, journal=None):
        super().__init__(estimator, param_grid, scoring=scoring, n_jobs=n_jobs, refit=refit, cv=cv,
                         verbose=verbose, pre_dispatch=pre_dispatch, error_score=error_score,
                         return_train_score=return_train_score)
        self.progress, self.journal = progress, journal

    def fit(self, X, y=None, **params):
        """Score every candidate on every split, pick the best and (with ``refit``) fit it on all of ``X``.

        The fitted attributes follow scikit-learn's rules. With one metric (``scoring`` None, a string, or a
        callable that returns a number) ``best_index_``, ``best_params_`` and ``best_score_`` are set whatever
        ``refit`` is, even False. With several metrics (a list, tuple or dict, or a callable that returns a dict)
        they are set only for ``refit`` given as a metric name, for that metric; with ``refit=False`` none is. A
        callable ``refit`` picks ``best_index_`` from ``cv_results_`` and then there is no ``best_score_``.
        ``best_estimator_`` and ``refit_time_`` exist only when ``refit`` is truthy.

        Parameters
        ----------
        X : array_like
            Inputs.
        y : array_like or None, default None
            Targets.
        **params
            ``groups`` for the splitter; the rest go to each candidate's ``fit`` (arrays of ``X``'s length are cut
            to the split's rows).

        Returns
        -------
        self
            The fitted search.

        Raises
        ------
        ValueError
            With several metrics, if ``refit`` is neither a metric name, a callable nor False.
        TypeError, IndexError
            If a callable ``refit`` does not return a candidate's index.
        """
        groups = params.pop("groups", None)
        candidates = list(ParameterGrid(self.param_grid))
        estimator = self.estimator
        splits = list(check_cv(self.cv, y, classifier=is_classifier(estimator)).split(X, y, groups))
        scorer = check_scoring(estimator, self.scoring)
        self.stack_groups_ = candidate_groups(estimator, candidates, X, y, params)
        if self.verbose:
            print(f"Fitting {len(splits)} folds for each of {len(candidates)} candidates, totalling "
                  f"{len(splits) * len(candidates)} fits, in {len(self.stack_groups_)} groups")
        cells = self._score(estimator, X, y, splits, candidates, scorer, params)
        # several metrics when the scores are dicts; a failed fit's cell holds the bare error_score, so look past it
        first = next((cell["test"] for cell in cells.values() if isinstance(cell["test"], dict)), None)
        self.multimetric_ = first is not None
        if self.multimetric_:
            self._refuse_bad_refit(first)
        self.cv_results_ = _results(candidates, len(splits), cells, self.return_train_score)
        self.n_splits_ = len(splits)
        # scikit-learn keeps the scorers of several metrics (named in a list, tuple, set or dict) as a dict of them
        self.scorer_ = _scorers_by_name(estimator, self.scoring) if isinstance(self.scoring, (list, tuple, set, dict)) \
            else scorer
        self._select_best()
        self._refit_best(X, y, params)
        return self

    def _score(self, estimator, X, y, splits: list, candidates: list[dict], scorer, params: dict) -> dict:
        """Every (candidate, split)'s cell: one job per (split, group), those the journal holds taken from it, the
        others run through joblib and recorded as each finishes."""
        pairs = [(split_index, group) for split_index in range(len(splits)) for group in self.stack_groups_]
        keys = [None if self.journal is None else self.journal.key(
            (estimator, *splits[split_index], [candidates[i] for i in group])) for split_index, group in pairs]

        def jobs(todo):
            return (delayed(_fit_and_score)(estimator, X, y, splits[pairs[number][0]],
                                            [candidates[i] for i in pairs[number][1]], scorer, params,
                                            self.return_train_score, self.error_score) for number in todo)

        cells = {}
        for number, outcome in parallel.resumable(keys, self.journal, jobs, lambda done: {"cells": done},
                                                  lambda number, stored: stored["cells"], self.n_jobs,
                                                  self.pre_dispatch):
            self._place(cells, pairs[number], outcome)
        return cells

    def _place(self, cells: dict, pair, outcome: list) -> None:
        """A job's cells into ``cells`` by (candidate, split); the progress bar advanced by its fits."""
        split_index, group = pair
        for index, cell in zip(group, outcome):
            cells[index, split_index] = cell
        if self.progress is not None:
            self.progress(len(group))

    def _refuse_bad_refit(self, first_scores: dict) -> None:
        """With several metrics, ``refit`` must name one of them, be a callable or be False."""
        named = isinstance(self.refit, str) and self.refit in first_scores
        if self.refit is not False and not named and not callable(self.refit):
            raise ValueError(f"For multi-metric scoring, refit must be a metric name ({sorted(first_scores)}), a "
                             f"callable or False. Received: refit={self.refit!r}")

    def _select_best(self) -> None:
        """``best_index_``, ``best_params_`` and ``best_score_`` by scikit-learn's rule: with one metric always
        (its ``score``), with several only when ``refit`` names one (that one) or is a callable (no
        ``best_score_`` then: the callable's choice need not be the top of any metric)."""
        if not self.refit and self.multimetric_:
            return
        metric = self.refit if self.multimetric_ else "score"
        if callable(self.refit):
            self.best_index_ = _chosen_index(self.refit, self.cv_results_)
        else:
            self.best_index_ = int(self.cv_results_[f"rank_test_{metric}"].argmin())
            self.best_score_ = float(self.cv_results_[f"mean_test_{metric}"][self.best_index_])
        self.best_params_ = self.cv_results_["params"][self.best_index_]

    def _refit_best(self, X, y, params) -> None:
        """With a truthy ``refit``, ``best_estimator_``: the best candidate fitted on all of ``X``."""
        if not self.refit:
            return
        started = time.perf_counter()
        self.best_estimator_ = clone(self.estimator).set_params(**clone(self.best_params_, safe=False))
        self.best_estimator_.fit(X, y, **params)
        self.refit_time_ = time.perf_counter() - started
        if hasattr(self.best_estimator_, "feature_names_in_"):
            self.feature_names_in_ = self.best_estimator_.feature_names_in_


def _chosen_index(refit: Callable, results: dict) -> int:
    """The candidate index a callable ``refit`` picks from ``cv_results_``, checked as scikit-learn checks it."""
    index = refit(results)
    if not isinstance(index, numbers.Integral):
        raise TypeError(f"refit, a callable, must return the best candidate's index as an integer; it returned "
                        f"{index!r} ({type(index).__name__})")
    if not 0 <= index < len(results["params"]):
        raise IndexError(f"refit, a callable, returned the index {index}, outside the {len(results['params'])} "
                         f"candidates (0 to {len(results['params']) - 1})")
    return int(index)


# ------------------------------------------------------------ groups and fits
def candidate_groups(estimator, candidates: list[dict], X, y, params: dict) -> list[list[int]]:
    """Indices of ``candidates`` that one job fits together.

    They are the estimator's ``group_candidates`` (through a pipeline's last step when only its parameters vary,
    the earlier steps fitted on ``X`` first), else one candidate per group.

    Parameters
    ----------
    estimator : estimator
        The search's estimator.
    candidates : list of dict
        The candidates' parameters.
    X, y : array_like
        The data.
    params : dict
        Fit parameters.

    Returns
    -------
    list of list of int
        The groups of candidate indices.
    """
    alone = [[i] for i in range(len(candidates))]
    if hasattr(estimator, "group_candidates"):
        return estimator.group_candidates(candidates, X, y, **params)
    last = _varied_last_step(estimator, candidates)
    if last is None:
        return alone
    name, step = last
    head, head_params, last_params = _split_pipeline(estimator, params)
    transformed = clone(head).fit(X, y, **head_params).transform(X)
    return step.group_candidates([_strip(c, name) for c in candidates], transformed, y, **last_params)


def fit_candidates(estimator, candidates: list[dict], X, y, params: dict) -> list:
    """Fitted clones of ``estimator``, one per candidate, trained together where the estimator can.

    Parameters
    ----------
    estimator : estimator
        The search's estimator: its ``fit_many`` (or a pipeline's last step's, when only its parameters vary)
        trains the candidates together; otherwise each clone is fitted alone.
    candidates : list of dict
        The candidates' parameters.
    X, y : array_like
        The training data.
    params : dict
        Fit parameters.

    Returns
    -------
    list
        The fitted estimators, in the order of ``candidates``.
    """
    if len(candidates) > 1 and hasattr(estimator, "fit_many"):
        return estimator.fit_many(candidates, X, y, **params)
    last = _varied_last_step(estimator, candidates) if len(candidates) > 1 else None
    if last is None:
        return [clone(estimator).set_params(**c).fit(X, y, **params) for c in candidates]
    name, step = last
    head, head_params, last_params = _split_pipeline(estimator, params)
    head = clone(head).fit(X, y, **head_params)
    fitted = step.fit_many([_strip(c, name) for c in candidates], head.transform(X), y, **last_params)
    pipelines = []
    for candidate, final in zip(candidates, fitted):
        pipeline = clone(estimator).set_params(**candidate)
        pipeline.steps = [*head.steps, (name, final)]
        pipelines.append(pipeline)
    return pipelines


def _varied_last_step(estimator, candidates):
    """(name, step) of a pipeline's last step when it can fit many and the candidates vary only its parameters."""
    if not isinstance(estimator, Pipeline):
        return None
    name, step = estimator.steps[-1]
    if not hasattr(step, "fit_many") or not all(k.startswith(f"{name}__") for c in candidates for k in c):
        return None
    return name, step


def _split_pipeline(pipeline: Pipeline, params: dict):
    """The pipeline's steps but the last, their fit parameters, and the last step's (``step__name`` keys)."""
    last = pipeline.steps[-1][0]
    last_params = {k.removeprefix(f"{last}__"): v for k, v in params.items() if k.startswith(f"{last}__")}
    head_params = {k: v for k, v in params.items() if not k.startswith(f"{last}__")}
    return Pipeline(pipeline.steps[:-1]), head_params, last_params


def _strip(candidate: dict, name: str) -> dict:
    return {k.removeprefix(f"{name}__"): v for k, v in candidate.items()}


def _scorers_by_name(estimator, scoring) -> dict:
    """Each metric's scorer by name, for ``scoring`` given as several metrics (scikit-learn's ``scorer_``)."""
    named = scoring.items() if isinstance(scoring, dict) else ((name, name) for name in scoring)
    return {name: check_scoring(estimator, metric) for name, metric in named}


def _rows(data, positions):
    """The rows of ``data`` at ``positions``: a DataFrame's or Series's by position, a list's item by item, an
    array's (dense or sparse) by fancy indexing, as scikit-learn's searches index them."""
    if hasattr(data, "iloc"):
        return data.iloc[positions]
    if isinstance(data, (list, tuple)):
        return [data[i] for i in positions]
    return data[positions]


def _fit_and_score(estimator, X, y, split, candidates, scorer, params, train_score: bool, error_score) -> list:
    """Fit ``candidates`` on the split's training rows and score each on its test rows (and training rows)."""
    train, test = split
    n = len(X)
    fit_params = {k: _rows(v, train) if hasattr(v, "__len__") and len(v) == n else v
                  for k, v in params.items()}
    X_train, y_train = _rows(X, train), None if y is None else _rows(y, train)
    X_test, y_test = _rows(X, test), None if y is None else _rows(y, test)
    started = time.perf_counter()
    try:
        fitted = fit_candidates(estimator, candidates, X_train, y_train, fit_params)
    except Exception:
        if error_score == "raise":
            raise
        # a lone candidate failed; of a group, fit one at a time so that only the failing ones get error_score
        fitted = [None] if len(candidates) == 1 else \
            [_fit_or_none(estimator, c, X_train, y_train, fit_params) for c in candidates]
    fit_time = (time.perf_counter() - started) / len(candidates)
    cells = []
    for model in fitted:
        started = time.perf_counter()
        cell = {"fit_time": fit_time}
        if model is None:
            cell["test"] = cell["train"] = error_score
        else:
            cell["test"] = scorer(model, X_test, y_test)
            if train_score:
                cell["train"] = scorer(model, X_train, y_train)
        cell["score_time"] = time.perf_counter() - started
        cells.append(cell)
    return cells


def _fit_or_none(estimator, candidate, X, y, params):
    try:
        return clone(estimator).set_params(**candidate).fit(X, y, **params)
    except Exception:
        return None


# ------------------------------------------------------------ results
def _results(candidates: list[dict], n_splits: int, cells: dict, train_score: bool) -> dict:
    """``cv_results_`` in scikit-learn's layout and order of keys."""
    n = len(candidates)
    results = {}
    for name in ("fit_time", "score_time"):
        values = np.array([[cells[i, s][name] for s in range(n_splits)] for i in range(n)])
        results[f"mean_{name}"], results[f"std_{name}"] = values.mean(axis=1), values.std(axis=1)
    for name in sorted({k for c in candidates for k in c}):
        column = MaskedArray(np.empty(n, dtype=object), mask=True)
        for i, candidate in enumerate(candidates):
            if name in candidate:
                column[i] = candidate[name]
        results[f"param_{name}"] = column
    results["params"] = candidates
    metrics = _metric_names(cells)
    for part in ("test", "train") if train_score else ("test",):
        for metric in metrics:
            scores = np.array([[_metric(cells[i, s][part], metric) for s in range(n_splits)] for i in range(n)])
            for s in range(n_splits):
                results[f"split{s}_{part}_{metric}"] = scores[:, s]
            means = scores.mean(axis=1)
            results[f"mean_{part}_{metric}"], results[f"std_{part}_{metric}"] = means, scores.std(axis=1)
            if part == "test":
                results[f"rank_test_{metric}"] = _rank(means)
    return results


def _metric_names(cells: dict) -> list[str]:
    first = next((c["test"] for c in cells.values() if isinstance(c["test"], dict)), None)
    return ["score"] if first is None else list(first)


def _metric(scores, metric: str) -> float:
    if isinstance(scores, dict):
        return float(scores[metric])
    return float(scores)


def _rank(means: np.ndarray) -> np.ndarray:
    """Rank 1 for the highest mean, ties sharing the lowest rank, NaN last (scikit-learn's rule)."""
    if np.isnan(means).all():
        return np.ones(len(means), dtype=np.int32)
    filled = np.nan_to_num(means, nan=np.nanmin(means) - 1)
    return rankdata(-filled, method="min").astype(np.int32)
