"""What the run's and the study's files share: the style sheet, number formats, HTML lists, the book's files.

The book's two files are returns.csv and positions.csv; every file is written whole or not at all.
"""

from __future__ import annotations

import html
import math
from pathlib import Path

import pandas as pd

from deepfin._files import atomic_write
from deepfin.finance.backtest.book import returns_table
from deepfin.finance.backtest.strategy import position_table

STYLE = """\
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.9em; }
th, td { padding: 0.25em 0.7em; border-bottom: 1px solid #ddd; text-align: left; }
figure { display: inline-block; margin: 0.5em; } img { max-width: 100%; }
figcaption { font-size: 0.85em; color: #555; } pre { background: #f6f6f6; padding: 1em; }
.headline th { font-size: 1.05em; } .headline td { font-weight: 600; }
.warning { background: #fff3cd; border-left: 4px solid #c77c00; padding: 0.5em 1em; }
"""  # report.html's and the study's


def items(lines) -> str:
    """HTML list items, one per line of text, escaped.

    Examples
    --------
    >>> items(["a < b", "c"])
    '<li>a &lt; b</li><li>c</li>'
    """
    return "".join(f"<li>{html.escape(line)}</li>" for line in lines)


def paragraphs(lines) -> str:
    """HTML paragraphs, one per line of text, escaped."""
    return "".join(f"<p>{html.escape(line)}</p>" for line in lines)


def warnings(lines) -> str:
    """The run's warnings (what may bias every figure), each a highlighted paragraph."""
    return "".join(f'<p class="warning">{html.escape(line)}</p>' for line in lines)


def write_text(path: Path, text: str) -> None:
    """Write ``text`` as UTF-8 to ``path``, whole or not at all (a temporary name, then renamed)."""
    with atomic_write(path) as stream:
        stream.write(text.encode("utf-8"))


def json_safe(value):
    """Make ``value`` JSON-safe: NaN and infinities become None, NumPy scalars plain numbers.

    Dicts (their keys as text), lists and tuples are converted throughout.

    Examples
    --------
    >>> import numpy as np
    >>> json_safe({"auc": np.float64(0.51), "sharpe": float("nan"), "k": [np.int64(10)]})
    {'auc': 0.51, 'sharpe': None, 'k': [10]}
    """
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def number(value, digits: int = 3) -> str:
    """Format a figure with ``digits`` decimals; "n/a" for None or NaN.

    Examples
    --------
    >>> number(0.51234), number(float("nan")), number(1.5, 1)
    ('0.512', 'n/a', '1.5')
    """
    return "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{digits}f}"


def percent(value, digits: int = 1) -> str:
    """Format a fraction as a percentage with ``digits`` decimals; "n/a" for None.

    Examples
    --------
    >>> percent(0.0123), percent(0.0123, 3)
    ('1.2%', '1.230%')
    """
    return "n/a" if value is None else f"{100 * value:.{digits}f}%"


def write_book(out: Path, returns: pd.DataFrame, weights: pd.DataFrame, benchmark: pd.Series, plan,
               stem: str = "", positions: bool = True) -> None:
    """Write the book's files into ``out``: ``{stem}returns.csv`` and, with ``positions``, ``{stem}positions.csv``.

    ``returns.csv`` has one row per trade date (``returns_table``), ``positions.csv`` one row per position
    (``position_table``), as quantstats and pyfolio read them:
    ``pd.read_csv(path, index_col="date", parse_dates=True)["net"]``.
    """
    out.mkdir(parents=True, exist_ok=True)
    table = returns_table(returns, benchmark, plan.config.cost_bps)
    write_text(out / f"{stem}returns.csv", table.reset_index().to_csv(index=False, float_format="%.10g",
                                                                      date_format="%Y-%m-%d"))
    if positions:
        held = position_table(weights, plan.outcomes, plan.config.lag)
        write_text(out / f"{stem}positions.csv", held.to_csv(index=False, float_format="%.10g",
                                                             date_format="%Y-%m-%d"))
