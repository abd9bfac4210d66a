"""deepfin.finance prices and features: loading, validation that names what is wrong, and features that
never look at a price after their own date."""

import numpy as np
import pandas as pd
import pytest

from deepfin.finance import (
    daily_features,
    grid,
    label,
    load_prices,
    monthly_features,
    next_period_outcomes,
    validate_prices,
)


@pytest.fixture(scope="module")
def embedded():
    return load_prices()


@pytest.fixture
def small_panel():
    rng = np.random.default_rng(0)
    dates = pd.bdate_range("2015-01-01", periods=900)
    returns = rng.normal(0.0003, 0.015, (len(dates), 5))
    return pd.DataFrame(100 * np.exp(np.cumsum(returns, axis=0)), index=dates, columns=list("ABCDE"))


def test_embedded_sp500_sample_loads_offline(embedded):
    assert embedded.shape == (8313, 20)
    assert embedded.index[0] == pd.Timestamp("1990-01-02") and embedded.index.is_monotonic_increasing
    prices, report = validate_prices(embedded)
    assert report.gaps == {} and len(report.tickers) == 20


def test_wide_and_long_csv_give_the_same_panel(small_panel, tmp_path):
    small_panel.rename_axis("date").to_csv(tmp_path / "wide.csv")
    long = small_panel.rename_axis("date").reset_index().melt(id_vars="date", var_name="ticker", value_name="price")
    long.sample(frac=1, random_state=0).to_csv(tmp_path / "long.csv", index=False)  # any row order
    for name in ("wide.csv", "long.csv"):
        loaded = load_prices(tmp_path / name)
        pd.testing.assert_frame_equal(loaded, small_panel, check_freq=False, check_names=False)


def test_wide_and_long_parquet_give_the_same_panel(small_panel, tmp_path):
    pytest.importorskip("pyarrow")
    small_panel.rename_axis("date").reset_index().to_parquet(tmp_path / "wide.parquet")
    long = small_panel.rename_axis("date").reset_index().melt(id_vars="date", var_name="ticker", value_name="close")
    long.to_parquet(tmp_path / "long.pq")
    for name in ("wide.parquet", "long.pq"):
        loaded = load_prices(tmp_path / name)
        pd.testing.assert_frame_equal(loaded, small_panel, check_freq=False, check_names=False)


def test_seed_hdf5_layout_is_read(small_panel, tmp_path):
    pytest.importorskip("tables")
    long = small_panel.stack().rename("adj_close").rename_axis(["date", "ticker"]).to_frame()
    long.to_hdf(tmp_path / "assets.h5", key="quandl/wiki/prices")
    pd.testing.assert_frame_equal(load_prices(tmp_path / "assets.h5"), small_panel, check_freq=False,
                                  check_names=False)


@pytest.mark.parametrize("damage, message", [
    (lambda p: pd.concat([p, p.iloc[[5]]]).sort_index(), "duplicate dates.*2015-01-08"),
    (lambda p: p.iloc[[0, 2, 1, *range(3, len(p))]], "not sorted: 2015-01-02 comes after 2015-01-05"),
    (lambda p: p.assign(C=p["C"].where(p.index != p.index[10], -1.0)), "zero or negative.*C has 1.*2015-01-15"),
    (lambda p: p.astype(object).assign(B=p["B"].astype(object).where(p.index != p.index[3], "n/a")),
     "B include values that are not numbers.*2015-01-06"),
])
def test_bad_prices_fail_naming_where(small_panel, damage, message):
    with pytest.raises(ValueError, match=message):
        validate_prices(damage(small_panel))


def test_no_name_is_excluded_for_its_whole_sample_and_gaps_are_counted_never_filled(small_panel):
    """A name that lists late is kept (whole-sample history counts looked ahead); a hole is left missing."""
    panel = small_panel.copy()
    panel.loc[panel.index[:700], "E"] = np.nan          # E lists late: 200 prices
    panel.loc[panel.index[400:403], "A"] = np.nan       # a 3-day hole inside A's history
    kept, report = validate_prices(panel)
    assert list(kept.columns) == list("ABCDE")
    assert report.gaps == {"A": 3}
    assert kept["A"].isna().sum() == 3                   # left missing, not forward-filled
    X = daily_features(kept, horizons=(1, 20))
    a_dates = X.xs("A", level="ticker").index
    assert panel.index[400] not in a_dates and panel.index[403] not in a_dates  # no made-up zero return
    e_dates = X.xs("E", level="ticker").index
    assert e_dates[0] == panel.index[720]  # E joins the cross-section once its 20-day return is known
    with pytest.raises(ValueError, match="holds no price"):
        validate_prices(panel.iloc[:0])


def test_unknown_file_type_and_missing_file(tmp_path):
    (tmp_path / "prices.xlsx").write_bytes(b"")
    with pytest.raises(ValueError, match=r"\.xlsx.*expected \.csv, \.parquet or \.h5"):
        load_prices(tmp_path / "prices.xlsx")
    with pytest.raises(FileNotFoundError, match="No price file"):
        load_prices(tmp_path / "nothing.csv")


def test_monthly_features_are_the_seeds_recipe(small_panel):
    X = monthly_features(small_panel, lags=3)
    month_end = small_panel.resample("ME").last()
    returns = month_end / month_end.shift(1) - 1
    date, ticker = X.index[7]
    position = month_end.index.get_loc(date)
    np.testing.assert_allclose(X.loc[(date, ticker)], [returns[ticker].iloc[position - k] for k in range(3)])
    outcomes = next_period_outcomes(small_panel, grid(small_panel, "month"))
    forward = outcomes.at(X.index)["forward_return"]
    assert forward.loc[(date, ticker)] == pytest.approx(returns[ticker].iloc[position + 1])
    assert label(forward, "up").loc[(date, ticker)] == int(returns[ticker].iloc[position + 1] > 0)
    assert list(X.columns) == ["r1", "r2", "r3"] and X.index.names == ["date", "ticker"]
    # the panel ends on Wed 2018-06-13: June is not complete, so it is no row and May has no next month yet
    assert small_panel.index[-1] == pd.Timestamp("2018-06-13")
    assert X.index.get_level_values("date").max() == pd.Timestamp("2018-05-31")
    assert forward.xs(pd.Timestamp("2018-05-31"), level="date").isna().all()


def test_dummies_are_one_hot_year_and_month(small_panel):
    X = monthly_features(small_panel, lags=2, dummies=True)
    year = X.filter(like="year_")
    month = X.filter(like="month_")
    assert (year.sum(axis=1) == 1).all() and (month.sum(axis=1) == 1).all()
    dates = X.index.get_level_values("date")
    assert (month[[f"month_{m}" for m in dates.month]].to_numpy().diagonal() == 1).all()


def test_krauss_features_and_median_label(small_panel):
    X = daily_features(small_panel)
    assert X.shape[1] == 31 and list(X.columns[[0, 19, 20, 30]]) == ["R1", "R20", "R40", "R240"]
    date, ticker = X.index[123]
    i = small_panel.index.get_loc(date)
    prices = small_panel[ticker]
    assert X.loc[(date, ticker), "R60"] == pytest.approx(prices.iloc[i] / prices.iloc[i - 60] - 1)
    tomorrow = small_panel.iloc[i + 1] / small_panel.iloc[i] - 1
    forward = next_period_outcomes(small_panel, grid(small_panel, "day")).at(X.index)["forward_return"]
    y = label(forward, "above_median")
    assert y.loc[(date, ticker)] == int(tomorrow[ticker] > tomorrow.median())
    assert X.index.get_level_values("date").min() == small_panel.index[240]
    assert np.isnan(y.xs(small_panel.index[-1], level="date")).all()  # the last day's tomorrow is unknown


@pytest.mark.parametrize("make", [lambda p: monthly_features(p, lags=6, dummies=True),
                                  lambda p: daily_features(p)])
def test_features_never_use_later_prices(small_panel, make):
    """Changing every price after a cut-off leaves every feature dated at or before it unchanged."""
    cutoff = small_panel.index[600]
    changed = small_panel.copy()
    changed.loc[changed.index > cutoff] *= np.random.default_rng(1).uniform(0.5, 2.0, changed.loc[
        changed.index > cutoff].shape)
    before, after = make(small_panel), make(changed)
    known = before.index.get_level_values("date") <= cutoff
    known_after = after.index.get_level_values("date") <= cutoff
    pd.testing.assert_frame_equal(before[known], after[known_after])
