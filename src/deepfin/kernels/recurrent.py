"""Numba kernels for the recurrent layers' loops through time, forward and backward.

The LSTM, the GRU (``reset_after=True``) and the simple RNN, with their default activations (tanh, and
sigmoid for gates). Each kernel runs the whole sequence in one call, time-major. For the GRU and the simple
RNN, ``xw`` (steps, batch, gates x units) holds the inputs already projected by the kernel, bias included (one
matrix product over every step, done by the caller), so that each step is one product by the recurrent kernel
(NumPy's BLAS) and a loop over the units; their backward kernels return the gradients of those projections,
from which the caller takes the gradients of the inputs, the kernel and the biases (again one product each),
and of the recurrent kernel (one product of the previous states and the recurrent gradients). The LSTM's
kernels take the inputs themselves, project them step by step and compute every gradient. The eager engine's
step-by-step graph (``deepfin.layers.recurrent``) is the reference they are tested against.

Gate orders are Keras's: LSTM ``[i, f, c, o]``, GRU ``[z, r, h]``.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from deepfin.kernels.elementwise import flush_rows, sigmoid_scalar, tanh_scalar, tanh_vec

_JIT = dict(cache=True, fastmath=False, error_model="numpy", nogil=True)


@njit(**_JIT)
def _lstm_gates(x_t, h, kernel, recurrent_kernel, bias, z, gates):
    """One step's activated gates ``[i, f, c, o]`` (batch, 4 units) into ``gates``, ``z`` a work area.

    Each activation is a loop of its own over a row's gates, which LLVM vectorizes (a call per row and gate
    on slices cost a third of the LSTM's time).
    """
    n = recurrent_kernel.shape[0]
    np.dot(x_t, kernel, gates)
    np.dot(h, recurrent_kernel, z)
    for b in range(z.shape[0]):
        zb, g = z[b], gates[b]
        for j in range(4 * n):
            zb[j] += g[j] + bias[j]
        for j in range(2 * n):
            g[j] = sigmoid_scalar(zb[j])
        for j in range(2 * n, 3 * n):
            g[j] = tanh_scalar(zb[j])
        for j in range(3 * n, 4 * n):
            g[j] = sigmoid_scalar(zb[j])


@njit(**_JIT)
def _bounds(rows, chunks, k):
    """The rows ``lo:hi`` of block ``k`` of ``chunks``."""
    return rows * k // chunks, rows * (k + 1) // chunks


@njit(**_JIT)
def _lstm_forward_rows(x, kernel, recurrent_kernel, bias, h0, c0, HC, M, lo, hi):
    """``lstm_forward`` on the batch rows ``lo:hi`` (rows are independent: each chunk runs on its own core)."""
    steps, features = x.shape[0], x.shape[2]
    rows, n = hi - lo, recurrent_kernel.shape[0]
    h, c = h0[lo:hi].copy(), c0[lo:hi].copy()
    x_t = np.empty((rows, features), x.dtype)
    z, gates = np.empty((rows, 4 * n), x.dtype), np.empty((rows, 4 * n), x.dtype)
    for t in range(steps):
        x_t[:] = x[t, lo:hi]
        _lstm_gates(x_t, h, kernel, recurrent_kernel, bias, z, gates)
        for b in range(rows):
            g, cb, hb, out = gates[b], c[b], h[b], HC[t, lo + b]
            if M.shape[0] and not M[t, lo + b]:  # a masked step: the row keeps its states
                for j in range(n):
                    out[j], out[n + j] = hb[j], cb[j]
                continue
            for j in range(n):
                carry = g[n + j] * cb[j] + g[j] * g[2 * n + j]
                cb[j] = carry
                hb[j] = g[3 * n + j] * tanh_scalar(carry)
                out[j], out[n + j] = hb[j], carry


@njit(parallel=True, **_JIT)
def lstm_forward(x, kernel, recurrent_kernel, bias, h0, c0, HC, M, chunks):
    """Run the LSTM over ``x`` from the states ``h0``, ``c0``, filling ``HC`` with every step's states.

    Where the mask is False a row keeps its states, as Keras's masking does. The inputs are projected step by
    step, and the gates are not kept (the backward pass recomputes them: on two cores, writing them out and
    reading them back costs more than computing them again): memory is the states alone.

    Parameters
    ----------
    x : np.ndarray
        The inputs, (steps, batch, features), time-major.
    kernel, recurrent_kernel : np.ndarray
        (features, 4 units) and (units, 4 units), contiguous.
    bias : np.ndarray
        (4 units,).
    h0, c0 : np.ndarray
        The initial states, (batch, units).
    HC : np.ndarray
        Filled with each step's hidden state and carry side by side, (steps, batch, 2 units).
    M : np.ndarray
        The mask, booleans (steps, batch); empty: every step is real.
    chunks : int
        The batch is cut into as many blocks of rows, run on as many cores, each through the whole sequence.
    """
    for k in prange(chunks):
        lo, hi = _bounds(x.shape[1], chunks, k)
        _lstm_forward_rows(x, kernel, recurrent_kernel, bias, h0, c0, HC, M, lo, hi)


@njit(**_JIT)
def _lstm_backward_rows(x, kernel, recurrent_kernel, bias, h0, c0, HC, M, dHC, dx, dkernel, drecurrent, dbias,
                        dh0, dc0, floor, lo, hi):
    """``lstm_backward`` on the batch rows ``lo:hi``, adding their part of the weights' gradients."""
    steps, features = x.shape[0], x.shape[2]
    rows, n = hi - lo, recurrent_kernel.shape[0]
    kernel_t, recurrent_t = np.ascontiguousarray(kernel.T), np.ascontiguousarray(recurrent_kernel.T)
    dh, dc = np.zeros((rows, n), x.dtype), np.zeros((rows, n), x.dtype)
    h_before, c_before = np.empty((rows, n), x.dtype), np.empty((rows, n), x.dtype)
    z, gates, dz = np.empty((rows, 4 * n), x.dtype), np.empty((rows, 4 * n), x.dtype), \
        np.empty((rows, 4 * n), x.dtype)
    x_t, dx_t = np.empty((rows, features), x.dtype), np.empty((rows, features), x.dtype)
    dk, du = np.empty_like(dkernel), np.empty_like(drecurrent)
    tanh_c = np.empty(n, x.dtype)
    through = np.zeros((rows, n), x.dtype)  # a masked step's gradient of h, passed on to the step before
    masked = np.zeros(rows, np.bool_)
    for t in range(steps - 1, -1, -1):
        if t > 0:
            for b in range(rows):
                state = HC[t - 1, lo + b]
                h_before[b] = state[:n]
                c_before[b] = state[n:]
        else:
            h_before[:] = h0[lo:hi]
            c_before[:] = c0[lo:hi]
        x_t[:] = x[t, lo:hi]
        _lstm_gates(x_t, h_before, kernel, recurrent_kernel, bias, z, gates)
        for b in range(rows):
            g, d, grad, carry = gates[b], dz[b], dHC[t, lo + b], HC[t, lo + b, n:]
            masked[b] = M.shape[0] > 0 and not M[t, lo + b]
            if masked[b]:  # the states went through unchanged: so do their gradients
                for j in range(n):
                    through[b, j] = dh[b, j] + grad[j]
                    dc[b, j] += grad[n + j]
                d[:] = 0
                continue
            for j in range(n):
                tanh_c[j] = tanh_scalar(carry[j])
            for j in range(n):
                i, f, cand, o = g[j], g[n + j], g[2 * n + j], g[3 * n + j]
                tc = tanh_c[j]
                dh_t = dh[b, j] + grad[j]
                dc_t = dc[b, j] + grad[n + j] + dh_t * o * (1 - tc * tc)
                d[j] = dc_t * cand * i * (1 - i)
                d[n + j] = dc_t * c_before[b, j] * f * (1 - f)
                d[2 * n + j] = dc_t * i * (1 - cand * cand)
                d[3 * n + j] = dh_t * tc * o * (1 - o)
                dc[b, j] = dc_t * f
            for j in range(4 * n):
                dbias[j] += d[j]
        np.dot(dz, recurrent_t, dh)
        for b in range(rows):
            if masked[b]:
                dh[b] = through[b]
        np.dot(dz, kernel_t, dx_t)
        dx[t, lo:hi] = dx_t
        np.dot(x_t.T, dz, dk)
        dkernel += dk
        np.dot(h_before.T, dz, du)
        drecurrent += du
        flush_rows(dh, floor)
        flush_rows(dc, floor)
    dh0[lo:hi] = dh
    dc0[lo:hi] = dc


@njit(parallel=True, **_JIT)
def lstm_backward(x, kernel, recurrent_kernel, bias, h0, c0, HC, M, dHC, dx, dkernel, drecurrent, dbias, dh0, dc0,
                  floor, chunks):
    """Backward through time of ``lstm_forward``.

    Parameters
    ----------
    x, kernel, recurrent_kernel, bias, h0, c0 : np.ndarray
        As given to ``lstm_forward``.
    HC : np.ndarray
        The states ``lstm_forward`` filled.
    M : np.ndarray
        The mask given to ``lstm_forward``.
    dHC : np.ndarray
        The gradients reaching each step's hidden state and carry from outside the loop, (steps, batch,
        2 units).
    dx : np.ndarray
        Filled with the gradients of ``x``, (steps, batch, features).
    dkernel, drecurrent, dbias : np.ndarray
        Filled with the weights' gradients.
    dh0, dc0 : np.ndarray
        Filled with the initial states' gradients.
    floor : float
        The carried gradients are flushed to zero below it (``elementwise.subnormal_floor``) at each step.
    chunks : int
        The blocks of rows, run on as many cores.
    """
    parts_k = np.zeros((chunks, dkernel.shape[0], dkernel.shape[1]), dkernel.dtype)
    parts_u = np.zeros((chunks, drecurrent.shape[0], drecurrent.shape[1]), drecurrent.dtype)
    parts_b = np.zeros((chunks, dbias.shape[0]), dbias.dtype)
    for k in prange(chunks):
        lo, hi = _bounds(x.shape[1], chunks, k)
        _lstm_backward_rows(x, kernel, recurrent_kernel, bias, h0, c0, HC, M, dHC, dx, parts_k[k], parts_u[k],
                            parts_b[k], dh0, dc0, floor, lo, hi)
    dkernel[:] = parts_k.sum(axis=0)
    drecurrent[:] = parts_u.sum(axis=0)
    dbias[:] = parts_b.sum(axis=0)


@njit(**_JIT)
def _gru_forward_rows(xw, recurrent_kernel, recurrent_bias, h0, H, gates, M, lo, hi):
    """``gru_forward`` on the batch rows ``lo:hi``."""
    steps, three = xw.shape[0], xw.shape[2]
    n, rows = three // 3, hi - lo
    h = h0[lo:hi].copy()
    inner = np.empty((rows, three), xw.dtype)
    for t in range(steps):
        np.dot(h, recurrent_kernel, inner)
        g, x = gates[t, lo:hi], xw[t, lo:hi]
        for b in range(rows):
            ib, gb, xb = inner[b], g[b], x[b]
            for j in range(three):
                ib[j] += recurrent_bias[j]
            for j in range(2 * n):
                gb[j] = sigmoid_scalar(ib[j] + xb[j])
            for j in range(n):
                gb[3 * n + j] = ib[2 * n + j]
            for j in range(n):
                gb[2 * n + j] = tanh_scalar(xb[2 * n + j] + gb[n + j] * ib[2 * n + j])
            if M.shape[0] and not M[t, lo + b]:
                continue
            hb = h[b]
            for j in range(n):
                z = gb[j]
                hb[j] = z * hb[j] + (1 - z) * gb[2 * n + j]
        H[t, lo:hi] = h


@njit(parallel=True, **_JIT)
def gru_forward(xw, recurrent_kernel, recurrent_bias, h0, H, gates, M, chunks):
    """Run the GRU (reset after the recurrent product) over the projected inputs ``xw`` from ``h0``.

    Where the mask is False a row keeps its state.

    Parameters
    ----------
    xw : np.ndarray
        The inputs times the kernel, plus the input bias, (steps, batch, 3 units), time-major.
    recurrent_kernel : np.ndarray
        (units, 3 units), contiguous.
    recurrent_bias : np.ndarray
        (3 units,).
    h0 : np.ndarray
        The initial state, (batch, units).
    H : np.ndarray
        Filled with the hidden states, (steps, batch, units).
    gates : np.ndarray
        Filled with (steps, batch, 4 units): z, r, the candidate and the recurrent projection of the
        candidate (before the reset gate multiplies it).
    M : np.ndarray
        The mask, booleans (steps, batch); empty: every step is real.
    chunks : int
        The batch runs in as many blocks of rows on as many cores, as the LSTM's.
    """
    for k in prange(chunks):
        lo, hi = _bounds(xw.shape[1], chunks, k)
        _gru_forward_rows(xw, recurrent_kernel, recurrent_bias, h0, H, gates, M, lo, hi)


@njit(**_JIT)
def _gru_backward_rows(recurrent_kernel_t, h0, H, gates, M, dH, dX, dR, dh0, floor, lo, hi):
    """``gru_backward`` on the batch rows ``lo:hi``."""
    steps, n = dH.shape[0], dH.shape[2]
    rows = hi - lo
    dh = np.zeros((rows, n), dH.dtype)
    through = np.empty((rows, n), dH.dtype)
    dr_ = np.empty((rows, 3 * n), dH.dtype)
    for t in range(steps - 1, -1, -1):
        g, dx = gates[t, lo:hi], dX[t, lo:hi]
        before = H[t - 1, lo:hi] if t > 0 else h0[lo:hi]
        for b in range(rows):
            if M.shape[0] and not M[t, lo + b]:  # the state went through unchanged: so does its gradient
                for j in range(n):
                    through[b, j] = dh[b, j] + dH[t, lo + b, j]
                dx[b] = 0
                dr_[b] = 0
                continue
            for j in range(n):
                z, r = g[b, j], g[b, n + j]
                candidate, projected = g[b, 2 * n + j], g[b, 3 * n + j]
                dh_t = dh[b, j] + dH[t, lo + b, j]
                d_candidate = dh_t * (1 - z) * (1 - candidate * candidate)
                dz = dh_t * (before[b, j] - candidate) * z * (1 - z)
                dr = d_candidate * projected * r * (1 - r)
                dx[b, j], dx[b, n + j], dx[b, 2 * n + j] = dz, dr, d_candidate
                dr_[b, j], dr_[b, n + j], dr_[b, 2 * n + j] = dz, dr, d_candidate * r
                through[b, j] = dh_t * z
        dR[t, lo:hi] = dr_
        np.dot(dr_, recurrent_kernel_t, dh)
        dh += through
        flush_rows(dh, floor)
    dh0[lo:hi] = dh


@njit(parallel=True, **_JIT)
def gru_backward(recurrent_kernel_t, h0, H, gates, M, dH, dX, dR, dh0, floor, chunks):
    """Backward through time of ``gru_forward`` (with its mask ``M``).

    Parameters
    ----------
    recurrent_kernel_t : np.ndarray
        The recurrent kernel transposed, (3 units, units), contiguous.
    h0 : np.ndarray
        The initial state given to ``gru_forward``.
    H, gates : np.ndarray
        As ``gru_forward`` filled them.
    M : np.ndarray
        The mask given to ``gru_forward``.
    dH : np.ndarray
        The gradients reaching each step's state from outside the loop, (steps, batch, units).
    dX : np.ndarray
        Filled with the gradients of ``xw``, (steps, batch, 3 units).
    dR : np.ndarray
        Filled with those of the recurrent projection, bias included, (steps, batch, 3 units).
    dh0 : np.ndarray
        Filled with the gradient of ``h0``.
    floor : float
        The carried gradients are flushed to zero below it, as in ``lstm_backward``.
    chunks : int
        The blocks of rows, run on as many cores.
    """
    for k in prange(chunks):
        lo, hi = _bounds(dH.shape[1], chunks, k)
        _gru_backward_rows(recurrent_kernel_t, h0, H, gates, M, dH, dX, dR, dh0, floor, lo, hi)


@njit(**_JIT)
def _simple_rnn_forward_rows(xw, recurrent_kernel, h0, H, M, lo, hi):
    """``simple_rnn_forward`` on the batch rows ``lo:hi``."""
    steps, n = xw.shape[0], xw.shape[2]
    h = h0[lo:hi].copy()
    inner = np.empty((hi - lo, n), xw.dtype)
    for t in range(steps):
        np.dot(h, recurrent_kernel, inner)
        inner += xw[t, lo:hi]
        for b in range(hi - lo):
            if M.shape[0] == 0 or M[t, lo + b]:
                tanh_vec(inner[b], h[b])
        H[t, lo:hi] = h


@njit(parallel=True, **_JIT)
def simple_rnn_forward(xw, recurrent_kernel, h0, H, M, chunks):
    """Run the simple RNN, ``h_t = tanh(xw_t + h_(t-1) @ recurrent_kernel)``, over ``xw`` from ``h0``.

    Where the mask is False a row keeps its state.

    Parameters
    ----------
    xw : np.ndarray
        The inputs times the kernel, plus the bias, (steps, batch, units), time-major.
    recurrent_kernel : np.ndarray
        (units, units), contiguous.
    h0 : np.ndarray
        The initial state, (batch, units).
    H : np.ndarray
        Filled with the hidden states, (steps, batch, units).
    M : np.ndarray
        The mask, booleans (steps, batch); empty: every step is real.
    chunks : int
        The batch runs in as many blocks of rows on as many cores.
    """
    for k in prange(chunks):
        lo, hi = _bounds(xw.shape[1], chunks, k)
        _simple_rnn_forward_rows(xw, recurrent_kernel, h0, H, M, lo, hi)


@njit(**_JIT)
def _simple_rnn_backward_rows(recurrent_kernel_t, H, M, dH, dZ, dh0, floor, lo, hi):
    """``simple_rnn_backward`` on the batch rows ``lo:hi``."""
    steps, n = dH.shape[0], dH.shape[2]
    rows = hi - lo
    dh = np.zeros((rows, n), dH.dtype)
    d = np.empty((rows, n), dH.dtype)
    through = np.zeros((rows, n), dH.dtype)  # a masked step's gradient, passed on to the step before
    for t in range(steps - 1, -1, -1):
        h = H[t, lo:hi]
        for b in range(rows):
            if M.shape[0] and not M[t, lo + b]:
                for j in range(n):
                    through[b, j] = dh[b, j] + dH[t, lo + b, j]
                d[b] = 0
                continue
            for j in range(n):
                d[b, j] = (dh[b, j] + dH[t, lo + b, j]) * (1 - h[b, j] * h[b, j])
        dZ[t, lo:hi] = d
        np.dot(d, recurrent_kernel_t, dh)
        if M.shape[0]:
            for b in range(rows):
                if not M[t, lo + b]:
                    dh[b] = through[b]
        flush_rows(dh, floor)
    dh0[lo:hi] = dh


@njit(parallel=True, **_JIT)
def simple_rnn_backward(recurrent_kernel_t, H, M, dH, dZ, dh0, floor, chunks):
    """Backward through time of ``simple_rnn_forward`` (with its mask ``M``).

    Parameters
    ----------
    recurrent_kernel_t : np.ndarray
        The recurrent kernel transposed, contiguous.
    H : np.ndarray
        The states ``simple_rnn_forward`` filled.
    M : np.ndarray
        As given to ``simple_rnn_forward``.
    dH : np.ndarray
        The gradients reaching each step's state from outside the loop, (steps, batch, units).
    dZ : np.ndarray
        Filled with the gradients of ``xw``.
    dh0 : np.ndarray
        Filled with the gradient of ``h0``.
    floor : float
        The carried gradients are flushed to zero below it, as in ``lstm_backward``.
    chunks : int
        The blocks of rows, run on as many cores.
    """
    for k in prange(chunks):
        lo, hi = _bounds(dH.shape[1], chunks, k)
        _simple_rnn_backward_rows(recurrent_kernel_t, H, M, dH, dZ, dh0, floor, lo, hi)
