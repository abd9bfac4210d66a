"""The edges an audit found, each with the case that failed before its fix: data that carry survivorship bias
say so."""

import json

import pytest

from deepfin.cli import main
from deepfin.finance import RunConfig, synthetic_prices, synthetic_universe
from deepfin.finance.pipeline import workflow

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
