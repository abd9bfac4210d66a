"""The files users bring: every layout and vendor spelling loads to the same panel, and each bad file gets a
message that names what was found and what to change. Then ``--universe``, delistings, ``--set`` and
``synthetic:N`` through the command line."""

import json
import re

import numpy as np
import pandas as pd
import pytest

from deepfin.cli import main
from deepfin.finance import (
    RunConfig,
    load_delistings,
    load_panel,
    load_prices,
    load_universe,
    prices_from_returns,
    synthetic_prices,
    synthetic_universe,
)
from deepfin.finance.pipeline import workflow
from deepfin.finance.pipeline.config import apply_assignment


@pytest.fixture
def panel():
    rng = np.random.default_rng(0)
    dates = pd.bdate_range("2015-01-01", periods=60)
    return pd.DataFrame(100 * np.exp(np.cumsum(rng.normal(0, 0.01, (60, 3)), axis=0)), index=dates,
                        columns=["AAA", "BBB", "CCC"])


def long_frame(panel, name="ticker", date="date", value="price"):
    frame = panel.rename_axis(date).reset_index().melt(id_vars=date, var_name=name, value_name=value)
    return frame.sample(frac=1, random_state=0)


@pytest.mark.parametrize("name", ["ticker", "symbol", "permno", "asset", "secid", "isin", "Symbol", "TICKER"])
def test_long_files_with_any_vendor_name_column_load(panel, tmp_path, name):
    """A long file with 'symbol' failed with '... duplicate dates' (it was read as wide)."""
    long_frame(panel, name=name).to_csv(tmp_path / "long.csv", index=False)
    pd.testing.assert_frame_equal(load_prices(tmp_path / "long.csv"), panel, check_freq=False, check_names=False)


@pytest.mark.parametrize("date", ["date", "Date", "datetime", "timestamp"])
@pytest.mark.parametrize("value", ["price", "close", "adj_close", "Adj Close", "prc"])
def test_long_files_with_any_date_and_price_spelling_load(panel, tmp_path, date, value):
    long_frame(panel, date=date, value=value).to_csv(tmp_path / "long.csv", index=False)
    pd.testing.assert_frame_equal(load_prices(tmp_path / "long.csv"), panel, check_freq=False, check_names=False)


def test_crsp_layout_negative_prc_integer_dates_and_an_adjusted_price_preferred(panel, tmp_path):
    frame = long_frame(panel, name="PERMNO", date="date", value="PRC")
    frame["PRC"] = np.where(np.arange(len(frame)) % 3 == 0, -frame["PRC"], frame["PRC"])  # bid/ask averages
    frame["date"] = frame["date"].dt.strftime("%Y%m%d").astype(int)
    frame.to_csv(tmp_path / "crsp.csv", index=False)
    loaded = load_panel(tmp_path / "crsp.csv")
    pd.testing.assert_frame_equal(loaded.prices, panel, check_freq=False, check_names=False)
    assert any("negative PRC" in note for note in loaded.notes)
    both = long_frame(panel).assign(close=1.0, adj_close=lambda f: f["price"]).drop(columns="price")
    both.to_csv(tmp_path / "both.csv", index=False)
    pd.testing.assert_frame_equal(load_prices(tmp_path / "both.csv"), panel, check_freq=False, check_names=False)


@pytest.mark.parametrize("column", ["ret", "RET", "return", "returns"])
def test_returns_build_the_same_price_index(panel, tmp_path, column):
    returns = panel.pct_change(fill_method=None)
    returns.iloc[:10, 2] = np.nan  # CCC lists on the 11th date
    frame = long_frame(returns.iloc[1:], value=column)
    frame.to_csv(tmp_path / "returns.csv", index=False)
    loaded = load_prices(tmp_path / "returns.csv")
    pd.testing.assert_frame_equal(loaded.pct_change(fill_method=None).iloc[1:], returns.iloc[2:], check_freq=False,
                                  check_names=False, rtol=1e-9)
    assert loaded["CCC"].first_valid_index() == panel.index[9] and loaded.loc[panel.index[9], "CCC"] == 1.0
    # the base of a name that lists later sits on the date before its first return


def test_crsp_return_codes_are_missing_and_a_later_return_runs_from_the_last_price(panel):
    returns = panel.pct_change(fill_method=None).iloc[1:].astype(object)
    returns.iloc[5, 0] = "C"  # CRSP: no valid return that day
    frame = long_frame(returns, value="RET")
    loaded = load_panel(frame)
    prices = loaded.prices
    assert np.isnan(prices.iloc[5, 0]) and any("missing-return codes" in note for note in loaded.notes)
    assert prices.iloc[6, 0] == pytest.approx(prices.iloc[4, 0] * (1 + float(returns.iloc[6, 0])))
    with pytest.raises(ValueError, match="median size is .*not percentages"):
        prices_from_returns(panel.pct_change(fill_method=None).iloc[1:].abs() * 100)


def test_semicolon_files_with_decimal_commas_and_day_first_dates_are_read_with_their_settings(panel, tmp_path):
    frame = long_frame(panel).sort_values(["date", "ticker"])
    frame["date"] = frame["date"].dt.strftime("%d.%m.%Y")
    frame.to_csv(tmp_path / "european.csv", sep=";", decimal=",", index=False)
    with pytest.raises(ValueError, match="'1\\d\\d,\\d+'.*decimal comma: set decimal = ','"):
        load_prices(tmp_path / "european.csv")
    loaded = load_prices(tmp_path / "european.csv", decimal=",")  # the delimiter is sniffed, dates read day-first
    pd.testing.assert_frame_equal(loaded, panel, check_freq=False, check_names=False)


def test_ambiguous_dates_are_refused_naming_date_format(panel, tmp_path):
    frame = long_frame(panel.iloc[:5])  # Jan 1-7 2015: every day <= 12
    frame["date"] = frame["date"].dt.strftime("%m/%d/%Y")
    frame.to_csv(tmp_path / "us.csv", index=False)
    with pytest.raises(ValueError, match="read both as '%m/%d/%Y' and as '%d/%m/%Y'.*date_format"):
        load_prices(tmp_path / "us.csv")
    loaded = load_prices(tmp_path / "us.csv", date_format="%m/%d/%Y")
    pd.testing.assert_frame_equal(loaded, panel.iloc[:5], check_freq=False, check_names=False)
    with pytest.raises(ValueError, match="do not match date_format='%Y-%m-%d'.*'01/02/2015'"):
        load_prices(tmp_path / "us.csv", date_format="%Y-%m-%d")


@pytest.mark.parametrize("damage, message", [
    (lambda text: text.replace("\n", "\n2015-01-05,AAA,1,2,3\n", 1), "line 2 has 5 fields where the header has 3"),
    (lambda text: text + "date,ticker,price\n", "column 'date' holds its own name in data row 181: it looks like a "
                                                 "repeated header line"),
    (lambda text: text.replace(",AAA,", ",AAA,n/a", 1), "holds text where numbers belong"),
    (lambda text: text.replace("date,ticker,price", "day,stock,close"),
     "no column names the assets.*\\['stock'\\] hold text.*rename it to 'ticker'"),
    (lambda text: text.replace("price", "volume"), "lacks a price or return column.*Columns found: \\['date', "
                                                   "'ticker', 'volume'\\].*Accepted"),
    (lambda text: text.replace(",", ";").replace("date;", "date,", 1), "line 2 has 3 fields where the header has 2"),
])
def test_damaged_price_files_get_a_message_naming_what_to_change(panel, tmp_path, damage, message):
    text = long_frame(panel).to_csv(index=False, date_format="%Y-%m-%d")
    (tmp_path / "bad.csv").write_text(damage(text))
    with pytest.raises(ValueError, match=message) as error:
        load_prices(tmp_path / "bad.csv")
    assert len(str(error.value)) < 400  # a sentence, not a dump of the file


def test_one_column_that_hides_another_delimiter_names_sep(panel, tmp_path):
    (tmp_path / "pipes.csv").write_text("date;ticker;price\n" + "\n".join(
        f"2015-01-0{d};AAA;{100 + d}" for d in range(1, 6)) + "\n")
    pd.testing.assert_series_equal(load_prices(tmp_path / "pipes.csv")["AAA"],
                                   pd.Series([101.0, 102, 103, 104, 105], name="AAA",
                                             index=pd.date_range("2015-01-01", periods=5)), check_freq=False,
                                   check_names=False, check_index_type=False)
    with pytest.raises(ValueError, match="one column.*semicolon-separated. Set sep = ';'"):
        load_prices(tmp_path / "pipes.csv", sep=",")


@pytest.mark.parametrize("layout", ["lists", "intervals"])
@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_universe_files_in_both_layouts_and_formats(tmp_path, layout, suffix):
    if suffix == ".parquet":
        pytest.importorskip("pyarrow")
    if layout == "lists":
        frame = pd.DataFrame({"date": ["2020-01-31", "2020-01-31", "2020-02-28"], "symbol": ["A", "B", "B"]})
    else:
        frame = pd.DataFrame({"ticker": ["A", "B"], "start": ["2020-01-01", "2020-01-15"], "end": ["2020-02-27", None]})
    path = tmp_path / f"members{suffix}"
    frame.to_csv(path, index=False) if suffix == ".csv" else frame.to_parquet(path)
    mask = load_universe(path).mask(pd.to_datetime(["2020-01-31", "2020-02-28"]), ["A", "B"])
    assert mask.to_numpy().tolist() == [[True, True], [False, True]]


def test_a_universe_file_without_its_columns_lists_what_it_found(tmp_path):
    pd.DataFrame({"day": ["2020-01-31"], "name": ["A"]}).to_csv(tmp_path / "members.csv", index=False)
    with pytest.raises(ValueError, match="Columns found: \\['day', 'name'\\]"):
        load_universe(tmp_path / "members.csv")


def test_apply_assignment_reads_toml_values_and_keeps_the_rest_of_the_grid():
    settings = apply_assignment({}, "train_size=60")
    settings = apply_assignment(settings, "window=rolling")
    settings = apply_assignment(settings, "grid.dropout=[0.5]")
    settings = apply_assignment(settings, "sep=';'")
    assert settings["train_size"] == 60 and settings["window"] == "rolling" and settings["sep"] == ";"
    config = RunConfig.from_dict(settings)
    assert config.grid["dropout"] == [0.5] and config.grid["optimizer"] == ["RMSprop", "Adam"]
    with pytest.raises(ValueError, match="--set takes KEY=VALUE"):
        apply_assignment({}, "train_size")


def test_a_short_panel_error_names_the_setting_the_value_that_fits_and_the_set_spelling(tmp_path, capsys):
    """Twelve years of daily prices with the monthly recipe: the message says what to set, and --set works."""
    rng = np.random.default_rng(1)
    dates = pd.bdate_range("2010-01-01", "2021-12-31")
    prices = pd.DataFrame(100 * np.exp(np.cumsum(rng.normal(0, 0.01, (len(dates), 24)), axis=0)), index=dates,
                          columns=[f"S{i}" for i in range(24)])
    prices.rename_axis("date").to_csv(tmp_path / "prices.csv")
    with pytest.raises(SystemExit):
        main(["run", "--data", str(tmp_path / "prices.csv"), "--quick", "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    found = re.search(r"Set train_size=(\d+) \(--set train_size=(\d+)\)", err)
    assert found and found[1] == found[2], err
    config = RunConfig(data=str(tmp_path / "prices.csv"), quick=True, train_size=int(found[1]))
    assert len(workflow.plan(config).test_windows) >= 1  # the value the message gives does fit


def test_cli_runs_with_a_universe_delistings_file_lag_and_set(tmp_path):
    prices = synthetic_prices("planted", n_tickers=30, n_months=200, seed=2)
    prices.iloc[150:, 0] = np.nan  # S00 delists
    prices.rename_axis("date").to_csv(tmp_path / "prices.csv")
    members = pd.DataFrame([(date, ticker) for date in prices.index for ticker in prices.columns[:25]],
                           columns=["date", "ticker"])  # S25..S29 are never members
    members.to_csv(tmp_path / "members.csv", index=False)
    pd.DataFrame({"ticker": ["S00"], "dlret": [-0.25]}).to_csv(tmp_path / "delistings.csv", index=False)
    code = main(["run", "--data", str(tmp_path / "prices.csv"), "--universe", str(tmp_path / "members.csv"),
                 "--quick", "--out", str(tmp_path / "out"), "--set", "train_size=60", "--set", "tuning_folds=1",
                 "--set", "lag=1", "--set", "k=5", "--set", "label=above_median",
                 "--set", f"delistings={json.dumps(str(tmp_path / 'delistings.csv'))}"])
    assert code == 0
    predictions = pd.read_csv(tmp_path / "out" / "predictions.csv")
    assert not predictions["ticker"].isin(["S25", "S26", "S27", "S28", "S29"]).any()
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert metrics["backtest"]["lag"] == 1 and metrics["label"] == "above_median"
    assert metrics["data"]["counts"]["not_members"] > 0
    again = RunConfig.from_toml(tmp_path / "out" / "run.toml")
    assert again.lag == 1 and again.universe == str(tmp_path / "members.csv") and again.train_size == 60


def test_synthetic_data_spec_runs_without_a_file(tmp_path):
    code = main(["run", "--data", "synthetic:40,years=4,signal=reversal,strength=0.2", "--recipe", "daily",
                 "--quick", "--out", str(tmp_path), "--set", "train_size=250", "--set", "test_size=250",
                 "--set", "tuning_folds=1", "--set", "shuffled_folds=2",
                 "--set", "lag=0"])  # the planted reversal lasts one day: traded at the signal's close
    assert code == 0
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["data"]["source"].startswith("synthetic universe (40 index members")
    assert "sp500_index" not in metrics["backtest"]  # made-up dates are not compared with the real index
    assert metrics["cross_section"]["rank_ic"]["t_stat"] > 2
    with pytest.raises(ValueError, match="Unknown synthetic option 'colour=red'"):
        workflow.plan(RunConfig(data="synthetic:40,colour=red"))


def test_the_synthetic_universe_keeps_its_law():
    market = synthetic_universe(80, years=6, seed=3)
    counts = market.members.groupby("date").size()
    assert (counts == 80).all()  # the index always has its members
    returns = market.prices.pct_change(fill_method=None)
    stacked = returns.stack().dropna()
    assert stacked.kurt() > 3  # fat tails
    market_returns = returns.mean(axis=1).dropna()
    squared = market_returns**2
    assert squared.autocorr(1) > 0.1  # volatility clusters
    failures = market.delistings[market.delistings["reason"] == "failure"]
    assert len(failures) > 0 and (market.delistings["reason"] == "merger").sum() > 0
    for _, row in failures.iterrows():  # each failure is a -50% crash on the last price
        series = market.prices[row["ticker"]].dropna()
        assert series.index[-1] == row["date"] and series.iloc[-1] / series.iloc[-2] - 1 == pytest.approx(-0.5)
        assert row["return"] == pytest.approx(-0.3)
    assert market.prices.notna().iloc[0].sum() == 120 and market.prices.shape[1] > 120  # names list later


def test_a_dlret_column_gives_each_name_its_delisting_return(panel):
    frame = long_frame(panel).assign(DLRET=np.nan)
    frame.index = frame.index[::-1]  # a frame's own index must not matter
    last = frame["date"] == panel.index[-1]
    frame.loc[last & (frame["ticker"] == "BBB"), "DLRET"] = -0.35
    loaded = load_panel(frame)
    assert loaded.delisting_returns.to_dict() == {"BBB": -0.35}
    pd.testing.assert_frame_equal(loaded.prices, panel, check_freq=False, check_names=False)
    frame.loc[last & (frame["ticker"] == "CCC"), "DLRET"] = -1.5
    with pytest.raises(ValueError, match="delisting return below -100% \\(-1.5 for CCC\\)"):
        load_panel(frame)


def test_crsp_delisting_codes_are_missing_and_integer_identifiers_match_text_ones(panel, tmp_path):
    numbered = panel.set_axis([10001, 10002, 10003], axis=1)  # PERMNOs as numbers in a wide frame
    loaded = load_panel(numbered)
    assert list(loaded.prices.columns) == ["10001", "10002", "10003"]
    frame = long_frame(numbered, name="PERMNO").assign(DLRET=np.nan)
    frame["PERMNO"] = frame["PERMNO"].astype(float)  # read with missing values somewhere: 10001.0
    last = frame["date"] == panel.index[-1]
    frame.loc[last, "DLRET"] = np.where(frame.loc[last, "PERMNO"] == 10001, -55.0, -0.4)  # -55: CRSP's "no DLRET"
    loaded = load_panel(frame)
    assert list(loaded.prices.columns) == ["10001", "10002", "10003"]
    assert loaded.delisting_returns.to_dict() == {"10002": -0.4, "10003": -0.4}
    pd.DataFrame({"permno": [10001.0, 10002.0], "dlret": ["S", "-0.5"]}).to_csv(tmp_path / "dl.csv", index=False)
    given = load_delistings(tmp_path / "dl.csv")
    assert given.to_dict() == {"10002": -0.5}


@pytest.mark.parametrize("shape", ["tz-aware index", "long, (date, ticker) index", "long, date index"])
def test_data_frames_from_python_in_any_usual_shape(panel, shape):
    if shape == "tz-aware index":
        frame = panel.tz_localize("America/New_York")
    elif shape == "long, (date, ticker) index":
        frame = panel.rename_axis("date").stack().rename("close").rename_axis(["date", "ticker"]).to_frame()
    else:
        frame = long_frame(panel).set_index("date")
    pd.testing.assert_frame_equal(load_prices(frame), panel, check_freq=False, check_names=False)


def test_a_stray_date_most_names_lack_is_reported(panel):
    from deepfin.finance import validate_prices

    stray = panel.reindex(panel.index.append(pd.DatetimeIndex(["2015-01-17"])).sort_values())  # a Saturday
    stray.loc["2015-01-17", "AAA"] = 100.0
    _, report = validate_prices(stray)
    assert any("1 dates on which fewer than half the names" in line and "2015-01-17" in line
               for line in report.lines())


def test_crsp_membership_intervals_with_integer_dates_and_open_ends(tmp_path):
    """CRSP's S&P 500 list: permno, start, ending; an empty end makes pandas read the dates as 20010131.0."""
    (tmp_path / "msp500list.csv").write_text("permno,start,ending\n10001,19950103,20010131\n10002,19990301,\n")
    mask = load_universe(tmp_path / "msp500list.csv").mask(pd.to_datetime(["2000-01-31", "2005-01-31"]),
                                                           ["10001", "10002"])
    assert mask.to_numpy().tolist() == [[True, True], [False, True]]
    (tmp_path / "starts.csv").write_text("ticker,start,last\nA,2020-01-01,2020-02-01\n")
    with pytest.raises(ValueError, match="has a start column \\('start'\\) but no end column.*'ending'"):
        load_universe(tmp_path / "starts.csv")  # read as open-ended, every member would stay one for ever


def test_an_empty_name_is_an_error_naming_its_row(panel, tmp_path):
    frame = long_frame(panel)
    frame.iloc[7, frame.columns.get_loc("ticker")] = None
    frame.to_csv(tmp_path / "holes.csv", index=False)
    with pytest.raises(ValueError, match="column 'ticker' has an empty name in data row 8"):
        load_prices(tmp_path / "holes.csv")


def test_set_grid_in_a_quick_run_changes_the_quick_grid():
    settings = apply_assignment({"quick": True}, "grid.dropout=[0.5]")
    config = RunConfig.from_dict(settings).resolved()
    assert config.grid["dense_layers"] == [[32]] and config.grid["dropout"] == [0.5]


@pytest.mark.parametrize("settings, message", [
    ({"lag": 5000}, "lag=5000 leaves no trade date among the \\d+ out-of-sample dates. Set lag=0 \\(--set lag=0\\)"),
    ({"train_size": 2, "tuning_folds": 1}, "train_size=2 leaves no training date once early stopping holds out "
                                           "validation_split=0.2 of them and a purge of 1. Set train_size=3 "),
])
def test_a_lag_or_training_window_the_data_cannot_meet_fails_before_training(settings, message):
    config = RunConfig(**{"quick": True, "train_size": 60, "test_size": 12, "tuning_folds": 1, **settings})
    with pytest.raises(ValueError, match=message):
        workflow.plan(config, synthetic_prices(n_tickers=20, n_months=160))
