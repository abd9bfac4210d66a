"""The edges an audit found, each with the case that failed before its fix: data that carry survivorship bias
say so; an ensemble does not reward a member for memorising its training rows; calendar dummies are learned
from training rows only; skill is measured where the book trades; the dates' spacing is read, not assumed."""

import json
import re
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import roc_auc_score

from deepfin.cli import main
from deepfin.finance import CalendarDummies, RunConfig, synthetic_prices, synthetic_universe
from deepfin.finance.backtest import strategy
from deepfin.finance.models import families
from deepfin.finance.models.network import date_holdout
from deepfin.finance.panel.outcomes import next_period_outcomes
from deepfin.finance.panel.periods import grid
from deepfin.finance.pipeline import study, workflow

SMALL = {"train_size": 60, "test_size": 12, "tuning_folds": 1, "quick": True, "k": 5}
DAILY = {"recipe": "daily", "train_size": 250, "test_size": 125, "tuning_folds": 1, "quick": True, "k": 5}


@pytest.fixture(scope="module")
def market():
    return synthetic_universe(60, years=4, seed=3)


def test_survivors_only_data_are_flagged(market):
    """Today's survivors without a membership file: a warning. The same market with its delisted names (with or
    without the index's membership): none."""
    survivors = market.prices.loc[:, market.prices.iloc[-1].notna()]
    assert survivors.shape[1] < market.prices.shape[1]  # the market lost names: the survivors' file hides them
    flagged = workflow.plan(RunConfig(**DAILY), survivors)
    assert len(flagged.warnings) == 1 and flagged.warnings[0].startswith("Survivorship bias")
    assert f"none of the {survivors.shape[1]} names stops trading" in flagged.warnings[0]
    assert workflow.plan(RunConfig(**DAILY), market).warnings == []  # with its membership
    assert workflow.plan(RunConfig(**DAILY), market.prices).warnings == []  # names that stop trading: no warning


def test_the_warning_is_on_the_console_in_the_report_and_in_the_metrics(tmp_path, capsys):
    synthetic_prices("planted", n_tickers=30, seed=1).rename_axis("date").to_csv(tmp_path / "prices.csv")
    settings = [f"--set={name}={str(value).lower()}" for name, value in SMALL.items()]
    assert main(["run", "--data", str(tmp_path / "prices.csv"), *settings, "--out", str(tmp_path / "out")]) == 0
    console = capsys.readouterr().out
    assert console.startswith("Warning: Survivorship bias: no index membership was given")
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert metrics["data"]["warnings"] == [console.splitlines()[0].removeprefix("Warning: ")]
    page = (tmp_path / "out" / "report.html").read_text()
    assert page.index('<p class="warning">Survivorship bias') < page.index("<table>")  # above every figure


def test_an_overfit_member_does_not_take_the_ensemble_over():
    """The audit's case: a booster that memorises its training rows (training Gini near 1) got nearly all of
    ENS2 when members were weighed by their training Gini. Weighed by their Gini on held-out training dates, an
    honest member with skill outweighs it."""
    universe = synthetic_universe(60, 4, signal="reversal", strength=0.2, seed=5)
    overfit = {"n_estimators": 200, "max_depth": 12, "learning_rate": 0.5, "max_features": 1.0}
    plan = workflow.plan(RunConfig(models=["gbt", "logit", "ens2"], **{**DAILY, "k": None}, ks=[5],
                                   model={"gbt": overfit, "ens2": {"members": ["gbt", "logit"]}}), universe)
    result = study.execute(plan, verbose=0)
    figures = study.tables(result)
    assert figures["gbt"]["training_gini"] > 0.9  # memorised
    assert figures["gbt"]["holdout_gini"] < figures["logit"]["holdout_gini"]
    weights = figures["ens2"]["mean_weights"]
    assert weights["logit"] > weights["gbt"]
    by_training_gini = [families.ensemble_weights("ens2", {m: p.gini[m] for m in ("gbt", "logit")})["gbt"]
                        for p in result.periods]
    assert np.mean(by_training_gini) > 0.8  # what the training Gini gave it


def test_held_out_gini_is_measured_by_a_model_that_did_not_see_those_dates():
    """A forest's held-out Gini is that of a second forest fitted on the dates before the held-out ones (a purge
    apart); a network that held those dates out for early stopping is measured as it is."""
    market = synthetic_universe(40, 3, signal="reversal", strength=0.2, seed=2)
    plan = workflow.plan(RunConfig(models=["raf"], **{**DAILY, "k": None}, ks=[5]), market)
    X, y = plan.X.iloc[:20_000], plan.y.iloc[:20_000].fillna(0).astype(int)
    fit, held, start = date_holdout(X.index.get_level_values("date"), None, 0.2, 1)
    forest = RandomForestClassifier(20, max_depth=4, random_state=0).fit(X, y)
    alone = RandomForestClassifier(20, max_depth=4, random_state=0).fit(X[fit], y[fit])
    expected = 2 * roc_auc_score(y[held], alone.predict_proba(X[held])[:, 1]) - 1
    rows = np.flatnonzero(held)
    assert study.held_out_gini(forest, X, y, None, np.flatnonzero(fit), rows) == pytest.approx(expected)
    assert X.index.get_level_values("date")[np.flatnonzero(fit)].max() < start  # the purge: a date apart


def test_calendar_dummies_learn_their_years_from_the_training_rows():
    """``years=None``: the year columns are those of the rows the step is fitted on; a later year's rows get
    zeros in all of them, not a column of their own that training never set."""
    dates = pd.to_datetime(["2001-03-30", "2002-05-31", "2003-01-31"])
    rows = pd.MultiIndex.from_product([dates, ["A"]], names=["date", "ticker"])
    X = pd.DataFrame({"r1": [0.1, 0.2, 0.3]}, index=rows)
    step = CalendarDummies(years=None).fit(X.iloc[:2])
    out = step.transform(X)
    assert [c for c in out.columns if c.startswith("year_")] == ["year_2001", "year_2002"]
    assert out.loc[(dates[2], "A"), ["year_2001", "year_2002"]].tolist() == [0, 0]
    assert list(step.get_feature_names_out()) == list(out.columns)


def test_a_run_with_dummies_learns_them_from_each_windows_training_rows():
    """``dummies = true``: the rows carry no year column of the whole sample; the network's dummies are those of
    the years its training rows have, so no test year has a column of its own."""
    prices = synthetic_prices("planted", n_tickers=20, n_months=120, seed=2)
    plan = workflow.plan(RunConfig(**{**SMALL, "dummies": True}), prices)
    assert not any(column.startswith(("year_", "month_")) for column in plan.X.columns)
    result = workflow.execute(plan, verbose=0)
    years = result.model.preprocess_.named_steps["calendar"].years_
    assert max(years) < plan.test_windows[-1].test[0].year
    assert result.leakage["with_dummies"] > 0  # the seed's shuffled evaluation still has its dummies


def test_a_study_refuses_dummies():
    with pytest.raises(ValueError, match="dummies is a setting of the tuned network's run"):
        RunConfig(models=["gbt"], dummies=True, recipe="daily")


def _bouncing_closes(n_names: int = 40, days: int = 1000, half_spread: float = 0.004, seed: int = 0):
    """Random-walk mid prices whose closes print at the bid or the ask at random: no skill is possible, but a
    close at the bid tends to be followed by a higher one (the bid-ask bounce)."""
    rng = np.random.default_rng(seed)
    mid = 50 * np.exp(np.cumsum(0.015 * rng.standard_normal((days, n_names)), axis=0))
    side = rng.choice([-1.0, 1.0], size=(days, n_names))
    return pd.DataFrame(mid * (1 + half_spread * side), index=pd.bdate_range("2010-01-04", periods=days),
                        columns=[f"N{i:02d}" for i in range(n_names)])


def test_the_default_daily_run_owes_nothing_to_the_bid_ask_bounce():
    """The audit's case: at lag 0 a daily book on bouncing closes earns the spread (a high Sharpe ratio before
    costs that no one can trade); the daily recipe's default, lag 1, trades the next close and finds nothing, and
    the skill is measured at the horizon the book holds."""
    closes = _bouncing_closes()
    settings = {**DAILY, "train_size": 250, "test_size": 125}
    paper = workflow.execute(workflow.plan(RunConfig(**settings, lag=0), closes), verbose=0)
    default = workflow.execute(workflow.plan(RunConfig(**settings), closes), verbose=0)
    assert default.plan.config.lag == 1
    sharpe = {name: result.strategy["before_costs"].mean() / result.strategy["before_costs"].std() * np.sqrt(252)
              for name, result in (("lag 0", paper), ("lag 1", default))}
    assert sharpe["lag 0"] > 2 and paper.ic_decay[0]["mean"] > 0.02  # the bounce, earned at the signal's close
    assert default.selection["deflated_sharpe"] < 0.95 and abs(sharpe["lag 1"]) < 1.5
    assert default.ic_decay[1]["lag"] == 1 and abs(default.ic_decay[1]["mean"]) < 0.01  # nothing a day later
    # the IC and AUC of the default run are those of the period it holds: the IC decay's lag-1 figure
    assert default.ic.mean() == pytest.approx(default.ic_decay[1]["mean"])


def _business_days(n_names: int = 30, days: int = 900, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    prices = 40 * np.exp(np.cumsum(0.02 * rng.standard_normal((days, n_names)), axis=0))
    return pd.DataFrame(prices, index=pd.bdate_range("2012-01-02", periods=days),
                        columns=[f"N{i:02d}" for i in range(n_names)])


def test_weekly_prices_are_refused_by_the_daily_recipe():
    """Weeks taken for days were annualised with 252 periods a year (Sharpe 0.90 instead of about 0.41)."""
    weekly = _business_days(days=1500).resample("W-FRI").last()
    with pytest.raises(ValueError, match=r"the dates are weekly, not trading days; the daily recipe needs daily "
                                         r"prices\. Use recipe = \"monthly\""):
        workflow.plan(RunConfig(**DAILY), weekly)
    assert workflow.plan(RunConfig(**{**SMALL, "train_size": 24}), weekly).price_report.spacing == "week"  # months


@pytest.mark.parametrize("weekends", ["forward-filled", "empty"])
def test_calendar_day_files_give_the_trading_days_rows(weekends):
    """A calendar-day file's weekends are not trading days: forward-filled, their 0% returns made an AUC of 0.554
    on a random walk; empty, the error blamed a universe file never given. Either way the rows are those of the
    trading days alone, and the report counts the dates left out."""
    trading = _business_days()
    calendar = trading.reindex(pd.date_range(trading.index[0], trading.index[-1], freq="D"))
    calendar = calendar.ffill() if weekends == "forward-filled" else calendar
    settings = {**DAILY, "train_size": 250, "test_size": 125}
    expected, plan = (workflow.plan(RunConfig(**settings), prices) for prices in (trading, calendar))
    pd.testing.assert_index_equal(plan.X.index, expected.X.index)
    pd.testing.assert_series_equal(plan.y, expected.y)
    note = next(line for line in plan.price_report.notes if "left out as not trading days" in line)
    weekend_days = int((calendar.index.day_of_week >= 5).sum())
    assert note.startswith(f"{weekend_days} dates") and f"{weekend_days} of them weekends" in note


def test_too_little_history_names_the_recipes_need_not_a_universe():
    with pytest.raises(ValueError, match="No \\(date, ticker\\) row has known features: the daily recipe's features "
                                         "need 241 trading days of prices"):
        workflow.plan(RunConfig(**DAILY), _business_days(days=200))


def test_a_study_of_a_few_out_of_sample_days_says_so():
    """A 2-year daily panel: the advice once left a one-day study that finished without a word. The advice now
    leaves half a test window, and a study that evaluates fewer days than that is warned about."""
    prices = _business_days(days=520)
    config = RunConfig(models=["logit"], recipe="daily", quick=True, ks=[5], test_size=250)
    with pytest.raises(ValueError, match="Set train_size=(\\d+)") as refused:
        workflow.plan(config, prices)
    advised = int(re.search("Set train_size=(\\d+)", str(refused.value)).group(1))
    assert workflow.plan(replace(config, train_size=advised), prices).warnings == [
        w for w in workflow.plan(replace(config, train_size=advised), prices).warnings if not w.startswith("Only")]
    short = workflow.plan(replace(config, train_size=advised + 120), prices)
    assert any(w.startswith("Only ") and "evaluated out of sample" in w for w in short.warnings)


def _halting_panel(halt_days: int = 120) -> pd.DataFrame:
    """Two names over 400 business days; A stops trading after day 200 and resumes ``halt_days`` later at three
    times its last price; B stops for good after day 300 (no delisting return in the data)."""
    dates = pd.bdate_range("2015-01-01", periods=400)
    prices = pd.DataFrame({"A": np.linspace(10, 11, 400), "B": np.linspace(20, 19, 400), "C": 30.0}, index=dates)
    prices.iloc[201:201 + halt_days, 0] = np.nan
    prices.iloc[201 + halt_days:, 0] = 3 * prices.iloc[200, 0]
    prices.iloc[301:, 1] = np.nan
    return prices


def test_a_long_halt_counts_as_a_delisting_once_it_has_lasted_max_halt():
    """The audit's case: a name unpriced for 120 days that resumes at 3x added +183% on the trade date before the
    halt; on the data known during the halt it was worth its last price. With max_halt, the position is closed
    at its last price (and the assumed delisting return) once the halt has lasted max_halt periods, known then."""
    prices = _halting_panel()
    dates = grid(prices, "day")
    waited = next_period_outcomes(prices, dates)
    capped = next_period_outcomes(prices, dates, max_halt=10)
    row = pd.MultiIndex.from_tuples([(prices.index[200], "A")], names=["date", "ticker"])
    assert waited.at(row)["forward_return"].iloc[0] == pytest.approx(2.0)  # +200% from the resumed price
    assert waited.at(row)["realised"].iloc[0] == prices.index[321]
    assert capped.at(row)["forward_return"].iloc[0] == pytest.approx(0.0)  # its last price, delisted at 0%
    assert capped.at(row)["realised"].iloc[0] == prices.index[211]  # known once 10 days have passed
    assert capped.at(row)["assumed"].iloc[0] and not capped.at(row)["halted"].iloc[0]
    short = next_period_outcomes(_halting_panel(halt_days=5), dates, max_halt=10)  # a short halt is waited for
    assert short.at(row)["halted"].iloc[0] and short.at(row)["forward_return"].iloc[0] == pytest.approx(2.0)


def test_an_assumed_delisting_is_known_when_the_missing_prices_have_lasted_max_halt():
    """A name that stops trading with no delisting return in the data: that it never trades again shows only
    later; its position is closed at the assumption, known max_halt periods after the next date, not on it."""
    prices = _halting_panel()
    dates = grid(prices, "day")
    row = pd.MultiIndex.from_tuples([(prices.index[300], "B")], names=["date", "ticker"])
    assert next_period_outcomes(prices, dates).at(row)["realised"].iloc[0] == prices.index[301]  # before
    capped = next_period_outcomes(prices, dates, None, -0.3, max_halt=10).at(row)
    assert capped["realised"].iloc[0] == prices.index[311] and capped["delisted"].iloc[0]
    assert capped["forward_return"].iloc[0] == pytest.approx(-0.3)
    given = next_period_outcomes(prices, dates, pd.Series({"B": -0.5}), -0.3, max_halt=10).at(row)
    assert given["realised"].iloc[0] == prices.index[301]  # the data's delisting return is known on the next date
    assert given["forward_return"].iloc[0] == pytest.approx(-0.5)


def test_the_daily_recipe_caps_halts_by_default():
    assert RunConfig(recipe="daily").resolved().max_halt == 10 and RunConfig().resolved().max_halt == 3


def test_a_halted_positions_capital_stays_out_of_the_book_until_it_is_closed():
    """k = 1, the top name always long: halted for three days after a trade date, its dollar is still tied up,
    so the long leg cannot be reopened with it in another name until the halt ends."""
    dates = pd.bdate_range("2020-01-01", periods=30)
    prices = pd.DataFrame(np.linspace(10, 12, 30)[:, None] * np.arange(1, 7), index=dates,
                          columns=[f"N{i}" for i in range(6)])
    prices.iloc[11:14, 0] = np.nan  # N0 halted on days 11-13, priced again on day 14
    outcomes = next_period_outcomes(prices, grid(prices, "day"), max_halt=10)
    rows = pd.MultiIndex.from_product([dates[:-1], prices.columns], names=["date", "ticker"])
    probability = pd.Series(np.tile(np.linspace(1, 0, 6), len(dates) - 1), index=rows)
    _, weights, _ = strategy.run(probability.drop(index=[(d, "N0") for d in dates[11:14]]), outcomes, 1, 0.0, 0, 0)
    long = weights.clip(lower=0)
    assert long.loc[dates[10], "N0"] == 1.0  # opened, then halted
    assert (long.loc[dates[11]:dates[13]].sum(axis=1) == 0).all()  # its dollar is still in N0
    assert long.loc[dates[14]].sum() == 1.0 and long.loc[dates[14], "N0"] == 1.0  # closed on day 14: reopened
    assert (weights.clip(upper=0).sum(axis=1) == -1).all()  # the short leg had no halt
