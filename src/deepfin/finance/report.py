"""A run's files: ``report.html`` (tables and pictures), ``metrics.json``, ``predictions.csv``, ``run.toml``
(the settings used, readable by ``deepfin run --config``), ``model.keras`` (the network of the last window)
and ``preprocessing.json`` (its clipping quantiles and standardisation, so ``model.keras`` can be used alone).
Every file is written to a temporary name and renamed when complete."""

from __future__ import annotations

import html
import json
import math
from pathlib import Path

import pandas as pd

from deepfin._files import atomic_write
from deepfin.finance import backtest as bt
from deepfin.finance.features import RECIPES
from deepfin.finance.workflow import Result
from deepfin.viz import plot_roc
from deepfin.viz.finance import plot_auc_by_window, plot_decile_returns, plot_equity_curves

SERIES_NAMES = {"before_costs": "long-short, before costs", "after_costs": "long-short, after costs",
                "equal_weight": "equal-weight buy-and-hold", "sp500_index": "S&P 500 index"}
PICTURES = {"roc.png": "ROC curve of all out-of-sample predictions",
            "auc_by_window.png": "ROC AUC of each walk-forward test window",
            "equity.png": "Growth of $1 and drawdowns",
            "deciles.png": "Next-period return by decile of predicted probability"}


def metrics(result: Result) -> dict:
    """The figures of a run, as ``metrics.json`` holds them."""
    plan, config = result.plan, result.plan.config
    recipe = RECIPES[config.recipe]
    dates = plan.X.index.get_level_values("date")
    auc, low, high = result.auc
    series = {"before_costs": result.strategy["before_costs"], "after_costs": result.strategy["after_costs"],
              **{name: result.benchmarks[name] for name in result.benchmarks}}
    backtest = {name: bt.performance(values, recipe.periods_per_year,
                                     result.strategy["turnover"] if name.endswith("costs") else None)
                for name, values in series.items()}
    return _finite({
        "recipe": config.recipe,
        "data": {"source": config.data or "embedded S&P 500 sample (skfolio)", "tickers": plan.price_report.tickers,
                 "excluded": plan.price_report.excluded, "gaps": plan.price_report.gaps, "rows": len(plan.X),
                 "features": list(plan.X.columns), "first_date": str(dates[0].date()),
                 "last_date": str(dates[-1].date())},
        "tuning": {"folds": [w.label() for w in plan.tuning_windows], "best_params": result.best_params,
                   "best_auc": float(result.search_table["mean_auc"].iloc[0]),
                   "candidates": result.search_table.to_dict("records")},
        "out_of_sample": {"auc": auc, "auc_interval_95": [low, high], "bootstrap": "dates resampled with "
                          f"replacement, {config.bootstrap} times", "predictions": len(result.predictions),
                          "dates": int(result.predictions.index.get_level_values("date").nunique()),
                          "windows": result.windows_auc.to_dict("records")},
        "shuffled_cv": {"folds": config.shuffled_folds, "auc_with_dummies": result.leakage["with_dummies"],
                        "auc_without_dummies": result.leakage["without_dummies"],
                        "explanation": result.leakage["explanation"]},
        "backtest": {"k": plan.k, "cost_bps_per_half_turn": config.cost_bps, "periods_per_year":
                     recipe.periods_per_year, "period": recipe.period, **backtest},
    })


def write(result: Result, out: str | Path) -> dict:
    """Write every file of the run into ``out``; returns the metrics."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    config, recipe = result.plan.config, RECIPES[result.plan.config.recipe]
    figures = metrics(result)
    predictions = result.predictions
    auc, low, high = result.auc
    plot_roc(predictions["label"], predictions["probability"], out / "roc.png", name="walk-forward")
    plot_auc_by_window(result.windows_auc, auc, (low, high), out / "auc_by_window.png")
    curves = pd.concat([result.strategy[["before_costs", "after_costs"]], result.benchmarks], axis=1)
    plot_equity_curves(curves.rename(columns=SERIES_NAMES), out / "equity.png")
    plot_decile_returns(result.deciles, recipe.period, out / "deciles.png")
    _write_text(out / "metrics.json", json.dumps(figures, indent=2))
    _write_text(out / "predictions.csv", predictions.reset_index().to_csv(index=False, float_format="%.6g"))
    _write_text(out / "run.toml", config.to_toml())
    _write_text(out / "preprocessing.json", json.dumps(preprocessing(result.model), indent=2))
    result.model.named_steps["net"].model_.save(out / "model.keras")
    _write_text(out / "report.html", page(result, figures))
    return figures


def preprocessing(pipeline) -> dict:
    """The fitted clipping and standardisation, in the order the network's inputs come."""
    clip = pipeline.named_steps["clip"]
    clipper = clip.named_transformers_["returns"]
    scale = pipeline.named_steps["scale"]
    return {"inputs": list(clip.get_feature_names_out()),
            "clip": {"columns": list(clip.transformers_[0][2]), "lower": clipper.lower_.tolist(),
                     "upper": clipper.upper_.tolist()},
            "standardize": {"mean": scale.mean_.tolist(), "scale": scale.scale_.tolist()},
            "use": "x -> clip the 'clip' columns to [lower, upper] -> (x - mean) / scale, columns in 'inputs' order "
                   "-> model.predict"}


def page(result: Result, figures: dict) -> str:
    """``report.html``: one page, tables and the pictures beside it."""
    oos, shuffled, backtest = figures["out_of_sample"], figures["shuffled_cv"], figures["backtest"]
    data, config = figures["data"], result.plan.config
    rows = []
    for name in ("before_costs", "after_costs", "equal_weight", "sp500_index"):
        if name in backtest:
            b = backtest[name]
            rows.append({"": SERIES_NAMES[name], "annual return": _pct(b["annual_return"]),
                         f"mean per {backtest['period']}": _pct(b["mean_per_period"], 3),
                         "annual volatility": _pct(b["annual_volatility"]), "Sharpe": _num(b["sharpe"], 2),
                         "P(Sharpe > 0)": _num(b["probabilistic_sharpe"], 3),
                         "max drawdown": _pct(b["max_drawdown"]), "hit rate": _pct(b["hit_rate"]),
                         "turnover": _num(b.get("turnover"), 2)})
    leakage = pd.DataFrame([
        {"evaluation": "shuffled stratified K-fold, with year/month dummies (the seed's)",
         "ROC AUC": _num(shuffled["auc_with_dummies"])},
        {"evaluation": "shuffled stratified K-fold, no dummies", "ROC AUC": _num(shuffled["auc_without_dummies"])},
        {"evaluation": "walk-forward, out of sample (this report)",
         "ROC AUC": f"{_num(oos['auc'])} [{_num(oos['auc_interval_95'][0])}, {_num(oos['auc_interval_95'][1])}]"}])
    windows = result.windows_auc.assign(auc=result.windows_auc["auc"].map(_num))
    candidates = result.search_table.assign(mean_auc=result.search_table["mean_auc"].map(_num),
                                            std_auc=result.search_table["std_auc"].map(_num))
    summary = [
        ("Data", f"{len(data['tickers'])} tickers, {data['rows']:,} rows ({config.recipe}), "
                 f"{data['first_date']} to {data['last_date']}; source: {data['source']}"),
        ("Out-of-sample ROC AUC", f"{_num(oos['auc'])} (95% interval {_num(oos['auc_interval_95'][0])} to "
                                  f"{_num(oos['auc_interval_95'][1])}), {oos['predictions']:,} predictions on "
                                  f"{oos['dates']} dates"),
        ("Seed-style shuffled AUC", f"{_num(shuffled['auc_with_dummies'])} (with dummies)"),
        ("Long-short Sharpe", f"{_num(backtest['before_costs']['sharpe'], 2)} before costs, "
                              f"{_num(backtest['after_costs']['sharpe'], 2)} after {config.cost_bps:g} bps per "
                              f"half-turn (k = {backtest['k']})"),
        ("Chosen network", html.escape(", ".join(f"{k}={v}" for k, v in result.best_params.items())))]
    excluded = "".join(f"<li>{html.escape(line)}</li>" for line in result.plan.price_report.lines())
    return _TEMPLATE.format(
        title=f"deepfin run: {config.recipe} recipe",
        summary="".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in summary),
        data=excluded,
        tuning_folds=html.escape(", ".join(figures["tuning"]["folds"])),
        candidates=candidates.to_html(index=False, border=0),
        windows=windows.to_html(index=False, border=0),
        leakage=leakage.to_html(index=False, border=0),
        explanation="".join(f"<p>{html.escape(line)}</p>" for line in shuffled["explanation"]),
        backtest=pd.DataFrame(rows).to_html(index=False, border=0),
        k=backtest["k"], cost=f"{config.cost_bps:g}",
        pictures={name: f'<figure><img src="{name}" alt="{text}"><figcaption>{text}</figcaption></figure>'
                  for name, text in PICTURES.items()},
        config=html.escape(config.to_toml()))


def _write_text(path: Path, text: str) -> None:
    with atomic_write(path) as stream:
        stream.write(text.encode("utf-8"))


def _finite(value):
    """JSON-safe: NaN and infinities become null, NumPy scalars plain numbers."""
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _num(value, digits: int = 3) -> str:
    return "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{digits}f}"


def _pct(value, digits: int = 1) -> str:
    return "n/a" if value is None else f"{100 * value:.{digits}f}%"


_TEMPLATE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; }}
table {{ border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.9em; }}
th, td {{ padding: 0.25em 0.7em; border-bottom: 1px solid #ddd; text-align: left; }}
figure {{ display: inline-block; margin: 0.5em; }} img {{ max-width: 100%; }}
figcaption {{ font-size: 0.85em; color: #555; }} pre {{ background: #f6f6f6; padding: 1em; }}
</style></head><body>
<h1>{title}</h1>
<table>{summary}</table>
<h2>Data</h2><ul>{data}</ul>
<h2>Tuning</h2>
<p>Grid search scored by ROC AUC on walk-forward folds whose test dates come before every out-of-sample date
(folds tested {tuning_folds}).</p>
{candidates}
<h2>Out of sample</h2>
<p>The chosen network is refitted on each window's training dates (its early stopping watches the last part of
those dates) and predicts the window's test dates.</p>
{pictures[roc.png]}{pictures[auc_by_window.png]}
{windows}
<h2>Leakage report</h2>
{leakage}
{explanation}
<h2>Backtest</h2>
<p>Each date: long the {k} highest and short the {k} lowest predicted probabilities, equal-weighted, $1 a side,
held one period; {cost} basis points per half-turn on the turnover.</p>
{backtest}
{pictures[equity.png]}{pictures[deciles.png]}
<h2>Settings</h2>
<pre>{config}</pre>
</body></html>
"""
