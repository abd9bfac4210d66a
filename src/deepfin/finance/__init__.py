"""The seeds' finance workflow: price panels, features and labels (more to come: validation by time,
tuning, backtest, reports)."""

from deepfin.finance.features import KRAUSS_HORIZONS, daily_features, monthly_features
from deepfin.finance.prices import PriceReport, load_prices, validate_prices

__all__ = ["KRAUSS_HORIZONS", "PriceReport", "daily_features", "load_prices", "monthly_features", "validate_prices"]
