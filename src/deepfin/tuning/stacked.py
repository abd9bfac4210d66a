"""The stacked trainer: K networks of one layer pattern trained as one model.

Members share the pattern (``pattern``): a ``Sequential`` of ``Dense`` layers of the same widths, input width,
output activation, loss, dtype and places of Dropout. They may differ in their hidden activations (linear, relu,
tanh, sigmoid, elu), dropout rates, L1/L2 penalties, optimizer (``SGD`` with momentum, ``Adagrad``, ``RMSprop``,
``Adam``, ``Adadelta``, each with its own settings) and learning rate, and each keeps its own callbacks, so its
own early stopping. Every member sees the same batches in the same order.

Computing: each member is a compiled network (``deepfin.kernels``), its weights, optimizer state and work areas
one row of the stack's arrays; one kernel call (``mlp.train_stack``) trains every member on a chunk of batches,
the members spread over the cores, each with one BLAS thread. So a member runs the very kernels ``fit`` runs it
on alone. With the kernels off (``deepfin.backend.set_compiled(False)``) each member is fitted alone instead.

Stopping: after each epoch the stack writes every member's weights and optimizer state into its model and runs
its callbacks (``History``, ``EarlyStopping``...) with its own logs (``loss`` and ``val_loss``: compiled metrics
are not computed in a stack). A member whose callbacks stop it gets its ``on_train_end`` (where EarlyStopping
restores its best weights) and leaves the stack at once: it is updated no more.

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
from threadpoolctl import threadpool_limits

from deepfin import activations, backend, kernels, losses, optimizers, regularizers
from deepfin.callbacks import BackupAndRestore, CallbackList, History
from deepfin.kernels import mlp
from deepfin.layers import Activation, Dense, Dropout
from deepfin.models import Sequential, data

ACTIVATIONS = ("linear", "relu", "tanh", "sigmoid", "elu")
OPTIMIZERS = (optimizers.SGD, optimizers.Adagrad, optimizers.RMSprop, optimizers.Adam, optimizers.Adadelta)
_BATCH_HOOKS = ("on_train_batch_begin", "on_train_batch_end")
_VALIDATION_CHUNK = 1024  # rows per forward pass when scoring the validation data (each member's own work area)
_CHUNK_STEPS = 256  # batches per kernel call (the dropout uniforms of that many batches are held at once)


@dataclass(frozen=True)
class Pattern:
    """What a model brings to a stack: ``key`` (equal for models that can stack) and its own settings.

    Attributes
    ----------
    key : tuple
        The input width, the Dense widths and biases, the output activation, the loss, the dtype and the places
        of Dropout.
    activations : tuple of str
        One per hidden Dense layer.
    dropout : tuple of float
        One rate per hidden Dense layer (0: none).
    penalties : tuple of tuple of float
        Per Dense layer: kernel L1, L2, bias L1, L2.
    variables : tuple
        Per Dense layer: ``(kernel, bias or None)``.
    """

    key: tuple
    activations: tuple[str, ...]  # one per hidden Dense layer
    dropout: tuple[float, ...]  # one per hidden Dense layer (0: none)
    penalties: tuple[tuple[float, float, float, float], ...]  # per Dense: kernel l1, l2, bias l1, l2
    variables: tuple  # per Dense: (kernel, bias or None)


def pattern(model) -> Pattern | str:
    """The model's ``Pattern``, or a sentence saying why it cannot be stacked.

    Models stack when their keys are equal: the same input width, Dense widths and biases, output activation,
    loss, dtype and Dropout places.

    Parameters
    ----------
    model : Model
        A built and compiled model.

    Returns
    -------
    Pattern or str
        The pattern, or the reason (``"it is not built and compiled"``, ...).

    Examples
    --------
    >>> from deepfin import Sequential, layers
    >>> from deepfin.tuning import pattern
    >>> model = Sequential([layers.Input((3,)), layers.Dense(4, activation="relu"), layers.Dropout(0.2),
    ...                     layers.Dense(1, activation="sigmoid")])
    >>> model.compile(optimizer="adam", loss="binary_crossentropy")
    >>> found = pattern(model)
    >>> found.activations, found.dropout
    (('relu',), (0.2,))
    >>> model.compile(optimizer="adam", loss="mae")
    >>> pattern(model).split(";")[0]
    'its loss is MeanAbsoluteError'
    """
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
             wanted, type(loss), str(model.dtype), tuple(b["dropout"] > 0 for b in hidden)),
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
    """Why a fit with these arguments cannot run in a stack (None if it can).

    Parameters
    ----------
    fit_arguments : dict
        The keyword arguments of ``fit``.
    sample_weight : array_like or None, default None
        The fit's sample weights (any prevents stacking).

    Returns
    -------
    str or None
        The reason: sample weights, a ``fit`` argument other than the shared ones at a value other than its
        default, a ``BackupAndRestore``, a callback with a batch hook, or one that monitors a value other than
        ``loss`` and ``val_loss``.
    """
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


class Member:
    """One network of a stack: its model, pattern, callbacks and history.

    Parameters
    ----------
    model : Model
        The network.
    pattern_ : Pattern
        Its pattern.
    callbacks : list of Callback
        Its own callbacks; a ``History`` is added.
    params : dict
        The parameters the callbacks receive (``epochs``, ``steps``, ``verbose``).
    """

    def __init__(self, model, pattern_: Pattern, callbacks, params: dict):
        self.model, self.pattern = model, pattern_
        self.history = History()
        self.callbacks = CallbackList([*callbacks, self.history], model, params)


class Stack:
    """The members still training, each as a compiled network whose buffers are one row of the stack's arrays.

    One kernel call (``mlp.train_stack``) trains them all.

    Parameters
    ----------
    members : list of Member
        The members, of one pattern.

    Raises
    ------
    ValueError
        If a member's model cannot train on the compiled kernels.
    """

    def __init__(self, members: list[Member]):
        self.members = list(members)
        self.networks = []
        for member in self.members:
            network = kernels.network_for(member.model, one_stream=True)
            if isinstance(network, str):
                raise ValueError(f"Model '{member.model.name}' cannot train on the compiled kernels: {network}.")
            network.load()
            self.networks.append(network)
        self._pack()

    def _pack(self) -> None:
        """Stack the members' buffers and tables, and make each network's buffers views of its row."""
        networks = self.networks
        first = networks[0].program
        self.dtype = first.dtype
        self.params = np.stack([n.params for n in networks])
        self.grads = np.zeros_like(self.params)
        self.state = np.stack([n.state for n in networks])
        slot_rows = max(len(n.setup.slots) for n in networks)
        self.slots = np.zeros((len(networks), max(slot_rows, 1), self.params.shape[1]), self.dtype)
        hp_width = max(n.setup.hp.size for n in networks)
        self.hp = np.zeros((len(networks), hp_width), self.dtype)
        penalty_rows = max(len(n.program.penalties) for n in networks)
        self.penalties = np.zeros((len(networks), penalty_rows, 4))
        for k, network in enumerate(networks):
            rows = len(network.setup.slots)
            self.slots[k, :rows] = network.slots
            self.hp[k, :network.setup.hp.size] = network.setup.hp
            self.penalties[k, :len(network.program.penalties)] = network.program.penalties
            network.params, network.state, network.slots = self.params[k], self.state[k], self.slots[k, :rows]
        self.ops = np.stack([n.program.ops for n in networks])
        self.fops = np.stack([n.program.fops for n in networks])
        self.optimizers = np.array([n.setup.optimizer for n in networks], dtype=np.int64)
        self.dropout_width = sum(width for _, width in first.dropout_sources)
        self.setup = networks[0].setup
        self._training_areas, self._scoring_areas = (0, ()), (0, ())  # (rows they fit, areas), made on first use

    def _work_areas(self, rows: int) -> tuple:
        """The members' work areas (one row each) for training batches of up to ``rows`` rows, and their offsets."""
        if rows > self._training_areas[0]:
            self._training_areas = rows, self._stacked_areas(rows, ("z", "a", "dz", "da"))
        return self._training_areas[1]

    def _stacked_areas(self, rows: int, parts: tuple[str, ...]) -> tuple:
        """The first network's work areas for batches of up to ``rows`` rows: the arrays ``parts`` names (of its
        pre-activations, outputs and their gradients) stacked one row per member, then the offsets."""
        work = dict(zip(("z", "a", "dz", "da", "zoff", "aoff"), self.networks[0].work_areas(rows)))
        k = len(self.networks)
        return (*(np.zeros((k, work[part].size), self.dtype) for part in parts), work["zoff"], work["aoff"])

    def drop(self, leaving: list[Member]) -> None:
        """Take ``leaving`` out of the stack (their networks' state has gone back to their models).

        Parameters
        ----------
        leaving : list of Member
            The members that stopped.
        """
        keep = [i for i, m in enumerate(self.members) if m not in leaving]
        self.members = [self.members[i] for i in keep]
        self.networks = [self.networks[i] for i in keep]
        if self.networks:
            self._pack()

    def train(self, x: np.ndarray, y: np.ndarray, rng: np.random.Generator, batch_size: int) -> np.ndarray:
        """Train every member on the rows of ``x``, ``y`` in consecutive batches.

        Parameters
        ----------
        x, y : np.ndarray
            The rows, in the order to train on.
        rng : np.random.Generator
            Draws the dropout uniforms.
        batch_size : int
            Rows per batch.

        Returns
        -------
        np.ndarray
            Per member, its mean batch losses (with penalties) times the batches' rows, summed over the batches.
        """
        rows = len(x)
        steps = -(-rows // batch_size)
        uniforms = rng.random(rows * self.dropout_width, dtype=self.dtype) if self.dropout_width else \
            np.empty(0, self.dtype)
        rates = np.stack([n.learning_rates(steps) for n in self.networks])
        z, a, dz, da, zoff, aoff = self._work_areas(min(batch_size, rows))
        losses = np.empty((len(self.networks), steps))
        flat_x = np.ascontiguousarray(x, self.dtype).reshape(-1)
        flat_y = np.ascontiguousarray(y, self.dtype).reshape(-1)
        mlp.train_stack(flat_x, flat_y, uniforms, self.ops, self.fops, self.params, self.grads, self.slots,
                        self.state, z, a, dz, da, zoff, aoff, self.setup.loss, self.setup.fused, self.penalties,
                        self.optimizers, self.hp, rates, batch_size, losses)
        for network in self.networks:
            network.optimizer.iterations += steps
        return losses @ kernels.batch_sizes(rows, batch_size)

    def mean_losses(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Each member's loss (with its penalty) on ``x``, ``y``, without dropout.

        The members are spread over the cores (``mlp.infer_stack``).

        Parameters
        ----------
        x, y : np.ndarray
            The data, in the stack's dtype.

        Returns
        -------
        np.ndarray
            One mean loss per member.
        """
        rows, chunk = len(x), min(_VALIDATION_CHUNK, len(x))
        if chunk > self._scoring_areas[0]:  # inference needs no gradient areas
            self._scoring_areas = chunk, self._stacked_areas(chunk, ("z", "a"))
        z, a, zoff, aoff = self._scoring_areas[1]
        losses = np.empty((len(self.networks), -(-rows // chunk)))
        mlp.infer_stack(np.ascontiguousarray(x, self.dtype).reshape(-1),
                        np.ascontiguousarray(y, self.dtype).reshape(-1), self.ops, self.fops, self.params,
                        self.state, z, a, zoff, aoff, self.setup.loss, self.setup.fused, self.penalties, chunk,
                        losses)
        return losses @ kernels.batch_sizes(rows, chunk) / rows

    def write_back(self, members: list[Member]) -> None:
        """Copy the weights and optimizer state of ``members`` into their models.

        Parameters
        ----------
        members : list of Member
            Members of the stack.
        """
        for member in members:
            self.networks[self.members.index(member)].store()


# ------------------------------------------------------------ training
def fit_stack(models: list, x, y, *, batch_size: int | None = None, epochs: int = 1, callbacks=None,
              validation_split: float = 0.0, validation_data=None, shuffle: bool = True,
              rng: np.random.Generator | None = None) -> list[History]:
    """Train ``models`` together on ``x``, ``y``, as ``fit`` would train each.

    With the compiled kernels off (``deepfin.backend.set_compiled(False)``) each model is fitted alone on the
    eager engine, starting from ``rng``'s state, which then takes the state the last model's fit left.

    Parameters
    ----------
    models : list of Model
        Compiled, built models sharing one ``pattern`` key.
    x, y : array_like
        The training data.
    batch_size : int or None, default None
        Rows per batch; None gives 32.
    epochs : int, default 1
        The number of epochs.
    callbacks : list of list of Callback or None, default None
        One list per model (each needs its own EarlyStopping).
    validation_split : float, default 0.0
        As ``fit``'s.
    validation_data : tuple or None, default None
        As ``fit``'s.
    shuffle : bool, default True
        Whether to draw a new row order each epoch.
    rng : np.random.Generator or None, default None
        Draws the batch order and dropout; None uses the library's generator.

    Returns
    -------
    list of History
        One per model, in order.

    Raises
    ------
    ValueError
        If a model cannot be stacked, the models do not share one pattern, ``callbacks`` does not have one list
        per model, or the data do not fit.
    """
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
    x, y, validation = _data(models[0], x, y, validation_split, validation_data)
    batch_size = batch_size or 32
    if not backend.compiled():
        return _fit_each(models, x, y, batch_size, epochs, callbacks, validation, shuffle, rng)
    steps = -(-len(x) // batch_size)
    params = {"epochs": epochs, "steps": steps, "verbose": 0}
    members = [Member(m, p, cbs, params) for m, p, cbs in zip(models, patterns, callbacks)]
    for member in members:
        member.model.stop_training = False
        member.model.history = member.history
        member.callbacks.call("on_train_begin", {})
    stack = Stack(members)
    with threadpool_limits(limits=1, user_api="blas"):  # the members share the cores: one BLAS thread each
        for epoch in range(epochs):
            if not stack.members:
                break
            _train_epoch(stack, epoch, x, y, validation, batch_size, shuffle, rng)
    stack.write_back(stack.members)
    for member in stack.members:
        member.callbacks.call("on_train_end", {})
    return [m.history for m in members]


def _fit_each(models, x, y, batch_size, epochs, callbacks, validation, shuffle, rng) -> list[History]:
    """Each model fitted alone (the eager reference of a stack), the library's generator in ``rng``'s state."""
    start, histories = rng.bit_generator.state, []
    with backend.seeded(0):
        for model, model_callbacks in zip(models, callbacks):
            backend.set_rng_state(start)
            histories.append(model.fit(x, y, batch_size=batch_size, epochs=epochs, callbacks=model_callbacks,
                                       validation_data=validation, shuffle=shuffle, verbose=0))
        rng.bit_generator.state = backend.get_rng_state()
    return histories


def _train_epoch(stack: Stack, epoch: int, x, y, validation, batch_size: int, shuffle: bool, rng) -> None:
    for member in stack.members:
        member.callbacks.call("on_epoch_begin", epoch, {})
    n = len(x)
    order = rng.permutation(n) if shuffle else None
    totals = np.zeros(len(stack.members))
    per_call = _CHUNK_STEPS * batch_size
    for start in range(0, n, per_call):
        index = order[start:start + per_call] if shuffle else slice(start, start + per_call)
        totals += stack.train(x[index], y[index], rng, batch_size)
    logs = [{"loss": float(t / n)} for t in totals]
    if validation is not None:
        for log, value in zip(logs, stack.mean_losses(*validation)):
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
    """Inputs (rows, inputs) and targets (rows, out) in the model's dtype, and the validation pair, checked as
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
        return x, y, None
    return x, y, (vx, vy)


def _inputs(model, x, label: str) -> np.ndarray:
    return np.ascontiguousarray(data.check_input(x, model.input_shape, model.dtype, label, model.name),
                                dtype=model.dtype)  # a memory-mapped x is loaded: the stack takes whole arrays


def _targets(model, y, label: str) -> np.ndarray:
    shape = model.compute_output_shape(model.input_shape)
    return np.asarray(model.loss.validate_targets(np.asarray(y), shape), dtype=model.dtype)
