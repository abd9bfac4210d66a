"""``draw_graph``: the engine's computational graph behind a tensor, forward and backward.

Every operation is a box named after it (``mul``, ``dense (activation=relu)``, ``sum (axis=1)``); every leaf
is a box too: a weight (a ``Variable``) under its path (``dense/kernel``), a tensor that requires a gradient,
the data, or a constant. Black arrows run the forward pass, from the leaves to the result. Once
``backward()`` has run, dashed red arrows run the backward pass, from the result back to every tensor that
receives a gradient, and each leaf shows the gradient it received (its values when small, else its norm).
This is the picture Klaas (2019, ch. 1) draws of a computational graph and of the forward and backward pass
through a logistic regressor.
"""

from __future__ import annotations

import os

import numpy as np

from deepfin._text import shape_str
from deepfin.engine.graph import tensors_behind
from deepfin.engine.tensor import Tensor
from deepfin.engine.variable import Variable
from deepfin.utils.diagram import Arrow, Box, Cell, check_format, check_rankdir, draw_diagram, save_diagram

MAX_NODES = 2000
_OP, _WEIGHT, _LEAF, _DATA, _ROOT = "#d9e8f5", "#fbe3c4", "#e3f1d8", "#eeeeee", "#f6d0d0"
_BACKWARD = "#c0392b"


def draw_graph(tensor: Tensor, to_file: str | os.PathLike | None = None, show_shapes: bool = True,
               show_values: bool = True, show_backward: bool | None = None, rankdir: str = "LR",
               dpi: int = 100):
    """Draw the operations and leaves ``tensor`` was computed from, and save the picture to ``to_file``.

    Parameters
    ----------
    tensor : Tensor
        A result of engine operations (a loss, a layer's output), computed with gradients recorded: some input
        required a gradient, outside ``no_grad``.
    to_file : str, os.PathLike or None, default None
        Where the picture goes, its extension picking the format (``.png``, ``.pdf``, ``.svg``, ...); ``None``
        writes nothing.
    show_shapes : bool, default True
        Write each tensor's shape (and dtype) in its box.
    show_values : bool, default True
        Write the values of tensors of at most four elements (a loss, a scalar weight) and of the gradients of
        such leaves.
    show_backward : bool or None, default None
        Draw the backward pass (dashed red arrows, and the gradient each leaf received); ``None`` draws it when
        ``backward()`` has run, that is when some leaf has a ``.grad``.
    rankdir : {"LR", "TB", "RL", "BT"}, default "LR"
        ``'LR'`` draws the forward pass left to right, as Klaas (2019) draws it, ``'TB'`` top to bottom, and
        ``'RL'`` and ``'BT'`` reverse them.
    dpi : int, default 100
        The resolution of a raster picture, in dots per inch.

    Returns
    -------
    matplotlib.figure.Figure
        The picture, which Jupyter shows inline.

    Raises
    ------
    TypeError
        If ``tensor`` is not a deepfin Tensor.
    ValueError
        If the tensor has no recorded graph (a leaf), the graph has more than 2,000 tensors, ``rankdir`` is not
        one of the four, or ``to_file``'s format is not one matplotlib writes.

    Examples
    --------
    The forward and backward pass of a one-weight logistic regressor's log loss on one example (x = 2, y = 1):

    >>> import numpy as np
    >>> from deepfin import Tensor, ops, utils
    >>> w = Tensor(np.array([0.5]), requires_grad=True)
    >>> loss = ops.softplus(w * -2.0)
    >>> loss.backward()
    >>> figure = utils.draw_graph(loss)
    >>> figure.axes[0].texts[-1].get_text()
    '2 operations, 2 leaves: forward pass in black, backward pass (gradients) dashed red'
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"draw_graph needs a deepfin Tensor. Received: {type(tensor).__name__}")
    if to_file is not None:
        check_format(to_file)
    check_rankdir(rankdir)
    nodes = tensors_behind(tensor)
    if len(nodes) == 1:
        raise ValueError(
            "This tensor has no recorded graph to draw: no input of its computation required a gradient, "
            "or it ran under no_grad(). Received a leaf tensor of shape "
            f"{tensor.shape}; compute it from tensors with requires_grad=True (or a model's weights)."
        )
    if len(nodes) > MAX_NODES:
        raise ValueError(f"The graph has {len(nodes)} tensors; draw_graph draws at most {MAX_NODES}.")
    if show_backward is None:
        show_backward = any(n.grad is not None for n in nodes if not n.parents)
    index = {id(n): i for i, n in enumerate(nodes)}
    boxes = [Box(_rows(n, n is tensor, show_shapes, show_values, show_backward)) for n in nodes]
    arrows = [Arrow(index[id(p)], index[id(n)]) for n in nodes for p in n.parents]
    if show_backward:
        arrows += [Arrow(index[id(p)], index[id(n)], color=_BACKWARD, style="--", reverse=True)
                   for n in nodes for p in n.parents if p.requires_grad]
    title = f"{sum(1 for n in nodes if n.parents)} operations, {sum(1 for n in nodes if not n.parents)} leaves"
    title += ": forward pass in black, backward pass (gradients) dashed red" if show_backward else \
        ": the forward pass"
    fig = draw_diagram(boxes, arrows, rankdir=rankdir, splines="curved", title=title)
    if to_file is not None:
        save_diagram(fig, to_file, dpi)
    return fig


def _rows(node: Tensor, is_root: bool, show_shapes: bool, show_values: bool, show_backward: bool):
    kind, face = _kind(node)
    header = [Cell(_title(node), bold=True, face=_ROOT if is_root else face)]
    if kind:
        header.append(Cell(kind, face=face))
    rows = [header]
    if show_shapes:
        rows.append([Cell(f"shape {shape_str(node.shape)}  {node.dtype}")])
    if show_values and node.size <= 4:
        rows.append([Cell(f"value {_numbers(node.data)}")])
    if show_backward and not node.parents and node.grad is not None:
        grad = node.grad
        text = _numbers(grad) if show_values and grad.size <= 4 else f"norm {np.linalg.norm(grad):.3g}"
        rows.append([Cell(f"grad {text}", face="#fdecea", color=_BACKWARD)])
    return rows


def _kind(node: Tensor) -> tuple[str | None, str]:
    if node.parents:
        return None, _OP
    if isinstance(node, Variable):
        return ("weight" if node.trainable else "non-trainable weight"), _WEIGHT
    if node.requires_grad:
        return "leaf, requires_grad", _LEAF
    return ("constant" if node.size == 1 else "input"), _DATA


def _title(node: Tensor) -> str:
    if isinstance(node, Variable):
        return node.path
    if not node.parents:
        return "tensor"
    settings = ", ".join(f"{k}={v}" for k, v in node.op_attributes.items()
                         if v is not None and v is not False)
    return f"{node.op} ({settings})" if settings else node.op


def _numbers(array: np.ndarray) -> str:
    array = np.asarray(array)
    if array.ndim == 0:
        return f"{array.item():.4g}"
    return "[" + ", ".join(f"{v:.4g}" for v in array.ravel()) + "]"
