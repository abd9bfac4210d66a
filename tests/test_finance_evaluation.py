"""The parts of the finance workflow, each against an oracle: walk-forward windows, clipping fitted on
training rows, weighted and per-date AUC (scikit-learn), the rank IC (scipy), the backtest's arithmetic (by hand)
and its measures (formulas, scipy, skfolio)."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.compose import ColumnTransformer, make_column_selector
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.utils.estimator_checks import parametrize_with_checks

from deepfin.finance import (
    CalendarDummies,
    QuantileClipper,
    against,
    book,
    bootstrap_auc,
    decile_returns,
    equal_weight,
    ic_summary,
    information_coefficient,
    long_short,
    per_date_auc,
    performance,
    shuffled_cv_auc,
    walk_forward,
    walk_forward_predictions,
    weighted_auc,
    with_calendar_dummies,
)


@parametrize_with_checks([QuantileClipper(), QuantileClipper(columns=[0])])
def test_quantile_clipper_is_a_scikit_learn_transformer(estimator, check):
    check(estimator)


def _returns_and_dummies(rng, rows: int) -> pd.DataFrame:
    returns = pd.DataFrame(rng.standard_t(3, size=(rows, 4)).astype(np.float32), columns=[f"r{i}" for i in range(4)])
    months = rng.integers(1, 4, rows)
    dummies = pd.DataFrame({f"month_{m}": (months == m).astype(np.uint8) for m in (1, 2, 3)})
    return returns.join(dummies)


@pytest.mark.parametrize("columns", [["r0", "r1", "r2", "r3"], ["r1", "r3"], [3, 0],
                                     make_column_selector(pattern=r"^(?!year_|month_)")])
def test_clipping_some_columns_equals_scikit_learns_column_transformer(columns):
    # the oracle: ColumnTransformer clipping the chosen columns with the plain clipper, the others passed through
    rng = np.random.default_rng(1)
    train, test = _returns_and_dummies(rng, 3000), _returns_and_dummies(rng, 500)
    before = train.copy()
    clipper = QuantileClipper(columns=columns)
    out = clipper.fit_transform(train)
    chosen = columns(train) if callable(columns) else [train.columns[c] if isinstance(c, int) else c for c in columns]
    oracle = ColumnTransformer([("clip", QuantileClipper(), chosen)], remainder="passthrough",
                               verbose_feature_names_out=False).fit(train)
    order = [list(oracle.get_feature_names_out()).index(name) for name in train.columns]
    np.testing.assert_array_equal(out, oracle.transform(train)[:, order])
    np.testing.assert_array_equal(clipper.transform(test), oracle.transform(test)[:, order])
    assert out.dtype == np.float32  # float32 returns and uint8 dummies make one float32 array
    assert list(clipper.get_feature_names_out()) == list(train.columns)
    assert [train.columns[i] for i in clipper.clipped_] == sorted(chosen, key=list(train.columns).index)
    pd.testing.assert_frame_equal(train, before)  # clipped in its own array, never in the input


@pytest.mark.parametrize("make", [lambda x: x, lambda x: pd.DataFrame(x)], ids=["array", "one-dtype frame"])
def test_clipping_in_place_never_touches_the_input(make):
    # a float32 array, or a DataFrame of one float32 block, converts to a view of itself: it must be copied
    x = np.random.default_rng(2).standard_normal((1000, 3)).astype(np.float32)
    original, rows = x.copy(), make(x)
    clipper = QuantileClipper(0.1, 0.9)
    out = clipper.fit_transform(rows)
    clipper.transform(rows)
    np.testing.assert_array_equal(x, original)
    assert out.max() < original.max() and not np.shares_memory(out, x)


def test_clipping_an_unknown_column_is_refused():
    frame = _returns_and_dummies(np.random.default_rng(3), 50)
    with pytest.raises(ValueError, match=r"column 'r9' is not among the 7 columns of X \(r0, r1"):
        QuantileClipper(columns=["r9"]).fit(frame)
    with pytest.raises(ValueError, match="column 'r0' is not among the 2 columns"):
        QuantileClipper(columns=["r0"]).fit(np.zeros((5, 2)))  # names need a DataFrame
    with pytest.raises(ValueError, match="column 7 is not among"):
        QuantileClipper(columns=[7]).fit(frame)


def test_clipping_uses_the_training_quantiles_only():
    rng = np.random.default_rng(0)
    train, test = rng.normal(size=(500, 3)), 10 * rng.normal(size=(200, 3))
    clipper = QuantileClipper(0.05, 0.95).fit(train)
    low, high = np.quantile(train, [0.05, 0.95], axis=0)
    np.testing.assert_allclose(clipper.transform(test), np.clip(test, low, high))
    assert clipper.transform(test).max() <= high.max() < 3  # the test rows' own extremes (~30) are not used
    with pytest.raises(ValueError, match="lower < upper"):
        QuantileClipper(0.9, 0.1).fit(train)


def test_walk_forward_never_puts_a_date_on_both_sides():
    dates = pd.date_range("2000-01-31", periods=100, freq="ME")
    for expanding in (False, True):
        windows = walk_forward(dates, train_size=24, test_size=12, expanding=expanding, purge=1, embargo=2)
        for window in windows:
            assert window.train.max() < window.test.min()
            gap = dates.get_loc(window.test[0]) - dates.get_loc(window.train[-1]) - 1
            assert gap == 3  # purge + embargo dates left out between them
            assert len(window.train) == (24 if not expanding else dates.get_loc(window.train[-1]) + 1)
        tests = np.concatenate([w.test for w in windows])
        assert len(np.unique(tests)) == len(tests) and tests[-1] == dates[-1]  # contiguous, to the end
        assert all(len(w.test) == 12 for w in windows[:-1])


def test_walk_forward_rows_follow_the_dates():
    index = pd.MultiIndex.from_product([pd.date_range("2000-01-31", periods=30, freq="ME"), ["A", "B", "C"]],
                                       names=["date", "ticker"])
    window = walk_forward(index.get_level_values("date"), 10, 5)[0]
    train, test = window.rows(index)
    assert len(train) == 30 and len(test) == 15
    assert set(index[train].get_level_values("date")) == set(window.train)


@pytest.mark.parametrize("kwargs, message", [
    ({"train_size": 0, "test_size": 5}, "train_size >= 1"),
    ({"train_size": 10, "test_size": 5, "purge": -1}, "purge >= 0"),
    ({"train_size": 40, "test_size": 5}, "leaves no test date"),
])
def test_walk_forward_bad_sizes_fail(kwargs, message):
    with pytest.raises(ValueError, match=message):
        walk_forward(pd.date_range("2000-01-31", periods=30, freq="ME"), **kwargs)


class _RecordsDates(ClassifierMixin, BaseEstimator):
    """Predicts the base rate and remembers which dates it was fitted on."""

    fitted_on: list = []

    def fit(self, X, y):
        self.fitted_on.append(X.index.get_level_values("date"))
        self.classes_, self.rate_ = np.array([0, 1]), float(np.mean(y))
        return self

    def predict_proba(self, X):
        return np.tile([1 - self.rate_, self.rate_], (len(X), 1))


def test_training_rows_need_labels_realised_before_the_test_window():
    index = pd.MultiIndex.from_product([pd.date_range("2000-01-31", periods=30, freq="ME"), ["A", "B"]],
                                       names=["date", "ticker"])
    dates = index.get_level_values("date")
    realised = pd.Series(dates.shift(1, freq="ME"), index=index)
    realised.iloc[17] = dates[17] + pd.offsets.MonthEnd(6)  # (2000-09-30, B) halted: its label comes 6 months on
    realised.iloc[3] = pd.NaT  # (2000-02-29, B): outcome unknown
    window = walk_forward(dates, 10, 5, purge=1)[0]
    plain, _ = window.rows(index)
    train, _ = window.rows(index, realised)
    assert len(plain) == 20 and set(plain) - set(train) == {3, 17}
    assert (realised.iloc[train] < window.test[0]).all()


def test_walk_forward_predictions_fit_only_on_earlier_dates():
    index = pd.MultiIndex.from_product([pd.date_range("2000-01-31", periods=40, freq="ME"), ["A", "B"]],
                                       names=["date", "ticker"])
    X = pd.DataFrame({"x": np.arange(len(index), dtype=float)}, index=index)
    y = pd.Series(np.arange(len(index)) % 2, index=index)
    windows = walk_forward(index.get_level_values("date"), 12, 6, purge=1)
    _RecordsDates.fitted_on = []
    predictions, _ = walk_forward_predictions(_RecordsDates(), X, y, windows)
    for fitted, window in zip(_RecordsDates.fitted_on, windows, strict=True):
        assert fitted.max() < window.test.min() and fitted.isin(window.train).all()
    assert set(predictions["window"]) == set(range(len(windows)))
    assert len(predictions) == 2 * sum(len(w.test) for w in windows)


def test_walk_forward_predictions_cover_rows_without_outcome_and_train_without_them():
    index = pd.MultiIndex.from_product([pd.date_range("2000-01-31", periods=40, freq="ME"), ["A", "B"]],
                                       names=["date", "ticker"])
    X = pd.DataFrame({"x": np.arange(len(index), dtype=float)}, index=index)
    y = pd.Series(np.arange(len(index)) % 2, index=index, dtype=float)
    y.iloc[-2:] = np.nan  # the last date's outcome is not known yet
    realised = pd.Series(index.get_level_values("date").shift(1, freq="ME"), index=index).where(y.notna())
    windows = walk_forward(index.get_level_values("date"), 12, 6, purge=1)
    predictions, _ = walk_forward_predictions(_RecordsDates(), X, y, windows[-1:], realised=realised)
    assert len(predictions) == 2 * len(windows[-1].test) and predictions["label"].isna().sum() == 2
    auc, _, _ = bootstrap_auc(predictions.assign(probability=np.arange(len(predictions), dtype=float)), 50)
    assert np.isfinite(auc)  # the rows without outcome are left out of the AUC, not counted as a class


def test_per_date_auc_and_rank_ic_match_scikit_learn_and_scipy_date_by_date():
    rng = np.random.default_rng(4)
    index = pd.MultiIndex.from_product([pd.date_range("2000-01-31", periods=30, freq="ME"), range(25)],
                                       names=["date", "ticker"])
    probability = np.round(rng.random(len(index)), 1)  # ties
    forward = probability * 0.02 + rng.normal(0, 0.05, len(index))
    predictions = pd.DataFrame({"probability": probability, "forward_return": forward,
                                "label": (forward > 0).astype(float)}, index=index)
    predictions.iloc[::7, predictions.columns.get_loc("label")] = np.nan
    predictions.iloc[::7, predictions.columns.get_loc("forward_return")] = np.nan
    date_auc, ic = per_date_auc(predictions), information_coefficient(predictions)
    from scipy import stats

    for date, part in predictions.groupby(level="date"):
        known = part.dropna()
        assert date_auc[date] == pytest.approx(roc_auc_score(known["label"], known["probability"]), abs=1e-12)
        assert ic[date] == pytest.approx(stats.spearmanr(known["probability"], known["forward_return"])[0], abs=1e-12)
    summary = ic_summary(ic)
    test = stats.ttest_1samp(ic, 0.0)
    assert summary["t_stat"] == pytest.approx(test.statistic) and summary["p_value"] == pytest.approx(test.pvalue)
    assert summary["information_ratio"] == pytest.approx(ic.mean() / ic.std(ddof=1)) and summary["dates"] == 30
    assert summary["mean"] > 0.05 and summary["t_stat"] > 2  # the planted relation shows


def test_weighted_auc_matches_scikit_learn_with_ties_and_weights():
    rng = np.random.default_rng(1)
    scores = np.round(rng.normal(size=2000), 1)  # many ties
    labels = rng.random(2000) < 1 / (1 + np.exp(-scores))
    weights = rng.integers(0, 4, 2000).astype(float)
    assert weighted_auc(scores, labels, weights) == pytest.approx(
        roc_auc_score(labels, scores, sample_weight=weights), abs=1e-12)
    assert np.isnan(weighted_auc(scores, np.ones(2000, bool), weights))


def test_bootstrap_resamples_dates_and_brackets_the_pooled_auc():
    rng = np.random.default_rng(2)
    index = pd.MultiIndex.from_product([pd.date_range("2000-01-31", periods=120, freq="ME"), range(20)],
                                       names=["date", "ticker"])
    probability = rng.random(len(index))
    label = (rng.random(len(index)) < probability).astype(int)
    predictions = pd.DataFrame({"probability": probability, "label": label}, index=index)
    auc, low, high = bootstrap_auc(predictions, 300, seed=0)
    assert auc == pytest.approx(roc_auc_score(label, probability))
    assert low < auc < high and high - low < 0.05
    # a market shared by every row of a date: rows are not independent, and the interval says so
    common = np.repeat(rng.random(120) < 0.5, 20).astype(int)
    shared = pd.DataFrame({"probability": np.repeat(rng.random(120), 20) + 1e-3 * rng.random(len(index)),
                           "label": common}, index=index)
    _, low_shared, high_shared = bootstrap_auc(shared, 300, seed=0)
    assert high_shared - low_shared > 2 * (high - low)


@pytest.fixture
def four_stocks():
    """Two dates, four stocks: probabilities rank the stocks, next-period returns are known."""
    dates = pd.to_datetime(["2020-01-31", "2020-02-29"])
    signals = pd.DataFrame([[0.9, 0.1, 0.5, 0.4], [0.2, 0.8, 0.6, 0.3]], index=dates, columns=list("ABCD"))
    returns = pd.DataFrame([[0.05, -0.02, 0.01, 0.00], [0.03, 0.04, -0.01, 0.02]], index=dates, columns=list("ABCD"))
    return signals, returns


def test_long_short_returns_turnover_and_krauss_costs(four_stocks):
    signals, returns = four_stocks
    result = long_short(signals, returns, k=1, cost_bps=5)
    # date 1: long A (+5%), short B (-2%): 7%; opening both legs is 2 half-turns
    # date 2: long B (+4%), short A (+3%): 1%; A and B swap sides, 4 half-turns
    np.testing.assert_allclose(result["before_costs"], [0.07, 0.01])
    np.testing.assert_allclose(result["turnover"], [2.0, 4.0])
    np.testing.assert_allclose(result["after_costs"], [0.07 - 2 * 0.0005, 0.01 - 4 * 0.0005])
    # a full daily rotation costs 4 x 5 bps = 0.20%, Krauss et al.'s 0.33% -> 0.13% a day
    two = long_short(signals, returns, k=2, cost_bps=5)
    np.testing.assert_allclose(two["long"], [(0.05 + 0.01) / 2, (0.04 - 0.01) / 2])  # A, C then B, C
    np.testing.assert_allclose(two["turnover"], [2.0, 2.0])  # C stays long, B and A swap: 4 x 1/2
    with pytest.raises(ValueError, match="k=3 needs 6 predictions a date.*Lower k"):
        long_short(signals, returns, k=3, cost_bps=5)


def test_a_missing_return_of_a_held_name_drops_the_date_never_books_zero(four_stocks):
    signals, returns = four_stocks
    returns.loc[returns.index[1], "B"] = np.nan  # B is long on date 2 and its return is unknown
    result = long_short(signals, returns, k=1, cost_bps=0)
    assert list(result.index) == [returns.index[0]]
    returns.loc[returns.index[1], "B"] = 0.04
    returns.loc[returns.index[1], "D"] = np.nan  # D is not held: date 2 stands
    assert len(long_short(signals, returns, k=1, cost_bps=0)) == 2


def test_ties_are_broken_at_random_with_the_seed_not_by_column_order():
    """A collapsed network (one probability for every name) must not become an alphabetical book."""
    dates = pd.bdate_range("2020-01-01", periods=200)
    signals = pd.DataFrame(0.5, index=dates, columns=[f"S{i:02d}" for i in range(20)])
    weights = book(signals, k=5, seed=0)
    longs = weights.gt(0)
    assert not longs.iloc[:, :5].all(axis=1).all()  # not always the first five names
    share = longs.mean()
    assert share.between(0.25 - 0.12, 0.25 + 0.12).all()  # each name long about k/n of the dates
    pd.testing.assert_frame_equal(weights, book(signals, k=5, seed=0))  # repeatable with the seed
    assert not weights.equals(book(signals, k=5, seed=1))
    np.testing.assert_allclose(weights.sum(axis=1), 0.0, atol=1e-12)  # dollar-neutral whatever the tie-break
    np.testing.assert_allclose(weights.abs().sum(axis=1), 2.0)
    distinct = signals + np.arange(20) * 1e-3  # no ties: the tie-break changes nothing
    pd.testing.assert_frame_equal(book(distinct, k=5, seed=0), book(distinct, k=5, seed=1))


def test_names_that_cannot_be_traded_on_the_trade_date_leave_their_leg(four_stocks):
    signals, returns = four_stocks
    tradable = pd.DataFrame(True, index=signals.index, columns=signals.columns)
    tradable.loc[signals.index[0], "A"] = False  # A, the long pick of date 1, stopped trading
    weights = book(signals, k=2, tradable=tradable)
    np.testing.assert_allclose(weights.iloc[0], [0.0, -0.5, 1.0, -0.5])  # C carries the long leg alone


def test_equal_weight_holds_every_member_priced_on_the_date_and_never_books_a_missing_return(four_stocks):
    _, returns = four_stocks
    members = pd.DataFrame(True, index=returns.index, columns=returns.columns)
    members.loc[returns.index[0], "D"] = False
    result = equal_weight(returns, members, returns.index)
    assert result.iloc[0] == pytest.approx(np.mean([0.05, -0.02, 0.01]))
    assert result.iloc[1] == pytest.approx(np.mean([0.03, 0.04, -0.01, 0.02]))
    returns.loc[returns.index[1], "C"] = np.nan
    assert np.isnan(equal_weight(returns, members, returns.index).iloc[1])


def test_deciles_rise_when_the_probability_is_the_future():
    rng = np.random.default_rng(3)
    index = pd.MultiIndex.from_product([pd.date_range("2000-01-31", periods=24, freq="ME"), range(50)],
                                       names=["date", "ticker"])
    forward = pd.Series(rng.normal(size=len(index)), index=index)
    deciles = decile_returns(pd.DataFrame({"probability": forward}), forward)
    assert list(deciles.index) == list(range(1, 11)) and deciles.is_monotonic_increasing


def test_alpha_beta_and_information_ratio_against_a_benchmark_match_least_squares():
    rng = np.random.default_rng(5)
    market = pd.Series(rng.normal(0.005, 0.04, 240))
    strategy = 0.002 + 0.3 * market + pd.Series(rng.normal(0, 0.02, 240))
    figures = against(strategy, market, periods_per_year=12)
    design = np.column_stack([np.ones(240), market])
    (alpha, beta), *_ = np.linalg.lstsq(design, strategy, rcond=None)
    residuals = strategy - design @ [alpha, beta]
    sigma2 = residuals @ residuals / (240 - 2)
    alpha_se = np.sqrt(sigma2 * np.linalg.inv(design.T @ design)[0, 0])
    assert figures["beta"] == pytest.approx(beta) and figures["annual_alpha"] == pytest.approx(12 * alpha)
    assert figures["alpha_t_stat"] == pytest.approx(alpha / alpha_se)
    assert figures["information_ratio"] == pytest.approx(alpha / np.sqrt(sigma2) * np.sqrt(12))


def test_performance_measures_match_their_formulas():
    r = pd.Series([0.02, -0.01, 0.03, -0.04, 0.01, 0.02])
    p = performance(r, periods_per_year=12, turnover=pd.Series([2.0, 4.0]))
    assert p["annual_return"] == pytest.approx(r.mean() * 12)
    assert p["annual_volatility"] == pytest.approx(r.std(ddof=1) * np.sqrt(12))
    assert p["sharpe"] == pytest.approx(r.mean() / r.std(ddof=1) * np.sqrt(12))
    wealth = np.cumprod(1 + r.to_numpy())
    assert p["max_drawdown"] == pytest.approx(np.max(1 - wealth / np.maximum.accumulate(np.r_[1, wealth])[1:]))
    assert p["hit_rate"] == pytest.approx(4 / 6) and p["turnover"] == 3.0
    assert 0.5 < p["probabilistic_sharpe"] < 1


def test_shuffled_cv_auc_is_scikit_learns_cross_validated_auc_of_the_labelled_rows():
    rng = np.random.default_rng(5)
    index = pd.MultiIndex.from_product([pd.bdate_range("2021-01-01", periods=60), list("ABCDE")],
                                       names=["date", "ticker"])
    X = pd.DataFrame(rng.standard_normal((300, 3)), index=index, columns=["a", "b", "c"])
    y = pd.Series((X["a"] + rng.standard_normal(300) > 0).astype(float), index=index)
    y.iloc[-5:] = np.nan  # the last date's labels are not known yet: those rows take no part
    known = y.notna().to_numpy()
    oracle = cross_val_score(LogisticRegression(), X[known], y[known], scoring="roc_auc",
                             cv=StratifiedKFold(4, shuffle=True, random_state=3)).mean()
    assert shuffled_cv_auc(LogisticRegression(), X, y, n_splits=4, seed=3) == pytest.approx(oracle, abs=1e-12)


def test_calendar_dummies_are_pandas_get_dummies_of_the_dates():
    # the oracle: pd.get_dummies of the year and month over the whole sample, as text (the columns' order)
    dates = pd.bdate_range("2009-11-20", "2011-02-10")
    index = pd.MultiIndex.from_product([dates, ["A", "B"]], names=["date", "ticker"])
    X = pd.DataFrame({"r1": np.arange(len(index), dtype=np.float32)}, index=index)
    when = index.get_level_values("date")
    seed = pd.concat([pd.get_dummies(pd.Series(when.year.astype(str)), prefix="year"),
                      pd.get_dummies(pd.Series(when.month.astype(str)), prefix="month")], axis=1)
    out = with_calendar_dummies(X)
    assert list(out.columns) == ["r1", *seed.columns]  # month_1, month_10, month_11, month_12, month_2, ...
    np.testing.assert_array_equal(out[seed.columns].to_numpy(), seed.to_numpy().astype(np.uint8))
    step = CalendarDummies.of(X).fit(X)
    assert list(step.get_feature_names_out()) == list(out.columns)
    later = X[when.year == 2011]  # a fold's rows: the same columns, zeros for the years it does not have
    pd.testing.assert_frame_equal(step.transform(later), out[when.year == 2011])
    unseen = CalendarDummies(years=[2009, 2010]).transform(later)
    assert not unseen.filter(like="year_").to_numpy().any() and (unseen.filter(like="month_").sum(axis=1) == 1).all()
    with pytest.raises(ValueError, match=r"indexed by \(date, ticker\)"):
        step.transform(X.reset_index(drop=True))
