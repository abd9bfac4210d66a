"""The example scripts under examples/ run as a user runs them (small settings), and print what their
docstrings promise. Every script there is listed here, so a new one cannot go untested."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
RUNS = {  # script: (arguments, a pattern its output must match)
    "keras_moons.py": (["--epochs", "60"], r"epoch 60: loss \d\.\d{4}"),
    "sharpe_loss.py": ([], r"Sharpe"),
    "lstm_return_windows.py": (["--names", "20", "--days", "300", "--epochs", "2"], r"test AUC 0\.\d{3}"),
    "grid_search.py": (["--rows", "600", "--epochs", "2"], r"32 candidates in 2 stacks of \[16, 16\]"),
    "custom_layer.py": (["--epochs", "5"], r"the same predictions: True"),
    "walk_forward_study.py": (["--names", "40", "--years", "3", "--out", "{tmp}/run"], r"out-of-sample AUC 0\.\d+"),
}


def test_every_example_is_run_here():
    assert sorted(p.name for p in EXAMPLES.glob("*.py")) == sorted(RUNS)


@pytest.mark.parametrize("script", sorted(RUNS))
def test_example_runs(script, tmp_path):
    arguments, expected = RUNS[script]
    arguments = [a.format(tmp=tmp_path) for a in arguments]
    done = subprocess.run([sys.executable, str(EXAMPLES / script), *arguments], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert re.search(expected, done.stdout), done.stdout[-2000:]
