"""Every figure of ``deepfin run`` could have been known on its date: names that list, halt and delist, index
membership, the last partial period, early stopping, and, on a simulated market whose truth is known, that
the point-in-time pipeline books the bankruptcies a survivor pipeline never holds."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.preprocessing import StandardScaler

from deepfin.finance import (
    DateHoldoutClassifier,
    RunConfig,
    Universe,
    book,
    daily_features,
    grid,
    load_prices,
    monthly_features,
    next_period_outcomes,
    synthetic_universe,
)
from deepfin.finance.backtest import strategy
from deepfin.finance.pipeline import workflow


@pytest.fixture
def panel():
    """Ten names, 300 business days; E delists on day 150, F lists on day 100, G halts on days 200-204."""
    rng = np.random.default_rng(0)
    dates = pd.bdate_range("2020-01-01", periods=300)
    prices = pd.DataFrame(100 * np.exp(np.cumsum(rng.normal(0, 0.02, (300, 10)), axis=0)), index=dates,
                          columns=list("ABCDEFGHIJ"))
    prices.iloc[151:, 4] = np.nan
    prices.iloc[:100, 5] = np.nan
    prices.iloc[200:205, 6] = np.nan
    return prices


def test_a_delisting_name_is_in_its_last_cross_section_and_earns_its_delisting_return(panel):
    """Dropping rows whose next price is missing removed every name on the day before it died."""
    X = daily_features(panel, horizons=(1, 5))
    last = panel.index[150]
    assert (last, "E") in X.index and (panel.index[151], "E") not in X.index
    outcomes = next_period_outcomes(panel, grid(panel, "day"), pd.Series({"E": -0.6}))
    row = outcomes.at(pd.MultiIndex.from_tuples([(last, "E")], names=["date", "ticker"])).iloc[0]
    assert row["forward_return"] == pytest.approx(-0.6) and row["delisted"] and not row["assumed"]
    assert row["realised"] == panel.index[151]
    assumed = next_period_outcomes(panel, grid(panel, "day"), assumed_return=-0.3).at(
        pd.MultiIndex.from_tuples([(last, "E")], names=["date", "ticker"])).iloc[0]
    assert assumed["forward_return"] == pytest.approx(-0.3) and assumed["assumed"]
    assert (panel.index[100] + pd.Timedelta(0), "F") not in X.index  # F's 5-day return is not known yet
    assert X.xs("F", level="ticker").index[0] == panel.index[105]


def test_a_mid_month_delisting_compounds_the_partial_month_with_the_delisting_return(panel):
    months = grid(panel, "month")
    outcomes = next_period_outcomes(panel, months, pd.Series({"E": -0.5}))
    # E's last price is 2020-07-29 (day 150); its row at the end of June earns June-end -> July 29, then -50%
    june = pd.Timestamp("2020-06-30")
    row = outcomes.at(pd.MultiIndex.from_tuples([(june, "E")], names=["date", "ticker"])).iloc[0]
    partial = panel["E"].iloc[150] / panel.loc[june, "E"]
    assert panel.index[150] == pd.Timestamp("2020-07-29")
    assert row["forward_return"] == pytest.approx(partial * 0.5 - 1) and row["realised"] == pd.Timestamp("2020-07-31")
    X = monthly_features(panel, lags=2)
    assert (june, "E") in X.index and (pd.Timestamp("2020-07-31"), "E") not in X.index  # not priced on July 31


def test_a_halted_name_is_closed_at_its_next_price_and_known_only_then(panel):
    outcomes = next_period_outcomes(panel, grid(panel, "day"))
    before = panel.index[199]
    row = outcomes.at(pd.MultiIndex.from_tuples([(before, "G")], names=["date", "ticker"])).iloc[0]
    assert row["forward_return"] == pytest.approx(panel["G"].iloc[205] / panel["G"].iloc[199] - 1)
    assert row["halted"] and row["realised"] == panel.index[205]
    assert not outcomes.frame("tradable").loc[panel.index[202], "G"]


def test_the_last_partial_month_is_never_a_label():
    """The embedded data end on Wednesday 2022-12-28: December is not complete, so November has no next month."""
    prices = load_prices()
    assert prices.index[-1] == pd.Timestamp("2022-12-28")
    X = monthly_features(prices, lags=3)
    assert X.index.get_level_values("date").max() == pd.Timestamp("2022-11-30")
    forward = next_period_outcomes(prices, grid(prices, "month")).at(X.index)["forward_return"]
    assert forward.xs(pd.Timestamp("2022-11-30"), level="date").isna().all()
    assert forward.xs(pd.Timestamp("2022-10-31"), level="date").notna().all()
    # data that reach the month's last business day make it complete
    through = prices.reindex(prices.index.append(pd.DatetimeIndex(["2022-12-29", "2022-12-30"])))
    through.iloc[-2:] = prices.iloc[-1].to_numpy()
    assert grid(through, "month").labels[-1] == pd.Timestamp("2022-12-31")


def test_membership_uses_only_lists_dated_on_or_before_each_date():
    lists = pd.DataFrame({"date": pd.to_datetime(["2020-01-31", "2020-01-31", "2020-02-28"]),
                          "ticker": ["A", "B", "C"]})
    dates = pd.to_datetime(["2020-01-15", "2020-01-31", "2020-02-27", "2020-02-28", "2020-06-30"])
    mask = Universe(lists=lists).mask(dates, ["A", "B", "C", "D"])
    assert mask.to_numpy().tolist() == [[False] * 4, [True, True, False, False], [True, True, False, False],
                                        [False, False, True, False], [False, False, True, False]]
    intervals = pd.DataFrame({"ticker": ["A", "B"], "start": pd.to_datetime(["2020-01-31", "2020-02-01"]),
                              "end": pd.to_datetime(["2020-02-27", None])})
    mask = Universe(intervals=intervals).mask(dates, ["A", "B"])
    assert mask.to_numpy().tolist() == [[False, False], [True, False], [True, True], [False, True], [False, True]]


class _SpyNetwork(ClassifierMixin, BaseEstimator):
    """Records what it is trained and validated on; predicts 0.5."""

    seen: dict = {}

    def fit(self, X, y, validation_data=None):
        _SpyNetwork.seen = {"fit": X, "validation": validation_data[0]}
        self.classes_ = np.array([0.0, 1.0])
        return self

    def predict_proba(self, X):
        return np.full((len(X), 2), 0.5)


def test_early_stopping_holds_out_whole_dates_after_a_purge_and_preprocessing_sees_the_training_part_only():
    """Keras's validation_split cut through a date, and the scaler was fitted on the validation rows too."""
    dates = pd.bdate_range("2020-01-01", periods=50)
    index = pd.MultiIndex.from_product([dates, ["A", "B", "C"]], names=["date", "ticker"])
    X = pd.DataFrame({"x": np.arange(150.0) ** 1.5}, index=index)  # later rows are larger
    y = pd.Series(np.arange(150) % 2, index=index, dtype=float)
    realised = pd.Series(index.get_level_values("date"), index=index).shift(-3)  # next date's, per ticker
    realised.iloc[33] = dates[45]  # (2020-01-14, A): a halt, its label realised late
    model = DateHoldoutClassifier(StandardScaler(), _SpyNetwork(), validation_split=0.2, purge=2)
    model.fit(X, y, realised=realised.to_numpy())
    assert model.validation_start_ == dates[40]  # the last 10 dates, whole
    fit_rows = np.flatnonzero(np.isin(X.index.get_level_values("date"), dates[:38]))
    fit_rows = fit_rows[fit_rows != 33]  # purge of 2 dates (38, 39) and the late label left out
    assert model.n_fit_rows_ == len(fit_rows) and model.n_validation_rows_ == 30
    scaler = model.preprocess_
    assert scaler.mean_[0] == pytest.approx(X["x"].iloc[fit_rows].mean())
    np.testing.assert_allclose(_SpyNetwork.seen["validation"][:, 0], scaler.transform(X.iloc[-30:])[:, 0])
    with pytest.raises(ValueError, match="indexed by \\(date, ticker\\)"):
        model.fit(X.to_numpy(), y)


def test_fitting_on_some_rows_equals_fitting_on_a_copy_of_them():
    """fit_rows(X, y, rows) is fit(X.iloc[rows], ...) without the copy: the same split, the same preprocessing,
    the same arrays for the network."""
    dates = pd.bdate_range("2020-01-01", periods=50)
    index = pd.MultiIndex.from_product([dates, ["A", "B", "C"]], names=["date", "ticker"])
    rng = np.random.default_rng(4)
    X = pd.DataFrame({"x": rng.standard_normal(150), "z": rng.standard_normal(150)}, index=index)
    y = pd.Series(rng.integers(0, 2, 150), index=index, dtype=float)
    realised = pd.Series(index.get_level_values("date"), index=index).shift(-3).to_numpy()
    rows = np.sort(rng.choice(150, 110, replace=False))  # a shuffled fold's training rows
    copied = DateHoldoutClassifier(StandardScaler(), _SpyNetwork(), purge=2).fit(X.iloc[rows], y.iloc[rows],
                                                                                  realised[rows])
    seen = _SpyNetwork.seen
    model = DateHoldoutClassifier(StandardScaler(), _SpyNetwork(), purge=2).fit_rows(X, y, rows, realised)
    for part in ("fit", "validation"):
        np.testing.assert_array_equal(_SpyNetwork.seen[part], seen[part])
    assert (model.validation_start_, model.n_fit_rows_, model.n_validation_rows_) == \
        (copied.validation_start_, copied.n_fit_rows_, copied.n_validation_rows_)
    np.testing.assert_array_equal(model.preprocess_.mean_, copied.preprocess_.mean_)
    mask = np.isin(np.arange(150), rows)  # the same rows as a boolean mask
    DateHoldoutClassifier(StandardScaler(), _SpyNetwork(), purge=2).fit_rows(X, y, mask, realised)
    np.testing.assert_array_equal(_SpyNetwork.seen["fit"], seen["fit"])


# ---------------------------------------------------------------- a simulated market whose truth is known
BANKRUPT = {"n_names": 60, "years": 5, "signal": "reversal", "strength": 0.2, "failure_return": -1.0,
            "volatility": 0.03, "seed": 0}
DAILY = {"recipe": "daily", "train_size": 250, "test_size": 250, "tuning_folds": 1, "quick": True,
         "shuffled_folds": 2, "k": 5, "lag": 0}  # the planted reversal lasts one day: traded at the signal's close


@pytest.fixture(scope="module")
def reversal_run():
    market = synthetic_universe(**BANKRUPT)
    return market, workflow.execute(workflow.plan(RunConfig(**DAILY), market), verbose=0)


def test_point_in_time_books_the_bankruptcies_a_survivor_pipeline_never_holds(reversal_run):
    """A network that learns to buy losers (a planted reversal) holds names on the day before they go bankrupt
    (delisting return -100%) and loses everything on them; the old pipeline, which dropped every row whose next
    price was missing, never held them."""
    market, result = reversal_run
    plan = result.plan
    delisted = plan.outcomes.frame("delisted").reindex_like(result.weights).fillna(False)
    bankrupt_longs = (result.weights > 0) & delisted
    assert bankrupt_longs.to_numpy().sum() >= 5
    returns = plan.outcomes.frame().reindex_like(result.weights)
    assert (returns.to_numpy()[bankrupt_longs.to_numpy()] == -1.0).all()
    assert result.positions["delisted_from_data"] == int((delisted & (result.weights != 0)).to_numpy().sum())
    assert result.positions["dates_left_out"] == 1  # the last date: its outcomes are not known yet
    # the survivor pipeline: rows whose next price is missing are dropped before ranking
    survivors = result.predictions[result.predictions["forward_return"].notna()
                                   & ~plan.rows["delisted"].reindex(result.predictions.index)]
    signals = survivors["probability"].unstack("ticker")
    assert ((book(signals, plan.k) != 0) & delisted.reindex_like(signals).fillna(False)).to_numpy().sum() == 0
    assert result.strategy["before_costs"].mean() < bt_mean_without(result, bankrupt_longs)


def bt_mean_without(result, positions) -> float:
    """The strategy's mean return had the bankrupt positions earned nothing instead of -100%."""
    weights = result.weights.where(~positions, 0.0)
    returns = result.plan.outcomes.frame().reindex_like(weights).fillna(0.0)
    return float((weights * returns).sum(axis=1).reindex(result.strategy.index).mean())


def test_a_planted_reversal_is_found_on_the_realistic_universe(reversal_run):
    _, result = reversal_run
    auc, low, _ = result.auc
    assert low > 0.53 and result.date_auc.mean() > 0.53
    ic = result.ic
    assert ic.mean() > 0.05 and ic.mean() / ic.std() * np.sqrt(len(ic)) > 5
    assert result.strategy["before_costs"].mean() > 0


def test_membership_and_delisting_are_respected(reversal_run):
    market, result = reversal_run
    plan = result.plan
    members = market.universe().mask(plan.outcomes.grid.labels, market.prices.columns)
    predicted = result.predictions.index
    assert members.stack().reindex(predicted).all()  # no prediction for a non-member
    # a prediction for a name on its last tradable date, whenever it was a member then
    last_days = market.delistings.set_index("ticker")["date"]
    test_dates = result.predictions.index.get_level_values("date").unique()
    due = [(date, ticker) for ticker, date in last_days.items() if date in test_dates and members.loc[date, ticker]]
    assert len(due) >= 5 and all(row in predicted for row in due)
    # the benchmark holds every member priced on the date, from the price panel, not only the model's rows
    date = test_dates[10]
    held = members.loc[date] & plan.outcomes.frame("tradable").loc[date]
    assert held.sum() > (predicted.get_level_values("date") == date).sum()  # new listings lack features
    assert result.benchmarks.loc[date, "equal_weight"] == pytest.approx(plan.outcomes.frame().loc[date, held].mean())


def test_random_walks_score_chance_on_the_realistic_universe():
    market = synthetic_universe(**{**BANKRUPT, "signal": None, "seed": 1})
    result = workflow.execute(workflow.plan(RunConfig(**DAILY), market), verbose=0)
    assert abs(result.auc[0] - 0.5) < 0.03 and abs(result.date_auc.mean() - 0.5) < 0.03
    ic = result.ic
    assert abs(ic.mean() / ic.std() * np.sqrt(len(ic))) < 2


def test_lag_trades_each_signal_one_period_later(reversal_run):
    _, result = reversal_run
    plan = result.plan
    probability = result.predictions["probability"]
    signals = strategy.trade_signals(probability, plan.outcomes.grid.labels, 1)
    dates = plan.outcomes.grid.labels
    first = probability.index.get_level_values("date")[0]
    assert signals.index[0] == dates[dates.get_loc(first) + 1]
    np.testing.assert_array_equal(signals.iloc[0].dropna().index, probability.xs(first, level="date").index)


def test_the_cross_sectional_median_never_waits_on_a_halted_name(panel):
    """A halted name's return is known only when it trades again: counting it in the date's median leaked
    that later price into every other row's label."""
    from deepfin.finance import label

    day = panel.index[199]  # G halts from day 200 to 204
    prices = panel.copy()
    prices.iloc[205:, 6] *= 3.0  # G resumes 200% higher
    rows = next_period_outcomes(prices, grid(prices, "day")).at(daily_features(prices, horizons=(1,)).index)
    today = rows.xs(day, level="date", drop_level=False)
    assert today.loc[(day, "G"), "halted"] and today.loc[(day, "G"), "realised"] == panel.index[205]
    labels = label(today["forward_return"], "above_median", in_median=~today["halted"])
    others = today.drop(index=(day, "G"))["forward_return"]
    expected = (others > others.median()).astype(float)
    pd.testing.assert_series_equal(labels.drop(index=(day, "G")), expected.rename("label"))


def test_a_name_whose_prices_stop_just_before_the_panel_ends_is_not_called_delisted(panel):
    """A vendor's file that lags by a day must not turn into a delisting at the assumed return."""
    prices = panel.copy()
    prices.iloc[-2:, 0] = np.nan  # A's last two prices are missing
    outcomes = next_period_outcomes(prices, grid(prices, "day"), assumed_return=-0.3)
    row = outcomes.at(pd.MultiIndex.from_tuples([(prices.index[-3], "A")], names=["date", "ticker"])).iloc[0]
    assert np.isnan(row["forward_return"]) and not row["delisted"]
    given = next_period_outcomes(prices, grid(prices, "day"), pd.Series({"A": -0.2}))  # the data say it delisted
    assert given.at(pd.MultiIndex.from_tuples([(prices.index[-3], "A")], names=["date", "ticker"])).iloc[0][
        "forward_return"] == pytest.approx(-0.2)


def test_monthly_membership_is_read_on_the_month_s_last_trading_date():
    """A name added to the index on Sunday 31 May must not count on Friday 29 May's row."""
    rng = np.random.default_rng(2)
    dates = pd.bdate_range("2018-01-01", "2020-07-31")
    prices = pd.DataFrame(100 * np.exp(np.cumsum(rng.normal(0, 0.01, (len(dates), 3)), axis=0)), index=dates,
                          columns=["A", "B", "C"])
    intervals = pd.DataFrame({"ticker": ["A", "B", "C"], "start": pd.to_datetime(["2018-01-01", "2018-01-01",
                                                                                   "2020-05-31"]),
                              "end": pd.NaT})
    config = RunConfig(lags=2, train_size=12, test_size=3, tuning_folds=1, quick=True, k=1)
    plan = workflow.plan(config, prices, intervals)
    may, june = pd.Timestamp("2020-05-31"), pd.Timestamp("2020-06-30")
    assert (may, "C") not in plan.X.index and (june, "C") in plan.X.index


def test_a_run_whose_only_out_of_sample_dates_lack_outcomes_is_refused_before_training():
    """The final date has no outcome: counting it gave a test window of that date alone, which crashed after
    every network had trained."""
    from deepfin.finance import synthetic_prices

    prices = synthetic_prices(n_tickers=20, n_months=120)
    config = RunConfig(train_size=96 - 1 - 12 - 1, test_size=12, tuning_folds=1, quick=True, k=5)  # 96 dates
    with pytest.raises(ValueError, match="The rows cover 95 months with outcomes.*Set train_size=76"):
        workflow.plan(config, prices)  # the advice leaves half a test window (6 months), not one month
    plan = workflow.plan(replace_config(config, train_size=76), prices)
    assert plan.y[plan.X.index.get_level_values("date").isin(plan.test_windows[0].test)].notna().any()
    assert plan.warnings == [w for w in plan.warnings if not w.startswith("Only")]  # no short-evaluation warning


def replace_config(config, **changes):
    from dataclasses import replace

    return replace(config, **changes)


def test_members_missing_from_the_price_file_are_counted_and_said(panel):
    lists = pd.DataFrame([(date, ticker) for date in panel.index[::20] for ticker in [*panel.columns, "DEAD"]],
                         columns=["date", "ticker"])
    config = RunConfig(recipe="daily", train_size=20, test_size=15, tuning_folds=1, quick=True, k=2)
    plan = workflow.plan(config, panel.rename(columns=str), lists)
    assert plan.counts["members_never_priced"] == 1  # DEAD
    assert plan.counts["member_dates_before_first_price"] == 100  # F, a member before it lists; not E after it died
    assert any("lacks part of the index's history" in line for line in plan.price_report.lines())


class _Logistic(ClassifierMixin, BaseEstimator):
    """Predicts from the first column; counts the rows each fold scores."""

    scored: list = []

    def __init__(self, c: float = 1.0):
        self.c = c

    def fit(self, X, y, validation_data=None):
        self.classes_ = np.array([0.0, 1.0])
        return self

    def predict_proba(self, X):
        _Logistic.scored.append(len(X))
        p = 1 / (1 + np.exp(-self.c * X[:, 0]))
        return np.column_stack([1 - p, p])


def test_tuning_scores_only_labels_known_before_the_first_out_of_sample_date():
    """The last tuning date's label is realised on the first out-of-sample date, a halted one later still:
    neither may inform the choice of the network used from that date on."""
    from deepfin.finance.models.search import grid_search
    from deepfin.finance.validation.walk_forward import walk_forward

    dates = pd.date_range("2000-01-31", periods=30, freq="ME")
    index = pd.MultiIndex.from_product([dates, ["A", "B", "C"]], names=["date", "ticker"])
    X = pd.DataFrame({"x": np.random.default_rng(0).normal(size=len(index))}, index=index)
    y = pd.Series(np.arange(len(index)) % 2, index=index, dtype=float)
    realised = pd.Series(index.get_level_values("date").shift(1, freq="ME"), index=index)
    windows = walk_forward(dates, 10, 5, purge=1)
    halted = index.get_loc((windows[0].test[1], "A"))
    realised.iloc[halted] = dates[25]
    _Logistic.scored = []
    grid_search(DateHoldoutClassifier(StandardScaler(), _Logistic(), validation_split=0.2), {"c": [1.0]}, X, y,
                windows[:1], realised, known_by=windows[1].test[0])
    assert _Logistic.scored == [3 * 4 - 1]  # 5 test dates less the last, less the halted row
