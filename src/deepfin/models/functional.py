"""Functional models: ``Model(inputs, outputs)`` over a graph of layers called on ``Input``s.

Several inputs and outputs and shared layers (one layer called on several tensors, its
weights counted once) are supported; the graph is traced once, at construction.
"""

from __future__ import annotations

from deepfin._text import shape_str
from deepfin.layers.base import Layer
from deepfin.layers.core import InputLayer
from deepfin.layers.symbolic import KerasTensor, trace
from deepfin.models.model import Model


class Functional(Model):
    """A model defined by its symbolic ``inputs`` and ``outputs``, as ``Model(inputs, outputs)`` makes it.

    The graph of layers between them is traced once, here. Masks made by layers (``Masking``,
    ``Embedding(mask_zero=True)``) are passed on along the graph when the model runs.

    Parameters
    ----------
    inputs : KerasTensor or list or tuple or dict of KerasTensor
        The model's inputs, each made by ``deepfin.Input``; data are then given as one array per input (a
        list in this order, or a dict by input name).
    outputs : KerasTensor or list or tuple or dict of KerasTensor
        The model's outputs; with a dict, ``predict`` returns a dict under the same keys and the keys name the
        outputs for ``compile``'s losses and metrics.
    name : str or None, default None
        The model's name; ``functional``, ``functional_1``, ... by default.
    trainable : bool, default True
        Whether the optimizer updates the model's weights.

    Raises
    ------
    TypeError
        If an input or output is not a symbolic tensor.
    ValueError
        If there are no inputs or outputs, an input does not come from ``deepfin.Input``, the outputs depend on
        an input not given, or two layers share a name.

    Examples
    --------
    Two inputs joined, one output under a name:

    >>> import numpy as np
    >>> import deepfin
    >>> from deepfin.layers import Dense, concatenate
    >>> a, b = deepfin.Input(shape=(2,)), deepfin.Input(shape=(3,))
    >>> out = Dense(1)(concatenate([a, b]))
    >>> model = deepfin.Model([a, b], {"price": out})
    >>> model.input_shape
    [(None, 2), (None, 3)]
    >>> model.predict([np.zeros((4, 2)), np.zeros((4, 3))], verbose=0)["price"].shape
    (4, 1)
    """

    def __init__(self, inputs, outputs, name: str | None = None, trainable: bool = True):
        super().__init__(name=name, trainable=trainable)
        self._nested_inputs = isinstance(inputs, (list, tuple, dict))
        self._nested_outputs = isinstance(outputs, (list, tuple, dict))
        self._output_keys = list(outputs) if isinstance(outputs, dict) else None  # outputs by name, as given
        self.inputs = _as_list(inputs, "inputs")
        self.outputs = _as_list(outputs, "outputs")
        for kt in self.inputs:
            if not isinstance(kt.layer, InputLayer):
                raise ValueError(
                    f"Model inputs must come from deepfin.Input(...). Received {kt!r}, an output of "
                    f"layer '{kt.layer.name}'."
                )
        self._nodes = trace(self.outputs)
        given = {id(kt) for kt in self.inputs}
        missing = [kt for kt in self._nodes if kt.called_on is None and id(kt) not in given]
        if missing:
            raise ValueError(
                f"The outputs depend on input '{missing[0].name}', which is not among the model's "
                f"inputs {[kt.name for kt in self.inputs]}."
            )
        self._steps = [kt for kt in self._nodes if kt.called_on is not None]
        self._layers = []
        for kt in [*self.inputs, *self._nodes]:
            if kt.layer not in self._layers:
                self._layers.append(kt.layer)
        names = [layer.name for layer in self._layers]
        duplicate = next((n for n in names if names.count(n) > 1), None)
        if duplicate:
            raise ValueError(f"The name '{duplicate}' is used by more than one layer of the model.")
        self.built = True

    @property
    def layers(self) -> list[Layer]:
        """The model's layers, input layers first, each once, in the order of the graph."""
        return list(self._layers)

    def layer_chain(self) -> list[Layer] | None:
        """Return the layers after the input when the model is one ``Input`` feeding a chain of layers.

        Each layer is called once, on the one before, to one output; the model's ``call`` then runs them one
        after another, and the compiled kernels can run them.

        Returns
        -------
        list of Layer or None
            The chain, or None for any other graph (or a subclass that overrides ``call``).
        """
        if type(self).call is not Functional.call or self._nested_inputs or self._nested_outputs:
            return None
        previous, chain = self.inputs[0], []
        for kt in self._steps:
            if kt.called_on is not previous or kt.index is not None or kt.layer in chain:
                return None
            chain.append(kt.layer)
            previous = kt
        return chain if previous is self.outputs[0] else None

    def _expected_input_shapes(self) -> list:
        return [kt.shape for kt in self.inputs]

    def _input_names(self) -> list[str]:
        return [kt.name for kt in self.inputs]

    def _output_names(self) -> list[str]:
        return self._output_keys or [kt.layer.name for kt in self.outputs]

    def _pack_outputs(self, outputs: list):
        return dict(zip(self._output_keys, outputs)) if self._output_keys else super()._pack_outputs(outputs)

    @property
    def input_shape(self):
        """The inputs' shapes: one tuple, or a list of them when the inputs were given as a list or dict."""
        shapes = self._expected_input_shapes()
        return shapes if self._nested_inputs else shapes[0]

    @property
    def output_shape(self):
        """The outputs' shapes: one tuple, or a list of them when the outputs were given as a list or dict."""
        shapes = [kt.shape for kt in self.outputs]
        return shapes if self._nested_outputs else shapes[0]

    def build(self, input_shape=None) -> None:
        """Do nothing more: a functional model is built when it is made."""
        self.built = True

    def compute_output_shape(self, input_shape):
        """Return ``output_shape`` (the shapes traced at construction)."""
        return self.output_shape

    def call(self, inputs, training=None):
        """Run the traced graph on ``inputs`` (one per model input), each layer call once, masks passed on."""
        inputs = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        if len(inputs) != len(self.inputs):
            raise ValueError(
                f"Model '{self.name}' has {len(self.inputs)} inputs "
                f"({[kt.name for kt in self.inputs]}); received {len(inputs)}."
            )
        values = {id(kt): x for kt, x in zip(self.inputs, inputs)}
        masks = {}  # the masks of single-input layers' outputs, passed on as a Sequential passes them
        calls = {}  # each call of a layer with several outputs runs once
        for kt in self._steps:
            args = kt.called_on
            options = kt.call_arguments
            if kt.index is not None:
                key = (id(kt.layer), id(args))
                if key not in calls:
                    x = [values[id(a)] for a in args] if isinstance(args, list) else values[id(args)]
                    input_masks = [masks.get(id(a)) for a in args] if isinstance(args, list) else None
                    calls[key] = kt.layer(x, training=training, **options) if input_masks is None or \
                        all(m is None for m in input_masks) else kt.layer(x, training=training, mask=input_masks,
                                                                         **options)
                values[id(kt)] = calls[key][kt.index]
            elif isinstance(args, list):
                xs, input_masks = [values[id(a)] for a in args], [masks.get(id(a)) for a in args]
                if any(m is not None for m in input_masks):
                    values[id(kt)] = kt.layer(xs, training=training, mask=input_masks, **options)
                    masks[id(kt)] = kt.layer.compute_mask(xs, input_masks)
                else:
                    values[id(kt)] = kt.layer(xs, training=training, **options)
            else:
                x, mask = values[id(args)], masks.get(id(args))
                if mask is None:
                    values[id(kt)] = kt.layer(x, training=training)
                    if kt.layer.makes_masks:
                        masks[id(kt)] = kt.layer.compute_mask(x)
                else:
                    values[id(kt)] = kt.layer(x, training=training, mask=mask)
                    masks[id(kt)] = kt.layer.compute_mask(x, mask)
        outputs = [values[id(kt)] for kt in self.outputs]
        if self._output_keys:
            return dict(zip(self._output_keys, outputs))
        return outputs if self._nested_outputs else outputs[0]

    def get_config(self) -> dict:
        """Return the layers serialized and the graph: each traced tensor's layer, inputs and call options."""
        index = {id(kt): i for i, kt in enumerate(self._nodes)}

        def ref(kt):
            return index[id(kt)]

        nodes = []
        for kt in self._nodes:
            args = kt.called_on
            nodes.append({
                "layer": kt.layer.name,
                "inputs": None if args is None else [ref(a) for a in args] if isinstance(args, list) else ref(args),
                **({} if kt.index is None else {"index": kt.index}),
                **({"arguments": kt.call_arguments} if kt.call_arguments else {}),
            })
        return {
            "name": self.name,
            "trainable": self.trainable,
            "layers": [{"class_name": type(l).__name__, "config": l.get_config()} for l in self._layers],
            "nodes": nodes,
            "inputs": [ref(kt) for kt in self.inputs],
            "outputs": [ref(kt) for kt in self.outputs],
            "nested_inputs": self._nested_inputs,
            "nested_outputs": self._nested_outputs,
            "output_keys": self._output_keys,
        }

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> Functional:
        """Rebuild the model (fresh weights) from ``get_config()``, calling the layers again in the graph's order.

        Parameters
        ----------
        config : dict
            What ``get_config()`` returned.
        custom_objects : dict or None, default None
            Custom layer classes by name.

        Returns
        -------
        Functional
            The new model.

        Raises
        ------
        ValueError
            If a node's call options are not switches (names to True or False).
        """
        from deepfin.layers import deserialize

        layers = {}
        for spec in config["layers"]:
            layer = deserialize(spec, custom_objects)
            layers[layer.name] = layer
        tensors, calls = [], {}
        for node in config["nodes"]:
            layer = layers[node["layer"]]
            if node["inputs"] is None:
                tensors.append(layer.output)
                continue
            args = node["inputs"]
            key = (node["layer"], str(args))
            if "index" not in node or key not in calls:  # the outputs of one call come from one call
                calls[key] = layer([tensors[i] for i in args] if isinstance(args, list) else tensors[args],
                                   **_call_arguments(node))
            made = calls[key]
            tensors.append(made[node["index"]] if "index" in node else made)
        inputs = [tensors[i] for i in config["inputs"]]
        outputs = [tensors[i] for i in config["outputs"]]
        if config.get("output_keys"):
            outputs = dict(zip(config["output_keys"], outputs))
        return cls(inputs if config["nested_inputs"] else inputs[0],
                   outputs if config["nested_outputs"] else outputs[0],
                   name=config["name"], trainable=config["trainable"])

    def __repr__(self) -> str:
        ins = ", ".join(shape_str(s) for s in self._expected_input_shapes())
        return f"<Functional name={self.name}, layers={len(self._layers)}, inputs=[{ins}]>"


def _call_arguments(node: dict) -> dict:
    """A saved node's call options: switches (names to True or False), nothing a file could make run."""
    arguments = node.get("arguments", {})
    if not isinstance(arguments, dict) or not all(isinstance(k, str) and isinstance(v, bool)
                                                  for k, v in arguments.items()):
        raise ValueError(f"A saved model's call of layer '{node['layer']}' has arguments {arguments!r:.80}; "
                         "expected switches (names to true or false).")
    return arguments


def _as_list(value, what: str) -> list[KerasTensor]:
    items = list(value.values()) if isinstance(value, dict) else \
        list(value) if isinstance(value, (list, tuple)) else [value]
    for item in items:
        if not isinstance(item, KerasTensor):
            raise TypeError(
                f"Model {what} must be symbolic tensors (from deepfin.Input and layers called on it). "
                f"Received {type(item).__name__}: {item!r:.80}"
            )
    if not items:
        raise ValueError(f"A model needs at least one of its {what}.")
    return items
