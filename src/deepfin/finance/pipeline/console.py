"""What ``deepfin run`` prints while it works: lines, and a Keras-style bar for each long step."""

from __future__ import annotations

from deepfin.utils.progbar import Progbar


def say(verbose: int, text: str) -> None:
    """Print ``text`` (flushed) when ``verbose`` is not 0."""
    if verbose:
        print(text, flush=True)


class progress:
    """A Keras-style progress bar as a context: ``with progress(n, verbose, unit) as advance:``.

    ``advance(steps=1)`` moves it ``steps`` at a time; the bar finishes when the block ends without an error.
    With ``verbose`` 0 nothing is shown.

    Parameters
    ----------
    total : int
        Steps in all.
    verbose : int
        0: no bar.
    unit : str
        What a step is ("fit", "window", ...).
    """

    def __init__(self, total: int, verbose: int, unit: str):
        self.bar = Progbar(total, verbose=verbose, unit_name=unit) if verbose else None
        self.done = 0

    def __enter__(self):
        return self.advance

    def advance(self, steps: int = 1) -> None:
        """Move the bar ``steps`` steps on."""
        self.done += steps
        if self.bar is not None:
            self.bar.update(self.done)

    def __exit__(self, error_type, *_):
        if self.bar is not None and error_type is None:
            self.bar.finish()
        return False
