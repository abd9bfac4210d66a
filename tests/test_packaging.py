"""The package's version is written once, and the dependency floors pyproject.toml declares are the ones
.ci/constraints-floors.txt pins (the environment `make test-floors` tests)."""

import json
import re
import tomllib
import zipfile
from importlib.metadata import version
from pathlib import Path

from packaging.version import Version

import deepfin
from deepfin.layers import Dense
from deepfin.models import Sequential

ROOT = Path(__file__).resolve().parents[1]


def _project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def test_the_version_is_written_once_and_recorded_in_model_files(tmp_path):
    assert "version" not in _project() and "version" in _project()["dynamic"]
    assert version("deepfin") == deepfin.__version__
    model = Sequential([Dense(1, input_shape=(2,))])
    model.save(tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as z:
        assert json.loads(z.read("metadata.json"))["version"] == deepfin.__version__


def test_the_declared_floors_are_the_pinned_floors():
    declared = {}
    for requirement in _project()["dependencies"]:
        name, floor = re.fullmatch(r"([A-Za-z0-9_.-]+)>=([0-9.]+)", requirement.replace(" ", "")).groups()
        declared[name.lower()] = Version(floor)
    pinned = {}
    for line in (ROOT / ".ci" / "constraints-floors.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, pin = line.split("==")
            pinned[name.lower()] = Version(pin)
    assert pinned == declared
    assert "rich" not in declared  # never imported
