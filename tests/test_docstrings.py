"""Docstrings: at least 95% of the package's public names have one (interrogate, configured in pyproject.toml),
and neither the package nor the documentation calls its sources "the seed": it cites them by name."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SEED = re.compile(r"\bthe seeds?'s?\b(?!\s+(of|for|that|to|given|it|each)\b)|\bseeds?'s\b|shared/seeds", re.I)


@pytest.mark.skipif(shutil.which("interrogate") is None and not (Path(sys.executable).parent / "interrogate").exists(),
                    reason="interrogate (the docs extra) is not installed")
def test_public_names_have_docstrings():
    tool = shutil.which("interrogate") or str(Path(sys.executable).parent / "interrogate")
    checked = subprocess.run([tool, "src/deepfin"], cwd=ROOT, capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout[-3000:] + checked.stderr[-2000:]


def test_no_text_calls_its_sources_the_seed():
    texts = [*ROOT.joinpath("src", "deepfin").rglob("*.py"), *ROOT.joinpath("docs").rglob("*.md"),
             ROOT / "README.md", *ROOT.joinpath("examples").glob("*.py"), *ROOT.joinpath("examples").glob("*.toml")]
    found = [f"{path.relative_to(ROOT)}:{number}: {line.strip()}" for path in texts
             for number, line in enumerate(path.read_text().splitlines(), 1) if SEED.search(line)]
    assert not found, "\n".join(found[:40])
