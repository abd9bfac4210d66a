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

RECIPE_DEFAULTS = {  # Krauss et al. train on 750 days and trade 250; the seed's data are 10 years of months
    "monthly": {"train_size": 120, "test_size": 12, "window": "expanding", "batch_size": 32, "tuning_folds": 3,
                "lag": 0, "max_halt": 3},
    "daily": {"train_size": 750, "test_size": 250, "window": "rolling", "batch_size": 128, "tuning_folds": 2,
              "lag": 1,  # the day after the signal's close: a lag-0 daily book can live on the bid-ask bounce
              "max_halt": 10},  # periods without a price before a position counts as delisted
}
DEFAULT_GRID = {  # the seed's param_grid, and two learning rates
    "dense_layers": [[64], [64, 64], [96, 96], [128, 128]], "optimizer": ["RMSprop", "Adam"],
    "activation": ["relu", "tanh"], "dropout": [0.25, 0.5, 0.75], "learning_rate": [0.001, 0.0001]}
TUNING = ("once", "per_window")  # tune on the first windows, or again before every test window
PAPER_KS = (10, 50, 100, 150, 200)  # Krauss, Do and Huck's books of k long and k short names
SUB_PERIODS = ("2001-01-01", "2010-01-01")  # their sub-periods begin in 2001 and 2010
QUICK = {"grid": {"dense_layers": [[32]], "activation": ["relu", "tanh"], "dropout": [0.25], "optimizer": ["Adam"],
                  "learning_rate": [0.001]}, "epochs": 10, "patience": 2, "bootstrap": 200, "shuffled_folds": 3}


@dataclass(frozen=True)
class RunConfig:
    """Everything one run depends on; ``None`` means the recipe's default (see ``resolved``)."""

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
        """Settings from a dict; an unknown name is an error that suggests the closest known one."""
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
    """``settings`` with ``KEY=VALUE`` applied. The value is read as TOML (``60``, ``true``, ``[0.25, 0.5]``,
    ``"a;b"``), else taken as text. ``grid.NAME=[...]`` sets one grid parameter and keeps the rest of the grid
    in ``settings`` (the quick run's when ``quick`` is set, else the default one); ``model.NAME.KEY=VALUE`` sets
    one setting of a study's model, ``model.NAME={...}`` all of them."""
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
