"""The run's tuning on deepfin.tuning: the network estimator fits many candidates at once as it fits one, and
tuning = "per_window" re-tunes before every test window on folds that end before it."""

import numpy as np
import pytest
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.metrics import roc_auc_score

from deepfin.finance import RunConfig, synthetic_prices
from deepfin.finance.models.network import estimator
from deepfin.finance.models.search import grid_search, results_table
from deepfin.finance.pipeline import workflow
from deepfin.finance.validation.walk_forward import walk_forward

SMALL = {"train_size": 60, "test_size": 12, "tuning_folds": 1, "quick": True, "k": 10}


@pytest.fixture(scope="module")
def rows():
    plan = workflow.plan(RunConfig(**SMALL), synthetic_prices("planted", seed=0, n_tickers=30, n_months=120))
    known = plan.y.notna().to_numpy()
    return plan.X[known], plan.y[known]


def test_fit_many_equals_one_fit_per_candidate(rows):
    X, y = rows
    model = estimator(list(X.columns), epochs=3, batch_size=32, patience=1, validation_split=0.2, purge=1,
                      random_state=4)
    candidates = [{"net__activation": a, "net__dropout": d, "net__learning_rate": lr}
                  for a in ("relu", "tanh") for d in (0.0, 0.5) for lr in (0.01, 0.001)]
    together = model.fit_many(candidates, X, y)
    assert {m.net_.stack_size_ for m in together} == {4}  # dropout or not: two patterns of four
    for candidate, fitted in zip(candidates, together):
        alone = estimator(list(X.columns), epochs=3, batch_size=32, patience=1, validation_split=0.2, purge=1,
                          random_state=4).set_params(**candidate).fit(X, y)
        np.testing.assert_allclose(fitted.predict_proba(X), alone.predict_proba(X), atol=1e-6)
        assert fitted.validation_start_ == alone.validation_start_ and fitted.n_fit_rows_ == alone.n_fit_rows_


def test_grid_search_ranks_as_one_fit_per_candidate(rows):
    X, y = rows
    windows = walk_forward(X.index.get_level_values("date").unique(), 48, 12, True, 1, 0)[:2]
    grid = {"activation": ["relu", "tanh"], "dropout": [0.25], "dense_layers": [[8]], "learning_rate": [0.01, 0.001]}
    model = estimator(list(X.columns), epochs=2, batch_size=32, patience=1, validation_split=0.2, purge=1,
                      random_state=1)
    table = results_table(grid_search(model, grid, X, y, windows))
    for _, row in table.iterrows():
        params = {f"net__{k}": row[k] for k in grid}
        aucs = []
        for window in windows:
            train, test = window.rows(X.index)
            fitted = estimator(list(X.columns), epochs=2, batch_size=32, patience=1, validation_split=0.2,
                               purge=1, random_state=1).set_params(**params).fit(X.iloc[train], y.iloc[train])
            aucs.append(roc_auc_score(y.iloc[test], fitted.predict_proba(X.iloc[test])[:, 1]))
        assert row["mean_auc"] == pytest.approx(np.mean(aucs), abs=1e-4)


def test_a_fold_of_one_class_scores_nan_as_scikit_learn_does(rows):
    X, y = rows
    window = walk_forward(X.index.get_level_values("date").unique(), 48, 12, True, 1, 0)[0]
    test = window.rows(X.index)[1]
    one_class = y.copy()
    one_class.iloc[test] = 1.0
    with pytest.warns(UndefinedMetricWarning):
        assert np.isnan(roc_auc_score(one_class.iloc[test], np.linspace(0, 1, len(test))))
    model = estimator(list(X.columns), epochs=1, batch_size=32, patience=1, validation_split=0.2, purge=1,
                      random_state=1)
    table = results_table(grid_search(model, {"dense_layers": [[4]]}, X, one_class, [window]))
    assert np.isnan(table["mean_auc"].iloc[0])


def test_per_window_tuning_uses_only_folds_before_each_window(tmp_path):
    plan = workflow.plan(RunConfig(**SMALL, tuning="per_window"), synthetic_prices("planted", seed=0))
    result = workflow.execute(plan, verbose=0)
    choices = result.chosen_by_window
    assert [c["window"] for c in choices] == list(range(len(plan.test_windows)))
    windows = plan.tuning_windows + plan.test_windows
    for number, window in enumerate(plan.test_windows):
        fold = windows[number]  # tuning_folds = 1: the window just before
        assert fold.test[-1] < window.test[0] and choices[number]["test_start"] == str(window.test[0].date())
    assert result.best_params == choices[-1]["params"]
    assert set(result.predictions["window"]) == set(range(len(plan.test_windows)))
    assert result.auc[0] > 0.6  # the planted signal is found


def test_unknown_tuning_mode_is_refused():
    with pytest.raises(ValueError, match="tuning must be one of once, per_window"):
        RunConfig(tuning="nested")


def test_selection_bias_with_no_candidate_auc_is_nan_not_an_error():
    """Every candidate's folds held one class, so no mean AUC: the comparison with chance is NaN (it raised
    ValueError on the empty array's max before)."""
    import math

    import pandas as pd

    from deepfin.finance.models.search import selection_bias

    found = selection_bias(pd.DataFrame({"mean_auc": [float("nan")] * 3}))
    assert found["candidates"] == 0 and all(math.isnan(found[k]) for k in ("best_auc", "mean_auc", "spread"))
    some = selection_bias(pd.DataFrame({"mean_auc": [0.52, float("nan"), 0.50]}))
    assert some["candidates"] == 2 and some["best_auc"] == 0.52
