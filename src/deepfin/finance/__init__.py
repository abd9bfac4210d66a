"""The seeds' finance workflow, done honestly.

prices (and index membership, delistings) -> features known on each date and next-period outcomes ->
walk-forward windows -> grid search scored on the first windows -> out-of-sample predictions on the rest ->
leakage report (the seed's shuffled evaluation beside them) -> long-short backtest -> report.
``deepfin run`` runs it all; ``workflow.plan`` and ``workflow.execute`` are the same steps from Python.
"""

from deepfin._ranking import weighted_auc
from deepfin.finance.backtest import (
    against,
    book,
    book_returns,
    decile_returns,
    equal_weight,
    long_short,
    performance,
)
from deepfin.finance.config import RunConfig
from deepfin.finance.evaluation import (
    bootstrap_auc,
    ic_summary,
    information_coefficient,
    per_date_auc,
    shuffled_cv_auc,
    walk_forward_predictions,
)
from deepfin.finance.features import (
    KRAUSS_HORIZONS,
    RECIPES,
    CalendarDummies,
    daily_features,
    monthly_features,
    with_calendar_dummies,
)
from deepfin.finance.model import DateHoldoutClassifier, make_model
from deepfin.finance.outcomes import Outcomes, label, next_period_outcomes
from deepfin.finance.periods import grid
from deepfin.finance.preprocessing import QuantileClipper
from deepfin.finance.prices import (
    Panel,
    PriceReport,
    load_delistings,
    load_panel,
    load_prices,
    prices_from_returns,
    validate_prices,
)
from deepfin.finance.synthetic import SyntheticUniverse, synthetic_prices, synthetic_universe
from deepfin.finance.universe import Universe, load_universe
from deepfin.finance.validation import Window, walk_forward

__all__ = [
    "CalendarDummies", "DateHoldoutClassifier", "KRAUSS_HORIZONS", "Outcomes", "Panel", "PriceReport",
    "QuantileClipper", "RECIPES", "RunConfig", "SyntheticUniverse", "Universe", "Window", "against", "book",
    "book_returns", "bootstrap_auc", "daily_features", "decile_returns", "equal_weight", "grid", "ic_summary",
    "information_coefficient", "label", "load_delistings", "load_panel", "load_prices", "load_universe", "long_short",
    "make_model", "monthly_features", "next_period_outcomes", "per_date_auc", "performance", "prices_from_returns",
    "shuffled_cv_auc", "synthetic_prices", "synthetic_universe", "validate_prices", "walk_forward",
    "walk_forward_predictions", "weighted_auc", "with_calendar_dummies",
]
