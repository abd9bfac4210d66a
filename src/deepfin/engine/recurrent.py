"""Recurrent layers' whole sequences as single graph nodes, run by the compiled kernels.

The loops through time run in ``deepfin.kernels.recurrent``. Each function takes batch-major inputs ``x``
(batch, steps, features) and the layer's weights, and returns the states at every step, batch-major: ``lstm``
the hidden and carry states side by side (batch, steps, 2 units), ``gru`` and ``simple_rnn`` the hidden states
(batch, steps, units). For the GRU and the simple RNN, the products that involve every step at once (inputs by
the kernel, their gradients, the recurrent kernel's gradient) are single NumPy products here, and the kernels
run what must go step by step; the LSTM's kernels project the inputs step by step and compute every gradient
themselves. The layers fall back on a step-by-step graph of the engine's operations (the reference) wherever
these do not apply.
"""

from __future__ import annotations

import numba
import numpy as np

from deepfin.engine.tensor import Tensor, as_tensor
from deepfin.kernels import recurrent as kernels
from deepfin.kernels.elementwise import subnormal_floor
from deepfin.kernels.threads import one_blas_thread


def _time_major(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a.transpose(1, 0, 2))


def _projected(x: np.ndarray, kernel: np.ndarray, bias: np.ndarray | None) -> np.ndarray:
    """``x`` (steps, batch, features) times ``kernel``, plus ``bias``: (steps, batch, gates x units)."""
    steps, batch, features = x.shape
    xw = (x.reshape(steps * batch, features) @ kernel).reshape(steps, batch, kernel.shape[1])
    if bias is not None:
        xw += bias
    return xw


def _input_grads(x: np.ndarray, kernel: np.ndarray, dxw: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The gradients of the batch-major inputs, of the kernel and of the input bias.

    They come from those of the projections ``dxw`` (steps, batch, gates x units).
    """
    steps, batch, features = x.shape
    flat = dxw.reshape(steps * batch, -1)
    dx = (flat @ kernel.T).reshape(steps, batch, features).transpose(1, 0, 2)
    return dx, x.reshape(steps * batch, features).T @ flat, flat.sum(axis=0)


def _previous(h0: np.ndarray, H: np.ndarray) -> np.ndarray:
    """The state each step starts from, flattened: (steps x batch, units)."""
    return np.concatenate([h0[None], H[:-1]]).reshape(-1, H.shape[2])


def _chunks(batch: int) -> int:
    """Blocks of batch rows run on separate cores: one per Numba thread, of at least 32 rows each."""
    return max(1, min(numba.get_num_threads(), batch // 32))


def _steps_mask(mask) -> np.ndarray:
    """A (batch, steps) mask as the kernels read it, time-major; an empty one for no mask."""
    return np.zeros((0, 0), bool) if mask is None else np.ascontiguousarray(np.asarray(mask, bool).T)


def _states(initial, batch: int, units: int, dtype) -> Tensor:
    return Tensor(np.zeros((batch, units), dtype)) if initial is None else as_tensor(initial, dtype)


def _prepared(x, kernel: Tensor, recurrent_kernel: Tensor, input_bias: np.ndarray | None, h0) -> tuple:
    """What the GRU and the simple RNN start from.

    The inputs and the initial state as Tensors (zeros when no state is given), the time-major inputs, the
    recurrent kernel (contiguous) and the projected inputs.
    """
    x = as_tensor(x)
    dtype = kernel.data.dtype
    h0 = _states(h0, x.shape[0], recurrent_kernel.shape[0], dtype)
    xt = _time_major(x.data.astype(dtype, copy=False))
    return x, h0, xt, np.ascontiguousarray(recurrent_kernel.data), _projected(xt, kernel.data, input_bias)


def lstm(x, kernel: Tensor, recurrent_kernel: Tensor, bias: Tensor | None = None, h0=None, c0=None,
         mask: np.ndarray | None = None) -> Tensor:
    """The LSTM's hidden and carry states at every step, (batch, steps, 2 units): ``[..., :units]`` is ``h``.

    Gates in Keras's order ``[i, f, c, o]``, tanh and sigmoid activations. Where ``mask`` (batch, steps) is
    False a row keeps its states (Keras's masking).

    Parameters
    ----------
    x : Tensor or array_like
        The inputs, (batch, steps, features), cast to the kernel's dtype.
    kernel : Tensor
        The input kernel, (features, 4 units).
    recurrent_kernel : Tensor
        The recurrent kernel, (units, 4 units).
    bias : Tensor or None, default None
        The bias, (4 units,); ``None`` for none.
    h0, c0 : Tensor, array_like or None, default None
        The initial hidden and carry states, (batch, units); ``None`` starts from zeros.
    mask : np.ndarray or None, default None
        Booleans (batch, steps); ``None``: every step is real.

    Returns
    -------
    Tensor
        ``[h, c]`` at every step, (batch, steps, 2 units), recorded for backpropagation as one node.
    """
    x = as_tensor(x)
    units = recurrent_kernel.shape[0]
    dtype = kernel.data.dtype
    h0, c0 = (_states(s, x.shape[0], units, dtype) for s in (h0, c0))
    xt = _time_major(x.data.astype(dtype, copy=False))
    weights = [np.ascontiguousarray(w) for w in (kernel.data, recurrent_kernel.data)]
    b = np.zeros(4 * units, dtype) if bias is None else np.ascontiguousarray(bias.data)
    h_start, c_start = np.ascontiguousarray(h0.data, dtype), np.ascontiguousarray(c0.data, dtype)
    HC = np.empty((xt.shape[0], xt.shape[1], 2 * units), dtype)
    steps = _steps_mask(mask)
    chunks = _chunks(xt.shape[1])
    with one_blas_thread():  # one step's products are far too small for two
        kernels.lstm_forward(xt, *weights, b, h_start, c_start, HC, steps, chunks)

    def backward(g):
        dx = np.empty_like(xt)
        dkernel, drecurrent, dbias = np.empty_like(weights[0]), np.empty_like(weights[1]), np.empty_like(b)
        dh0, dc0 = np.empty_like(h_start), np.empty_like(c_start)
        with one_blas_thread():
            kernels.lstm_backward(xt, *weights, b, h_start, c_start, HC, steps,
                                  g.astype(dtype, copy=False).transpose(1, 0, 2),
                                  dx, dkernel, drecurrent, dbias, dh0, dc0, subnormal_floor(dtype), chunks)
        grads = [dx.transpose(1, 0, 2), dkernel, drecurrent] + ([] if bias is None else [dbias])
        return (*grads, dh0, dc0)

    parents = (x, kernel, recurrent_kernel, *(() if bias is None else (bias,)), h0, c0)
    return Tensor.from_op(HC.transpose(1, 0, 2), parents, backward, op="lstm")


def gru(x, kernel: Tensor, recurrent_kernel: Tensor, bias: Tensor | None = None, h0=None,
        mask: np.ndarray | None = None) -> Tensor:
    """The GRU's (``reset_after=True``) hidden states at every step, (batch, steps, units).

    Gates in Keras's order ``[z, r, h]``. Where ``mask`` (batch, steps) is False a row keeps its state.

    Parameters
    ----------
    x : Tensor or array_like
        The inputs, (batch, steps, features), cast to the kernel's dtype.
    kernel : Tensor
        The input kernel, (features, 3 units).
    recurrent_kernel : Tensor
        The recurrent kernel, (units, 3 units).
    bias : Tensor or None, default None
        Keras's (2, 3 units): the input bias, then the recurrent one; ``None`` for none.
    h0 : Tensor, array_like or None, default None
        The initial state, (batch, units); ``None`` starts from zeros.
    mask : np.ndarray or None, default None
        Booleans (batch, steps); ``None``: every step is real.

    Returns
    -------
    Tensor
        The hidden states, (batch, steps, units), recorded for backpropagation as one node.
    """
    x, h0, xt, U, xw = _prepared(x, kernel, recurrent_kernel, None if bias is None else bias.data[0], h0)
    units, dtype = U.shape[0], U.dtype
    recurrent_bias = np.zeros(3 * units, dtype) if bias is None else np.ascontiguousarray(bias.data[1])
    steps, batch = xt.shape[:2]
    H, gates = np.empty((steps, batch, units), dtype), np.empty((steps, batch, 4 * units), dtype)
    h_start = np.ascontiguousarray(h0.data, dtype)
    steps_kept = _steps_mask(mask)
    chunks = _chunks(batch)
    with one_blas_thread():
        kernels.gru_forward(xw, U, recurrent_bias, h_start, H, gates, steps_kept, chunks)

    def backward(g):
        dH = _time_major(g.astype(dtype, copy=False))
        dX, dR = np.empty_like(xw), np.empty_like(xw)
        with one_blas_thread():
            dh0 = np.empty_like(h_start)
            kernels.gru_backward(np.ascontiguousarray(U.T), h_start, H, gates, steps_kept, np.ascontiguousarray(dH),
                                 dX, dR, dh0, subnormal_floor(dtype), chunks)
        dx, dkernel, dinput_bias = _input_grads(xt, kernel.data, dX)
        flat_r = dR.reshape(steps * batch, -1)
        drecurrent = _previous(h_start, H).T @ flat_r
        grads = [dx, dkernel, drecurrent] + ([] if bias is None else [np.stack([dinput_bias, flat_r.sum(axis=0)])])
        return (*grads, dh0)

    parents = (x, kernel, recurrent_kernel, *(() if bias is None else (bias,)), h0)
    return Tensor.from_op(H.transpose(1, 0, 2), parents, backward, op="gru")


def simple_rnn(x, kernel: Tensor, recurrent_kernel: Tensor, bias: Tensor | None = None, h0=None,
               mask: np.ndarray | None = None) -> Tensor:
    """The simple RNN's (tanh) hidden states at every step, (batch, steps, units).

    ``h_t = tanh(x_t @ kernel + bias + h_(t-1) @ recurrent_kernel)``. Where ``mask`` (batch, steps) is False a
    row keeps its state.

    Parameters
    ----------
    x : Tensor or array_like
        The inputs, (batch, steps, features), cast to the kernel's dtype.
    kernel : Tensor
        The input kernel, (features, units).
    recurrent_kernel : Tensor
        The recurrent kernel, (units, units).
    bias : Tensor or None, default None
        The bias, (units,); ``None`` for none.
    h0 : Tensor, array_like or None, default None
        The initial state, (batch, units); ``None`` starts from zeros.
    mask : np.ndarray or None, default None
        Booleans (batch, steps); ``None``: every step is real.

    Returns
    -------
    Tensor
        The hidden states, (batch, steps, units), recorded for backpropagation as one node.
    """
    x, h0, xt, U, xw = _prepared(x, kernel, recurrent_kernel, None if bias is None else bias.data, h0)
    units, dtype = U.shape[0], U.dtype
    steps, batch = xt.shape[:2]
    H = np.empty((steps, batch, units), dtype)
    h_start = np.ascontiguousarray(h0.data, dtype)
    steps_kept = _steps_mask(mask)
    chunks = _chunks(batch)
    with one_blas_thread():
        kernels.simple_rnn_forward(xw, U, h_start, H, steps_kept, chunks)

    def backward(g):
        dH = _time_major(g.astype(dtype, copy=False))
        dZ = np.empty_like(xw)
        with one_blas_thread():
            dh0 = np.empty_like(h_start)
            kernels.simple_rnn_backward(np.ascontiguousarray(U.T), H, steps_kept, np.ascontiguousarray(dH), dZ, dh0,
                                        subnormal_floor(dtype), chunks)
        dx, dkernel, dbias = _input_grads(xt, kernel.data, dZ)
        drecurrent = _previous(h_start, H).T @ dZ.reshape(steps * batch, -1)
        return (dx, dkernel, drecurrent, *(() if bias is None else (dbias,)), dh0)

    parents = (x, kernel, recurrent_kernel, *(() if bias is None else (bias,)), h0)
    return Tensor.from_op(H.transpose(1, 0, 2), parents, backward, op="simple_rnn")
