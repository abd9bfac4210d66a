"""The finance workflow, done honestly: data known on each date in, a report a portfolio manager can check out.

prices (and index membership, delistings) -> features known on each date and next-period outcomes ->
walk-forward windows -> grid search scored on the first windows -> out-of-sample predictions on the rest ->
leakage report (a shuffled evaluation beside them) -> long-short backtest -> report.
``deepfin run`` runs it all; ``pipeline.workflow.plan`` and ``pipeline.workflow.execute`` are the same steps from
Python.

Subpackages, each importing only those below it (checked by import-linter, ``[tool.importlinter]`` in
pyproject.toml):

- ``report``: the run's and the study's files and the sentences that explain them;
- ``pipeline``: settings, data sources, the run's and the study's steps, the resumable journal;
- ``models``: the network, the study's families, the grid search on walk-forward folds;
- ``backtest``: the long-short book, its costs and its measures;
- ``validation``: walk-forward windows, out-of-sample predictions, AUC and information coefficient;
- ``panel``: periods, features, outcomes and preprocessing: the rows known on each date;
- ``data``: price, delisting and membership files, synthetic markets.

The names below are the public ones; they stay importable from ``deepfin.finance`` wherever they live.
"""

from deepfin._ranking import weighted_auc
from deepfin.finance.backtest.book import (
    against,
    book,
    book_returns,
    decile_returns,
    equal_weight,
    long_short,
    performance,
)
from deepfin.finance.data.prices import (
    Panel,
    PriceReport,
    load_delistings,
    load_panel,
    load_prices,
    prices_from_returns,
    validate_prices,
)
from deepfin.finance.data.synthetic import SyntheticUniverse, synthetic_prices, synthetic_universe
from deepfin.finance.data.universe import Universe, load_universe
from deepfin.finance.models.network import DateHoldoutClassifier, make_model
from deepfin.finance.panel.features import (
    KRAUSS_HORIZONS,
    RECIPES,
    CalendarDummies,
    daily_features,
    monthly_features,
    with_calendar_dummies,
)
from deepfin.finance.panel.outcomes import Outcomes, label, next_period_outcomes
from deepfin.finance.panel.periods import grid
from deepfin.finance.panel.preprocessing import QuantileClipper
from deepfin.finance.pipeline.config import RunConfig
from deepfin.finance.validation.measures import bootstrap_auc, ic_summary, information_coefficient, per_date_auc
from deepfin.finance.validation.predictions import shuffled_cv_auc, walk_forward_predictions
from deepfin.finance.validation.walk_forward import Window, walk_forward

__all__ = [
    "CalendarDummies", "DateHoldoutClassifier", "KRAUSS_HORIZONS", "Outcomes", "Panel", "PriceReport",
    "QuantileClipper", "RECIPES", "RunConfig", "SyntheticUniverse", "Universe", "Window", "against", "book",
    "book_returns", "bootstrap_auc", "daily_features", "decile_returns", "equal_weight", "grid", "ic_summary",
    "information_coefficient", "label", "load_delistings", "load_panel", "load_prices", "load_universe", "long_short",
    "make_model", "monthly_features", "next_period_outcomes", "per_date_auc", "performance", "prices_from_returns",
    "shuffled_cv_auc", "synthetic_prices", "synthetic_universe", "validate_prices", "walk_forward",
    "walk_forward_predictions", "weighted_auc", "with_calendar_dummies",
]
