"""Fischer and Krauss's LSTM as a study family: its windows are each row's own past daily returns (nothing after
the row's date), standardised on the training rows only; it finds a planted reversal and has no skill on a
random walk; it needs the daily recipe."""

import numpy as np
import pandas as pd
import pytest

from deepfin.finance.data import synthetic
from deepfin.finance.models import families
from deepfin.finance.panel.sequences import DailyReturns, ReturnWindows, ScalarStandardScaler
from deepfin.finance.pipeline import study, workflow
from deepfin.finance.pipeline.config import RunConfig

SMALL = {"recipe": "daily", "train_size": 250, "test_size": 250, "quick": True, "ks": [5, 10],
         "lag": 0}  # the paper's: the planted reversal lasts one day
FAST_LSTM = {"steps": 20, "units": 8, "epochs": 8, "patience": 2, "batch_size": 256, "learning_rate": 0.005}


def _prices(rng, days=60, names=4) -> pd.DataFrame:
    dates = pd.bdate_range("2020-01-01", periods=days)
    values = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, (days, names)), axis=0))
    return pd.DataFrame(values, index=dates, columns=[f"T{i}" for i in range(names)])


def test_windows_are_each_rows_own_past_daily_returns(rng):
    prices = _prices(rng)
    returns = DailyReturns(prices)
    index = pd.MultiIndex.from_tuples([(prices.index[30], "T2"), (prices.index[45], "T0")], names=["date", "ticker"])
    windows = ReturnWindows(returns, steps=10).transform(pd.DataFrame(index=index, columns=["R1"], data=0.0))
    expected = prices.pct_change().to_numpy()
    np.testing.assert_allclose(windows[0], expected[21:31, 2], rtol=1e-6)
    np.testing.assert_allclose(windows[1], expected[36:46, 0], rtol=1e-6)
    changed = prices.copy()
    changed.iloc[31:] *= 3.0  # what happens after a row's date cannot reach its window
    later = ReturnWindows(DailyReturns(changed), steps=10).transform(pd.DataFrame(index=index[:1], columns=["R1"]))
    np.testing.assert_array_equal(later, windows[:1])


def test_a_window_longer_than_the_history_is_refused(rng):
    prices = _prices(rng)
    index = pd.MultiIndex.from_tuples([(prices.index[5], "T1")], names=["date", "ticker"])
    with pytest.raises(ValueError, match="fewer than 10 daily returns"):
        ReturnWindows(DailyReturns(prices), steps=10).transform(pd.DataFrame(index=index, columns=["R1"]))


def test_standardising_uses_one_mean_and_deviation_of_the_training_rows(rng):
    train, test = rng.normal(0.01, 0.02, (50, 20)), rng.normal(0.5, 1.0, (5, 20))
    scaler = ScalarStandardScaler().fit(train)
    np.testing.assert_allclose(scaler.transform(test), (test - train.mean()) / train.std(), rtol=1e-5)


def test_the_lstm_family_finds_a_planted_reversal_and_nothing_in_a_random_walk():
    planted = synthetic.synthetic_universe(60, 4, signal="reversal", strength=0.3, seed=3)
    plan = workflow.plan(RunConfig(models=["lstm"], model={"lstm": FAST_LSTM}, **SMALL), planted)
    found = study.tables(study.execute(plan, verbose=0))["lstm"]
    assert found["auc"] > 0.53 and found["k"]["10"]["t_stat"] > 3, found["auc"]
    walk = synthetic.synthetic_universe(60, 4, signal=None, seed=4)
    plan = workflow.plan(RunConfig(models=["lstm"], model={"lstm": FAST_LSTM}, **SMALL), walk)
    nothing = study.tables(study.execute(plan, verbose=0))["lstm"]
    assert abs(nothing["auc"] - 0.5) < 0.03, nothing["auc"]


def test_the_paper_network_has_its_published_shape():
    model = families.fischer_krauss_network(meta={"n_features_in_": 240})
    assert [type(layer).__name__ for layer in model.layers] == ["Reshape", "LSTM", "Dense"]
    assert model.count_params() == 4 * (25 * 1 + 25 * 25 + 25) + 25 * 2 + 2
    assert model.layers[1].dropout == 0.1 and type(model.optimizer).__name__ == "RMSprop"
    assert families.FAMILIES["lstm"].paper["patience"] == 10


def test_the_lstm_needs_the_daily_recipe_and_known_settings():
    with pytest.raises(ValueError, match='recipe = "daily"'):
        RunConfig(recipe="monthly", models=["lstm"])
    with pytest.raises(ValueError, match="does not take"):
        RunConfig(recipe="daily", models=["lstm"], model={"lstm": {"layers": 2}})
