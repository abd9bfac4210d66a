"""A synthetic version of DataCamp's bank example: customers' children and accounts -> transactions next year.

DataCamp's course *Introduction to Deep Learning in Python* draws a network whose inputs are a customer's
number of children and of existing accounts and whose output is how many transactions the customer will make
next year; it ships no data. This generator makes such customers: children ~ Poisson(1.2) capped at 5,
accounts ~ 1 + Poisson(1.5) capped at 6, and transactions ~ Poisson(exp(1.5 + 0.3 accounts + 0.2 children +
0.08 children x accounts)). The log-linear rate with an interaction is what a linear regression cannot
capture and a small network can.
"""

from __future__ import annotations

import numpy as np

FEATURES = ("children", "accounts")


def expected_transactions(children, accounts) -> np.ndarray:
    """The true mean number of transactions for customers with these children and accounts.

    Parameters
    ----------
    children : array_like
        Numbers of children.
    accounts : array_like
        Numbers of existing accounts, broadcastable with ``children``.

    Returns
    -------
    np.ndarray
        ``exp(1.5 + 0.3 accounts + 0.2 children + 0.08 children x accounts)``.
    """
    children, accounts = np.asarray(children, dtype=float), np.asarray(accounts, dtype=float)
    return np.exp(1.5 + 0.3 * accounts + 0.2 * children + 0.08 * children * accounts)


def bank_transactions(n_samples: int = 5000, random_state: int | None = 0):
    """Synthetic bank customers: their children and accounts, and their transactions next year.

    Parameters
    ----------
    n_samples : int, default 5000
        The number of customers; at least 1.
    random_state : int or None, default 0
        Seeds the generator (``np.random.default_rng``); None draws fresh data.

    Returns
    -------
    X : np.ndarray of shape (n_samples, 2)
        Children and accounts per customer, as floats.
    y : np.ndarray of shape (n_samples,)
        Transactions next year, as floats.

    Raises
    ------
    ValueError
        If ``n_samples`` is below 1.

    Examples
    --------
    >>> from deepfin import datasets
    >>> X, y = datasets.bank_transactions(1000)
    >>> X.shape, y.shape
    ((1000, 2), (1000,))
    """
    if n_samples < 1:
        raise ValueError(f"n_samples must be at least 1. Received: n_samples={n_samples}")
    rng = np.random.default_rng(random_state)
    children = np.minimum(rng.poisson(1.2, n_samples), 5)
    accounts = 1 + np.minimum(rng.poisson(1.5, n_samples), 5)
    transactions = rng.poisson(expected_transactions(children, accounts))
    return np.column_stack([children, accounts]).astype(float), transactions.astype(float)
