"""``deepfin run``: prices -> features -> tuning -> walk-forward evaluation -> leakage report -> backtest.

Dates are cut into walk-forward windows. The first ``tuning_folds`` windows tune the network (a grid search
scored by ROC AUC on their test dates); every later window is out of sample: the chosen network is refitted
on its training dates and predicts its test dates, which no step before has seen. Each step that can fail on
the settings or the data is checked before the first network trains.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from deepfin.finance import backtest as bt
from deepfin.finance.config import RunConfig
from deepfin.finance.evaluation import auc_by_window, bootstrap_auc, shuffled_cv_auc, walk_forward_predictions
from deepfin.finance.features import RECIPES, with_calendar_dummies
from deepfin.finance.model import estimator
from deepfin.finance.prices import PriceReport, load_prices, validate_prices
from deepfin.finance.tuning import best_params, grid_search, results_table
from deepfin.finance.validation import Window, walk_forward
from deepfin.utils.progbar import Progbar


@dataclass
class Plan:
    """What a run will do, known before any training: the data, its rows, the windows, k."""

    config: RunConfig
    price_report: PriceReport
    X: pd.DataFrame
    y: pd.Series
    forward_returns: pd.Series
    tuning_windows: list[Window]
    test_windows: list[Window]
    k: int


@dataclass
class Result:
    """Everything a run found; ``report.write`` turns it into files."""

    plan: Plan
    search_table: pd.DataFrame
    best_params: dict
    predictions: pd.DataFrame
    windows_auc: pd.DataFrame
    auc: tuple[float, float, float]
    leakage: dict
    strategy: pd.DataFrame
    benchmarks: pd.DataFrame
    deciles: pd.Series
    model: object


def plan(config: RunConfig, prices: pd.DataFrame | None = None) -> Plan:
    """Load (``config.data``, or ``prices`` given as a DataFrame) and check the prices, make the rows and the
    windows; raises on any setting the data cannot meet."""
    config = config.resolved()
    recipe = RECIPES[config.recipe]
    source = config.data if prices is None else prices
    prices, report = validate_prices(load_prices(source), min_history=config.min_history)
    k = config.k_for(prices.shape[1])
    X, y = recipe.features(prices, **({"lags": config.lags} if recipe.name == "monthly" else {}))
    if config.dummies:
        X = with_calendar_dummies(X)
    windows = _windows(X, config)
    _check_names_per_date(X, windows[config.tuning_folds:], k)
    forward = recipe.forward_returns(prices).reindex(X.index)
    return Plan(config, report, X, y, forward, windows[:config.tuning_folds], windows[config.tuning_folds:], k)


def _windows(X: pd.DataFrame, config: RunConfig) -> list[Window]:
    """The walk-forward windows over the rows' dates; enough of them for tuning and one test, or an error."""
    dates = X.index.get_level_values("date").unique()
    period = RECIPES[config.recipe].period
    if config.test_size > len(dates):
        raise ValueError(f"test_size={config.test_size} {period}s is longer than the data: the features cover "
                         f"{len(dates)} {period}s ({dates[0].date()} to {dates[-1].date()}). Lower test_size.")
    windows = walk_forward(dates, config.train_size, config.test_size, config.window == "expanding", config.purge,
                           config.embargo)
    if len(windows) < config.tuning_folds + 1:
        raise ValueError(
            f"The features cover {len(dates)} {period}s; train_size={config.train_size}, test_size="
            f"{config.test_size} and a gap of {config.purge + config.embargo} give {len(windows)} walk-forward "
            f"windows, but tuning needs tuning_folds={config.tuning_folds} and the evaluation at least one more. "
            "Shorten train_size or test_size, or lower tuning_folds.")
    return windows


def _check_names_per_date(X: pd.DataFrame, test_windows: list[Window], k: int) -> None:
    """Every test date must offer 2k tickers to the backtest, or the run would fail after training."""
    test_dates = pd.DatetimeIndex(np.concatenate([w.test for w in test_windows]))
    names = X.index.get_level_values("date").value_counts().reindex(test_dates)
    if names.min() < 2 * k:
        raise ValueError(f"k={k} needs {2 * k} tickers with features on every test date, but {names.idxmin().date()} "
                         f"has {names.min()}. Lower k, or give data where more tickers have enough history.")


def execute(plan: Plan, verbose: int = 1) -> Result:
    """Tune, evaluate walk-forward, compare with the seed's shuffled evaluation, backtest."""
    config, X, y = plan.config, plan.X, plan.y
    recipe = RECIPES[config.recipe]

    def model_with(**params):
        return estimator(return_columns(X), epochs=config.epochs, batch_size=config.batch_size,
                         patience=config.patience, validation_split=config.validation_split,
                         random_state=config.seed, **params)

    n_candidates = int(np.prod([len(v) for v in config.grid.values()]))
    say(verbose, f"Tuning: {n_candidates} candidates x {len(plan.tuning_windows)} walk-forward folds "
                 f"(test {plan.tuning_windows[0].test[0].date()} to {plan.tuning_windows[-1].test[-1].date()})")
    with progress(n_candidates * len(plan.tuning_windows), verbose, "fit") as advance:
        search = grid_search(model_with(), config.grid, X, y, plan.tuning_windows, advance)
    chosen = best_params(search)
    say(verbose, f"  best {chosen}, walk-forward AUC {search.best_score_:.4f}")

    say(verbose, f"Out of sample: {len(plan.test_windows)} windows of {config.test_size} {recipe.period}s")
    with progress(len(plan.test_windows), verbose, "window") as advance:
        predictions, fitted = walk_forward_predictions(model_with(**chosen), X, y, plan.test_windows, advance)
    predictions["forward_return"] = plan.forward_returns.reindex(predictions.index)
    auc = bootstrap_auc(predictions, config.bootstrap, seed=config.seed)
    say(verbose, f"  AUC {auc[0]:.4f}, 95% interval [{auc[1]:.4f}, {auc[2]:.4f}] over {len(predictions)} predictions")

    say(verbose, f"Leakage report: the seed's shuffled {config.shuffled_folds}-fold evaluation, with and without "
                 "year/month dummies")
    leakage = leakage_report(model_with, chosen, X, y, auc, config, verbose)

    strategy = bt.long_short(predictions, plan.forward_returns, plan.k, config.cost_bps)
    benchmarks = benchmark_returns(plan, strategy.index)
    deciles = bt.decile_returns(predictions, plan.forward_returns)
    return Result(plan, results_table(search), chosen, predictions, auc_by_window(predictions, plan.test_windows),
                  auc, leakage, strategy, benchmarks, deciles, fitted)


def leakage_report(model_with, chosen: dict, X, y, auc, config: RunConfig, verbose: int) -> dict:
    """Shuffled K-fold AUC with and without calendar dummies next to the walk-forward AUC, and why they differ."""
    returns_only = X[return_columns(X)]
    with progress(2 * config.shuffled_folds, verbose, "fit") as advance:
        figures = {name: shuffled_cv_auc(model_with(**chosen), rows, y, config.shuffled_folds, config.seed, advance)
                   for name, rows in (("with_dummies", with_calendar_dummies(returns_only)),
                                      ("without_dummies", returns_only))}
    figures["walk_forward"] = auc[0]
    figures["walk_forward_interval"] = [auc[1], auc[2]]
    figures["explanation"] = explain(figures)
    return figures


def explain(figures: dict) -> list[str]:
    """Sentences on the gap between the seed's shuffled evaluation and the walk-forward one."""
    seed, plain, honest = figures["with_dummies"], figures["without_dummies"], figures["walk_forward"]
    low, high = figures["walk_forward_interval"]
    lines = [f"Shuffled K-fold with year/month dummies (the seed's evaluation): AUC {seed:.3f}. Without the "
             f"dummies: {plain:.3f}. Walk-forward, predicting only dates no earlier step has seen: {honest:.3f} "
             f"(95% interval {low:.3f} to {high:.3f})."]
    if seed - honest > max(0.02, high - honest):
        lines.append(
            f"The seed's way scores {seed - honest:.3f} higher, and that is leakage, not skill. Shuffled folds put "
            "rows of the same date on both sides of the split, and every stock on a date shares that date's market "
            "move; a network that can tell the dates apart (by their dummies, or by the past returns all stocks "
            "share) learns which dates went up, which says nothing about a date it has not seen. "
            f"{seed - plain:+.3f} of the gap goes with the dummies and {plain - honest:+.3f} with shuffling alone.")
    else:
        lines.append("On these data the shuffled evaluation is not materially higher than the walk-forward one "
                     f"(difference {seed - honest:+.3f}, within the walk-forward interval); the walk-forward figure "
                     "is still the one that applies to trading.")
    if low <= 0.5 <= high:
        lines.append("The walk-forward interval contains 0.5: no evidence that the network predicts better than "
                     "chance out of sample.")
    return lines


def benchmark_returns(plan: Plan, dates: pd.DatetimeIndex) -> pd.DataFrame:
    """Equal-weight buy-and-hold of the universe and, where its dates cover the test dates, the S&P 500 index."""
    out = pd.DataFrame({"equal_weight": bt.equal_weight_buy_and_hold(plan.forward_returns.dropna(), dates)})
    from skfolio.datasets import load_sp500_index

    index = RECIPES[plan.config.recipe].forward_returns(load_sp500_index()).droplevel("ticker")
    covered = index.reindex(dates)
    if covered.notna().mean() > 0.95:
        out["sp500_index"] = covered
    return out


def return_columns(X: pd.DataFrame) -> list[str]:
    """The feature columns that are returns (not calendar dummies)."""
    return [c for c in X.columns if not c.startswith(("year_", "month_"))]


def say(verbose: int, text: str) -> None:
    if verbose:
        print(text, flush=True)


class progress:
    """``with progress(n, verbose, unit) as advance:`` a Keras-style bar, one step per ``advance()``."""

    def __init__(self, total: int, verbose: int, unit: str):
        self.bar = Progbar(total, verbose=verbose, unit_name=unit) if verbose else None
        self.done = 0

    def __enter__(self):
        return self.advance

    def advance(self) -> None:
        self.done += 1
        if self.bar is not None:
            self.bar.update(self.done)

    def __exit__(self, error_type, *_):
        if self.bar is not None and error_type is None:
            self.bar.finish()
        return False
