"""``deepfin run --track mlflow``: a finished run or study logged to MLflow (the ``mlflow`` extra).

For teams that track their experiments there: its settings as parameters, its headline figures as metrics, its
folder's files as artifacts. MLflow's own settings say where (``MLFLOW_TRACKING_URI``,
``MLFLOW_EXPERIMENT_NAME``).
"""

from __future__ import annotations

import math
from pathlib import Path

TRACKERS = ("mlflow",)
INSTALL = "pip install 'deepfin[mlflow]'"


def check(tracker: str | None) -> None:
    """Refuse an unknown tracker, or MLflow not installed, before any work.

    Raises
    ------
    ValueError
        On a tracker other than "mlflow".
    ImportError
        When MLflow is not installed; the message says how to install it.
    """
    if tracker is None:
        return
    if tracker not in TRACKERS:
        raise ValueError(f"--track takes one of {', '.join(TRACKERS)}. Received: {tracker!r}")
    try:
        import mlflow  # noqa: F401
    except ImportError as error:
        raise ImportError(f"--track mlflow needs MLflow, which is not installed ({error}). Install it with: "
                          f"{INSTALL}") from None


def log_run(out: Path, settings: dict, figures: dict) -> str:
    """Log the finished run or study in ``out`` to MLflow.

    Parameters
    ----------
    out : Path
        The run's folder, logged as artifacts.
    settings : dict
        The settings, logged as parameters (each cut to 500 characters).
    figures : dict
        ``metrics.json``'s figures; the finite ``headline`` ones are logged as metrics.

    Returns
    -------
    str
        MLflow's run id.
    """
    import mlflow

    with mlflow.start_run(run_name=Path(out).name) as run:
        mlflow.log_params({name: str(value)[:500] for name, value in settings.items()})
        mlflow.log_metrics({name: value for name, value in headline(figures).items()
                            if isinstance(value, (int, float)) and math.isfinite(value)})
        mlflow.log_artifacts(str(out))
        return run.info.run_id


def headline(figures: dict) -> dict[str, float]:
    """Pick the figures worth a metric: a run's out-of-sample and book figures, or a study's per model at first k."""
    if "models" in figures:
        k = str(figures["design"]["ks"][0])
        return {f"{name}.{key}": model["k"][k].get(key) for name, model in figures["models"].items()
                for key in ("mean", "sharpe", "sharpe_after_costs", "deflated_sharpe")} | {
            f"{name}.auc": model.get("auc") for name, model in figures["models"].items()}
    oos, cross, book = figures["out_of_sample"], figures["cross_section"], figures["backtest"]
    return {"auc": oos["auc"], "per_date_auc": cross["per_date_auc"], "rank_ic": cross["rank_ic"].get("mean"),
            "sharpe": book["before_costs"]["sharpe"], "sharpe_after_costs": book["after_costs"]["sharpe"],
            "cagr_after_costs": book["after_costs"]["cagr"], "max_drawdown": book["after_costs"]["max_drawdown"],
            "break_even_bps": book["break_even_bps"],
            "deflated_sharpe_after_costs": figures["tuning"]["selection"].get("deflated_sharpe_after_costs")}
