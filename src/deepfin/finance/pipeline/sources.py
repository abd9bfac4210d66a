"""Where a run's data come from: the price panel (with delisting returns) and the index membership.

They come from the settings (files, ``synthetic:N``, the embedded sample) or are given from Python.
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from deepfin.finance.data.prices import Panel, load_delistings, load_panel
from deepfin.finance.data.synthetic import SyntheticUniverse, from_spec
from deepfin.finance.data.universe import Universe, load_universe
from deepfin.finance.pipeline.config import RunConfig


def load_sources(config: RunConfig, prices=None, universe=None) -> tuple[Panel, Universe | None]:
    """Load the price panel and the membership ``config`` names, or those given from Python.

    ``config.delistings`` adds its delisting returns to the panel's, and ``config.universe`` is read whatever
    was given; ``synthetic:N`` data bring their own membership.

    Parameters
    ----------
    config : RunConfig
        The settings: ``data``, ``delistings``, ``universe`` and how to read them.
    prices : pd.DataFrame, Panel, SyntheticUniverse or None, default None
        Prices given from Python instead of ``config.data``; a ``SyntheticUniverse`` brings its membership.
    universe : Universe, pd.DataFrame or None, default None
        Membership given from Python.

    Returns
    -------
    panel : Panel
        The prices (not validated yet) and delisting returns.
    universe : Universe or None
        The membership, None without one.

    Raises
    ------
    ValueError
        When the universe and the prices share no name, or a file cannot be read.
    """
    if isinstance(prices, SyntheticUniverse):
        prices, universe = prices.panel(), universe if universe is not None else prices.universe()
    if isinstance(universe, pd.DataFrame):
        universe = load_universe(universe)
    if isinstance(prices, Panel):
        panel = prices
    elif prices is not None:
        panel = load_panel(prices)
    elif config.data is not None and config.data.startswith("synthetic:"):
        simulated = from_spec(config.data)
        panel, universe = simulated.panel(), simulated.universe()
    else:
        panel = load_panel(config.data, sep=config.sep, decimal=config.decimal, date_format=config.date_format)
    if config.delistings is not None:
        given = load_delistings(config.delistings, sep=config.sep, decimal=config.decimal)
        matched = int(given.index.isin(panel.prices.columns).sum())
        panel = replace(panel, delisting_returns=given.combine_first(panel.delisting_returns), notes=[
            *panel.notes, f"{len(given)} delisting returns from {config.delistings}, {matched} of priced names"])
    if config.universe is not None:
        universe = load_universe(config.universe, sep=config.sep, decimal=config.decimal,
                                 date_format=config.date_format)
    if universe is not None and not universe.tickers.isin(panel.prices.columns).any():
        raise ValueError(f"No name of the universe ({universe.source}, such as {list(universe.tickers[:3])}) is in "
                         f"the price data (such as {list(panel.prices.columns[:3])}); both must use the same "
                         "identifiers.")
    return panel, universe
