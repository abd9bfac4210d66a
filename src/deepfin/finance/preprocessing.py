"""Preprocessing fitted on a training window only, as scikit-learn transformers.

The seed clips each return column at its 1% and 99% quantiles computed over all rows, test months
included; ``QuantileClipper`` learns the quantiles in ``fit`` (the training window) and applies them
unchanged to later rows. ``BlockwiseStandardScaler`` is scikit-learn's ``StandardScaler`` whose ``fit`` reads a
dense array in blocks of rows, so that fitting it on float32 rows makes no float64 copy of them.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted, validate_data

FLOATS = (np.float64, np.float32)  # float32 stays float32; anything else becomes float64


class QuantileClipper(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Clip each column to its ``[lower, upper]`` quantiles of the data seen by ``fit``.

    The quantiles are float64, computed one column at a time (no float64 copy of a float32 ``X``); ``transform``
    keeps a float32 ``X`` in float32.
    """

    def __init__(self, lower: float = 0.01, upper: float = 0.99):
        self.lower, self.upper = lower, upper

    def fit(self, X, y=None):
        if not 0 <= self.lower < self.upper <= 1:
            raise ValueError(f"QuantileClipper needs 0 <= lower < upper <= 1. Received: lower={self.lower}, "
                             f"upper={self.upper}")
        X = validate_data(self, X, dtype=FLOATS)
        bounds = [np.quantile(column.astype(np.float64), [self.lower, self.upper]) for column in X.T]
        self.lower_, self.upper_ = np.array(bounds, dtype=np.float64).reshape(-1, 2).T
        return self

    def transform(self, X):
        check_is_fitted(self, "lower_")
        X = validate_data(self, X, dtype=FLOATS, reset=False)
        return np.clip(X, self.lower_.astype(X.dtype), self.upper_.astype(X.dtype))


class BlockwiseStandardScaler(StandardScaler):
    """``StandardScaler`` fitted on blocks of ``block_rows`` rows of a dense array (``partial_fit`` on each), so
    that its float64 statistics need temporaries of one block, not of the whole array; other inputs (a
    DataFrame, a sparse matrix, sample weights) are fitted as ``StandardScaler`` fits them. The statistics
    agree with a one-pass fit to float64 rounding."""

    block_rows = 1 << 16

    def fit(self, X, y=None, sample_weight=None):
        if not isinstance(X, np.ndarray) or sample_weight is not None or len(X) <= self.block_rows:
            return super().fit(X, y, sample_weight)
        super().fit(X[:self.block_rows])
        for start in range(self.block_rows, len(X), self.block_rows):
            self.partial_fit(X[start:start + self.block_rows])
        return self
