"""The settings of ``deepfin run``: defaults per recipe, a TOML file, and checks that fail before training.

A ``run.toml`` holds any of the fields of ``RunConfig`` and a ``[grid]`` table of ``make_model`` arguments::

    recipe = "daily"
    k = 10
    cost_bps = 5
    [grid]
    dense_layers = [[64], [64, 64]]
    dropout = [0.25, 0.5]

Sizes (``train_size``, ``test_size``, ``purge``, ``embargo``) count periods of the recipe: months or days.
``data`` is a path relative to the folder ``deepfin run`` is started in (or absolute).
"""

from __future__ import annotations

import difflib
import math
import tomllib
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

from deepfin import activations, optimizers
from deepfin.finance.features import RECIPES
from deepfin.finance.model import TUNABLE

RECIPE_DEFAULTS = {  # Krauss et al. train on 750 days and trade 250; the seed's data are 10 years of months
    "monthly": {"train_size": 120, "test_size": 12, "window": "expanding", "batch_size": 32, "tuning_folds": 3},
    "daily": {"train_size": 750, "test_size": 250, "window": "rolling", "batch_size": 128, "tuning_folds": 2},
}
DEFAULT_GRID = {  # the seed's param_grid, and two learning rates
    "dense_layers": [[64], [64, 64], [96, 96], [128, 128]], "optimizer": ["RMSprop", "Adam"],
    "activation": ["relu", "tanh"], "dropout": [0.25, 0.5, 0.75], "learning_rate": [0.001, 0.0001]}
QUICK = {"grid": {"dense_layers": [[32]], "activation": ["relu", "tanh"], "dropout": [0.25], "optimizer": ["Adam"],
                  "learning_rate": [0.001]}, "epochs": 10, "patience": 2, "bootstrap": 200, "shuffled_folds": 3}


@dataclass(frozen=True)
class RunConfig:
    """Everything one run depends on; ``None`` means the recipe's default (see ``resolved``)."""

    data: str | None = None
    recipe: str = "monthly"
    lags: int = 24
    dummies: bool = False
    min_history: int = 260
    train_size: int | None = None
    test_size: int | None = None
    window: str | None = None
    purge: int = 1
    embargo: int = 0
    tuning_folds: int | None = None
    validation_split: float = 0.2
    epochs: int = 50
    patience: int = 5
    batch_size: int | None = None
    grid: dict = field(default_factory=lambda: dict(DEFAULT_GRID))
    k: int | None = None
    cost_bps: float = 5.0
    bootstrap: int = 1000
    shuffled_folds: int = 5
    seed: int = 0
    quick: bool = False

    def __post_init__(self):
        self._check()

    @classmethod
    def from_toml(cls, path, **overrides) -> RunConfig:
        """Settings from a TOML file; ``overrides`` (the command line's, not None) win."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"No configuration file at {path}.")
        with path.open("rb") as file:
            try:
                settings = tomllib.load(file)
            except tomllib.TOMLDecodeError as error:
                raise ValueError(f"{path} is not valid TOML: {error}") from None
        return cls.from_dict({**settings, **overrides}, origin=str(path))

    @classmethod
    def from_dict(cls, settings: dict, origin: str = "the settings") -> RunConfig:
        known = [f.name for f in fields(cls)]
        for name in settings:
            if name not in known:
                close = difflib.get_close_matches(name, known, n=1)
                hint = f" Did you mean {close[0]!r}?" if close else ""
                raise ValueError(f"Unknown setting {name!r} in {origin}.{hint} Known settings: {', '.join(known)}.")
        return cls(**settings)

    def resolved(self) -> RunConfig:
        """The recipe's defaults filled in, and the smaller quick run applied where ``quick``."""
        filled = {name: value for name, value in RECIPE_DEFAULTS[self.recipe].items() if getattr(self, name) is None}
        if self.quick:  # settings left at their defaults get the quick run's
            default = RunConfig()
            filled.update({name: value for name, value in QUICK.items()
                           if getattr(self, name) == getattr(default, name)})
        return replace(self, **filled)

    def k_for(self, n_tickers: int) -> int:
        """``k``, or by default a quarter of the universe, at most Krauss et al.'s 10."""
        if n_tickers < 2:
            raise ValueError(f"A long-short backtest needs at least 2 tickers; the data have {n_tickers}.")
        k = self.k if self.k is not None else max(1, min(10, n_tickers // 4))
        if 2 * k > n_tickers:
            raise ValueError(f"k={k} is larger than half the universe ({n_tickers} tickers after validation): the "
                             f"long and short legs would overlap. Set k to at most {n_tickers // 2}.")
        return k

    def as_dict(self) -> dict:
        return {name: value for name, value in asdict(self).items() if value is not None}

    def to_toml(self) -> str:
        """This configuration as a ``run.toml`` that ``deepfin run --config`` reads back."""
        settings = self.as_dict()
        grid = settings.pop("grid")
        lines = [f"{name} = {_toml_value(value)}" for name, value in settings.items()]
        lines += ["", "[grid]"] + [f"{name} = {_toml_value(value)}" for name, value in grid.items()]
        return "\n".join(lines) + "\n"

    # ------------------------------------------------------------------ checks
    def _check(self) -> None:
        if self.recipe not in RECIPES:
            raise ValueError(f"Unknown recipe {self.recipe!r}: expected one of {sorted(RECIPES)}.")
        if self.window not in (None, "rolling", "expanding"):
            raise ValueError(f"window must be 'rolling' or 'expanding'. Received: window={self.window!r}")
        for name, least in (("lags", 1), ("min_history", 2), ("train_size", 1), ("test_size", 1), ("purge", 0),
                            ("embargo", 0), ("tuning_folds", 1), ("epochs", 1), ("patience", 0), ("batch_size", 1),
                            ("k", 1), ("bootstrap", 10), ("shuffled_folds", 2), ("seed", 0)):
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
        _check_grid(self.grid)


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
