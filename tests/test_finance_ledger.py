"""Every trial counted: the ledger beside the runs (trials.jsonl) and ``deepfin runs``."""

import json
from pathlib import Path

import pytest

from deepfin.cli import main
from deepfin.finance import synthetic_prices
from deepfin.finance.pipeline import ledger

SMALL = ["--set=train_size=60", "--set=test_size=12", "--set=tuning_folds=1", "--set=quick=true", "--set=k=5"]


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("runs")
    synthetic_prices("planted", n_tickers=20, seed=1).rename_axis("date").to_csv(folder / "prices.csv")
    for name, dropout in (("first", "[0.25, 0.5]"), ("second", "[0.75]")):
        assert main(["run", "--data", str(folder / "prices.csv"), *SMALL, f"--set=grid.dropout={dropout}",
                     "--out", str(folder / name)]) == 0
    return folder


def test_the_second_runs_deflated_sharpe_counts_both_runs_trials(two_runs):
    first, second = (json.loads((two_runs / name / "metrics.json").read_text())["tuning"]["selection"]
                     for name in ("first", "second"))
    assert first["trials"] == first["candidates"] and first["trial_runs"] == 1
    assert second["trials"] == first["candidates"] + second["candidates"] and second["trial_runs"] == 2
    assert second["earlier_runs"] == ["first"]
    page = (two_runs / "second" / "report.html").read_text()
    assert f"{second['trials']} trials from 2 runs on these data" in page
    lines = (two_runs / ledger.FILE).read_text().splitlines()
    assert [json.loads(line)["run"] for line in lines] == ["first", "second"]


def test_other_data_recipe_or_label_are_other_trials(two_runs):
    entry = json.loads((two_runs / ledger.FILE).read_text().splitlines()[0])
    assert ledger.earlier(two_runs, entry["key"]).runs == ["first", "second"]
    assert ledger.earlier(two_runs, entry["key"], excluding="second").runs == ["first"]  # a resumed run's own
    data, recipe, label = entry["key"].split(":")
    assert ledger.earlier(two_runs, ledger.key(data, recipe, "above_median")).runs == []
    assert ledger.earlier(two_runs, ledger.key("0" * 64, recipe, label)).runs == []


def test_a_damaged_line_is_skipped_and_counted(tmp_path):
    ledger.record(tmp_path, "k", "a", [0.1, float("nan")], [0.05, 0.02])
    with open(tmp_path / ledger.FILE, "a") as stream:
        stream.write("{not json\n")
    found = ledger.earlier(tmp_path, "k")
    assert found.sharpe == [0.1] and found.sharpe_after_costs == [0.05, 0.02] and found.unreadable == 1
    ledger.record(tmp_path, "k", "a", [0.3], [0.2])  # the same run again replaces its line
    assert ledger.earlier(tmp_path, "k").sharpe == [0.3]


def test_deepfin_runs_lists_the_runs_side_by_side(two_runs, capsys):
    assert main(["runs", str(two_runs)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[:3] == ["run", "recipe", "data"]
    assert [line.split()[0] for line in out[1:]] == ["first", "second"]
    assert "(2 runs)" in out[2]
    with pytest.raises(SystemExit):
        main(["runs", str(two_runs / "missing")])


def test_a_run_tracked_in_mlflow_logs_its_settings_figures_and_files(tmp_path, monkeypatch):
    mlflow = pytest.importorskip("mlflow")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", (tmp_path / "mlruns").as_uri())
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    synthetic_prices("planted", n_tickers=20, seed=1).rename_axis("date").to_csv(tmp_path / "prices.csv")
    assert main(["run", "--data", str(tmp_path / "prices.csv"), *SMALL, "--track", "mlflow",
                 "--out", str(tmp_path / "run")]) == 0
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    logged = mlflow.search_runs(search_all_experiments=True).iloc[0]
    assert logged["tags.mlflow.runName"] == "run" and logged["params.recipe"] == "monthly"
    assert logged["metrics.auc"] == pytest.approx(metrics["out_of_sample"]["auc"])
    assert logged["metrics.sharpe_after_costs"] == pytest.approx(metrics["backtest"]["after_costs"]["sharpe"])
    artifacts = mlflow.artifacts.download_artifacts(run_id=logged["run_id"], dst_path=str(tmp_path / "back"))
    assert (Path(artifacts) / "report.html").read_text() == (tmp_path / "run" / "report.html").read_text()


def test_an_unknown_tracker_is_refused_before_any_work(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["run", "--track", "wandb", "--out", str(tmp_path / "run")])
    assert "invalid choice: 'wandb'" in capsys.readouterr().err and not (tmp_path / "run").exists()
