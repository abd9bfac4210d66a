"""The ``deepfin`` command line: ``deepfin run``, ``deepfin runs``, ``deepfin export`` and ``deepfin demo``.

``deepfin run`` is the finance workflow, the main job; ``deepfin runs [FOLDER]`` lists the finished runs of a
folder side by side; ``deepfin export RUN_DIR`` writes a finished run's network and preprocessing as one ONNX
file; ``deepfin demo NAME`` runs one of the course texts' experiments (``deepfin.demos``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from deepfin import demos, parallel


def build_parser(demo_names: bool = True) -> argparse.ArgumentParser:
    """Build the command line's parser.

    Parameters
    ----------
    demo_names : bool, default True
        Give ``demo`` a sub-command per demo. False leaves them out: their modules, which import their
        libraries, are not loaded, so other commands start without them.

    Returns
    -------
    argparse.ArgumentParser
        The parser of ``deepfin``'s commands.

    Examples
    --------
    >>> args = build_parser(demo_names=False).parse_args(["run", "--quick", "--set", "lag=1"])
    >>> args.command, args.quick, args.assignments
    ('run', True, ['lag=1'])
    """
    parser = argparse.ArgumentParser(prog="deepfin", description="Neural networks for finance, on NumPy.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    run = commands.add_parser(
        "run", help="predict asset price movement, honestly: tune, evaluate walk-forward, backtest",
        description="The finance workflow of Jansen (2020) and Krauss, Do and Huck (2017) on a panel of prices (by "
        "default the embedded S&P 500 sample): features and labels, a grid search scored on walk-forward folds, "
        "out-of-sample predictions, Jansen (2020)'s shuffled evaluation beside them, and the long-short backtest "
        "they imply. Writes report.html, "
        "metrics.json, predictions.csv, run.toml and the model into runs/<time>/ (or --out); an interrupted run "
        "continues with --resume DIR.",
        epilog="Every other setting (windows, k, costs, lag, the grid) goes in a TOML file given with --config, or "
        "one at a time with --set KEY=VALUE; a run writes the settings it used as run.toml.")
    run.add_argument("--config", metavar="TOML", help="settings file (a run's run.toml works)")
    run.add_argument("--data", metavar="FILE", help="prices (CSV or Parquet, wide or long), returns (a long "
                     "file), Jansen (2020)'s HDF5 store, or synthetic:N for a simulated universe of N index members")
    run.add_argument("--universe", metavar="FILE", help="index membership: CSV or Parquet of 'date, ticker' "
                     "constituent lists or 'ticker, start, end' intervals")
    run.add_argument("--recipe", choices=["monthly", "daily"],
                     help="monthly: Jansen (2020)'s 24 monthly returns; daily: Krauss et al.'s 31 returns (default "
                     "monthly)")
    run.add_argument("--models", metavar="NAMES", help="run Krauss, Do and Huck's study instead of the tuned "
                     "network: comma-separated models from dnn, gbt, raf, lstm, mlp, logit, ens1, ens2, ens3 (and any "
                     "[model.NAME] of the config), e.g. --models dnn,gbt,raf,ens1,ens2,ens3")
    run.add_argument("--n-jobs", type=int, metavar="N", dest="n_jobs",
                     help="jobs run at once: grid stacks, windows, folds, study periods (joblib; default -1: every "
                     "core)")
    run.add_argument("--workers", type=int, metavar="N", help="run every job (study periods, grid stacks, windows) "
                     "on a Dask cluster of N single-threaded workers started on this machine (needs deepfin[dask]; "
                     "--n-jobs is then not used)")
    run.add_argument("--scheduler", metavar="ADDRESS", help="run every job on the running Dask cluster whose "
                     "scheduler is at ADDRESS (tcp://HOST:8786); every worker needs deepfin, the data are sent "
                     "from here")
    run.add_argument("--quick", action="store_true", help="a small grid and fewer epochs (about a tenth of the "
                     "time); in a study, fewer trees and epochs")
    run.add_argument("--out", metavar="DIR", help="output folder (default: runs/<date-time>)")
    run.add_argument("--track", choices=["mlflow"], help="also log the finished run to MLflow (settings, headline "
                     "figures, files; where MLFLOW_TRACKING_URI says; the mlflow extra)")
    run.add_argument("--set", metavar="KEY=VALUE", action="append", default=[], dest="assignments",
                     help="any setting of run.toml, the value in TOML (repeatable): --set train_size=60 "
                     "--set lag=1 --set 'grid.dropout=[0.5]'")
    run.add_argument("--resume", metavar="DIR", help="continue the interrupted run in DIR from its journal "
                     "(DIR/.journal: every finished fit, window, fold and study period), with the settings and data "
                     "it started with; takes no other setting (--n-jobs, --workers and --scheduler may be given)")
    export = commands.add_parser(
        "export", help="one ONNX file of a finished run's network with its clipping and scaling folded in",
        description="Write a finished `deepfin run`'s network (model.keras) with the clipping and standardisation "
        "fitted with it (preprocessing.json) in front, as one ONNX graph: its input 'features' takes the run's "
        "features computed from raw returns, its output 'probability' is the predicted probability of the label. "
        "Needs the onnx package (pip install deepfin[onnx]).")
    export.add_argument("run_dir", metavar="RUN_DIR", help="the folder a finished `deepfin run` wrote")
    export.add_argument("--out", metavar="FILE", help="the ONNX file to write (default: RUN_DIR/model.onnx)")
    runs = commands.add_parser(
        "runs", help="list and compare the finished runs of a folder",
        description="One line per finished run or study in FOLDER (default runs/): its recipe, data, out-of-sample "
        "period, AUC, Sharpe ratio after costs and deflated Sharpe ratio, with the trials the ledger "
        "(FOLDER/trials.jsonl) counted for it.")
    runs.add_argument("folder", metavar="FOLDER", nargs="?", default="runs", help="the folder of runs")
    demo = commands.add_parser(
        "demo", help="run one of the course texts' experiments", description="Run one of the course texts' "
        "experiments (Klaas (2019), Della Lunga (2022), Jansen (2020), Machine Learning in Finance (2019, Module 5), "
        "DataCamp's course Introduction to Deep Learning in Python): it "
        "trains, prints its figures and writes its plots under runs/NAME/ (or --out).",
        epilog="`deepfin demo --list` lists the demos; `deepfin demo NAME --help` explains one.")
    demo.add_argument("--list", action="store_true", help="list the demos and what each shows")
    if not demo_names:
        return parser
    names = demo.add_subparsers(dest="name", metavar="NAME", title="demos")
    for name in demos.NAMES:
        module = demos.module(name)
        sub = names.add_parser(name, help=demos.summary(name), description=module.__doc__,
                               formatter_class=argparse.RawDescriptionHelpFormatter)
        sub.add_argument("--out", metavar="DIR", help=f"folder for the plots (default: runs/{name})")
        sub.add_argument("--quick", action="store_true",
                         help="a smaller run where the demo has one (what the tests run)")
        if hasattr(module, "add_arguments"):
            module.add_arguments(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the ``deepfin`` command line.

    Parameters
    ----------
    argv : list of str or None, default None
        The arguments, without the program's name; None reads ``sys.argv``.

    Returns
    -------
    int
        The exit status, 0 on success; a mistake in the arguments, the settings or the data exits through
        ``argparse`` with status 2 and its message.
    """
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(demo_names=argv[:1] == ["demo"])
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    if args.command == "run":
        return run_workflow(parser, args)
    if args.command == "export":
        return export_run(parser, args)
    if args.command == "runs":
        return list_runs(parser, args)
    if args.list or args.name is None:
        width = max(map(len, demos.NAMES))
        print("deepfin demos (run one with `deepfin demo NAME`, help with `deepfin demo NAME --help`):")
        for name in demos.NAMES:
            print(f"  {name:<{width}}  {demos.summary(name)}")
        return 0
    options = {key: value for key, value in vars(args).items() if key not in ("command", "list", "name")}
    demos.run(args.name, **options)
    return 0


def list_runs(parser: argparse.ArgumentParser, args) -> int:
    """Run ``deepfin runs [FOLDER]``: print the finished runs of a folder side by side, newest last."""
    folder = Path(args.folder)
    if not folder.is_dir():
        parser.exit(2, f"deepfin runs: error: {folder} is not a folder of runs (deepfin run writes runs/<time>/).\n")
    rows = []
    for path in sorted(folder.glob("*/metrics.json")):
        try:
            figures = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        rows.append(_run_line(path.parent.name, figures))
    if not rows:
        print(f"No finished run in {folder}.")
        return 0
    header = ("run", "recipe", "data", "out of sample", "AUC", "Sharpe net", "deflated", "trials")
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(str(value).ljust(width) for value, width in zip(row, widths)).rstrip())
    return 0


def _run_line(name: str, figures: dict) -> tuple:
    """One finished run's line: a tuned run's headline figures, or a study's best model at its first k."""
    data = figures.get("data", {})
    source = str(data.get("source", ""))[:40]
    if "models" in figures:  # a study
        first_k = str(figures.get("design", {}).get("ks", [""])[0])
        best = max(figures["models"].items(), key=lambda item: item[1]["k"].get(first_k, {}).get("sharpe") or -1e9)
        book = best[1]["k"].get(first_k, {})
        design = figures.get("design", {})
        return (name, f"study ({best[0]}, k={first_k})", source,
                f"{design.get('first_trading_date', '')} to {design.get('last_trading_date', '')}",
                _figure(best[1].get("auc")), _figure(book.get("sharpe_after_costs"), ".2f"),
                _figure(book.get("deflated_sharpe"), ".3f"), book.get("trials", ""))
    oos, backtest, selection = figures["out_of_sample"], figures["backtest"], figures["tuning"]["selection"]
    return (name, figures.get("recipe", ""), source, f"{oos.get('first_date', '')} to {oos.get('last_date', '')}",
            _figure(oos.get("auc")), _figure(backtest["after_costs"].get("sharpe"), ".2f"),
            _figure(selection.get("deflated_sharpe_after_costs"), ".3f"),
            f"{selection.get('trials', '')} ({selection.get('trial_runs', 1)} runs)")


def export_run(parser: argparse.ArgumentParser, args) -> int:
    """Run ``deepfin export RUN_DIR [--out FILE]``; a missing folder, an unfinished run or a missing onnx says so."""
    from deepfin.export import export_run as write_pipeline

    try:
        path = write_pipeline(args.run_dir, args.out)
    except (ValueError, FileNotFoundError, ImportError) as error:
        parser.exit(2, f"deepfin export: error: {error}\n")
    print(f"Wrote {path}: features -> clip -> standardize -> network -> probability")
    return 0


def run_workflow(parser: argparse.ArgumentParser, args) -> int:
    """Run ``deepfin run``: settings and data are checked first; a mistake ends with its message, before training.

    ``--workers`` / ``--scheduler`` (not settings: run.toml does not keep them) put every job on a Dask cluster.
    """
    from deepfin.finance.pipeline import journal, workflow
    from deepfin.finance.report import tracking

    try:
        parallel.check(args.workers, args.scheduler)
        tracking.check(args.track)
        local = args.workers is None and args.scheduler is None
        early = _n_jobs_of_command_line(args) if local else None
        if early is not None:  # the workers start while the settings' modules load and the data are read
            parallel.start_local_workers(early)
        config = resumed_settings(args) if args.resume is not None else settings_given(args)
        if local and early is None:
            parallel.start_local_workers(config.n_jobs)
        plan = workflow.plan(config)
        out = Path(args.resume or args.out or _fresh_folder(Path("runs")))
        record = journal.reopen(out, plan) if args.resume is not None else journal.start(out, config, plan)
    except (ValueError, FileNotFoundError, TypeError, ImportError) as error:
        parser.exit(2, f"deepfin run: error: {error}\n")
    if args.resume is not None:
        print(f"Resuming the run in {out} with the settings it started with ({out / journal.FOLDER / 'run.toml'})",
              flush=True)
    for warning in plan.warnings:
        print(f"Warning: {warning}", flush=True)
    try:
        with parallel.cluster(args.workers, args.scheduler) as client:
            if client is not None:
                print(f"Jobs run on the Dask cluster at {client.scheduler.address}: "
                      f"{len(client.nthreads())} workers, {sum(client.nthreads().values())} threads", flush=True)
            code = execute(plan, out, record)
    except ConnectionError as error:
        parser.exit(2, f"deepfin run: error: {error}\n")
    if args.track is not None:
        figures = json.loads((out / "metrics.json").read_text())
        print(f"Logged to MLflow as run {tracking.log_run(out, plan.config.as_dict(), figures)}")
    return code


def _n_jobs_of_command_line(args) -> int | None:
    """Read ``n_jobs`` when the command line alone sets it; None when it takes reading the settings.

    The command line alone sets it when there is no settings file, no run to resume and no ``--set n_jobs``:
    then it is ``--n-jobs`` or the default.
    """
    if args.config is not None or args.resume is not None or \
            any(a.partition("=")[0].strip() == "n_jobs" for a in args.assignments):
        return None
    return args.n_jobs if args.n_jobs is not None else parallel.DEFAULT_N_JOBS


def settings_given(args):
    """Make the run's settings from --config, the flags and every --set, in that order."""
    from deepfin.finance.pipeline.config import RunConfig, apply_assignment, read_toml

    given = {name: getattr(args, name) for name in ("data", "recipe", "universe") if getattr(args, name) is not None}
    if args.quick:
        given["quick"] = True
    if args.models is not None:
        given["models"] = [name.strip() for name in args.models.split(",") if name.strip()]
    if args.n_jobs is not None:
        given["n_jobs"] = args.n_jobs
    settings = {**(read_toml(args.config) if args.config else {}), **given}
    for assignment in args.assignments:
        settings = apply_assignment(settings, assignment)
    return RunConfig.from_dict(settings, origin=args.config or "the command line")


def resumed_settings(args):
    """Read the settings the run in ``--resume DIR`` started with; any flag that would change them is refused.

    ``--n-jobs`` may change how many jobs run at once, which changes no result.
    """
    from dataclasses import replace

    from deepfin.finance.pipeline import journal

    flags = [flag for flag, value in (("--config", args.config), ("--data", args.data), ("--universe", args.universe),
                                      ("--recipe", args.recipe), ("--models", args.models),
                                      ("--quick", args.quick or None), ("--set", args.assignments or None))
             if value is not None]
    if args.out is not None and Path(args.out).resolve() != Path(args.resume).resolve():
        flags.append("--out")
    if flags:
        raise ValueError(f"--resume continues a run with the settings and folder it started with (kept in "
                         f"{Path(args.resume) / journal.FOLDER / 'run.toml'}), so it takes no {', '.join(flags)}. "
                         "Only --n-jobs, --workers and --scheduler may be given with it; to change a setting, start "
                         "a new run.")
    config = journal.saved_config(args.resume)
    return config if args.n_jobs is None else replace(config, n_jobs=args.n_jobs)


def execute(plan, out: Path, record) -> int:
    """Execute the tuned network's run or the study, write its report and print its figures.

    Every finished unit of work goes into the journal ``record``, which is removed once the run's files are
    written. Returns the exit status, 0.
    """
    from deepfin.finance.pipeline import journal, ledger, workflow
    from deepfin.finance.report import run as run_report

    started = time.perf_counter()
    if plan.config.study:
        return run_study(plan, out, started, record)
    ledger_key = ledger.key(journal.fingerprints(plan)["data"], plan.config.recipe, plan.config.label)
    result = workflow.execute(plan, journal=record, earlier=ledger.earlier(out.parent, ledger_key, out.name))
    figures = run_report.write(result, out)
    ledger.record(out.parent, ledger_key, out.name, list(result.search_table.get("sharpe", [])),
                  list(result.search_table.get("sharpe_after_costs", [])))
    record.finish()
    oos, backtest, cross = figures["out_of_sample"], figures["backtest"], figures["cross_section"]
    print(f"\nOut-of-sample ROC AUC {_figure(oos['auc'])} (95% interval {_figure(oos['auc_interval_95'][0])} to "
          f"{_figure(oos['auc_interval_95'][1])}); Jansen (2020)'s shuffled AUC "
          f"{_figure(figures['shuffled_cv']['auc_with_dummies'])}")
    print(f"Per-date AUC {_figure(cross['per_date_auc'])}; rank IC {_figure(cross['rank_ic'].get('mean'), '+.4f')} "
          f"(t = {_figure(cross['rank_ic'].get('t_stat'), '.2f')})")
    print(f"Long-short k={backtest['k']}, lag {backtest['lag']}: Sharpe "
          f"{_figure(backtest['before_costs']['sharpe'], '.2f')} before costs, "
          f"{_figure(backtest['after_costs']['sharpe'], '.2f')} after {plan.config.cost_bps:g} bps per half-turn")
    print(f"Finished in {time.perf_counter() - started:.1f} s{_reused(record)}. Report: {out / 'report.html'}")
    return 0


def run_study(plan, out: Path, started: float, record) -> int:
    """Run ``deepfin run --models ...``: the study, its report and a line per model at the first k."""
    from deepfin.finance.pipeline import study
    from deepfin.finance.report import study as study_report

    figures = study_report.write(study.execute(plan, journal=record), out)
    record.finish()
    k = str(plan.ks[0])
    for name, model in figures["models"].items():
        book = model["k"][k]
        print(f"{name:>6}: k={k} mean {_figure(book.get('mean'), '.4%')} a day before costs (t = "
              f"{_figure(book.get('t_stat'), '.2f')}), {_figure(book.get('mean_after_costs'), '.4%')} after; "
              f"AUC {_figure(model.get('auc'))}")
    print(f"Finished in {time.perf_counter() - started:.1f} s{_reused(record)}. Report: {out / 'report.html'}")
    return 0


def _reused(record) -> str:
    return f" ({record.reused} finished units taken from the journal)" if record.reused else ""


def _figure(value, spec: str = ".4f") -> str:
    """A figure of metrics.json for the console; n/a where the run could not compute it (null)."""
    return "n/a" if value is None else format(value, spec)


def _fresh_folder(parent: Path) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    folder, n = parent / stamp, 1
    while folder.exists():
        n += 1
        folder = parent / f"{stamp}-{n}"
    return folder


if __name__ == "__main__":
    sys.exit(main())
