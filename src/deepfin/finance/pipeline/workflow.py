"""``deepfin run``: data, rows known on each date, tuning, walk-forward evaluation, leakage report, backtest.

``plan`` loads and checks everything and makes the rows: a (date, ticker) row exists when the name is priced
and (with a universe) an index member on the date and its features are known then; its label comes from the
next period's outcome and may be unknown (the final period, a halt that outlasts the data). Dates are cut into
walk-forward windows: the first ``tuning_folds`` tune the network, every later one is out of sample. A window
trains only on rows whose label is realised before its first test date, and predicts every test row.
``execute`` trains, predicts, scores and backtests; each step that can fail on the settings or the data is
checked in ``plan``, before the first network trains.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from deepfin._heap import release_free_memory
from deepfin.finance.backtest import book as bt
from deepfin.finance.backtest import strategy
from deepfin.finance.data.prices import Panel, PriceReport, validate_prices
from deepfin.finance.data.synthetic import SyntheticUniverse
from deepfin.finance.data.universe import Universe
from deepfin.finance.models.network import estimator
from deepfin.finance.models.search import best_params, deflated_sharpe, grid_search, results_table, selection_bias
from deepfin.finance.panel.features import KRAUSS_HORIZONS, RECIPES, CalendarDummies
from deepfin.finance.panel.outcomes import Outcomes, at_horizon, delisting_assumption, label, next_period_outcomes
from deepfin.finance.panel.periods import Grid, grid
from deepfin.finance.pipeline.config import PAPER_KS, RunConfig, fix
from deepfin.finance.pipeline.console import progress, say
from deepfin.finance.pipeline.ledger import Trials
from deepfin.finance.pipeline.sources import load_sources
from deepfin.finance.validation.measures import (
    auc_by_window,
    bootstrap_auc,
    ic_summary,
    information_coefficient,
    labelled,
    per_date_auc,
)
from deepfin.finance.validation.predictions import shuffled_cv_auc, walk_forward_predictions
from deepfin.finance.validation.walk_forward import Window, walk_forward


@dataclass(kw_only=True)
class Plan:
    """What a run will do, known before any training: the data, the rows and their outcomes, windows, k.

    Attributes
    ----------
    config : RunConfig
        The settings, resolved (the recipe's defaults filled in).
    panel : Panel
        The validated prices and delisting returns.
    price_report : PriceReport
        What loading and validation found.
    universe : Universe or None
        The index membership.
    outcomes : Outcomes
        Every (grid date, ticker)'s next-period outcome.
    members : pd.DataFrame
        Booleans, grid dates by tickers: the index members (every name without a universe).
    X : pd.DataFrame
        The rows, indexed by (date, ticker): members on the date with known features.
    y : pd.Series
        Their labels, NaN where the outcome is unknown.
    rows : pd.DataFrame
        Their outcomes (``Outcomes.at``): ``forward_return``, ``realised`` and the flags.
    tuning_windows, test_windows : list of Window
        The windows the grid search is scored on, and those evaluated out of sample.
    k : int
        Names a side of the book.
    counts : dict
        What the rows leave out, and why.
    ks : list of int
        The study's book sizes (``[k]`` for a tuned network's run).
    warnings : list of str
        What may bias every figure, said first in the report.
    """

    config: RunConfig
    panel: Panel
    price_report: PriceReport
    universe: Universe | None
    outcomes: Outcomes
    members: pd.DataFrame
    X: pd.DataFrame
    y: pd.Series
    rows: pd.DataFrame
    tuning_windows: list[Window]
    test_windows: list[Window]
    k: int
    counts: dict
    ks: list[int]
    warnings: list[str] = field(default_factory=list)  # what may bias every figure, said first in the report


@dataclass(kw_only=True)
class Result:
    """Everything a run found; ``deepfin.finance.report.run.write`` turns it into files.

    Attributes
    ----------
    plan : Plan
        The run's plan.
    search_table : pd.DataFrame
        The grid search's candidates (``results_table``).
    best_params : dict
        The chosen network's settings (the last window's, with ``tuning = "per_window"``).
    predictions : pd.DataFrame
        Every test row: ``window``, ``probability``, ``label`` and ``forward_return`` (of the period the book
        holds).
    windows : pd.DataFrame
        Per test window: rows, AUC, per-date AUC, IC (``window_table``).
    auc : tuple of float
        The pooled AUC and its 95% interval.
    date_auc : pd.Series
        The AUC within each date.
    ic : pd.Series
        The rank IC of each date.
    leakage : dict
        The shuffled evaluation's AUCs beside the walk-forward one (``leakage_report``).
    strategy : pd.DataFrame
        The book's returns per trade date (``book_returns``).
    weights : pd.DataFrame
        The book's weights.
    benchmarks : pd.DataFrame
        The universe equal-weighted and the S&P 500 index, per trade date.
    deciles : pd.Series
        The mean next-period return by decile of the prediction.
    selection : dict
        The selection bias and the deflated Sharpe ratios, with the trials counted.
    positions : dict
        How the book's positions ended (``strategy.positions``).
    model : DateHoldoutClassifier
        The network fitted on the last window.
    chosen_by_window : list or None
        With ``tuning = "per_window"``, each test window's choice.
    ic_decay : list of dict
        The rank IC against the return 0, 1, ... periods later (``ic_decay``).
    """

    plan: Plan
    search_table: pd.DataFrame
    best_params: dict
    predictions: pd.DataFrame
    windows: pd.DataFrame
    auc: tuple[float, float, float]
    date_auc: pd.Series
    ic: pd.Series
    leakage: dict
    strategy: pd.DataFrame
    weights: pd.DataFrame
    benchmarks: pd.DataFrame
    deciles: pd.Series
    selection: dict
    positions: dict
    model: object
    chosen_by_window: list | None = None  # tuning = "per_window": each test window's choice
    ic_decay: list = field(default_factory=list)  # the rank IC against the return 0, 1, ... periods later


def plan(config: RunConfig, prices: pd.DataFrame | Panel | SyntheticUniverse | None = None,
         universe: Universe | pd.DataFrame | None = None) -> Plan:
    """Load and check the data, make the rows, their outcomes and the windows: everything before training.

    Every step that could fail on the settings or the data fails here, before the first network trains.

    Parameters
    ----------
    config : RunConfig
        The settings (resolved here).
    prices : pd.DataFrame, Panel, SyntheticUniverse or None, default None
        Prices given from Python instead of ``config.data``; a ``SyntheticUniverse`` brings its own membership.
    universe : Universe, pd.DataFrame or None, default None
        Membership given from Python instead of ``config.universe``.

    Returns
    -------
    Plan
        The data, the rows, their labels and outcomes, the windows and k.

    Raises
    ------
    ValueError
        On any setting the data cannot meet (too few dates for the windows, too few names for k, a lag that
        leaves no trade date, weekly prices for the daily recipe, a universe that names no priced asset, ...);
        the message says which setting to change, and how.

    Examples
    --------
    >>> from deepfin.finance import RunConfig
    >>> run = plan(RunConfig(data="synthetic:30,years=6", train_size=24, test_size=12, tuning_folds=1))
    >>> run.X.shape, int(run.k), len(run.tuning_windows), len(run.test_windows)
    ((1253, 24), 6, 1, 1)
    >>> [window.label() for window in run.test_windows]
    ['2005-02-28 to 2005-09-30']
    """
    config = config.resolved()
    recipe = RECIPES[config.recipe]
    panel, universe = load_sources(config, prices, universe)
    clean, price_report = validate_prices(panel.prices, panel.source)
    _check_spacing(price_report.spacing, recipe, panel.source)
    price_report.notes[:0] = panel.notes
    panel = replace(panel, prices=clean)
    grid_dates = grid(clean, recipe.period)
    outcomes = next_period_outcomes(clean, grid_dates, panel.delisting_returns,
                                    delisting_assumption(config.delisting_return), config.max_halt)
    members = (universe.mask(grid_dates.trading_dates, clean.columns).set_axis(grid_dates.labels)
               if universe is not None else pd.DataFrame(True, index=grid_dates.labels, columns=clean.columns))
    features = recipe.features(clean, **({"lags": config.lags} if recipe.name == "monthly" else {}))
    X = features
    if universe is not None:
        X = features[members.stack(future_stack=True).reindex(features.index, fill_value=False).to_numpy(bool)]
    if X.empty and universe is not None and not features.empty:
        raise ValueError("No (date, ticker) row is both an index member and has known features: check that the "
                         "universe file names the same assets (and dates) as the price data.")
    if X.empty:
        raise ValueError(f"No (date, ticker) row has known features: the {recipe.name} recipe's features need "
                         f"{_history(recipe.name, config.lags)} of prices before a row's date, and the data hold "
                         f"{price_report.n_dates} dates ({clean.index[0].date()} to {clean.index[-1].date()}).")
    rows = outcomes.at(X.index)
    y = label(rows["forward_return"], config.label, in_median=~rows["halted"])
    folds = 0 if config.study else config.tuning_folds  # a study fits fixed settings: every window is a test
    windows = _windows(X, y, config, folds)
    ks = _check_ks(X, windows[folds:], config) if config.study else None
    k = ks[0] if config.study else _check_k(X, windows, config)
    _check_lag_and_holdout(windows[folds:], config)
    counts = _counts(outcomes, members, features, X, rows, clean)
    if universe is not None:
        counts.update(_unpriced_members(universe, grid_dates, outcomes))
        if counts["member_dates_before_first_price"] or counts["members_never_priced"]:
            price_report.notes.append(
                f"{counts['member_dates_before_first_price']:,} (date, member) pairs before the member's first price "
                f"and {counts['members_never_priced']} members never priced: a price file that lacks part of the "
                "index's history biases every figure toward the names it kept")
    return Plan(config=config, panel=panel, price_report=price_report, universe=universe, outcomes=outcomes,
                members=members, X=X, y=y, rows=rows, tuning_windows=windows[:folds], test_windows=windows[folds:],
                k=k, counts=counts, ks=ks or [k],
                warnings=_warnings(universe, outcomes) + _short_evaluation(X, y, windows[folds:], config))


def _check_spacing(spacing: str, recipe, source: str) -> None:
    """Refuse dates that are not trading days for the daily recipe.

    Weekly or monthly prices would make days of weeks, annualised with 252 periods a year.
    """
    if recipe.name == "daily" and spacing != "day":
        what = "irregular, most of them more than 4 days apart" if spacing == "irregular" else f"{spacing}ly"
        raise ValueError(f"{source}: the dates are {what}, not trading days; the daily recipe needs daily prices. "
                         "Use recipe = \"monthly\" (any prices with one near each month's end), or give daily "
                         "prices.")


def _history(recipe: str, lags: int) -> str:
    return f"{lags + 1} month ends" if recipe == "monthly" else f"{max(KRAUSS_HORIZONS) + 1} trading days"


def _short_evaluation(X: pd.DataFrame, y: pd.Series, tests: list[Window], config: RunConfig) -> list[str]:
    """Warn when fewer dates with outcomes are evaluated out of sample than half a test window.

    The figures of a few dates say little.
    """
    dates = X.index.get_level_values("date")
    known = pd.Index(dates[y.notna().to_numpy()].unique())
    evaluated = int(sum(known.isin(window.test).sum() for window in tests))
    if evaluated >= max(2, config.test_size // 2):
        return []
    period = RECIPES[config.recipe].period
    return [f"Only {evaluated} {period}(s) with outcomes are evaluated out of sample (test_size={config.test_size}): "
            f"every out-of-sample figure rests on them. Give more data, or a smaller train_size."]


def _warnings(universe: Universe | None, outcomes: Outcomes) -> list[str]:
    """Say what may bias every figure of the run.

    Survivorship, when no membership is given and no name of the data stops trading before they end (delisted
    in the outcomes).
    """
    if universe is not None or outcomes.delisted.any():
        return []
    return [f"Survivorship bias: no index membership was given and none of the {len(outcomes.tickers)} names stops "
            f"trading before the data end ({outcomes.grid.labels[-1].date()}), as in a file of today's survivors. "
            "The names that failed or left are missing, so returns, Sharpe ratios and the long-short book are "
            "biased upward. Give the membership on each date (universe) and the prices of the names that left."]


def _windows(X: pd.DataFrame, y: pd.Series, config: RunConfig, folds: int) -> list[Window]:
    """Cut the rows' dates into walk-forward windows: enough with labelled test dates for tuning and one test.

    Otherwise raise an error that says which setting to change, to what, and how. The last dates, whose
    outcomes are not known yet, are predicted in the last window but count for nothing here.
    """
    dates = X.index.get_level_values("date").unique()
    period, gap = RECIPES[config.recipe].period, config.purge + config.embargo
    n = int(y.notna().groupby(level="date").any().sum())  # dates with an outcome
    most_train = n - gap - folds * config.test_size - 1  # ceil((n - train - gap) / test) windows >= folds + 1
    most_test = -(-(n - config.train_size - gap) // folds) - 1 if folds else 0
    if most_train < config.train_size:
        advised = most_train + 1 - max(1, config.test_size // 2)  # leaves half a test window, not one date
        advised = advised if advised >= 1 else most_train
        options = [fix("train_size", advised)] if advised >= 1 else []
        options += [fix("test_size", most_test)] if most_test >= 1 else []
        options += [fix("tuning_folds", 1)] if folds > 1 and n - config.train_size - gap > config.test_size else []
        advice = ("Set " + ", or ".join(options) + ".") if options else "Give more data."
        needed = (f"fewer than tuning_folds={folds} walk-forward windows for tuning plus one for the evaluation"
                  if folds else "no study period")
        raise ValueError(
            f"The rows cover {n} {period}s with outcomes ({dates[0].date()} to {dates[n - 1].date()}): train_size="
            f"{config.train_size}, test_size={config.test_size} and a gap of {gap} leave {needed}. {advice}")
    return walk_forward(dates, config.train_size, config.test_size, config.window == "expanding", config.purge,
                        config.embargo)


def _check_k(X: pd.DataFrame, windows: list[Window], config: RunConfig) -> int:
    """Choose k and check it against every tuning and test date.

    By default k is a quarter of the names on the first out-of-sample date, at most 10. Each date must offer
    2k names, or the run would fail after training.
    """
    per_date = _names_per_test_date(X, windows)
    first_test = per_date[windows[config.tuning_folds].test[0]]
    k = config.k if config.k is not None else max(1, min(10, first_test // 4))
    if per_date.min() < 2 * k:
        worst = per_date.idxmin()
        advice = f"Set {fix('k', per_date.min() // 2)}" if per_date.min() >= 2 else "Give data with more names"
        raise ValueError(f"k={k} needs {2 * k} names with features on every tuning and test date, but "
                         f"{worst.date()} has {per_date.min()}. {advice}.")
    return k


def _names_per_test_date(X: pd.DataFrame, windows: list[Window]) -> pd.Series:
    """How many names have a row on each test date of ``windows`` (a book of k needs 2k)."""
    test_dates = pd.DatetimeIndex(np.concatenate([w.test for w in windows]))
    return X.index.get_level_values("date").value_counts().reindex(test_dates)


def _check_ks(X: pd.DataFrame, windows: list[Window], config: RunConfig) -> list[int]:
    """Choose the study's book sizes and check each against the fewest names on a trading date.

    ``ks``, else ``[k]``, else the paper's that fit the first trading date's names, else a quarter of them, at
    most 10. A book of k needs 2k names.
    """
    per_date = _names_per_test_date(X, windows)
    fewest, worst = int(per_date.min()), per_date.idxmin()
    ks = config.ks if config.ks is not None else [config.k] if config.k is not None else None
    if ks is None:  # chosen from the first trading date's names, known then; later dates are checked below
        first = int(per_date.iloc[0])
        ks = [k for k in PAPER_KS if 2 * k <= first] or [max(1, min(10, first // 4))]
    too_big = [k for k in ks if 2 * k > fewest]
    if too_big:
        raise ValueError(f"ks={ks}: k={too_big[0]} needs {2 * too_big[0]} names on every trading date, but "
                         f"{worst.date()} has {fewest}, so k can be at most {fewest // 2}. "
                         f"Set {fix('ks', [k for k in ks if 2 * k <= fewest] or [max(1, fewest // 2)])}.")
    return list(ks)


def _counts(outcomes: Outcomes, members: pd.DataFrame, features: pd.DataFrame, X: pd.DataFrame,
            rows: pd.DataFrame, prices: pd.DataFrame) -> dict:
    """What the rows leave out, and why: nothing is dropped without being counted."""
    tradable = outcomes.tradable
    member = members.reindex(columns=outcomes.tickers).to_numpy(bool)
    in_rows = set(X.index.get_level_values("ticker"))
    return {"names": int(prices.shape[1]), "names_with_rows": len(in_rows),
            "names_without_rows": int(prices.shape[1] - len(in_rows)),
            "tradable_rows": int(tradable.sum()),
            "not_members": int((tradable & ~member).sum()),
            "without_features": int((tradable & member).sum() - len(X)),
            "rows": len(X), "rows_without_outcome": int(rows["forward_return"].isna().sum()),
            "rows_delisted": int(rows["delisted"].sum()), "rows_delisted_assumed": int(rows["assumed"].sum()),
            "rows_halted": int(rows["halted"].sum()), "features_known_rows": len(features)}


def _check_lag_and_holdout(windows: list[Window], config: RunConfig) -> None:
    """Check that the lag leaves trade dates, and each training window room for early stopping.

    The lag must leave trade dates in the test ``windows``, and each training window room for early stopping's
    held-out dates and purge.
    """
    test_dates = sum(len(w.test) for w in windows)
    if config.lag >= test_dates:
        raise ValueError(f"lag={config.lag} leaves no trade date among the {test_dates} out-of-sample dates. "
                         f"Set {fix('lag', 0)}.")

    def fit_dates(train: int) -> int:
        return train - max(1, int(round(config.validation_split * train))) - config.purge

    if fit_dates(config.train_size) < 1:
        least = next(n for n in range(config.train_size, 10 * config.train_size + 10) if fit_dates(n) >= 1)
        raise ValueError(f"train_size={config.train_size} leaves no training date once early stopping holds out "
                         f"validation_split={config.validation_split} of them and a purge of {config.purge}. "
                         f"Set {fix('train_size', least)}.")


def _unpriced_members(universe: Universe, grid_dates: Grid, outcomes: Outcomes) -> dict:
    """Count the index members on a date before their first price, and the members never priced.

    That is the part of the index's history a price file lacks (a member unpriced after its last price has
    delisted, which is normal).
    """
    names = universe.tickers.union(outcomes.tickers)
    members = universe.mask(grid_dates.trading_dates, names).to_numpy()
    priced = outcomes.frame("tradable").reindex(columns=names, fill_value=False).to_numpy(bool)
    before_first = np.cumsum(priced, axis=0) == 0
    never = members.any(axis=0) & ~priced.any(axis=0)
    return {"member_dates_before_first_price": int((members & before_first & ~never).sum()),
            "members_never_priced": int(never.sum())}


def execute(plan: Plan, verbose: int = 1, journal=None, earlier: Trials | None = None) -> Result:
    """Run the plan: tune, evaluate walk-forward, compare with the shuffled evaluation, backtest.

    The shuffled evaluation is that of Jansen (2020, ch. 17) (``leakage_report``).

    Parameters
    ----------
    plan : Plan
        ``plan``'s result.
    verbose : int, default 1
        0: print nothing; else lines and progress bars.
    journal : Journal or None, default None
        With a journal (``deepfin.finance.pipeline.journal``) every fit, window and fold is recorded as it
        finishes, and those it already holds are not run again.
    earlier : Trials or None, default None
        The trials earlier runs on the same data evaluated (the ledger's), which the deflated Sharpe ratio
        counts with this run's.

    Returns
    -------
    Result
        Everything the run found.

    Examples
    --------
    >>> from deepfin.finance import RunConfig
    >>> run = plan(RunConfig(data="synthetic:30,years=6", train_size=24, test_size=12, tuning_folds=1,
    ...                      quick=True))
    >>> result = execute(run, verbose=0)  # doctest: +SKIP
    >>> sorted(result.leakage)  # doctest: +SKIP
    ['walk_forward', 'walk_forward_interval', 'with_dummies', 'without_dummies']
    """
    earlier = earlier or Trials()
    config = plan.config
    release_free_memory()  # what building the plan freed: the stages' worker processes come on top of this one

    def model_with(**params):  # dummies of the years its training rows have (point in time), with `dummies`
        params = {"calendar": CalendarDummies(years=None) if config.dummies else None, **params}
        return estimator(return_columns(plan.X), epochs=config.epochs, batch_size=config.batch_size,
                         patience=config.patience, validation_split=config.validation_split, purge=config.purge,
                         random_state=config.seed, **params)

    if config.tuning == "per_window":
        table, by_window, predictions, fitted, auc = tune_per_window(plan, model_with, verbose, journal)
        chosen = by_window[-1]["params"]
    else:
        table = tune(plan, model_with(), verbose, journal=journal)
        chosen, by_window = best_params(table), None
        say(verbose, f"  best {chosen}, walk-forward AUC {table['mean_auc'].iloc[0]:.4f}")
        predictions, fitted, auc = out_of_sample(plan, model_with(**chosen), verbose, journal)
    date_auc, ic = per_date_auc(predictions), information_coefficient(predictions)
    say(verbose, f"  per-date AUC {date_auc.mean():.4f}, rank IC {ic.mean():+.4f}")
    say(verbose, f"Leakage report: Jansen (2020)'s shuffled {config.shuffled_folds}-fold evaluation, with and "
                 "without year/month dummies")
    release_free_memory()  # the leakage report's folds, on 80% of all rows, are the run's peak
    leakage = leakage_report(model_with, chosen, (plan.X, plan.y), auc, config, verbose, journal)
    signals, weights, book = backtest(plan, predictions["probability"])
    trials = [*table.get("sharpe", []), *earlier.sharpe]
    selection = {**selection_bias(table),
                 "deflated_sharpe": deflated_sharpe(book["before_costs"], trials),
                 "deflated_sharpe_after_costs": deflated_sharpe(book["after_costs"], [
                     *table.get("sharpe_after_costs", []), *earlier.sharpe_after_costs]),
                 "trials": len(trials), "trial_runs": len(earlier.runs) + 1, "earlier_runs": earlier.runs}
    benchmarks = strategy.benchmarks(plan.outcomes, plan.members, book.index, RECIPES[config.recipe].period,
                                     real_dates=not plan.panel.simulated)
    positions = strategy.positions(plan.outcomes, plan.panel.prices, plan.panel.delisting_returns, signals, weights,
                                   book, plan.k, config.lag)
    return Result(plan=plan, search_table=table, best_params=chosen, predictions=predictions,
                  windows=window_table(plan, predictions, date_auc, ic), auc=auc, date_auc=date_auc, ic=ic,
                  leakage=leakage, strategy=book, weights=weights, benchmarks=benchmarks,
                  deciles=bt.decile_returns(predictions, predictions["forward_return"]), selection=selection,
                  positions=positions, model=fitted, chosen_by_window=by_window, ic_decay=ic_decay(plan, predictions))


def ic_decay(plan: Plan, predictions: pd.DataFrame, lags: int = 5) -> list[dict]:
    """Compute the rank IC against the return of the period starting 0, 1, ..., ``lags`` periods after the signal.

    That is alphalens's IC decay: how long the signal lasts, and what trading it ``lag`` periods late leaves of
    it.

    Returns
    -------
    list of dict
        One per lag: ``lag`` and ``ic_summary``'s figures.
    """
    return [{"lag": lag, **ic_summary(information_coefficient(predictions.assign(
        forward_return=plan.outcomes.at(predictions.index, lag)["forward_return"])))} for lag in range(lags + 1)]


def tune(plan: Plan, model, verbose: int = 1, folds: list[Window] | None = None,
         known_by: pd.Timestamp | None = None, journal=None) -> pd.DataFrame:
    """Run the grid search on ``folds`` (the tuning windows), each fold scored by AUC and its book's Sharpe ratio.

    Both are scored from outcomes known by ``known_by`` (the first out-of-sample date); the fits are recorded
    in ``journal``.

    Returns
    -------
    pd.DataFrame
        The candidates, best first (``results_table``).
    """
    config = plan.config
    folds = plan.tuning_windows if folds is None else folds
    known_by = plan.test_windows[0].test[0] if known_by is None else known_by
    dates = plan.outcomes.grid.labels
    last_trade = dates[dates.get_loc(known_by) - 1]  # a trade on it is realised on the first out-of-sample date

    def fold_book(probability: pd.Series) -> pd.DataFrame:
        book = backtest(plan, probability)[2]
        return book[book.index < last_trade]

    n_candidates = int(np.prod([len(v) for v in config.grid.values()]))
    say(verbose, f"Tuning: {n_candidates} candidates x {len(folds)} walk-forward folds "
                 f"(test {folds[0].test[0].date()} to {folds[-1].test[-1].date()})")
    with progress(n_candidates * len(folds), verbose, "fit") as advance:
        search = grid_search(model, config.grid, plan.X, plan.y, folds, plan.rows["realised"],
                             fold_book, known_by, advance, config.n_jobs,
                             None if journal is None else journal.scoped("tuning", str(known_by)))
    return results_table(search)


def tune_per_window(plan: Plan, model_with, verbose: int = 1, journal=None):
    """Tune before each test window (nested walk-forward), and fit the winner on the window.

    Before each test window, the grid search runs on the ``tuning_folds`` windows just before it (scored on
    outcomes known by its first date). Returns the first window's search table (the tune-once search), each
    window's choice, the predictions, the last window's model and the pooled AUC.
    """
    folds = len(plan.tuning_windows)
    windows = plan.tuning_windows + plan.test_windows
    parts, by_window, table, fitted = [], [], None, None
    say(verbose, f"Tuning before each of the {len(plan.test_windows)} test windows (tuning = \"per_window\")")
    for number, window in enumerate(plan.test_windows):
        found = tune(plan, model_with(), 0, windows[number:number + folds], window.test[0], journal)
        chosen = best_params(found)
        table = found if table is None else table
        by_window.append({"window": number, "test_start": str(window.test[0].date()), "params": chosen,
                          "tuning_auc": float(found["mean_auc"].iloc[0])})
        say(verbose, f"  window {number} ({window.test[0].date()}): {chosen}, walk-forward AUC "
                     f"{found['mean_auc'].iloc[0]:.4f}")
        part, fitted = walk_forward_predictions(model_with(**chosen), plan.X, plan.y, [window], plan.rows["realised"],
                                                journal=journal, last_model=number == len(plan.test_windows) - 1)
        parts.append(part.assign(window=number))
    predictions, auc = _pooled(plan, pd.concat(parts), verbose)
    return table, by_window, predictions, fitted, auc


def out_of_sample(plan: Plan, model, verbose: int = 1, journal=None):
    """Predict every test row with ``model`` refitted on each test window.

    Returns the predictions (with their next-period returns), the last window's model, and the pooled AUC with
    its interval.
    """
    config = plan.config
    say(verbose, f"Out of sample: {len(plan.test_windows)} windows of {config.test_size} "
                 f"{RECIPES[config.recipe].period}s")
    with progress(len(plan.test_windows), verbose, "window") as advance:
        predictions, fitted = walk_forward_predictions(model, plan.X, plan.y, plan.test_windows,
                                                       plan.rows["realised"], advance, config.n_jobs, journal)
    predictions, auc = _pooled(plan, predictions, verbose)
    return predictions, fitted, auc


def _pooled(plan: Plan, predictions: pd.DataFrame, verbose: int):
    """Label the predictions by the period the book holds, and pool their AUC.

    The label and return are those of the period ``lag`` periods after the signal (``at_horizon``); the pooled
    AUC and its interval are also printed.
    """
    config = plan.config
    horizon = at_horizon(plan.outcomes, predictions.index, config.label, config.lag)
    predictions["label"], predictions["forward_return"] = horizon["label"], horizon["forward_return"]
    auc = bootstrap_auc(predictions, config.bootstrap, seed=config.seed)
    left_out = len(predictions) - len(labelled(predictions))
    say(verbose, f"  AUC {auc[0]:.4f}, 95% interval [{auc[1]:.4f}, {auc[2]:.4f}] over {len(predictions) - left_out} "
                 f"predictions with outcomes ({left_out} without)")
    return predictions, auc


def backtest(plan: Plan, probability: pd.Series):
    """The signals on their trade dates, the book's weights and its per-date returns (``strategy.run``)."""
    config = plan.config
    return strategy.run(probability, plan.outcomes, plan.k, config.cost_bps, config.seed, config.lag)


def window_table(plan: Plan, predictions: pd.DataFrame, date_auc: pd.Series, ic: pd.Series) -> pd.DataFrame:
    """Tabulate each test window's rows and measures.

    Returns
    -------
    pd.DataFrame
        Per test window: training rows and those left out (label not known before the test), test rows and
        labelled ones, pooled AUC, mean per-date AUC, mean rank IC.
    """
    table = auc_by_window(predictions, plan.test_windows)
    trained = [len(window.rows(plan.X.index, plan.rows["realised"])[0]) for window in plan.test_windows]
    on_dates = [len(window.rows(plan.X.index)[0]) for window in plan.test_windows]
    table.insert(2, "train_rows", trained)
    table.insert(3, "train_rows_left_out", np.subtract(on_dates, trained))
    window_of = predictions["window"].groupby(level="date").first()
    table["date_auc"] = date_auc.groupby(window_of.reindex(date_auc.index)).mean().reindex(table["window"]).to_numpy()
    table["ic"] = ic.groupby(window_of.reindex(ic.index)).mean().reindex(table["window"]).to_numpy()
    return table


def leakage_report(model_with, chosen: dict, data: tuple[pd.DataFrame, pd.Series], auc, config: RunConfig,
                   verbose: int, journal=None) -> dict:
    """Score the chosen network by shuffled K-fold, with and without calendar dummies, beside the walk-forward AUC.

    That is the evaluation of Jansen (2020, ch. 17); ``deepfin.finance.report.narrative`` says why the figures
    differ. ``data`` is the rows and their labels; the rows whose label is not known (NaN) take no part.

    Returns
    -------
    dict
        ``with_dummies``, ``without_dummies`` (the shuffled AUCs), ``walk_forward`` and
        ``walk_forward_interval``.
    """
    X, y = data
    returns = return_columns(X)
    returns_only = X if list(X.columns) == returns else X[returns]  # no copy of the rows when it is all
    # the model makes the dummies of the rows each fold takes: the panel's returns are all it is sent
    with progress(2 * config.shuffled_folds, verbose, "fit") as advance:
        figures = {name: shuffled_cv_auc(model_with(calendar=calendar, **chosen), returns_only, y,
                                         config.shuffled_folds, config.seed, advance, config.n_jobs, journal)
                   for name, calendar in (("with_dummies", CalendarDummies.of(returns_only)),
                                          ("without_dummies", None))}
    figures["walk_forward"] = auc[0]
    figures["walk_forward_interval"] = [auc[1], auc[2]]
    return figures


def return_columns(X: pd.DataFrame) -> list[str]:
    """List the feature columns that are returns (not calendar dummies ``year_*``, ``month_*``)."""
    return [c for c in X.columns if not c.startswith(("year_", "month_"))]
