"""Krauss, Do and Huck's study: model families, ensembles, study periods and the paper's tables, on synthetic
universes whose truth is known (a planted next-day reversal; a random walk)."""

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import roc_auc_score

from deepfin.cli import main
from deepfin.finance.data import synthetic
from deepfin.finance.models import families
from deepfin.finance.pipeline import study, workflow
from deepfin.finance.pipeline.config import RunConfig, apply_assignment
from deepfin.finance.report import study as study_report

SINGLES = ["dnn", "gbt", "raf"]
ENSEMBLES = ["ens1", "ens2", "ens3"]
SMALL = {"recipe": "daily", "train_size": 250, "test_size": 250, "quick": True, "ks": [5, 10, 20],
         "lag": 0}  # the paper's: the planted reversal lasts one day


def run_study(universe, models, **settings):
    plan = workflow.plan(RunConfig(models=models, **{**SMALL, **settings}), universe)
    return study.execute(plan, verbose=0)


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    """100 index members over 6 years whose idiosyncratic returns reverse the next day (strength 0.2)."""
    universe = synthetic.synthetic_universe(100, 6, signal="reversal", strength=0.2, seed=3)
    models = [*SINGLES, "logit", "et", *ENSEMBLES]
    result = run_study(universe, models, model={
        "et": {"estimator": "sklearn.ensemble.ExtraTreesClassifier", "n_estimators": 20, "max_depth": 8},
        "dnn": {"epochs": 30, "patience": 5, "batch_size": 128}})  # ADADELTA needs some 5,000 steps to learn
    out = tmp_path_factory.mktemp("study")
    return result, study_report.write(result, out), out


def test_every_family_finds_a_planted_reversal(planted):
    _, figures, _ = planted
    models = figures["models"]
    for name in [*SINGLES, "logit", "et"]:
        assert models[name]["auc"] > 0.53, (name, models[name]["auc"])
        assert models[name]["k"]["10"]["t_stat"] > 3, name
    median_single = np.median([models[name]["auc"] for name in SINGLES])
    for name in ENSEMBLES:
        assert models[name]["auc"] >= median_single - 1e-9, name


def test_top_k_returns_fall_as_k_grows(planted):
    _, figures, _ = planted
    for name in [*SINGLES, *ENSEMBLES]:
        means = [figures["models"][name]["k"][k]["mean"] for k in ("5", "10", "20")]
        assert means[0] > means[1] > means[2] > 0, (name, means)


def test_the_reversal_lives_in_the_shortest_lag(planted):
    _, figures, _ = planted
    for name in SINGLES:
        importance = figures["models"][name]["importance"]
        assert max(importance, key=importance.get) == "R1", (name, importance)
        assert sum(importance.values()) == pytest.approx(1.0)


def test_tables_are_the_measures_of_the_books(planted):
    result, figures, _ = planted
    book = result.books["gbt", 10]
    row = figures["models"]["gbt"]["k"]["10"]
    returns = book["before_costs"]
    assert row["mean"] == pytest.approx(returns.mean())
    assert row["t_stat"] == pytest.approx(stats.ttest_1samp(returns, 0.0).statistic)
    assert row["std"] == pytest.approx(returns.std(ddof=1))
    assert row["share_positive"] == pytest.approx((returns > 0).mean())
    assert row["sharpe"] == pytest.approx(returns.mean() / returns.std(ddof=0) * np.sqrt(252), rel=1e-2)
    assert row["mean_after_costs"] == pytest.approx(book["after_costs"].mean())
    known = result.predictions[result.predictions["label"].notna()]
    assert figures["models"]["gbt"]["auc"] == pytest.approx(roc_auc_score(known["label"], known["gbt"]))
    parts = figures["models"]["gbt"]["sub_periods"]
    assert len(parts) == 1  # the synthetic data start in 2000; a first trading day after 2001 leaves one part
    assert next(iter(parts.values()))["10"]["mean"] == pytest.approx(row["mean"])


def test_ensembles_average_their_members_with_the_papers_weights_on_held_out_gini(planted):
    result, _, _ = planted
    for period in result.periods:
        rows = result.predictions["window"] == period.number
        frame = result.predictions[rows]
        gini = {m: period.holdout_gini[m] for m in SINGLES}
        assert all(np.isfinite(list(gini.values())))
        inverse_ranks = {m: 1 / (sorted(gini, key=gini.get, reverse=True).index(m) + 1) for m in SINGLES}
        positive = {m: max(g, 0.0) for m, g in gini.items()}
        if not sum(positive.values()) > 0:
            positive = {m: 1.0 for m in SINGLES}
        for name, raw in (("ens1", {m: 1.0 for m in SINGLES}), ("ens2", positive), ("ens3", inverse_ranks)):
            expected = sum(raw[m] * frame[m] for m in SINGLES) / sum(raw.values())
            np.testing.assert_allclose(frame[name], expected, rtol=1e-12)


def test_report_files_hold_one_key_per_model(planted):
    _, figures, out = planted
    on_disk = json.loads((out / "metrics.json").read_text())
    assert list(on_disk["models"]) == [*SINGLES, "logit", "et", *ENSEMBLES]
    assert set(on_disk["models"]["raf"]["k"]) == {"5", "10", "20"}
    assert on_disk["settings"]["raf"]["differs_from_paper"]["n_estimators"] == {"used": 20, "paper": 1000}
    assert "gbt" not in on_disk["settings"]["gbt"]["differs_from_paper"]
    page = (out / "report.html").read_text()
    assert "Quick settings" in page and "ens3" in page
    assert "label (the next return above the date's cross-sectional median: above_median)" in page
    for picture in ("cumulative_before_costs.png", "cumulative_after_costs.png", "importance.png"):
        assert (out / picture).stat().st_size > 1000
    predictions = pd.read_csv(out / "predictions.csv")
    assert {"date", "ticker", "window", *SINGLES, *ENSEMBLES, "label"} <= set(predictions.columns)
    net = pd.read_csv(out / "books" / "ens1_k10_returns.csv", index_col="date", parse_dates=True)["net"]
    sharpe = on_disk["models"]["ens1"]["k"]["10"]["sharpe_after_costs"]
    assert net.mean() / net.std() * np.sqrt(252) == pytest.approx(sharpe, abs=1e-6)
    assert (out / "books" / "ens1_k5_positions.csv").is_file()  # positions at the first k only
    periods = on_disk["design"]["study_periods"]
    assert not any(p["short"] for p in periods[:-1]) and periods[-1]["short"] == (periods[-1]["trading_days"] < 250)
    assert ("short: " in page) == periods[-1]["short"]  # a short last study period is shown as short
    universe = pd.read_csv(out / "books" / "dnn_k5_returns.csv", index_col="date")["benchmark"]
    assert on_disk["benchmark"]["equal_weight"]["mean"] == pytest.approx(universe.mean())  # the same line
    assert not (out / "books" / "ens1_k10_positions.csv").exists()


def test_the_report_states_the_label_the_study_used(tmp_path):
    """A study run with label "up" says so in its report (it said "above the cross-sectional median" whatever
    the label)."""
    universe = synthetic.synthetic_universe(30, 3, signal=None, seed=5)
    study_report.write(run_study(universe, ["gbt"], label="up", ks=[5]), tmp_path)
    page = (tmp_path / "report.html").read_text()
    assert "label (the next return positive: up)" in page and "cross-sectional median" not in page


def test_a_random_walk_earns_nothing():
    universe = synthetic.synthetic_universe(100, 6, signal=None, seed=4)
    figures = study.tables(run_study(universe, [*SINGLES, "logit", *ENSEMBLES]))
    for name, model in figures.items():
        assert abs(model["auc"] - 0.5) < 0.03, (name, model["auc"])
        for k, row in model["k"].items():
            assert row["t_stat"] < 2, (name, k, row["t_stat"])


def test_study_periods_in_parallel_equal_serial():
    universe = synthetic.synthetic_universe(40, 4, signal="reversal", strength=0.2, seed=5)
    serial = run_study(universe, ["gbt", "logit", "ens1"], model={"ens1": {"members": ["gbt", "logit"]}}, ks=[5])
    parallel = run_study(universe, ["gbt", "logit", "ens1"], model={"ens1": {"members": ["gbt", "logit"]}},
                         ks=[5], n_jobs=2)
    pd.testing.assert_frame_equal(serial.predictions, parallel.predictions)


def test_forest_gini_is_out_of_bag_as_scikit_learn_computes_it():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.standard_normal((2000, 5)))
    y = pd.Series((X[0] + rng.standard_normal(2000) > 0).astype(int))
    forest = RandomForestClassifier(50, oob_score=True, random_state=0).fit(X, y)
    oob = 2 * roc_auc_score(y, forest.oob_decision_function_[:, 1]) - 1
    assert study.training_gini(forest, X, y) == pytest.approx(oob)
    rows = np.arange(0, 2000, 3)
    on_rows = 2 * roc_auc_score(y.iloc[rows], forest.oob_decision_function_[rows, 1]) - 1
    assert study.training_gini(forest, X.iloc[rows], y.iloc[rows], rows) == pytest.approx(on_rows)
    assert 2 * roc_auc_score(y, forest.predict_proba(X)[:, 1]) - 1 > oob + 0.2  # in-sample would flatter it


def test_ensemble_weight_formulas():
    gini = {"dnn": 0.1, "gbt": 0.3, "raf": 0.2}
    assert families.ensemble_weights("ens1", gini) == pytest.approx({"dnn": 1 / 3, "gbt": 1 / 3, "raf": 1 / 3})
    assert families.ensemble_weights("ens2", gini) == pytest.approx({"dnn": 1 / 6, "gbt": 1 / 2, "raf": 1 / 3})
    # Aiolfi and Timmermann's rank weights: 1/rank over the sum of 1/rank, the best ranked 1
    assert families.ensemble_weights("ens3", gini) == pytest.approx({"dnn": 2 / 11, "gbt": 6 / 11, "raf": 3 / 11})
    assert families.ensemble_weights("ens2", {"a": -0.1, "b": -0.2}) == pytest.approx({"a": 0.5, "b": 0.5})
    unknown = {"a": float("nan"), "b": 0.3, "c": 0.1}  # a member whose training labels held one class
    assert families.ensemble_weights("ens3", unknown)["a"] == pytest.approx(2 / 11)
    assert families.ensemble_weights("ens2", unknown)["a"] == 0.0


def test_the_paper_network_has_its_published_shape():
    network = families.krauss_network(meta={"n_features_in_": 31})
    widths = [layer.kernel.shape for layer in network.layers if getattr(layer, "kernel", None) is not None]
    assert widths == [(31, 62), (31, 20), (10, 10), (5, 2)]  # 31-31-10-5-2, two pieces per maxout unit
    assert type(network.optimizer).__name__ == "Adadelta"
    assert network.optimizer.rho == 0.99 and network.optimizer.epsilon == 1e-8
    assert [layer.rate for layer in network.layers if type(layer).__name__ == "Dropout"] == [0.1, 0.5, 0.5, 0.5]


@pytest.mark.parametrize("settings, message", [
    ({"models": ["dnn", "xgb"]}, "Unknown model 'xgb'. Known models: dnn, gbt, raf, lstm, mlp, logit, ens1"),
    ({"models": ["dnn", "ens1"]}, "ens1 averages dnn, gbt, raf, but gbt, raf are not among"),
    ({"models": ["dnn", "gbt", "ens2"], "model": {"ens2": {"members": ["dnn"]}}}, "ens2 needs at least two members"),
    ({"models": ["raf"], "model": {"raf": {"trees": 5}}}, "model.raf does not take trees"),
    ({"models": ["x"], "model": {"x": {"estimator": "os.system"}}}, "must name a scikit-learn classifier"),
    ({"models": ["x"], "model": {"x": {"estimator": "sklearn.linear_model.LinearRegression"}}},
     "not a scikit-learn classifier"),
    ({"models": ["gbt"], "ks": [0]}, "ks must be a non-empty list of positive integers"),
    ({"models": ["gbt"], "sub_periods": ["not a date"]}, "sub_periods holds dates"),
    ({"models": ["gbt"], "n_jobs": 0}, "n_jobs must be a non-zero integer"),
    ({"models": ["raf"], "model": {"raf": {"max_depth": None}}}, "model.raf.max_depth must be a number"),
    ({"models": ["my.net"], "model": {"my.net": {"estimator": "sklearn.svm.SVC"}}}, "A model name holds letters"),
])
def test_bad_study_settings_fail_before_any_work(settings, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        RunConfig(recipe="daily", **settings)


def test_k_larger_than_half_the_names_fails_in_plan():
    universe = synthetic.synthetic_universe(30, 4, seed=6)
    with pytest.raises(ValueError, match=r"k=20 needs 40 names on every trading date, but .* has \d+"):
        workflow.plan(RunConfig(models=["gbt"], **{**SMALL, "ks": [5, 20]}), universe)


def test_a_set_k_is_the_book_size_and_is_checked():
    universe = synthetic.synthetic_universe(30, 4, seed=6)
    settings = {**SMALL, "ks": None}
    assert workflow.plan(RunConfig(models=["gbt"], k=3, **settings), universe).ks == [3]
    with pytest.raises(ValueError, match=r"ks=\[20\]: k=20 needs 40 names"):
        workflow.plan(RunConfig(models=["gbt"], k=20, **settings), universe)


def test_a_period_whose_training_labels_are_one_class_gives_probabilities_and_no_gini():
    X = pd.DataFrame(np.random.default_rng(0).standard_normal((50, 3)))
    forest = RandomForestClassifier(5, random_state=0).fit(X, np.zeros(50, dtype=int))
    assert (study.probability_up(forest, X) == 0).all()
    assert np.isnan(study.training_gini(forest, X, np.zeros(50, dtype=int)))


def test_default_ks_are_the_papers_that_fit():
    universe = synthetic.synthetic_universe(60, 4, seed=6)
    plan = workflow.plan(RunConfig(models=["gbt"], **{**SMALL, "ks": None}), universe)
    assert plan.ks == [10]  # 60 members: 50, 100, ... need more than there are


def test_study_settings_round_trip_through_toml_and_set(tmp_path):
    settings = apply_assignment({"models": ["raf", "gbt"]}, "model.raf.n_estimators=7")
    settings = apply_assignment(settings, 'model.gbt={max_depth=2}')
    config = RunConfig(recipe="daily", ks=[10, 50], sub_periods=["2001-01-01"], **settings)
    (tmp_path / "run.toml").write_text(config.to_toml())
    again = RunConfig.from_toml(tmp_path / "run.toml")
    assert again == config and again.model == {"raf": {"n_estimators": 7}, "gbt": {"max_depth": 2}}


def test_cli_refuses_an_unknown_model_before_training(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["run", "--recipe", "daily", "--models", "dnn,forest", "--data", "synthetic:30,years=4"])
    assert stop.value.code == 2
    assert "Unknown model 'forest'" in capsys.readouterr().err


def test_shipped_krauss_config_holds_the_papers_settings():
    from pathlib import Path

    config = RunConfig.from_toml(Path(__file__).parents[1] / "examples" / "krauss.toml")
    assert config.models == ["dnn", "gbt", "raf", "ens1", "ens2", "ens3"]
    assert config.ks == [10, 50, 100, 150, 200] and config.cost_bps == 5
    for name, paper in (("dnn", families.DNN_PAPER), ("gbt", families.GBT_PAPER), ("raf", families.RAF_PAPER)):
        assert families.FAMILIES[name].settings(config.model.get(name)) == paper


def test_default_ks_come_from_the_first_trading_date_not_the_whole_sample():
    """Which k fits is read on the first trading date (known then); a cross-section that shrinks later is an
    error to act on, not a reason to pick a smaller k with hindsight."""
    rng = np.random.default_rng(7)
    dates = pd.bdate_range("2001-01-01", periods=1300)
    prices = pd.DataFrame(100 * np.exp(np.cumsum(rng.normal(0, 0.01, (1300, 44)), axis=0)), index=dates,
                          columns=[f"S{i:02d}" for i in range(44)])
    prices.iloc[1100:, :30] = np.nan  # 30 names stop trading in the last study period: 14 remain
    with pytest.raises(ValueError, match=r"ks=\[10\]: k=10 needs 20 names on every trading date, but .* has 14"):
        workflow.plan(RunConfig(models=["gbt"], **{**SMALL, "ks": None}), prices)
