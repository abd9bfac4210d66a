"""compile / fit / evaluate / predict: one loop for training, evaluation and prediction.

Each training step is: forward pass (the layers build the graph), loss (+ weight penalties),
``backward()``, and an in-place optimizer update. Evaluation and prediction run under
``no_grad`` and build no graph.
"""

from __future__ import annotations

import sys
import time

import numpy as np

from deepfin import backend
from deepfin import losses as losses_module
from deepfin import metrics as metrics_module
from deepfin import optimizers as optimizers_module
from deepfin._text import shape_str
from deepfin.callbacks import CallbackList, History
from deepfin.engine.tensor import Tensor, no_grad


class Trainer:
    """The training API shared by every model (mixed into ``Model``)."""

    optimizer = None
    loss = None
    compiled = False
    stop_training = False
    _penalized: tuple | list = ()

    # ------------------------------------------------------------ compile
    def compile(self, optimizer="rmsprop", loss=None, metrics=None, loss_weights=None,
                run_eagerly=None, jit_compile=None, steps_per_execution=None):
        """Configure training: optimizer, loss and metrics, by name or object, as Keras.

        ``loss_weights``, ``run_eagerly``, ``jit_compile`` and ``steps_per_execution`` are
        accepted for Keras compatibility; with one output they change nothing.
        """
        self.optimizer = optimizers_module.get(optimizer)
        self.loss = None if loss is None else losses_module.get(loss)
        if metrics is None:
            metrics = []
        elif isinstance(metrics, (str, metrics_module.Metric)) or callable(metrics):
            metrics = [metrics]
        elif not isinstance(metrics, (list, tuple)):
            raise TypeError(f"metrics must be a list of names, functions or Metrics. Received: {metrics!r}")
        for m in metrics:  # unknown names fail here, not at the first batch
            metrics_module.get(m, (None, 1), (None, 1))
        self._metric_specs = list(metrics)
        self.compiled = True

    def _require_compiled(self, what: str) -> None:
        if not self.compiled:
            raise RuntimeError(f"You must call compile() before calling {what}().")
        if self.loss is None:
            raise ValueError(f"{what}() needs a loss: call compile(loss=...) first.")

    def _make_metrics(self, y: np.ndarray, output_shape: tuple) -> list:
        return [metrics_module.get(m, y.shape, output_shape) for m in self._metric_specs]

    # ------------------------------------------------------------ data
    def _prepare_x(self, x, name: str = "x") -> np.ndarray:
        if x is None:
            raise ValueError(f"{name} is required. Received: {name}=None")
        array = np.asarray(x)
        if array.dtype.kind not in "biuf":
            raise ValueError(f"{name} must hold numbers. Received an array of dtype {array.dtype}.")
        if array.ndim == 0:
            raise ValueError(f"{name} must have a batch axis. Received a scalar.")
        expected = self._expected_input_shape()
        if array.ndim == 1 and (expected is None or expected[1:] == (1,)):
            array = array.reshape(-1, 1)  # one feature per sample, as Keras 2 accepted
        array = array.astype(self.dtype, copy=False)
        bad = ~np.isfinite(array)
        if bad.any():
            row = int(np.argwhere(bad)[0][0])
            raise ValueError(f"{name} contains NaN or inf (first at row {row}). Clean or impute it first.")
        if expected is not None and not _fits(array.shape, expected):
            raise ValueError(
                f"{name} of shape {array.shape} does not fit model '{self.name}', which expects "
                f"inputs of shape {shape_str(expected)}."
            )
        return array

    def _prepare_xy(self, x, y, sample_weight=None, name: str = ""):
        x = self._prepare_x(x, name + "x")
        if not self.built:
            self.build((None,) + x.shape[1:])
        self._penalized = [w for w in self.weights if w.regularizer is not None]
        if y is None:
            raise ValueError(f"{name}y is required. Received: {name}y=None")
        y = self.loss.validate_targets(np.asarray(y), self.compute_output_shape((None,) + x.shape[1:]))
        if len(y) != len(x):
            raise ValueError(
                f"Data cardinality is ambiguous: {name}x has {len(x)} samples but {name}y has {len(y)}."
            )
        if sample_weight is not None:
            sample_weight = np.asarray(sample_weight, dtype=self.dtype)
            if sample_weight.shape != (len(x),) or not np.all(np.isfinite(sample_weight)) \
                    or (sample_weight < 0).any():
                raise ValueError(
                    f"sample_weight must be {len(x)} finite non-negative numbers, one per sample. "
                    f"Received an array of shape {sample_weight.shape}."
                )
        return x, y, sample_weight

    # ------------------------------------------------------------ steps
    def _compute_loss(self, y, y_pred: Tensor, sample_weight=None) -> Tensor:
        total = self.loss(y, y_pred, sample_weight)
        for w in self._penalized:
            total = total + w.regularizer(w)
        return total

    def _train_step(self, x: np.ndarray, y: np.ndarray, sample_weight=None) -> tuple[float, np.ndarray]:
        variables = self._train_variables
        for v in variables:
            v.grad = None
        y_pred = self(Tensor(x), training=True)
        loss = self._compute_loss(y, y_pred, sample_weight)
        loss.backward()
        grads = [v.grad for v in variables]
        if any(g is None for g in grads):  # weights the loss does not reach are left alone
            variables = [v for v in variables if v.grad is not None]
            grads = [v.grad for v in variables]
        if variables:
            self.optimizer.apply(grads, variables)
        return float(loss.data), y_pred.data

    # ------------------------------------------------------------ fit
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, sample_weight=None,
            initial_epoch=0, validation_freq=1):
        """Train for ``epochs`` epochs of mini-batches; returns the ``History``."""
        self._require_compiled("fit")
        batch_size = _check_batch_size(batch_size)
        _check_int("epochs", epochs, minimum=0)
        _check_int("initial_epoch", initial_epoch, minimum=0)
        _check_int("validation_freq", validation_freq, minimum=1)
        x, y, sample_weight = self._prepare_xy(x, y, sample_weight)
        if validation_data is not None and validation_split:
            raise ValueError("Pass validation_data or validation_split, not both.")
        if validation_split:
            x, y, sample_weight, validation_data = _split_validation(x, y, sample_weight, validation_split)
        elif validation_data is not None:
            validation_data = self._prepare_xy(*_unpack_validation(validation_data), name="validation_")

        output_shape = self.compute_output_shape((None,) + x.shape[1:])
        metrics = self._make_metrics(y, output_shape)
        history = History()
        callback_list = CallbackList(
            [*(callbacks or []), history], self,
            {"epochs": epochs, "steps": -(-len(x) // batch_size), "verbose": verbose},
        )
        verbose = _resolve_verbose(verbose)
        self._train_variables = self.trainable_weights
        self.history = history
        self.stop_training = False
        n = len(x)
        callback_list.call("on_train_begin", {})
        for epoch in range(initial_epoch, epochs):
            started = time.perf_counter()
            callback_list.call("on_epoch_begin", epoch, {})
            for m in metrics:
                m.reset_state()
            order = backend.rng().permutation(n) if shuffle else None
            batch_hooks = callback_list.has("on_train_batch_end") or callback_list.has("on_train_batch_begin")
            loss_sum = 0.0
            for step, start in enumerate(range(0, n, batch_size)):
                index = order[start:start + batch_size] if shuffle else slice(start, start + batch_size)
                xb, yb = x[index], y[index]
                wb = None if sample_weight is None else sample_weight[index]
                if batch_hooks:
                    callback_list.call("on_train_batch_begin", step, {})
                loss_value, y_pred = self._train_step(xb, yb, wb)
                loss_sum += loss_value * len(xb)
                for m in metrics:
                    m.update_state(yb, y_pred, wb)
                if batch_hooks:
                    callback_list.call("on_train_batch_end", step, {"loss": loss_sum / min(start + batch_size, n)})
                if self.stop_training:
                    break
            logs = {"loss": loss_sum / n, **{m.name: m.result() for m in metrics}}
            if validation_data is not None and (epoch + 1) % validation_freq == 0:
                val_logs = self._evaluate_arrays(*validation_data, batch_size=batch_size)
                logs.update({"val_" + k: v for k, v in val_logs.items()})
            callback_list.call("on_epoch_end", epoch, logs)
            if verbose:
                _print_epoch(epoch, epochs, -(-n // batch_size), time.perf_counter() - started, logs)
            if self.stop_training:
                break
        callback_list.call("on_train_end", {})
        return history

    # ------------------------------------------------------------ evaluate / predict
    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None,
                 return_dict=False):
        """Loss (and metrics) on ``x, y``: a float, a list, or a dict with ``return_dict``."""
        self._require_compiled("evaluate")
        batch_size = _check_batch_size(batch_size)
        x, y, sample_weight = self._prepare_xy(x, y, sample_weight)
        logs = self._evaluate_arrays(x, y, sample_weight, batch_size=batch_size)
        if _resolve_verbose(verbose):
            print(" - ".join(f"{k}: {v:.4f}" for k, v in logs.items()))
        if return_dict:
            return logs
        values = list(logs.values())
        return values[0] if len(values) == 1 else values

    def _evaluate_arrays(self, x, y, sample_weight=None, batch_size=32) -> dict:
        metrics = self._make_metrics(y, self.compute_output_shape((None,) + x.shape[1:]))
        loss_sum = 0.0
        with no_grad():
            for start in range(0, len(x), batch_size):
                xb, yb = x[start:start + batch_size], y[start:start + batch_size]
                wb = None if sample_weight is None else sample_weight[start:start + batch_size]
                y_pred = self(Tensor(xb), training=False)
                loss_sum += float(self._compute_loss(yb, y_pred, wb).data) * len(xb)
                for m in metrics:
                    m.update_state(yb, y_pred.data, wb)
        return {"loss": loss_sum / len(x), **{m.name: m.result() for m in metrics}}

    def predict(self, x, batch_size=None, verbose="auto"):
        """Model outputs for ``x`` as a NumPy array, computed in batches without a graph."""
        batch_size = _check_batch_size(batch_size)
        x = self._prepare_x(x)
        with no_grad():
            if len(x) <= batch_size:
                return self(Tensor(x), training=False).data
            outputs = [self(Tensor(x[i:i + batch_size]), training=False).data
                       for i in range(0, len(x), batch_size)]
        return np.concatenate(outputs)


# ------------------------------------------------------------ helpers
def _fits(shape: tuple, expected: tuple) -> bool:
    return len(shape) == len(expected) and all(e is None or s == e for s, e in zip(shape[1:], expected[1:]))


def _check_int(name: str, value, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}. Received: {name}={value!r}")


def _check_batch_size(batch_size) -> int:
    if batch_size is None:
        return 32
    _check_int("batch_size", batch_size, minimum=1)
    return int(batch_size)


def _resolve_verbose(verbose) -> int:
    if verbose == "auto":
        return 1
    if verbose not in (0, 1, 2):
        raise ValueError(f"verbose must be 0, 1, 2 or 'auto'. Received: verbose={verbose!r}")
    return int(verbose)


def _unpack_validation(validation_data):
    if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
        raise ValueError(
            "validation_data must be a tuple (x_val, y_val) or (x_val, y_val, val_sample_weight). "
            f"Received: {type(validation_data).__name__} {validation_data!r:.80}"
        )
    return tuple(validation_data) + (None,) * (3 - len(validation_data))


def _split_validation(x, y, sample_weight, validation_split):
    """The last ``validation_split`` of the samples, taken before any shuffling (as Keras)."""
    if not isinstance(validation_split, (int, float)) or not 0 < validation_split < 1:
        raise ValueError(f"validation_split must be a float in (0, 1). Received: {validation_split!r}")
    split = int(np.floor(len(x) * (1.0 - validation_split)))
    if split == 0 or split == len(x):
        raise ValueError(
            f"validation_split={validation_split} leaves {split} training and {len(x) - split} "
            f"validation samples out of {len(x)}; both need at least one."
        )
    sw_train = None if sample_weight is None else sample_weight[:split]
    sw_val = None if sample_weight is None else sample_weight[split:]
    return x[:split], y[:split], sw_train, (x[split:], y[split:], sw_val)


def _print_epoch(epoch: int, epochs: int, steps: int, seconds: float, logs: dict) -> None:
    metrics = " - ".join(f"{k}: {v:.4f}" for k, v in logs.items())
    per_step = seconds / max(steps, 1)
    unit = f"{per_step * 1e3:.0f}ms/step" if per_step >= 1e-3 else f"{per_step * 1e6:.0f}us/step"
    print(f"Epoch {epoch + 1}/{epochs}\n{steps}/{steps} - {seconds:.0f}s - {unit} - {metrics}",
          file=sys.stdout, flush=True)
