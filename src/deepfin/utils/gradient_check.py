"""Central finite differences against backpropagation, for every trainable weight."""

from __future__ import annotations

import numpy as np

from deepfin import losses as losses_module
from deepfin.engine.tensor import Tensor, no_grad


def check_gradients(model, x, y, loss=None, sample_weight=None, epsilon: float = 1e-6) -> dict[str, float]:
    """Compare backprop gradients of the training loss with central differences, in float64.

    The loss is ``loss`` (a name or Loss) or the model's compiled loss, plus weight penalties, with the model
    in inference mode (dropout off). The model's weights are restored exactly afterwards; an unbuilt model is
    built for ``x``.

    Parameters
    ----------
    model : Model
        The model to check.
    x : array_like
        Inputs.
    y : array_like
        Targets, as the loss takes them.
    loss : str, Loss or None, default None
        The loss; None uses the model's compiled loss.
    sample_weight : array_like or None, default None
        Per-sample weights for the loss.
    epsilon : float, default 1e-6
        The step of the central differences.

    Returns
    -------
    dict of str to float
        Per weight path, the largest absolute difference divided by the largest gradient magnitude of that
        weight.

    Raises
    ------
    ValueError
        If there is no loss (an uncompiled model and no ``loss``), the model has no trainable weights, or the
        targets do not fit the model's output.

    Examples
    --------
    >>> import numpy as np
    >>> from deepfin import Sequential, layers, utils
    >>> model = Sequential([layers.Input((3,)), layers.Dense(2, activation="tanh"), layers.Dense(1)])
    >>> rng = np.random.default_rng(0)
    >>> errors = utils.check_gradients(model, rng.normal(size=(4, 3)), rng.normal(size=(4, 1)), loss="mse")
    >>> len(errors), max(errors.values()) < 1e-6
    (4, True)
    """
    loss_fn = losses_module.get(loss) if loss is not None else getattr(model, "loss", None)
    if loss_fn is None:
        raise ValueError("check_gradients needs a loss: compile the model or pass loss=.")
    x = np.asarray(x, dtype=np.float64)
    if not model.built:
        model.build((None,) + x.shape[1:])
    y = loss_fn.validate_targets(np.asarray(y), model.compute_output_shape((None,) + x.shape[1:]))
    variables = model.trainable_weights
    if not variables:
        raise ValueError(f"Model '{model.name}' has no trainable weights to check.")

    def training_loss() -> Tensor:
        total = loss_fn(y, model(Tensor(x), training=False), sample_weight)
        for penalty in model.losses:
            total = total + penalty
        return total

    originals = [v.data for v in variables]
    try:
        for v in variables:
            v.data, v.grad = v.data.astype(np.float64), None
        training_loss().backward()
        errors = {}
        for v in variables:
            analytic = v.grad if v.grad is not None else np.zeros_like(v.data)
            numeric = np.empty_like(v.data)
            flat, numeric_flat = v.data.reshape(-1), numeric.reshape(-1)
            with no_grad():
                for i in range(flat.size):
                    saved = flat[i]
                    flat[i] = saved + epsilon
                    plus = float(training_loss().data)
                    flat[i] = saved - epsilon
                    minus = float(training_loss().data)
                    flat[i] = saved
                    numeric_flat[i] = (plus - minus) / (2 * epsilon)
            scale = max(np.abs(analytic).max(), np.abs(numeric).max(), 1e-12)
            errors[v.path] = float(np.abs(analytic - numeric).max() / scale)
        return errors
    finally:
        for v, original in zip(variables, originals):
            v.data, v.grad = original, None
