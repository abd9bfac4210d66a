"""``deepfin run``: data -> rows known on each date -> tuning -> walk-forward evaluation -> leakage report ->
backtest.

``plan`` loads and checks everything and makes the rows: a (date, ticker) row exists when the name is priced
and (with a universe) an index member on the date and its features are known then; its label comes from the
next period's outcome and may be unknown (the final period, a halt that outlasts the data). Dates are cut into
walk-forward windows: the first ``tuning_folds`` tune the network, every later one is out of sample. A window
trains only on rows whose label is realised before its first test date, and predicts every test row.
``execute`` trains, predicts, scores and backtests; each step that can fail on the settings or the data is
checked in ``plan``, before the first network trains.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from deepfin.finance import backtest as bt
from deepfin.finance import narrative
from deepfin.finance.config import RunConfig, fix
from deepfin.finance.console import progress, say
from deepfin.finance.evaluation import (
    auc_by_window,
    bootstrap_auc,
    information_coefficient,
    labelled,
    per_date_auc,
    shuffled_cv_auc,
    walk_forward_predictions,
)
from deepfin.finance.features import RECIPES, with_calendar_dummies
from deepfin.finance.model import estimator
from deepfin.finance.outcomes import DELISTING_ASSUMPTIONS, Outcomes, delisting_assumption, label, next_period_outcomes
from deepfin.finance.periods import grid
from deepfin.finance.prices import (
    CRSP_MISSING_DELISTING_RETURNS,
    DELISTING_COLUMNS,
    NAME_COLUMNS,
    Panel,
    PriceReport,
    check_delisting_returns,
    load_panel,
    validate_prices,
)
from deepfin.finance.synthetic import SyntheticUniverse, from_spec
from deepfin.finance.tables import find_column, identifiers, numeric_column, read_table
from deepfin.finance.tuning import best_params, deflated_sharpe, grid_search, results_table, selection_bias
from deepfin.finance.universe import Universe, load_universe
from deepfin.finance.validation import Window, walk_forward


@dataclass
class Plan:
    """What a run will do, known before any training: the data, the rows and their outcomes, windows, k."""

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


@dataclass
class Result:
    """Everything a run found; ``report.write`` turns it into files."""

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


def plan(config: RunConfig, prices: pd.DataFrame | Panel | SyntheticUniverse | None = None,
         universe: Universe | pd.DataFrame | None = None) -> Plan:
    """Load and check the data (``config.data`` and ``config.universe``, or ``prices`` and ``universe`` given
    from Python; a ``SyntheticUniverse`` brings its own membership), make the rows, their outcomes and the
    windows; raises on any setting the data cannot meet."""
    config = config.resolved()
    recipe = RECIPES[config.recipe]
    panel, universe = load_sources(config, prices, universe)
    clean, price_report = validate_prices(panel.prices)
    price_report.notes[:0] = panel.notes
    panel = replace(panel, prices=clean)
    grid_dates = grid(clean, recipe.period)
    outcomes = next_period_outcomes(clean, grid_dates, panel.delisting_returns,
                                    delisting_assumption(config.delisting_return))
    members = (universe.mask(grid_dates.trading_dates, clean.columns).set_axis(grid_dates.labels)
               if universe is not None else pd.DataFrame(True, index=grid_dates.labels, columns=clean.columns))
    features = recipe.features(clean, **({"lags": config.lags} if recipe.name == "monthly" else {}))
    is_member = members.stack(future_stack=True).reindex(features.index, fill_value=False).to_numpy(bool)
    X = features[is_member]
    if X.empty:
        raise ValueError("No (date, ticker) row is both an index member and has known features: check that the "
                         "universe file names the same assets (and dates) as the price data.")
    if config.dummies:
        X = with_calendar_dummies(X)
    rows = outcomes.at(X.index)
    y = label(rows["forward_return"], config.label, in_median=~rows["halted"])
    windows = _windows(X, y, config)
    k = _check_k(X, windows, config)
    counts = _counts(outcomes, members, features, X, rows, clean)
    if universe is not None:
        counts.update(_unpriced_members(universe, grid_dates, outcomes))
        if counts["member_dates_without_price"]:
            price_report.notes.append(
                f"{counts['member_dates_without_price']:,} (date, member) pairs have no price, "
                f"{counts['members_never_priced']} members never: a price file without its dead names biases every "
                "figure toward survivors")
    return Plan(config, panel, price_report, universe, outcomes, members, X, y, rows,
                windows[:config.tuning_folds], windows[config.tuning_folds:], k, counts)


def load_sources(config: RunConfig, prices=None, universe=None) -> tuple[Panel, Universe | None]:
    """The price panel (with delisting returns) and the index membership a configuration names, or those given."""
    if isinstance(prices, SyntheticUniverse):
        prices, universe = prices.panel(), universe if universe is not None else prices.universe()
    if isinstance(universe, pd.DataFrame):
        universe = load_universe(universe)
    if isinstance(prices, Panel):
        panel = prices
    elif prices is not None:
        panel = load_panel(prices)
    elif config.data is not None and config.data.startswith("synthetic:"):
        simulated = from_spec(config.data)
        panel, universe = simulated.panel(), simulated.universe()
    else:
        panel = load_panel(config.data, sep=config.sep, decimal=config.decimal, date_format=config.date_format)
    if config.delistings is not None:
        given = load_delistings(config.delistings, config)
        panel = replace(panel, delisting_returns=given.combine_first(panel.delisting_returns),
                        notes=[*panel.notes, f"{len(given)} delisting returns from {config.delistings}"])
    if config.universe is not None:
        universe = load_universe(config.universe, sep=config.sep, decimal=config.decimal,
                                 date_format=config.date_format)
    if universe is not None and not universe.tickers.isin(panel.prices.columns).any():
        raise ValueError(f"No name of the universe ({universe.source}, such as {list(universe.tickers[:3])}) is in "
                         f"the price data (such as {list(panel.prices.columns[:3])}); both must use the same "
                         "identifiers.")
    return panel, universe


def load_delistings(path: str, config: RunConfig) -> pd.Series:
    """A delistings file: a name column and ``dlret`` (the return from the last price to the delisting value)."""
    frame = read_table(path, sep=config.sep, decimal=config.decimal, what="delistings")
    name, value = find_column(frame, NAME_COLUMNS), find_column(frame, DELISTING_COLUMNS + ("return", "ret"))
    if name is None or value is None:
        raise ValueError(f"{path}: a delistings file has a name column ({', '.join(NAME_COLUMNS)}) and 'dlret'. "
                         f"Columns found: {[str(c) for c in frame.columns]}.")
    returns, _ = numeric_column(frame[value], f"{path}, column {value!r}", CRSP_MISSING_DELISTING_RETURNS)
    given = pd.Series(returns.to_numpy(), index=identifiers(frame[name])).dropna()
    return check_delisting_returns(given.groupby(level=0).last(), path)


def _windows(X: pd.DataFrame, y: pd.Series, config: RunConfig) -> list[Window]:
    """The walk-forward windows over the rows' dates; enough of them whose test dates have labels for tuning
    and one test, or an error that says which setting to change, to what, and how. The last dates, whose
    outcomes are not known yet, are predicted in the last window but count for nothing here."""
    dates = X.index.get_level_values("date").unique()
    period, gap, folds = RECIPES[config.recipe].period, config.purge + config.embargo, config.tuning_folds
    n = int(y.notna().groupby(level="date").any().sum())  # dates with an outcome
    most_train = n - gap - folds * config.test_size - 1  # ceil((n - train - gap) / test) windows >= folds + 1
    most_test = -(-(n - config.train_size - gap) // folds) - 1
    if most_train < config.train_size:
        options = [fix("train_size", most_train)] if most_train >= 1 else []
        options += [fix("test_size", most_test)] if most_test >= 1 else []
        options += [fix("tuning_folds", 1)] if folds > 1 and n - config.train_size - gap > config.test_size else []
        advice = ("Set " + ", or ".join(options) + ".") if options else "Give more data."
        raise ValueError(
            f"The rows cover {n} {period}s with outcomes ({dates[0].date()} to {dates[n - 1].date()}): train_size="
            f"{config.train_size}, test_size={config.test_size} and a gap of {gap} leave fewer than tuning_folds="
            f"{folds} walk-forward windows for tuning plus one for the evaluation. {advice}")
    return walk_forward(dates, config.train_size, config.test_size, config.window == "expanding", config.purge,
                        config.embargo)


def _check_k(X: pd.DataFrame, windows: list[Window], config: RunConfig) -> int:
    """k (by default a quarter of the names on the first out-of-sample date, at most 10), checked against every
    tuning and test date: each must offer 2k names, or the run would fail after training."""
    names = X.index.get_level_values("date").value_counts()
    first_test = names[windows[config.tuning_folds].test[0]]
    k = config.k if config.k is not None else max(1, min(10, first_test // 4))
    test_dates = pd.DatetimeIndex(np.concatenate([w.test for w in windows]))
    per_date = names.reindex(test_dates)
    if per_date.min() < 2 * k:
        worst = per_date.idxmin()
        advice = f"Set {fix('k', per_date.min() // 2)}" if per_date.min() >= 2 else "Give data with more names"
        raise ValueError(f"k={k} needs {2 * k} names with features on every tuning and test date, but "
                         f"{worst.date()} has {per_date.min()}. {advice}.")
    return k


def _counts(outcomes: Outcomes, members: pd.DataFrame, features: pd.DataFrame, X: pd.DataFrame,
            rows: pd.DataFrame, prices: pd.DataFrame) -> dict:
    """What the rows leave out, and why: nothing is dropped without being counted."""
    tradable = outcomes.tradable
    in_rows = set(X.index.get_level_values("ticker"))
    return {"names": int(prices.shape[1]), "names_with_rows": len(in_rows),
            "names_without_rows": int(prices.shape[1] - len(in_rows)),
            "tradable_rows": int(tradable.sum()),
            "not_members": int((tradable & ~members.reindex(columns=outcomes.tickers).to_numpy(bool)).sum()),
            "without_features": int((tradable & members.reindex(columns=outcomes.tickers).to_numpy(bool)).sum()
                                    - len(X)),
            "rows": len(X), "rows_without_outcome": int(rows["forward_return"].isna().sum()),
            "rows_delisted": int(rows["delisted"].sum()), "rows_delisted_assumed": int(rows["assumed"].sum()),
            "rows_halted": int(rows["halted"].sum()), "features_known_rows": len(features)}


def _unpriced_members(universe: Universe, grid_dates, outcomes: Outcomes) -> dict:
    """Index members on a date without a price on it, and members never priced at all."""
    names = universe.tickers.union(outcomes.tickers)
    members = universe.mask(grid_dates.trading_dates, names).to_numpy()
    priced = outcomes.frame("tradable").reindex(columns=names, fill_value=False).to_numpy(bool)
    never = members.any(axis=0) & ~names.isin(outcomes.tickers)
    return {"member_dates_without_price": int((members & ~priced).sum()), "members_never_priced": int(never.sum())}


def execute(plan: Plan, verbose: int = 1) -> Result:
    """Tune, evaluate walk-forward, compare with the seed's shuffled evaluation, backtest."""
    config = plan.config

    def model_with(**params):
        return estimator(return_columns(plan.X), epochs=config.epochs, batch_size=config.batch_size,
                         patience=config.patience, validation_split=config.validation_split, purge=config.purge,
                         random_state=config.seed, **params)

    table = tune(plan, model_with(), verbose)
    chosen = best_params(table)
    say(verbose, f"  best {chosen}, walk-forward AUC {table['mean_auc'].iloc[0]:.4f}")
    predictions, fitted, auc = out_of_sample(plan, model_with(**chosen), verbose)
    date_auc, ic = per_date_auc(predictions), information_coefficient(predictions)
    say(verbose, f"  per-date AUC {date_auc.mean():.4f}, rank IC {ic.mean():+.4f}")
    say(verbose, f"Leakage report: the seed's shuffled {config.shuffled_folds}-fold evaluation, with and without "
                 "year/month dummies")
    leakage = leakage_report(model_with, chosen, labelled_rows(plan), auc, config, verbose)
    signals, weights, strategy = backtest(plan, predictions["probability"])
    selection = {**selection_bias(table),
                 "deflated_sharpe": deflated_sharpe(strategy["before_costs"], table.get("sharpe", [])),
                 "deflated_sharpe_after_costs": deflated_sharpe(strategy["after_costs"],
                                                                table.get("sharpe_after_costs", []))}
    return Result(plan, table, chosen, predictions, window_table(plan, predictions, date_auc, ic), auc,
                  date_auc, ic, leakage, strategy, weights, benchmark_returns(plan, strategy.index),
                  bt.decile_returns(predictions, predictions["forward_return"]), selection,
                  position_counts(plan, signals, weights), fitted)


def tune(plan: Plan, model, verbose: int = 1) -> pd.DataFrame:
    """The grid search on the tuning windows, each fold scored by AUC and by its book's Sharpe ratio."""
    config = plan.config
    n_candidates = int(np.prod([len(v) for v in config.grid.values()]))
    say(verbose, f"Tuning: {n_candidates} candidates x {len(plan.tuning_windows)} walk-forward folds "
                 f"(test {plan.tuning_windows[0].test[0].date()} to {plan.tuning_windows[-1].test[-1].date()})")
    with progress(n_candidates * len(plan.tuning_windows), verbose, "fit") as advance:
        search = grid_search(model, config.grid, plan.X, plan.y, plan.tuning_windows, plan.rows["realised"],
                             lambda probability: backtest(plan, probability)[2], advance)
    return results_table(search)


def out_of_sample(plan: Plan, model, verbose: int = 1):
    """Predictions of every test row (with their next-period returns), the last window's model, the pooled AUC
    with its interval."""
    config = plan.config
    say(verbose, f"Out of sample: {len(plan.test_windows)} windows of {config.test_size} "
                 f"{RECIPES[config.recipe].period}s")
    with progress(len(plan.test_windows), verbose, "window") as advance:
        predictions, fitted = walk_forward_predictions(model, plan.X, plan.y, plan.test_windows,
                                                       plan.rows["realised"], advance)
    predictions["forward_return"] = plan.rows["forward_return"].reindex(predictions.index)
    auc = bootstrap_auc(predictions, config.bootstrap, seed=config.seed)
    left_out = len(predictions) - len(labelled(predictions))
    say(verbose, f"  AUC {auc[0]:.4f}, 95% interval [{auc[1]:.4f}, {auc[2]:.4f}] over {len(predictions) - left_out} "
                 f"predictions with outcomes ({left_out} without)")
    return predictions, fitted, auc


def backtest(plan: Plan, probability: pd.Series):
    """The signals on their trade dates, the book's weights and its per-date returns."""
    config = plan.config
    signals = trade_signals(probability, plan.outcomes.grid.labels, config.lag)
    tradable = plan.outcomes.frame("tradable").reindex(index=signals.index, columns=signals.columns,
                                                      fill_value=False)
    weights = bt.book(signals, plan.k, config.seed, tradable)
    return signals, weights, bt.book_returns(weights, plan.outcomes.frame("returns"), config.cost_bps)


def labelled_rows(plan: Plan) -> tuple[pd.DataFrame, pd.Series]:
    known = plan.y.notna().to_numpy()
    return plan.X[known], plan.y[known]


def trade_signals(probability: pd.Series, dates: pd.DatetimeIndex, lag: int) -> pd.DataFrame:
    """Probabilities (rows (date, ticker)) as the wide frame of the trade dates they act on, ``lag`` grid dates
    after the signal."""
    wide = probability.unstack("ticker").reindex(dates)
    return wide.shift(lag).dropna(how="all")


def window_table(plan: Plan, predictions: pd.DataFrame, date_auc: pd.Series, ic: pd.Series) -> pd.DataFrame:
    """Per test window: training rows and those left out (label not known before the test), test rows and
    labelled ones, pooled AUC, mean per-date AUC, mean rank IC."""
    table = auc_by_window(predictions, plan.test_windows)
    trained = [len(window.rows(plan.X.index, plan.rows["realised"])[0]) for window in plan.test_windows]
    on_dates = [len(window.rows(plan.X.index)[0]) for window in plan.test_windows]
    table.insert(2, "train_rows", trained)
    table.insert(3, "train_rows_left_out", np.subtract(on_dates, trained))
    window_of = predictions["window"].groupby(level="date").first()
    table["date_auc"] = date_auc.groupby(window_of.reindex(date_auc.index)).mean().reindex(table["window"]).to_numpy()
    table["ic"] = ic.groupby(window_of.reindex(ic.index)).mean().reindex(table["window"]).to_numpy()
    return table


def position_counts(plan: Plan, signals: pd.DataFrame, weights: pd.DataFrame) -> dict:
    """The book's positions closed by a delisting (data / assumed) or after a halt, selections that could not be
    traded, ties at the cut-off, and the mean return under other delisting assumptions."""
    held = weights.to_numpy() != 0
    flags = {name: plan.outcomes.frame(name).reindex_like(weights).fillna(False).to_numpy(bool)
             for name in ("delisted", "assumed", "halted")}
    active = (~signals.isna()).any(axis=1).sum()
    counts = {"positions": int(held.sum()),
              "delisted_from_data": int((held & flags["delisted"] & ~flags["assumed"]).sum()),
              "delisted_assumed": int((held & flags["assumed"]).sum()), "halted": int((held & flags["halted"]).sum()),
              "not_opened": int(2 * plan.k * active - held.sum()), "lag": plan.config.lag,
              "ties_at_cutoff": bt.ties_at_cutoff(signals, plan.k),
              "assumed_return": plan.outcomes.assumed_return}
    if counts["delisted_assumed"]:
        counts["sensitivity"] = {}
        for alternative in sorted({0.0, DELISTING_ASSUMPTIONS["shumway"], -1.0} - {plan.outcomes.assumed_return}):
            other = next_period_outcomes(plan.panel.prices, plan.outcomes.grid, plan.panel.delisting_returns,
                                         alternative)
            returns = bt.book_returns(weights, other.frame(), 0.0)["before_costs"]
            counts["sensitivity"][alternative] = float(returns.mean())
    return counts


def leakage_report(model_with, chosen: dict, data: tuple[pd.DataFrame, pd.Series], auc, config: RunConfig,
                   verbose: int) -> dict:
    """Shuffled K-fold AUC with and without calendar dummies next to the walk-forward AUC, and why they differ."""
    X, y = data
    returns_only = X[return_columns(X)]
    with progress(2 * config.shuffled_folds, verbose, "fit") as advance:
        figures = {name: shuffled_cv_auc(model_with(**chosen), rows, y, config.shuffled_folds, config.seed, advance)
                   for name, rows in (("with_dummies", with_calendar_dummies(returns_only)),
                                      ("without_dummies", returns_only))}
    figures["walk_forward"] = auc[0]
    figures["walk_forward_interval"] = [auc[1], auc[2]]
    figures["explanation"] = narrative.leakage(figures)
    return figures


def benchmark_returns(plan: Plan, dates: pd.DatetimeIndex) -> pd.DataFrame:
    """The universe equal-weighted (every member priced on the date, from the price panel, not the model's rows)
    and, where its dates cover the trade dates and the data are not simulated, the S&P 500 index."""
    members = plan.members & plan.outcomes.frame("tradable").reindex_like(plan.members)
    out = pd.DataFrame({"equal_weight": bt.equal_weight(plan.outcomes.frame(), members, dates)})
    if plan.panel.simulated:
        return out
    from skfolio.datasets import load_sp500_index

    index = load_sp500_index()
    index_outcomes = next_period_outcomes(index, grid(index, RECIPES[plan.config.recipe].period))
    covered = index_outcomes.frame().iloc[:, 0].reindex(dates)
    if covered.notna().mean() > 0.95:
        out["sp500_index"] = covered
    return out


def return_columns(X: pd.DataFrame) -> list[str]:
    """The feature columns that are returns (not calendar dummies)."""
    return [c for c in X.columns if not c.startswith(("year_", "month_"))]
