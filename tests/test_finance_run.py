"""``deepfin run`` end to end on synthetic prices whose truth is known: it finds a planted signal, finds
nothing in a random walk, and exposes the seed's shuffled evaluation where months share their direction.
Then the files a run writes, and settings that must fail before any training."""

import json
import re
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from deepfin.cli import main
from deepfin.finance import RunConfig, synthetic_prices
from deepfin.finance.pipeline import workflow
from deepfin.finance.report import narrative
from deepfin.models import load_model
from tests.pictures import assert_not_blank

SMALL = {"train_size": 60, "test_size": 12, "tuning_folds": 1, "quick": True, "k": 10}


def run_on(kind: str):
    return workflow.execute(workflow.plan(RunConfig(**SMALL), synthetic_prices(kind, seed=0)), verbose=0)


@pytest.fixture(scope="module")
def random_walk():
    return run_on("random_walk")


def test_random_walk_auc_is_chance(random_walk):
    auc, low, high = random_walk.auc
    assert abs(auc - 0.5) < 0.03 and low < 0.5 < high


def test_random_walk_backtest_earns_nothing_beyond_costs(random_walk):
    strategy = random_walk.strategy
    before, after = strategy["before_costs"], strategy["after_costs"]
    t_stat = before.mean() / before.std() * np.sqrt(len(before))
    assert t_stat < 2  # no significant profit before costs
    assert after.mean() < before.mean() and after.mean() < 0.5 * before.std() / np.sqrt(len(after))
    np.testing.assert_allclose(before - after, strategy["turnover"] * 5e-4)


def test_planted_signal_is_recovered():
    result = run_on("planted")
    auc, low, _ = result.auc
    assert auc > 0.65 and low > 0.6  # AR(1) with coefficient 0.5: about 0.5 + arcsin(0.5) / pi = 0.67
    assert result.deciles.iloc[-1] > result.deciles.iloc[0]
    assert result.strategy["after_costs"].mean() > 0


def test_shared_month_direction_fools_the_shuffled_evaluation_only():
    result = run_on("common_move")
    leak = result.leakage
    low, high = leak["walk_forward_interval"]
    assert low < 0.5 < high and abs(leak["walk_forward"] - 0.5) < 0.1
    assert leak["with_dummies"] > 0.75 and leak["with_dummies"] > high + 0.1
    assert "leakage, not skill" in " ".join(narrative.leakage(leak))


class _Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.images, self.cells, self.tables = [], [], 0

    def handle_starttag(self, tag, attrs):
        self.images += [dict(attrs)["src"]] if tag == "img" else []
        self.tables += tag == "table"

    def handle_data(self, data):
        self.cells.append(data.strip())


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("run")
    synthetic_prices("planted", n_tickers=30, seed=1).rename_axis("date").to_csv(folder / "prices.csv")
    settings = "\n".join(f"{k} = {str(v).lower() if isinstance(v, bool) else v}" for k, v in SMALL.items())
    (folder / "run.toml").write_text(settings + "\n")
    assert main(["run", "--config", str(folder / "run.toml"), "--data", str(folder / "prices.csv"),
                 "--out", str(folder / "out")]) == 0
    return folder / "out"


def test_run_writes_metrics_predictions_and_a_filled_report(cli_run):
    metrics = json.loads((cli_run / "metrics.json").read_text())
    for key in ("out_of_sample", "shuffled_cv", "backtest"):
        assert key in metrics
    predictions = pd.read_csv(cli_run / "predictions.csv", parse_dates=["date"])
    assert {"date", "ticker", "window", "probability", "label", "forward_return"} <= set(predictions.columns)
    known = predictions.dropna(subset=["label"])
    assert metrics["out_of_sample"]["auc"] == pytest.approx(roc_auc_score(known["label"], known["probability"]),
                                                            abs=1e-4)
    # the last month is predicted but its outcome is not known: left out of the AUC, and said so
    assert metrics["out_of_sample"]["left_out_without_outcome"] == len(predictions) - len(known) == 30
    windows = metrics["out_of_sample"]["windows"]
    # with a one-month purge every training label is known before its test window: none is left out
    assert all(w["train_rows"] > 0 and w["train_rows_left_out"] == 0 for w in windows)
    low, high = metrics["out_of_sample"]["auc_interval_95"]
    assert low < metrics["out_of_sample"]["auc"] < high
    assert {"before_costs", "after_costs", "equal_weight"} <= set(metrics["backtest"])
    page = _Page()
    page.feed((cli_run / "report.html").read_text())
    assert sorted(page.images) == ["auc_by_window.png", "deciles.png", "equity.png", "ic_by_window.png", "roc.png"]
    for image in page.images:
        assert_not_blank(cli_run / image)
    assert page.tables >= 5 and "nan" not in page.cells and "n/a" not in " ".join(page.cells[:40])


def test_run_toml_reads_back_to_the_same_settings(cli_run):
    again = RunConfig.from_toml(cli_run / "run.toml")
    assert again.resolved() == RunConfig(**SMALL, data=again.data).resolved()


def test_saved_model_and_preprocessing_reproduce_the_last_window(cli_run):
    steps = json.loads((cli_run / "preprocessing.json").read_text())
    predictions = pd.read_csv(cli_run / "predictions.csv", parse_dates=["date"])
    last = predictions[predictions["window"] == predictions["window"].max()]
    prices = pd.read_csv(cli_run.parent / "prices.csv", index_col=0, parse_dates=True)
    from deepfin.finance import monthly_features

    X = monthly_features(prices)
    X = X.loc[pd.MultiIndex.from_frame(last[["date", "ticker"]])][steps["inputs"]].to_numpy(copy=True)
    clip = [steps["inputs"].index(c) for c in steps["clip"]["columns"]]
    X[:, clip] = np.clip(X[:, clip], steps["clip"]["lower"], steps["clip"]["upper"])
    X = (X - steps["standardize"]["mean"]) / steps["standardize"]["scale"]
    probability = load_model(cli_run / "model.keras").predict(X, verbose=0).ravel()
    np.testing.assert_allclose(probability, last["probability"], atol=1e-5)


@pytest.mark.parametrize("settings, message", [
    ('recipe = "weekly"', "Unknown recipe 'weekly': expected one of \\['daily', 'monthly'\\]"),
    ("k = 20", "k=20 needs 40 names with features on every tuning and test date, but .* has 30. "
               "Set k=15 \\(--set k=15\\)"),
    ("test_size = 400", "The rows cover 215 months with outcomes .*test_size=400.* "
                        "Set test_size=31 \\(--set test_size=31\\)\\.$"),
    ("train_size = 200", "The rows cover 215 months with outcomes .*Set train_size=172 \\(--set train_size=172\\), or "
                         "test_size=4 \\(--set test_size=4\\), or tuning_folds=1"),
    ("tets_size = 12", "Unknown setting 'tets_size'.*Did you mean 'test_size'"),
    ('[grid]\nactivation = ["relu", "swish2"]', "Unknown activation: 'swish2'"),
    ("[grid]\ndense_layers = [64]", "lists of positive layer sizes, such as \\[64, 64\\]"),
])
def test_setting_mistakes_fail_before_training(tmp_path, capsys, settings, message):
    synthetic_prices(n_tickers=30, n_months=240).rename_axis("date").to_csv(tmp_path / "prices.csv")
    (tmp_path / "run.toml").write_text(settings + "\n")
    with pytest.raises(SystemExit) as stop:
        main(["run", "--config", str(tmp_path / "run.toml"), "--data", str(tmp_path / "prices.csv"),
              "--out", str(tmp_path / "out")])
    captured = capsys.readouterr()
    assert stop.value.code == 2
    assert re.search(message, captured.err), captured.err
    assert "Tuning" not in captured.out and not (tmp_path / "out").exists()


def test_default_run_uses_the_embedded_sp500_sample(tmp_path, capsys):
    assert main(["run", "--quick", "--out", str(tmp_path)]) == 0
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["recipe"] == "monthly" and len(metrics["data"]["names"]) == 20
    assert metrics["data"]["source"].startswith("embedded")
    assert "sp500_index" in metrics["backtest"] and metrics["backtest"]["k"] == 5
    assert "Report: " in capsys.readouterr().out


def test_daily_recipe_runs_krauss_style(tmp_path):
    from deepfin.finance import load_prices

    prices = load_prices().loc["2010":"2014"].iloc[:, :12]
    config = RunConfig(recipe="daily", train_size=250, test_size=125, tuning_folds=1, quick=True, shuffled_folds=2)
    result = workflow.execute(workflow.plan(config, prices), verbose=0)
    assert result.plan.X.shape[1] == 31 and result.plan.k == 3
    assert all(len(w.test) <= 125 for w in result.plan.test_windows)
    # the label is "above the next day's cross-sectional median": half of each date's rows
    assert result.predictions.groupby(level="date")["label"].mean().dropna().between(0.4, 0.6).all()
    assert result.predictions.xs(prices.index[-1], level="date")["label"].isna().all()  # tomorrow unknown
    assert result.strategy["turnover"].max() <= 4.0 + 1e-12


def test_k_is_checked_on_every_test_date_before_training():
    prices = synthetic_prices(n_tickers=30, n_months=240)
    prices.iloc[:150, 12:] = np.nan  # 18 tickers listed late: early test dates have 12 names
    with pytest.raises(ValueError, match="k=10 needs 20 names with features on every tuning and test date.*has 12. "
                                         "Set k=6"):
        workflow.plan(RunConfig(**SMALL), prices)
    default = workflow.plan(RunConfig(**{**SMALL, "k": None}), prices)
    assert default.k == 3  # a quarter of the 12 names on the first out-of-sample date


def test_the_book_is_written_as_quantstats_and_pyfolio_read_it(cli_run):
    """returns.csv, read as it is, gives quantstats and pyfolio the report's Sharpe ratio after costs; the
    positions in positions.csv, weighted, add up to the book's return before costs on every trade date."""
    quantstats = pytest.importorskip("quantstats")
    timeseries = pytest.importorskip("pyfolio.timeseries")
    metrics = json.loads((cli_run / "metrics.json").read_text())
    book = pd.read_csv(cli_run / "returns.csv", index_col="date", parse_dates=True)
    assert list(book.columns) == ["long", "short", "gross", "turnover", "costs", "net", "benchmark"]
    sharpe = metrics["backtest"]["after_costs"]["sharpe"]
    assert quantstats.stats.sharpe(book["net"], periods=12) == pytest.approx(sharpe, abs=1e-6)
    assert timeseries.sharpe_ratio(book["net"], period="monthly") == pytest.approx(sharpe, abs=1e-6)
    np.testing.assert_allclose(book["long"] + book["short"], book["gross"], atol=1e-9)
    np.testing.assert_allclose(book["gross"] - book["costs"], book["net"], atol=1e-9)
    positions = pd.read_csv(cli_run / "positions.csv", parse_dates=["signal_date", "trade_date", "realised"])
    assert {"long", "short"} == set(positions["side"])
    assert (positions["trade_date"] > positions["signal_date"]).all() == (metrics["backtest"]["lag"] > 0)
    known = positions["realised"].notna()
    assert (positions["realised"][known] > positions["trade_date"][known]).all()
    assert (known == positions["return"].notna()).all() and not known.all()  # the last date's are not known yet
    earned = (positions["weight"] * positions["return"]).groupby(positions["trade_date"]).sum()
    np.testing.assert_allclose(earned.reindex(book.index), book["gross"], atol=1e-8)
