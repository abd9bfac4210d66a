"""``model.summary()`` in the layout Keras 2 prints, thousands separated.

It is the layout of the summaries shown by Klaas (2019, ch. 1), Della Lunga (2022, lecture 1) and Jansen
(2020, ch. 17)::

    Model: "sequential"
    _________________________________________________________________
    Layer (type)                 Output Shape              Param #
    =================================================================
    dense (Dense)                (None, 3)                 9
    ...
    Total params: 13
    Trainable params: 13
    Non-trainable params: 0

References
----------
Klaas, J. (2019). *Machine Learning for Finance*, ch. 1, "Neural Networks and Gradient-Based Optimization".
Packt.

Della Lunga, G. (2022). *Introduction to Machine Learning for Finance*, lecture 1, "Introduction to Deep
Learning". University of Bologna.

Jansen, S. (2020). *Machine Learning for Algorithmic Trading*, 2nd ed., ch. 17, "Deep Learning for Trading".
Packt.
"""

from __future__ import annotations

from deepfin._text import layer_shape_str
from deepfin.layers.symbolic import trace


def summary_lines(model, line_length: int | None = None, positions=None) -> list[str]:
    """Return the summary as lines: one row per layer, then the parameter totals.

    A functional model that is not a plain chain (one input, one output, each layer fed by one other) gets a
    fourth column, the layers each is connected to. A compiled model's summary ends with where ``fit`` trains
    it (``Training path: ...``).

    Parameters
    ----------
    model : Model
        A built model.
    line_length : int or None, default None
        The width of the table; 65 characters by default, 98 with the fourth column.
    positions : list of float or None, default None
        Where each column ends: fractions of ``line_length``, or characters for numbers above 1.

    Returns
    -------
    list of str
        The lines, without line breaks.

    Raises
    ------
    ValueError
        If the model is not built yet.
    """
    if not model.built:
        raise ValueError(
            f"Model '{model.name}' has not been built yet, so it has no shapes or weights to summarize. "
            "Give it an input shape (Input, input_shape= or input_dim=) or call it on data first."
        )
    rows, connected = _rows(model)
    headers = ["Layer (type)", "Output Shape", "Param #"] + (["Connected to"] if connected else [])
    line_length = line_length or (98 if connected else 65)
    positions = positions or ([0.33, 0.55, 0.67, 1.0] if connected else [0.45, 0.85, 1.0])
    stops = [int(line_length * p) if p <= 1 else int(p) for p in positions]
    lines = [f'Model: "{model.name}"', "_" * line_length, _format(headers, stops), "=" * line_length]
    for i, row in enumerate(rows):
        lines.append(_format(row, stops))
        lines.append("=" * line_length if i == len(rows) - 1 else "_" * line_length)
    if not rows:
        lines.append("=" * line_length)
    total = sum(w.size for w in model.weights)
    trainable = sum(w.size for w in model.trainable_weights)
    lines += [f"Total params: {total:,}", f"Trainable params: {trainable:,}",
              f"Non-trainable params: {total - trainable:,}"]
    if getattr(model, "compiled", False):
        lines.append(f"Training path: {model.training_path}")
    return lines + ["_" * line_length]


def _format(cells: list[str], stops: list[int]) -> str:
    line = ""
    for cell, stop in zip(cells, stops):
        line = (line + cell)[: stop - 1].ljust(stop)  # cut a cell that runs into the next column
    return line.rstrip()


def _rows(model) -> tuple[list[list[str]], bool]:
    from deepfin.models.functional import Functional

    if isinstance(model, Functional):
        return _functional_rows(model)
    shape = getattr(model, "input_shape", None)
    rows = []
    for layer in model.layers:
        if shape is not None:
            shape = layer.compute_output_shape(shape)
        rows.append([f"{layer.name} ({type(layer).__name__})", layer_shape_str(shape), f"{layer.count_params():,}"])
    return rows, False


def _functional_rows(model) -> tuple[list[list[str]], bool]:
    outputs_of, inputs_of = {}, {}
    for kt in trace(model.outputs):
        outputs_of.setdefault(id(kt.layer), []).append(kt.shape)
        for parent in kt.parents:
            names = inputs_of.setdefault(id(kt.layer), [])
            if parent.layer.name not in names:
                names.append(parent.layer.name)
    chain = all(len(inputs_of.get(id(layer), [])) <= 1 for layer in model.layers) and \
        len(model.inputs) == 1 and len(model.outputs) == 1
    rows = []
    for layer in model.layers:
        shapes = {tuple(s) for s in outputs_of.get(id(layer), [])}
        shape_text = layer_shape_str(next(iter(shapes))) if len(shapes) == 1 else "multiple"
        row = [f"{layer.name} ({type(layer).__name__})", shape_text, f"{layer.count_params():,}"]
        if not chain:
            row.append(", ".join(inputs_of.get(id(layer), [])))
        rows.append(row)
    return rows, not chain

