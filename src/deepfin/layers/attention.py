"""``MultiHeadAttention`` with Keras 3's arguments, weights and formulas (Vaswani et al., 2017)."""

from __future__ import annotations

import math

import numpy as np

from deepfin import backend, constraints, initializers, regularizers
from deepfin.engine import functions
from deepfin.engine.tensor import Tensor
from deepfin.layers.base import Layer
from deepfin.layers.symbolic import is_symbolic

_LARGE_NEGATIVE = -1e9  # what Keras's masked softmax puts in masked positions


class MultiHeadAttention(Layer):
    """Scaled dot-product attention with ``num_heads`` heads, Keras 3's layer.

    Called as ``layer(query, value, key=None, attention_mask=None, return_attention_scores=False,
    training=None, use_causal_mask=False)`` on inputs (batch, steps, features). Query, key and value are
    projected to (steps, heads, key_dim / value_dim) by kernels of Keras's shapes, the scores
    ``softmax(q k / sqrt(key_dim))`` (masked positions get -1e9 first, as Keras's masked softmax does) drop out
    at ``dropout`` in training, and the heads' weighted values are projected to ``output_shape`` (default: the
    query's features). The output has shape (batch, query steps, ``output_shape``); with
    ``return_attention_scores=True`` the scores (batch, heads, query steps, value steps) follow it.

    The weights, in order: ``query_kernel`` (query features, heads, key_dim) and ``query_bias`` (heads,
    key_dim), the same for the key, ``value_kernel`` (value features, heads, value_dim) and ``value_bias``,
    then ``attention_output_kernel`` (heads, value_dim, output features) and ``attention_output_bias``.

    Parameters
    ----------
    num_heads : int
        The number of attention heads.
    key_dim : int
        The size of each head's query and key projections.
    value_dim : int or None, default None
        The size of each head's value projection; ``key_dim`` by default.
    dropout : float, default 0.0
        The rate at which the attention scores drop out in training, in [0, 1).
    use_bias : bool, default True
        Whether the projections have biases.
    output_shape : int or tuple or None, default None
        The number of output features (an int or a one-element tuple); the query's by default.
    attention_axes : None or 1, default None
        Only the steps axis is attended over: None, 1, ``(1,)`` or ``[1]``.
    kernel_initializer : str or callable, default "glorot_uniform"
        How the kernels are drawn.
    bias_initializer : str or callable, default "zeros"
        How the biases are set.
    kernel_regularizer : str or callable or None, default None
        A penalty on each kernel, added to the training loss.
    bias_regularizer : str or callable or None, default None
        A penalty on each bias.
    activity_regularizer : None
        Keras's argument, not supported: it must be None.
    kernel_constraint, bias_constraint : str or Constraint or None, default None
        Applied to every projection's kernel and bias after each optimizer update (``deepfin.constraints``).
    seed : int or None, default None
        Seeds the layer's own generator for the dropout; without it the library's is used.
    **kwargs
        ``Layer`` arguments.

    Raises
    ------
    ValueError
        If ``num_heads``, ``key_dim`` or ``value_dim`` is not a positive integer, ``dropout`` is not in [0, 1),
        ``attention_axes`` is another axis, ``output_shape`` has more than one number, or an unsupported
        argument is given.

    Examples
    --------
    Self-attention over 5 steps of 8 features, each step attending to itself and the steps before:

    >>> import numpy as np
    >>> from deepfin.layers import MultiHeadAttention
    >>> layer = MultiHeadAttention(num_heads=2, key_dim=4)
    >>> x = np.zeros((3, 5, 8))
    >>> out, scores = layer(x, x, use_causal_mask=True, return_attention_scores=True)
    >>> out.shape, scores.shape
    ((3, 5, 8), (3, 2, 5, 5))
    >>> float(scores.numpy()[0, 0, 0, 1])  # step 0 does not attend to step 1
    0.0
    """

    def __init__(self, num_heads: int, key_dim: int, value_dim: int | None = None, dropout: float = 0.0,
                 use_bias: bool = True, output_shape=None, attention_axes=None, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        for name, value in (("num_heads", num_heads), ("key_dim", key_dim), ("value_dim", value_dim or key_dim)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
                raise ValueError(f"{name} must be a positive integer. Received: {name}={value!r}")
        if attention_axes not in (None, 1, (1,), [1]):
            raise ValueError("MultiHeadAttention attends over the steps axis only (attention_axes=None or 1).")
        if activity_regularizer is not None:
            raise ValueError("MultiHeadAttention does not support activity_regularizer in deepfin; received "
                             f"{activity_regularizer!r}.")
        if not 0 <= dropout < 1:
            raise ValueError(f"dropout must be in [0, 1). Received: dropout={dropout!r}")
        self.num_heads, self.key_dim = int(num_heads), int(key_dim)
        self.value_dim = int(value_dim or key_dim)
        self.dropout, self.use_bias, self.seed = float(dropout), bool(use_bias), seed
        self.output_shape_given = None if output_shape is None else (
            (int(output_shape),) if isinstance(output_shape, (int, np.integer)) else tuple(output_shape))
        if self.output_shape_given is not None and len(self.output_shape_given) != 1:
            raise ValueError("MultiHeadAttention's output_shape must be one number of features.")
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self._rng = None if seed is None else np.random.default_rng(seed)
        self._options: dict = {}

    # ------------------------------------------------------------ building
    def _projection(self, name: str, features: int, width: int) -> tuple:
        kernel = self.add_weight((features, self.num_heads, width), self.kernel_initializer,
                                 regularizer=self.kernel_regularizer, name=f"{name}_kernel",
                                 constraint=self.kernel_constraint)
        bias = self.add_weight((self.num_heads, width), self.bias_initializer, regularizer=self.bias_regularizer,
                               name=f"{name}_bias", constraint=self.bias_constraint) if self.use_bias else None
        return kernel, bias

    def build(self, input_shape):
        """Create the query, key, value and output projections for the inputs' numbers of features."""
        shapes = input_shape if isinstance(input_shape, list) else [input_shape]
        query, value = shapes[0], shapes[1] if len(shapes) > 1 else shapes[0]
        key = shapes[2] if len(shapes) > 2 and shapes[2] is not None else value
        for shape in (query, value, key):
            if len(shape) != 3 or shape[-1] is None:
                raise ValueError(f"MultiHeadAttention takes inputs of shape (batch, steps, features) with known "
                                 f"features. Received shapes {shapes}.")
        self.query_kernel, self.query_bias = self._projection("query", query[-1], self.key_dim)
        self.key_kernel, self.key_bias = self._projection("key", key[-1], self.key_dim)
        self.value_kernel, self.value_bias = self._projection("value", value[-1], self.value_dim)
        out = self.output_shape_given[0] if self.output_shape_given else query[-1]
        self.output_kernel = self.add_weight((self.num_heads, self.value_dim, out), self.kernel_initializer,
                                             regularizer=self.kernel_regularizer, name="attention_output_kernel",
                                             constraint=self.kernel_constraint)
        self.output_bias = self.add_weight((out,), self.bias_initializer, regularizer=self.bias_regularizer,
                                           name="attention_output_bias", constraint=self.bias_constraint) \
            if self.use_bias else None

    # ------------------------------------------------------------ calling
    supports_masking = True

    def __call__(self, query, value=None, key=None, attention_mask=None, return_attention_scores: bool = False,
                 training=None, use_causal_mask: bool = False, query_mask=None, value_mask=None, key_mask=None,
                 mask=None, attention_mask_last: bool = False):
        """Attend from ``query`` to ``value`` (and ``key``).

        Parameters
        ----------
        query : Tensor or np.ndarray or KerasTensor
            (batch, query steps, features).
        value : Tensor or np.ndarray or KerasTensor
            (batch, value steps, features); the query itself for self-attention.
        key : Tensor or np.ndarray or KerasTensor or None, default None
            (batch, value steps, features); ``value`` by default.
        attention_mask : np.ndarray or Tensor or KerasTensor or None, default None
            (batch, query steps, value steps), 1 or True where a query may attend. In a functional model it
            must be symbolic (an ``Input`` or a layer's output); it becomes one more input of the layer.
        return_attention_scores : bool, default False
            Whether to return the scores too.
        training : bool or None, default None
            Whether the scores drop out.
        use_causal_mask : bool, default False
            Let step t of the query attend to value steps up to t only.
        query_mask, value_mask, key_mask : np.ndarray or Tensor or None, default None
            (batch, steps) booleans, True on real steps: queries do not attend to padding, as in Keras.
        mask : list or None, default None
            The inputs' masks ``[query, value, key]``, as a functional model passes them on from
            ``Embedding(mask_zero=True)`` or ``Masking``; they replace the three above.
        attention_mask_last : bool, default False
            Set by a functional model that replays the call: the last of the inputs listed in ``query`` is the
            attention mask.

        Returns
        -------
        Tensor or KerasTensor, or a list of two
            The output (batch, query steps, output features), and with ``return_attention_scores`` the scores
            (batch, heads, query steps, value steps).

        Raises
        ------
        TypeError
            If ``value`` is missing, or in a functional model ``attention_mask`` is not symbolic.
        ValueError
            If ``attention_mask`` does not have shape (batch, query steps, value steps).
        """
        if value is None and isinstance(query, (list, tuple)) and len(query) in (2, 3, 4):  # a functional replay
            parts = list(query)
            if attention_mask_last:  # the model's attention_mask came in as its last input
                attention_mask = parts.pop()
            query, value, key = (*parts, None)[:3]
        if value is None:
            raise TypeError("MultiHeadAttention needs value (the query itself for self-attention).")
        if mask is not None:  # the inputs' masks, as a functional model passes them: [query, value, key]
            query_mask, value_mask, key_mask = (*mask, None, None)[:3]
        inputs = [query, value] if key is None else [query, value, key]
        symbolic = is_symbolic(inputs)
        masked_input = symbolic and attention_mask is not None
        if masked_input:  # a symbolic attention_mask is one more input of the layer, after the key
            if not is_symbolic([attention_mask]):
                raise TypeError("In a functional model MultiHeadAttention's attention_mask must be a symbolic tensor "
                                "(an Input, or a layer's output) of shape (batch, query steps, value steps).")
            inputs = [query, value, value if key is None else key, attention_mask]
        self._options = {"attention_mask": attention_mask, "scores": bool(return_attention_scores),
                         "causal": bool(use_causal_mask), "input_masks": (query_mask, value_mask, key_mask)}
        try:
            outputs = super().__call__(inputs, training=training)
        finally:
            self._options = {}
        if symbolic:  # the model runs the layer again with the same options, and saves them
            for output in outputs if isinstance(outputs, list) else [outputs]:
                output.call_arguments = {"use_causal_mask": bool(use_causal_mask),
                                         "return_attention_scores": bool(return_attention_scores),
                                         **({"attention_mask_last": True} if masked_input else {})}
        return outputs

    def call(self, inputs, training=None):
        """Return the attention output of ``[query, value, key]`` (and the scores when asked for)."""
        query, value = inputs[0], inputs[1]
        key = inputs[2] if len(inputs) > 2 else value
        q = self._project(query, self.query_kernel, self.query_bias) * (1.0 / math.sqrt(self.key_dim))
        k = self._project(key, self.key_kernel, self.key_bias)
        v = self._project(value, self.value_kernel, self.value_bias)
        scores = q @ k.transpose(0, 1, 3, 2)  # (batch, heads, query steps, value steps)
        mask = self._mask(query.shape[1], value.shape[1])
        if mask is not None:
            scores = functions.where(mask, scores, _LARGE_NEGATIVE)
        scores = functions.softmax(scores, axis=-1)
        weights = functions.dropout(scores, self.dropout, self._rng or backend.rng()) if training and self.dropout \
            else scores
        heads = (weights @ v).transpose(0, 2, 1, 3)  # (batch, query steps, heads, value_dim)
        flat = heads.reshape((heads.shape[0], heads.shape[1], self.num_heads * self.value_dim))
        out = flat @ self.output_kernel.reshape((self.num_heads * self.value_dim, self.output_kernel.shape[2]))
        if self.output_bias is not None:
            out = out + self.output_bias
        return [out, scores] if self._options.get("scores") else out

    def _project(self, x: Tensor, kernel, bias) -> Tensor:
        """(batch, steps, features) to (batch, heads, steps, width)."""
        features, heads, width = kernel.shape
        projected = x @ kernel.reshape((features, heads * width))
        if bias is not None:
            projected = projected + bias.reshape((heads * width,))
        return projected.reshape((x.shape[0], x.shape[1], heads, width)).transpose(0, 2, 1, 3)

    def _mask(self, query_steps: int, value_steps: int) -> np.ndarray | None:
        """Where each query may attend, (batch or 1, 1, query steps, value steps), or None."""
        mask = None
        given = self._options.get("attention_mask")
        if given is not None:
            mask = np.asarray(given.data if isinstance(given, Tensor) else given)
            mask = (mask > 0.5) if mask.dtype != bool else mask
            if mask.ndim != 3 or mask.shape[1:] != (query_steps, value_steps):
                raise ValueError(f"attention_mask must have shape (batch, {query_steps}, {value_steps}). Received "
                                 f"{mask.shape}.")
            mask = mask[:, None]
        query_mask, value_mask, key_mask = self._options.get("input_masks", (None, None, None))
        for given, axis in ((query_mask, -1), (value_mask, -2), (key_mask, -2)):  # Keras's automatic mask
            if given is not None:
                given = np.expand_dims(np.asarray(given.data if isinstance(given, Tensor) else given, bool), axis)
                mask = given[:, None] if mask is None else mask & given[:, None]
        if self._options.get("causal"):
            causal = np.tril(np.ones((query_steps, value_steps), bool))[None, None]
            mask = causal if mask is None else mask & causal
        return mask

    def compute_mask(self, inputs, mask=None):
        """Return the query's mask (Keras's): each output step is the query step's."""
        return mask[0] if isinstance(mask, (list, tuple)) else None

    def compute_output_shape(self, input_shape):
        """Return (batch, query steps, output features), then the scores' shape when they are returned."""
        query = input_shape[0] if isinstance(input_shape, list) else input_shape
        out = self.output_shape_given[0] if self.output_shape_given else query[-1]
        if self._options.get("scores"):  # and the scores: (batch, heads, query steps, value steps)
            value = input_shape[1]
            return [(query[0], query[1], out), (query[0], self.num_heads, query[1], value[1])]
        return (query[0], query[1], out)

    def get_config(self):
        """Return the constructor arguments, initializers, regularizers and constraints serialized."""
        return {**super().get_config(), "num_heads": self.num_heads, "key_dim": self.key_dim,
                "value_dim": self.value_dim, "dropout": self.dropout, "use_bias": self.use_bias,
                "output_shape": None if self.output_shape_given is None else list(self.output_shape_given),
                "attention_axes": None, "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
                "bias_regularizer": regularizers.serialize(self.bias_regularizer),
                "kernel_constraint": constraints.serialize(self.kernel_constraint),
                "bias_constraint": constraints.serialize(self.bias_constraint), "seed": self.seed}

