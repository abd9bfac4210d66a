"""Boxes and arrows drawn with matplotlib: the picture behind ``plot_model`` and ``draw_graph``.

A ``Box`` is a small table (rows of ``Cell`` s, as Keras draws a layer); an ``Arrow`` joins two
boxes. ``draw_diagram`` lays the boxes out in ranks (``layered_layout``) in the direction
``rankdir`` names, as Graphviz does (``'TB'`` top to bottom, ``'LR'`` left to right, ``'BT'``,
``'RL'``), and returns a matplotlib ``Figure`` in which one data unit is one point, so text keeps
its size whatever the size of the graph. Nothing here needs Graphviz.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field
from pathlib import Path

from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Rectangle
from matplotlib.path import Path as MplPath
from matplotlib.textpath import TextToPath

from deepfin._files import save_figure
from deepfin.utils.layered_layout import layered_layout

RANKDIRS = ("TB", "LR", "BT", "RL")
SPLINES = ("ortho", "line", "polyline", "curved", "spline")
FONT_SIZE = 9.0
_PAD_X, _PAD_Y, _MARGIN = 6.0, 3.5, 12.0
_MAX_PIXELS, _MAX_SIDE = 40e6, 30000  # a huge graph is saved at a lower resolution, not as a gigabyte image
_measure = TextToPath()


@dataclass
class Cell:
    """One cell of a box: its text and colours.

    Parameters
    ----------
    text : str
        The text.
    bold : bool, default False
        Whether the text is bold.
    face : str, default "white"
        The cell's background colour (a matplotlib colour).
    color : str, default "black"
        The text's colour.
    """

    text: str
    bold: bool = False
    face: str = "white"
    color: str = "black"


@dataclass
class Box:
    """A node of the diagram: rows of cells, and an optional group name.

    Parameters
    ----------
    rows : list of list of Cell
        The box's rows, top to bottom; each row's cells side by side.
    group : str or None, default None
        The name of the group the box belongs to: ``draw_diagram`` frames each group's boxes.

    Attributes
    ----------
    size : tuple of (float, float)
        Its width and height in points, set by ``draw_diagram``.
    """

    rows: list[list[Cell]]
    group: str | None = None
    size: tuple[float, float] = field(default=(0.0, 0.0), init=False)


@dataclass
class Arrow:
    """An edge from box ``source`` to box ``target`` (indices into the boxes).

    Parameters
    ----------
    source : int
        The index of the box it leaves.
    target : int
        The index of the box it enters.
    color : str, default "black"
        Its colour.
    style : str, default "solid"
        Its line style (a matplotlib line style).
    reverse : bool, default False
        Draw it from target to source, beside the forward edge (a backward pass), in its own colour and style;
        such an arrow does not take part in the layout.
    """

    source: int
    target: int
    color: str = "black"
    style: str = "solid"
    reverse: bool = False


def check_rankdir(rankdir: str) -> str:
    """``rankdir`` itself, if it is one of ``'TB'``, ``'LR'``, ``'BT'`` and ``'RL'``.

    Parameters
    ----------
    rankdir : str
        The direction asked for.

    Returns
    -------
    str
        ``rankdir``.

    Raises
    ------
    ValueError
        For any other value.
    """
    if rankdir not in RANKDIRS:
        raise ValueError(f"rankdir must be one of {RANKDIRS}. Received: rankdir={rankdir!r}")
    return rankdir


def check_format(path: str | os.PathLike) -> str:
    """The picture format ``path``'s extension names (``'png'`` without one); raise if matplotlib lacks it.

    Parameters
    ----------
    path : str or os.PathLike
        The file the picture is meant for.

    Returns
    -------
    str
        The format, in lower case.

    Raises
    ------
    ValueError
        If matplotlib cannot write that format (the message lists those it can).

    Examples
    --------
    >>> from deepfin.utils.diagram import check_format
    >>> check_format("graph.SVG"), check_format("graph")
    ('svg', 'png')
    """
    from matplotlib.backend_bases import FigureCanvasBase

    fmt = Path(path).suffix.lstrip(".").lower() or "png"
    supported = FigureCanvasBase.get_supported_filetypes()
    if fmt not in supported:
        raise ValueError(
            f"Cannot write a picture to {os.fspath(path)!r}: '.{fmt}' is not a format matplotlib writes. "
            f"Use one of: {', '.join('.' + k for k in sorted(supported))}. Received: to_file={os.fspath(path)!r}"
        )
    return fmt


def draw_diagram(boxes: list[Box], arrows: list[Arrow], rankdir: str = "TB", splines: str = "ortho",
                 title: str | None = None) -> Figure:
    """Lay out ``boxes`` joined by ``arrows`` in ranks along ``rankdir``; one data unit is one point.

    Parameters
    ----------
    boxes : list of Box
        The nodes; their ``size`` is set here.
    arrows : list of Arrow
        The edges, by box index.
    rankdir : {"TB", "LR", "BT", "RL"}, default "TB"
        The direction of the ranks, as Graphviz's.
    splines : {"ortho", "line", "polyline", "curved", "spline"}, default "ortho"
        How arrows run: right angles, straight, or smooth.
    title : str or None, default None
        A bold title above the diagram.

    Returns
    -------
    matplotlib.figure.Figure
        The picture, not registered with pyplot.

    Raises
    ------
    ValueError
        If ``rankdir`` or ``splines`` is not one of those above.
    """
    check_rankdir(rankdir)
    if splines not in SPLINES:
        raise ValueError(f"splines must be one of {SPLINES}. Received: splines={splines!r}")
    for box in boxes:
        box.size = _box_size(box)
    across = 0 if rankdir in ("TB", "BT") else 1
    sizes = [(b.size[across], b.size[1 - across]) for b in boxes]
    layout = layered_layout(sizes, [(a.source, a.target) for a in arrows if not a.reverse])
    top = 2 * FONT_SIZE if title else 0.0
    width, height = (layout.breadth, layout.depth) if across == 0 else (layout.depth, layout.breadth)
    width, height = width + 2 * _MARGIN, height + 2 * _MARGIN + top

    def xy(point):
        breadth, depth = point
        x, y = (breadth, depth) if across == 0 else (depth, breadth)
        if rankdir == "BT":
            y = height - 2 * _MARGIN - top - y
        if rankdir == "RL":
            x = width - 2 * _MARGIN - x
        return x + _MARGIN, y + _MARGIN + top

    fig = Figure(figsize=(width / 72, height / 72))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(height, 0)
    ax.set_axis_off()
    centres = [xy(c) for c in layout.centres]
    paths = {(a.source, a.target): [xy(p) for p in path]
             for a, path in zip([a for a in arrows if not a.reverse], layout.paths)}
    for arrow in arrows:
        _draw_arrow(ax, arrow, paths.get((arrow.source, arrow.target)), boxes, centres, across, splines)
    for box, centre in zip(boxes, centres):
        _draw_box(ax, box, centre)
    _draw_groups(ax, boxes, centres)
    if title:
        ax.text(width / 2, _MARGIN, _escape(title), ha="center", va="top", fontsize=FONT_SIZE + 2,
                fontweight="bold")
    return fig


def save_diagram(fig: Figure, path: str | os.PathLike, dpi: int) -> Path:
    """Save to ``path`` in the format its extension names (PNG without one), never half-written.

    A huge diagram is saved at a lower resolution than ``dpi`` (at most 40 million pixels and 30,000 a side).

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The diagram.
    path : str or os.PathLike
        The file to write.
    dpi : int
        The resolution of a raster picture, in dots per inch.

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    ValueError
        If matplotlib cannot write the format.
    """
    check_format(path)
    width, height = fig.get_size_inches()
    dpi = min(float(dpi), (_MAX_PIXELS / (width * height)) ** 0.5, _MAX_SIDE / max(width, height))
    return save_figure(fig, path, dpi)


@functools.lru_cache(maxsize=2)
def _font(bold: bool) -> FontProperties:
    return FontProperties(size=FONT_SIZE, weight="bold" if bold else "normal")


def _escape(text: str) -> str:
    return text.replace("$", r"\$")


def _text_size(cell: Cell) -> tuple[float, float]:
    return _measured(cell.text, cell.bold)


@functools.lru_cache(maxsize=4096)
def _measured(text: str, bold: bool) -> tuple[float, float]:
    width, _, _ = _measure.get_text_width_height_descent(text, _font(bold), ismath=False)
    return width + 2 * _PAD_X, FONT_SIZE * 1.25 + 2 * _PAD_Y


def _box_size(box: Box) -> tuple[float, float]:
    widths = [sum(_text_size(c)[0] for c in row) for row in box.rows]
    return max(widths), sum(max(_text_size(c)[1] for c in row) for row in box.rows)


def _draw_box(ax, box: Box, centre) -> None:
    width, height = box.size
    left, y = centre[0] - width / 2, centre[1] - height / 2
    for row in box.rows:
        row_height = max(_text_size(c)[1] for c in row)
        natural = [_text_size(c)[0] for c in row]
        x = left
        for cell, w in zip(row, natural):
            w = w * width / sum(natural)
            ax.add_artist(Rectangle((x, y), w, row_height, facecolor=cell.face, edgecolor="black",
                                   linewidth=0.8, zorder=3))
            ax.text(x + w / 2, y + row_height / 2, _escape(cell.text), ha="center", va="center",
                    fontproperties=_font(cell.bold), color=cell.color, zorder=4)
            x += w
        y += row_height


def _draw_arrow(ax, arrow: Arrow, points, boxes, centres, across: int, splines: str) -> None:
    if points is None:
        return
    points = [_port(points[0], points[1], boxes[arrow.source], centres[arrow.source], across),
              *points[1:-1],
              _port(points[-1], points[-2], boxes[arrow.target], centres[arrow.target], across)]
    if arrow.reverse:
        points = [(x + 5.0 * (1 - across), y + 5.0 * across) for x, y in reversed(points)]
    vertices, codes = _route(points, across, "line" if arrow.reverse else splines)
    ax.add_artist(FancyArrowPatch(path=MplPath(vertices, codes), arrowstyle="-|>", mutation_scale=9,
                                 color=arrow.color, linestyle=arrow.style, linewidth=1.0,
                                 shrinkA=0, shrinkB=0, zorder=2))


def _port(point, toward, box: Box, centre, across: int):
    """Where an edge leaves or enters ``box``: the middle of the side that faces ``toward``."""
    depth_axis = 1 - across
    half = box.size[depth_axis] / 2
    sign = 1 if toward[depth_axis] > point[depth_axis] else -1
    port = list(centre)
    port[depth_axis] = centre[depth_axis] + sign * half
    return tuple(port)


def _route(points, across: int, splines: str):
    """Vertices and path codes through ``points``: straight, right-angled or smooth."""
    depth_axis = 1 - across
    vertices, codes = [points[0]], [MplPath.MOVETO]
    for p, q in zip(points, points[1:]):
        middle = (p[depth_axis] + q[depth_axis]) / 2
        bend_p, bend_q = list(p), list(q)
        bend_p[depth_axis] = bend_q[depth_axis] = middle
        if splines == "ortho":
            vertices += [tuple(bend_p), tuple(bend_q), q]
            codes += [MplPath.LINETO] * 3
        elif splines in ("curved", "spline"):
            vertices += [tuple(bend_p), tuple(bend_q), q]
            codes += [MplPath.CURVE4] * 3
        else:
            vertices.append(q)
            codes.append(MplPath.LINETO)
    return vertices, codes


def _draw_groups(ax, boxes: list[Box], centres) -> None:
    """A dashed frame, labelled with the group's name, around the boxes of each group."""
    groups: dict[str, list[int]] = {}
    for i, box in enumerate(boxes):
        if box.group:
            groups.setdefault(box.group, []).append(i)
    for name, members in groups.items():
        lefts = [centres[i][0] - boxes[i].size[0] / 2 for i in members]
        rights = [centres[i][0] + boxes[i].size[0] / 2 for i in members]
        tops = [centres[i][1] - boxes[i].size[1] / 2 for i in members]
        bottoms = [centres[i][1] + boxes[i].size[1] / 2 for i in members]
        pad = 7.0
        x, y = min(lefts) - pad, min(tops) - pad - FONT_SIZE
        ax.add_artist(FancyBboxPatch((x, y), max(rights) - x + pad, max(bottoms) - y + pad,
                                    boxstyle="round,pad=0,rounding_size=4", facecolor="none",
                                    edgecolor="0.4", linestyle="--", linewidth=0.8, zorder=1))
        ax.text(x + 4, y + 2, _escape(name), fontsize=FONT_SIZE - 1, color="0.3", va="top", zorder=1)
