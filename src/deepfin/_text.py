"""How shapes are written in messages and summaries: ``(None, 3)``, as Keras writes them."""


def shape_str(shape) -> str:
    dims = ["None" if d is None else str(d) for d in shape]
    return "(" + ", ".join(dims) + ("," if len(dims) == 1 else "") + ")"
