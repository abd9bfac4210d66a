"""How shapes are written in messages and summaries: ``(None, 3)``, as Keras writes them."""


def shape_str(shape) -> str:
    dims = ["None" if d is None else str(d) for d in shape]
    return "(" + ", ".join(dims) + ("," if len(dims) == 1 else "") + ")"


def layer_shape_str(shape) -> str:
    """A layer's input or output shape as ``shape_str`` writes it, ``[(None, 3), (None, 2)]`` for a list
    of shapes (a layer with several inputs), ``?`` when unknown."""
    if shape is None:
        return "?"
    if isinstance(shape, list):
        return "[" + ", ".join(layer_shape_str(s) for s in shape) + "]"
    return shape_str(shape)
