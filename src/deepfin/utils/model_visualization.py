"""``plot_model``: a model's layers as boxes and their connections as arrows, as Keras 3 draws them.

Keras draws with Graphviz; deepfin draws the same picture with matplotlib only (see ``diagram``),
so it works on a machine with nothing but Python. Each box is a layer: its name and class on a dark
header, then (when asked) its activation, input and output shapes, output dtype and whether it is
trainable. A Sequential model is a chain of its layers; a functional model shows its inputs and
every branch and merge; a subclassed model, whose wiring lives in Python code, is a single box.
"""

from __future__ import annotations

import os

from deepfin._text import layer_shape_str
from deepfin.layers.symbolic import trace
from deepfin.utils.diagram import Arrow, Box, Cell, check_format, check_rankdir, draw_diagram, save_diagram


def plot_model(model, to_file="model.png", show_shapes: bool = False, show_dtype: bool = False,
               show_layer_names: bool = False, rankdir: str = "TB", expand_nested: bool = False,
               dpi: int = 200, show_layer_activations: bool = False, show_trainable: bool = False,
               splines: str = "ortho", **kwargs):
    """Draw ``model``'s layers and connections and save the picture to ``to_file``, as Keras's ``plot_model``.

    Parameters
    ----------
    model : Model
        A built model: Sequential, functional, or subclassed (drawn as one box).
    to_file : str or os.PathLike, default "model.png"
        Where the picture goes; its extension picks the format (``.png``, ``.pdf``, ``.svg``, ... as matplotlib
        writes them), PNG when it has none.
    show_shapes : bool, default False
        Show each layer's input and output shapes (``(None, 3)``, as Keras writes them).
    show_dtype : bool, default False
        Show each layer's output dtype.
    show_layer_names : bool, default False
        Head each box with ``name (Class)`` rather than the class alone.
    rankdir : {"TB", "LR", "BT", "RL"}, default "TB"
        ``'TB'`` draws top to bottom (a tall picture), ``'LR'`` left to right (a wide one), and ``'BT'`` and
        ``'RL'`` reverse them.
    expand_nested : bool, default False
        Draw the layers of a model used as a layer inside a dashed frame rather than one box for it.
    dpi : int, default 200
        The resolution of a raster picture, in dots per inch.
    show_layer_activations : bool, default False
        Show the activation of layers that have one (``Dense``, ...).
    show_trainable : bool, default False
        Mark each layer with weights ``Trainable`` or ``Non-trainable``.
    splines : {"ortho", "line", "polyline", "curved", "spline"}, default "ortho"
        How arrows run: ``'ortho'`` (right angles), ``'line'`` or ``'polyline'`` (straight), ``'curved'`` or
        ``'spline'`` (smooth).
    **kwargs
        None is accepted; Keras's ``layer_range`` raises, as in Keras 3.

    Returns
    -------
    IPython.display.Image or None
        An image of the file (shown inline in Jupyter) when IPython is installed and the file is not a PDF,
        else ``None``, as Keras does.

    Raises
    ------
    ValueError
        If the model is not built, ``layer_range`` or another keyword is given, the format is not one
        matplotlib writes, or ``rankdir`` or ``splines`` is not one of those above.
    """
    if not model.built:
        raise ValueError(
            "This model has not yet been built. Build the model first by calling `build()` or by "
            "calling the model on a batch of data."
        )
    if kwargs.pop("layer_range", None) is not None:
        raise ValueError("Argument `layer_range` is no longer supported.")
    if kwargs:
        raise ValueError(f"Unrecognized keyword arguments: {kwargs}")
    to_file = os.fspath(to_file)
    check_format(to_file)
    check_rankdir(rankdir)
    labels = {"show_shapes": show_shapes, "show_dtype": show_dtype, "show_layer_names": show_layer_names,
              "show_layer_activations": show_layer_activations, "show_trainable": show_trainable}
    boxes, arrows = _ModelGraph(labels, expand_nested).build(model)
    save_diagram(draw_diagram(boxes, arrows, rankdir=rankdir, splines=splines), to_file, dpi)
    return _notebook_image(to_file)


def layer_label(layer, input_shape=None, output_shape=None, dtype=None, *, show_shapes=False,
                show_dtype=False, show_layer_names=False, show_layer_activations=False,
                show_trainable=False) -> list[list[Cell]]:
    """The rows of a layer's box, as Keras 3 labels a layer in ``plot_model``.

    Parameters
    ----------
    layer : Layer
        The layer.
    input_shape, output_shape : tuple, list of tuple or None, default None
        Its input and output shapes, shown with ``show_shapes`` (an ``InputLayer`` shows its output only).
    dtype : str or None, default None
        Its output dtype, shown with ``show_dtype`` (``?`` when None).
    show_shapes, show_dtype, show_layer_names, show_layer_activations, show_trainable : bool, default False
        As for ``plot_model``.

    Returns
    -------
    list of list of Cell
        The header row (name and class, white on black), then the activation row and the row of shapes, dtype
        and trainability, where asked for and present.
    """
    class_name = type(layer).__name__
    header = f"{layer.name} ({class_name})" if show_layer_names else class_name
    rows = [[Cell(header, bold=True, face="black", color="white")]]
    activation = getattr(layer, "activation", None)
    if show_layer_activations and activation is not None:
        name = getattr(activation, "name", None) or getattr(activation, "__name__", None) or str(activation)
        rows.append([Cell(f"Activation: {name}")])
    cells = []
    if show_shapes:
        if class_name != "InputLayer":
            cells.append(Cell(f"Input shape: {layer_shape_str(input_shape)}"))
        cells.append(Cell(f"Output shape: {layer_shape_str(output_shape)}"))
    if show_dtype:
        cells.append(Cell(f"Output dtype: {dtype or '?'}"))
    if show_trainable and layer.weights:
        cells.append(Cell("Trainable", bold=True, face="forestgreen", color="white") if layer.trainable
                     else Cell("Non-trainable", bold=True, face="firebrick", color="white"))
    if cells:
        rows.append(cells)
    return rows


class _ModelGraph:
    """Boxes and arrows of a model; a nested model becomes a framed group when ``expand_nested``."""

    def __init__(self, labels: dict, expand_nested: bool):
        self.labels, self.expand_nested = labels, expand_nested
        self.boxes: list[Box] = []
        self.arrows: list[Arrow] = []

    def build(self, model) -> tuple[list[Box], list[Arrow]]:
        self._model(model, group=None)
        self.arrows = list({(a.source, a.target): a for a in self.arrows}.values())
        return self.boxes, self.arrows

    def _model(self, model, group):
        """Add ``model``'s boxes; return its entry boxes per input index and its exit boxes."""
        from deepfin.models.functional import Functional
        from deepfin.models.sequential import Sequential

        calls = _first_calls(model)
        if isinstance(model, Sequential):
            parts = [self._layer(layer, calls, group) for layer in model.layers]
            for (_, exits), (entries, _) in zip(parts, parts[1:]):
                self._connect(exits, entries(0))
            if not parts:
                return self._box(model, None, group)
            return parts[0][0], parts[-1][1]
        if not isinstance(model, Functional):
            return self._box(model, None, group)
        parts = {id(layer): self._layer(layer, calls, group) for layer in model.layers}
        for kt in trace(model.outputs):
            for index, parent in enumerate(kt.parents):
                self._connect(parts[id(parent.layer)][1], parts[id(kt.layer)][0](index))
        inputs = [parts[id(kt.layer)][0](0) for kt in model.inputs]
        exits = [i for kt in model.outputs for i in parts[id(kt.layer)][1]]
        return (lambda index: inputs[min(index, len(inputs) - 1)]), exits

    def _layer(self, layer, calls, group):
        from deepfin.models.functional import Functional
        from deepfin.models.sequential import Sequential

        if self.expand_nested and isinstance(layer, (Functional, Sequential)) and layer.built:
            return self._model(layer, group=layer.name if group is None else f"{group}/{layer.name}")
        return self._box(layer, calls.get(id(layer)), group)

    def _box(self, layer, call, group):
        shapes = (None, None, None) if call is None else call
        self.boxes.append(Box(layer_label(layer, *shapes, **self.labels), group=group))
        index = len(self.boxes) - 1
        return (lambda _: [index]), [index]

    def _connect(self, sources: list[int], targets: list[int]) -> None:
        self.arrows += [Arrow(s, t) for s in sources for t in targets]


def _first_calls(model) -> dict[int, tuple]:
    """Per layer (by id), the input shape(s), output shape and dtype of its first call in ``model``."""
    outputs = getattr(model, "outputs", None)
    calls: dict[int, tuple] = {}
    if not outputs:
        return calls
    for kt in trace(outputs):
        if id(kt.layer) not in calls:
            shapes = [p.shape for p in kt.parents]
            input_shape = shapes if len(shapes) > 1 else shapes[0] if shapes else None
            calls[id(kt.layer)] = (input_shape, kt.shape, kt.dtype)
    return calls



def _notebook_image(path: str):
    """What Keras returns: the picture as an IPython display object, or ``None``."""
    extension = os.path.splitext(path)[1].lower()
    if extension == ".pdf":
        return None
    try:
        from IPython import display
    except ImportError:
        return None
    try:
        return display.SVG(filename=path) if extension == ".svg" else display.Image(filename=path)
    except ValueError:  # a format IPython cannot show inline (.eps, ...)
        return None
