"""The settings of ``deepfin run``: defaults per recipe, a TOML file, and checks that fail before training.

A ``run.toml`` holds any of the fields of ``RunConfig`` and a ``[grid]`` table of ``make_model`` arguments::

    recipe = "daily"
    k = 10
    cost_bps = 5
    [grid]
    dense_layers = [[64], [64, 64]]
    dropout = [0.25, 0.5]

Sizes (``train_size``, ``test_size``, ``purge``, ``embargo``, ``lag``) count periods of the recipe: months or
days. ``data``, ``universe`` and ``delistings`` are paths relative to the folder ``deepfin run`` is started in
(or absolute); ``data`` may also be ``synthetic:N[,key=value...]`` (see ``deepfin.finance.data.synthetic``).
``apply_assignment`` reads the command line's ``--set KEY=VALUE`` (the value in TOML, a bare word as text).

A study (Krauss, Do and Huck's; ``deepfin.finance.pipeline.study``) runs when ``models`` lists model names;
``[model.NAME]`` tables override a model's settings (``deepfin.finance.models.families``), ``ks`` are the book
sizes, ``sub_periods`` the dates its tables are split at. ``n_jobs`` (every core by default) is how many jobs run
at once, in a study its periods, in a run the grid search's stacks, the walk-forward windows and the shuffled
folds; ``tuning`` is ``"once"`` (on the first windows) or ``"per_window"`` (again before every test window)::

    models = ["dnn", "gbt", "raf", "ens1", "ens2", "ens3"]
    ks = [10, 50, 100, 150, 200]
    [model.raf]
    n_estimators = 1000
"""

from __future__ import annotations

import difflib
import math
import tomllib
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

import pandas as pd

from deepfin import activations, optimizers, parallel
from deepfin.finance.models import families
from deepfin.finance.models.network import TUNABLE
from deepfin.finance.panel.features import RECIPES
from deepfin.finance.panel.outcomes import LABELS, delisting_assumption

RECIPE_DEFAULTS = {  # Krauss et al. train on 750 days and trade 250; Jansen (2020, ch. 17) has 10 years of months
    "monthly": {"train_size": 120, "test_size": 12, "window": "expanding", "batch_size": 32, "tuning_folds": 3,
                "lag": 0, "max_halt": 3},
    "daily": {"train_size": 750, "test_size": 250, "window": "rolling", "batch_size": 128, "tuning_folds": 2,
              "lag": 1,  # the day after the signal's close: a lag-0 daily book can live on the bid-ask bounce
              "max_halt": 10},  # periods without a price before a position counts as delisted
}
DEFAULT_GRID = {  # the param_grid of Jansen (2020, ch. 17), and two learning rates
    "dense_layers": [[64], [64, 64], [96, 96], [128, 128]], "optimizer": ["RMSprop", "Adam"],
    "activation": ["relu", "tanh"], "dropout": [0.25, 0.5, 0.75], "learning_rate": [0.001, 0.0001]}
TUNING = ("once", "per_window")  # tune on the first windows, or again before every test window
PAPER_KS = (10, 50, 100, 150, 200)  # Krauss, Do and Huck's books of k long and k short names
SUB_PERIODS = ("2001-01-01", "2010-01-01")  # their sub-periods begin in 2001 and 2010
QUICK = {"grid": {"dense_layers": [[32]], "activation": ["relu", "tanh"], "dropout": [0.25], "optimizer": ["Adam"],
                  "learning_rate": [0.001]}, "epochs": 10, "patience": 2, "bootstrap": 200, "shuffled_folds": 3}

SETTING_HELP = {  # what each setting does; docs/reference/configuration.md is made from it
    "data": "The prices or returns: a CSV, Parquet or HDF5 file (wide or long), or `synthetic:N[,key=value...]` "
            "for a simulated market of N index members; default: the embedded S&P 500 sample.",
    "universe": "Index membership by date: `date, ticker` lists or `ticker, start, end` intervals (CSV or Parquet); "
                "rows, predictions and positions are restricted to members.",
    "delistings": "A file of delisting returns: a name column and CRSP's `dlret`.",
    "sep": "The data file's delimiter, when sniffing it is not wanted.",
    "decimal": "The data file's decimal mark (`\",\"` for decimal commas).",
    "date_format": "The data's date format (such as `\"%d.%m.%Y\"`), when its dates could be read more than one way.",
    "recipe": "`monthly` (the last 24 monthly returns, Jansen 2020) or `daily` (Krauss et al.'s 31 returns over "
              "1-20, 40, 60, ..., 240 days); sets the defaults of the settings marked per recipe.",
    "label": "The target: `up` (the next period's return is positive) or `above_median` (above the date's "
             "cross-sectional median).",
    "lags": "The monthly recipe's number of monthly returns.",
    "dummies": "Add year and month one-hot inputs, made inside the network's preprocessing from the years its "
               "training rows have (not with a study's `models`).",
    "train_size": "Periods (months or days) each walk-forward window trains on.",
    "test_size": "Periods each walk-forward window tests on.",
    "window": "`expanding` or `rolling` training windows.",
    "purge": "Periods left out between training and test (the label's horizon).",
    "embargo": "Further periods left out after the purge.",
    "tuning_folds": "Walk-forward windows the grid search is scored on.",
    "tuning": "`once` (tune on the first windows) or `per_window` (tune again before every test window).",
    "validation_split": "The share of each training window's last dates early stopping holds out (whole dates).",
    "epochs": "The most epochs a network trains for.",
    "patience": "Epochs without a better held-out loss before early stopping ends training.",
    "batch_size": "Rows per training step.",
    "grid": "The grid search's candidates: lists of `make_model` arguments (see below).",
    "k": "Names in each leg of the long-short book; default: a quarter of the names on the first out-of-sample "
         "date, at most 10.",
    "cost_bps": "Transaction cost per half-turn, in basis points.",
    "lag": "Periods between the signal and the trade (1 for daily: the day after the signal's close).",
    "delisting_return": "The return assumed after the last price of a name that delists without one in the data: "
                        "a number, `last_price` (0) or `shumway` (-0.30).",
    "max_halt": "Periods without a price before a position counts as delisted.",
    "bootstrap": "Resamples of whole dates for the AUC's interval.",
    "shuffled_folds": "Folds of the leakage report's shuffled evaluation.",
    "seed": "The seed of every random draw of the run (weights, dropout, shuffling, ties).",
    "quick": "A fast first look: a small grid, fewer epochs and resamples.",
    "models": "The families of a study (`dnn`, `gbt`, `raf`, `lstm`, `mlp`, `logit`, `ens1`, `ens2`, `ens3`); "
              "empty: a single network's run.",
    "model": "`[model.NAME]` tables: settings of a study's families.",
    "ks": "A study's book sizes.",
    "sub_periods": "The dates a study's tables are split at.",
    "n_jobs": "Jobs run at once (grid stacks, windows, folds, study periods); -1: every core.",
}


@dataclass(frozen=True)
class RunConfig:
    """Everything one run depends on; ``None`` means the recipe's default (see ``resolved``).

    Every setting is checked when the configuration is made; a wrong one raises a ValueError that names it.
    Sizes count periods of the recipe (months or days).

    Parameters
    ----------
    data : str or None, default None
        A prices file (CSV, Parquet, HDF5; wide or long, prices or returns) or ``synthetic:N[,key=value...]``;
        None: the embedded S&P 500 sample.
    universe : str or None, default None
        An index membership file (constituent lists or intervals).
    delistings : str or None, default None
        A delistings file (a name column and ``dlret``).
    sep : {None, ",", ";", "\\t", "|"}, default None
        The CSV delimiter; None sniffs it.
    decimal : {".", ","}, default "."
        The CSV decimal mark.
    date_format : str or None, default None
        The dates' ``strftime`` format, where reading them is ambiguous.
    recipe : {"monthly", "daily"}, default "monthly"
        The features: the last ``lags`` monthly returns (Jansen, 2020, ch. 17), or the 31 daily returns of
        Krauss, Do and Huck (2017).
    label : {None, "up", "above_median"}, default None
        The target; None: the recipe's (monthly ``up``, daily ``above_median``).
    lags : int, default 24
        Monthly returns a row (monthly recipe).
    dummies : bool, default False
        Also feed the network year and month dummies (the tuned network's run only).
    train_size, test_size : int or None, default None
        Training and test periods of a walk-forward window (monthly 120 and 12, daily 750 and 250).
    window : {None, "rolling", "expanding"}, default None
        The training window (monthly expanding, daily rolling).
    purge : int, default 1
        Periods between training and test (the label horizon).
    embargo : int, default 0
        More periods between them.
    tuning_folds : int or None, default None
        Walk-forward windows the grid search is scored on (monthly 3, daily 2).
    tuning : {"once", "per_window"}, default "once"
        Tune on the first windows, or again before every test window.
    validation_split : float, default 0.2
        The share of a window's training dates held out for early stopping, in (0, 1).
    epochs : int, default 50
        The most epochs a network trains.
    patience : int, default 5
        Early stopping's patience.
    batch_size : int or None, default None
        Rows a gradient step (monthly 32, daily 128).
    grid : dict, default DEFAULT_GRID
        ``make_model`` argument -> list of values to search.
    k : int or None, default None
        Names a side of the book; None: a quarter of the names on the first out-of-sample date, at most 10.
    cost_bps : float, default 5.0
        Basis points per half-turn.
    lag : int or None, default None
        Periods between a signal and its trade (monthly 0, daily 1).
    delisting_return : float or str, default "last_price"
        The delisting return assumed where the data give none: a number >= -1, ``"last_price"`` (0) or
        ``"shumway"`` (-0.30).
    max_halt : int or None, default None
        Periods without a price before a position counts as delisted (monthly 3, daily 10).
    bootstrap : int, default 1000
        Resamples of the dates for the AUC's interval.
    shuffled_folds : int, default 5
        Folds of the leakage report's shuffled evaluation.
    seed : int, default 0
        The seed of every random choice.
    quick : bool, default False
        A smaller grid, fewer epochs, bootstrap resamples and folds (``QUICK``), for settings left at their
        defaults; in a study, the families' quick settings.
    models : list, default []
        Model names: run the study of Krauss, Do and Huck (2017) with them instead of the tuned network.
    model : dict, default {}
        ``[model.NAME]`` tables: a model's settings.
    ks : list or None, default None
        The study's book sizes; None: ``[k]``, else those of the paper's 10, 50, 100, 150, 200 that the first
        trading date's names allow.
    sub_periods : list, default ["2001-01-01", "2010-01-01"]
        The dates the study's tables are split at.
    n_jobs : int, default -1
        Jobs run at once (-1: every core).

    Examples
    --------
    >>> config = RunConfig(recipe="daily", k=10)
    >>> resolved = config.resolved()
    >>> resolved.train_size, resolved.test_size, resolved.window, resolved.label, resolved.lag
    (750, 250, 'rolling', 'above_median', 1)
    >>> RunConfig.from_dict({"trian_size": 60})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: Unknown setting 'trian_size' in the settings. Did you mean 'train_size'? Known settings: ...
    """

    data: str | None = None
    universe: str | None = None
    delistings: str | None = None
    sep: str | None = None
    decimal: str = "."
    date_format: str | None = None
    recipe: str = "monthly"
    label: str | None = None
    lags: int = 24
    dummies: bool = False
    train_size: int | None = None
    test_size: int | None = None
    window: str | None = None
    purge: int = 1
    embargo: int = 0
    tuning_folds: int | None = None
    tuning: str = "once"
    validation_split: float = 0.2
    epochs: int = 50
    patience: int = 5
    batch_size: int | None = None
    grid: dict = field(default_factory=lambda: dict(DEFAULT_GRID))
    k: int | None = None
    cost_bps: float = 5.0
    lag: int | None = None
    delisting_return: float | str = "last_price"
    max_halt: int | None = None
    bootstrap: int = 1000
    shuffled_folds: int = 5
    seed: int = 0
    quick: bool = False
    models: list = field(default_factory=list)
    model: dict = field(default_factory=dict)
    ks: list | None = None
    sub_periods: list = field(default_factory=lambda: list(SUB_PERIODS))
    n_jobs: int = parallel.DEFAULT_N_JOBS

    def __post_init__(self):
        self._check()

    @classmethod
    def from_toml(cls, path) -> RunConfig:
        """The settings of a TOML file (a run's ``run.toml``)."""
        return cls.from_dict(read_toml(path), origin=str(path))

    @classmethod
    def from_dict(cls, settings: dict, origin: str = "the settings") -> RunConfig:
        """Make the configuration from a dict of settings.

        Parameters
        ----------
        settings : dict
            Setting name -> value, as a TOML file holds them.
        origin : str, default "the settings"
            Where they come from, for the error messages.

        Returns
        -------
        RunConfig
            The checked configuration.

        Raises
        ------
        ValueError
            On an unknown name (the message suggests the closest known one) or a wrong value.
        """
        known = [f.name for f in fields(cls)]
        for name in settings:
            if name not in known:
                close = difflib.get_close_matches(name, known, n=1)
                hint = f" Did you mean {close[0]!r}?" if close else ""
                raise ValueError(f"Unknown setting {name!r} in {origin}.{hint} Known settings: {', '.join(known)}.")
        return cls(**settings)

    @property
    def study(self) -> bool:
        """A study of several models (``models`` set) rather than the tuned network."""
        return bool(self.models)

    def resolved(self) -> RunConfig:
        """The recipe's defaults filled in, and the smaller quick run applied where ``quick``."""
        filled = {name: value for name, value in RECIPE_DEFAULTS[self.recipe].items() if getattr(self, name) is None}
        if self.label is None:
            filled["label"] = RECIPES[self.recipe].label
        if self.quick:  # settings left at their defaults get the quick run's
            default = RunConfig()
            filled.update({name: value for name, value in QUICK.items()
                           if getattr(self, name) == getattr(default, name)})
        return replace(self, **filled)

    def as_dict(self) -> dict:
        """The settings that are set (not None), by name."""
        return {name: value for name, value in asdict(self).items() if value is not None}

    def to_toml(self) -> str:
        """This configuration as a ``run.toml`` that ``deepfin run --config`` reads back."""
        settings = self.as_dict()
        grid, models = settings.pop("grid"), settings.pop("model")
        lines = [f"{name} = {_toml_value(value)}" for name, value in settings.items()]
        lines += ["", "[grid]"] + [f"{name} = {_toml_value(value)}" for name, value in grid.items()]
        for name, values in models.items():
            lines += ["", f"[model.{name}]"] + [f"{key} = {_toml_value(value)}" for key, value in values.items()]
        return "\n".join(lines) + "\n"

    # ------------------------------------------------------------------ checks
    def _check(self) -> None:
        if self.recipe not in RECIPES:
            raise ValueError(f"Unknown recipe {self.recipe!r}: expected one of {sorted(RECIPES)}.")
        if self.window not in (None, "rolling", "expanding"):
            raise ValueError(f"window must be 'rolling' or 'expanding'. Received: window={self.window!r}")
        if self.label not in (None, *LABELS):
            raise ValueError(f"Unknown label {self.label!r}: expected one of {list(LABELS)}.")
        for name, least in (("lags", 1), ("train_size", 1), ("test_size", 1), ("purge", 0), ("embargo", 0),
                            ("tuning_folds", 1), ("epochs", 1), ("patience", 0), ("batch_size", 1), ("k", 1),
                            ("lag", 0), ("max_halt", 1), ("bootstrap", 10), ("shuffled_folds", 2), ("seed", 0)):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < least):
                raise ValueError(f"{name} must be an integer >= {least}. Received: {name}={value!r}")
        for name in ("dummies", "quick"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be true or false. Received: {name}={getattr(self, name)!r}")
        if not isinstance(self.validation_split, (int, float)) or not 0 < self.validation_split < 1:
            raise ValueError("validation_split must be in (0, 1). "
                             f"Received: validation_split={self.validation_split!r}")
        if isinstance(self.cost_bps, bool) or not isinstance(self.cost_bps, (int, float)) or not (
                math.isfinite(self.cost_bps) and self.cost_bps >= 0):
            raise ValueError(f"cost_bps must be a number >= 0 (basis points per half-turn). "
                             f"Received: cost_bps={self.cost_bps!r}")
        delisting_assumption(self.delisting_return)
        for name in ("data", "universe", "delistings", "date_format"):
            if getattr(self, name) is not None and not isinstance(getattr(self, name), str):
                raise ValueError(f"{name} must be text. Received: {name}={getattr(self, name)!r}")
        for name, allowed in (("sep", (None, ",", ";", "\t", "|")), ("decimal", (".", ","))):
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {[a for a in allowed if a]!r}. "
                                 f"Received: {name}={getattr(self, name)!r}")
        _check_grid(self.grid)
        self._check_study()

    def _check_study(self) -> None:
        if not isinstance(self.model, dict):
            raise ValueError(f"model must be a table of [model.NAME] settings. Received: model={self.model!r}")
        families.check_models(self.models, self.model)
        sequence_models = [m for m in self.models if families.reads_sequences(m, self.model.get(m, {}))]
        if self.models and self.dummies:
            raise ValueError("dummies is a setting of the tuned network's run; a study's families take the paper's "
                             f"inputs. Leave dummies out with models={self.models!r}.")
        if sequence_models and self.recipe != "daily":
            raise ValueError(f"{', '.join(sequence_models)} reads windows of daily returns: it needs "
                             f"recipe = \"daily\". Received: recipe={self.recipe!r}")
        if self.ks is not None and (not isinstance(self.ks, list) or not self.ks or not all(
                isinstance(k, int) and not isinstance(k, bool) and k > 0 for k in self.ks)):
            raise ValueError(f"ks must be a non-empty list of positive integers, such as [10, 50, 100]. "
                             f"Received: ks={self.ks!r}")
        if not isinstance(self.sub_periods, list):
            raise ValueError(f"sub_periods must be a list of dates. Received: sub_periods={self.sub_periods!r}")
        for bound in self.sub_periods:
            try:
                pd.Timestamp(bound)
            except (TypeError, ValueError):
                raise ValueError(f"sub_periods holds dates such as \"2001-01-01\". Received: {bound!r}") from None
        object.__setattr__(self, "sub_periods", [str(pd.Timestamp(bound).date()) for bound in self.sub_periods])
        if self.tuning not in TUNING:
            raise ValueError(f"tuning must be one of {', '.join(TUNING)}. Received: tuning={self.tuning!r}")
        if isinstance(self.n_jobs, bool) or not isinstance(self.n_jobs, int) or self.n_jobs == 0:
            raise ValueError(f"n_jobs must be a non-zero integer (-1: every core). Received: n_jobs={self.n_jobs!r}")


def read_toml(path) -> dict:
    """The settings of a TOML file, as a dict."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No configuration file at {path}.")
    with path.open("rb") as file:
        try:
            return tomllib.load(file)
        except tomllib.TOMLDecodeError as error:
            raise ValueError(f"{path} is not valid TOML: {error}") from None


def apply_assignment(settings: dict, assignment: str) -> dict:
    """Apply one ``--set KEY=VALUE`` to a dict of settings.

    The value is read as TOML (``60``, ``true``, ``[0.25, 0.5]``, ``"a;b"``), else taken as text.
    ``grid.NAME=[...]`` sets one grid parameter and keeps the rest of the grid in ``settings`` (the quick run's
    when ``quick`` is set, else the default one); ``model.NAME.KEY=VALUE`` sets one setting of a study's model,
    ``model.NAME={...}`` all of them.

    Parameters
    ----------
    settings : dict
        The settings so far (not changed).
    assignment : str
        ``KEY=VALUE``.

    Returns
    -------
    dict
        A new dict of settings.

    Raises
    ------
    ValueError
        When ``assignment`` is not ``KEY=VALUE``.

    Examples
    --------
    >>> apply_assignment({}, "train_size=60")
    {'train_size': 60}
    >>> apply_assignment({}, "model.raf.n_estimators=500")
    {'model': {'raf': {'n_estimators': 500}}}
    """
    key, sep, raw = assignment.partition("=")
    key, raw = key.strip(), raw.strip()
    if not sep or not key or not raw:
        raise ValueError(f"--set takes KEY=VALUE, such as --set train_size=60. Received: {assignment!r}")
    try:
        value = tomllib.loads(f"value = {raw}")["value"]
    except tomllib.TOMLDecodeError:
        value = raw
    settings = dict(settings)
    if key.startswith("grid."):
        grid = dict(settings.get("grid", QUICK["grid"] if settings.get("quick") is True else DEFAULT_GRID))
        grid[key.removeprefix("grid.")] = value
        settings["grid"] = grid
    elif key.startswith("model."):
        name, _, option = key.removeprefix("model.").partition(".")
        models = {model: dict(values) for model, values in settings.get("model", {}).items()}
        if option:
            models.setdefault(name, {})[option] = value
        else:
            models[name] = value
        settings["model"] = models
    else:
        settings[key] = value
    return settings


def fix(name: str, value) -> str:
    """How to set a setting from the command line: ``name=value (--set name=value)``."""
    return f"{name}={value} (--set {name}={value})"


def _check_grid(grid) -> None:
    if not isinstance(grid, dict) or not grid:
        raise ValueError(f"grid must be a table of make_model arguments to lists of values. Received: {grid!r}")
    for name, values in grid.items():
        if name not in TUNABLE:
            raise ValueError(f"Unknown grid parameter {name!r}: the model takes {', '.join(TUNABLE)}.")
        if not isinstance(values, list) or not values:
            raise ValueError(f"grid.{name} must be a non-empty list of values. Received: {values!r}")
        for value in values:
            _check_value(name, value)


def _check_value(name: str, value) -> None:
    if name == "dense_layers":
        if not isinstance(value, list) or not value or not all(
                isinstance(size, int) and not isinstance(size, bool) and size > 0 for size in value):
            raise ValueError(f"grid.dense_layers holds lists of positive layer sizes, such as [64, 64]. "
                             f"Received: {value!r}")
    elif name == "activation":
        activations.get(value)
    elif name == "optimizer":
        optimizers.get(value)
    elif name == "dropout":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
            raise ValueError(f"grid.dropout values must be in [0, 1). Received: {value!r}")
    elif isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValueError(f"grid.learning_rate values must be positive numbers. Received: {value!r}")


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return repr(value)
