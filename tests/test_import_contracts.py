"""The import contracts in pyproject.toml ([tool.importlinter]): deepfin.finance's subpackages import only those
below them, its data, rows, validation and backtest need no neural-network module, and the network stack imports
nothing of finance."""

import tomllib
from pathlib import Path

from importlinter.cli import lint_imports

import deepfin.finance

ROOT = Path(__file__).resolve().parents[1]


def _contracts() -> list[dict]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]


def test_the_import_contracts_hold():
    assert lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True) == 0


def test_every_finance_subpackage_is_a_layer():
    """A new subpackage of deepfin.finance must take its place among the layers, or it escapes the contract."""
    layers = next(c for c in _contracts() if c["type"] == "layers" and c["containers"] == ["deepfin.finance"])
    subpackages = {p.parent.name for p in Path(deepfin.finance.__file__).parent.glob("*/__init__.py")}
    modules = {p.stem for p in Path(deepfin.finance.__file__).parent.glob("*.py")} - {"__init__"}
    assert set(layers["layers"]) == subpackages
    assert not modules, f"modules outside the layers: {sorted(modules)}"
