"""Synthetic data whose truth is known, to check that an evaluation tells it.

``synthetic_universe``: a daily market of names that list and delist, with an index, fat tails, volatility
clustering and an optional planted signal (its docstring states the law). ``synthetic_prices``: month-end
panels of a fixed set of names:

- ``random_walk``: independent returns; nothing is predictable, an honest AUC is 0.5.
- ``planted``: each stock's monthly return carries ``signal`` times its previous one (AR(1) momentum), so
  last month's return predicts the next month's sign (AUC about 0.5 + arcsin(signal) / pi).
- ``common_move``: every stock moves with the month's market return plus little noise of its own; which
  months go up is unpredictable, but rows of the same month look alike and share their label, which is what
  shuffled cross-validation leaks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from deepfin.finance.data.prices import Panel
from deepfin.finance.data.universe import Universe

KINDS = ("random_walk", "planted", "common_move")


def synthetic_prices(kind: str = "random_walk", n_tickers: int = 50, n_months: int = 240, signal: float = 0.5,
                     volatility: float = 0.06, seed: int = 0) -> pd.DataFrame:
    """Simulate month-end prices (date x ticker) with the structure ``kind`` names (see the module).

    The returns are log returns; the prices are 100 times their cumulated growth (100 a month before the first date).

    Parameters
    ----------
    kind : {"random_walk", "planted", "common_move"}, default "random_walk"
        Independent returns; AR(1) momentum of strength ``signal``; or a common monthly move plus a little
        noise of each stock's own.
    n_tickers : int, default 50
        Names, ``S00``, ``S01``, ...
    n_months : int, default 240
        Month ends, from 2000-01-31.
    signal : float, default 0.5
        The AR(1) coefficient of ``planted``.
    volatility : float, default 0.06
        The standard deviation of a month's shock.
    seed : int, default 0
        The seed of the generator.

    Returns
    -------
    pd.DataFrame
        Prices, month ends by tickers.

    Raises
    ------
    ValueError
        On an unknown ``kind``.

    Examples
    --------
    >>> prices = synthetic_prices("planted", n_tickers=3, n_months=30)
    >>> prices.shape, list(prices.columns)
    ((30, 3), ['S00', 'S01', 'S02'])
    """
    if kind not in KINDS:
        raise ValueError(f"Unknown kind {kind!r}: expected one of {KINDS}.")
    rng = np.random.default_rng(seed)
    shocks = rng.normal(0.0, volatility, (n_months, n_tickers))
    if kind == "planted":
        returns = np.empty_like(shocks)
        returns[0] = shocks[0]
        for t in range(1, n_months):
            returns[t] = signal * returns[t - 1] + np.sqrt(1 - signal**2) * shocks[t]
    elif kind == "common_move":
        returns = rng.normal(0.0, volatility, (n_months, 1)) + 0.2 * shocks
    else:
        returns = shocks
    prices = 100 * np.exp(np.cumsum(returns, axis=0))
    dates = pd.date_range("2000-01-31", periods=n_months, freq="ME")
    return pd.DataFrame(prices, index=dates, columns=[f"S{i:02d}" for i in range(n_tickers)])


SIGNALS = (None, "reversal", "momentum")
_DAYS_A_YEAR = 252


@dataclass
class SyntheticUniverse:
    """A simulated market, as ``synthetic_universe`` makes it.

    Attributes
    ----------
    prices : pd.DataFrame
        Business days by names, missing before a name lists and after it delists.
    members : pd.DataFrame
        The index's constituent list on each month's last business day in the data: (date, ticker) rows.
    delistings : pd.DataFrame
        One row per delisted name: ``ticker``, ``date`` (of the last price), ``return`` (the delisting return,
        from the last price) and ``reason`` ('merger' or 'failure').
    signal : str or None
        The planted signal: None, "reversal" or "momentum".
    strength : float
        The signal's strength.
    source : str
        A description of the simulation, for reports.
    """

    prices: pd.DataFrame
    members: pd.DataFrame
    delistings: pd.DataFrame
    signal: str | None
    strength: float
    source: str

    def universe(self) -> Universe:
        """The index membership, as constituent lists."""
        return Universe(lists=self.members, source=self.source)

    def panel(self) -> Panel:
        """The prices with their delisting returns, as a ``Panel`` marked ``simulated``."""
        returns = self.delistings.set_index("ticker")["return"]
        return Panel(self.prices, returns, self.source,
                     [f"{len(self.delistings)} delistings ({(self.delistings['reason'] == 'failure').sum()} failures) "
                      "with their delisting returns"], simulated=True)


def synthetic_universe(n_names: int = 500, years: float = 25, signal: str | None = None, strength: float = 0.1,
                       failure_return: float = -0.3, volatility: float = 0.015, seed: int = 0,
                       start: str = "2000-01-03") -> SyntheticUniverse:
    """Simulate a market of listing and delisting names with an index of ``n_names`` members, whose law is known.

    The law, per business day t and name i:

    - return = beta_i * market_t + sector_(s(i), t) + sigma_(i,t) * u_(i,t) (simple returns, prices from 20
      to 100 at listing). The market (daily volatility 1%, drift 0.04%), ten sector factors (0.7%) and each
      name's idiosyncratic part (``volatility``, 1.5% a day by default, times a log-normal spread) have
      GARCH(1, 1) variances (alpha 0.08, beta 0.90: volatility clusters) and Student-t shocks with 5 degrees
      of freedom (fat tails), scaled to unit variance; beta_i is uniform on [0.6, 1.4].
    - ``signal``: u = z (unit shocks) with no signal; ``reversal``: u_t = sqrt(1 - s^2) z_t - s z_(t-1), so a
      name's next-day idiosyncratic return has correlation -s sqrt(1 - s^2) with today's; ``momentum``:
      u_t = sqrt(1 - s^2) z_t + s m_(t-1), m the normalised sum of z over days t-250 to t-21 (twelve-one month
      momentum), correlation s. ``strength`` is s.
    - Listings: 1.5 ``n_names`` names at the start, then new ones at 5% of that a year (Poisson), smaller on
      average. Delistings: mergers at 3% a year (delisting return uniform on 15%-45%, a takeover premium);
      failures: a name 70% or more below its peak crashes (-50% in a day) with probability 2% a day and
      delists at that close with delisting return ``failure_return`` (Shumway's -30% by default; -1 is a
      bankruptcy that wipes out the holder).
    - The index: on each month's last business day, the ``n_names`` largest names by market value among those
      listed for 60 days or more; the list holds until the next one.

    Parameters
    ----------
    n_names : int, default 500
        Index members (at least 2).
    years : float, default 25
        Length of the market, in years of 252 business days (at least 1).
    signal : {None, "reversal", "momentum"}, default None
        The planted signal.
    strength : float, default 0.1
        The signal's strength s, in [0, 1).
    failure_return : float, default -0.3
        The delisting return of a failure, in [-1, 0].
    volatility : float, default 0.015
        The typical daily volatility of a name's idiosyncratic return, in (0, 1].
    seed : int, default 0
        The seed of the generator.
    start : str, default "2000-01-03"
        The first business day.

    Returns
    -------
    SyntheticUniverse
        The prices, the index's constituent lists and the delistings.

    Raises
    ------
    ValueError
        On an unknown ``signal`` or an option outside its range.

    Examples
    --------
    >>> market = synthetic_universe(n_names=20, years=2, signal="reversal", seed=1)
    >>> market.prices.shape
    (504, 34)
    >>> int(market.members.groupby("date").size().max())
    20
    >>> market.panel().notes
    ['5 delistings (0 failures) with their delisting returns']
    """
    _check_options(n_names, years, signal, strength, failure_return, volatility)
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range(start, periods=int(round(years * _DAYS_A_YEAR)))
    T, initial = len(dates), int(round(1.5 * n_names))
    listing = np.r_[np.zeros(initial, dtype=int), np.sort(rng.integers(1, T, rng.poisson(0.05 * initial * years)))]
    returns = _daily_returns(rng, T, listing, signal, strength, volatility)
    growth, exit_day, failed = _exits(rng, returns, listing)
    alive = (np.arange(T)[:, None] >= listing) & (np.arange(T)[:, None] <= exit_day)
    start_price = np.where(listing == 0, rng.uniform(20, 100, len(listing)), rng.uniform(10, 40, len(listing)))
    tickers = np.array([f"N{i:04d}" for i in range(len(listing))])
    panel = pd.DataFrame(np.where(alive, start_price * growth, np.nan), index=dates, columns=tickers)
    del growth, alive
    shares = np.exp(rng.normal(np.where(listing == 0, 0.0, -0.7), 1.0)) * 1e6 / start_price
    delisted = np.flatnonzero(exit_day < T)
    delistings = pd.DataFrame({
        "ticker": tickers[delisted], "date": dates[exit_day[delisted]],
        "return": np.where(failed[delisted], failure_return, rng.uniform(0.15, 0.45, len(delisted))),
        "reason": np.where(failed[delisted], "failure", "merger")})
    source = f"synthetic universe ({n_names} index members, {years:g} years, signal {signal}, seed {seed})"
    return SyntheticUniverse(panel, _index_lists(panel, shares, listing, n_names), delistings, signal, strength,
                             source)


def _check_options(n_names, years, signal, strength, failure_return, volatility) -> None:
    if signal not in SIGNALS:
        raise ValueError(f"Unknown signal {signal!r}: expected one of {SIGNALS}.")
    if isinstance(n_names, bool) or not isinstance(n_names, (int, np.integer)) or n_names < 2:
        raise ValueError(f"n_names must be an integer >= 2. Received: n_names={n_names!r}")
    for name, value, low, high in (("years", years, 1, np.inf), ("strength", strength, 0, 1 - 1e-12),
                                   ("failure_return", failure_return, -1, 0), ("volatility", volatility, 1e-12, 1)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
            raise ValueError(f"{name} must be a number in [{low:g}, {high:g}]. Received: {name}={value!r}")


def _daily_returns(rng, T: int, listing: np.ndarray, signal, strength: float, volatility: float) -> np.ndarray:
    """Simple returns (days x names): factors, GARCH volatility, fat tails, the planted signal; 0 up to listing."""
    N = len(listing)
    shocks = _unit_t_shocks(rng, (T, N))
    innovations = _with_signal(shocks, signal, strength)
    idiosyncratic = volatility * np.exp(rng.normal(0, 0.3, N)) * _garch_scale(shocks) * innovations
    del shocks, innovations
    market = 0.0004 + 0.01 * _garch_shocks(rng, (T, 1))
    sectors = 0.007 * _garch_shocks(rng, (T, 10))
    returns = rng.uniform(0.6, 1.4, N) * market + sectors[:, rng.integers(0, 10, N)] + idiosyncratic
    returns = np.clip(returns, -0.95, None)
    returns[np.arange(T)[:, None] <= listing] = 0.0  # the listing day is the first price
    return returns


def _exits(rng, returns: np.ndarray, listing: np.ndarray):
    """Growth of $1 (with each failure's -50% crash), the exit day of each name (T: none) and which failed."""
    T, N = returns.shape
    growth = np.cumprod(1 + returns, axis=0)
    peak = np.maximum.accumulate(np.where(np.arange(T)[:, None] >= listing, growth, 0.0), axis=0)
    distress = (growth < 0.3 * peak) & (rng.random((T, N)) < 0.02)
    failure_day = np.where(distress.any(axis=0), np.argmax(distress, axis=0), T)
    merger_day = listing + rng.geometric(0.03 / _DAYS_A_YEAR, N)
    failed = (failure_day <= merger_day) & (failure_day < T)
    rows = np.flatnonzero(failed)
    growth[failure_day[rows], rows] = 0.5 * growth[failure_day[rows] - 1, rows]
    return growth, np.minimum(failure_day, merger_day), failed


def _unit_t_shocks(rng, shape, dof: int = 5) -> np.ndarray:
    return rng.standard_t(dof, shape) / np.sqrt(dof / (dof - 2))


def _garch_shocks(rng, shape) -> np.ndarray:
    """Unit-variance fat-tailed shocks whose volatility clusters."""
    shocks = _unit_t_shocks(rng, shape)
    return _garch_scale(shocks) * shocks


def _garch_scale(shocks: np.ndarray, alpha: float = 0.08, beta: float = 0.90) -> np.ndarray:
    """Conditional volatilities (unit unconditional variance) of a GARCH(1, 1) driven by ``shocks``."""
    variance = np.ones(shocks.shape)
    for t in range(1, len(shocks)):
        variance[t] = (1 - alpha - beta) + (alpha * shocks[t - 1] ** 2 + beta) * variance[t - 1]
    return np.sqrt(variance)


def _with_signal(z: np.ndarray, signal: str | None, s: float) -> np.ndarray:
    if signal is None or s == 0:
        return z
    previous = np.vstack([np.zeros((1, z.shape[1])), z[:-1]])
    if signal == "reversal":
        return np.sqrt(1 - s**2) * z - s * previous
    total = np.vstack([np.zeros((1, z.shape[1])), np.cumsum(z, axis=0)])  # total[t] = sum of z before t
    t = np.arange(len(z))
    window = (total[np.maximum(t - 20, 0)] - total[np.maximum(t - 250, 0)]) / np.sqrt(230)  # days t-250 .. t-21
    return np.sqrt(1 - s**2) * z + s * window


def _index_lists(prices: pd.DataFrame, shares: np.ndarray, listing: np.ndarray, n_names: int) -> pd.DataFrame:
    """The ``n_names`` largest seasoned names on each month's last business day, as (date, ticker) rows."""
    month = prices.index.to_period("M")
    month_ends = np.flatnonzero(np.r_[month[1:] != month[:-1], True])
    rows = []
    for position in month_ends:
        value = prices.iloc[position].to_numpy() * shares
        eligible = ~np.isnan(value) & (position - listing >= 60)
        ranked = np.flatnonzero(eligible)[np.argsort(-value[eligible], kind="stable")][:n_names]
        rows.append(pd.DataFrame({"date": prices.index[position], "ticker": prices.columns[np.sort(ranked)]}))
    return pd.concat(rows, ignore_index=True)


def from_spec(spec: str) -> SyntheticUniverse:
    """Simulate the universe a ``synthetic:N[,key=value...]`` data setting describes.

    Parameters
    ----------
    spec : str
        ``synthetic:N`` (N index members), then optional ``key=value`` pairs for ``synthetic_universe``'s
        years, signal, strength, failure_return, volatility and seed, such as
        ``synthetic:100,years=10,signal=reversal``.

    Returns
    -------
    SyntheticUniverse
        ``synthetic_universe(N, **options)``.

    Raises
    ------
    ValueError
        On a malformed spec, an unknown option or a value of the wrong type; the message shows the syntax.
    """
    body = spec.removeprefix("synthetic:")
    parts = [p.strip() for p in body.split(",") if p.strip()]
    usage = ("write synthetic:N[,years=Y][,signal=reversal|momentum][,strength=S][,failure_return=R]"
             "[,volatility=V][,seed=K], "
             "such as synthetic:500 or synthetic:100,years=10,signal=reversal")
    if not parts or not parts[0].isdigit():
        raise ValueError(f"Unknown synthetic data {spec!r}: {usage}.")
    options = {"n_names": int(parts[0])}
    casts = {"years": float, "signal": str, "strength": float, "failure_return": float, "volatility": float,
             "seed": int}
    for part in parts[1:]:
        key, _, value = part.partition("=")
        if key not in casts or not value:
            raise ValueError(f"Unknown synthetic option {part!r} in {spec!r}: {usage}.")
        try:
            options[key] = casts[key](value)
        except ValueError:
            raise ValueError(f"synthetic option {key} takes a {casts[key].__name__}. Received: {value!r}") from None
    return synthetic_universe(**options)
