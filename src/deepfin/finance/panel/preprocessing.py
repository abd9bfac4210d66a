"""Preprocessing fitted on a training window only, as scikit-learn transformers.

Jansen (2020, ch. 17) clips each return column at its 1% and 99% quantiles computed over all rows, test months
included; ``QuantileClipper`` learns the quantiles in ``fit`` (the training window) and applies them
unchanged to later rows, passing the columns it does not clip (calendar dummies) through in the same
array. ``BlockwiseStandardScaler`` is scikit-learn's ``StandardScaler`` whose ``fit`` reads a dense array in
blocks of rows, so that fitting it on float32 rows makes no float64 copy of them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted, validate_data

FLOATS = (np.float64, np.float32)  # float32 stays float32; anything else becomes float64


class QuantileClipper(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Clip columns to their ``[lower, upper]`` quantiles of the data seen by ``fit``.

    ``columns`` picks the columns clipped: every one (``None``), a list of names (of a DataFrame's columns) or
    of positions, or a callable that returns them from ``X`` (``make_column_selector``); the others pass
    through unchanged, so calendar dummies can travel with the returns. The output is one array of every
    column in the input's order: float32 when the columns fit in it (float32 returns, integer or boolean
    dummies), float64 otherwise. ``fit_transform`` and ``transform`` allocate that array and clip it in
    place, so it is the only copy of the rows they make; ``X`` itself is never changed. The quantiles are
    float64, computed one column at a time.

    Parameters
    ----------
    lower : float, default 0.01
        The lower quantile.
    upper : float, default 0.99
        The upper quantile; ``0 <= lower < upper <= 1``.
    columns : None, list of str or int, or callable, default None
        The columns to clip (see above); None clips every column.

    Attributes
    ----------
    clipped_ : np.ndarray
        The positions of the clipped columns, in increasing order.
    lower_, upper_ : np.ndarray
        Their quantiles (float64), in the order of ``clipped_``.

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"r1": [1.0, 2.0, 3.0, 4.0, 5.0], "month_1": [0, 1, 0, 1, 0]})
    >>> clipper = QuantileClipper(lower=0.25, upper=0.75, columns=["r1"]).fit(X)
    >>> clipper.lower_.tolist(), clipper.upper_.tolist()
    ([2.0], [4.0])
    >>> clipper.transform(pd.DataFrame({"r1": [0.0, 10.0], "month_1": [1, 0]})).tolist()
    [[2.0, 1.0], [4.0, 0.0]]
    """

    def __init__(self, lower: float = 0.01, upper: float = 0.99, columns=None):
        self.lower, self.upper, self.columns = lower, upper, columns

    def fit(self, X, y=None):
        """Learn the quantiles of the chosen columns of ``X``."""
        self.fit_transform(X)
        return self

    def fit_transform(self, X, y=None):
        """Learn the quantiles and return ``X`` clipped to them, one new array.

        Raises a ValueError unless ``0 <= lower < upper <= 1``, or when ``columns`` names a column ``X`` lacks.
        """
        if not 0 <= self.lower < self.upper <= 1:
            raise ValueError(f"QuantileClipper needs 0 <= lower < upper <= 1. Received: lower={self.lower}, "
                             f"upper={self.upper}")
        rows = _own_rows(validate_data(self, X, dtype=FLOATS), X)
        self.clipped_ = self._positions(X, rows.shape[1])
        bounds = [np.quantile(rows[:, i].astype(np.float64), [self.lower, self.upper]) for i in self.clipped_]
        self.lower_, self.upper_ = np.array(bounds, dtype=np.float64).reshape(-1, 2).T
        return self._clip(rows)

    def transform(self, X):
        """``X`` clipped to the learned quantiles, one new array."""
        check_is_fitted(self, "lower_")
        return self._clip(_own_rows(validate_data(self, X, dtype=FLOATS, reset=False), X))

    def _positions(self, X, width: int) -> np.ndarray:
        """The positions of the columns to clip, in increasing order."""
        chosen = range(width) if self.columns is None else self.columns(X) if callable(self.columns) else self.columns
        names = list(getattr(self, "feature_names_in_", []))
        positions = []
        for column in chosen:
            if isinstance(column, str) and column in names:
                positions.append(names.index(column))
            elif isinstance(column, (int, np.integer)) and not isinstance(column, bool) and 0 <= column < width:
                positions.append(int(column))
            else:
                raise ValueError(f"QuantileClipper: column {column!r} is not among the {width} columns of X"
                                 f"{' (' + ', '.join(names) + ')' if names else ''}; give their names (a DataFrame) "
                                 "or positions.")
        return np.unique(np.asarray(positions, dtype=np.intp))

    def _clip(self, rows: np.ndarray) -> np.ndarray:
        """``rows`` with the chosen columns clipped in place, a run of adjacent columns at a time."""
        lower, upper = self.lower_.astype(rows.dtype), self.upper_.astype(rows.dtype)
        breaks = np.flatnonzero(np.diff(self.clipped_) != 1) + 1
        for run in np.split(np.arange(len(self.clipped_)), breaks):
            if len(run):
                part = rows[:, self.clipped_[run[0]]:self.clipped_[run[-1]] + 1]
                np.clip(part, lower[run], upper[run], out=part)
        return rows


def _own_rows(rows: np.ndarray, X) -> np.ndarray:
    """Copy ``rows`` (``X`` validated) when they may be ``X``'s own memory or are read-only.

    An array, or a DataFrame of one dtype, converts to a view of itself.
    """
    source = X.to_numpy() if isinstance(X, pd.DataFrame) and X.dtypes.nunique() == 1 else X
    shared = isinstance(source, np.ndarray) and np.may_share_memory(rows, source)
    return rows.copy() if shared or not rows.flags.writeable else rows


class BlockwiseStandardScaler(StandardScaler):
    """``StandardScaler`` fitted on blocks of ``block_rows`` rows of a dense array (``partial_fit`` on each).

    Its float64 statistics then need temporaries of one block, not of the whole array; other inputs (a
    DataFrame, a sparse matrix, sample weights) are fitted as ``StandardScaler`` fits them. The statistics
    agree with a one-pass fit to float64 rounding.
    """

    block_rows = 1 << 16

    def fit(self, X, y=None, sample_weight=None):
        """Compute the mean and scale, block by block for a large dense array."""
        if not isinstance(X, np.ndarray) or sample_weight is not None or len(X) <= self.block_rows:
            return super().fit(X, y, sample_weight)
        super().fit(X[:self.block_rows])
        for start in range(self.block_rows, len(X), self.block_rows):
            self.partial_fit(X[start:start + self.block_rows])
        return self
