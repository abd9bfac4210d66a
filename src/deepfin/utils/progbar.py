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

    Returns
    -------
    bool
        Whether this process is a Jupyter kernel.
    """
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return getattr(shell, "kernel", None) is not None


def is_interactive(stream=None) -> bool:
    r"""True on a terminal or in a Jupyter kernel, where ``\r`` redraws a line.

    Parameters
    ----------
    stream : file-like or None, default None
        The output stream; None means ``sys.stdout``.

    Returns
    -------
    bool
        Whether the stream is a terminal or this process a Jupyter kernel.
    """
    stream = stream or sys.stdout
    return bool(getattr(stream, "isatty", lambda: False)()) or in_notebook()


def resolve_verbose(verbose) -> int:
    """The verbosity to use: 0, 1 or 2, with ``"auto"`` resolved to 1 where the output is interactive, else 2.

    Parameters
    ----------
    verbose : {0, 1, 2, "auto"}
        The verbosity asked for.

    Returns
    -------
    int
        0 (silent), 1 (a live bar) or 2 (a line per epoch).

    Raises
    ------
    ValueError
        For any other value (booleans included).
    """
    if verbose == "auto":
        return 1 if is_interactive() else 2
    if isinstance(verbose, bool) or verbose not in (0, 1, 2):
        raise ValueError(f"verbose must be 0, 1, 2 or 'auto'. Received: verbose={verbose!r}")
    return int(verbose)


def format_logs(logs: dict) -> str:
    """The logs as the progress line shows them: `` - name: value`` for each, to 4 decimals.

    Parameters
    ----------
    logs : dict of str to float
        The values by name.

    Returns
    -------
    str
        The joined parts (empty for no logs).

    Examples
    --------
    >>> from deepfin.utils.progbar import format_logs
    >>> format_logs({"loss": 0.41234, "accuracy": 0.81})
    ' - loss: 0.4123 - accuracy: 0.8100'
    """
    return "".join(f" - {k}: {v:.4f}" for k, v in logs.items())


def format_per_step(seconds: float, unit: str = "step") -> str:
    """A time per step as Keras shows it: whole seconds, milliseconds or microseconds.

    Parameters
    ----------
    seconds : float
        The time per unit.
    unit : str, default "step"
        The unit's name.

    Returns
    -------
    str
        For example ``"312us/step"``, ``"50ms/step"`` or ``"2s/step"``.
    """
    if seconds >= 1:
        return f"{seconds:.0f}s/{unit}"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms/{unit}"
    return f"{seconds * 1e6:.0f}us/{unit}"


class Progbar:
    """Progress of one epoch (or one evaluation) of ``target`` steps.

    With ``verbose=1`` on an interactive stream the bar is redrawn in place by ``update``; otherwise only
    ``finish`` writes, one line.

    Parameters
    ----------
    target : int
        The number of steps.
    verbose : int, default 1
        0 writes nothing, 1 a live bar (where the stream is interactive), 2 the final line only.
    width : int, default 20
        The bar's width in characters.
    interval : float, default 0.05
        The least time between redraws, in seconds.
    unit_name : str, default "step"
        The unit in the time per step.
    stream : file-like or None, default None
        Where to write; None means ``sys.stdout``.

    Notes
    -----
    Keras's ``Progbar`` takes ``width`` before ``verbose`` and ``stateful_metrics``, and its ``update`` takes
    ``values`` and ``finalize``; deepfin's ends with ``finish``.
    """

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

        Parameters
        ----------
        current : int
            The steps done.
        logs : dict, callable or None, default None
            The values to show, or a function returning them, called only when the bar is drawn (metrics such as
            an exact AUC are costly to compute at every step).
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
        """The final line: steps, time and the epoch's logs (validation included).

        Parameters
        ----------
        logs : dict or None, default None
            The values to show.
        """
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
