"""How shapes are written in messages and summaries (``(None, 3)``, as Keras writes them), and names made unique."""


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


def unique_name(name: str, taken: set[str]) -> str:
    """``name``, or ``name_1``, ``name_2``... when it is taken (TensorFlow's and ONNX exporters' way); the name
    returned is added to ``taken``."""
    unique, n = name, 0
    while unique in taken:
        n += 1
        unique = f"{name}_{n}"
    taken.add(unique)
    return unique
