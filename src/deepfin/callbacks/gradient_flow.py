"""GradientFlow: per-layer gradient norms, dead ReLU units and saturated sigmoid/tanh units, each epoch.

What it writes into the epoch's logs (so into ``History``, ``CSVLogger`` and ``TensorBoard``):

- ``grad_norm/<layer>``: for each layer with a trainable ``kernel``, the mean over the epoch's batches of
  the L2 norm of the kernel's gradient on that batch (the gradient of the batch's training loss, weight
  penalties included, as the optimizer receives it, before any clipping).
- ``dead_relu/<layer>``: for each ReLU layer (a layer with ``activation='relu'`` or a ``ReLU`` layer
  without a negative slope), the share of its units whose output is exactly zero on every row of the
  probe batch.
- ``saturated/<layer>``: for each sigmoid or tanh layer, the share of its units that are saturated on
  more than half of the probe rows: sigmoid output below 0.01 or above 0.99 (derivative below 0.0099,
  4% of its peak of 0.25), or tanh output beyond +-0.99 (derivative below 0.0199, 2% of its peak of 1).

The activations come from a probe batch given to the constructor (Keras callbacks see no data), run
through the model in inference mode (Dropout off, BatchNormalization on its moving statistics, nothing
updated) once at the end of each epoch. Without a probe only the gradient norms are recorded.
"""

from __future__ import annotations

import numpy as np

from deepfin import activations
from deepfin.callbacks.base import Callback
from deepfin.layers.activation_layers import ReLU

SIGMOID_BAND = 0.01  # a sigmoid unit is saturated where its output is below this or above 1 - this
TANH_LIMIT = 0.99  # a tanh unit is saturated where |output| is above this
SATURATED_ROWS = 0.5  # ... on more than this share of the probe rows


class GradientFlow(Callback):
    """Record how gradients and activations flow through the layers, once per epoch.

    ``GradientFlow(x_probe)``, with ``x_probe`` a batch of inputs (a few hundred rows of the training data is
    plenty), adds ``grad_norm/<layer>``, ``dead_relu/<layer>`` and ``saturated/<layer>`` to each epoch's logs
    (see the module docstring for the definitions); ``GradientFlow()`` records the gradient norms only. The
    probe needs a model with symbolic inputs (a built ``Sequential`` or a functional model); a subclassed model
    can be watched without one.

    Place it before the callbacks that read the logs (``TensorBoard``, ``CSVLogger``, ``EarlyStopping``):
    callbacks run in list order, and ``History`` and the progress bar come last. The progress bar prints every
    logged value, as Keras's does; with many layers, ``verbose=0`` and ``history.history`` keep the output
    short. Reading the gradients makes ``fit`` build batch logs for every batch, and the callback acts on every
    batch, so a stacked grid search trains a model that has it alone. Keras has no such callback.

    Parameters
    ----------
    x : array_like or None, default None
        The probe batch of inputs; None records the gradient norms only.

    Raises
    ------
    ValueError
        When training begins, if a probe is given and the model has no symbolic inputs or its layers' outputs
        cannot be read.

    Examples
    --------
    >>> import numpy as np
    >>> from deepfin import Sequential, callbacks, layers
    >>> model = Sequential([layers.Input((2,)), layers.Dense(4, activation="relu"), layers.Dense(1)])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> x = np.random.default_rng(0).normal(size=(16, 2))
    >>> history = model.fit(x, x.sum(axis=1), epochs=1, verbose=0, callbacks=[callbacks.GradientFlow(x)])
    >>> sorted({key.split("/")[0] for key in history.history})
    ['dead_relu', 'grad_norm', 'loss']
    """

    reads_batch_logs = False  # its batch hook counts batches and reads the gradients
    needs_gradients = True  # so the fit runs on the eager engine

    def __init__(self, x=None):
        super().__init__()
        self.x = x
        self._kernels: list = []
        self._sums: np.ndarray | None = None
        self._batches = 0
        self._probe = None
        self._kinds: list[tuple[str, str]] = []

    def on_train_begin(self, logs=None):
        """Find the layers' kernels and, with a probe, build the model that reads the watched layers' outputs."""
        self._kernels = [(_layer_name(w), w) for w in self.model.trainable_weights if w.name == "kernel"]
        self._probe, self._kinds = (None, []) if self.x is None else self._build_probe()

    def on_epoch_begin(self, epoch, logs=None):
        """Reset the sums of gradient norms."""
        self._sums = np.zeros(len(self._kernels))
        self._batches = 0

    def on_train_batch_end(self, batch, logs=None):
        """Add each kernel's gradient norm on this batch (nothing for a kernel without a gradient)."""
        for i, (_, weight) in enumerate(self._kernels):
            if weight.grad is not None:  # None: the loss does not reach this kernel, its gradient is zero
                grad = np.asarray(getattr(weight.grad, "data", weight.grad))
                self._sums[i] += float(np.linalg.norm(grad.ravel()))
        self._batches += 1

    def on_epoch_end(self, epoch, logs=None):
        """Write the mean gradient norms and, with a probe, the activation shares into the epoch's logs."""
        logs = logs if logs is not None else {}
        for (name, _), total in zip(self._kernels, self._sums):
            logs[f"grad_norm/{name}"] = float(total) / max(self._batches, 1)
        if self._probe is not None:
            logs.update(self.activation_shares())

    def activation_shares(self) -> dict[str, float]:
        """``dead_relu/<layer>`` and ``saturated/<layer>`` on the probe batch, for the model as it is now.

        Returns
        -------
        dict of str to float
            Each watched layer's share of dead (ReLU) or saturated (sigmoid, tanh) units.

        Raises
        ------
        ValueError
            Without a probe batch, before training has begun, or when the model has no ReLU, sigmoid or tanh
            layer to watch.
        """
        if self._probe is None:
            raise ValueError("GradientFlow needs a probe batch and a model in training: GradientFlow(x), in fit.")
        outputs = self._probe.predict_on_batch(self.x)  # inference mode, no graph
        outputs = outputs if isinstance(outputs, list) else [outputs]
        shares = {}
        for (kind, name), output in zip(self._kinds, outputs):
            rows = np.asarray(output).reshape(-1, output.shape[-1])
            if kind == "relu":
                shares[f"dead_relu/{name}"] = float(np.mean(np.all(rows == 0, axis=0)))
            else:
                zone = rows < SIGMOID_BAND if kind == "sigmoid" else np.abs(rows) > TANH_LIMIT
                if kind == "sigmoid":
                    zone |= rows > 1 - SIGMOID_BAND
                shares[f"saturated/{name}"] = float(np.mean(zone.mean(axis=0) > SATURATED_ROWS))
        return shares

    def _build_probe(self):
        """A model with the watched layers' outputs as its outputs, and each layer's (kind, name)."""
        from deepfin.models import Model

        watched = [(kind, layer) for layer in self.model.layers if (kind := unit_kind(layer))]
        if not watched:
            return None, []
        inputs = getattr(self.model, "inputs", None)
        if not inputs:
            raise ValueError(
                f"GradientFlow's probe needs a model with symbolic inputs (a Sequential or a functional model); "
                f"'{self.model.name}' is a {type(self.model).__name__} without them. Pass no probe "
                "(GradientFlow()) to record the gradient norms only."
            )
        try:
            probe = Model(inputs, [layer.output for _, layer in watched], name=f"{self.model.name}_probe")
        except (TypeError, ValueError) as error:
            raise ValueError(
                f"GradientFlow cannot read the layer outputs of model '{self.model.name}': {error}"
            ) from error
        return probe, [(kind, layer.name) for kind, layer in watched]


def unit_kind(layer) -> str | None:
    """'relu', 'sigmoid' or 'tanh' for a layer whose output is that activation; None otherwise.

    A ``ReLU`` layer counts only without a negative slope.

    Parameters
    ----------
    layer : Layer
        The layer to classify.

    Returns
    -------
    str or None
        The activation's name, or None.
    """
    if isinstance(layer, ReLU):
        return "relu" if layer.negative_slope == 0 else None
    kind = activations.builtin_name(getattr(layer, "activation", None))
    return kind if kind in ("relu", "sigmoid", "tanh") else None


def _layer_name(weight) -> str:
    """The name of the layer that owns ``weight``: its path without the weight's own name."""
    return weight.path.rsplit("/", 1)[0] if "/" in weight.path else weight.name
