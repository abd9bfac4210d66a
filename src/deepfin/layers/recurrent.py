"""Recurrent layers with Keras 3's names, arguments, weights and formulas: ``SimpleRNN``, ``LSTM`` and ``GRU``.

Each takes inputs of shape (batch, steps, features) and returns the last hidden state (batch, units), or every
step's (batch, steps, units) with ``return_sequences=True``; ``return_state=True`` adds the final states
(``[output, h]``, for the LSTM ``[output, h, c]``). Their weights are Keras's, in Keras's order and gate order
(``kernel`` (features, gates x units), ``recurrent_kernel`` (units, gates x units), ``bias``; LSTM gates
``[i, f, c, o]``, GRU ``[z, r, h]`` with a (2, 3 units) bias when ``reset_after``), so ``set_weights`` takes
what Keras's ``get_weights`` gives.

Two ways to run, one result: with the default activations (tanh, sigmoid gates) and no recurrent dropout in
training, the whole sequence is one graph node whose loops through time run on the compiled kernels
(``deepfin.engine.recurrent``); otherwise, or with the kernels off (``deepfin.backend.set_compiled(False)``),
a graph of the engine's operations step by step, the reference the kernels are tested against.

A mask (from ``Masking`` or ``Embedding(mask_zero=True)``, or ``mask=`` given) marks the real steps: a row keeps
its states over a masked step, as in Keras, on either path.

Dropout follows Keras: ``dropout`` draws one mask of the inputs' features per sequence, the same at every step;
with ``recurrent_dropout`` (Keras's "implementation 1"), each gate gets its own masks of the inputs and of the
previous hidden state.
"""

from __future__ import annotations

import numpy as np

from deepfin import activations, backend, constraints, initializers, regularizers
from deepfin._text import shape_str
from deepfin.engine import functions
from deepfin.engine import recurrent as fused
from deepfin.engine.tensor import Tensor, as_tensor
from deepfin.layers.base import Layer
from deepfin.layers.symbolic import is_symbolic


class _Recurrent(Layer):
    """What the three recurrent layers share: arguments, weights, masks, the loop over the steps, the outputs."""

    _gates = 1  # blocks of units in the kernels
    _state_count = 1

    def __init__(self, units: int, activation="tanh", recurrent_activation="sigmoid", use_bias: bool = True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
                 kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, recurrent_constraint=None,
                 bias_constraint=None, dropout: float = 0.0, recurrent_dropout: float = 0.0, seed: int | None = None,
                 return_sequences: bool = False, return_state: bool = False, go_backwards: bool = False,
                 stateful: bool = False, unroll: bool = False, use_cudnn="auto", **kwargs):
        super().__init__(**kwargs)
        if isinstance(units, bool) or not isinstance(units, (int, np.integer)) or units <= 0:
            raise ValueError(
                f"Received an invalid value for argument `units`, expected a positive integer, got {units!r}."
            )
        if activity_regularizer is not None:
            raise ValueError(f"{type(self).__name__} does not support activity_regularizer in deepfin; received "
                             f"{activity_regularizer!r}.")
        if stateful:
            raise ValueError(f"{type(self).__name__}(stateful=True) is not supported: deepfin's recurrent layers "
                             "start each batch from zero states or from the initial_state given.")
        for name, rate in (("dropout", dropout), ("recurrent_dropout", recurrent_dropout)):
            if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate < 1:
                raise ValueError(f"{name} must be a number in [0, 1). Received: {name}={rate!r}")
        self.units = int(units)
        self.activation = activations.get(activation)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.recurrent_constraint = constraints.get(recurrent_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.dropout, self.recurrent_dropout = float(dropout), float(recurrent_dropout)
        self.seed = seed
        self._rng = None if seed is None else np.random.default_rng(seed)
        self.return_sequences, self.return_state = bool(return_sequences), bool(return_state)
        self.go_backwards, self.unroll = bool(go_backwards), bool(unroll)
        self.use_cudnn = use_cudnn
        self.kernel = self.recurrent_kernel = self.bias = None

    # ------------------------------------------------------------ building
    def build(self, input_shape):
        """Create ``kernel`` (features, gates x units), ``recurrent_kernel`` (units, gates x units) and ``bias``."""
        if isinstance(input_shape, list):  # [inputs, *initial states], from a functional model
            input_shape = input_shape[0]
        if len(input_shape) != 3 or input_shape[-1] is None:
            raise ValueError(f"{type(self).__name__} takes inputs of shape (batch, steps, features) with a known "
                             f"number of features. Received input_shape={shape_str(input_shape)}.")
        width = self._gates * self.units
        self.kernel = self.add_weight((input_shape[-1], width), self.kernel_initializer,
                                      regularizer=self.kernel_regularizer, name="kernel",
                                      constraint=self.kernel_constraint)
        self.recurrent_kernel = self.add_weight((self.units, width), self.recurrent_initializer,
                                                regularizer=self.recurrent_regularizer, name="recurrent_kernel",
                                                constraint=self.recurrent_constraint)
        if self.use_bias:
            self.bias = self.add_weight(self._bias_shape(), self._bias_initializer(),
                                        regularizer=self.bias_regularizer, name="bias", constraint=self.bias_constraint)

    def _bias_shape(self) -> tuple:
        return (self._gates * self.units,)

    def _bias_initializer(self):
        return self.bias_initializer

    def _check_input_shape(self, input_shape):
        if isinstance(input_shape, list):
            for state in input_shape[1:]:
                if tuple(state[1:]) != (self.units,):
                    raise ValueError(f"Each initial state of layer '{self.name}' must have shape (batch, "
                                     f"{self.units}). Received {tuple(state)}.")
            input_shape = input_shape[0]
        if len(input_shape) != 3 or (input_shape[-1] is not None and input_shape[-1] != self.kernel.shape[0]):
            raise ValueError(f"Input of shape {shape_str(input_shape)} is incompatible with layer '{self.name}': "
                             f"expected (batch, steps, {self.kernel.shape[0]}).")

    def compute_output_shape(self, input_shape):
        """Return (batch, units) or (batch, steps, units), then each state's (batch, units) with ``return_state``."""
        if isinstance(input_shape, list):
            input_shape = input_shape[0]
        batch, steps = input_shape[0], input_shape[1]
        output = (batch, steps, self.units) if self.return_sequences else (batch, self.units)
        if not self.return_state:
            return output
        return [output, *[(batch, self.units)] * self._state_count]

    # ------------------------------------------------------------ calling
    @property
    def generator(self) -> np.random.Generator:
        """The generator the dropout masks are drawn from: the layer's own (with a ``seed``) or the library's."""
        return self._rng or backend.rng()

    supports_masking = True

    def __call__(self, inputs, initial_state=None, training: bool | None = None, mask=None):
        """Run the layer on ``inputs`` (batch, steps, features), from ``initial_state``.

        Parameters
        ----------
        inputs : Tensor or np.ndarray or KerasTensor, or a list
            The sequences (batch, steps, features), or ``[inputs, *initial states]`` as a functional model
            records the call.
        initial_state : list or None, default None
            (batch, units) arrays or tensors: ``[h]``, for the LSTM ``[h, c]``; zeros when not given.
        training : bool or None, default None
            Whether the dropout is applied.
        mask : np.ndarray or None, default None
            (batch, steps) booleans, True on real steps: a row keeps its states over a masked step.

        Returns
        -------
        Tensor or KerasTensor, or a list of them
            The output, followed by the final states with ``return_state``.

        Raises
        ------
        ValueError
            If the number or shape of the initial states, or the mask's shape, does not fit.
        """
        if isinstance(inputs, (list, tuple)):  # [inputs, *initial states]: how a functional model records the call
            inputs, initial_state = inputs[0], list(inputs[1:]) or initial_state
        if initial_state is None:
            return super().__call__(inputs, training=training, mask=mask)
        if is_symbolic(inputs) or is_symbolic(initial_state):
            states = list(initial_state) if isinstance(initial_state, (list, tuple)) else [initial_state]
            return super().__call__([inputs, *states], training=training)
        self._initial_state = list(initial_state) if isinstance(initial_state, (list, tuple)) else [initial_state]
        try:
            return super().__call__(inputs, training=training, mask=mask)
        finally:
            self._initial_state = None

    _initial_state = None

    def compute_mask(self, inputs, mask=None):
        """Return the input's mask for the whole sequence of outputs (``return_sequences``), else none."""
        return mask if self.return_sequences else None

    def call(self, inputs, training=None, mask=None):
        """Run the cell over the steps, on the compiled kernels where it can, else step by step."""
        if inputs.ndim != 3 or inputs.shape[-1] != self.kernel.shape[0]:
            raise ValueError(f"Input of shape {inputs.shape} is incompatible with layer '{self.name}': expected "
                             f"(batch, steps, {self.kernel.shape[0]}).")
        if inputs.shape[1] == 0:
            raise ValueError(f"Layer '{self.name}' received sequences of 0 steps.")
        states = self._initial_states(inputs.shape[0])
        x = inputs[:, ::-1] if self.go_backwards else inputs
        steps = None
        if mask is not None:
            steps = np.asarray(mask.data if isinstance(mask, Tensor) else mask, dtype=bool)
            if steps.shape != tuple(inputs.shape[:2]):
                raise ValueError(f"Layer '{self.name}' received a mask of shape {steps.shape} for inputs of shape "
                                 f"{inputs.shape}: expected (batch, steps).")
            steps = steps[:, ::-1] if self.go_backwards else steps
        per_gate = bool(training) and self.recurrent_dropout > 0
        if bool(training) and self.dropout > 0 and not per_gate:
            x = x * self._mask((x.shape[0], 1, x.shape[2]), self.dropout)
        if not per_gate and backend.compiled() and self._fusable():
            sequence, final = self._fused(x, states, steps)
        else:  # the reference
            masks = self._gate_masks(x.shape[0], x.shape[2]) if per_gate else None
            sequence, final = self._stepwise(x, states, masks, steps)
        output = sequence if self.return_sequences else final[0]
        return [output, *final] if self.return_state else output

    def _initial_states(self, batch: int) -> list:
        if self._initial_state is None:
            return [None] * self._state_count
        if len(self._initial_state) != self._state_count:
            raise ValueError(f"Layer '{self.name}' takes {self._state_count} initial state(s); received "
                             f"{len(self._initial_state)}.")
        states = [as_tensor(s, self.dtype) for s in self._initial_state]
        for s in states:
            if s.shape != (batch, self.units):
                raise ValueError(f"Each initial state of layer '{self.name}' must have shape ({batch}, "
                                 f"{self.units}). Received {s.shape}.")
        return states

    def _fusable(self) -> bool:
        return activations.builtin_name(self.activation) == "tanh" and \
            activations.builtin_name(self.recurrent_activation) == "sigmoid" and self._fused_variant()

    def _fused_variant(self) -> bool:
        return True

    def _mask(self, shape, rate: float) -> np.ndarray:
        keep = self.generator.random(shape) >= rate
        return (keep / (1.0 - rate)).astype(self.dtype)

    def _gate_masks(self, batch: int, features: int) -> tuple[list, list]:
        """Per gate: a mask of the inputs (ones without ``dropout``) and one of the previous hidden state."""
        inputs = [self._mask((batch, features), self.dropout) if self.dropout > 0 else None
                  for _ in range(self._gates)]
        hidden = [self._mask((batch, self.units), self.recurrent_dropout) for _ in range(self._gates)]
        return inputs, hidden

    def _gate(self, weights: Tensor, gate: int) -> Tensor:
        return weights[..., gate * self.units:(gate + 1) * self.units]

    def _projections(self, x_t: Tensor, h: Tensor, masks, recurrent_bias=None) -> tuple[list, list]:
        """Per gate, the input's and the previous state's projections (masked per gate when ``masks``)."""
        if masks is None:
            xw, hu = x_t @ self.kernel, h @ self.recurrent_kernel
            return [self._gate(xw, g) for g in range(self._gates)], [self._gate(hu, g) for g in range(self._gates)]
        inputs, hidden = masks
        xs = [(x_t if m is None else x_t * m) @ self._gate(self.kernel, g) for g, m in enumerate(inputs)]
        hs = [(h * m) @ self._gate(self.recurrent_kernel, g) for g, m in enumerate(hidden)]
        return xs, hs

    def _stepwise(self, x: Tensor, states: list, masks, steps: np.ndarray | None = None) -> tuple[Tensor, list]:
        """Run the cell step by step; where ``steps`` (batch, steps) is False, a row keeps its states.

        This is Keras's masking: the output of a masked step is the previous one.
        """
        batch = x.shape[0]
        states = [Tensor(np.zeros((batch, self.units), self.dtype)) if s is None else s for s in states]
        outputs = []
        for t in range(x.shape[1]):
            new = self._step(x[:, t], states, masks)
            if steps is not None:
                keep = steps[:, t:t + 1]
                new = [functions.where(keep, a, b) for a, b in zip(new, states)]
            states = new
            outputs.append(states[0])
        return functions.stack(outputs, axis=1), states

    def get_config(self):
        return {**super().get_config(), "units": self.units, "activation": activations.serialize(self.activation),
                "recurrent_activation": activations.serialize(self.recurrent_activation), "use_bias": self.use_bias,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "recurrent_initializer": initializers.serialize(self.recurrent_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
                "recurrent_regularizer": regularizers.serialize(self.recurrent_regularizer),
                "bias_regularizer": regularizers.serialize(self.bias_regularizer),
                "kernel_constraint": constraints.serialize(self.kernel_constraint),
                "recurrent_constraint": constraints.serialize(self.recurrent_constraint),
                "bias_constraint": constraints.serialize(self.bias_constraint),
                "dropout": self.dropout, "recurrent_dropout": self.recurrent_dropout, "seed": self.seed,
                "return_sequences": self.return_sequences, "return_state": self.return_state,
                "go_backwards": self.go_backwards, "stateful": False, "unroll": self.unroll}


class SimpleRNN(_Recurrent):
    """Keras's fully connected recurrent layer: ``h_t = activation(x_t @ kernel + bias + h_(t-1) @ recurrent_kernel)``.

    Inputs (batch, steps, features) give the last hidden state (batch, units), or every step's (batch, steps,
    units) with ``return_sequences``; ``return_state`` adds the final state: ``[output, h]``. The weights:
    ``kernel`` (features, units), ``recurrent_kernel`` (units, units) and ``bias`` (units,). Dropout masks the
    inputs and the previous state once each, as Keras's ``SimpleRNN`` does.

    Parameters
    ----------
    units : int
        The size of the hidden state.
    activation : str or callable, default "tanh"
        The activation of the hidden state.
    use_bias : bool, default True
        Whether to add biases.
    kernel_initializer : str or callable, default "glorot_uniform"
        How ``kernel`` is drawn.
    recurrent_initializer : str or callable, default "orthogonal"
        How ``recurrent_kernel`` is drawn.
    bias_initializer : str or callable, default "zeros"
        How ``bias`` is set.
    kernel_regularizer, recurrent_regularizer, bias_regularizer : str or callable or None, default None
        Penalties on the weights, added to the training loss.
    activity_regularizer : None
        Not supported: it must be None.
    kernel_constraint, recurrent_constraint, bias_constraint : str or callable or None, default None
        Applied to the weights after each optimizer update.
    dropout : float, default 0.0
        The rate at which the inputs' features drop out in training, in [0, 1).
    recurrent_dropout : float, default 0.0
        The rate at which the previous hidden state drops out in training, in [0, 1).
    seed : int or None, default None
        Seeds the layer's own generator for the dropout masks; without it the library's is used.
    return_sequences : bool, default False
        Whether to return every step's hidden state rather than the last.
    return_state : bool, default False
        Whether to return the final states after the output.
    go_backwards : bool, default False
        Whether to run over the sequence from its last step; the sequence returned is then in that order.
    stateful : bool, default False
        Must be False: each batch starts from zero states or from the ``initial_state`` given.
    unroll : bool, default False
        Accepted for Keras's signature (and saved); it changes nothing.
    use_cudnn : str or bool, default "auto"
        Accepted for Keras's signature; it changes nothing.
    **kwargs
        ``Layer`` arguments.

    Raises
    ------
    ValueError
        If ``units`` is not a positive integer, a dropout rate is not in [0, 1), or ``activity_regularizer``
        or ``stateful=True`` is given; when called, if the inputs are not (batch, steps, features) of the
        features the layer was built for, or have 0 steps.
    TypeError
        If ``recurrent_activation`` is given: a simple RNN has no gates.

    Examples
    --------
    >>> import numpy as np
    >>> from deepfin.layers import SimpleRNN
    >>> x = np.zeros((2, 5, 3))
    >>> SimpleRNN(4)(x).shape
    (2, 4)
    >>> SimpleRNN(4, return_sequences=True)(x).shape
    (2, 5, 4)
    """

    def __init__(self, units: int, activation="tanh", **kwargs):
        if "recurrent_activation" in kwargs:
            raise TypeError("SimpleRNN takes no recurrent_activation.")
        super().__init__(units, activation=activation, **kwargs)

    def _gate_masks(self, batch: int, features: int):
        # Keras's SimpleRNN masks the inputs and the previous state once each, whatever the implementation
        return ([self._mask((batch, features), self.dropout) if self.dropout > 0 else None],
                [self._mask((batch, self.units), self.recurrent_dropout)])

    def _fusable(self) -> bool:
        return activations.builtin_name(self.activation) == "tanh"

    def _fused(self, x, states, steps=None):
        sequence = fused.simple_rnn(x, self.kernel, self.recurrent_kernel, self.bias, states[0], mask=steps)
        return sequence, [sequence[:, -1]]

    def _step(self, x_t, states, masks):
        (xw,), (hu,) = self._projections(x_t, states[0], masks)
        z = xw + hu
        return [self.activation(z + self.bias if self.use_bias else z)]

    def get_config(self):
        """Return the layer's config (without ``recurrent_activation``, which a simple RNN does not take)."""
        config = super().get_config()
        del config["recurrent_activation"]
        return config


class LSTM(_Recurrent):
    """Long short-term memory (Hochreiter and Schmidhuber, 1997), with Keras's formulas.

    Gates ``i, f, o`` = ``recurrent_activation(x_t @ kernel + h_(t-1) @ recurrent_kernel + bias)``, candidate
    with ``activation``, ``c_t = f c_(t-1) + i candidate``, ``h_t = o activation(c_t)``. Inputs (batch, steps,
    features) give the last hidden state (batch, units), or every step's (batch, steps, units) with
    ``return_sequences``; ``return_state`` adds the final states: ``[output, h, c]``. The weights, gates in the
    order ``[i, f, c, o]``: ``kernel`` (features, 4 units), ``recurrent_kernel`` (units, 4 units) and ``bias``
    (4 units,).

    Parameters
    ----------
    units : int
        The size of the hidden and cell states.
    unit_forget_bias : bool, default True
        Whether to start the forget gate's bias at 1 (the other biases from ``bias_initializer``).
    activation : str or callable, default "tanh"
        The activation of the hidden state and of the candidate.
    recurrent_activation : str or callable, default "sigmoid"
        The gates' activation.
    use_bias : bool, default True
        Whether to add biases.
    kernel_initializer : str or callable, default "glorot_uniform"
        How ``kernel`` is drawn.
    recurrent_initializer : str or callable, default "orthogonal"
        How ``recurrent_kernel`` is drawn.
    bias_initializer : str or callable, default "zeros"
        How ``bias`` is set.
    kernel_regularizer, recurrent_regularizer, bias_regularizer : str or callable or None, default None
        Penalties on the weights, added to the training loss.
    activity_regularizer : None
        Not supported: it must be None.
    kernel_constraint, recurrent_constraint, bias_constraint : str or callable or None, default None
        Applied to the weights after each optimizer update.
    dropout : float, default 0.0
        The rate at which the inputs' features drop out in training, in [0, 1).
    recurrent_dropout : float, default 0.0
        The rate at which the previous hidden state drops out in training, in [0, 1).
    seed : int or None, default None
        Seeds the layer's own generator for the dropout masks; without it the library's is used.
    return_sequences : bool, default False
        Whether to return every step's hidden state rather than the last.
    return_state : bool, default False
        Whether to return the final states after the output.
    go_backwards : bool, default False
        Whether to run over the sequence from its last step; the sequence returned is then in that order.
    stateful : bool, default False
        Must be False: each batch starts from zero states or from the ``initial_state`` given.
    unroll : bool, default False
        Accepted for Keras's signature (and saved); it changes nothing.
    use_cudnn : str or bool, default "auto"
        Accepted for Keras's signature; it changes nothing.
    **kwargs
        ``Layer`` arguments.

    Raises
    ------
    ValueError
        If ``units`` is not a positive integer, a dropout rate is not in [0, 1), or ``activity_regularizer``
        or ``stateful=True`` is given; when called, if the inputs are not (batch, steps, features) of the
        features the layer was built for, or have 0 steps.

    Examples
    --------
    >>> import numpy as np
    >>> from deepfin.layers import LSTM
    >>> x = np.zeros((2, 5, 3))
    >>> layer = LSTM(4)
    >>> layer(x).shape
    (2, 4)
    >>> [w.shape for w in layer.weights]
    [(3, 16), (4, 16), (16,)]
    >>> output, h, c = LSTM(4, return_sequences=True, return_state=True)(x)
    >>> output.shape, h.shape, c.shape
    ((2, 5, 4), (2, 4), (2, 4))
    """

    _gates = 4
    _state_count = 2

    def __init__(self, units: int, unit_forget_bias: bool = True, **kwargs):
        super().__init__(units, **kwargs)
        self.unit_forget_bias = bool(unit_forget_bias)

    def _bias_initializer(self):
        if not self.unit_forget_bias:
            return self.bias_initializer
        units, initializer = self.units, self.bias_initializer

        def with_forget_ones(shape, dtype=None):
            return np.concatenate([initializer((units,), dtype), np.ones(units, dtype or self.dtype),
                                   initializer((2 * units,), dtype)]).astype(dtype or self.dtype)

        return with_forget_ones

    def _fused(self, x, states, steps=None):
        both = fused.lstm(x, self.kernel, self.recurrent_kernel, self.bias, *states, mask=steps)
        units = self.units
        return both[..., :units], [both[:, -1, :units], both[:, -1, units:]]

    def _step(self, x_t, states, masks):
        h, c = states
        xs, hs = self._projections(x_t, h, masks)
        z = [a + b for a, b in zip(xs, hs)]
        if self.use_bias:
            z = [zg + self._gate(self.bias, g) for g, zg in enumerate(z)]
        i, f, o = (self.recurrent_activation(z[g]) for g in (0, 1, 3))
        c = f * c + i * self.activation(z[2])
        return [o * self.activation(c), c]

    def get_config(self):
        """Return the layer's config with ``unit_forget_bias``."""
        return {**super().get_config(), "unit_forget_bias": self.unit_forget_bias}


class GRU(_Recurrent):
    """Gated recurrent unit (Cho et al., 2014), with Keras's formulas.

    ``z, r`` = ``recurrent_activation(x_t @ kernel + h_(t-1) @ recurrent_kernel + biases)``; with
    ``reset_after`` (the default, cuDNN's and PyTorch's variant) the candidate is ``activation(x_t @ kernel_h +
    input_bias_h + r (h_(t-1) @ recurrent_kernel_h + recurrent_bias_h))``, else ``activation(x_t @ kernel_h +
    (r h_(t-1)) @ recurrent_kernel_h + bias_h)``; ``h_t = z h_(t-1) + (1 - z) candidate``. Inputs (batch,
    steps, features) give the last hidden state (batch, units), or every step's (batch, steps, units) with
    ``return_sequences``; ``return_state`` adds the final state: ``[output, h]``. The weights, gates in the
    order ``[z, r, h]``: ``kernel`` (features, 3 units), ``recurrent_kernel`` (units, 3 units) and ``bias``,
    of shape (2, 3 units) (input and recurrent biases) with ``reset_after``, else (3 units,).

    Parameters
    ----------
    units : int
        The size of the hidden state.
    reset_after : bool, default True
        Whether the reset gate applies after the recurrent projection (see above).
    activation : str or callable, default "tanh"
        The activation of the hidden state candidate.
    recurrent_activation : str or callable, default "sigmoid"
        The gates' activation.
    use_bias : bool, default True
        Whether to add biases.
    kernel_initializer : str or callable, default "glorot_uniform"
        How ``kernel`` is drawn.
    recurrent_initializer : str or callable, default "orthogonal"
        How ``recurrent_kernel`` is drawn.
    bias_initializer : str or callable, default "zeros"
        How ``bias`` is set.
    kernel_regularizer, recurrent_regularizer, bias_regularizer : str or callable or None, default None
        Penalties on the weights, added to the training loss.
    activity_regularizer : None
        Not supported: it must be None.
    kernel_constraint, recurrent_constraint, bias_constraint : str or callable or None, default None
        Applied to the weights after each optimizer update.
    dropout : float, default 0.0
        The rate at which the inputs' features drop out in training, in [0, 1).
    recurrent_dropout : float, default 0.0
        The rate at which the previous hidden state drops out in training, in [0, 1).
    seed : int or None, default None
        Seeds the layer's own generator for the dropout masks; without it the library's is used.
    return_sequences : bool, default False
        Whether to return every step's hidden state rather than the last.
    return_state : bool, default False
        Whether to return the final states after the output.
    go_backwards : bool, default False
        Whether to run over the sequence from its last step; the sequence returned is then in that order.
    stateful : bool, default False
        Must be False: each batch starts from zero states or from the ``initial_state`` given.
    unroll : bool, default False
        Accepted for Keras's signature (and saved); it changes nothing.
    use_cudnn : str or bool, default "auto"
        Accepted for Keras's signature; it changes nothing.
    **kwargs
        ``Layer`` arguments.

    Raises
    ------
    ValueError
        If ``units`` is not a positive integer, a dropout rate is not in [0, 1), or ``activity_regularizer``
        or ``stateful=True`` is given; when called, if the inputs are not (batch, steps, features) of the
        features the layer was built for, or have 0 steps.

    Examples
    --------
    >>> import numpy as np
    >>> from deepfin.layers import GRU
    >>> layer = GRU(4)
    >>> layer(np.zeros((2, 5, 3))).shape
    (2, 4)
    >>> [w.shape for w in layer.weights]
    [(3, 12), (4, 12), (2, 12)]
    """

    _gates = 3

    def __init__(self, units: int, reset_after: bool = True, **kwargs):
        super().__init__(units, **kwargs)
        self.reset_after = bool(reset_after)

    def _bias_shape(self) -> tuple:
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    def _fused_variant(self) -> bool:
        return self.reset_after

    def _fused(self, x, states, steps=None):
        sequence = fused.gru(x, self.kernel, self.recurrent_kernel, self.bias, states[0], mask=steps)
        return sequence, [sequence[:, -1]]

    def _step(self, x_t, states, masks):
        (h,) = states
        n = self.units
        input_bias = recurrent_bias = None
        if self.use_bias:
            input_bias, recurrent_bias = (self.bias[0], self.bias[1]) if self.reset_after else (self.bias, None)
        xs, hs = self._projections(x_t, h, masks)
        if input_bias is not None:
            xs = [xg + input_bias[g * n:(g + 1) * n] for g, xg in enumerate(xs)]
        if recurrent_bias is not None:
            hs = [hg + recurrent_bias[g * n:(g + 1) * n] for g, hg in enumerate(hs)]
        z = self.recurrent_activation(xs[0] + hs[0])
        r = self.recurrent_activation(xs[1] + hs[1])
        if self.reset_after:
            candidate = self.activation(xs[2] + r * hs[2])
        else:
            h_masked = h if masks is None else h * masks[1][2]
            candidate = self.activation(xs[2] + (r * h_masked) @ self._gate(self.recurrent_kernel, 2))
        return [z * h + (1 - z) * candidate]

    def get_config(self):
        """Return the layer's config with ``reset_after``."""
        return {**super().get_config(), "reset_after": self.reset_after}
