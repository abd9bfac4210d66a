"""The stacked trainer: K networks of one layer pattern trained as one model.

Members share the pattern (``pattern``): a ``Sequential`` of ``Dense`` layers of the same widths, input width,
output activation, loss, dtype and places of Dropout. They may differ in their hidden activations (linear, relu,
tanh, sigmoid, elu), dropout rates, L1/L2 penalties, optimizer (``SGD`` with momentum, ``Adagrad``, ``RMSprop``,
``Adam``, ``Adadelta``, each with its own settings) and learning rate, and each keeps its own callbacks, so its
own early stopping. Every member sees the same batches in the same order.

Layout (member-major): all of a member's weights sit in one row of a (K, P) buffer, each kernel transposed to
(units, inputs), so activations run feature-major, (K, units, batch), contiguous per member. The first layer,
whose input every member shares, is one (K * units, inputs) @ (inputs, batch) product, not K small ones. The
members with the same optimizer settings are a contiguous block of rows, updated by one call of the optimizer's
own ``update_step`` (Keras's formula) with one learning rate per row.

Stopping: after each epoch the stack writes every member's weights into its model and runs its callbacks
(``History``, ``EarlyStopping``...) with its own logs (``loss`` and ``val_loss``: compiled metrics are not
computed in a stack). A member whose callbacks stop it gets its ``on_train_end`` (where EarlyStopping restores
its best weights) and leaves the stack at once: it is updated no more and its optimizer state goes with it.

Randomness: ``rng`` draws what ``Model.fit`` draws from the library's generator, in the same order: a
permutation of the rows each epoch and, on each step, one uniform number per row and unit for each Dropout layer
(members of a stack have Dropout in the same places). A member keeps a unit where the number is >= its own rate
and scales it by 1 / (1 - rate), as ``Dropout`` does. So a member follows exactly the path it follows alone when
``rng`` is in the state ``fit`` would find the library's generator in: for networks built with one seed (a grid
search's candidates), every member, dropout included. Members with the same rate share their masks, as they
would alone with the same seed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit
from threadpoolctl import threadpool_limits

from deepfin import activations, backend, losses, optimizers, regularizers
from deepfin.callbacks import BackupAndRestore, CallbackList, History
from deepfin.layers import Activation, Dense, Dropout
from deepfin.models import Sequential, data

ACTIVATIONS = ("linear", "relu", "tanh", "sigmoid", "elu")
OPTIMIZERS = (optimizers.SGD, optimizers.Adagrad, optimizers.RMSprop, optimizers.Adam, optimizers.Adadelta)
_BATCH_HOOKS = ("on_train_batch_begin", "on_train_batch_end")
_VALIDATION_CHUNK = 8192  # rows per forward pass when scoring the validation data


@dataclass(frozen=True)
class Pattern:
    """What a model brings to a stack: ``key`` (equal for models that can stack) and its own settings."""

    key: tuple
    activations: tuple[str, ...]  # one per hidden Dense layer
    dropout: tuple[float, ...]  # one per hidden Dense layer (0: none)
    penalties: tuple[tuple[float, float, float, float], ...]  # per Dense: kernel l1, l2, bias l1, l2
    variables: tuple  # per Dense: (kernel, bias or None)


def pattern(model) -> Pattern | str:
    """The model's ``Pattern``, or a sentence saying why it cannot be stacked. Models stack when their keys are
    equal: the same input width, Dense widths and biases, output activation, loss, dtype and Dropout places."""
    if not isinstance(model, Sequential):
        return f"it is a {type(model).__name__}, not a Sequential model"
    if not model.built or not model.compiled:
        return "it is not built and compiled"
    if not model.trainable:
        return "it is not trainable"
    blocks, reason = _blocks(model.layers)
    if reason:
        return reason
    loss, output = model.loss, blocks[-1]
    if output["dropout"]:
        return "it has Dropout after its last Dense layer"
    pairs = {(losses.BinaryCrossentropy, False): "sigmoid", (losses.BinaryCrossentropy, True): "linear",
             (losses.MeanSquaredError, False): "linear"}
    wanted = pairs.get((type(loss), bool(getattr(loss, "from_logits", False))))
    if wanted is None:
        return (f"its loss is {type(loss).__name__}; a stack trains binary cross-entropy (sigmoid output) and "
                "mean squared error (linear output)")
    if output["activation"] != wanted:
        return f"its output activation is {output['activation']}, not the {wanted} its loss pairs with"
    reason = _optimizer_reason(model.optimizer)
    if reason:
        return reason
    hidden = blocks[:-1]
    return Pattern(
        key=(model.input_shape[-1], tuple((b["layer"].units, b["layer"].use_bias) for b in blocks),
             wanted, type(loss).__name__, str(model.dtype), tuple(b["dropout"] > 0 for b in hidden)),
        activations=tuple(b["activation"] for b in hidden), dropout=tuple(b["dropout"] for b in hidden),
        penalties=tuple(b["penalties"] for b in blocks),
        variables=tuple((b["layer"].kernel, b["layer"].bias) for b in blocks))


def _blocks(layers) -> tuple[list[dict], str | None]:
    """The model as Dense blocks (the layer, its activation, the dropout after it, its penalties)."""
    blocks = []
    for layer in layers:
        if not layer.trainable:
            return [], f"layer '{layer.name}' is frozen"
        if isinstance(layer, Dense):
            name = _activation_name(layer.activation)
            if name is None:
                return [], f"layer '{layer.name}' has an activation a stack does not take ({ACTIVATIONS})"
            penalties = _penalty(layer.kernel_regularizer) + _penalty(layer.bias_regularizer)
            if None in penalties:
                return [], f"layer '{layer.name}' has a regularizer other than L1/L2"
            blocks.append({"layer": layer, "activation": name, "dropout": 0.0, "penalties": penalties})
        elif not blocks:
            return [], f"layer '{layer.name}' comes before the first Dense layer"
        elif isinstance(layer, Activation):
            name = _activation_name(layer.activation)
            if name is None or blocks[-1]["activation"] != "linear" or blocks[-1]["dropout"]:
                return [], f"layer '{layer.name}' does not follow a linear Dense layer with an activation in " \
                           f"{ACTIVATIONS}"
            blocks[-1]["activation"] = name
        elif isinstance(layer, Dropout):
            if blocks[-1]["dropout"] or layer.noise_shape is not None:
                return [], f"layer '{layer.name}' is a second Dropout or has a noise_shape"
            blocks[-1]["dropout"] = layer.rate
        else:
            return [], f"layer '{layer.name}' is a {type(layer).__name__}, which a stack does not train"
    if not blocks:
        return [], "it has no Dense layer"
    return blocks, None


def _activation_name(function) -> str | None:
    name = activations.builtin_name(function)
    return name if name in ACTIVATIONS else None


def _penalty(regularizer) -> tuple:
    if regularizer is None:
        return 0.0, 0.0
    if isinstance(regularizer, regularizers.L1L2):
        return regularizer.l1, regularizer.l2
    return None, None


def _optimizer_reason(optimizer) -> str | None:
    if type(optimizer) not in OPTIMIZERS:
        return f"its optimizer is {type(optimizer).__name__}"
    if optimizer.has_schedule:
        return "its learning rate is a schedule"
    if any(getattr(optimizer, k) is not None for k in ("clipnorm", "clipvalue", "global_clipnorm")):
        return "its optimizer clips gradients"
    return None


_STACKED_FIT_ARGUMENTS = {"batch_size", "epochs", "verbose", "callbacks", "validation_split", "validation_data",
                          "shuffle"}
_DEFAULT_FIT_ARGUMENTS = {"initial_epoch": 0, "validation_freq": 1, "class_weight": None, "steps_per_epoch": None,
                          "validation_steps": None, "validation_batch_size": None}


def stack_reason(fit_arguments: dict, sample_weight=None) -> str | None:
    """Why a fit with these arguments cannot run in a stack (None if it can)."""
    if sample_weight is not None:
        return "it is fitted with sample weights"
    for name, value in fit_arguments.items():
        if name not in _STACKED_FIT_ARGUMENTS and (name not in _DEFAULT_FIT_ARGUMENTS
                                                   or value != _DEFAULT_FIT_ARGUMENTS[name]):
            return f"it is fitted with {name}={value!r}"
    for callback in fit_arguments.get("callbacks") or []:
        if isinstance(callback, BackupAndRestore):
            return "its callback BackupAndRestore backs up and resumes a fit of its own"
        probe = CallbackList([callback], None, {})
        if any(probe.has(hook) for hook in _BATCH_HOOKS):
            return f"its callback {type(callback).__name__} acts on every batch"
        if getattr(callback, "monitor", "loss") not in ("loss", "val_loss"):
            return (f"its callback {type(callback).__name__} monitors {callback.monitor!r}; a stack logs loss and "
                    "val_loss")
    return None


def optimizer_settings(optimizer) -> tuple:
    """What members must share to be updated as one block: the optimizer's class and settings but the rate."""
    config = {k: v for k, v in optimizer.get_config().items() if k not in ("learning_rate", "name")}
    return (type(optimizer).__name__, tuple(sorted(config.items())))


class Member:
    """One network of a stack: its model, pattern, optimizer, callbacks and history."""

    def __init__(self, model, pattern_: Pattern, callbacks, params: dict):
        self.model, self.pattern = model, pattern_
        self.optimizer = model.optimizer
        self.history = History()
        self.callbacks = CallbackList([*callbacks, self.history], model, params)

    @property
    def order(self) -> tuple:
        """Members sort by optimizer settings, then activations: each block of equal ones is contiguous."""
        return optimizer_settings(self.optimizer), self.pattern.activations


class Stack:
    """The weights, gradients and optimizer states of the members still training, one row each."""

    def __init__(self, members: list[Member], dtype):
        self.members = sorted(members, key=lambda m: m.order)
        self.dtype = np.dtype(dtype)
        first = self.members[0].pattern.variables
        self.shapes = [(kernel.shape[1], kernel.shape[0], bias is not None) for kernel, bias in first]
        self.params = np.stack([self._row(m) for m in self.members])
        self.states = {}
        self._layout()

    # ------------------------------------------------------------ layout
    def _row(self, member: Member) -> np.ndarray:
        parts = []
        for kernel, bias in member.pattern.variables:
            parts.append(kernel.data.T.ravel())
            if bias is not None:
                parts.append(bias.data.ravel())
        return np.concatenate(parts).astype(self.dtype, copy=False)

    def _layout(self) -> None:
        """Views, per-member settings and optimizer blocks for the current members."""
        k = len(self.members)
        self.grads = np.empty_like(self.params)
        self.kernels, self.biases, self.kernel_grads, self.bias_grads = [], [], [], []
        offset = 0
        for units, inputs, has_bias in self.shapes:
            views = []
            for buffer in (self.params, self.grads):
                views.append(buffer[:, offset:offset + units * inputs].reshape(k, units, inputs))
            self.kernels.append(views[0])
            self.kernel_grads.append(views[1])
            offset += units * inputs
            if has_bias:
                self.biases.append(self.params[:, offset:offset + units])
                self.bias_grads.append(self.grads[:, offset:offset + units])
                offset += units
            else:
                self.biases.append(None)
                self.bias_grads.append(None)
        units, inputs, _ = self.shapes[0]
        self.first = np.empty((k * units, inputs), self.dtype)
        self.first_grad = np.empty_like(self.first)
        self._refresh_first()
        self.runs = [_runs([m.pattern.activations[i] for m in self.members]) for i in range(len(self.shapes) - 1)]
        self.rates = [self._column([m.pattern.dropout[i] for m in self.members]) for i in range(len(self.shapes) - 1)]
        self.keep_scale = [np.where(r < 1, 1 / (1 - r), 0).astype(self.dtype) for r in self.rates]
        self.dropout = [bool(r.any()) for r in self.rates]
        self.penalized = self._penalized()
        self.blocks = []
        for start, stop, settings in _runs([optimizer_settings(m.optimizer) for m in self.members]):
            if settings not in self.states:
                optimizer = type(self.members[start].optimizer).from_config(self.members[start].optimizer.get_config())
                self.states[settings] = (optimizer, optimizer.create_slots(self.params[start:stop]))
            self.blocks.append((start, stop, *self.states[settings]))

    def _column(self, values) -> np.ndarray:
        return np.asarray(values, dtype=self.dtype).reshape(-1, 1, 1)

    def _refresh_first(self) -> None:
        units, inputs, _ = self.shapes[0]
        np.copyto(self.first.reshape(-1, units, inputs), self.kernels[0])

    def drop(self, leaving: list[Member]) -> None:
        """Take ``leaving`` out of the stack (their rows, and their optimizer state with them)."""
        keep = [i for i, m in enumerate(self.members) if m not in leaving]
        old_blocks = [(start, stop, optimizer) for start, stop, optimizer, _ in self.blocks]
        self.members = [self.members[i] for i in keep]
        self.params = self.params[keep]
        states = {}
        for start, stop, optimizer in old_blocks:
            rows = [i - start for i in keep if start <= i < stop]
            if rows:
                settings = optimizer_settings(optimizer)
                states[settings] = (optimizer, {name: a[rows] for name, a in self.states[settings][1].items()})
        self.states = states
        if self.members:
            self._layout()

    # ------------------------------------------------------------ computing
    def forward(self, x: np.ndarray, rng: np.random.Generator | None):
        """Outputs (K, out, batch) and, for the backward pass, each hidden layer's output and its gradient
        factor (the activation's derivative times the dropout mask); without ``rng``, no dropout."""
        k, n = len(self.members), len(x)
        units = self.shapes[0][0]
        z = (self.first @ x.T).reshape(k, units, n)
        hidden, factors = [], []
        for i in range(len(self.shapes)):
            if self.biases[i] is not None:
                z += self.biases[i][:, :, None]
            if i == len(self.shapes) - 1:
                return z, hidden, factors
            factor = _activate(z, self.runs[i])
            if rng is not None and self.dropout[i]:
                mask = rng.random((n, z.shape[1]), dtype=self.dtype).T >= self.rates[i]
                mask = np.multiply(mask, self.keep_scale[i], dtype=self.dtype)
                z *= mask
                factor = mask if factor is None else np.multiply(factor, mask, out=factor)
            hidden.append(z)
            factors.append(factor)
            z = np.matmul(self.kernels[i + 1], z)

    def losses(self, z: np.ndarray, y: np.ndarray, loss: str) -> tuple[np.ndarray, np.ndarray]:
        """Each member's mean loss on the batch and its gradient with respect to the outputs ``z``."""
        scale = 1.0 / (z.shape[1] * z.shape[2])
        if loss == "MeanSquaredError":
            diff = z - y
            return np.einsum("kij,kij->k", diff, diff) * scale, diff * (2 * scale)
        elementwise = np.logaddexp(0, z) - z * y
        grad = expit(z) - y
        grad *= scale
        return elementwise.sum(axis=(1, 2)) * scale, grad

    def _penalized(self) -> list[tuple]:
        """(weights, gradients, l1, l2) of every kernel and bias some member penalizes, the coefficients one per
        member (zero for the others), shaped to broadcast against the weights."""
        terms = []
        for i in range(len(self.shapes)):
            pairs = ((self.kernels[i], self.kernel_grads[i], 0), (self.biases[i], self.bias_grads[i], 2))
            for weights, grads, first in pairs:
                l1, l2 = (self._column([m.pattern.penalties[i][first + j] for m in self.members]) for j in (0, 1))
                if weights is not None and (l1.any() or l2.any()):
                    shape = (-1,) + (1,) * (weights.ndim - 1)
                    terms.append((weights, grads, l1.reshape(shape), l2.reshape(shape)))
        return terms

    def penalty(self) -> np.ndarray:
        """Each member's L1/L2 penalty on its weights."""
        total = np.zeros(len(self.members), dtype=np.float64)
        for weights, _, l1, l2 in self.penalized:
            flat = weights.reshape(len(self.members), -1)
            total += l1.ravel() * np.abs(flat).sum(axis=1) + l2.ravel() * np.einsum("kp,kp->k", flat, flat)
        return total

    def train_step(self, x: np.ndarray, y: np.ndarray, loss: str, rng, learning_rates) -> np.ndarray:
        """One update of every member on the batch ``x`` (batch, inputs), ``y`` (out, batch); their losses."""
        z, hidden, factors = self.forward(x, rng)
        values, grad = self.losses(z, y, loss)
        values = values + self.penalty()
        for i in range(len(self.shapes) - 1, 0, -1):
            np.matmul(grad, hidden[i - 1].transpose(0, 2, 1), out=self.kernel_grads[i])
            if self.bias_grads[i] is not None:
                np.sum(grad, axis=2, out=self.bias_grads[i])
            grad = np.matmul(self.kernels[i].transpose(0, 2, 1), grad)
            if factors[i - 1] is not None:
                grad *= factors[i - 1]
        units, inputs, _ = self.shapes[0]
        np.matmul(grad.reshape(-1, len(x)), x, out=self.first_grad)
        np.copyto(self.kernel_grads[0], self.first_grad.reshape(-1, units, inputs))
        if self.bias_grads[0] is not None:
            np.sum(grad, axis=2, out=self.bias_grads[0])
        self._penalty_gradients()
        for start, stop, optimizer, slots in self.blocks:
            optimizer.iterations += 1
            optimizer.update_step(self.grads[start:stop], self.params[start:stop], learning_rates[start:stop], slots)
        self._refresh_first()
        return values

    def _penalty_gradients(self) -> None:
        for weights, grads, l1, l2 in self.penalized:
            grads += l1 * np.sign(weights)
            grads += (2 * l2) * weights

    def mean_losses(self, x: np.ndarray, y: np.ndarray, loss: str) -> np.ndarray:
        """Each member's loss (with its penalty) on ``x``, ``y`` (out, rows), without dropout."""
        total = np.zeros(len(self.members))
        for start in range(0, len(x), _VALIDATION_CHUNK):
            part = slice(start, start + _VALIDATION_CHUNK)
            z, _, _ = self.forward(x[part], None)
            total += self.losses(z, y[:, part], loss)[0] * z.shape[2]
        return total / len(x) + self.penalty()

    def write_back(self, members: list[Member]) -> None:
        """Copy the weights of ``members`` into their models."""
        for member in members:
            row = self.members.index(member)
            for i, (kernel, bias) in enumerate(member.pattern.variables):
                np.copyto(kernel.data, self.kernels[i][row].T)
                if bias is not None:
                    np.copyto(bias.data, self.biases[i][row])


def _runs(values: list) -> list[tuple[int, int, object]]:
    """Maximal runs of equal consecutive values: (start, stop, value)."""
    runs, start = [], 0
    for i in range(1, len(values) + 1):
        if i == len(values) or values[i] != values[start]:
            runs.append((start, i, values[start]))
            start = i
    return runs


def _activate(z: np.ndarray, runs) -> np.ndarray | None:
    """Apply each run's activation to its members' rows of ``z`` in place; the derivative, or None if linear."""
    if all(name == "linear" for _, _, name in runs):
        return None
    factor = np.ones_like(z)
    for start, stop, name in runs:
        a, f = z[start:stop], factor[start:stop]
        if name == "relu":
            np.maximum(a, 0, out=a)
            np.greater(a, 0, out=f, casting="unsafe")
        elif name == "tanh":
            np.tanh(a, out=a)
            np.multiply(a, a, out=f)
            np.subtract(1, f, out=f)
        elif name == "sigmoid":
            expit(a, out=a)
            np.subtract(1, a, out=f)
            f *= a
        elif name == "elu":
            negative = a <= 0
            np.expm1(a, out=a, where=negative)
            np.add(a, 1, out=f, where=negative)
    return factor


# ------------------------------------------------------------ training
def fit_stack(models: list, x, y, *, batch_size: int | None = None, epochs: int = 1, callbacks=None,
              validation_split: float = 0.0, validation_data=None, shuffle: bool = True,
              rng: np.random.Generator | None = None) -> list[History]:
    """Train ``models`` (compiled, built, sharing one ``pattern`` key) together on ``x``, ``y``, as ``fit`` would
    train each; returns one ``History`` per model, in order. ``callbacks`` holds one list per model (each needs
    its own EarlyStopping); ``rng`` draws the batch order (by default the library's generator)."""
    patterns = [pattern(m) for m in models]
    reasons = [p for p in patterns if isinstance(p, str)]
    if reasons:
        raise ValueError(f"These models cannot be stacked: {reasons[0]}.")
    if len({p.key for p in patterns}) > 1:
        raise ValueError("The models do not share one layer pattern (input width, Dense widths, output, loss, "
                         f"dtype): {sorted({str(p.key) for p in patterns})}.")
    callbacks = callbacks if callbacks is not None else [[] for _ in models]
    if len(callbacks) != len(models):
        raise ValueError(f"callbacks needs one list per model: {len(callbacks)} lists for {len(models)} models.")
    rng = rng if rng is not None else backend.rng()
    loss = patterns[0].key[3]
    x, y, validation = _data(models[0], x, y, validation_split, validation_data)
    batch_size = batch_size or 32
    steps = -(-len(x) // batch_size)
    params = {"epochs": epochs, "steps": steps, "verbose": 0}
    members = [Member(m, p, cbs, params) for m, p, cbs in zip(models, patterns, callbacks)]
    stack = Stack(members, models[0].dtype)
    for member in members:
        member.model.stop_training = False
        member.model.history = member.history
        member.callbacks.call("on_train_begin", {})
    with threadpool_limits(limits=1, user_api="blas"):  # small products: a second BLAS thread only waits
        for epoch in range(epochs):
            if not stack.members:
                break
            _train_epoch(stack, epoch, x, y, validation, loss, batch_size, shuffle, rng)
    stack.write_back(stack.members)
    for member in stack.members:
        member.callbacks.call("on_train_end", {})
    return [m.history for m in members]


def _train_epoch(stack: Stack, epoch: int, x, y, validation, loss: str, batch_size: int, shuffle: bool,
                 rng) -> None:
    for member in stack.members:
        member.callbacks.call("on_epoch_begin", epoch, {})
    rates = np.array([m.optimizer.learning_rate for m in stack.members], dtype=stack.dtype).reshape(-1, 1)
    n = len(x)
    order = rng.permutation(n) if shuffle else None
    totals = np.zeros(len(stack.members))
    for start in range(0, n, batch_size):
        index = order[start:start + batch_size] if shuffle else slice(start, start + batch_size)
        xb = x[index]
        totals += stack.train_step(xb, y[:, index], loss, rng, rates) * len(xb)
    logs = [{"loss": float(t / n)} for t in totals]
    if validation is not None:
        for log, value in zip(logs, stack.mean_losses(*validation, loss)):
            log["val_loss"] = float(value)
    stack.write_back(stack.members)
    for member, log in zip(list(stack.members), logs):
        member.callbacks.call("on_epoch_end", epoch, log)
    stopped = [m for m in stack.members if m.model.stop_training]
    for member in stopped:
        member.callbacks.call("on_train_end", {})
    if stopped:
        stack.drop(stopped)


def _data(model, x, y, validation_split: float, validation_data):
    """Inputs (rows, inputs) and targets (out, rows) in the model's dtype, and the validation pair, checked as
    ``fit`` checks them."""
    x, y = _inputs(model, x, "x"), _targets(model, y, "y")
    data.check_not_empty(data.check_same_length([x, y], ["x", "y"]), "x", "fit")
    if validation_data is not None and validation_split:
        raise ValueError("Pass validation_data or validation_split, not both.")
    if validation_split:
        ([x], [y], _), ([vx], [vy], _) = data.split_validation([x], [y], None, validation_split)
    elif validation_data is not None:
        vx, vy = data.unpack_validation(validation_data)[:2]
        vx, vy = _inputs(model, vx, "validation_x"), _targets(model, vy, "validation_y")
        data.check_not_empty(data.check_same_length([vx, vy], ["validation_x", "validation_y"]), "validation_x", "fit")
    else:
        return x, _feature_major(y), None
    return x, _feature_major(y), (vx, _feature_major(vy))


def _inputs(model, x, label: str) -> np.ndarray:
    return np.ascontiguousarray(data.check_input(x, model.input_shape, model.dtype, label, model.name),
                                dtype=model.dtype)  # a memory-mapped x is loaded: the stack takes whole arrays


def _targets(model, y, label: str) -> np.ndarray:
    shape = model.compute_output_shape(model.input_shape)
    return np.asarray(model.loss.validate_targets(np.asarray(y), shape), dtype=model.dtype)


def _feature_major(y: np.ndarray) -> np.ndarray:
    """Targets (rows, out) as (out, rows), the stack's layout."""
    return np.ascontiguousarray(y.T)
