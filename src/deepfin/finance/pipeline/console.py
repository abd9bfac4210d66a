"""What ``deepfin run`` prints while it works: lines, and a Keras-style bar for each long step."""

from __future__ import annotations

from deepfin.utils.progbar import Progbar


def say(verbose: int, text: str) -> None:
    if verbose:
        print(text, flush=True)


class progress:
    """``with progress(n, verbose, unit) as advance:`` a Keras-style bar, ``advance(steps=1)`` steps at a time."""

    def __init__(self, total: int, verbose: int, unit: str):
        self.bar = Progbar(total, verbose=verbose, unit_name=unit) if verbose else None
        self.done = 0

    def __enter__(self):
        return self.advance

    def advance(self, steps: int = 1) -> None:
        self.done += steps
        if self.bar is not None:
            self.bar.update(self.done)

    def __exit__(self, error_type, *_):
        if self.bar is not None and error_type is None:
            self.bar.finish()
        return False
