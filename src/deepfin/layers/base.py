"""The Layer base class: weights, lazy building from the first input shape, config."""

from __future__ import annotations

import functools
import inspect

import numpy as np

from deepfin import _budget, backend, constraints, initializers, regularizers
from deepfin.engine.tensor import Tensor, as_tensor, no_grad
from deepfin.engine.variable import Variable
from deepfin.layers.symbolic import KerasTensor, is_symbolic


class Layer:
    """Base layer. Subclasses implement ``build(input_shape)`` and ``call(inputs, training)``.

    ``input_shape`` / ``input_dim`` (Keras 2's way to give a Sequential model its input) may be
    passed to any layer; the batch axis is left out of them.
    """

    _call_takes_training = True
    _call_takes_mask = False
    supports_masking = False  # Keras's flag: the layer passes its input's mask on (``compute_mask``)
    makes_masks = False  # whether compute_mask may give a mask where none came in (set for each class below)
    _call_losses: tuple | list = ()  # what add_loss recorded during the latest call
    _holds_layers = True
    _same_shape_out = False  # True for built-in layers whose output has their input's shape: no call to find it
    output = None  # the symbolic output of the layer's first call on symbolic inputs (Keras's ``layer.output``)

    def __init__(self, trainable: bool = True, name: str | None = None, dtype=None,
                 input_shape=None, input_dim: int | None = None, batch_input_shape=None,
                 batch_size: int | None = None, **kwargs):
        if kwargs:
            raise TypeError(
                f"Unrecognized keyword arguments passed to {type(self).__name__}: {kwargs}"
            )
        if name is not None and (not isinstance(name, str) or not name or "/" in name):
            raise ValueError(f"name must be a non-empty string without '/'. Received: name={name!r}")
        self.name = name or backend.unique_name(backend.snake_case(type(self).__name__))
        self.dtype = np.dtype(dtype or backend.floatx()).name
        self.built = False
        self._weights: list[Variable] = []
        self._trainable = bool(trainable)
        self._batch_input_shape = _batch_shape(input_shape, input_dim, batch_input_shape, batch_size)

    # ------------------------------------------------------------ building
    def build(self, input_shape: tuple) -> None:
        """Create the layer's weights for inputs of ``input_shape`` (batch axis first)."""

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        """The output shape for inputs of ``input_shape`` (batch axis first). By default it is found as Keras 3
        finds it, by running the layer: on zeros of that shape with one sample, without building a graph (a
        custom layer need not define this). The layers that keep their input's shape (``_same_shape_out``), and
        any layer given an unknown axis besides the batch, return the input shape without a call."""
        shapes = input_shape if isinstance(input_shape, list) else [input_shape]
        if self._same_shape_out or any(d is None for shape in shapes for d in tuple(shape)[1:]):
            return tuple(input_shape)
        zeros = [np.zeros((1, *tuple(shape)[1:]), dtype=self.dtype) for shape in shapes]
        with no_grad():
            output = self(zeros if isinstance(input_shape, list) else zeros[0], training=False)
        batch = tuple(shapes[0])[0]
        if isinstance(output, (list, tuple)):
            return [(batch, *o.shape[1:]) for o in output]
        return (batch, *output.shape[1:])

    def _maybe_build(self, input_shape) -> None:
        if not self.built:
            self.build(input_shape if isinstance(input_shape, list) else tuple(input_shape))
            self.built = True

    def add_weight(self, shape, initializer="glorot_uniform", dtype=None, trainable: bool = True,
                   regularizer=None, name: str | None = None, constraint=None) -> Variable:
        """Create, initialize and track a weight (as Keras's ``add_weight``); ``constraint`` is applied to it
        after each optimizer update."""
        shape = tuple(int(d) for d in shape)
        _budget.claim(shape, f"{self.name}/{name or f'variable_{len(self._weights)}'}")  # a model file's ceiling
        value = initializers.get(initializer)(shape, dtype=dtype or self.dtype)
        variable = Variable(value, trainable=trainable and self._trainable,
                            name=name or f"variable_{len(self._weights)}",
                            regularizer=regularizers.get(regularizer), constraint=constraints.get(constraint))
        variable.path = f"{self.name}/{variable.name}"
        variable.trainable = trainable
        self._weights.append(variable)
        return variable

    # ------------------------------------------------------------ calling
    def call(self, inputs: Tensor, training: bool | None = None) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} must implement call().")

    def __call__(self, inputs, training: bool | None = None, mask=None):
        """Run the layer on a Tensor or array (a list of them for layers with several inputs).

        Called on symbolic inputs (``deepfin.Input`` and what layers made of it), it returns a
        symbolic output and records the connection, to build functional models.
        """
        if isinstance(inputs, Tensor):  # the common case, first: every layer of a model passes a Tensor on
            x = inputs
        elif is_symbolic(inputs):
            return self._call_symbolic(inputs)
        else:
            x = _as_tensors(inputs, self.dtype)
        if not self.built:
            self._maybe_build(_batch_shapes(x))
        if self._call_losses:
            self._call_losses = ()
        if mask is not None and self._call_takes_mask:
            return self.call(x, training=training, mask=mask) if self._call_takes_training else self.call(x, mask=mask)
        if self._call_takes_training:
            return self.call(x, training=training)
        return self.call(x)

    def compute_mask(self, inputs, mask=None):
        """The mask of this layer's output (which steps of a sequence are real, True): by default the input's
        mask passed on where the layer ``supports_masking``, else none. ``Masking`` and ``Embedding(mask_zero=
        True)`` make masks; recurrent layers read them (a masked step keeps the previous state). A model asks
        only where a mask came in or the layer ``makes_masks``."""
        return mask if self.supports_masking else None

    def _call_symbolic(self, inputs):
        shapes = _batch_shapes(inputs)
        self._maybe_build(shapes)
        self._check_input_shape(shapes)
        dtype = inputs[0].dtype if isinstance(inputs, (list, tuple)) else inputs.dtype
        called_on = list(inputs) if isinstance(inputs, (list, tuple)) else inputs
        shape = self.compute_output_shape(shapes)
        if isinstance(shape, list) and shape and isinstance(shape[0], (list, tuple)):  # several outputs
            output = [KerasTensor(s, dtype, self, called_on, index=i) for i, s in enumerate(shape)]
        else:
            output = KerasTensor(shape, dtype, self, called_on)
        if self.output is None:
            self.output = output
        return output

    def _check_input_shape(self, input_shape) -> None:
        """Raise if a symbolic input of ``input_shape`` cannot feed this (built) layer."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "build" in cls.__dict__:  # as in Keras 3, a layer whose build() ran is built: calling it builds no more
            cls.build = _marking_built(cls.__dict__["build"])
        parameters = inspect.signature(cls.call).parameters
        cls._call_takes_training, cls._call_takes_mask = "training" in parameters, "mask" in parameters
        # the base compute_mask turns no mask into none: only a class of its own can start a mask (Masking, ...)
        cls.makes_masks = cls.compute_mask is not Layer.compute_mask
        # deepfin's own layers keep no layers inside them, so their weights need no search for nested ones
        # (which cost 30 us per train_on_batch); any other class, a subclass of Dense too, is searched, and so
        # are deepfin's wrappers of layers (``_wraps_layers``)
        cls._holds_layers = not cls.__module__.startswith("deepfin.layers.") or cls.__dict__.get("_wraps_layers", False)

    # ------------------------------------------------------------ weights
    @property
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        self._trainable = bool(value)
        for w in self._weights:
            w.requires_grad = self._trainable and w.trainable
        for layer in tracked_layers(self):
            layer.trainable = value

    @property
    def weights(self) -> list[Variable]:
        """This layer's weights, then those of the layers kept as its attributes (each once)."""
        if not self._holds_layers:
            return list(self._weights)
        return unique_variables([self._weights, *(layer.weights for layer in tracked_layers(self))])

    @property
    def trainable_weights(self) -> list[Variable]:
        if not self._trainable:
            return []
        own = [w for w in self._weights if w.trainable]
        if not self._holds_layers:
            return own
        return unique_variables([own, *(layer.trainable_weights for layer in tracked_layers(self))])

    @property
    def non_trainable_weights(self) -> list[Variable]:
        trainable = {id(w) for w in self.trainable_weights}
        return [w for w in self.weights if id(w) not in trainable]

    trainable_variables = trainable_weights
    variables = weights

    @property
    def losses(self) -> list[Tensor]:
        """Regularization penalties of this layer's weights and what ``add_loss`` recorded during its latest
        call, with those of the layers kept as its attributes, as graph tensors."""
        own = [w.regularizer(w) for w in self._weights if w.regularizer is not None]
        return [*own, *self._call_losses, *(loss for layer in tracked_layers(self) for loss in layer.losses)]

    def _flatten_layers(self) -> list[Layer]:
        """This layer and every layer inside it, each once (Keras's ``_flatten_layers``)."""
        found, seen, stack = [], set(), [self]
        while stack:
            layer = stack.pop()
            if id(layer) not in seen:
                seen.add(id(layer))
                found.append(layer)
                stack.extend(reversed(layer.layers if hasattr(layer, "layers") else tracked_layers(layer)))
        return found

    @property
    def added_losses(self) -> list[Tensor]:
        """What ``add_loss`` recorded during this layer's own latest call (not the layers inside it)."""
        return list(self._call_losses)

    def add_loss(self, loss) -> None:
        """Add ``loss`` (a scalar tensor, e.g. an activity penalty) to the training loss of this call."""
        if not self._call_losses:
            self._call_losses = []
        self._call_losses.append(as_tensor(loss))

    def count_params(self) -> int:
        if not self.built:
            raise ValueError(
                f"You tried to call count_params on layer '{self.name}', but the layer isn't "
                "built. Build it first: give the model an input shape (Input, input_shape= or "
                "input_dim=), call it on data, or call layer.build(input_shape)."
            )
        return int(sum(w.size for w in self.weights))

    def get_weights(self) -> list[np.ndarray]:
        return [w.data.copy() for w in self.weights]

    def set_weights(self, weights) -> None:
        """Set every weight at once; shapes are checked before anything is written."""
        params = self.weights
        weights = list(weights)
        if len(weights) != len(params):
            raise ValueError(
                f"Layer '{self.name}' expects {len(params)} weight arrays "
                f"(shapes {[p.shape for p in params]}). Received {len(weights)}."
            )
        arrays = [np.asarray(w) for w in weights]
        for p, a in zip(params, arrays):
            if a.shape != p.shape:
                raise ValueError(
                    f"Weight '{p.path}' has shape {p.shape}; the array given for it has shape {a.shape}."
                )
            if a.dtype.kind not in "biuf" or not np.all(np.isfinite(a)):
                raise ValueError(f"The array given for weight '{p.path}' must be finite numbers.")
        for p, a in zip(params, arrays):
            p.assign(a)

    # ------------------------------------------------------------ config
    def get_config(self) -> dict:
        config = {"name": self.name, "trainable": self.trainable, "dtype": self.dtype}
        if self._batch_input_shape is not None:
            config["batch_input_shape"] = list(self._batch_input_shape)
        return config

    @classmethod
    def from_config(cls, config: dict) -> Layer:
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


def _marking_built(build):
    @functools.wraps(build)
    def build_and_mark(self, *args, **kwargs):
        build(self, *args, **kwargs)
        self.built = True

    return build_and_mark


def tracked_layers(owner) -> list[Layer]:
    """The layers kept as attributes of ``owner`` (or in lists and tuples of them), in assignment order."""
    if not owner._holds_layers:
        return []
    found = []
    for value in vars(owner).values():
        for item in value if isinstance(value, (list, tuple)) else (value,):
            if isinstance(item, Layer) and item is not owner and item not in found:
                found.append(item)
    return found


def unique_variables(groups) -> list[Variable]:
    """The variables of ``groups`` (iterables of them) in order, each once (a shared layer's appear again)."""
    seen, result = set(), []
    for group in groups:
        for w in group:
            if id(w) not in seen:
                seen.add(id(w))
                result.append(w)
    return result


def _as_tensors(inputs, dtype):
    if isinstance(inputs, Tensor):
        return inputs
    if isinstance(inputs, (list, tuple)):
        return [_as_tensors(i, dtype) for i in inputs]
    return Tensor(np.asarray(inputs, dtype=dtype))


def _batch_shapes(inputs):
    """The input shape(s) with a free batch axis: a tuple, or a list of tuples."""
    if isinstance(inputs, (list, tuple)):
        return [_batch_shapes(i) for i in inputs]
    return (None,) + tuple(inputs.shape[1:])


def _batch_shape(input_shape, input_dim, batch_input_shape, batch_size) -> tuple | None:
    given = [a for a in (input_shape, input_dim, batch_input_shape) if a is not None]
    if len(given) > 1:
        raise ValueError("Pass only one of input_shape, input_dim and batch_input_shape.")
    if input_dim is not None:
        input_shape = (input_dim,)
    if input_shape is not None:
        input_shape = (input_shape,) if isinstance(input_shape, int) else tuple(input_shape)
        batch_input_shape = (batch_size,) + input_shape
    if batch_input_shape is None:
        return None
    batch_input_shape = tuple(batch_input_shape)
    for d in batch_input_shape[1:]:
        if d is not None and (isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d <= 0):
            raise ValueError(
                f"Input shapes need positive integer dimensions. Received: input_shape="
                f"{batch_input_shape[1:]}"
            )
    return tuple(None if d is None else int(d) for d in batch_input_shape)
