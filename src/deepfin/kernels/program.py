"""A model as the kernels' tables, or the reason it cannot be one.

``layers_program(model)`` reads a model that is one chain of layers (``Model.layer_chain()``: a
``Sequential``) of Dense, Maxout, BatchNormalization, Activation, Dropout and Flatten layers into a ``Program``:
one row per operation for ``deepfin.kernels.mlp``, where each trainable variable and each moving statistic sits
in the flat buffers, and which generator each Dropout draws from. ``training_setup(model, program)`` adds what
training needs: the loss (binary cross-entropy on a sigmoid output or on logits, categorical and sparse
categorical cross-entropy on a softmax output or on logits, mean squared error on any output), the L1/L2
penalties and the optimizer. Anything else returns a sentence saying
why, and the model runs on the eager engine.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from deepfin import activations, losses, regularizers
from deepfin.engine.variable import Variable
from deepfin.kernels import mlp
from deepfin.layers.core import Activation, Dense, Dropout, Flatten
from deepfin.layers.maxout import Maxout
from deepfin.layers.normalization import BatchNormalization

ACTIVATION_CODES = {"linear": mlp.LINEAR, "relu": mlp.RELU, "tanh": mlp.TANH, "sigmoid": mlp.SIGMOID,
                    "elu": mlp.ELU, "softplus": mlp.SOFTPLUS, "leaky_relu": mlp.LEAKY_RELU,
                    "softmax": mlp.SOFTMAX, "log_softmax": mlp.LOG_SOFTMAX}
_ACTIVATION_PARAMETER = {"elu": 1.0, "leaky_relu": 0.2}  # the built-in functions' defaults
_DTYPES = ("float32", "float64")


@dataclass
class Program:
    """A network in the kernels' terms.

    ``ops``/``fops``: the operation tables (``mlp.OP_*`` columns). ``variables``: the trainable variables with
    their offsets in the parameter buffer, in the model's ``trainable_weights`` order. ``statistics``: the
    BatchNormalization moving statistics with their offsets in the state buffer of ``state_size`` values.
    ``dropout_sources``: per Dropout generator group, a function returning the generator now in force and the
    group's width per row. ``penalties``: (offset, size, l1, l2) rows.
    """

    ops: np.ndarray
    fops: np.ndarray
    variables: list[tuple[Variable, int]]
    statistics: list[tuple[Variable, int]]
    state_size: int
    dropout_sources: list
    penalties: np.ndarray
    dtype: np.dtype

    @property
    def n_params(self) -> int:
        """The number of trainable values."""
        return sum(v.size for v, _ in self.variables)

    @property
    def output_width(self) -> int:
        """The width of the network's output."""
        return int(self.ops[-1, mlp.OP_OUT])


@dataclass
class TrainingSetup:
    """What a training step needs besides the layers.

    The loss's code, whether it works on the last operation's pre-activation (``fused``), and the optimizer's
    code, slot names and settings (``hp``, in the model's dtype).
    """

    loss: int
    fused: bool
    optimizer: int
    slots: tuple[str, ...]
    hp: np.ndarray


class _Builder:
    """Rows of the tables, and the offsets handed out so far."""

    def __init__(self, one_stream: bool = False):
        self.one_stream = one_stream
        self.ops, self.fops = [], []
        self.variables, self.statistics, self.penalties = [], [], []
        self.n_params = self.state_size = 0
        self.sources: list[list] = []  # [generator getter, width, owner key]

    def variable(self, variable: Variable | None, regularizer=None) -> int:
        """Place ``variable`` in the parameter buffer, with its L1/L2 penalty: its offset, or -1 for ``None``."""
        if variable is None:
            return -1
        offset = self.n_params
        self.variables.append((variable, offset))
        self.n_params += variable.size
        if regularizer is not None and (regularizer.l1 or regularizer.l2):
            self.penalties.append((offset, variable.size, regularizer.l1, regularizer.l2))
        return offset

    def state(self, variable: Variable | None, size: int) -> int:
        """Reserve ``size`` values of the state buffer (a moving statistic's, given ``variable``): the offset."""
        offset = self.state_size
        if variable is not None:
            self.statistics.append((variable, offset))
        self.state_size += size
        return offset

    def add(self, kind: int, n_in: int, n_out: int, z_width: int, w=-1, b=-1, code=0, x1=0, x2=0, x3=0,
            floats=(0.0, 0.0)) -> None:
        """Append an operation's row (``mlp.OP_*`` columns) and its float parameters."""
        self.ops.append((kind, n_in, n_out, z_width, w, b, code, x1, x2, x3))
        self.fops.append(floats)

    def fold_activation(self, code: int, floats: tuple) -> None:
        """Give the last operation, a linear Dense, the activation of the Activation layer after it."""
        row = list(self.ops[-1])
        row[mlp.OP_CODE] = code
        self.ops[-1], self.fops[-1] = tuple(row), floats

    def dropout_columns(self, layer: Dropout, width: int) -> tuple[int, int, int]:
        """(group width, place in the group, group index) of a Dropout layer.

        The group width is final only once every layer is added, so the first and third are fixed up in
        ``layers_program``.
        """
        key = None if layer.seed is None or self.one_stream else id(layer)  # unseeded: the library's generator
        for index, source in enumerate(self.sources):
            if source[2] == key:
                place = source[1]
                source[1] += width
                return 0, place, index
        self.sources.append([lambda: layer.generator, width, key])
        return 0, 0, len(self.sources) - 1


def layers_program(model, one_stream: bool = False) -> Program | str:
    """The model's ``Program``, or why it has none.

    Parameters
    ----------
    model : Model
        A built model whose layers are one chain.
    one_stream : bool, default False
        Every Dropout layer takes its uniforms from one stream, seeded layers too (a stack draws them
        all from its own generator). Otherwise each seeded Dropout layer has a stream of its own and
        the unseeded ones share the library's generator.

    Returns
    -------
    Program or str
        The tables, or a sentence saying why the kernels cannot run the model.
    """
    chain = model.layer_chain()
    if chain is None:
        return f"it is a {type(model).__name__} model whose layers are not one chain"
    if not model.built:
        return "it is not built"
    shape = model.input_shape
    if not isinstance(shape, tuple) or len(shape) != 2 or shape[1] is None:
        return f"its input shape is {shape}; the kernels take rows of features, (batch, features)"
    dtype = str(model.dtype)
    if dtype not in _DTYPES:
        return f"its dtype is {dtype}; the kernels run {' and '.join(_DTYPES)}"
    builder = _Builder(one_stream)
    width = int(shape[1])
    for layer in chain:
        if str(layer.dtype) != dtype:
            return f"layer '{layer.name}' computes in {layer.dtype}, the model in {dtype}"
        if layer.weights and not layer.trainable:
            return f"layer '{layer.name}' is frozen"
        if layer.added_losses:
            return f"layer '{layer.name}' adds a loss"
        if any(getattr(w, "constraint", None) is not None for w in layer.weights):
            return f"layer '{layer.name}' constrains a weight"
        reason = _add_layer(builder, layer, width)
        if reason:
            return reason
        if builder.ops:
            width = builder.ops[-1][mlp.OP_OUT]
    if not builder.ops:
        return "it has no layer the kernels run"
    if width != model.compute_output_shape(shape)[-1]:
        return "its output width is not the last layer's"
    ops = np.array(builder.ops, dtype=np.int64)
    firsts = np.cumsum([0] + [s[1] for s in builder.sources])
    for row in ops:
        if row[mlp.OP_KIND] == mlp.DROPOUT:
            group = row[mlp.OP_X3]
            row[mlp.OP_X1], row[mlp.OP_X3] = builder.sources[group][1], firsts[group]
    penalties = np.array(builder.penalties, dtype=np.float64).reshape(-1, 4)
    return Program(ops=ops, fops=np.array(builder.fops, dtype=np.float64), variables=builder.variables,
                   statistics=builder.statistics, state_size=builder.state_size,
                   dropout_sources=[(s[0], s[1]) for s in builder.sources], penalties=penalties,
                   dtype=np.dtype(dtype))


def _add_layer(builder: _Builder, layer, width: int) -> str | None:
    """Append the operation of ``layer`` (input ``width``); a reason when it has none."""
    kind = type(layer)
    if kind is Dense or kind is Maxout:
        reason = _regularizer_reason(layer, ("kernel_regularizer", "bias_regularizer"))
        if reason:
            return reason
        w = builder.variable(layer.kernel, layer.kernel_regularizer)
        b = builder.variable(layer.bias, layer.bias_regularizer)
        if kind is Maxout:
            builder.add(mlp.MAXOUT, width, layer.units, layer.units * layer.pieces, w, b, code=layer.pieces)
            return None
        name = activations.builtin_name(layer.activation)
        if name not in ACTIVATION_CODES:
            return f"layer '{layer.name}' has the activation {name or layer.activation!r}, which the kernels lack"
        builder.add(mlp.DENSE, width, layer.units, layer.units, w, b, code=ACTIVATION_CODES[name],
                    floats=(_ACTIVATION_PARAMETER.get(name, 0.0), 0.0))
    elif kind is Activation:
        name = activations.builtin_name(layer.activation)
        if name not in ACTIVATION_CODES:
            return f"layer '{layer.name}' has the activation {name or layer.activation!r}, which the kernels lack"
        floats = (_ACTIVATION_PARAMETER.get(name, 0.0), 0.0)
        last = builder.ops[-1] if builder.ops else None
        if last is not None and last[mlp.OP_KIND] == mlp.DENSE and last[mlp.OP_CODE] == mlp.LINEAR:
            builder.fold_activation(ACTIVATION_CODES[name], floats)  # Dense + Activation: one operation
        else:
            builder.add(mlp.ACTIVATION, width, width, width, code=ACTIVATION_CODES[name], floats=floats)
    elif kind is Dropout:
        if layer.noise_shape is not None:
            return f"layer '{layer.name}' has a noise_shape"
        if layer.rate == 0:
            return None
        _, place, group = builder.dropout_columns(layer, width)
        builder.add(mlp.DROPOUT, width, width, 0, x2=place, x3=group, floats=(layer.rate, 1.0 / (1.0 - layer.rate)))
    elif kind is BatchNormalization:
        reason = _regularizer_reason(layer, ("gamma_regularizer", "beta_regularizer"))
        if reason:
            return reason
        gamma = builder.variable(layer.gamma, layer.gamma_regularizer)
        beta = builder.variable(layer.beta, layer.beta_regularizer)
        mean, var = builder.state(layer.moving_mean, width), builder.state(layer.moving_variance, width)
        builder.add(mlp.BATCH_NORM, width, width, width, gamma, beta, x1=mean, x2=var, x3=builder.state(None, width),
                    floats=(layer.epsilon, layer.momentum))
    elif kind is not Flatten:
        return f"layer '{layer.name}' is a {kind.__name__}, which the kernels do not run"
    return None


def _regularizer_reason(layer, names) -> str | None:
    for name in names:
        regularizer = getattr(layer, name)
        if regularizer is not None and type(regularizer) not in (regularizers.L1L2, regularizers.L1, regularizers.L2):
            return f"layer '{layer.name}' has a {name} other than L1/L2"
    return None


_LOSSES = {losses.BinaryCrossentropy: (mlp.BINARY_CE, "sigmoid"),
           losses.CategoricalCrossentropy: (mlp.CATEGORICAL_CE, "softmax"),
           losses.SparseCategoricalCrossentropy: (mlp.SPARSE_CE, "softmax"),
           losses.MeanSquaredError: (mlp.MEAN_SQUARED, None)}


def training_setup(model, program: Program) -> TrainingSetup | str:
    """The loss and optimizer of a compiled ``model`` in the kernels' terms, or why they have none.

    Parameters
    ----------
    model : Model
        A compiled model.
    program : Program
        Its tables, from ``layers_program``.

    Returns
    -------
    TrainingSetup or str
        What a training step needs, or a sentence saying why the kernels cannot train the model.
    """
    fns = model.output_losses
    if not model.compiled or fns is None:
        return "it is not compiled with a loss"
    loss = fns[0]
    known = _LOSSES.get(type(loss))
    if known is None:
        return f"its loss is {type(loss).__name__}; the kernels train {', '.join(c.__name__ for c in _LOSSES)}"
    if loss.reduction != "sum_over_batch_size":
        return f"its loss reduces by {loss.reduction!r}"
    code, activation = known
    fused = False
    if activation is not None and not loss.from_logits:
        last = program.ops[-1]
        if last[mlp.OP_KIND] not in (mlp.DENSE, mlp.ACTIVATION) or last[mlp.OP_CODE] != ACTIVATION_CODES[activation]:
            return f"its {type(loss).__name__} takes an output that is not a {activation}"
        fused = True
    if getattr(loss, "axis", -1) not in (-1, 1):
        return f"its loss works along axis {loss.axis}"
    optimizer = model.optimizer
    form = optimizer.compiled_form()
    if form is None:
        return f"its optimizer is {type(optimizer).__name__}, with an update of its own"
    if any(getattr(optimizer, k) is not None for k in ("clipnorm", "clipvalue", "global_clipnorm")):
        return "its optimizer clips gradients"
    kind, slots, hp = form
    return TrainingSetup(loss=code, fused=fused, optimizer=kind, slots=slots, hp=np.array(hp, dtype=program.dtype))


def optimizer_settings(optimizer, dtype) -> np.ndarray:
    """The optimizer's settings as ``compiled.update`` reads them, in ``dtype``.

    Read afresh before each run of steps: a callback may have changed them.

    Parameters
    ----------
    optimizer : Optimizer
        An optimizer with a compiled form.
    dtype : np.dtype or str
        The model's dtype.

    Returns
    -------
    np.ndarray
        The settings (``optimizer.compiled_form()[2]``).
    """
    return np.array(optimizer.compiled_form()[2], dtype=dtype)
