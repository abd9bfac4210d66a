"""The ``Model`` base: a Layer made of layers, with the training API of ``Trainer``.

``Model(inputs, outputs)`` builds a functional model (see ``functional.py``); subclassing
``Model`` and writing ``call`` builds a model from the layers kept as its attributes.
"""

from __future__ import annotations

import numpy as np

from deepfin.engine.tensor import Tensor, no_grad
from deepfin.engine.variable import Variable
from deepfin.layers.base import Layer, tracked_layers, unique_variables
from deepfin.models.trainer import Trainer


class Model(Trainer, Layer):
    """Base of every model: a layer made of layers, with ``compile``, ``fit``, ``evaluate`` and ``predict``.

    ``Model(inputs, outputs)`` builds a functional model (a ``Functional``) from symbolic tensors.
    Subclassing ``Model`` and writing ``call`` makes a model of the layers kept as its attributes (or in lists
    of them). Weights are gathered from ``self.layers``, each counted once.

    Parameters
    ----------
    name : str or None, default None
        The model's name; by default the class name in snake case, numbered.
    trainable : bool, default True
        Whether the optimizer updates the model's weights.
    dtype : str or None, default None
        The dtype of the weights and of the computation; ``deepfin.backend.floatx()`` by default.

    See Also
    --------
    Sequential : A plain stack of layers.
    Functional : A model over a graph of layers called on ``Input``.

    Examples
    --------
    A subclassed model:

    >>> import numpy as np
    >>> import deepfin
    >>> from deepfin.layers import Dense
    >>> class TwoLayers(deepfin.Model):
    ...     def __init__(self):
    ...         super().__init__(name="two_layers")
    ...         self.hidden = Dense(3, activation="relu")
    ...         self.out = Dense(1)
    ...     def call(self, inputs, training=None):
    ...         return self.out(self.hidden(inputs))
    >>> model = TwoLayers()
    >>> model.build((None, 2))
    >>> model.count_params()
    13
    >>> model.predict(np.zeros((4, 2)), verbose=0).shape
    (4, 1)

    A functional model:

    >>> inputs = deepfin.Input(shape=(2,))
    >>> model = deepfin.Model(inputs, Dense(1)(Dense(3, activation="relu")(inputs)))
    >>> type(model).__name__, model.count_params()
    ('Functional', 13)
    """

    saveable = False  # a file names the model's own class (Sequential, Functional), never the base

    def __new__(cls, *args, **kwargs):
        if cls is Model and (args or "inputs" in kwargs or "outputs" in kwargs):
            from deepfin.models.functional import Functional

            return object.__new__(Functional)
        return object.__new__(cls)

    def __init__(self, *, name: str | None = None, trainable: bool = True, dtype=None):
        Layer.__init__(self, trainable=trainable, name=name, dtype=dtype)

    # ------------------------------------------------------------ structure
    @property
    def layers(self) -> list[Layer]:
        """The layers kept as attributes (or in lists of attributes), in assignment order."""
        return tracked_layers(self)

    def _expected_input_shapes(self) -> list:
        """Per model input, the batch input shape data must fit, or ``None`` when not known."""
        return [None]

    def _input_names(self) -> list[str]:
        return ["input"]

    def _output_names(self) -> list[str]:
        return [self.name]

    @property
    def output_names(self) -> list[str]:
        """The names of the model's outputs, in order (the keys of ``loss`` and ``metrics`` dicts, and of
        ``predict``'s dict for a model whose outputs were given as one)."""
        return self._output_names()

    def _call_arrays(self, xs: list[np.ndarray], training: bool) -> list[Tensor]:
        """Run the model on its inputs (one array per model input); return one Tensor per output.

        The arrays are cast here to the model's dtype: a batch of a memory-mapped array arrives in the file's.
        """
        inputs = [Tensor(x, dtype=self.dtype) for x in xs]
        out = self(inputs[0] if len(inputs) == 1 else inputs, training=training)
        if isinstance(out, dict):
            return list(out.values())
        return list(out) if isinstance(out, (list, tuple)) else [out]

    def layer_chain(self) -> list[Layer] | None:
        """Return the layers in the order each feeds the next, when the model is nothing but that chain.

        Such a model's ``call`` runs them one after another; the compiled kernels run such chains. A
        subclassed model's ``call`` is opaque, so the base returns None.

        Returns
        -------
        list of Layer or None
            The chain, or None.
        """
        return None

    def _pack_outputs(self, outputs: list):
        """Per-output results as ``predict`` returns them: one array, or a list (a dict for named outputs)."""
        return outputs[0] if len(outputs) == 1 else outputs

    def build(self, input_shape=None) -> None:
        """Create the weights of a subclassed model by running it once on zeros.

        Parameters
        ----------
        input_shape : tuple or list of tuple
            The input's shape, batch axis first (a list of shapes for several inputs); unknown axes are taken
            as 1.

        Raises
        ------
        ValueError
            If no input shape is given.
        """
        if input_shape is None:
            raise ValueError(f"{type(self).__name__}.build needs an input shape, e.g. build((None, 2)).")
        with no_grad():
            self.call(_zeros(input_shape, self.dtype))
        self.built = True

    def compute_output_shape(self, input_shape):
        """Return the output shape (batch axis ``None``) found by running the model on one sample of zeros."""
        with no_grad():
            out = self(_zeros(input_shape, self.dtype))
        if isinstance(out, (list, tuple)):
            return [(None,) + o.shape[1:] for o in out]
        return (None,) + out.shape[1:]

    # ------------------------------------------------------------ weights
    def _unique(self, attribute: str) -> list[Variable]:
        return unique_variables(getattr(layer, attribute) for layer in self.layers)

    @property
    def weights(self) -> list[Variable]:
        """The weights of the model's layers, each once."""
        return self._unique("weights")

    @property
    def trainable_weights(self) -> list[Variable]:
        """The weights the optimizer updates: the layers' trainable weights, none while the model is frozen."""
        return self._unique("trainable_weights") if self.trainable else []

    trainable_variables = trainable_weights
    variables = weights

    @property
    def trainable(self) -> bool:
        """Whether the optimizer updates the model's weights; setting it sets it for every layer."""
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        """Freeze (False) or unfreeze (True) the model and its layers."""
        self._trainable = bool(value)
        if "_trainable" in vars(self):  # not while Layer.__init__ runs
            for layer in self.layers:
                layer.trainable = value

    @property
    def losses(self):
        """What ``add_loss`` recorded in the model's own latest call, then each layer's losses."""
        return [*self._call_losses, *(p for layer in self.layers for p in layer.losses)]

    def summary(self, line_length: int | None = None, positions=None, print_fn=None, **kwargs) -> None:
        """Print a table of the layers, their output shapes and parameter counts (Keras 2's layout).

        A functional model that is not a plain chain gets a fourth column, the layers each is connected to.
        A compiled model's summary also says where ``fit`` trains it (``training_path``).

        Parameters
        ----------
        line_length : int or None, default None
            The width of the table; 65 characters by default, 98 with the fourth column.
        positions : list of float or None, default None
            Where each column ends, as fractions of ``line_length`` (or as characters, numbers above 1).
        print_fn : callable or None, default None
            Receives each line; ``print`` by default.
        **kwargs
            ``expand_nested``, ``show_trainable`` and ``layer_range`` are accepted for compatibility; they
            change nothing.

        Raises
        ------
        ValueError
            If the model is not built yet.

        Examples
        --------
        >>> import deepfin
        >>> from deepfin.layers import Dense
        >>> model = deepfin.Sequential([Dense(3, input_dim=2, name="hidden"), Dense(1, name="output")],
        ...                            name="model")
        >>> model.summary()
        Model: "model"
        _________________________________________________________________
        Layer (type)                 Output Shape              Param #
        =================================================================
        hidden (Dense)               (None, 3)                 9
        _________________________________________________________________
        output (Dense)               (None, 1)                 4
        =================================================================
        Total params: 13
        Trainable params: 13
        Non-trainable params: 0
        _________________________________________________________________
        """
        from deepfin.models.summary import summary_lines

        for line in summary_lines(self, line_length, positions):
            (print_fn or print)(line)

    # ------------------------------------------------------------ saving
    def save(self, filepath, overwrite: bool = True, include_optimizer: bool = True, **kwargs) -> None:
        """Save architecture, weights, compile arguments and optimizer state to one file.

        The file is a zip archive (``metadata.json``, ``config.json``, ``model.weights.npz`` and, once a
        compiled model's optimizer has state, ``optimizer.npz``) that ``deepfin.models.load_model`` reads back.
        It is written atomically.

        Parameters
        ----------
        filepath : str or os.PathLike
            The file to write, e.g. ``"model.keras"``.
        overwrite : bool, default True
            Whether an existing file may be replaced.
        include_optimizer : bool, default True
            Whether to save the optimizer's state (its slots and step count) too.
        **kwargs
            Accepted for Keras's signature; unused.

        Raises
        ------
        NotImplementedError
            For a subclassed model, whose architecture is Python code: save its weights with
            ``save_weights`` instead.
        ValueError
            If the model is not built.
        FileExistsError
            If the file exists and ``overwrite`` is False.
        """
        from deepfin.saving import save_model

        save_model(self, filepath, overwrite=overwrite, include_optimizer=include_optimizer)

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> Model:
        """Build a model from ``get_config()``; ``Model.from_config`` rebuilds a functional model's graph.

        Parameters
        ----------
        config : dict
            What ``get_config()`` returned.
        custom_objects : dict or None, default None
            Custom layer classes by name, for the layers of a functional model.

        Returns
        -------
        Model
            A new model, with fresh weights.
        """
        if cls is Model and "nodes" in config:
            from deepfin.models.functional import Functional

            return Functional.from_config(config, custom_objects)
        return cls(**config)

    def export(self, filepath, format: str = "tf_saved_model", verbose=None, input_signature=None, **kwargs) -> None:
        """Write the model for inference outside Python, as Keras 3's ``export``.

        ``format="onnx"`` (the one format deepfin writes; it needs ``pip install deepfin[onnx]``) gives one
        ONNX file with a free batch axis, dropout as the identity and batch normalization in inference form.

        Parameters
        ----------
        filepath : str or os.PathLike
            The file to write.
        format : str, default "tf_saved_model"
            Keras's default, which deepfin cannot write: pass ``"onnx"``.
        verbose : bool or None, default None
            Whether to print where the file went.
        input_signature : None
            Not supported: the graph takes the model's own input shapes.
        **kwargs
            ``opset_version=`` picks the ONNX opset (17 by default).

        Raises
        ------
        ValueError
            If ``format`` is not "onnx" or ``input_signature`` is given.
        TypeError
            If another keyword argument is given.
        ImportError
            If the ``onnx`` package is not installed.
        """
        from deepfin.export import export_model

        export_model(self, filepath, format=format, verbose=verbose, input_signature=input_signature, **kwargs)

    def to_json(self, **kwargs) -> str:
        """Return the architecture (no weights) as JSON, for ``deepfin.models.model_from_json``.

        Parameters
        ----------
        **kwargs
            Passed to ``json.dumps`` (``indent=2``, ...).

        Returns
        -------
        str
            ``{"class_name": ..., "config": ...}`` as JSON text.
        """
        from deepfin.saving import model_to_json

        return model_to_json(self, **kwargs)

    def save_weights(self, filepath, overwrite: bool = True, **kwargs) -> None:
        """Write the model's weights (by position, with their paths) to one file.

        ``load_weights`` reads it back into a model of the same architecture, built in code.

        Parameters
        ----------
        filepath : str or os.PathLike
            The file to write.
        overwrite : bool, default True
            Whether an existing file may be replaced.
        **kwargs
            Accepted for Keras's signature; unused.

        Raises
        ------
        FileExistsError
            If the file exists and ``overwrite`` is False.
        """
        from deepfin.saving import save_weights

        save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath, skip_mismatch: bool = False, by_name: bool = False, **kwargs) -> None:
        """Set the model's weights from a weights file (``save_weights``) or a model file (``save``).

        Parameters
        ----------
        filepath : str or os.PathLike
            The file to read.
        skip_mismatch : bool, default False
            With ``by_name``, leave alone the weights whose stored shape differs.
        by_name : bool, default False
            Match the weights by path (``<layer name>/<weight name>``) instead of by position; the model's
            weights the file does not hold are left alone.
        **kwargs
            Accepted for Keras's signature; unused.

        Raises
        ------
        ValueError
            If the file is not a deepfin weights or model file, or is damaged, or (by position) its number or
            shapes of weights differ from the model's.
        """
        from deepfin.saving import load_weights

        load_weights(self, filepath, skip_mismatch=skip_mismatch, by_name=by_name)

    def save_backup(self, filepath, state: dict, arrays: dict | None = None) -> None:
        """Write a training backup: the weights, the optimizer's state and the trainer's ``state``, atomically.

        What ``callbacks.BackupAndRestore`` writes at the end of an epoch (or every few batches); ``load_backup``
        reads it back.

        Parameters
        ----------
        filepath : str or os.PathLike
            The file to write (replaced whole: a crash leaves the previous backup).
        state : dict
            JSON-serialisable training state (epoch, step, the callbacks' state).
        arrays : dict of str to np.ndarray, optional
            Arrays the state needs (the epoch's batch order).
        """
        from deepfin.saving import save_backup

        save_backup(self, filepath, state, arrays)

    def load_backup(self, filepath) -> tuple[dict, dict]:
        """Read a backup ``save_backup`` wrote into this model: its weights and optimizer state.

        Parameters
        ----------
        filepath : str or os.PathLike
            The backup file.

        Returns
        -------
        (dict, dict)
            The training state and the arrays saved with it.

        Raises
        ------
        ValueError
            If the file is not a deepfin backup, is damaged, or holds weights of other shapes than the model's.
        """
        from deepfin.saving import load_backup

        return load_backup(self, filepath)

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        """Return a layer by name or position, as Keras.

        Parameters
        ----------
        name : str or None, default None
            The layer's name.
        index : int or None, default None
            The layer's position in ``layers`` (negative counts from the end); it takes precedence over
            ``name``.

        Returns
        -------
        Layer
            The layer.

        Raises
        ------
        ValueError
            If ``index`` is out of range or no layer has that name.
        """
        if index is not None:
            if not -len(self.layers) <= index < len(self.layers):
                raise ValueError(f"Model has {len(self.layers)} layers. Received: index={index}")
            return self.layers[index]
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ValueError(f"No such layer: {name!r}. Existing layers: {[l.name for l in self.layers]}.")


def _zeros(input_shape, dtype):
    if isinstance(input_shape, list):
        return [_zeros(s, dtype) for s in input_shape]
    return Tensor(np.zeros((1,) + tuple(1 if d is None else d for d in input_shape[1:]), dtype=dtype))
