"""The seeds' finance workflow, done honestly.

prices -> features and labels -> walk-forward windows -> grid search scored by ROC AUC on the first windows ->
out-of-sample predictions on the rest -> leakage report (the seed's shuffled evaluation beside them) ->
long-short backtest -> report. ``deepfin run`` runs it all; ``workflow.plan`` and ``workflow.execute`` are
the same steps from Python.
"""

from deepfin.finance.backtest import decile_returns, equal_weight_buy_and_hold, long_short, performance
from deepfin.finance.config import RunConfig
from deepfin.finance.evaluation import bootstrap_auc, shuffled_cv_auc, walk_forward_predictions, weighted_auc
from deepfin.finance.features import (
    KRAUSS_HORIZONS,
    RECIPES,
    daily_features,
    monthly_features,
    with_calendar_dummies,
)
from deepfin.finance.model import make_model
from deepfin.finance.preprocessing import QuantileClipper
from deepfin.finance.prices import PriceReport, load_prices, validate_prices
from deepfin.finance.synthetic import synthetic_prices
from deepfin.finance.validation import Window, walk_forward

__all__ = [
    "KRAUSS_HORIZONS", "PriceReport", "QuantileClipper", "RECIPES", "RunConfig", "Window", "bootstrap_auc",
    "daily_features", "decile_returns", "equal_weight_buy_and_hold", "load_prices", "long_short", "make_model",
    "monthly_features", "performance", "shuffled_cv_auc", "synthetic_prices", "validate_prices", "walk_forward",
    "walk_forward_predictions", "weighted_auc", "with_calendar_dummies",
]
