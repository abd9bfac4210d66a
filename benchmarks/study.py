"""Krauss, Do and Huck's whole study at the paper's scale, timed: 500 index members over 25 years (the synthetic
universe with a planted reversal), dnn, gbt, raf and the three ensembles, every k, with the fast settings; then
one study period at the paper's settings (a 1,000-tree forest of full bootstrap samples, batches of 32 for up
to 400 epochs), measured on part of it and scaled up, so the paper-settings study's time can be stated.

    python benchmarks/study.py [--names 500] [--years 25] [--signal reversal] [--strength 0.1] [--n-jobs 2]
                               [--lag 0] [--models dnn,gbt,raf,ens1,ens2,ens3] [--out runs/bench-study] [--paper-period]
                               [--skip-study]

``--models`` may add ``lstm`` (Fischer and Krauss's network); ``--paper-period`` times one epoch of it at the
paper's settings too.

Prints one JSON object: seconds per phase, per family, peak resident memory, the k = 10 figures per model.
"""

from __future__ import annotations

import argparse
import json
import resource
import time

from deepfin.finance.data import synthetic
from deepfin.finance.models import families
from deepfin.finance.panel.sequences import DailyReturns
from deepfin.finance.pipeline import study, workflow
from deepfin.finance.pipeline.config import RunConfig
from deepfin.finance.report import study as study_report

MODELS = "dnn,gbt,raf,ens1,ens2,ens3"


def peak_mb() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return round(max(own, children) / 1024, 0)


def whole_study(args) -> dict:
    started = time.perf_counter()
    universe = synthetic.synthetic_universe(args.names, args.years, signal=args.signal, strength=args.strength)
    made = time.perf_counter()
    plan = workflow.plan(RunConfig(recipe="daily", models=args.models.split(","), n_jobs=args.n_jobs, lag=args.lag),
                         universe)
    planned = time.perf_counter()
    result = study.execute(plan)
    fitted = time.perf_counter()
    figures = study_report.write(result, args.out)
    done = time.perf_counter()
    return {"study_periods": len(plan.test_windows), "rows": len(plan.X), "ks": plan.ks,
            "seconds": {"universe": made - started, "plan": planned - made, "study": fitted - planned,
                        "report": done - fitted, "total": done - started},
            "seconds_per_family_summed_over_periods": result.seconds, "peak_rss_mb": peak_mb(),
            "k10": {name: {key: m["k"]["10"].get(key) for key in ("mean", "t_stat", "mean_after_costs", "sharpe")}
                    | {"auc": m["auc"]} for name, m in figures["models"].items()},
            "by_k_mean": {name: {k: m["k"][k]["mean"] for k in m["k"]} for name, m in figures["models"].items()},
            "importance_top3": {name: sorted(m["importance"], key=m["importance"].get)[::-1][:3]
                                for name, m in figures["models"].items() if "importance" in m}}


def paper_period(args) -> dict:
    """One study period at the paper's settings: the forest timed on 50 of its 1,000 trees, the network on one
    epoch of 400; the gbt is the same as the fast one."""
    universe = synthetic.synthetic_universe(args.names, args.years, signal=args.signal, strength=args.strength)
    plan = workflow.plan(RunConfig(recipe="daily", models=["gbt"]), universe)
    window = plan.test_windows[0]
    realised = plan.rows["realised"].to_numpy()
    train, _ = window.rows(plan.X.index, realised)
    X, y = plan.X.iloc[train], plan.y.iloc[train]
    training = families.Training()
    out = {"training_rows": len(train)}
    forest = families.build("raf", {**families.RAF_PAPER, "n_estimators": 50}, training)
    start = time.perf_counter()
    forest.fit(X, y)
    out["raf_seconds_50_trees"] = time.perf_counter() - start
    out["raf_seconds_1000_trees"] = out["raf_seconds_50_trees"] * 20
    network = families.build("dnn", {**families.DNN_PAPER, "epochs": 1}, training)
    start = time.perf_counter()
    network.fit(X, y, realised=realised[train])
    out["dnn_seconds_per_epoch_batch_32"] = time.perf_counter() - start
    lstm = families.build("lstm", {**families.LSTM_PAPER, "epochs": 1}, training,
                          returns=DailyReturns(plan.panel.prices))
    start = time.perf_counter()
    lstm.fit(X, y, realised=realised[train])
    out["lstm_seconds_per_epoch_batch_512"] = time.perf_counter() - start
    gbt = families.build("gbt", families.GBT_PAPER, training)
    start = time.perf_counter()
    gbt.fit(X, y)
    out["gbt_seconds"] = time.perf_counter() - start
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--names", type=int, default=500)
    parser.add_argument("--years", type=float, default=25)
    parser.add_argument("--signal", default="reversal", help="reversal, momentum or none")
    parser.add_argument("--strength", type=float, default=0.1)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--lag", type=int, default=0,
                        help="days from signal to trade: 0 as in the paper (the planted reversal lasts one day)")
    parser.add_argument("--models", default=MODELS, help="the study's models, comma-separated")
    parser.add_argument("--out", default="runs/bench-study")
    parser.add_argument("--paper-period", action="store_true", help="also time one period at the paper's settings")
    parser.add_argument("--skip-study", action="store_true", help="only the paper-settings period")
    args = parser.parse_args()
    args.signal = None if args.signal == "none" else args.signal
    result = {"names": args.names, "years": args.years, "signal": args.signal, "strength": args.strength,
              "n_jobs": args.n_jobs, "lag": args.lag}
    if not args.skip_study:
        result["fast_study"] = whole_study(args)
    if args.paper_period:
        result["paper_period"] = paper_period(args)
    print(json.dumps(result, indent=2, default=float))


if __name__ == "__main__":
    main()
