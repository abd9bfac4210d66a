"""The built-in optimizers' updates as Numba loops over flat buffers: one pass over the parameters where NumPy
makes one per operation.

``update`` applies one step of the optimizer whose code it is given to parameters ``P`` with gradients ``G`` and
state ``S`` (one row per slot, in the order of ``Optimizer.compiled_form``), with the formulas of
``deepfin.optimizers``' NumPy ``update_step`` methods (Keras 3's) in the buffers' dtype: hyperparameters arrive
already cast, so a float32 update rounds as NumPy's does. The compiled kernels' training loops call it once per
batch; an optimizer calls it for the variables it updates by itself. ``error_model="numpy"`` lets the loops
vectorize (the default "python" model checks every division for zero: about 7x slower for Adam).
"""

from __future__ import annotations

import numpy as np
from numba import njit

_JIT = dict(cache=True, fastmath=False, error_model="numpy", nogil=True)

SGD, ADAGRAD, RMSPROP, ADAM, ADADELTA = range(5)


@njit(**_JIT)
def _flushed(value, tiny):
    """``value``, or 0 when it is smaller than the dtype's smallest normal number (``tiny``)."""
    return value if abs(value) >= tiny else value * 0


@njit(**_JIT)
def update(optimizer, hp, rate, P, G, S):
    """One update of every parameter, Keras's formulas as ``deepfin.optimizers`` writes them.

    State that decays towards zero (moments, moving averages of squares) is flushed to 0 once it falls below the
    smallest normal number: a unit whose gradient stays 0 (a dead ReLU) otherwise leaves subnormal numbers, on
    which every operation is about a hundred times slower (MNIST-size with RMSprop: 1.3 s for the first epoch,
    9 s for the third, 70% of the velocities subnormal). The weights do not change: epsilon outweighs a
    subnormal state many times over.

    Parameters
    ----------
    optimizer : int
        The optimizer's code: ``SGD``, ``ADAGRAD``, ``RMSPROP``, ``ADAM`` or ``ADADELTA``.
    hp : np.ndarray
        The optimizer's settings (``Optimizer.compiled_form``'s), in the parameters' dtype.
    rate : float
        The step's learning rate (Adam: its ``alpha``, ``Optimizer.compiled_rate``), in the parameters' dtype.
    P : np.ndarray
        The parameters, flat; updated in place.
    G : np.ndarray
        Their gradients, flat, of ``P``'s dtype.
    S : np.ndarray
        The state, one row of ``P``'s size per slot, in the order of ``Optimizer.compiled_form``; updated in place.
    """
    tiny = np.finfo(P.dtype).tiny
    if optimizer == SGD:  # hp: momentum, nesterov
        _sgd(hp[0], hp[1] != 0, rate, P, G, S, tiny)
    elif optimizer == ADAGRAD:  # hp: epsilon
        acc = S[0]
        for q in range(P.size):
            acc[q] += G[q] * G[q]
            P[q] -= G[q] / np.sqrt(acc[q] + hp[0]) * rate
    elif optimizer == RMSPROP:  # hp: rho, 1 - rho, momentum, epsilon, centered
        _rmsprop(hp[0], hp[1], hp[2], hp[3], hp[4] != 0, rate, P, G, S, tiny)
    elif optimizer == ADAM:  # hp: 1 - beta_1, 1 - beta_2, epsilon, amsgrad; rate: alpha
        _adam(hp[0], hp[1], hp[2], hp[3] != 0, rate, P, G, S, tiny)
    else:  # ADADELTA: hp: rho, 1 - rho, epsilon; slots accumulated gradient, accumulated delta
        acc_grad, acc_delta = S[0], S[1]
        for q in range(P.size):
            g = G[q]
            acc_grad[q] = _flushed(acc_grad[q] * hp[0] + g * g * hp[1], tiny)
            delta = np.sqrt(acc_delta[q] + hp[2]) * g / np.sqrt(acc_grad[q] + hp[2])
            acc_delta[q] = _flushed(acc_delta[q] * hp[0] + delta * delta * hp[1], tiny)
            P[q] -= delta * rate


# Each variant of an optimizer is a loop of its own, with no test inside: LLVM vectorizes such loops.
@njit(**_JIT)
def _sgd(momentum, nesterov, rate, P, G, S, tiny):
    """Slots: momentum (when ``momentum`` > 0)."""
    if momentum == 0:
        for q in range(P.size):
            P[q] -= G[q] * rate
        return
    m = S[0]
    if nesterov:
        for q in range(P.size):
            step = G[q] * rate
            m[q] = _flushed(m[q] * momentum - step, tiny)
            P[q] += m[q] * momentum - step
    else:
        for q in range(P.size):
            m[q] = _flushed(m[q] * momentum - G[q] * rate, tiny)
            P[q] += m[q]


@njit(**_JIT)
def _rmsprop(rho, one_minus_rho, momentum, epsilon, centered, rate, P, G, S, tiny):
    """Slots: velocity, then momentum (when ``momentum`` > 0), then the average gradient (when ``centered``)."""
    velocity, average = S[0], S[S.shape[0] - 1]
    if centered and momentum != 0:
        m = S[1]
        for q in range(P.size):
            g = G[q]
            velocity[q] = _flushed(velocity[q] * rho + g * g * one_minus_rho, tiny)
            average[q] = _flushed(average[q] * rho + g * one_minus_rho, tiny)
            m[q] = _flushed(m[q] * momentum + g / np.sqrt(velocity[q] - average[q] * average[q] + epsilon) * rate,
                            tiny)
            P[q] -= m[q]
    elif centered:
        for q in range(P.size):
            g = G[q]
            velocity[q] = _flushed(velocity[q] * rho + g * g * one_minus_rho, tiny)
            average[q] = _flushed(average[q] * rho + g * one_minus_rho, tiny)
            P[q] -= g / np.sqrt(velocity[q] - average[q] * average[q] + epsilon) * rate
    elif momentum != 0:
        m = S[1]
        for q in range(P.size):
            g = G[q]
            velocity[q] = _flushed(velocity[q] * rho + g * g * one_minus_rho, tiny)
            m[q] = _flushed(m[q] * momentum + g / np.sqrt(velocity[q] + epsilon) * rate, tiny)
            P[q] -= m[q]
    else:
        for q in range(P.size):
            g = G[q]
            velocity[q] = _flushed(velocity[q] * rho + g * g * one_minus_rho, tiny)
            P[q] -= g / np.sqrt(velocity[q] + epsilon) * rate


@njit(**_JIT)
def _adam(one_minus_beta_1, one_minus_beta_2, epsilon, amsgrad, alpha, P, G, S, tiny):
    """Slots: m, v, then v_hat (with ``amsgrad``)."""
    m, v = S[0], S[1]
    if amsgrad:
        v_hat = S[2]
        for q in range(P.size):
            g = G[q]
            m[q] = _flushed(m[q] + (g - m[q]) * one_minus_beta_1, tiny)
            v[q] = _flushed(v[q] + (g * g - v[q]) * one_minus_beta_2, tiny)
            v_hat[q] = max(v_hat[q], v[q])
            P[q] -= m[q] * alpha / (np.sqrt(v_hat[q]) + epsilon)
    else:
        for q in range(P.size):
            g = G[q]
            m[q] = _flushed(m[q] + (g - m[q]) * one_minus_beta_1, tiny)
            v[q] = _flushed(v[q] + (g * g - v[q]) * one_minus_beta_2, tiny)
            P[q] -= m[q] * alpha / (np.sqrt(v[q]) + epsilon)
