"""A run's files: the report, its figures, predictions, settings, the network and its preprocessing.

``report.html`` (tables and pictures), ``metrics.json``, ``predictions.csv``, ``returns.csv`` and
``positions.csv``, ``run.toml`` (the settings used, readable by ``deepfin run --config``), ``model.keras`` (the
network of the last window) and ``preprocessing.json`` (its clipping quantiles and standardisation, so
``model.keras`` can be used alone). Every file is written to a temporary name and renamed when complete.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import numpy as np
import pandas as pd

from deepfin.finance.backtest import book as bt
from deepfin.finance.backtest import tear_sheet
from deepfin.finance.panel.features import RECIPES
from deepfin.finance.pipeline.workflow import Result
from deepfin.finance.report import narrative
from deepfin.finance.report.shared import (
    STYLE,
    items,
    json_safe,
    number,
    paragraphs,
    percent,
    warnings,
    write_book,
    write_text,
)
from deepfin.finance.validation.measures import (
    ic_summary,
    labelled,
    quantile_returns,
    quantile_turnover,
    rank_autocorrelation,
)
from deepfin.viz import plot_roc
from deepfin.viz.finance import plot_auc_by_window, plot_decile_returns, plot_equity_curves, plot_ic_by_window

SERIES_NAMES = {"before_costs": "long-short, before costs", "after_costs": "long-short, after costs",
                "equal_weight": "universe, equal-weighted", "sp500_index": "S&P 500 index"}
PICTURES = {"roc.png": "ROC curve of the out-of-sample predictions with outcomes",
            "auc_by_window.png": "ROC AUC of each walk-forward test window",
            "ic_by_window.png": "Rank information coefficient by test window",
            "equity.png": "Growth of $1 and drawdowns",
            "deciles.png": "Next-period return by decile of predicted probability"}


def metrics(result: Result) -> dict:
    """Gather the figures of a run, as ``metrics.json`` holds them.

    Parameters
    ----------
    result : Result
        ``workflow.execute``'s result.

    Returns
    -------
    dict
        JSON-safe: ``recipe``, ``label``, ``data``, ``tuning``, ``out_of_sample``, ``cross_section``,
        ``shuffled_cv`` and ``backtest``, with the sentences that explain them (``explanation``).
    """
    plan, config = result.plan, result.plan.config
    recipe = RECIPES[config.recipe]
    dates = plan.X.index.get_level_values("date")
    auc, low, high = result.auc
    predictions = result.predictions
    n_labelled = len(labelled(predictions))
    series = {"before_costs": result.strategy["before_costs"], "after_costs": result.strategy["after_costs"],
              **{name: result.benchmarks[name] for name in result.benchmarks}}
    backtest = {name: bt.performance(values, recipe.periods_per_year,
                                     result.strategy["turnover"] if name.endswith("costs") else None)
                for name, values in series.items()}
    versus = {f"{side}_vs_{name}": bt.against(result.strategy[side], result.benchmarks[name], recipe.periods_per_year)
              for side in ("before_costs", "after_costs") for name in result.benchmarks}
    ic = ic_summary(result.ic)
    return json_safe({
        "recipe": config.recipe, "label": config.label,
        "data": {"source": plan.panel.source, "names": plan.price_report.tickers, "notes": plan.price_report.lines(),
                 "warnings": plan.warnings,
                 "universe": plan.universe.describe() if plan.universe is not None else None,
                 "delisting_return": config.delisting_return, "counts": plan.counts,
                 "features": list(plan.X.columns), "first_date": str(dates[0].date()),
                 "last_date": str(dates[-1].date())},
        "tuning": {"mode": config.tuning, "by_window": result.chosen_by_window,
                   "folds": [w.label() for w in plan.tuning_windows], "best_params": result.best_params,
                   "best_auc": float(result.search_table["mean_auc"].iloc[0]), "selection": result.selection,
                   "explanation": narrative.selection(result.selection),
                   "candidates": result.search_table.to_dict("records")},
        "out_of_sample": {"auc": auc, "auc_interval_95": [low, high], "bootstrap": "dates resampled with "
                          f"replacement, {config.bootstrap} times", "predictions": len(predictions),
                          "with_outcome": n_labelled, "left_out_without_outcome": len(predictions) - n_labelled,
                          "dates": int(predictions.index.get_level_values("date").nunique()),
                          "first_date": str(predictions.index.get_level_values("date").min().date()),
                          "last_date": str(predictions.index.get_level_values("date").max().date()),
                          "windows": result.windows.to_dict("records")},
        "cross_section": {"per_date_auc": float(result.date_auc.mean()), "per_date_auc_dates": len(result.date_auc),
                          "rank_ic": ic, "horizon_lag": config.lag, "ic_decay": result.ic_decay,
                          "quantile_returns": quantile_returns(predictions).to_dict("records"),
                          "top_decile_turnover": quantile_turnover(predictions, 10),
                          "bottom_decile_turnover": quantile_turnover(predictions, 1),
                          "rank_autocorrelation": rank_autocorrelation(predictions),
                          "explanation": narrative.cross_section(auc, float(result.date_auc.mean()), ic, config.label)
                          + narrative.horizon(config.lag, recipe.period, result.ic_decay)},
        "shuffled_cv": {"folds": config.shuffled_folds, "auc_with_dummies": result.leakage["with_dummies"],
                        "auc_without_dummies": result.leakage["without_dummies"],
                        "explanation": narrative.leakage(result.leakage)},
        "backtest": {"k": plan.k, "lag": config.lag, "cost_bps_per_half_turn": config.cost_bps,
                     "periods_per_year": recipe.periods_per_year, "period": recipe.period, **backtest,
                     "versus": versus, "positions": result.positions, **book_measures(result.strategy, recipe),
                     "explanation": narrative.delistings(result.positions, config.delisting_return)},
    })


def book_measures(book: pd.DataFrame, recipe) -> dict:
    """Measure the long-short book as a tear sheet shows it, beyond its returns table.

    Returns
    -------
    dict
        ``legs`` (each leg's measures), ``drawdowns`` (the five deepest after costs), ``yearly_returns`` and
        ``monthly_returns`` after costs, ``break_even_bps`` (per half-turn) and ``cost_sweep``.
    """
    per_year = recipe.periods_per_year
    net = book["after_costs"]
    deepest = tear_sheet.drawdowns(net, top=5)
    for column in ("start", "trough", "recovery"):
        deepest[column] = [None if pd.isna(d) else str(d.date()) for d in deepest[column]]
    return {"legs": {"long": bt.performance(book["long"], per_year), "short": bt.performance(-book["short"], per_year)},
            "drawdowns": deepest.to_dict("records"),
            "yearly_returns": {str(d.year): v for d, v in tear_sheet.period_returns(net, "year").items()},
            "monthly_returns": {d.strftime("%Y-%m"): v for d, v in tear_sheet.period_returns(net, "month").items()},
            "break_even_bps": tear_sheet.break_even_bps(book["before_costs"], book["turnover"]),
            "cost_sweep": tear_sheet.cost_sweep(book["before_costs"], book["turnover"], per_year)}


def write(result: Result, out: str | Path) -> dict:
    """Write every file of the run into ``out``.

    Parameters
    ----------
    result : Result
        ``workflow.execute``'s result.
    out : str or Path
        The run's folder (made if missing).

    Returns
    -------
    dict
        The metrics, as ``metrics.json`` holds them.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    config, recipe = result.plan.config, RECIPES[result.plan.config.recipe]
    figures = metrics(result)
    predictions = result.predictions
    known = labelled(predictions)
    auc, low, high = result.auc
    plot_roc(known["label"], known["probability"], out / "roc.png", name="walk-forward")
    plot_auc_by_window(result.windows, auc, (low, high), out / "auc_by_window.png")
    plot_ic_by_window(result.ic, predictions["window"].groupby(level="date").first(),
                      [label.split(" to ")[0][:7] for label in result.windows["test"]], out / "ic_by_window.png")
    curves = pd.concat([result.strategy[["before_costs", "after_costs"]], result.benchmarks], axis=1)
    plot_equity_curves(curves.rename(columns=SERIES_NAMES), out / "equity.png")
    plot_decile_returns(result.deciles, recipe.period, out / "deciles.png")
    write_text(out / "metrics.json", json.dumps(figures, indent=2))
    write_text(out / "predictions.csv", predictions.reset_index().to_csv(index=False, float_format="%.6g"))
    write_book(out, result.strategy, result.weights, result.benchmarks["equal_weight"], result.plan)
    write_text(out / "run.toml", config.to_toml())
    write_text(out / "preprocessing.json", json.dumps(preprocessing(result.model), indent=2))
    result.model.net_.model_.save(out / "model.keras")
    write_text(out / "report.html", page(result, figures))
    return figures




def preprocessing(model) -> dict:
    """Describe the fitted clipping and standardisation, in the order the network's inputs come.

    Returns
    -------
    dict
        As ``preprocessing.json`` holds it: ``inputs``, the ``calendar`` dummies' years and months (where the
        network has them), ``clip`` (columns, lower and upper bounds), ``standardize`` (mean and scale) and
        ``use`` (how to apply them).
    """
    clip, scale = model.preprocess_.named_steps["clip"], model.preprocess_.named_steps["scale"]
    inputs = list(clip.get_feature_names_out())
    calendar = model.preprocess_.named_steps.get("calendar")
    dummies = {} if calendar is None else {"calendar": {
        "years": [int(y) for y in calendar.years_], "months": [int(m) for m in calendar.months_],
        "use": "year_Y and month_M inputs are 1 for the row date's year and month, 0 otherwise (a year not listed: "
               "0 in every year column)"}}
    return {"inputs": inputs, **dummies,
            "clip": {"columns": [inputs[i] for i in clip.clipped_], "lower": clip.lower_.tolist(),
                     "upper": clip.upper_.tolist()},
            "standardize": {"mean": scale.mean_.tolist(), "scale": scale.scale_.tolist()},
            "use": "x -> clip the 'clip' columns to [lower, upper] -> (x - mean) / scale, columns in 'inputs' order "
                   "-> model.predict"}


def page(result: Result, figures: dict) -> str:
    """Write ``report.html``: one page, tables and the pictures beside them."""
    oos, shuffled, backtest = figures["out_of_sample"], figures["shuffled_cv"], figures["backtest"]
    data, config, cross = figures["data"], result.plan.config, figures["cross_section"]
    annualised = np.sqrt(RECIPES[config.recipe].periods_per_year)  # the folds' Sharpe ratios are per period
    candidates = result.search_table.assign(**{
        column: result.search_table[column] * annualised for column in ("sharpe", "sharpe_after_costs")
        if column in result.search_table})
    tables = {"candidates": _format(candidates, ("mean_auc", "std_auc", "sharpe", "sharpe_after_costs")),
              "windows": _format(result.windows, ("auc", "date_auc", "ic")),
              "leakage": _leakage_table(shuffled, oos), "backtest": _backtest_table(backtest),
              "versus": _versus_table(backtest["versus"]), "ic": _ic_table(cross["rank_ic"]),
              "ic_decay": _ic_decay_table(cross["ic_decay"]),
              "quantiles": pd.DataFrame([{"decile": row["quantile"], "mean return, demeaned": percent(row["mean"], 3),
                                          "std. error": percent(row["std_error"], 3)}
                                         for row in cross["quantile_returns"]]),
              "selection": _selection_table(figures["tuning"]["selection"]),
              "legs": _legs_table(backtest["legs"]), "drawdowns": _drawdown_table(backtest["drawdowns"]),
              "yearly": pd.DataFrame([{"year": year, "return": percent(value)}
                                      for year, value in backtest["yearly_returns"].items()]),
              "sweep": pd.DataFrame([{"bps per half-turn": number(row["bps"], 1), "mean": percent(row["mean"], 3),
                                      "Sharpe": number(row["sharpe"], 2)} for row in backtest["cost_sweep"]])}
    after, selection = backtest["after_costs"], figures["tuning"]["selection"]
    deflated = selection.get("deflated_sharpe_after_costs")
    headline = [
        ("Out of sample", f"{oos['first_date']} to {oos['last_date']} ({oos['dates']:,} {backtest['period']}s)"
                          + (" &mdash; quick settings, not the run's" if config.quick else "")),
        ("Sharpe ratio after costs", f"{number(after['sharpe'], 2)} (95% interval "
                                     f"{number(after['sharpe_interval_95'][0], 2)} to "
                                     f"{number(after['sharpe_interval_95'][1], 2)}), annualised"),
        ("Compounded annual return after costs", percent(after["cagr"])),
        ("Maximum drawdown after costs", percent(after["max_drawdown"])),
        ("Break-even cost", f"{number(backtest['break_even_bps'], 1)} bps per half-turn (charged: "
                            f"{config.cost_bps:g})"),
        ("Skill where the book trades", f"rank IC {number(cross['rank_ic'].get('mean'), 4)} (t = "
                                        f"{number(cross['rank_ic'].get('t_stat'), 2)}), {backtest['lag']} period(s) "
                                        "after the signal"),
        ("Survives deflation", f"{'yes' if deflated is not None and deflated >= 0.95 else 'no'}: deflated Sharpe "
                               f"{number(deflated, 3)} after costs over the candidates tried (0.95 needed)")]
    summary = [
        ("Data", f"{len(data['names'])} names, {oos['predictions']:,} out-of-sample rows ({config.recipe}, label "
                 f"{config.label}), {data['first_date']} to {data['last_date']}; "
                 f"source: {html.escape(data['source'])}"),
        ("Universe", html.escape(data["universe"] or "every name priced on the date (no membership file)")),
        ("Out-of-sample ROC AUC", f"{number(oos['auc'])} (95% interval {number(oos['auc_interval_95'][0])} to "
                                  f"{number(oos['auc_interval_95'][1])}), {oos['with_outcome']:,} predictions with "
                                  f"outcomes; {oos['left_out_without_outcome']:,} without, left out"),
        ("Cross-sectional skill", f"per-date AUC {number(cross['per_date_auc'])}; rank IC "
                                  f"{number(cross['rank_ic'].get('mean'), 4)} "
                                  f"(t = {number(cross['rank_ic'].get('t_stat'), 2)})"),
        ("Jansen (2020)'s shuffled AUC", f"{number(shuffled['auc_with_dummies'])} (with dummies)"),
        ("Long-short Sharpe", f"{number(backtest['before_costs']['sharpe'], 2)} before costs, "
                              f"{number(backtest['after_costs']['sharpe'], 2)} after {config.cost_bps:g} bps per "
                              f"half-turn (k = {backtest['k']}, lag {backtest['lag']})"),
        ("Chosen network", html.escape(_chosen(result)))]
    return _TEMPLATE.format(
        style=STYLE, title=f"deepfin run: {config.recipe} recipe",
        warnings=warnings(data["warnings"]),
        headline="".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in headline),
        summary="".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in summary),
        data=items(data["notes"] + narrative.counts(data["counts"])),
        tuning_folds=html.escape(", ".join(figures["tuning"]["folds"])),
        selection_text=paragraphs(figures["tuning"]["explanation"]),
        cross_text=paragraphs(cross["explanation"]),
        explanation=paragraphs(shuffled["explanation"]),
        positions_text=paragraphs(backtest["explanation"]),
        k=backtest["k"], cost=f"{config.cost_bps:g}", lag=backtest["lag"],
        top_turnover=percent(cross["top_decile_turnover"]), bottom_turnover=percent(cross["bottom_decile_turnover"]),
        autocorrelation=number(cross["rank_autocorrelation"], 3),
        pictures={name: f'<figure><img src="{name}" alt="{text}"><figcaption>{text}</figcaption></figure>'
                  for name, text in PICTURES.items()},
        config=html.escape(config.to_toml()), **{name: t.to_html(index=False, border=0) for name, t in tables.items()})


def _format(table: pd.DataFrame, columns) -> pd.DataFrame:
    return table.assign(**{c: table[c].map(number) for c in columns if c in table})


def _leakage_table(shuffled: dict, oos: dict) -> pd.DataFrame:
    return pd.DataFrame([
        {"evaluation": "shuffled stratified K-fold, with year/month dummies (Jansen (2020)'s)",
         "ROC AUC": number(shuffled["auc_with_dummies"])},
        {"evaluation": "shuffled stratified K-fold, no dummies", "ROC AUC": number(shuffled["auc_without_dummies"])},
        {"evaluation": "walk-forward, out of sample (this report)",
         "ROC AUC": f"{number(oos['auc'])} [{number(oos['auc_interval_95'][0])}, "
                    f"{number(oos['auc_interval_95'][1])}]"}])


def _backtest_table(backtest: dict) -> pd.DataFrame:
    rows = []
    for name in SERIES_NAMES:
        if name in backtest:
            b = backtest[name]
            rows.append({"": SERIES_NAMES[name], "annual return": percent(b["annual_return"]),
                         f"mean per {backtest['period']}": percent(b["mean_per_period"], 3),
                         "CAGR": percent(b["cagr"]), "annual volatility": percent(b["annual_volatility"]),
                         "Sharpe": number(b["sharpe"], 2),
                         "95% interval": f"{number(b['sharpe_interval_95'][0], 2)} to "
                                         f"{number(b['sharpe_interval_95'][1], 2)}",
                         "Sortino": number(b["sortino"], 2), "Calmar": number(b["calmar"], 2),
                         "t (Newey-West)": number(b["newey_west_t"], 2),
                         "P(Sharpe > 0)": number(b["probabilistic_sharpe"], 3),
                         "max drawdown": percent(b["max_drawdown"]), "hit rate": percent(b["hit_rate"]),
                         "turnover": number(b.get("turnover"), 2)})
    return pd.DataFrame(rows)


def _legs_table(legs: dict) -> pd.DataFrame:
    return pd.DataFrame([{"leg": name, "mean": percent(b["mean_per_period"], 3), "CAGR": percent(b["cagr"]),
                          "Sharpe": number(b["sharpe"], 2), "max drawdown": percent(b["max_drawdown"])}
                         for name, b in legs.items()])


def _drawdown_table(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame([{"depth": percent(r["depth"]), "peak": r["start"] or "", "trough": r["trough"],
                          "recovered": r["recovery"] or "not yet", "periods": r["periods"]} for r in rows])


def _versus_table(versus: dict) -> pd.DataFrame:
    rows = []
    for key, v in versus.items():
        side, benchmark = key.split("_vs_")
        rows.append({"long-short": SERIES_NAMES[side], "against": SERIES_NAMES[benchmark],
                     "beta": number(v.get("beta"), 3), "annual alpha": percent(v.get("annual_alpha"), 2),
                     "alpha t-stat": number(v.get("alpha_t_stat"), 2),
                     "information ratio": number(v.get("information_ratio"), 2), "periods": v["periods"]})
    return pd.DataFrame(rows)


def _ic_table(ic: dict) -> pd.DataFrame:
    names = {"mean": "IC mean", "std": "IC std.", "information_ratio": "risk-adjusted IC (IR)", "t_stat": "t-stat(IC)",
             "p_value": "p-value(IC)", "skew": "IC skew", "kurtosis": "IC kurtosis", "dates": "dates"}
    return pd.DataFrame([{"": label, "value": number(ic.get(key), 4) if key != "dates" else str(ic["dates"])}
                         for key, label in names.items() if key in ic])


def _ic_decay_table(decay: list[dict]) -> pd.DataFrame:
    return pd.DataFrame([{"return of the period starting": f"{row['lag']} period(s) after the signal",
                          "IC mean": number(row.get("mean"), 4), "t-stat": number(row.get("t_stat"), 2)}
                         for row in decay])


def _chosen(result) -> str:
    """The chosen network, or with tuning = "per_window" each test window's."""
    if result.chosen_by_window is None:
        return ", ".join(f"{k}={v}" for k, v in result.best_params.items())
    return "re-tuned before each test window: " + "; ".join(
        f"{w['test_start']}: " + ", ".join(f"{k}={v}" for k, v in w["params"].items()) for w in result.chosen_by_window)


def _selection_table(selection: dict) -> pd.DataFrame:
    return pd.DataFrame([{"candidates": selection["candidates"], "best AUC": number(selection["best_auc"], 4),
                          "mean AUC": number(selection["mean_auc"], 4), "spread": number(selection["spread"], 4),
                          "expected best by chance": number(selection["expected_best_by_chance"], 4),
                          "deflated Sharpe, before costs": number(selection.get("deflated_sharpe"), 3),
                          "after costs": number(selection.get("deflated_sharpe_after_costs"), 3)}])


_TEMPLATE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
{style}</style></head><body>
<h1>{title}</h1>
{warnings}
<table class="headline">{headline}</table>
<h2>Equity</h2>
{pictures[equity.png]}
<h2>Summary</h2>
<table>{summary}</table>
<h2>Tuning</h2>
<p>Grid search scored by ROC AUC on walk-forward folds whose test dates come before every out-of-sample date
(folds tested {tuning_folds}); each fold also scored by the Sharpe ratio of its long-short book (annualised here;
per period in metrics.json, as the deflated Sharpe ratio compares them).</p>
{selection}
{selection_text}
{candidates}
<h2>Out of sample</h2>
<p>The chosen network is refitted on each window's training rows whose labels are known before the window's
test dates (early stopping watches the last training dates, a purge apart) and predicts every test row; the
measures use the rows whose outcome is known.</p>
{pictures[roc.png]}{pictures[auc_by_window.png]}
{windows}
<h2>Cross-sectional skill</h2>
<p>Measured against the period the book holds: the return of the period that starts {lag} period(s) after the
signal.</p>
{ic}
{cross_text}
<p>IC decay: the same predictions against the return of each of the next periods (alphalens's IC decay).</p>
{ic_decay}
<p>Return by decile of the prediction, each date's demeaned (what a dollar-neutral book earns), with its standard
error across dates. The top decile's names change by {top_turnover} from one date to the next, the bottom's by
{bottom_turnover}; the predictions' rank autocorrelation is {autocorrelation}.</p>
{quantiles}
{pictures[ic_by_window.png]}
<h2>Leakage report</h2>
{leakage}
{explanation}
<h2>Backtest</h2>
<p>Each trade date, {lag} period(s) after the signal: long the {k} highest and short the {k} lowest predicted
probabilities (ties broken at random), equal-weighted among the names tradable that date, $1 a side, held one
period; {cost} basis points per half-turn on the turnover. The universe line holds every member priced on the
date, from the price panel.</p>
{backtest}
{versus}
{positions_text}
<p>The long and short legs (each leg's contribution: the short leg earns the fall of the names it is short):</p>
{legs}
<p>The deepest drawdowns after costs:</p>
{drawdowns}
<p>Returns after costs by year, and the book's mean return and Sharpe ratio at other costs per half-turn:</p>
{yearly}
{sweep}
{pictures[deciles.png]}
<h2>Data</h2><ul>{data}</ul>
<h2>Settings</h2>
<pre>{config}</pre>
</body></html>
"""
