"""The study of Krauss, Do and Huck (2017): model families and their ensembles, refitted on every study period.

Each model's predictions are ranked daily into long-short books of k names, and the paper's tables say what
they earned.

A study period is a walk-forward window of the plan (750 training and 250 trading days in the daily recipe):
every single model (``deepfin.finance.models.families``) is fitted on the training rows whose label is known
before the first trading date, predicts every trading row, and reports its Gini coefficient on (up to 50,000
rows of) the training period (out of bag for a forest, as H2O reports its forests' training figures), when ENS2
or ENS3 is run its Gini on the last training dates by a model that did not train on them (their weights), the
permutation importance of each feature (AUC lost when the feature's values are shuffled, on up to 10,000 of
the period's labelled trading rows, out of sample; not for a sequence family such as ``lstm``, which reads its
own windows of daily returns rather than the row's features) and the seconds it took. Study periods are
independent jobs run through joblib (``n_jobs``; inside ``deepfin.parallel.cluster`` on a Dask cluster's
workers, on this machine or several). The ensembles are averaged afterwards from the members' probabilities.

``execute(plan)`` returns a ``Study``; ``tables`` turns its books into the paper's measures.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
from joblib import delayed
from sklearn.base import clone
from sklearn.inspection import permutation_importance
from sklearn.metrics import roc_auc_score

from deepfin import parallel
from deepfin.finance.backtest import book as bt
from deepfin.finance.backtest import strategy, tear_sheet
from deepfin.finance.models import families
from deepfin.finance.models.families import ENSEMBLES, Training
from deepfin.finance.models.network import date_holdout
from deepfin.finance.models.search import deflated_sharpe, per_period_sharpe
from deepfin.finance.panel.features import RECIPES, row_dates
from deepfin.finance.panel.outcomes import at_horizon
from deepfin.finance.panel.sequences import DailyReturns
from deepfin.finance.pipeline.console import progress, say
from deepfin.finance.validation.measures import labelled
from deepfin.finance.validation.predictions import realised_for

GINI_ROWS, IMPORTANCE_ROWS = 50_000, 10_000  # training rows (a random sample) each is measured on


@dataclass
class Period:
    """What one study period found, model by model.

    Attributes
    ----------
    number : int
        The period's position among the study periods.
    probabilities : pd.DataFrame
        Each single model's probability of label 1 on the trading rows, one column per model.
    gini : dict of str to float
        Each model's training Gini (2 AUC - 1).
    importance : dict of str to np.ndarray
        Each model's permutation importance per feature.
    seconds : dict of str to float
        Each model's seconds to fit, predict and measure.
    train_rows : int
        The training rows.
    holdout_gini : dict of str to float
        Each model's Gini on held-out training dates (when an ensemble weighs by it).
    """

    number: int
    probabilities: pd.DataFrame
    gini: dict[str, float]
    importance: dict[str, np.ndarray]
    seconds: dict[str, float]
    train_rows: int
    holdout_gini: dict[str, float]


@dataclass
class Study:
    """A finished study: every model's predictions, books and their returns, and what each period found.

    Attributes
    ----------
    plan : Plan
        The run's plan.
    models : list of str
        The models, single ones and ensembles.
    predictions : pd.DataFrame
        Every trading row: ``window``, one probability column per model, ``label`` and ``forward_return``.
    periods : list of Period
        What each study period found.
    books : dict
        (model, k) -> the book's returns per trade date (``book_returns``).
    weights : dict
        (model, k) -> the book's weights.
    ensemble_weights : dict of str to pd.DataFrame
        Each ensemble's member weights, one row per period.
    seconds : dict of str to float
        Each single model's seconds over all periods.
    """

    plan: object
    models: list[str]
    predictions: pd.DataFrame
    periods: list[Period]
    books: dict[tuple[str, int], pd.DataFrame]
    weights: dict[tuple[str, int], pd.DataFrame]
    ensemble_weights: dict[str, pd.DataFrame]
    seconds: dict[str, float]


def fit_period(number: int, X_train: pd.DataFrame, y_train: pd.Series, realised, X_test: pd.DataFrame,
               specs: dict[str, dict], training: Training, quick: bool, returns: DailyReturns | None = None,
               held_out: bool = False, y_test: pd.Series | None = None) -> Period:
    """Fit each single model on one study period's training rows and predict its trading rows.

    ``returns`` are the daily returns the sequence families read their windows from. With ``held_out``, also
    each model's Gini on the last training dates (``holdout_gini``), which ENS2 and ENS3 weigh their members
    by. ``y_test``, the trading rows' labels (known only after the period), serves the permutation importance
    alone, measured out of sample on them; without it, on training rows.

    Returns
    -------
    Period
        The probabilities, Ginis, importances and seconds of every model.
    """
    probabilities, gini, holdout_gini, importance, seconds = {}, {}, {}, {}, {}
    rng = np.random.default_rng(training.seed + number)
    sample = rng.permutation(len(X_train))[:GINI_ROWS]
    if held_out:
        fit, held, _ = date_holdout(row_dates(X_train, "A study period", "to hold out its last training dates"),
                                    realised, training.validation_split, training.purge)
        held = rng.permutation(np.flatnonzero(held))[:GINI_ROWS]
    scored = _importance_rows(X_train, y_train, sample, X_test, y_test, rng)
    for name, settings in specs.items():
        started = time.perf_counter()
        model = families.build(name, settings, training, quick, returns)
        model.fit(X_train, y_train, **realised_for(model, realised))
        probabilities[name] = probability_up(model, X_test)
        gini[name] = training_gini(model, X_train.iloc[sample], y_train.iloc[sample], sample)
        if held_out:
            holdout_gini[name] = held_out_gini(model, X_train, y_train, realised, np.flatnonzero(fit), held)
        if families.reads_sequences(name, settings):  # its own windows, not the row's features: no importance
            importance[name] = np.zeros(X_train.shape[1])
        else:
            importance[name] = _importance(model, *scored, training.seed)
        seconds[name] = time.perf_counter() - started
    return Period(number, pd.DataFrame(probabilities, index=X_test.index), gini, importance, seconds, len(X_train),
                  holdout_gini)


def _importance_rows(X_train, y_train, sample, X_test, y_test, rng) -> tuple[pd.DataFrame, pd.Series]:
    """Draw up to ``IMPORTANCE_ROWS`` rows to measure importance on.

    Labelled trading rows (out of sample) when their labels are given, else training rows.
    """
    if y_test is None:
        few = sample[:IMPORTANCE_ROWS]
        return X_train.iloc[few], y_train.iloc[few]
    known = rng.permutation(np.flatnonzero(np.asarray(y_test.notna())))[:IMPORTANCE_ROWS]
    return X_test.iloc[known], y_test.iloc[known].astype(int)


def _importance(model, X: pd.DataFrame, y: pd.Series, seed: int) -> np.ndarray:
    """Compute the permutation importance of each feature: the ROC AUC lost when its values are shuffled.

    0 where the rows hold one class only.
    """
    if y.nunique() < 2:
        return np.zeros(X.shape[1])
    return permutation_importance(model, X, y, scoring="roc_auc", n_repeats=1, random_state=seed).importances_mean


def probability_up(model, X) -> np.ndarray:
    """Predict the probability of label 1 (0 where the model never saw that label in training)."""
    classes = list(model.classes_)
    return model.predict_proba(X)[:, classes.index(1)] if 1 in classes else np.zeros(len(X))


def held_out_gini(model, X: pd.DataFrame, y: pd.Series, realised, fit: np.ndarray, held: np.ndarray) -> float:
    """Compute the Gini (2 AUC - 1) on held-out training rows, by a model that did not train on them.

    The rows are ``held`` (positions in ``X``). The model is ``model`` itself where it held those dates out (a
    network's early-stopping dates: it has a ``validation_start_``), else a clone of it fitted on the rows
    ``fit`` (the dates before them, a purge apart). NaN where the held-out rows hold one class.
    """
    if getattr(model, "validation_start_", None) is None:
        model = clone(model).fit(X.iloc[fit], y.iloc[fit], **realised_for(model, realised, fit))
    y_held = np.asarray(y)[held]
    if len(np.unique(y_held)) < 2:
        return float("nan")
    return 2 * roc_auc_score(y_held, probability_up(model, X.iloc[held])) - 1


def training_gini(model, X: pd.DataFrame, y: pd.Series, positions=None) -> float:
    """Compute the Gini (2 AUC - 1) on training rows, out of bag for a bagged forest.

    ``X`` are rows at ``positions`` of the rows the model was fitted on (default all). A bagged forest scores
    each row by the trees that did not draw it (out of bag, as H2O reports a forest's training figures); other
    models by the whole model. NaN where the rows scored hold one class.
    """
    y = np.asarray(y)
    if not hasattr(model, "estimators_samples_") or getattr(model, "bootstrap", True) is False:
        return 2 * roc_auc_score(y, probability_up(model, X)) - 1 if len(np.unique(y)) == 2 else float("nan")
    positions = np.arange(len(X)) if positions is None else np.asarray(positions)
    values = X.to_numpy(np.float32) if isinstance(X, pd.DataFrame) else np.asarray(X, np.float32)
    total, count = np.zeros(len(values)), np.zeros(len(values))
    for tree, drawn in zip(model.estimators_, model.estimators_samples_):
        out = ~np.isin(positions, drawn)
        if not out.any():
            continue
        total[out] += probability_up(tree, values[out])
        count[out] += 1
    known = count > 0
    if len(np.unique(y[known])) < 2:
        return float("nan")
    return 2 * roc_auc_score(y[known], total[known] / count[known]) - 1


def execute(plan, verbose: int = 1, n_jobs: int | None = None, journal=None) -> Study:
    """Run the study: fit every study period (through joblib), average the ensembles, book every model at every k.

    Parameters
    ----------
    plan : Plan
        ``deepfin.finance.pipeline.workflow.plan``'s result for a configuration with ``models``.
    verbose : int, default 1
        0: print nothing; else lines and a progress bar.
    n_jobs : int or None, default None
        Study periods fitted at once; None: ``plan.config.n_jobs``.
    journal : Journal or None, default None
        With a journal (``deepfin.finance.pipeline.journal``) each period is recorded as it finishes, and the
        periods it already holds are not fitted again.

    Returns
    -------
    Study
        Every model's predictions and books; ``tables`` turns them into the paper's measures.

    Examples
    --------
    >>> from deepfin.finance import RunConfig
    >>> from deepfin.finance.pipeline import workflow
    >>> config = RunConfig(data="synthetic:30,years=6", recipe="daily", models=["logit", "gbt", "ens1"],
    ...                    model={"ens1": {"members": ["logit", "gbt"]}}, quick=True)
    >>> study = execute(workflow.plan(config), verbose=0)  # doctest: +SKIP
    >>> study.models, sorted(tables(study)["ens1"])  # doctest: +SKIP
    (['logit', 'gbt', 'ens1'], ['accuracy', 'auc', 'k', 'mean_weights', 'members', 'sub_periods'])
    """
    config = plan.config
    singles = [m for m in config.models if m not in ENSEMBLES]
    specs = {name: config.model.get(name, {}) for name in singles}
    training = Training(config.validation_split, config.purge, config.seed)
    realised = plan.rows["realised"].to_numpy()
    n_periods = len(plan.test_windows)
    returns = _daily_returns(plan, specs)
    say(verbose, f"Study: {', '.join(config.models)} on {n_periods} study periods of {config.train_size} training "
                 f"and {config.test_size} trading {RECIPES[config.recipe].period}s"
                 f"{' (quick settings)' if config.quick else ''}, {parallel.describe(n_jobs or config.n_jobs)}")
    held_out = any(name in families.GINI_WEIGHTED for name in config.models)
    keys = [None if journal is None else journal.key(("study period", number, specs, vars(training), config.quick,
                                                      {"held-out gini": held_out, "importance": "trading rows"},
                                                      list(plan.X.columns),
                                                      *window.rows(plan.X.index, realised)))
            for number, window in enumerate(plan.test_windows)]

    def jobs(todo):  # made as joblib asks for them: one period's rows in memory per worker, not all at once
        for number in todo:
            train, test = plan.test_windows[number].rows(plan.X.index, realised)
            yield delayed(fit_period)(number, plan.X.iloc[train], plan.y.iloc[train], realised[train],
                                      plan.X.iloc[test], specs, training, config.quick, returns, held_out,
                                      plan.y.iloc[test])

    def restore(number, stored):
        return _period_from(stored, plan.X.index[plan.test_windows[number].rows(plan.X.index, realised)[1]])

    periods = []
    with progress(n_periods, verbose, "study period") as advance:
        for _, period in parallel.resumable(keys, journal, jobs, _period_record, restore, n_jobs or config.n_jobs):
            periods.append(period)
            advance()
    periods.sort(key=lambda p: p.number)
    predictions, ensemble_weights = _with_ensembles(periods, config)
    horizon = at_horizon(plan.outcomes, predictions.index, config.label, config.lag)  # the period the book holds
    predictions["label"], predictions["forward_return"] = horizon["label"], horizon["forward_return"]
    books, weights = {}, {}
    for name in config.models:
        for k in plan.ks:
            _, weights[name, k], books[name, k] = strategy.run(predictions[name], plan.outcomes, k, config.cost_bps,
                                                               config.seed, config.lag)
    seconds = {name: float(sum(p.seconds[name] for p in periods)) for name in singles}
    say(verbose, "  seconds per family: " + ", ".join(f"{name} {s:.0f}" for name, s in seconds.items()))
    return Study(plan, list(config.models), predictions, periods, books, weights, ensemble_weights, seconds)


def _daily_returns(plan, specs: dict) -> DailyReturns | None:
    """Read the price panel's daily returns when a sequence family is among ``specs``, else None.

    ``RunConfig`` has checked that the recipe is daily, so that every row's date is a trading day of the panel.
    """
    wanted = any(families.reads_sequences(name, settings) for name, settings in specs.items())
    return DailyReturns(plan.panel.prices) if wanted else None


def _period_record(period: Period) -> dict:
    """Turn a period into a journal record: each model's probabilities and importances as arrays, the rest JSON."""
    names = list(period.probabilities.columns)
    return {"number": period.number, "models": names, "gini": period.gini, "holdout_gini": period.holdout_gini,
            "seconds": period.seconds, "train_rows": period.train_rows,
            **{f"probability_{i}": period.probabilities[name].to_numpy() for i, name in enumerate(names)},
            **{f"importance_{i}": np.asarray(period.importance[name]) for i, name in enumerate(names)}}


def _period_from(record: dict, index: pd.MultiIndex) -> Period:
    """Read the period a journal record holds, its probabilities on the trading rows ``index``."""
    names = record["models"]
    probabilities = pd.DataFrame({name: record[f"probability_{i}"] for i, name in enumerate(names)}, index=index)
    return Period(record["number"], probabilities, record["gini"],
                  {name: record[f"importance_{i}"] for i, name in enumerate(names)}, record["seconds"],
                  record["train_rows"], record["holdout_gini"])


def _with_ensembles(periods: list[Period], config) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """Gather every model's probabilities and average the ensembles with their weights per period.

    Returns the probabilities (rows (date, ticker), a ``window`` column, the study period, and one column per
    model) and each ensemble's member weights, one row per period.
    """
    parts, weights = [], {name: [] for name in config.models if name in ENSEMBLES}
    for period in periods:
        frame = period.probabilities.copy()
        for name in weights:
            members = families.members(name, config.model)
            w = families.ensemble_weights(name, {m: period.holdout_gini.get(m, np.nan) for m in members})
            frame[name] = sum(w[m] * frame[m] for m in members)
            weights[name].append(pd.Series(w, name=period.number))
        frame.insert(0, "window", period.number)
        parts.append(frame)
    predictions = pd.concat(parts)[["window", *config.models]]
    return predictions, {name: pd.DataFrame(rows) for name, rows in weights.items()}


# ---------------------------------------------------------------------------------------------------- tables
def measures(returns: pd.Series, periods_per_year: int) -> dict:
    """Measure a daily return series as Krauss, Do and Huck (2017) tabulate it.

    Parameters
    ----------
    returns : pd.Series
        Returns a period; NaN is dropped.
    periods_per_year : int
        To annualise.

    Returns
    -------
    dict
        ``days``; with two days or more also ``mean``, ``std_error``, ``t_stat``, ``newey_west_t``, ``std``,
        ``sharpe`` (annualised), ``share_positive`` and ``max_drawdown``.
    """
    r = returns.dropna()
    n = len(r)
    if n < 2:
        return {"days": n}
    mean, std = float(r.mean()), float(r.std(ddof=1))
    performance = bt.performance(r, periods_per_year)
    se = std / np.sqrt(n)
    return {"days": n, "mean": mean, "std_error": se, "t_stat": mean / se if se > 0 else float("nan"),
            "newey_west_t": performance["newey_west_t"], "std": std,
            "sharpe": performance["sharpe"], "share_positive": performance["hit_rate"],
            "max_drawdown": performance["max_drawdown"]}


def row(book: pd.DataFrame, periods_per_year: int) -> dict:
    """Measure one book: ``measures`` before costs, and the mean, t-statistic and Sharpe ratio after costs.

    Also the mean ``turnover`` and ``break_even_bps``.
    """
    before = measures(book["before_costs"], periods_per_year)
    after = measures(book["after_costs"], periods_per_year)
    return {**before, "mean_after_costs": after.get("mean"), "t_stat_after_costs": after.get("t_stat"),
            "sharpe_after_costs": after.get("sharpe"), "turnover": float(book["turnover"].mean())
            if len(book) else float("nan"),
            "break_even_bps": tear_sheet.break_even_bps(book["before_costs"], book["turnover"])}


def k_accuracy(weights: pd.DataFrame, labels: pd.DataFrame) -> float:
    """Compute the share of the book's positions on the right side: longs labelled 1, shorts labelled 0."""
    label = labels.reindex_like(weights).to_numpy(dtype=float)
    w = weights.to_numpy()
    held = (w != 0) & ~np.isnan(label)
    right = ((w > 0) & (label == 1)) | ((w < 0) & (label == 0))
    return float(right[held].mean()) if held.any() else float("nan")


def direction(predictions: pd.DataFrame, model: str) -> dict:
    """Compute a model's accuracy (probability above 0.5 read as 1) and ROC AUC on every labelled trading row."""
    known = labelled(predictions)
    if known["label"].nunique() < 2:
        return {"accuracy": float("nan"), "auc": float("nan")}
    return {"accuracy": float(((known[model] > 0.5) == (known["label"] == 1)).mean()),
            "auc": float(roc_auc_score(known["label"], known[model]))}


def segments(dates: pd.DatetimeIndex, bounds: list[str]) -> list[tuple[str, pd.Timestamp, pd.Timestamp]]:
    """Split ``dates`` into sub-periods at ``bounds``: (label, first day, day after the last) of each non-empty one."""
    edges = [dates.min(), *sorted(pd.Timestamp(b) for b in bounds), dates.max() + pd.Timedelta(days=1)]
    out = []
    for start, end in zip(edges, edges[1:]):
        if start < end and ((dates >= start) & (dates < end)).any():
            last = dates[dates < end].max()
            out.append((f"{max(start, dates.min()).date()} to {last.date()}", start, end))
    return out


def tables(study: Study) -> dict:
    """Tabulate a study as Krauss, Do and Huck (2017) do, model by model.

    Parameters
    ----------
    study : Study
        A finished study.

    Returns
    -------
    dict
        Model -> its ``accuracy`` and ``auc`` (``direction``); ``k``: per k, the book's measures (``row``),
        ``k_accuracy``, ``deflated_sharpe`` over every model and k of the study and the ``trials`` counted;
        ``sub_periods``: the book's measures per sub-period and k; for a single model ``training_gini``,
        ``holdout_gini`` (where measured), ``importance`` (not for a sequence family) and ``seconds``; for an
        ensemble ``members`` and ``mean_weights``.
    """
    plan, config = study.plan, study.plan.config
    per_year = RECIPES[config.recipe].periods_per_year
    labels = plan.y.unstack("ticker")
    dates = study.predictions.index.get_level_values("date").unique()
    parts = segments(dates, config.sub_periods)
    trials = [per_period_sharpe(book["before_costs"].dropna()) for book in study.books.values()]  # every model and k
    out = {}
    for name in study.models:
        figures = {**direction(study.predictions, name), "k": {}, "sub_periods": {}}
        for k in plan.ks:
            book = study.books[name, k]
            figures["k"][str(k)] = {**row(book, per_year), "k_accuracy": k_accuracy(study.weights[name, k], labels),
                                    "deflated_sharpe": deflated_sharpe(book["before_costs"], trials),
                                    "trials": len(trials)}
        for label, start, end in parts:
            figures["sub_periods"][label] = {
                str(k): row(study.books[name, k][(study.books[name, k].index >= start)
                                                 & (study.books[name, k].index < end)], per_year)
                for k in plan.ks}
        if name in ENSEMBLES:
            figures["members"] = families.members(name, config.model)
            figures["mean_weights"] = study.ensemble_weights[name].mean().to_dict()
        else:
            figures["training_gini"] = float(np.mean([p.gini[name] for p in study.periods]))
            if any(name in p.holdout_gini for p in study.periods):
                figures["holdout_gini"] = float(np.nanmean([p.holdout_gini[name] for p in study.periods]))
            if not families.reads_sequences(name, config.model.get(name, {})):
                figures["importance"] = importance(study, name)
            figures["seconds"] = study.seconds[name]
        out[name] = figures
    return out


def importance(study: Study, model: str) -> dict[str, float]:
    """Average a model's permutation importance of each feature over the study periods, scaled to sum to 1.

    Negative importances, noise, count as 0.
    """
    values = np.clip(np.mean([p.importance[model] for p in study.periods], axis=0), 0.0, None)
    total = values.sum()
    return dict(zip(study.plan.X.columns, (values / total if total > 0 else values).tolist()))
