"""Callbacks: hooks into fit / evaluate / predict, and the History that fit returns."""

from __future__ import annotations

_HOOKS = (
    "on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end",
    "on_train_batch_begin", "on_train_batch_end", "on_test_begin", "on_test_end",
    "on_test_batch_begin", "on_test_batch_end", "on_predict_begin", "on_predict_end",
    "on_predict_batch_begin", "on_predict_batch_end",
)


class Callback:
    """Base class with every Keras hook; ``self.model`` and ``self.params`` are set by fit."""

    def __init__(self):
        self.model = None
        self.params: dict = {}

    def set_model(self, model) -> None:
        self.model = model

    def set_params(self, params: dict) -> None:
        self.params = params


def _no_op(self, *args, **kwargs) -> None:
    return None


for _hook in _HOOKS:
    setattr(Callback, _hook, _no_op)


class History(Callback):
    """Records each epoch's logs: ``history.history['loss']`` is the list of epoch losses."""

    def __init__(self):
        super().__init__()
        self.epoch: list[int] = []
        self.history: dict[str, list[float]] = {}

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)


class CallbackList:
    """Calls a hook on every callback; batch hooks only reach callbacks that override them."""

    def __init__(self, callbacks, model, params: dict):
        self.callbacks = list(callbacks)
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(f"callbacks must be Callback instances. Received: {cb!r}")
            cb.set_model(model)
            cb.set_params(params)
        self._overriding = {
            hook: [getattr(cb, hook) for cb in self.callbacks if getattr(type(cb), hook) is not _no_op]
            for hook in _HOOKS
        }

    def call(self, hook: str, *args) -> None:
        for method in self._overriding[hook]:
            method(*args)

    def has(self, hook: str) -> bool:
        return bool(self._overriding[hook])
