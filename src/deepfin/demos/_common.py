"""What every demo shares: where its pictures go, and how it prints and saves them."""

from __future__ import annotations

from pathlib import Path

from deepfin.viz import save_figure


class Output:
    """The demo's output folder (created on first save) and a list of the files written.

    Parameters
    ----------
    folder : str, Path or None
        The folder; None: ``runs/<demo>``.
    demo : str
        The demo's name.
    """

    def __init__(self, folder: str | Path | None, demo: str):
        self.folder = Path(folder) if folder is not None else Path("runs") / demo
        self.files: list[Path] = []

    def save(self, fig, filename: str) -> Path:
        """Save a figure as ``filename`` in the folder (``deepfin.viz.save_figure``); returns its path."""
        path = save_figure(fig, self.folder / filename)
        self.files.append(path)
        return path

    def announce(self) -> None:
        """Print a line for each file written."""
        for path in self.files:
            print(f"  wrote {path}")


def line(label: str, value: str) -> None:
    """One aligned line of a demo's report."""
    print(f"  {label:<38} {value}")
