"""LivePlot: the learning curves, redrawn after every epoch, inline in Jupyter or into a PNG file.

What livelossplot's ``PlotLossesKeras`` shows, for deepfin: one panel per metric (``loss``,
``accuracy``, ... and any other number in the epoch logs), with the training value and its
``val_`` twin as two lines in the same panel, the epoch on the x axis and the latest values in
the legend. In a Jupyter kernel the picture is one output that is replaced each epoch (a display
handle's ``update``, so the progress bar and prints of the cell stay); elsewhere it is a PNG file
rewritten atomically each epoch. matplotlib draws on its Agg canvas without pyplot: no window
opens and no figure is left registered with pyplot.
"""

from __future__ import annotations

import io
import math
import numbers
import os

from deepfin._files import atomic_write
from deepfin.callbacks.base import Callback
from deepfin.utils.progbar import in_notebook

DEFAULT_FILE = "live_loss.png"
_VALIDATION = "val_"


class LivePlot(Callback):
    """Redraw the learning curves after each epoch: inline in Jupyter, as a PNG file elsewhere.

    After an epoch, ``figure`` is the matplotlib ``Figure`` last drawn (``None`` before) and ``epochs`` the
    0-based epochs drawn. The x axis counts epochs from 1, as the progress bar does. A second ``fit`` with
    ``initial_epoch=k`` continues the curves of epochs before ``k``; a fit from epoch 0 starts them afresh. A
    redraw renders a PNG, a fraction of a second: fine for some hundreds of epochs, a noticeable share of the
    time for thousands of quick ones.

    livelossplot's ``PlotLossesKeras()`` becomes ``LivePlot()``; its name is not offered as an alias, since its
    arguments (``outputs``, ``groups``, ``mode``) are not these. Keras has no such callback.

    Parameters
    ----------
    metrics : str, list of str or None, default None
        The metrics to draw, as logged without the ``val_`` prefix (``["loss", "accuracy"]``; ``"val_loss"``
        means ``"loss"``); ``None`` draws every number in the logs. A name that is not in the logs raises
        ValueError at the first redraw.
    to_file : str, os.PathLike or None, default None
        Where the PNG is written after each epoch (through a temporary file renamed over it); ``None`` writes
        it nowhere when the plot shows inline and to ``live_loss.png`` in the current folder otherwise.
    figsize : tuple of (float, float) or None, default None
        The whole figure's ``(width, height)`` in inches; ``None`` gives each panel 6 x 4.
    max_cols : int, default 2
        The panels per row: more metrics wrap onto further rows.
    inline : bool or None, default None
        ``True`` shows the plot in the notebook's output (this needs IPython); ``None`` does so when running in
        a Jupyter kernel.

    Raises
    ------
    ValueError
        If ``metrics`` is not None, a name or a non-empty list of names, ``figsize`` is not two positive finite
        numbers, ``max_cols`` is not an integer >= 1, or ``inline`` is not True, False or None.
    """

    def __init__(self, metrics=None, to_file: str | os.PathLike | None = None, figsize=None,
                 max_cols: int = 2, inline: bool | None = None):
        super().__init__()
        self.metrics = _check_metrics(metrics)
        self.to_file = None if to_file is None else os.fspath(to_file)
        self.figsize = _check_figsize(figsize)
        if isinstance(max_cols, bool) or not isinstance(max_cols, int) or max_cols < 1:
            raise ValueError(f"max_cols must be an integer >= 1. Received: max_cols={max_cols!r}")
        if inline not in (None, True, False):
            raise ValueError(f"inline must be True, False or None (detect Jupyter). Received: inline={inline!r}")
        self.max_cols, self.inline = max_cols, inline
        self.figure = None
        self._points: dict[str, dict[int, float]] = {}  # log key -> {epoch: value}
        self._show_inline = False
        self._path = None
        self._handle = None
        self._new_run = True

    @property
    def epochs(self) -> list[int]:
        """The 0-based epochs that have a value in the curves, in order."""
        return sorted({epoch for points in self._points.values() for epoch in points})

    def on_train_begin(self, logs=None):
        """Decide where the plot goes (inline, file or both) and, inline, open an empty output to update."""
        self._show_inline = in_notebook() if self.inline is None else self.inline
        self._path = self.to_file if self.to_file is not None or self._show_inline else DEFAULT_FILE
        self._new_run = True
        if self._path is not None and os.path.dirname(self._path):
            os.makedirs(os.path.dirname(self._path), exist_ok=True)
        if self._show_inline:
            display, _ = _ipython_display()
            self._handle = display(display_id=True)  # an empty output, filled by each epoch's update

    def on_epoch_end(self, epoch, logs=None):
        """Add the epoch's numbers to the curves and redraw them (file and inline output)."""
        if self._new_run:  # a resumed fit keeps the epochs before its first one
            kept = {key: {e: v for e, v in points.items() if e < epoch} for key, points in self._points.items()}
            self._points = {key: points for key, points in kept.items() if points}
            self._new_run = False
        for key, value in (logs or {}).items():
            if isinstance(value, numbers.Real) and not isinstance(value, bool):
                self._points.setdefault(key, {})[epoch] = float(value)
        self._draw(epoch)
        png = _png_bytes(self.figure)
        if self._path is not None:
            with atomic_write(self._path) as stream:
                stream.write(png)
        if self._show_inline:
            _, image = _ipython_display()
            self._handle.update(image(data=png, format="png"))

    def on_train_end(self, logs=None):
        """Let go of the inline output: the next fit shows its plot in its own cell."""
        self._handle = None  # the next fit shows its plot in its own cell

    # ------------------------------------------------------------ drawing
    def panels(self) -> list[str]:
        """The metric of each panel, in the order first logged (``loss`` before ``accuracy``).

        Returns
        -------
        list of str
            ``metrics`` when given, else every metric logged so far (without the ``val_`` prefix).

        Raises
        ------
        ValueError
            If a name in ``metrics`` is not in the logs.
        """
        names = list(dict.fromkeys(_base(key) for key in self._points))
        if self.metrics is None:
            return names
        missing = [name for name in self.metrics if name not in names]
        if missing:
            raise ValueError(f"LivePlot got metrics that are not in the epoch logs: {missing}. "
                             f"Logged: {names}. Received: metrics={self.metrics}")
        return list(self.metrics)

    def _draw(self, epoch: int) -> None:
        # matplotlib is imported at the first draw, so importing deepfin.callbacks stays light
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        names = self.panels()
        ncols = min(self.max_cols, len(names)) or 1
        nrows = max(1, math.ceil(len(names) / ncols))
        size = self.figsize or (6.0 * ncols, 4.0 * nrows)
        if self.figure is None:
            self.figure = Figure()
            FigureCanvasAgg(self.figure)
        fig = self.figure
        fig.clear()
        fig.set_size_inches(size)
        fig.subplots_adjust(**_margins(size, nrows, ncols))
        for index, name in enumerate(names):
            self._draw_panel(fig.add_subplot(nrows, ncols, index + 1), name)
        total = self.params.get("epochs")
        fig.suptitle(f"epoch {epoch + 1}/{total}" if total else f"epoch {epoch + 1}")

    def _draw_panel(self, ax, name: str) -> None:
        from matplotlib.ticker import MaxNLocator

        for key, label, colour in ((name, "training", "C0"), (_VALIDATION + name, "validation", "C1")):
            points = self._points.get(key)
            if points:
                epochs = sorted(points)
                values = [points[e] for e in epochs]
                ax.plot([e + 1 for e in epochs], values, marker="o" if len(epochs) <= 50 else None,
                        markersize=3, color=colour, label=_label(label, values[-1]))
        if len(self.epochs) == 1:  # one point: whole epochs either side, not 0.945 ... 1.050
            ax.set_xlim(self.epochs[0], self.epochs[0] + 2)
        ax.set_title(name)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        ax.legend(loc="best")


def _margins(size, nrows: int, ncols: int) -> dict:
    """Fixed margins in inches as subplots_adjust fractions (a render took 0.17 s, 0.27 s with constrained layout)."""
    width, height = size
    left, right, bottom, top, gap_x, gap_y = 0.8, 0.25, 0.55, 0.75, 0.85, 0.95
    axes_width = max(width - left - right - gap_x * (ncols - 1), 0.5) / ncols
    axes_height = max(height - bottom - top - gap_y * (nrows - 1), 0.5) / nrows
    return {"left": min(left / width, 0.4), "right": max(1 - right / width, 0.6),
            "bottom": min(bottom / height, 0.4), "top": max(1 - top / height, 0.6),
            "wspace": gap_x / axes_width, "hspace": gap_y / axes_height}


def _label(name: str, value: float) -> str:
    shown = f"{value:.4f}" if value == 0 or 1e-3 <= abs(value) < 1e5 else f"{value:.3e}"
    return f"{name}: {shown}"


def _base(key: str) -> str:
    return key[len(_VALIDATION):] if key.startswith(_VALIDATION) else key


def _check_metrics(metrics) -> list[str] | None:
    if metrics is None:
        return None
    names = [metrics] if isinstance(metrics, str) else metrics
    if not isinstance(names, (list, tuple)) or not names or not all(isinstance(n, str) and n for n in names):
        raise ValueError(f"metrics must be None or a non-empty list of metric names such as ['loss', "
                         f"'accuracy']. Received: metrics={metrics!r}")
    return list(dict.fromkeys(_base(name) for name in names))


def _check_figsize(figsize):
    if figsize is None:
        return None
    try:
        width, height = (float(v) for v in figsize)
    except (TypeError, ValueError):
        width = height = float("nan")
    if not (width > 0 and height > 0 and math.isfinite(width) and math.isfinite(height)):
        raise ValueError(f"figsize must be None or (width, height) in inches, both > 0. "
                         f"Received: figsize={figsize!r}")
    return (width, height)


def _png_bytes(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()


def _ipython_display():
    """IPython's ``display`` and ``Image``, with a clear message when IPython is missing."""
    try:
        from IPython.display import Image, display
    except ImportError as error:
        raise ImportError("LivePlot(inline=True) shows the plot with IPython, which is not installed. "
                          "Install it (`pip install ipykernel`) or pass inline=False.") from error
    return display, Image
