"""``Embedding``: integer identifiers (tickers, PERMNOs, sectors after a lookup) to learned vectors, Keras 3's
layer."""

from __future__ import annotations

import numpy as np

from deepfin import constraints, initializers, regularizers
from deepfin.engine.tensor import Tensor
from deepfin.layers.base import Layer


class Embedding(Layer):
    """Row ``i`` of ``embeddings`` (input_dim, output_dim) for each integer ``i`` of the inputs: inputs of any
    shape give that shape plus ``output_dim``. Inputs must be whole numbers in [0, input_dim); they may arrive
    as floats (a model's inputs are cast to its dtype), exact up to 2**24 in float32. With ``mask_zero`` identifier 0
is padding, and the layers after it (recurrent ones, ``GlobalAveragePooling1D``) skip its steps."""

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
        self.embeddings = self.add_weight((self.input_dim, self.output_dim), self.embeddings_initializer,
                                          regularizer=self.embeddings_regularizer, name="embeddings",
                                          constraint=self.embeddings_constraint)
        if self._initial_weights is not None:
            self.set_weights(self._initial_weights)
            self._initial_weights = None

    def call(self, inputs):
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
        """With ``mask_zero``, identifier 0 is padding: the mask is False there."""
        if not self.mask_zero:
            return None
        return np.asarray(inputs.data if isinstance(inputs, Tensor) else inputs) != 0

    def compute_output_shape(self, input_shape):
        return (*tuple(input_shape), self.output_dim)

    def get_config(self):
        return {**super().get_config(), "input_dim": self.input_dim, "output_dim": self.output_dim,
                "embeddings_initializer": initializers.serialize(self.embeddings_initializer),
                "embeddings_regularizer": regularizers.serialize(self.embeddings_regularizer),
                "embeddings_constraint": constraints.serialize(self.embeddings_constraint),
                "mask_zero": self.mask_zero}
