"""The Callback base class with every Keras hook, the History that fit returns, and CallbackList."""

from __future__ import annotations

_HOOKS = (
    "on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end",
    "on_train_batch_begin", "on_train_batch_end", "on_test_begin", "on_test_end",
    "on_test_batch_begin", "on_test_batch_end", "on_predict_begin", "on_predict_end",
    "on_predict_batch_begin", "on_predict_batch_end",
)
_KERAS2_ALIASES = {"on_train_batch_begin": "on_batch_begin", "on_train_batch_end": "on_batch_end"}


class Callback:
    """Base class with every Keras hook; ``self.model`` and ``self.params`` are set by fit.

    The hooks are ``on_train_begin(logs)``, ``on_train_end(logs)``, ``on_epoch_begin(epoch, logs)``,
    ``on_epoch_end(epoch, logs)``, ``on_train_batch_begin(batch, logs)``, ``on_train_batch_end(batch, logs)``
    and their ``on_test_*`` and ``on_predict_*`` counterparts, as in Keras; each does nothing until a subclass
    overrides it. Keras 2's ``on_batch_begin`` / ``on_batch_end`` are called as ``on_train_batch_*``.

    A callback whose batch hooks never read their ``logs`` sets ``reads_batch_logs = False``: when no callback
    reads them, fit passes empty batch logs instead of computing every metric after every batch (an exact AUC
    sorts all the epoch's rows so far each time). A callback that reads the weights' gradients
    (``Variable.grad``) after each batch sets ``needs_gradients = True``: the fit then runs on the eager engine,
    since the compiled kernels (``deepfin.kernels``) keep their gradients to themselves.

    Examples
    --------
    >>> import numpy as np
    >>> from deepfin import Sequential, callbacks, layers
    >>> class CountEpochs(callbacks.Callback):
    ...     def on_train_begin(self, logs=None):
    ...         self.epochs = 0
    ...     def on_epoch_end(self, epoch, logs=None):
    ...         self.epochs += 1
    >>> model = Sequential([layers.Input((2,)), layers.Dense(1)])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> counter = CountEpochs()
    >>> _ = model.fit(np.ones((8, 2)), np.zeros(8), epochs=3, verbose=0, callbacks=[counter])
    >>> counter.epochs, counter.params["epochs"]
    (3, 3)
    """

    reads_batch_logs = True
    needs_gradients = False

    def __init__(self):
        self.model = None
        self.params: dict = {}

    def set_model(self, model) -> None:
        """Keep ``model`` as ``self.model`` (fit calls it before training)."""
        self.model = model

    def set_params(self, params: dict) -> None:
        """Keep fit's parameters (``epochs``, ``steps``, ``verbose``) as ``self.params``."""
        self.params = params


def _no_op(self, *args, **kwargs) -> None:
    """A hook that does nothing; a subclass overrides the hooks it needs."""
    return None


for _hook in (*_HOOKS, *_KERAS2_ALIASES.values()):
    setattr(Callback, _hook, _no_op)


def _overrides(callback: Callback, hook: str) -> bool:
    method = getattr(callback, hook)
    return getattr(method, "__func__", method) is not _no_op


class History(Callback):
    """Records each epoch's logs: ``history.history['loss']`` is the list of epoch losses.

    ``fit`` adds one to every run and returns it. ``epoch`` lists the epochs recorded (indices from 0).
    """

    def __init__(self):
        super().__init__()
        self.epoch: list[int] = []
        self.history: dict[str, list[float]] = {}

    def on_train_begin(self, logs=None):
        """Clear the list of epochs (the logs of earlier fits stay in ``history``)."""
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        """Append the epoch and each logged value to its list."""
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)


class CallbackList:
    """Calls a hook on every callback; batch hooks only reach callbacks that define them.

    Callbacks that leave every batch hook alone cost nothing per batch: fit asks ``has`` and skips building
    per-batch logs when no callback wants them.

    Parameters
    ----------
    callbacks : iterable of Callback
        The callbacks, called in this order.
    model : Model
        Given to each callback's ``set_model``.
    params : dict
        Given to each callback's ``set_params``.

    Raises
    ------
    TypeError
        If an element is not a ``Callback``.
    """

    def __init__(self, callbacks, model, params: dict):
        self.callbacks = list(callbacks)
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(
                    f"callbacks must be deepfin.callbacks.Callback instances. Received: {cb!r} "
                    f"of type {type(cb).__name__}."
                )
            cb.set_model(model)
            cb.set_params(params)
        self._methods = {hook: self._collect(hook) for hook in _HOOKS}

    def _collect(self, hook: str) -> list:
        methods = []
        for cb in self.callbacks:
            for name in (hook, _KERAS2_ALIASES.get(hook)):
                if name and _overrides(cb, name):
                    methods.append(getattr(cb, name))
        return methods

    def call(self, hook: str, *args) -> None:
        """Call ``hook`` with ``args`` on every callback that overrides it (or its Keras 2 alias).

        Parameters
        ----------
        hook : str
            A hook's name, such as ``"on_epoch_end"``.
        *args
            The hook's arguments (the epoch or batch index and the logs).
        """
        for method in self._methods[hook]:
            method(*args)

    def has(self, hook: str) -> bool:
        """Whether any callback overrides ``hook`` (or its Keras 2 alias).

        Parameters
        ----------
        hook : str
            A hook's name.

        Returns
        -------
        bool
            True when calling the hook would reach a callback.
        """
        return bool(self._methods[hook])

    def needs_gradients(self) -> bool:
        """Whether a callback reads the weights' gradients (so the fit must run on the eager engine)."""
        return any(cb.needs_gradients for cb in self.callbacks)

    def reads_batch_logs(self) -> bool:
        """Whether a callback with a training batch hook reads that hook's ``logs``."""
        return any(getattr(getattr(method, "__self__", None), "reads_batch_logs", True)
                   for hook in ("on_train_batch_begin", "on_train_batch_end") for method in self._methods[hook])
