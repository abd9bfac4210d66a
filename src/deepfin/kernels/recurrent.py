"""Numba kernels for the recurrent layers' loops through time: forward and backward (through time) of the LSTM,
the GRU (``reset_after=True``) and the simple RNN with their default activations (tanh, and sigmoid for gates).

Each kernel runs the whole sequence in one call, time-major: ``xw`` (steps, batch, gates x units) holds the
inputs already projected by the kernel, bias included (one matrix product over every step, done by the
caller), so that each step is one product by the recurrent kernel (NumPy's BLAS) and a loop over the units.
The backward kernels return the gradients of those projections, from which the caller takes the gradients of
the inputs, the kernel and the biases (again one product each), and of the recurrent kernel (one product of
the previous states and the recurrent gradients). The eager engine's step-by-step graph
(``deepfin.layers.recurrent``) is the reference they are tested against.

Gate orders are Keras's: LSTM ``[i, f, c, o]``, GRU ``[z, r, h]``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_JIT = dict(cache=True, fastmath=False, error_model="numpy", nogil=True)


@njit(**_JIT)
def _sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


@njit(**_JIT)
def lstm_forward(xw, recurrent_kernel, h0, c0, H, C, gates):
    """Run the LSTM over ``xw`` (steps, batch, 4 units) from states ``h0``, ``c0`` (batch, units): fills the
    hidden and carry states ``H``, ``C`` (steps, batch, units) and the activated gates (steps, batch, 4 units)."""
    steps, batch, four = xw.shape
    n = four // 4
    h, c = h0.copy(), c0.copy()
    z = np.empty((batch, four), xw.dtype)
    for t in range(steps):
        np.dot(h, recurrent_kernel, z)
        for b in range(batch):
            for j in range(n):
                i = _sigmoid(xw[t, b, j] + z[b, j])
                f = _sigmoid(xw[t, b, n + j] + z[b, n + j])
                g = np.tanh(xw[t, b, 2 * n + j] + z[b, 2 * n + j])
                o = _sigmoid(xw[t, b, 3 * n + j] + z[b, 3 * n + j])
                carry = f * c[b, j] + i * g
                c[b, j] = carry
                h[b, j] = o * np.tanh(carry)
                gates[t, b, j], gates[t, b, n + j], gates[t, b, 2 * n + j], gates[t, b, 3 * n + j] = i, f, g, o
        H[t] = h
        C[t] = c


@njit(**_JIT)
def lstm_backward(recurrent_kernel_t, c0, C, gates, dH, dC, dZ):
    """Backward through time: ``dH``, ``dC`` (steps, batch, units) are the gradients reaching each step's states
    from outside the loop; fills ``dZ`` (steps, batch, 4 units), the gradients of the gates' pre-activations
    (which are also those of ``xw``); returns the gradients of ``h0`` and ``c0``."""
    steps, batch, n = dH.shape
    dh = np.zeros((batch, n), dH.dtype)
    dc = np.zeros((batch, n), dH.dtype)
    for t in range(steps - 1, -1, -1):
        for b in range(batch):
            for j in range(n):
                i, f, g, o = gates[t, b, j], gates[t, b, n + j], gates[t, b, 2 * n + j], gates[t, b, 3 * n + j]
                tanh_c = np.tanh(C[t, b, j])
                dh_t = dh[b, j] + dH[t, b, j]
                dc_t = dc[b, j] + dC[t, b, j] + dh_t * o * (1.0 - tanh_c * tanh_c)
                c_before = C[t - 1, b, j] if t > 0 else c0[b, j]
                dZ[t, b, j] = dc_t * g * i * (1.0 - i)
                dZ[t, b, n + j] = dc_t * c_before * f * (1.0 - f)
                dZ[t, b, 2 * n + j] = dc_t * i * (1.0 - g * g)
                dZ[t, b, 3 * n + j] = dh_t * tanh_c * o * (1.0 - o)
                dc[b, j] = dc_t * f
        np.dot(dZ[t], recurrent_kernel_t, dh)
    return dh, dc


@njit(**_JIT)
def gru_forward(xw, recurrent_kernel, recurrent_bias, h0, H, gates):
    """Run the GRU (reset after the recurrent product) over ``xw`` (steps, batch, 3 units) from ``h0``: fills
    ``H`` (steps, batch, units) and ``gates`` (steps, batch, 4 units): z, r, the candidate and the recurrent
    projection of the candidate (before the reset gate multiplies it)."""
    steps, batch, three = xw.shape
    n = three // 3
    h = h0.copy()
    inner = np.empty((batch, three), xw.dtype)
    for t in range(steps):
        np.dot(h, recurrent_kernel, inner)
        for b in range(batch):
            for j in range(n):
                z = _sigmoid(xw[t, b, j] + inner[b, j] + recurrent_bias[j])
                r = _sigmoid(xw[t, b, n + j] + inner[b, n + j] + recurrent_bias[n + j])
                projected = inner[b, 2 * n + j] + recurrent_bias[2 * n + j]
                candidate = np.tanh(xw[t, b, 2 * n + j] + r * projected)
                h[b, j] = z * h[b, j] + (1.0 - z) * candidate
                gates[t, b, j], gates[t, b, n + j] = z, r
                gates[t, b, 2 * n + j], gates[t, b, 3 * n + j] = candidate, projected
        H[t] = h


@njit(**_JIT)
def gru_backward(recurrent_kernel_t, h0, H, gates, dH, dX, dR):
    """Backward through time of ``gru_forward``: fills ``dX`` (the gradients of ``xw``) and ``dR`` (those of
    the recurrent projection, bias included), each (steps, batch, 3 units); returns the gradient of ``h0``."""
    steps, batch, n = dH.shape
    dh = np.zeros((batch, n), dH.dtype)
    through = np.empty((batch, n), dH.dtype)
    for t in range(steps - 1, -1, -1):
        for b in range(batch):
            for j in range(n):
                z, r = gates[t, b, j], gates[t, b, n + j]
                candidate, projected = gates[t, b, 2 * n + j], gates[t, b, 3 * n + j]
                h_before = H[t - 1, b, j] if t > 0 else h0[b, j]
                dh_t = dh[b, j] + dH[t, b, j]
                d_candidate = dh_t * (1.0 - z) * (1.0 - candidate * candidate)
                dz = dh_t * (h_before - candidate) * z * (1.0 - z)
                dr = d_candidate * projected * r * (1.0 - r)
                dX[t, b, j], dX[t, b, n + j], dX[t, b, 2 * n + j] = dz, dr, d_candidate
                dR[t, b, j], dR[t, b, n + j], dR[t, b, 2 * n + j] = dz, dr, d_candidate * r
                through[b, j] = dh_t * z
        np.dot(dR[t], recurrent_kernel_t, dh)
        dh += through
    return dh


@njit(**_JIT)
def simple_rnn_forward(xw, recurrent_kernel, h0, H):
    """``h_t = tanh(xw_t + h_(t-1) @ recurrent_kernel)`` over ``xw`` (steps, batch, units): fills ``H``."""
    steps, batch, n = xw.shape
    h = h0.copy()
    inner = np.empty((batch, n), xw.dtype)
    for t in range(steps):
        np.dot(h, recurrent_kernel, inner)
        for b in range(batch):
            for j in range(n):
                h[b, j] = np.tanh(xw[t, b, j] + inner[b, j])
        H[t] = h


@njit(**_JIT)
def simple_rnn_backward(recurrent_kernel_t, H, dH, dZ):
    """Backward through time of ``simple_rnn_forward``: fills ``dZ`` (the gradients of ``xw``); returns that
    of ``h0``."""
    steps, batch, n = dH.shape
    dh = np.zeros((batch, n), dH.dtype)
    for t in range(steps - 1, -1, -1):
        for b in range(batch):
            for j in range(n):
                h = H[t, b, j]
                dZ[t, b, j] = (dh[b, j] + dH[t, b, j]) * (1.0 - h * h)
        np.dot(dZ[t], recurrent_kernel_t, dh)
    return dh
