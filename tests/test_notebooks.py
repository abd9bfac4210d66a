"""The notebooks under examples/notebooks run top to bottom in a real Jupyter kernel, and what a reader sees
there (summary tables, progress bars, figures) comes out sensibly."""

import base64
import re
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOKS = sorted((Path(__file__).parent.parent / "examples" / "notebooks").glob("*.ipynb"))


def as_displayed(text: str) -> str:
    """Stream text as a notebook shows it: a carriage return redraws its line."""
    return "\n".join(line.rsplit("\r", 1)[-1] for line in text.split("\n"))


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """Run each notebook once for the whole module; returns it with its outputs."""
    books = {}

    def run(path):
        if path not in books:
            book = nbformat.read(path, as_version=4)
            folder = tmp_path_factory.mktemp(path.stem)
            nbclient.NotebookClient(book, timeout=300, kernel_name="python3",
                                    resources={"metadata": {"path": str(folder)}}).execute()
            books[path] = book
        return books[path]

    return run


def test_there_are_notebooks_for_the_main_demos():
    assert {p.stem for p in NOTEBOOKS} >= {"moons", "circles", "spiral", "digits"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_top_to_bottom(path, executed):
    book = executed(path)
    outputs = [o for cell in book.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = as_displayed("".join(o.get("text", "") for o in outputs if o.output_type == "stream"))
    assert "Total params:" in text and "Trainable params:" in text       # summary() printed as a table
    pictures = [o for o in outputs if o.output_type in ("display_data", "execute_result") and "image/png" in o.data]
    assert pictures, "no figure was displayed"
    for picture in pictures:
        assert len(base64.b64decode(picture.data["image/png"])) > 5_000  # a drawn figure, not an empty canvas
    assert "Traceback" not in text


def test_progress_bars_redraw_in_place_in_a_notebook(executed):
    book = executed(next(p for p in NOTEBOOKS if p.stem == "moons"))
    fit_cell = next(c for c in book.cells if "epochs=3)" in c.source)
    shown = as_displayed("".join(o.text for o in fit_cell.outputs if o.output_type == "stream"))
    lines = [line for line in shown.splitlines() if line.strip()]
    assert [line for line in lines if line.startswith("Epoch")] == ["Epoch 1/3", "Epoch 2/3", "Epoch 3/3"]
    bars = [line for line in lines if not line.startswith("Epoch")]
    assert len(bars) == 3                                                  # one finished bar per epoch
    assert all(re.match(r"7/7 \S*━+\S* .*loss: \d\.\d{4} - acc: \d\.\d{4}", bar) for bar in bars), bars


def test_live_plot_replaces_its_picture_each_epoch(executed):
    """LivePlot updates one display (update_display_data): a fit cell ends with one picture, not one per epoch."""
    book = executed(next(p for p in NOTEBOOKS if p.stem == "live_loss"))
    fit_cells = [c for c in book.cells if c.cell_type == "code" and "callbacks=[plot]" in c.source]
    assert len(fit_cells) == 2
    for cell in fit_cells:
        pictures = [o for o in cell.outputs if o.output_type == "display_data" and "image/png" in o.data]
        assert len(pictures) == 1, [o.output_type for o in cell.outputs]
        assert len(base64.b64decode(pictures[0].data["image/png"])) > 20_000        # two drawn panels
        assert not [o for o in cell.outputs if o.output_type == "display_data" and not o.data]  # all filled
    printed = "".join(o.text for o in fit_cells[-1].outputs if o.output_type == "stream")
    assert "epochs drawn: 14, panels: ['loss', 'accuracy']" in printed    # 8 + 6 redraws of the same curves
