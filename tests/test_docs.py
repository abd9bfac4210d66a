"""The documentation site: its Python code blocks run, and ``mkdocs build --strict`` builds it without a warning.

A guide's ```python block runs as written, the blocks of one page in order in one namespace (a later block may
use what an earlier one made), in a temporary folder. A block that shows a fragment (it uses names the reader
brings, such as their own ``X`` and ``y``) is marked with ``<!-- fragment -->`` on the line before it and is
not run.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
BLOCK = re.compile(r"(<!-- fragment -->\n)?```python\n(.*?)```", re.S)


def pages_with_code() -> list[Path]:
    return sorted(p for p in DOCS.rglob("*.md") if "```python" in p.read_text())


@pytest.mark.parametrize("page", pages_with_code(), ids=lambda p: str(p.relative_to(DOCS)))
def test_code_blocks_of_a_page_run(page, tmp_path, monkeypatch):
    blocks = [code for fragment, code in BLOCK.findall(page.read_text()) if not fragment]
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "__docs__"}
    for code in blocks:
        exec(compile(code, str(page), "exec"), namespace)


def test_every_guide_block_is_run_or_marked_a_fragment():
    """A block whose code cannot run must say so (a fragment), so that an unmarked block is one that runs."""
    for page in pages_with_code():
        text = page.read_text()
        assert text.count("```python") == len(BLOCK.findall(text)), page


@pytest.mark.skipif(shutil.which("mkdocs") is None and not (Path(sys.executable).parent / "mkdocs").exists(),
                    reason="the docs extra (mkdocs) is not installed")
def test_site_builds_with_no_warning(tmp_path):
    mkdocs = shutil.which("mkdocs") or str(Path(sys.executable).parent / "mkdocs")
    built = subprocess.run([mkdocs, "build", "--strict", "--site-dir", str(tmp_path / "site")], cwd=ROOT,
                           env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
                           capture_output=True, text=True)
    assert built.returncode == 0, built.stderr[-4000:]
    assert "WARNING" not in built.stderr, built.stderr[-4000:]
    assert (tmp_path / "site" / "index.html").exists()
    assert (tmp_path / "site" / "reference" / "api" / "layers" / "index.html").exists()
