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

from deepfin.kernels.elementwise import flush_rows, sigmoid_vec, tanh_vec

_JIT = dict(cache=True, fastmath=False, error_model="numpy", nogil=True)


@njit(**_JIT)
def lstm_forward(xw, recurrent_kernel, h0, c0, H, C, gates):
    """Run the LSTM over ``xw`` (steps, batch, 4 units) from states ``h0``, ``c0`` (batch, units): fills the
    hidden and carry states ``H``, ``C`` (steps, batch, units) and the activated gates (steps, batch, 4 units)."""
    steps, batch, four = xw.shape
    n = four // 4
    h, c = h0.copy(), c0.copy()
    z = np.empty((batch, four), xw.dtype)
    tanh_c = np.empty((batch, n), xw.dtype)
    for t in range(steps):
        np.dot(h, recurrent_kernel, z)
        z += xw[t]
        for b in range(batch):
            zb, g, cb, tc = z[b], gates[t, b], c[b], tanh_c[b]
            sigmoid_vec(zb[:2 * n], g[:2 * n])
            tanh_vec(zb[2 * n:3 * n], g[2 * n:3 * n])
            sigmoid_vec(zb[3 * n:], g[3 * n:])
            for j in range(n):
                cb[j] = g[n + j] * cb[j] + g[j] * g[2 * n + j]
            tanh_vec(cb, tc)
            hb = h[b]
            for j in range(n):
                hb[j] = g[3 * n + j] * tc[j]
        H[t] = h
        C[t] = c


@njit(**_JIT)
def lstm_backward(recurrent_kernel_t, c0, C, gates, dH, dC, dZ, floor):
    """Backward through time: ``dH``, ``dC`` (steps, batch, units) are the gradients reaching each step's states
    from outside the loop; fills ``dZ`` (steps, batch, 4 units), the gradients of the gates' pre-activations
    (which are also those of ``xw``); returns the gradients of ``h0`` and ``c0``. The carried gradients are
    flushed to zero below ``floor`` (``elementwise.subnormal_floor``) at each step."""
    steps, batch, n = dH.shape
    dh = np.zeros((batch, n), dH.dtype)
    dc = np.zeros((batch, n), dH.dtype)
    tanh_c = np.empty((batch, n), dH.dtype)
    for t in range(steps - 1, -1, -1):
        for b in range(batch):
            tanh_vec(C[t, b], tanh_c[b])
        g, d = gates[t], dZ[t]
        before = C[t - 1] if t > 0 else c0
        for b in range(batch):
            for j in range(n):
                i, f, cand, o = g[b, j], g[b, n + j], g[b, 2 * n + j], g[b, 3 * n + j]
                tc = tanh_c[b, j]
                dh_t = dh[b, j] + dH[t, b, j]
                dc_t = dc[b, j] + dC[t, b, j] + dh_t * o * (1 - tc * tc)
                d[b, j] = dc_t * cand * i * (1 - i)
                d[b, n + j] = dc_t * before[b, j] * f * (1 - f)
                d[b, 2 * n + j] = dc_t * i * (1 - cand * cand)
                d[b, 3 * n + j] = dh_t * tc * o * (1 - o)
                dc[b, j] = dc_t * f
        np.dot(d, recurrent_kernel_t, dh)
        flush_rows(dh, floor)
        flush_rows(dc, floor)
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
    pre = np.empty((batch, n), xw.dtype)
    for t in range(steps):
        np.dot(h, recurrent_kernel, inner)
        inner += recurrent_bias
        g, x = gates[t], xw[t]
        for b in range(batch):
            for j in range(2 * n):
                inner[b, j] += x[b, j]
        for b in range(batch):
            gb = g[b]
            sigmoid_vec(inner[b, :2 * n], gb[:2 * n])
            for j in range(n):
                gb[3 * n + j] = inner[b, 2 * n + j]
                pre[b, j] = x[b, 2 * n + j] + gb[n + j] * inner[b, 2 * n + j]
            tanh_vec(pre[b], gb[2 * n:3 * n])
        for b in range(batch):
            for j in range(n):
                z = g[b, j]
                h[b, j] = z * h[b, j] + (1 - z) * g[b, 2 * n + j]
        H[t] = h


@njit(**_JIT)
def gru_backward(recurrent_kernel_t, h0, H, gates, dH, dX, dR, floor):
    """Backward through time of ``gru_forward``: fills ``dX`` (the gradients of ``xw``) and ``dR`` (those of
    the recurrent projection, bias included), each (steps, batch, 3 units); returns the gradient of ``h0``
    (carried gradients flushed below ``floor``, as in ``lstm_backward``)."""
    steps, batch, n = dH.shape
    dh = np.zeros((batch, n), dH.dtype)
    through = np.empty((batch, n), dH.dtype)
    for t in range(steps - 1, -1, -1):
        g, dx, dr_ = gates[t], dX[t], dR[t]
        before = H[t - 1] if t > 0 else h0
        for b in range(batch):
            for j in range(n):
                z, r = g[b, j], g[b, n + j]
                candidate, projected = g[b, 2 * n + j], g[b, 3 * n + j]
                dh_t = dh[b, j] + dH[t, b, j]
                d_candidate = dh_t * (1 - z) * (1 - candidate * candidate)
                dz = dh_t * (before[b, j] - candidate) * z * (1 - z)
                dr = d_candidate * projected * r * (1 - r)
                dx[b, j], dx[b, n + j], dx[b, 2 * n + j] = dz, dr, d_candidate
                dr_[b, j], dr_[b, n + j], dr_[b, 2 * n + j] = dz, dr, d_candidate * r
                through[b, j] = dh_t * z
        np.dot(dr_, recurrent_kernel_t, dh)
        dh += through
        flush_rows(dh, floor)
    return dh


@njit(**_JIT)
def simple_rnn_forward(xw, recurrent_kernel, h0, H):
    """``h_t = tanh(xw_t + h_(t-1) @ recurrent_kernel)`` over ``xw`` (steps, batch, units): fills ``H``."""
    steps, batch, n = xw.shape
    h = h0.copy()
    inner = np.empty((batch, n), xw.dtype)
    for t in range(steps):
        np.dot(h, recurrent_kernel, inner)
        inner += xw[t]
        for b in range(batch):
            tanh_vec(inner[b], h[b])
        H[t] = h


@njit(**_JIT)
def simple_rnn_backward(recurrent_kernel_t, H, dH, dZ, floor):
    """Backward through time of ``simple_rnn_forward``: fills ``dZ`` (the gradients of ``xw``); returns that
    of ``h0`` (carried gradients flushed below ``floor``, as in ``lstm_backward``)."""
    steps, batch, n = dH.shape
    dh = np.zeros((batch, n), dH.dtype)
    for t in range(steps - 1, -1, -1):
        d, h = dZ[t], H[t]
        for b in range(batch):
            for j in range(n):
                d[b, j] = (dh[b, j] + dH[t, b, j]) * (1 - h[b, j] * h[b, j])
        np.dot(d, recurrent_kernel_t, dh)
        flush_rows(dh, floor)
    return dh
