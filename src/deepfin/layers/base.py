"""The ``Layer`` base class: weights, lazy building from the first input shape, config.

Also the helpers that gather weights through layers kept inside others (``tracked_layers``,
``unique_variables``).
"""

from __future__ import annotations

import functools
import inspect

import numpy as np

from deepfin import _budget, backend, constraints, initializers, regularizers
from deepfin.engine.tensor import Tensor, as_tensor, no_grad
from deepfin.engine.variable import Variable
from deepfin.layers.symbolic import KerasTensor, is_symbolic

_SAVEABLE: dict[str, type] = {}  # the layer and model classes a saved model may name, filled as each is defined


def saveable_class(name: str) -> type | None:
    """The deepfin layer or model class a saved model names ``name``, if it is one that may be built from a file.

    Every public class deepfin defines on ``Layer`` is registered as it is defined, except those that set
    ``saveable = False`` (``Lambda``, whose code cannot be saved; the ``Model`` base class).

    Parameters
    ----------
    name : str
        The class name a config gives (``"Dense"``, ``"Sequential"``).

    Returns
    -------
    type or None
        The class, or None when no saveable deepfin class has that name.
    """
    return _SAVEABLE.get(name)


def saveable_class_names() -> list[str]:
    """The names ``saveable_class`` knows, sorted.

    Returns
    -------
    list of str
        The registered class names.
    """
    return sorted(_SAVEABLE)


class Layer:
    """Base class of every layer: weights, lazy building from the first input shape, config.

    A subclass creates its weights in ``build(input_shape)`` (with ``add_weight``) and computes its output in
    ``call(inputs)``, which may also take ``training`` (true while ``fit`` trains) and ``mask``. A layer is
    built on its first call, from the shape of what it receives. Called on symbolic inputs (``deepfin.Input``
    and what layers made of it) it returns a symbolic output and records the connection, to build a
    functional model. Layers kept as attributes of a layer (or in lists of them) contribute their weights and
    losses to it.

    Parameters
    ----------
    trainable : bool, default True
        Whether the optimizer updates the layer's weights.
    name : str or None, default None
        The layer's name; by default the class name in snake case, numbered as Keras numbers them
        (``dense``, ``dense_1``, ...). It may not contain ``/``.
    dtype : str or np.dtype or None, default None
        The dtype of the weights and of the computation; by default ``deepfin.backend.floatx()``.
    input_shape : tuple or int or None, default None
        The shape of one sample, the batch axis left out: Keras 2's way to give a ``Sequential`` model its
        input, accepted by any layer.
    input_dim : int or None, default None
        One axis of ``input_dim`` features: the same as ``input_shape=(input_dim,)``.
    batch_input_shape : tuple or None, default None
        The input shape with the batch axis first.
    batch_size : int or None, default None
        The batch axis put in front of ``input_shape`` (free by default).

    Raises
    ------
    TypeError
        If a keyword argument is not one of these.
    ValueError
        If ``name`` is not a non-empty string without ``/``, if more than one of ``input_shape``,
        ``input_dim`` and ``batch_input_shape`` is given, or if a sample dimension is not a positive integer.

    Examples
    --------
    A layer with one weight per feature:

    >>> import numpy as np
    >>> from deepfin.layers import Layer
    >>> class Scale(Layer):
    ...     def build(self, input_shape):
    ...         self.w = self.add_weight((input_shape[-1],), "ones", name="w")
    ...     def call(self, inputs):
    ...         return inputs * self.w
    >>> layer = Scale()
    >>> layer(np.array([[1.0, 2.0]])).numpy()
    array([[1., 2.]], dtype=float32)
    >>> layer.count_params()
    2
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
        """Create the layer's weights for inputs of ``input_shape`` (batch axis first).

        The base creates none. The first call of the layer runs it; once a subclass's ``build`` has run, the
        layer is marked built and calling it builds no more, as in Keras 3.

        Parameters
        ----------
        input_shape : tuple or list of tuple
            The input's shape, batch axis first (``None`` where free); a list of shapes for a layer of several
            inputs.
        """

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        """Return the output shape for inputs of ``input_shape`` (batch axis first).

        By default it is found as Keras 3 finds it, by running the layer on zeros of that shape with one
        sample, without building a graph, so a custom layer need not define this. The layers that keep their
        input's shape (``_same_shape_out``), and any layer given an unknown axis besides the batch, return the
        input shape without a call.

        Parameters
        ----------
        input_shape : tuple or list of tuple
            The input's shape, batch axis first (``None`` where free); a list of shapes for a layer of several
            inputs.

        Returns
        -------
        tuple or list of tuple
            The output's shape, with the input's batch axis; a list of shapes for a layer of several outputs.
        """
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

    @property
    def batch_input_shape(self) -> tuple | None:
        """The input shape (batch axis first) given when the layer was made (``input_shape``, ``input_dim``,
        ``batch_input_shape``), or None; a ``Sequential`` model starts with an input of this shape."""
        return self._batch_input_shape

    def ensure_built(self, input_shape) -> None:
        """Build the layer for inputs of ``input_shape`` unless it is built already (``build`` runs once).

        Parameters
        ----------
        input_shape : tuple or list of tuple
            The input's shape, batch axis first (one per input for several).
        """
        if not self.built:
            self.build(input_shape if isinstance(input_shape, list) else tuple(input_shape))
            self.built = True

    def add_weight(self, shape, initializer="glorot_uniform", dtype=None, trainable: bool = True,
                   regularizer=None, name: str | None = None, constraint=None) -> Variable:
        """Create, initialize and track a weight, as Keras's ``add_weight``.

        Parameters
        ----------
        shape : tuple of int
            The weight's shape.
        initializer : str or callable, default "glorot_uniform"
            An initializer by name or object (``deepfin.initializers``).
        dtype : str or None, default None
            The weight's dtype; the layer's by default.
        trainable : bool, default True
            Whether the optimizer updates it (when the layer is trainable too).
        regularizer : str or callable or None, default None
            A penalty on the weight, added to the training loss.
        name : str or None, default None
            The weight's name, ``variable_<n>`` by default; its ``path`` is ``<layer name>/<name>``.
        constraint : str or callable or None, default None
            Applied to the weight after each optimizer update.

        Returns
        -------
        Variable
            The new weight, kept in the layer's ``weights``.

        Raises
        ------
        ValueError
            While a model is loaded from a file, if the weight would take the model past the number of values
            the file's weights hold (checked before allocating).
        """
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
        """Compute the layer's output from ``inputs``: the method a subclass writes.

        It may take ``training`` (true while ``fit`` trains, for dropout and noise) and ``mask``; leave them
        out of the signature when the layer does not use them.

        Parameters
        ----------
        inputs : Tensor or list of Tensor
            The input, or a list of them for a layer of several inputs.
        training : bool or None, default None
            Whether the call is part of a training step.

        Returns
        -------
        Tensor or list of Tensor
            The output.

        Raises
        ------
        NotImplementedError
            In the base class, which computes nothing.
        """
        raise NotImplementedError(f"{type(self).__name__} must implement call().")

    def __call__(self, inputs, training: bool | None = None, mask=None):
        """Run the layer on a Tensor or array (a list of them for layers with several inputs).

        Arrays are turned into Tensors of the layer's dtype, and the layer is built on its first call. Called
        on symbolic inputs (``deepfin.Input`` and what layers made of it), it returns a symbolic output and
        records the connection, to build functional models.

        Parameters
        ----------
        inputs : Tensor or np.ndarray or KerasTensor, or a list of them
            What the layer computes on.
        training : bool or None, default None
            Whether the call is part of a training step; passed on to ``call`` if it takes ``training``.
        mask : np.ndarray or None, default None
            Which steps of a sequence are real; passed on to ``call`` if it takes ``mask``.

        Returns
        -------
        Tensor or KerasTensor, or a list of them
            The output, symbolic for symbolic inputs.
        """
        if isinstance(inputs, Tensor):  # the common case, first: every layer of a model passes a Tensor on
            x = inputs
        elif is_symbolic(inputs):
            return self._call_symbolic(inputs)
        else:
            x = _as_tensors(inputs, self.dtype)
        if not self.built:
            self.ensure_built(_batch_shapes(x))
        if self._call_losses:
            self._call_losses = ()
        if mask is not None and self._call_takes_mask:
            return self.call(x, training=training, mask=mask) if self._call_takes_training else self.call(x, mask=mask)
        if self._call_takes_training:
            return self.call(x, training=training)
        return self.call(x)

    def compute_mask(self, inputs, mask=None):
        """Return the mask of this layer's output: which steps of a sequence are real (True).

        By default the input's mask is passed on where the layer ``supports_masking``, else there is none.
        ``Masking`` and ``Embedding(mask_zero=True)`` make masks; recurrent layers read them (a masked step
        keeps the previous state). A model asks only where a mask came in or the layer ``makes_masks``.

        Parameters
        ----------
        inputs : Tensor or np.ndarray, or a list of them
            The layer's input.
        mask : np.ndarray or list or None, default None
            The input's mask (batch, steps) of booleans, a list of them for several inputs, or None.

        Returns
        -------
        np.ndarray or None
            The output's mask, or None.
        """
        return mask if self.supports_masking else None

    def _call_symbolic(self, inputs):
        shapes = _batch_shapes(inputs)
        self.ensure_built(shapes)
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
        if cls.__module__.startswith("deepfin.") and not cls.__name__.startswith("_") and \
                cls.__dict__.get("saveable", True):
            _SAVEABLE[cls.__name__] = cls

    # ------------------------------------------------------------ weights
    @property
    def trainable(self) -> bool:
        """Whether the optimizer updates the layer's weights.

        Setting it sets it for the layers kept inside this one too; a frozen layer's weights get no
        gradients.
        """
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        """Freeze (False) or unfreeze (True) the layer and the layers inside it."""
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
        """The weights the optimizer updates (none while the layer is frozen)."""
        if not self._trainable:
            return []
        own = [w for w in self._weights if w.trainable]
        if not self._holds_layers:
            return own
        return unique_variables([own, *(layer.trainable_weights for layer in tracked_layers(self))])

    @property
    def non_trainable_weights(self) -> list[Variable]:
        """The weights that are not trainable (moving statistics, and every weight while frozen)."""
        trainable = {id(w) for w in self.trainable_weights}
        return [w for w in self.weights if id(w) not in trainable]

    trainable_variables = trainable_weights
    variables = weights

    @property
    def losses(self) -> list[Tensor]:
        """The layer's losses, as graph tensors.

        The regularization penalties of this layer's weights and what ``add_loss`` recorded during its
        latest call, then those of the layers kept as its attributes.
        """
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
        """Add ``loss`` (a scalar tensor, e.g. an activity penalty) to the training loss of this call.

        Call it from ``call``; the losses are recorded afresh at each call of the layer.

        Parameters
        ----------
        loss : Tensor or float
            A scalar.
        """
        if not self._call_losses:
            self._call_losses = []
        self._call_losses.append(as_tensor(loss))

    def count_params(self) -> int:
        """Return the number of values in the layer's weights.

        Returns
        -------
        int
            The total size of ``weights``.

        Raises
        ------
        ValueError
            If the layer is not built yet.
        """
        if not self.built:
            raise ValueError(
                f"You tried to call count_params on layer '{self.name}', but the layer isn't "
                "built. Build it first: give the model an input shape (Input, input_shape= or "
                "input_dim=), call it on data, or call layer.build(input_shape)."
            )
        return int(sum(w.size for w in self.weights))

    def get_weights(self) -> list[np.ndarray]:
        """Return copies of the weights' values, in the order of ``weights``.

        Returns
        -------
        list of np.ndarray
            One array per weight.
        """
        return [w.data.copy() for w in self.weights]

    def set_weights(self, weights) -> None:
        """Set every weight at once; shapes are checked before anything is written.

        Parameters
        ----------
        weights : list of np.ndarray
            One array per weight, in the order of ``weights`` (as ``get_weights`` gives them).

        Raises
        ------
        ValueError
            If the number of arrays or a shape does not match, or an array holds anything but finite
            numbers.
        """
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
        """Return the constructor arguments that rebuild this layer (without its weights).

        Returns
        -------
        dict
            ``name``, ``trainable`` and ``dtype`` (and ``batch_input_shape`` when one was given); subclasses
            add their own arguments.
        """
        config = {"name": self.name, "trainable": self.trainable, "dtype": self.dtype}
        if self._batch_input_shape is not None:
            config["batch_input_shape"] = list(self._batch_input_shape)
        return config

    @classmethod
    def from_config(cls, config: dict) -> Layer:
        """Build a new layer (fresh weights) from what ``get_config`` returned.

        Parameters
        ----------
        config : dict
            The constructor arguments.

        Returns
        -------
        Layer
            ``cls(**config)``.
        """
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
    """Return the layers kept as attributes of ``owner`` (or in lists and tuples of them), in assignment order.

    Parameters
    ----------
    owner : Layer
        The layer (or model) to search.

    Returns
    -------
    list of Layer
        Each layer once, ``owner`` left out; empty for deepfin's own layers, which keep none.
    """
    if not owner._holds_layers:
        return []
    found = []
    for value in vars(owner).values():
        for item in value if isinstance(value, (list, tuple)) else (value,):
            if isinstance(item, Layer) and item is not owner and item not in found:
                found.append(item)
    return found


def unique_variables(groups) -> list[Variable]:
    """Return the variables of ``groups`` in order, each once (a shared layer's appear again).

    Parameters
    ----------
    groups : iterable of iterables of Variable
        The weights of several layers, group by group.

    Returns
    -------
    list of Variable
        The variables in order of first appearance.
    """
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
