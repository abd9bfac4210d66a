"""Preprocessing fitted on a training window only, as scikit-learn transformers.

The seed clips each return column at its 1% and 99% quantiles computed over all rows, test months
included; ``QuantileClipper`` learns the quantiles in ``fit`` (the training window) and applies them
unchanged to later rows.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data


class QuantileClipper(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Clip each column to its ``[lower, upper]`` quantiles of the data seen by ``fit``."""

    def __init__(self, lower: float = 0.01, upper: float = 0.99):
        self.lower, self.upper = lower, upper

    def fit(self, X, y=None):
        if not 0 <= self.lower < self.upper <= 1:
            raise ValueError(f"QuantileClipper needs 0 <= lower < upper <= 1. Received: lower={self.lower}, "
                             f"upper={self.upper}")
        X = validate_data(self, X, dtype=np.float64)
        self.lower_, self.upper_ = np.quantile(X, [self.lower, self.upper], axis=0)
        return self

    def transform(self, X):
        check_is_fitted(self, "lower_")
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return np.clip(X, self.lower_, self.upper_)
