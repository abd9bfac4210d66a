"""The tunable network of Jansen (2020, ch. 17) and the estimator the finance workflow trains and tunes.

``make_model`` is the ``make_model`` of Jansen (2020, ch. 17) as it was meant to read (the printed listing adds
the output layer inside its loop over the hidden layers and compiles with the loss ``'crossentropy'``): hidden
``Dense`` layers of the sizes in ``dense_layers``, each followed by ``activation``, one ``Dropout``, a sigmoid
unit, binary cross-entropy. ``estimator`` wraps it in ``DateHoldoutClassifier``: the last ``validation_split`` of the
training dates (whole dates) is held out for early stopping, with ``purge`` dates between it and the rows the
network trains on; clipping at quantiles and standardising are fitted on the rows the network trains on only.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from deepfin import optimizers
from deepfin.callbacks import EarlyStopping
from deepfin.finance.panel.features import CalendarDummies, row_dates
from deepfin.finance.panel.preprocessing import BlockwiseStandardScaler, QuantileClipper
from deepfin.layers import Activation, Dense, Dropout
from deepfin.metrics import AUC
from deepfin.models import Sequential
from deepfin.wrappers.scikit_learn import KerasClassifier

TUNABLE = ("dense_layers", "activation", "dropout", "optimizer", "learning_rate")


def make_model(dense_layers=(64, 64), activation="relu", dropout=0.5, optimizer="Adam", learning_rate=0.001,
               meta=None) -> Sequential:
    """Build a compiled multi-layer perceptron: the network of Jansen (2020, ch. 17).

    Hidden ``Dense`` layers, each followed by ``activation``, then one ``Dropout``, a ``Dense(1)`` and a
    sigmoid; binary cross-entropy, with accuracy and ROC AUC (``auc``) as metrics. ``KerasClassifier`` calls it
    with ``meta``; its other arguments are the grid's (``TUNABLE``).

    Parameters
    ----------
    dense_layers : sequence of int, default (64, 64)
        One size per hidden layer.
    activation : str, default "relu"
        The hidden layers' activation.
    dropout : float, default 0.5
        The dropout rate before the output unit.
    optimizer : str, default "Adam"
        The optimizer's name (``deepfin.optimizers.get``).
    learning_rate : float, default 0.001
        The optimizer's learning rate.
    meta : dict
        ``{"n_features_in_": n}``: the number of inputs (required, though its default is None).

    Returns
    -------
    Sequential
        The compiled network.

    Examples
    --------
    >>> model = make_model([8, 4], meta={"n_features_in_": 3})
    >>> [layer.__class__.__name__ for layer in model.layers]
    ['Dense', 'Activation', 'Dense', 'Activation', 'Dropout', 'Dense', 'Activation']
    >>> model.count_params()  # 3*8 + 8, 8*4 + 4, 4*1 + 1
    73
    """
    model = Sequential()
    for i, size in enumerate(dense_layers):
        model.add(Dense(size, input_dim=meta["n_features_in_"]) if i == 0 else Dense(size))
        model.add(Activation(activation))
    model.add(Dropout(dropout))
    model.add(Dense(1))
    model.add(Activation("sigmoid"))
    model.compile(loss="binary_crossentropy", optimizer=type(optimizers.get(optimizer))(learning_rate=learning_rate),
                  metrics=["accuracy", AUC(name="auc")])
    return model


class DateHoldoutClassifier(ClassifierMixin, BaseEstimator):
    """Preprocessing and a network trained with early stopping on whole held-out dates.

    ``fit(X, y, realised=None)`` takes rows indexed by (date, ticker). The last ``validation_split`` of the
    dates (at least one) are the validation part; the ``purge`` dates before it are left out; the rows before
    those train the network, and ``preprocess`` is fitted on them alone. ``realised`` (the date each row's
    label becomes known) also leaves out training rows whose label is realised on or after the first
    validation date.

    Parameters
    ----------
    preprocess : transformer or None, default None
        Fitted on the training rows alone, then applied to every row the network sees (it is cloned).
    net : classifier or None, default None
        The network, a ``KerasClassifier`` whose ``fit`` takes ``validation_data`` (it is cloned).
    validation_split : float, default 0.2
        The share of the dates held out for early stopping.
    purge : int, default 1
        Dates left out between the training and the held-out dates.

    Attributes
    ----------
    preprocess_ : transformer
        The fitted preprocessing.
    net_ : classifier
        The fitted network.
    validation_start_ : pd.Timestamp
        The first held-out date.
    n_fit_rows_, n_validation_rows_ : int
        The rows the network trained on and those held out.
    classes_ : np.ndarray
        The labels, from the network.

    Examples
    --------
    >>> from deepfin.finance.models.network import estimator
    >>> from deepfin.finance import grid, label, monthly_features, next_period_outcomes, synthetic_prices
    >>> prices = synthetic_prices("planted", n_tickers=10, n_months=30)
    >>> X = monthly_features(prices, lags=2)
    >>> y = label(next_period_outcomes(prices, grid(prices, "month")).at(X.index)["forward_return"], "up")
    >>> X, y = X[y.notna()], y[y.notna()]
    >>> model = estimator(list(X.columns), epochs=2, batch_size=32, patience=1, validation_split=0.2, purge=1,
    ...                   random_state=0, dense_layers=[8]).fit(X, y)
    >>> str(model.validation_start_.date()), model.n_fit_rows_, model.n_validation_rows_
    ('2002-01-31', 210, 50)
    >>> model.predict_proba(X.iloc[:3]).shape
    (3, 2)
    """

    def __init__(self, preprocess=None, net=None, validation_split: float = 0.2, purge: int = 1):
        self.preprocess, self.net = preprocess, net
        self.validation_split, self.purge = validation_split, purge

    def fit(self, X: pd.DataFrame, y, realised=None):
        """Fit the preprocessing and the network on rows indexed by (date, ticker), holding out the last dates.

        ``realised`` (the date each row's label becomes known) also leaves out training rows whose label is
        realised on or after the first held-out date. Raises a ValueError when no training date is left.
        """
        return self._fit_nets([{}], X, y, realised)[0]

    def fit_rows(self, X: pd.DataFrame, y, rows, realised=None):
        """Fit on some rows of ``X`` without copying them first: ``fit(X.iloc[rows], y[rows], realised[rows])``.

        The rows the network trains on and the validation rows are each taken out of ``X`` once (at scale,
        ``X.iloc[rows]`` is the largest array of a shuffled fold's fit). ``rows`` are positions, or a boolean
        mask of ``X``'s rows.
        """
        rows = np.asarray(rows)
        return self._fit_nets([{}], X, y, realised, np.flatnonzero(rows) if rows.dtype == bool else rows)[0]

    def fit_many(self, param_sets: list[dict], X: pd.DataFrame, y, realised=None) -> list:
        """Fit one clone per parameter set, as ``fit`` would give each.

        When only the network's parameters (``net__...``) vary, the dates are split and the preprocessing
        fitted once, and the networks train together where they can (the network's ``fit_many``: a stack).

        Returns
        -------
        list of DateHoldoutClassifier
            The fitted clones, in the order of ``param_sets``.
        """
        if not _only_net_params(param_sets):
            return [clone(self).set_params(**params).fit(X, y, realised) for params in param_sets]
        return self._fit_nets(param_sets, X, y, realised)

    def group_candidates(self, param_sets: list[dict], X: pd.DataFrame, y, realised=None) -> list[list[int]]:
        """The indices of ``param_sets`` that ``fit_many`` trains together, group by group."""
        if not _only_net_params(param_sets) or not hasattr(self.net, "group_candidates"):
            return [[i] for i in range(len(param_sets))]
        fit, _, _ = date_holdout(_dates_of(X), realised, self.validation_split, self.purge)
        trained_on = clone(self.preprocess).fit_transform(X[fit])
        return self.net.group_candidates([_net_params(p) for p in param_sets], trained_on, np.asarray(y)[fit])

    def _fit_nets(self, param_sets, X, y, realised, rows=None) -> list:
        """Split the dates, fit the preprocessing, then one network per parameter set (together where they can).

        On ``X``'s ``rows`` only, when given.
        """
        rows = np.arange(len(X)) if rows is None else rows
        y = np.asarray(y)[rows]
        realised = None if realised is None else np.asarray(realised)[rows]
        fit, validation, start = date_holdout(_dates_of(X)[rows], realised, self.validation_split, self.purge)
        preprocess = clone(self.preprocess)
        trained_on = preprocess.fit_transform(X.iloc[rows[fit]])
        validation_data = (preprocess.transform(X.iloc[rows[validation]]), y[validation].astype(float))
        nets = _fit_networks(self.net, [_net_params(p) for p in param_sets], trained_on, y[fit], validation_data)
        fitted = []
        for params, net in zip(param_sets, nets):
            model = clone(self).set_params(**params) if params else self
            model.validation_start_, model.preprocess_, model.net_ = start, preprocess, net
            model.n_fit_rows_, model.n_validation_rows_ = int(fit.sum()), int(validation.sum())
            model.classes_ = net.classes_
            fitted.append(model)
        return fitted

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """The network's class probabilities of the preprocessed rows, (rows, 2)."""
        check_is_fitted(self, "net_")
        return self.net_.predict_proba(self.preprocess_.transform(X))

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """The most probable class of each row."""
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


def date_holdout(dates: pd.DatetimeIndex, realised, validation_split: float, purge: int
                 ) -> tuple[np.ndarray, np.ndarray, pd.Timestamp]:
    """Split rows by date into those a model may train on and the held-out ones, a purge apart.

    The held-out rows are those of the last ``validation_split`` of the dates (at least one). The ``purge`` dates
    before them are in neither part, nor (with ``realised``, the date each row's label becomes known) a row
    whose label is realised on or after the first held-out date.

    Parameters
    ----------
    dates : pd.DatetimeIndex
        Each row's date.
    realised : array-like of datetime or None
        Each row's label date.
    validation_split : float
        The share of the dates held out.
    purge : int
        Dates between the two parts.

    Returns
    -------
    fit : np.ndarray
        Booleans, the rows to train on.
    held_out : np.ndarray
        Booleans, the held-out rows.
    start : pd.Timestamp
        The first held-out date.

    Raises
    ------
    ValueError
        When no date is left to train on.
    """
    unique = dates.unique().sort_values()
    n_validation = max(1, int(round(validation_split * len(unique))))
    n_fit = len(unique) - n_validation - purge
    if n_fit < 1:
        raise ValueError(f"{len(unique)} training dates leave none to train on after {n_validation} validation "
                         f"dates and a purge of {purge}; give more training dates.")
    start = unique[-n_validation]
    fit = np.asarray(dates < unique[n_fit])
    if realised is not None:
        fit &= np.asarray(pd.DatetimeIndex(realised) < start)
    return fit, np.asarray(dates >= start), start


def _only_net_params(param_sets: list[dict]) -> bool:
    return all(name.startswith("net__") for params in param_sets for name in params)


def _net_params(params: dict) -> dict:
    return {name.removeprefix("net__"): value for name, value in params.items()}


def _fit_networks(net, param_sets, X, y, validation_data) -> list:
    if len(param_sets) > 1 and hasattr(net, "fit_many"):
        return net.fit_many(param_sets, X, y, validation_data=validation_data)
    return [clone(net).set_params(**params).fit(X, y, validation_data=validation_data) for params in param_sets]


def _dates_of(X) -> pd.DatetimeIndex:
    return row_dates(X, "DateHoldoutClassifier", "to hold out whole dates")


def estimator(return_columns: list[str], *, epochs: int, batch_size: int, patience: int, validation_split: float,
              purge: int, random_state: int | None, calendar: CalendarDummies | None = None,
              **params) -> DateHoldoutClassifier:
    """Build the workflow's estimator: preprocessing and ``make_model``'s network, early-stopped on whole dates.

    The preprocessing is: append the ``calendar`` dummies (when given), clip the ``return_columns`` at their 1%
    and 99% quantiles (dummies pass through), standardise.

    Parameters
    ----------
    return_columns : list of str
        The feature columns that are returns.
    epochs : int
        The most epochs a fit trains.
    batch_size : int
        Rows a gradient step.
    patience : int
        Epochs without a lower validation loss before early stopping (the best weights are restored).
    validation_split : float
        The share of the training dates held out for early stopping.
    purge : int
        Dates between the training and the held-out dates.
    random_state : int or None
        The seed of the network's initialisation and shuffling.
    calendar : CalendarDummies or None, default None
        The year and month dummies to append.
    **params
        ``make_model``'s arguments.

    Returns
    -------
    DateHoldoutClassifier
        The unfitted estimator.
    """
    network = KerasClassifier(make_model, epochs=epochs, batch_size=batch_size,
                              callbacks=[EarlyStopping(monitor="val_loss", patience=patience,
                                                       restore_best_weights=True)],
                              random_state=random_state, **params)
    # the clipping's output is the one copy of the rows: it is clipped, then standardised, in place
    clip, scale = QuantileClipper(columns=return_columns), BlockwiseStandardScaler(copy=False)
    steps = [("clip", clip), ("scale", scale)]
    return DateHoldoutClassifier(Pipeline(steps if calendar is None else [("calendar", calendar), *steps]), network,
                                 validation_split=validation_split, purge=purge)
