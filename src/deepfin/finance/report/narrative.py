"""The sentences a run's report says about its figures, for a user about to trust the numbers.

They say what the leakage, the cross-sectional measures, the choice among many candidates and the delistings
mean.
"""

from __future__ import annotations

import math

COUNTS = {
    "names": "names in the data",
    "names_with_rows": "names in some date's cross-section",
    "names_without_rows": "names never in a cross-section (never a member with the history its features need)",
    "tradable_rows": "(date, name) pairs priced on a row date",
    "not_members": "of those, not index members on the date: left out",
    "without_features": "of the members, features not known yet on the date (too little history, a gap): left out",
    "rows": "rows: (date, name) pairs in the cross-section, predicted when they fall in a test window",
    "rows_without_outcome": "rows whose next-period outcome is not known (the last period, a late price): "
                            "predicted, neither trained on nor scored",
    "rows_delisted": "rows whose outcome is a delisting",
    "rows_delisted_assumed": "of those, at the assumed delisting return",
    "rows_halted": "rows closed at a price after the period's end (a halt)",
    "features_known_rows": "(date, name) pairs whose features are known, members or not",
    "member_dates_without_price": "(date, member) pairs without a price",
    "members_never_priced": "members never priced",
}


def counts(figures: dict) -> list[str]:
    """Write the data's counts as lines: what the rows leave out, and why.

    Examples
    --------
    >>> counts({"names": 500, "members_never_priced": 3})
    ['names in the data: 500', 'members never priced: 3']
    """
    return [f"{COUNTS.get(name, name.replace('_', ' '))}: {value:,}" for name, value in figures.items()]


def leakage(figures: dict) -> list[str]:
    """Explain the gap between Jansen (2020)'s shuffled evaluation and the walk-forward one.

    Parameters
    ----------
    figures : dict
        ``leakage_report``'s: ``with_dummies``, ``without_dummies``, ``walk_forward`` and
        ``walk_forward_interval``.

    Returns
    -------
    list of str
        The figures side by side; then either what the gap is (leakage, not skill, split between the dummies
        and shuffling) or that it is not material; and whether the walk-forward interval contains 0.5.
    """
    seed, plain, honest = figures["with_dummies"], figures["without_dummies"], figures["walk_forward"]
    low, high = figures["walk_forward_interval"]
    lines = [f"Shuffled K-fold with year/month dummies (Jansen (2020)'s evaluation): AUC {seed:.3f}. Without the "
             f"dummies: {plain:.3f}. Walk-forward, predicting only dates no earlier step has seen: {honest:.3f} "
             f"(95% interval {low:.3f} to {high:.3f})."]
    if seed - honest > max(0.02, high - honest):
        lines.append(
            f"Jansen (2020)'s way scores {seed - honest:.3f} higher, and that is leakage, not skill. Shuffled folds "
            "put rows of the same date on both sides of the split, and every stock on a date shares that date's market "
            "move; a network that can tell the dates apart (by their dummies, or by the past returns all stocks "
            "share) learns which dates went up, which says nothing about a date it has not seen. "
            f"{seed - plain:+.3f} of the gap goes with the dummies and {plain - honest:+.3f} with shuffling alone.")
    else:
        lines.append("On these data the shuffled evaluation is not materially higher than the walk-forward one "
                     f"(difference {seed - honest:+.3f}, within the walk-forward interval); the walk-forward figure "
                     "is still the one that applies to trading.")
    if low <= 0.5 <= high:
        lines.append("The walk-forward interval contains 0.5: no evidence that the network predicts better than "
                     "chance out of sample.")
    return lines


def cross_section(pooled_auc: float, date_auc: float, ic: dict, label: str) -> list[str]:
    """Say which skill the dollar-neutral book can earn: ranking names within a date, not timing the market.

    Parameters
    ----------
    pooled_auc : float
        The pooled out-of-sample AUC.
    date_auc : float
        The mean per-date AUC.
    ic : dict
        ``ic_summary``'s figures.
    label : str
        The run's label, "up" or "above_median".

    Returns
    -------
    list of str
        The sentences.
    """
    t_stat = ic.get("t_stat", math.nan)
    lines = [f"Within each date, the network ranks names with a mean ROC AUC of {date_auc:.3f} and a mean rank "
             f"information coefficient of {ic.get('mean', math.nan):+.4f} (t = {t_stat:.2f} over {ic['dates']} "
             f"dates; IC information ratio {ic.get('information_ratio', math.nan):+.3f})."]
    if label == "up":
        lines.append(
            f"The pooled AUC ({pooled_auc:.3f}) compares rows of different dates under the absolute label 'next "
            "period up', so it also rewards knowing which dates the market rises; a long-short book is "
            "dollar-neutral and cannot earn that. What it earns is the within-date ranking (per-date AUC and IC): "
            "set label = \"above_median\" to train for it.")
    else:
        lines.append("With the cross-sectional label (above the date's median), the pooled AUC and the per-date AUC "
                     "both measure ranking within a date, which is what the long-short book earns.")
    if abs(t_stat) < 2:
        lines.append("An IC t-statistic under 2 is no evidence of ranking skill.")
    return lines


def horizon(lag: int, period: str, decay: list[dict]) -> list[str]:
    """Say what the IC decay tells of the traded horizon, and what a daily lag-0 figure may owe the bid-ask bounce."""
    lines = []
    if len(decay) > 1 and "mean" in decay[0] and "mean" in decay[1]:
        lines.append(f"The IC is {decay[0]['mean']:+.4f} against the next {period}'s return and "
                     f"{decay[1]['mean']:+.4f} against the {period} after: trading a {period} late keeps "
                     f"{_share(decay[1]['mean'], decay[0]['mean'])} of the first {period}'s ranking.")
    if lag == 0 and period == "day":
        lines.append("The book trades at the close its signal is computed from (lag 0). A close printed at the bid "
                     "tends to be followed by one nearer the ask and the reverse (the bid-ask bounce), so a daily "
                     "signal that buys yesterday's losers earns part of the spread at lag 0 that no one can trade; "
                     "lag 1 (the default) trades the next close and owes nothing to it.")
    return lines


def _share(later: float, first: float) -> str:
    return f"{later / first:.0%}" if first and math.isfinite(first) and math.isfinite(later) else "n/a"


def selection(figures: dict) -> list[str]:
    """Explain what choosing the best of many noisy candidates is worth, and the deflated Sharpe ratio.

    Parameters
    ----------
    figures : dict
        ``Result.selection``: ``selection_bias``'s figures, ``deflated_sharpe``, ``trials``, ``trial_runs``.

    Returns
    -------
    list of str
        The sentences.
    """
    n, best, chance = figures["candidates"], figures["best_auc"], figures["expected_best_by_chance"]
    lines = [f"The tuning chose the best of {n} candidates, walk-forward AUC {best:.4f}. Had none of them any "
             f"skill (true AUC 0.5), the best of {n} with their spread ({figures['spread']:.4f}) would be expected "
             f"at {chance:.4f}."]
    if best <= chance:
        lines.append("The winner is no better than the luckiest of as many skill-less candidates.")
    dsr = figures.get("deflated_sharpe")
    if dsr is not None and not math.isnan(dsr):
        trials, runs = figures.get("trials", n), figures.get("trial_runs", 1)
        counted = f"{trials} trials from {runs} runs on these data" if runs > 1 else f"{trials} trials"
        lines.append(f"Deflated for {counted} (their Sharpe ratios on the tuning folds), the probability that the "
                     f"strategy's true Sharpe ratio before costs is above zero is {dsr:.3f} (0.95 or more is the usual "
                     "bar). The trials' folds are shorter than the test period, so their spread, and the deflation, "
                     "err on the strict side.")
    return lines


def delistings(positions: dict, setting) -> list[str]:
    """Describe the positions closed by a delisting, halts, names that could not be traded, and ties.

    Parameters
    ----------
    positions : dict
        ``strategy.positions``'s counts.
    setting : float or str
        The ``delisting_return`` setting, quoted in the text.

    Returns
    -------
    list of str
        The sentences; one saying there was nothing to report when there was none.
    """
    lines = []
    total = positions["delisted_from_data"] + positions["delisted_assumed"]
    if total:
        lines.append(f"{total} positions were closed by a delisting: {positions['delisted_from_data']} at the "
                     f"delisting return the data give, {positions['delisted_assumed']} at the assumed "
                     f"{positions['assumed_return']:+.0%} after the last price (delisting_return = {setting!r}).")
    sensitivity = positions.get("sensitivity", {})
    if sensitivity:
        alternatives = ", ".join(f"{float(a):+.0%}: {m:+.4%}" for a, m in sensitivity.items())
        lines.append(f"Mean return a period before costs with other assumed delisting returns: {alternatives}.")
    if positions["halted"]:
        lines.append(f"{positions['halted']} positions in names not priced at the period's end were closed at their "
                     "next price.")
    if positions["not_opened"]:
        lines.append(f"{positions['not_opened']} selected names could not be traded on the trade date (lag "
                     f"{positions['lag']}) and were left out of their leg.")
    if positions["ties_at_cutoff"]:
        lines.append(f"On {positions['ties_at_cutoff']} dates the k-th and (k+1)-th probabilities were equal; the "
                     "book there was decided by a random tie-break (the run's seed), not by the names' order.")
    return lines or ["No position was closed by a delisting or a halt, and no tie decided a book."]
