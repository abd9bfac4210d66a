"""The tear sheet's measures of a book against the libraries quants check them with: empyrical and quantstats
(compounded growth, Sortino, Calmar, drawdowns), statsmodels (Newey-West), skfolio (the Sharpe ratio's standard
error behind the probabilistic Sharpe ratio)."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from skfolio import measures

from deepfin.finance.backtest import tear_sheet

empyrical = pytest.importorskip("empyrical")
quantstats = pytest.importorskip("quantstats")
sm = pytest.importorskip("statsmodels.api")


@pytest.fixture
def daily():
    rng = np.random.default_rng(7)
    noise = rng.standard_t(4, 1500) * 0.008
    autocorrelated = 0.0004 + noise + 0.3 * np.concatenate([[0.0], noise[:-1]])
    return pd.Series(autocorrelated, index=pd.bdate_range("2015-01-01", periods=1500))


def test_growth_and_ratios_equal_empyrical_and_quantstats(daily):
    assert tear_sheet.cagr(daily, 252) == pytest.approx(empyrical.annual_return(daily, period="daily"), rel=1e-9)
    assert tear_sheet.sortino(daily, 252) == pytest.approx(quantstats.stats.sortino(daily, periods=252), rel=1e-9)
    assert tear_sheet.calmar(daily, 252) == pytest.approx(empyrical.calmar_ratio(daily, period="daily"), rel=1e-9)


def test_newey_west_equals_statsmodels(daily):
    lags = int(np.floor(4 * (len(daily) / 100) ** (2 / 9)))
    fit = sm.OLS(daily.to_numpy(), np.ones(len(daily))).fit(cov_type="HAC", cov_kwds={"maxlags": lags,
                                                                                      "use_correction": False})
    assert tear_sheet.newey_west_t(daily) == pytest.approx(fit.tvalues[0], rel=1e-9)
    plain_t = daily.mean() / (daily.std(ddof=1) / np.sqrt(len(daily)))
    assert tear_sheet.newey_west_t(daily) < plain_t  # positive autocorrelation: the plain t overstates


def test_the_sharpe_interval_is_the_probabilistic_sharpe_ratios(daily):
    """Its standard error is the one behind skfolio's probabilistic Sharpe ratio: P(SR > 0) = Phi(SR / se)."""
    low, high = tear_sheet.sharpe_interval(daily, 252)
    sr = daily.mean() / daily.std(ddof=1) * np.sqrt(252)
    assert low < sr < high and (low + high) / 2 == pytest.approx(sr)
    se = (high - low) / 2 / stats.norm.ppf(0.975) / np.sqrt(252)
    probabilistic = stats.norm.cdf(daily.mean() / daily.std(ddof=1) / se)
    assert probabilistic == pytest.approx(measures.probabilistic_sharpe_ratio(daily.to_numpy()), rel=1e-6)


def test_drawdowns_equal_pyfolios_table(daily):
    timeseries = pytest.importorskip("pyfolio.timeseries")
    theirs = timeseries.gen_drawdown_table(daily, top=3)
    ours = tear_sheet.drawdowns(daily, top=3)
    np.testing.assert_allclose(ours["depth"] * 100, -theirs["Net drawdown in %"].to_numpy(dtype=float), rtol=1e-9)
    assert list(ours["trough"]) == list(pd.to_datetime(theirs["Valley date"]))
    assert list(ours["start"]) == list(pd.to_datetime(theirs["Peak date"]))
    assert -ours["depth"].iloc[0] == pytest.approx(-empyrical.max_drawdown(daily))


def test_period_returns_compound_and_the_break_even_cost_zeroes_the_mean(daily):
    yearly = tear_sheet.period_returns(daily, "year")
    assert yearly.iloc[0] == pytest.approx(float(np.prod(1 + daily[daily.index.year == 2015]) - 1))
    assert np.prod(1 + tear_sheet.period_returns(daily, "month")) == pytest.approx(np.prod(1 + daily))
    turnover = pd.Series(1.5, index=daily.index)
    bps = tear_sheet.break_even_bps(daily, turnover)
    assert (daily - turnover * bps / 1e4).mean() == pytest.approx(0.0, abs=1e-15)
    sweep = tear_sheet.cost_sweep(daily, turnover, 252)
    assert [row["bps"] for row in sweep] == list(tear_sheet.SWEEP_BPS)
    assert all(a["mean"] > b["mean"] for a, b in zip(sweep, sweep[1:]))


def _predictions(probability: np.ndarray, returns: np.ndarray) -> pd.DataFrame:
    dates = pd.bdate_range("2020-01-01", periods=probability.shape[0])
    index = pd.MultiIndex.from_product([dates, [f"N{i:02d}" for i in range(probability.shape[1])]],
                                       names=["date", "ticker"])
    return pd.DataFrame({"probability": probability.ravel(), "forward_return": returns.ravel()}, index=index)


def test_quantile_measures_on_signals_whose_truth_is_known():
    """A fixed ranking of names that earn in proportion to it: demeaned decile returns rise with the decile
    and sum to 0, nothing changes deciles, the ranks correlate perfectly from date to date. Fresh noise every
    date: about 90% of a decile changes and the ranks are uncorrelated."""
    from deepfin.finance.validation.measures import quantile_returns, quantile_turnover, rank_autocorrelation

    rng = np.random.default_rng(0)
    fixed = np.tile(np.linspace(0, 1, 50), (200, 1))
    earns = 0.01 * (fixed - 0.5) + 0.001 * rng.standard_normal((200, 50))
    table = quantile_returns(_predictions(fixed, earns))
    assert list(table["quantile"]) == list(range(1, 11)) and (np.diff(table["mean"]) > 0).all()
    assert table["mean"].sum() == pytest.approx(0.0, abs=1e-12) and (table["std_error"] < 1e-3).all()
    assert quantile_turnover(_predictions(fixed, earns), 10) == 0.0
    assert rank_autocorrelation(_predictions(fixed, earns)) == pytest.approx(1.0)
    noise = _predictions(rng.random((200, 50)), earns)
    assert quantile_turnover(noise, 10) == pytest.approx(0.9, abs=0.03)
    assert abs(rank_autocorrelation(noise)) < 0.03


def test_rank_autocorrelation_equals_spearman_date_by_date():
    """The factor rank autocorrelation is the mean over dates of SciPy's Spearman correlation of each date's
    predictions with the date before's, over the names priced on both (ties, missing names, a date with one
    common name and a constant date among them)."""
    from scipy import stats

    from deepfin.finance.validation.measures import rank_autocorrelation

    rng = np.random.default_rng(5)
    probability = rng.integers(0, 5, (40, 12)) / 5.0
    probability[rng.random(probability.shape) < 0.25] = np.nan
    probability[7, 1:] = np.nan
    probability[20] = 0.5
    frame = _predictions(probability, np.zeros_like(probability)).dropna()
    expected = []
    for t in range(1, 40):
        both = ~np.isnan(probability[t]) & ~np.isnan(probability[t - 1])
        if both.sum() > 1 and np.ptp(probability[t][both]) > 0 and np.ptp(probability[t - 1][both]) > 0:
            expected.append(stats.spearmanr(probability[t][both], probability[t - 1][both]).statistic)
    assert rank_autocorrelation(frame) == pytest.approx(np.mean(expected), rel=1e-12)
