"""A study's files: the report with the paper's tables, the figures, the predictions, the books and the settings.

``report.html`` (the tables of Krauss, Do and Huck (2017) for every model and k, by sub-period, feature
importance, cumulative returns, seconds per family), ``metrics.json`` (one key per model), ``predictions.csv``
(every model's probability for every trading row), the books' files under ``books/`` and ``run.toml``. Every
file is written whole or not at all.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import pandas as pd

from deepfin.finance.backtest import strategy
from deepfin.finance.models import families
from deepfin.finance.models.families import ENSEMBLES, FAMILIES
from deepfin.finance.panel.features import RECIPES
from deepfin.finance.pipeline.study import Study, measures, tables
from deepfin.finance.report import narrative
from deepfin.finance.report.shared import STYLE, json_safe, number, percent, warnings, write_book, write_text
from deepfin.viz.finance import plot_equity_curves, plot_importance

# Krauss, Do and Huck (2017), Table 2: mean daily return of k = 10 books, December 1992 to October 2015; and
# Fischer and Krauss (2018): the LSTM's k = 10 book, 0.46% a day before costs (S&P 500, 1992 to 2015)
PAPER_K10 = {"dnn": {"mean": 0.0033}, "gbt": {"mean": 0.0037}, "raf": {"mean": 0.0043},
             "ens1": {"mean": 0.0045, "mean_after_costs": 0.0025}, "lstm": {"mean": 0.0046}}


def settings(study: Study) -> dict:
    """List each model's settings as used, and where they differ from the paper's.

    Returns
    -------
    dict
        Model -> ``used`` and ``differs_from_paper`` (for ``dnn``, ``gbt``, ``raf`` and ``lstm``); an ensemble's
        ``members`` and ``weights``; a named scikit-learn estimator's settings as given.
    """
    config = study.plan.config
    out = {}
    for name in study.models:
        given = config.model.get(name, {})
        if name in ENSEMBLES:
            out[name] = {"members": families.members(name, config.model), "weights": ENSEMBLES[name]}
        elif "estimator" in given:
            out[name] = dict(given)
        else:
            family = FAMILIES[name]
            used = family.settings(given, config.quick)
            out[name] = {"used": used, "differs_from_paper": {
                key: {"used": value, "paper": family.paper.get(key)} for key, value in used.items()
                if family.paper.get(key) != value and name in ("dnn", "gbt", "raf", "lstm")}}
    return out


def metrics(study: Study, universe: pd.Series | None = None) -> dict:
    """Gather the figures of a study, as ``metrics.json`` holds them.

    Parameters
    ----------
    study : Study
        ``study.execute``'s result.
    universe : pd.Series or None, default None
        ``universe_returns(study)``, where the caller has it.

    Returns
    -------
    dict
        JSON-safe: ``recipe``, ``label``, ``quick``, ``data``, ``design``, ``settings``, ``seconds``,
        ``models`` (``tables``), ``benchmark`` and ``paper_k10``.
    """
    plan, config = study.plan, study.plan.config
    universe = universe_returns(study) if universe is None else universe
    first_book = study.books[study.models[0], plan.ks[0]]
    dates = study.predictions.index.get_level_values("date")
    return json_safe({
        "recipe": config.recipe, "label": config.label, "quick": config.quick,
        "data": {"source": plan.panel.source, "names": len(plan.price_report.tickers),
                 "notes": plan.price_report.lines(), "warnings": plan.warnings,
                 "universe": plan.universe.describe() if plan.universe is not None else None,
                 "delisting_return": config.delisting_return, "counts": plan.counts,
                 "features": list(plan.X.columns)},
        "design": {"study_periods": [{"trading": window.label(), "training_rows": period.train_rows,
                                      "trading_rows": len(period.probabilities),
                                      "trading_days": len(window.test),
                                      "short": bool(len(window.test) < config.test_size)}
                                     for window, period in zip(plan.test_windows, study.periods)],
                   "train_size": config.train_size, "test_size": config.test_size,
                   "first_trading_date": str(dates.min().date()), "last_trading_date": str(dates.max().date()),
                   "ks": plan.ks, "cost_bps_per_half_turn": config.cost_bps, "lag": config.lag,
                   "sub_periods_from": config.sub_periods},
        "settings": settings(study), "seconds": study.seconds, "models": tables(study),
        "benchmark": {"equal_weight": measures(universe.reindex(first_book.index),
                                               RECIPES[config.recipe].periods_per_year)},
        "paper_k10": PAPER_K10})


def universe_returns(study: Study) -> pd.Series:
    """Compute the universe equal-weighted (every member priced on the date) on every grid date.

    It is the benchmark line of the pictures, the books' files and the metrics.
    """
    plan = study.plan
    return strategy.benchmarks(plan.outcomes, plan.members, plan.outcomes.grid.labels,
                               RECIPES[plan.config.recipe].period, False)["equal_weight"]


def write(study: Study, out: str | Path) -> dict:
    """Write every file of the study into ``out``.

    Parameters
    ----------
    study : Study
        ``study.execute``'s result.
    out : str or Path
        The study's folder (made if missing).

    Returns
    -------
    dict
        The metrics, as ``metrics.json`` holds them.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    universe = universe_returns(study)
    figures = metrics(study, universe)
    k = study.plan.ks[0]
    for side in ("before_costs", "after_costs"):
        curves = pd.DataFrame({name: study.books[name, k][side] for name in study.models})
        curves["universe, equal-weighted"] = universe.reindex(curves.index)
        plot_equity_curves(curves, out / f"cumulative_{side}.png",
                           title=f"k = {k}, {side.replace('_', ' ')}")
    singles = [name for name in study.models if "importance" in figures["models"][name]]
    if singles:
        plot_importance(pd.DataFrame({name: figures["models"][name]["importance"] for name in singles}),
                        out / "importance.png", title="permutation importance, share of each model's total")
    write_text(out / "metrics.json", json.dumps(figures, indent=2))
    write_text(out / "predictions.csv", study.predictions.reset_index().to_csv(index=False, float_format="%.6g"))
    plan = study.plan
    for name in study.models:  # every book's returns; the positions of each model's first k
        for k in plan.ks:
            write_book(out / "books", study.books[name, k], study.weights[name, k], universe, plan,
                       f"{name}_k{k}_", positions=k == plan.ks[0])
    write_text(out / "run.toml", study.plan.config.to_toml())
    write_text(out / "report.html", page(study, figures))
    return figures


def table(figures: dict, ks) -> pd.DataFrame:
    """Lay out one row per (model, k): the paper's measures, formatted, with accuracy (k) and AUC."""
    rows = []
    for name, model in figures.items():
        for k in ks:
            f = model["k"][str(k)]
            rows.append(_row(name, k, f) | {"accuracy (k)": percent(f.get("k_accuracy")),
                                               "AUC": number(model.get("auc"), 4)})
    return pd.DataFrame(rows)


def _row(name: str, k, f: dict) -> dict:
    return {"model": name, "k": k, "mean": percent(f.get("mean"), 3), "std. error": percent(f.get("std_error"), 3),
            "t": number(f.get("t_stat"), 2), "t (Newey-West)": number(f.get("newey_west_t"), 2),
            "std.": percent(f.get("std"), 2), "Sharpe": number(f.get("sharpe"), 2),
            "positive days": percent(f.get("share_positive")), "max drawdown": percent(f.get("max_drawdown")),
            "mean after costs": percent(f.get("mean_after_costs"), 3),
            "Sharpe after costs": number(f.get("sharpe_after_costs"), 2),
            "break-even bps": number(f.get("break_even_bps"), 1),
            "deflated Sharpe": number(f.get("deflated_sharpe"), 3)}


def sub_period_table(figures: dict, k) -> pd.DataFrame:
    """Lay out one row per (model, sub-period) at book size ``k``: the paper's measures, formatted."""
    rows = []
    for name, model in figures.items():
        for label, by_k in model["sub_periods"].items():
            rows.append({"sub-period": label, **_row(name, k, by_k[str(k)])})
    return pd.DataFrame(rows)


def gini_table(models: dict) -> pd.DataFrame:
    """Lay out each single model's mean training Gini and, when measured, its mean Gini on held-out dates."""
    return pd.DataFrame([{"model": name, "training Gini": number(m.get("training_gini")),
                          "held-out Gini": number(m.get("holdout_gini"))}
                         for name, m in models.items() if "training_gini" in m])


def ensemble_weight_table(models: dict) -> pd.DataFrame:
    """Lay out each ensemble's mean weight on each member over the study periods."""
    return pd.DataFrame([{"ensemble": name, **{member: number(weight) for member, weight in m["mean_weights"].items()}}
                         for name, m in models.items() if "mean_weights" in m])


def page(study: Study, figures: dict) -> str:
    """Write ``report.html``: the study on one page."""
    config, design, models = study.plan.config, figures["design"], figures["models"]
    k = design["ks"][0]
    importance = pd.DataFrame({name: m["importance"] for name, m in models.items() if "importance" in m})
    top = (importance.fillna(0.0).rank(ascending=False, method="min").astype(int).rename_axis("feature")
           .reset_index() if not importance.empty else pd.DataFrame())
    quick = (" Quick settings: fewer trees and epochs than the fast settings, for a first look; figures are not "
             "the study's." if config.quick else "")
    settings_rows = []
    for name, used in figures["settings"].items():
        differs = used.get("differs_from_paper", {})
        settings_rows.append({"model": name, "settings": html.escape(json.dumps(used.get("used", used))),
                              "differs from the paper": html.escape(", ".join(
                                  f"{key} {v['used']} (paper {v['paper']})" for key, v in differs.items())),
                              "seconds": number(figures["seconds"].get(name), 0)})
    paper = pd.DataFrame([{"model": name, "paper k=10 mean": percent(v["mean"], 2),
                           "paper after costs": percent(v.get("mean_after_costs"), 2),
                           "this study k=10 mean": percent(models[name]["k"].get("10", {}).get("mean"), 3)
                           if name in models else "not run"} for name, v in PAPER_K10.items()])
    return _TEMPLATE.format(
        style=STYLE, title=f"deepfin study: {', '.join(study.models)}", quick=quick,
        warnings=warnings(figures["data"]["warnings"]),
        universe_mean=percent(figures["benchmark"]["equal_weight"].get("mean"), 3),
        universe_sharpe=number(figures["benchmark"]["equal_weight"].get("sharpe"), 2),
        universe_drawdown=percent(figures["benchmark"]["equal_weight"].get("max_drawdown")),
        source=html.escape(figures["data"]["source"]), names=figures["data"]["names"],
        periods=len(design["study_periods"]), train=design["train_size"], test=design["test_size"],
        period=RECIPES[config.recipe].period, first=design["first_trading_date"], last=design["last_trading_date"],
        label=_LABEL_WORDS[config.label], cost=f"{config.cost_bps:g}", lag=config.lag, k=k,
        data="".join(f"<li>{html.escape(line)}</li>" for line in figures["data"]["notes"]
                     + narrative.counts(figures["data"]["counts"])),
        main=table(models, design["ks"]).to_html(index=False, border=0),
        sub=sub_period_table(models, k).to_html(index=False, border=0),
        paper=paper.to_html(index=False, border=0),
        importance=top.to_html(index=False, border=0),
        gini=gini_table(models).to_html(index=False, border=0),
        ensemble_weights=ensemble_weight_table(models).to_html(index=False, border=0),
        settings=pd.DataFrame(settings_rows).to_html(index=False, border=0, escape=False),
        windows=pd.DataFrame([{**row, "short": f"short: {row['trading_days']} of {config.test_size} days"
                               if row["short"] else ""} for row in design["study_periods"]]).to_html(index=False,
                                                                                                   border=0),
        config=html.escape(config.to_toml()))


_LABEL_WORDS = {"above_median": "the next return above the date's cross-sectional median: above_median",
                "up": "the next return positive: up"}

_TEMPLATE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
{style}</style></head><body>
<h1>{title}</h1>
{warnings}
<p>{names} names ({source}); {periods} study periods of {train} training and {test} trading {period}s, trading
from {first} to {last}. Every model is refitted on each study period's training rows whose label ({label}) is
known before its first trading date, and predicts every trading row.
Each trading day, long the k highest and short the k lowest probabilities, equal-weighted, held one {period};
{cost} basis points per half-turn on the book's actual turnover (the paper charges a full rotation, four
half-turns, every day); signals trade {lag} {period}(s) after they are made.{quick}</p>
<h2>Data</h2><ul>{data}</ul>
<h2>Returns by model and k</h2>
<p>Mean, standard error, t-statistic and standard deviation of the daily return before costs, the annualised
Sharpe ratio, the share of positive days, the maximum drawdown (compounded), the mean and Sharpe ratio after
costs, the cost per half-turn at which the mean after costs is 0, the t-statistic with Newey-West's standard
error and the deflated Sharpe ratio over every model and k of the study (P(true Sharpe > 0) once that many books
were tried); accuracy (k) is the share of the k long and k short positions on the right side of the median, AUC that
of the model's probabilities on every labelled trading row.</p>
{main}
<h2>The paper's figures</h2>
<p>Krauss, Do and Huck (2017) on the S&amp;P 500, December 1992 to October 2015, k = 10 before costs (and
ENS1 after costs): what differs here is the data (its names, years and costs) and the settings below.</p>
{paper}
<h2>By sub-period (k = {k})</h2>
{sub}
<h2>Ensembles: how much each member counts</h2>
<p>Each single model's Gini coefficient (2 AUC - 1), averaged over the study periods: on its training rows (out
of bag for a forest), and on the last training dates by a model that did not train on them, which ENS2 and ENS3
weigh by (shown when one of them is run). A model far better on its training rows than on held-out dates has
memorised them. Then each ensemble's mean weight per member.</p>
{gini}
{ensemble_weights}
<h2>Cumulative returns (k = {k})</h2>
<p>Beside the books, the universe equal-weighted (every member priced on the date, long only): mean {universe_mean}
a {period}, annualised Sharpe ratio {universe_sharpe}, maximum drawdown {universe_drawdown}.</p>
<figure><img src="cumulative_before_costs.png" alt="cumulative returns before costs"></figure>
<figure><img src="cumulative_after_costs.png" alt="cumulative returns after costs"></figure>
<h2>Which lagged returns each model relies on</h2>
<p>Permutation importance (ROC AUC lost when a feature's values are shuffled, on up to 10,000 labelled trading
rows per study period, out of sample, averaged over periods, scaled to sum to 1); the table ranks the features
per model (1 = most important).</p>
<figure><img src="importance.png" alt="feature importance"></figure>
{importance}
<h2>Models, settings and seconds</h2>
{settings}
<h2>Study periods</h2>
{windows}
<h2>Settings</h2>
<pre>{config}</pre>
</body></html>
"""
