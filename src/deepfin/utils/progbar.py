"""Keras's training progress display: a live bar on a terminal or notebook, a line per epoch otherwise.

    Epoch 3/10
    25/25 ━━━━━━━━━━━━━━━━━━━━ 0s 312us/step - loss: 0.4123 - accuracy: 0.8100

``verbose=1`` redraws the bar in place (at most every ``interval`` seconds), ``verbose=2`` prints
only the finished line, ``verbose='auto'`` picks 1 where the output is interactive and 2 elsewhere.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable


def in_notebook() -> bool:
    """True inside a Jupyter kernel (an IPython shell with a kernel), where pictures show inline.

    A terminal IPython and plain Python are not notebooks; IPython is never imported here.
    """
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return getattr(shell, "kernel", None) is not None


def is_interactive(stream=None) -> bool:
    """True on a terminal or in a Jupyter kernel, where ``\\r`` redraws a line."""
    stream = stream or sys.stdout
    return bool(getattr(stream, "isatty", lambda: False)()) or in_notebook()


def resolve_verbose(verbose) -> int:
    if verbose == "auto":
        return 1 if is_interactive() else 2
    if isinstance(verbose, bool) or verbose not in (0, 1, 2):
        raise ValueError(f"verbose must be 0, 1, 2 or 'auto'. Received: verbose={verbose!r}")
    return int(verbose)


def format_logs(logs: dict) -> str:
    return "".join(f" - {k}: {v:.4f}" for k, v in logs.items())


def format_per_step(seconds: float, unit: str = "step") -> str:
    if seconds >= 1:
        return f"{seconds:.0f}s/{unit}"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms/{unit}"
    return f"{seconds * 1e6:.0f}us/{unit}"


class Progbar:
    """Progress of one epoch (or one evaluation) of ``target`` steps."""

    def __init__(self, target: int, verbose: int = 1, width: int = 20, interval: float = 0.05,
                 unit_name: str = "step", stream=None):
        self.target, self.verbose, self.width = target, verbose, width
        self.interval, self.unit_name = interval, unit_name
        self.stream = stream or sys.stdout
        self.dynamic = verbose == 1 and is_interactive(self.stream)
        self.start = time.perf_counter()
        self._last_draw = 0.0
        self._last_length = 0

    def update(self, current: int, logs: dict | Callable[[], dict] | None = None) -> None:
        """Redraw for ``current`` steps done, if the display is live and a redraw is due.

        ``logs`` may be a function, called only when the bar is drawn (metrics such as an exact
        AUC are costly to compute at every step).
        """
        now = time.perf_counter()
        if not self.dynamic or now - self._last_draw < self.interval:
            return
        self._last_draw = now
        elapsed = now - self.start
        per_step = elapsed / max(current, 1)
        eta = per_step * (self.target - current)
        self._write(current, f"{eta:.0f}s {format_per_step(per_step, self.unit_name)}", logs)

    def finish(self, logs: dict | None = None) -> None:
        """The final line: steps, time and the epoch's logs (validation included)."""
        if not self.verbose:
            return
        elapsed = time.perf_counter() - self.start
        per_step = format_per_step(elapsed / max(self.target, 1), self.unit_name)
        if self.dynamic:
            self._write(self.target, f"{elapsed:.0f}s {per_step}", logs)
            self.stream.write("\n")
        else:
            self.stream.write(f"{self.target}/{self.target} - {elapsed:.0f}s - {per_step}{format_logs(logs or {})}\n")
        self.stream.flush()

    def _write(self, current: int, timing: str, logs) -> None:
        logs = logs() if callable(logs) else (logs or {})
        filled = int(self.width * current / max(self.target, 1))
        bar = "\x1b[32m" + "━" * filled + "\x1b[0m" + "\x1b[2m" + "━" * (self.width - filled) + "\x1b[0m"
        digits = len(str(self.target))
        line = f"\r{current:>{digits}}/{self.target} {bar} {timing}{format_logs(logs)}"
        padding = max(self._last_length - len(line), 0)
        self._last_length = len(line)
        self.stream.write(line + " " * padding)
        self.stream.flush()
