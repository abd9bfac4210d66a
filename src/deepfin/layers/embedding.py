"""``Embedding``, Keras 3's layer: integer identifiers (tickers, PERMNOs, sectors after a lookup) to learned vectors."""

from __future__ import annotations

import numpy as np

from deepfin import constraints, initializers, regularizers
from deepfin.engine.tensor import Tensor
from deepfin.layers.base import Layer


class Embedding(Layer):
    """Turn integer identifiers into learned vectors: row ``i`` of ``embeddings`` for each integer ``i``.

    ``embeddings`` has shape (input_dim, output_dim); inputs of any shape give that shape plus
    ``output_dim``. Inputs must be whole numbers in [0, input_dim); they may arrive as floats (a model's inputs
    are cast to its dtype), exact up to 2**24 in float32. With ``mask_zero`` identifier 0 is padding, and the
    layers after it (recurrent ones, ``GlobalAveragePooling1D``) skip its steps.

    Parameters
    ----------
    input_dim : int
        The number of identifiers (the largest plus one).
    output_dim : int
        The length of each vector.
    embeddings_initializer : str or callable, default "uniform"
        How the vectors are drawn; "uniform" is Keras's ``RandomUniform()``, in [-0.05, 0.05].
    embeddings_regularizer : str or callable or None, default None
        A penalty on the vectors, added to the training loss.
    embeddings_constraint : str or callable or None, default None
        Applied to the vectors after each optimizer update.
    mask_zero : bool, default False
        Whether identifier 0 marks padding.
    weights : list of np.ndarray or None, default None
        Initial values (``[embeddings]``), set when the layer is built.
    lora_rank : None
        Keras's low-rank adaptation, not supported: it must be None.
    **kwargs
        ``Layer`` arguments.

    Raises
    ------
    ValueError
        If ``input_dim`` or ``output_dim`` is not a positive integer or ``lora_rank`` is given; when called, if
        an input is not a whole number in [0, input_dim).

    Examples
    --------
    >>> import numpy as np
    >>> from deepfin.layers import Embedding
    >>> layer = Embedding(3, 2, mask_zero=True, weights=[np.arange(6.0).reshape(3, 2)])
    >>> layer(np.array([[2, 0]])).numpy()
    array([[[4., 5.],
            [0., 1.]]], dtype=float32)
    >>> layer.compute_mask(np.array([[2, 0]]))
    array([[ True, False]])
    """

    def __init__(self, input_dim: int, output_dim: int, embeddings_initializer="uniform",
                 embeddings_regularizer=None, embeddings_constraint=None, mask_zero: bool = False, weights=None,
                 lora_rank=None, **kwargs):
        super().__init__(**kwargs)
        for name, value in (("input_dim", input_dim), ("output_dim", output_dim)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
                raise ValueError(f"{name} must be a positive integer. Received: {name}={value!r}")
        if lora_rank is not None:
            raise ValueError("Embedding does not support lora_rank in deepfin.")
        self.input_dim, self.output_dim = int(input_dim), int(output_dim)
        self.embeddings_initializer = initializers.get(
            initializers.RandomUniform() if embeddings_initializer == "uniform" else embeddings_initializer)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.embeddings_constraint = constraints.get(embeddings_constraint)
        self.mask_zero = bool(mask_zero)
        self.embeddings = None
        self._initial_weights = weights

    def build(self, input_shape):
        """Create ``embeddings`` (input_dim, output_dim), set to ``weights`` when they were given."""
        self.embeddings = self.add_weight((self.input_dim, self.output_dim), self.embeddings_initializer,
                                          regularizer=self.embeddings_regularizer, name="embeddings",
                                          constraint=self.embeddings_constraint)
        if self._initial_weights is not None:
            self.set_weights(self._initial_weights)
            self._initial_weights = None

    def call(self, inputs):
        """Return the rows of ``embeddings`` the identifiers pick."""
        values = inputs.data if isinstance(inputs, Tensor) else np.asarray(inputs)
        index = values.astype(np.int64)
        if values.dtype.kind == "f" and not np.array_equal(index, values):
            raise ValueError(f"Embedding '{self.name}' takes whole numbers; received values such as "
                             f"{values[index != values].flat[0]!r}.")
        if index.size and (index.min() < 0 or index.max() >= self.input_dim):
            raise ValueError(f"Embedding '{self.name}' takes identifiers in [0, {self.input_dim}); received "
                             f"values from {index.min()} to {index.max()}.")
        return self.embeddings[index]

    def compute_mask(self, inputs, mask=None):
        """Return, with ``mask_zero``, where the identifier is not 0 (padding); no mask otherwise."""
        if not self.mask_zero:
            return None
        return np.asarray(inputs.data if isinstance(inputs, Tensor) else inputs) != 0

    def compute_output_shape(self, input_shape):
        """Return the input shape followed by ``output_dim``."""
        return (*tuple(input_shape), self.output_dim)

    def get_config(self):
        """Return the constructor arguments except ``weights``, serialized."""
        return {**super().get_config(), "input_dim": self.input_dim, "output_dim": self.output_dim,
                "embeddings_initializer": initializers.serialize(self.embeddings_initializer),
                "embeddings_regularizer": regularizers.serialize(self.embeddings_regularizer),
                "embeddings_constraint": constraints.serialize(self.embeddings_constraint),
                "mask_zero": self.mask_zero}
