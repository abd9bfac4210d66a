"""Numba kernels for chains of dense-type layers: forward, loss, backward and the optimizer update.

A network is a table of operations (``ops``, one row per layer, columns ``OP_*``) over flat buffers: the
trainable parameters ``P`` and their gradients ``G``, the optimizer's state ``S`` (one row per slot), the
non-trainable state ``NT`` (BatchNormalization's moving statistics), and per-layer work areas for the
pre-activations ``Z``, outputs ``A`` and their gradients ``DZ``, ``DA``, at offsets ``zoff``/``aoff``. Inputs,
targets and the dropout uniforms come flat, row-major, for a chunk of consecutive mini-batches.

Every formula is the eager engine's (``deepfin.engine.functions``, ``deepfin.optimizers``), in the buffers' dtype:
hyperparameters arrive already cast (``hp``, ``rates``), so a float32 update rounds as NumPy's does. Products go
to BLAS through ``np.dot`` on contiguous views; everything else is a loop. ``error_model="numpy"`` lets the
optimizer loops vectorize (the default "python" model checks every division for zero).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from deepfin.kernels.elementwise import tanh_rows
from deepfin.optimizers.compiled import update

_JIT = dict(cache=True, fastmath=False, error_model="numpy", nogil=True)

# operation kinds
DENSE, MAXOUT, BATCH_NORM, ACTIVATION, DROPOUT = 0, 1, 2, 3, 4
# activation codes
LINEAR, RELU, TANH, SIGMOID, ELU, SOFTPLUS, LEAKY_RELU, SOFTMAX, LOG_SOFTMAX = range(9)
# losses: cross-entropies on logits (the output's pre-activation, or the output itself with from_logits)
BINARY_CE, CATEGORICAL_CE, SPARSE_CE, MEAN_SQUARED = range(4)

_ROW_TILE = 8  # rows of a tile in _affine_by_row

# columns of the operation table
OP_KIND, OP_IN, OP_OUT, OP_ZW, OP_W, OP_B, OP_CODE, OP_X1, OP_X2, OP_X3 = range(10)
OP_COLUMNS = 10
# DENSE: OP_CODE activation. MAXOUT: OP_CODE pieces. BATCH_NORM: OP_W gamma, OP_B beta (-1: none), OP_X1/OP_X2 moving
# mean/variance in NT, OP_X3 the batch's 1/sqrt(var + eps) in NT. ACTIVATION: OP_CODE. DROPOUT: OP_X1 its generator's
# width per row, OP_X2 its place in that width, OP_X3 the generator's first column (see ``_uniforms``).
# float table: DENSE/ACTIVATION: [alpha or slope]; DROPOUT: [rate, 1 / (1 - rate)]; BATCH_NORM: [epsilon, momentum]


@njit(**_JIT)
def _rows(buf, offset, n, width):
    """Rows ``n`` x ``width`` of the flat ``buf`` from ``offset``: a C-contiguous view."""
    return buf[offset:offset + n * width].reshape((n, width))


@njit(**_JIT)
def _expit(z):
    if z >= 0:
        return 1 / (1 + np.exp(-z))
    e = np.exp(z)
    return e / (1 + e)


@njit(**_JIT)
def _softplus(z):
    """log(1 + exp(z)), NumPy's ``logaddexp(0, z)``."""
    return max(z, 0) + np.log1p(np.exp(-abs(z)))


@njit(**_JIT)
def _activate(code, param, z, a):
    """``a = activation(z)`` row by row."""
    n, width = z.shape
    if code == LINEAR:
        a[:, :] = z
    elif code == RELU:
        for r in range(n):
            for j in range(width):
                a[r, j] = z[r, j] if z[r, j] > 0 else 0
    elif code == TANH:
        tanh_rows(z, a)
    elif code == SIGMOID:
        for r in range(n):
            for j in range(width):
                a[r, j] = _expit(z[r, j])
    elif code == ELU:
        for r in range(n):
            for j in range(width):
                a[r, j] = z[r, j] if z[r, j] > 0 else param * np.expm1(z[r, j])
    elif code == SOFTPLUS:
        for r in range(n):
            for j in range(width):
                a[r, j] = _softplus(z[r, j])
    elif code == LEAKY_RELU:
        for r in range(n):
            for j in range(width):
                a[r, j] = z[r, j] if z[r, j] > 0 else param * z[r, j]
    else:  # SOFTMAX, LOG_SOFTMAX: along the row
        for r in range(n):
            top = z[r, 0]
            for j in range(1, width):
                top = max(top, z[r, j])
            total = 0.0
            for j in range(width):
                total += np.exp(z[r, j] - top)
            if code == SOFTMAX:
                for j in range(width):
                    a[r, j] = np.exp(z[r, j] - top) / total
            else:
                shift = top + np.log(total)
                for j in range(width):
                    a[r, j] = z[r, j] - shift


@njit(**_JIT)
def _activation_backward(code, param, z, a, da, dz):
    """``dz = da * activation'(z)`` (softmax and log-softmax: their Jacobians along the row)."""
    n, width = z.shape
    if code == LINEAR:
        dz[:, :] = da
    elif code == RELU:
        for r in range(n):
            for j in range(width):
                dz[r, j] = da[r, j] if z[r, j] > 0 else 0
    elif code == TANH:
        for r in range(n):
            for j in range(width):
                dz[r, j] = da[r, j] * (1 - a[r, j] * a[r, j])
    elif code == SIGMOID:
        for r in range(n):
            for j in range(width):
                dz[r, j] = da[r, j] * (a[r, j] * (1 - a[r, j]))
    elif code == ELU:
        for r in range(n):
            for j in range(width):
                dz[r, j] = da[r, j] if z[r, j] > 0 else da[r, j] * (a[r, j] + param)
    elif code == SOFTPLUS:
        for r in range(n):
            for j in range(width):
                dz[r, j] = da[r, j] * _expit(z[r, j])
    elif code == LEAKY_RELU:
        for r in range(n):
            for j in range(width):
                dz[r, j] = da[r, j] if z[r, j] > 0 else da[r, j] * param
    elif code == SOFTMAX:
        for r in range(n):
            dot = 0.0
            for j in range(width):
                dot += da[r, j] * a[r, j]
            for j in range(width):
                dz[r, j] = a[r, j] * (da[r, j] - dot)
    else:  # LOG_SOFTMAX
        for r in range(n):
            total = 0.0
            for j in range(width):
                total += da[r, j]
            for j in range(width):
                dz[r, j] = da[r, j] - np.exp(a[r, j]) * total


@njit(**_JIT)
def _affine(x, P, op, z):
    """``z = x @ kernel + bias``."""
    rows, width = x.shape[1], op[OP_ZW]
    np.dot(x, _rows(P, op[OP_W], rows, width), z)
    if op[OP_B] >= 0:
        bias = P[op[OP_B]:op[OP_B] + width]
        for r in range(z.shape[0]):
            for j in range(width):
                z[r, j] += bias[j]


@njit(**_JIT)
def _affine_by_row(x, P, op, z):
    """``z = x @ kernel + bias`` summed in a fixed order per row.

    A row's output then does not depend on the rows computed with it (BLAS's blocking makes it do):
    inference gives each row the same result in any batch. Rows go in tiles of ``_ROW_TILE`` that share each
    kernel row's loads (1.6x faster than row by row on a 128-wide layer); each row's sum keeps its order.
    """
    inputs, width = x.shape[1], op[OP_ZW]
    kernel = _rows(P, op[OP_W], inputs, width)
    sums = np.empty((_ROW_TILE, width), z.dtype)
    for first in range(0, z.shape[0], _ROW_TILE):
        tile = min(_ROW_TILE, z.shape[0] - first)
        sums[:tile] = 0
        if op[OP_B] >= 0:
            for i in range(tile):
                sums[i] = P[op[OP_B]:op[OP_B] + width]
        for k in range(inputs):
            kernel_row = kernel[k]
            for i in range(tile):
                factor, row_sums = x[first + i, k], sums[i]
                for j in range(width):
                    row_sums[j] += factor * kernel_row[j]
        z[first:first + tile] = sums[:tile]


@njit(**_JIT)
def _batch_norm(x, P, NT, op, fop, z, a, training):
    """Normalize each column with the batch's statistics (training, moving ones updated) or the moving ones."""
    n, width = x.shape
    mean, var, inv = NT[op[OP_X1]:op[OP_X1] + width], NT[op[OP_X2]:op[OP_X2] + width], NT[op[OP_X3]:op[OP_X3] + width]
    epsilon, momentum = fop[0], fop[1]
    for j in range(width):
        if training:
            total = 0.0
            for r in range(n):
                total += x[r, j]
            mu = total / n
            total = 0.0
            for r in range(n):
                total += (x[r, j] - mu) * (x[r, j] - mu)
            sigma2 = total / n
            mean[j] = mean[j] * momentum + (1 - momentum) * mu
            var[j] = var[j] * momentum + (1 - momentum) * sigma2
        else:
            mu, sigma2 = mean[j], var[j]
        scale = 1 / np.sqrt(sigma2 + epsilon)
        inv[j] = scale
        gamma = P[op[OP_W] + j] if op[OP_W] >= 0 else 1
        beta = P[op[OP_B] + j] if op[OP_B] >= 0 else 0
        for r in range(n):
            z[r, j] = (x[r, j] - mu) * scale
            a[r, j] = z[r, j] * gamma + beta


@njit(**_JIT)
def _batch_norm_backward(P, G, NT, op, z, da, dx):
    """Gradients of gamma, beta and (when ``dx`` has rows) of the input, from the normalized ``z``."""
    n, width = z.shape
    inv = NT[op[OP_X3]:op[OP_X3] + width]
    for j in range(width):
        gamma = P[op[OP_W] + j] if op[OP_W] >= 0 else 1
        sum_g, sum_gz = 0.0, 0.0
        for r in range(n):
            sum_g += da[r, j]
            sum_gz += da[r, j] * z[r, j]
        if op[OP_W] >= 0:
            G[op[OP_W] + j] = sum_gz
        if op[OP_B] >= 0:
            G[op[OP_B] + j] = sum_g
        if dx.shape[0]:
            for r in range(n):
                dx[r, j] = inv[j] / n * (n * da[r, j] * gamma - gamma * sum_g - z[r, j] * gamma * sum_gz)


@njit(**_JIT)
def _forward(x, ops, fops, P, NT, U, u_start, u_rows, Z, A, zoff, aoff, training, by_row):
    """Run every operation on the batch ``x``; returns the last operation's output.

    ``by_row``: products summed row by row in a fixed order (a row's output then does not depend on the rows
    beside it).
    """
    n = x.shape[0]
    for i in range(ops.shape[0]):
        op, fop = ops[i], fops[i]
        width = op[OP_OUT]
        a = _rows(A, aoff[i], n, width)
        z = _rows(Z, zoff[i], n, op[OP_ZW])
        kind = op[OP_KIND]
        if kind == DENSE or kind == MAXOUT:
            if by_row:
                _affine_by_row(x, P, op, z)
            else:
                _affine(x, P, op, z)
        if kind == DENSE:
            _activate(op[OP_CODE], fop[0], z, a)
        elif kind == MAXOUT:
            pieces = op[OP_CODE]
            for r in range(n):
                for j in range(width):
                    top = z[r, j * pieces]
                    for p in range(1, pieces):
                        if z[r, j * pieces + p] > top:
                            top = z[r, j * pieces + p]
                    a[r, j] = top
        elif kind == BATCH_NORM:
            _batch_norm(x, P, NT, op, fop, z, a, training)
        elif kind == ACTIVATION:  # its input kept as z: the logits of a fused loss
            z[:, :] = x
            _activate(op[OP_CODE], fop[0], z, a)
        elif training:  # DROPOUT
            rate, scale = fop[0], fop[1]
            first = u_rows * op[OP_X3] + u_start * op[OP_X1] + n * op[OP_X2]
            u = _rows(U, first, n, width)
            for r in range(n):
                for j in range(width):
                    a[r, j] = x[r, j] * scale if u[r, j] >= rate else 0
        else:
            a[:, :] = x
        x = a
    return x


@njit(**_JIT)
def _backward(x, ops, fops, P, G, NT, U, u_start, u_rows, Z, A, DZ, DA, zoff, aoff, last_dz_given, stop):
    """Back-propagate from the last operation's ``DA`` (or its ``DZ`` when ``last_dz_given``).

    Goes down to operation ``stop``, the first with parameters; the gradients go into ``G``.
    """
    n = x.shape[0]
    empty = DA[0:0].reshape((0, 0))
    for i in range(ops.shape[0] - 1, stop - 1, -1):
        op, fop = ops[i], fops[i]
        width, kind = op[OP_OUT], op[OP_KIND]
        if i > 0:
            x_in = _rows(A, aoff[i - 1], n, ops[i - 1, OP_OUT])
            dx = _rows(DA, aoff[i - 1], n, ops[i - 1, OP_OUT]) if i > stop else empty
        else:
            x_in = x
            dx = empty
        a, da = _rows(A, aoff[i], n, width), _rows(DA, aoff[i], n, width)
        z, dz = _rows(Z, zoff[i], n, op[OP_ZW]), _rows(DZ, zoff[i], n, op[OP_ZW])
        if kind == DENSE or kind == MAXOUT:
            if kind == DENSE:
                if not (last_dz_given and i == ops.shape[0] - 1):
                    _activation_backward(op[OP_CODE], fop[0], z, a, da, dz)
            else:
                pieces = op[OP_CODE]
                for r in range(n):
                    for j in range(width):
                        found = False
                        for p in range(pieces):
                            q = j * pieces + p
                            if not found and z[r, q] == a[r, j]:
                                dz[r, q] = da[r, j]
                                found = True
                            else:
                                dz[r, q] = 0
            zw = op[OP_ZW]
            np.dot(x_in.T, dz, _rows(G, op[OP_W], x_in.shape[1], zw))
            if op[OP_B] >= 0:
                gb = G[op[OP_B]:op[OP_B] + zw]
                gb[:] = 0
                for r in range(n):
                    for j in range(zw):
                        gb[j] += dz[r, j]
            if dx.shape[0]:
                np.dot(dz, _rows(P, op[OP_W], x_in.shape[1], zw).T, dx)
        elif kind == BATCH_NORM:
            _batch_norm_backward(P, G, NT, op, z, da, dx)
        elif dx.shape[0]:
            if kind == ACTIVATION:
                if last_dz_given and i == ops.shape[0] - 1:
                    dx[:, :] = dz
                else:
                    _activation_backward(op[OP_CODE], fop[0], z, a, da, dx)
            else:  # DROPOUT
                rate, scale = fop[0], fop[1]
                first = u_rows * op[OP_X3] + u_start * op[OP_X1] + n * op[OP_X2]
                u = _rows(U, first, n, width)
                for r in range(n):
                    for j in range(width):
                        dx[r, j] = da[r, j] * scale if u[r, j] >= rate else 0


@njit(**_JIT)
def _loss(loss, logits, y, w, grad):
    """The batch's mean loss and, when ``grad`` has rows, its gradient with respect to ``logits``.

    The mean is Keras's 'sum_over_batch_size', weighted by ``w`` when it has rows. ``logits`` is the
    pre-activation of a sigmoid or softmax output for the cross-entropies (gradient ``y_hat - y``), the
    output itself for the squared error.
    """
    n, width = logits.shape
    weighted = w.shape[0] > 0
    wide_targets = y.shape[1] == width
    total = 0.0
    for r in range(n):
        weight = w[r] if weighted else 1
        sample = 0.0
        if loss == BINARY_CE or loss == MEAN_SQUARED:
            for j in range(width):
                target = y[r, j] if wide_targets else y[r, 0]
                z = logits[r, j]
                if loss == BINARY_CE:
                    sample += _softplus(z) - z * target
                    if grad.shape[0]:
                        grad[r, j] = (_expit(z) - target) * weight / (n * width)
                else:
                    sample += (z - target) * (z - target)
                    if grad.shape[0]:
                        grad[r, j] = 2 * (z - target) * weight / (n * width)
            sample /= width
        else:
            top = logits[r, 0]
            for j in range(1, width):
                top = max(top, logits[r, j])
            norm = 0.0
            for j in range(width):
                norm += np.exp(logits[r, j] - top)
            log_norm = top + np.log(norm)
            if loss == SPARSE_CE:
                label = int(y[r, 0])
                sample = log_norm - logits[r, label]
                if grad.shape[0]:
                    for j in range(width):
                        grad[r, j] = (np.exp(logits[r, j] - log_norm) - (1 if j == label else 0)) * weight / n
            else:
                mass = 0.0
                for j in range(width):
                    mass += y[r, j]
                    sample -= y[r, j] * (logits[r, j] - log_norm)
                if grad.shape[0]:
                    for j in range(width):
                        grad[r, j] = (np.exp(logits[r, j] - log_norm) * mass - y[r, j]) * weight / n
        total += sample * weight
    return total / n


@njit(**_JIT)
def _penalty(P, G, reg, with_grad):
    """L1/L2 penalties of the parameter ranges in ``reg`` (offset, size, l1, l2); their gradients added to G."""
    total = 0.0
    for k in range(reg.shape[0]):
        first, size, l1, l2 = int(reg[k, 0]), int(reg[k, 1]), reg[k, 2], reg[k, 3]
        for q in range(first, first + size):
            total += l1 * abs(P[q]) + l2 * P[q] * P[q]
            if with_grad:
                G[q] += P[q] * (2 * l2) + (l1 if P[q] > 0 else -l1 if P[q] < 0 else 0)
    return total


@njit(**_JIT)
def _first_trained(ops):
    """The first operation with parameters: back-propagation stops there (inputs need no gradient)."""
    for i in range(ops.shape[0]):
        if ops[i, OP_W] >= 0 or ops[i, OP_B] >= 0:
            return i
    return ops.shape[0]


@njit(**_JIT)
def train(X, Y, W, U, ops, fops, P, G, S, NT, Z, A, DZ, DA, zoff, aoff, loss, fused, reg, optimizer, hp, rates,
          batch, losses, predictions):
    """Train on consecutive mini-batches of ``batch`` rows of the chunk (the last may be shorter).

    One optimizer step each, at ``rates[step]``. Writes each batch's loss (with penalties) into ``losses``
    and, when it has rows, each row's output into ``predictions``.

    Parameters
    ----------
    X, Y : np.ndarray
        The chunk's inputs and targets, flat and row-major.
    W : np.ndarray
        A weight per row; empty for none.
    U : np.ndarray
        The dropout uniforms for the chunk.
    ops, fops : np.ndarray
        The operation tables (``OP_*`` columns) and their float parameters.
    P, G, S, NT : np.ndarray
        The parameters, their gradients, the optimizer's slots (one row each) and the non-trainable state,
        updated in place.
    Z, A, DZ, DA : np.ndarray
        The work areas, at the offsets ``zoff`` and ``aoff``.
    zoff, aoff : np.ndarray
        Each operation's offset in the work areas.
    loss : int
        The loss code (``BINARY_CE``, ``CATEGORICAL_CE``, ``SPARSE_CE``, ``MEAN_SQUARED``).
    fused : bool
        The loss works on the last operation's pre-activation.
    reg : np.ndarray
        The penalties, rows of (offset, size, l1, l2).
    optimizer : int
        The optimizer's code.
    hp : np.ndarray
        The optimizer's settings.
    rates : np.ndarray
        One learning rate per step; its size is the number of steps.
    batch : int
        The batch size.
    losses : np.ndarray
        Filled with each step's loss.
    predictions : np.ndarray
        Filled with the training-mode outputs when it has rows.
    """
    n_in, n_out = ops[0, OP_IN], ops[ops.shape[0] - 1, OP_OUT]
    rows = X.size // n_in
    y_width = Y.size // rows
    last = ops.shape[0] - 1
    stop = _first_trained(ops)
    start = 0
    for step in range(rates.size):
        n = min(batch, rows - start)
        x = _rows(X, start * n_in, n, n_in)
        y = _rows(Y, start * y_width, n, y_width)
        w = W[start:start + n] if W.size else W
        out = _forward(x, ops, fops, P, NT, U, start, rows, Z, A, zoff, aoff, True, False)
        if fused:
            logits, grad = _rows(Z, zoff[last], n, n_out), _rows(DZ, zoff[last], n, n_out)
        else:
            logits, grad = out, _rows(DA, aoff[last], n, n_out)
        value = _loss(loss, logits, y, w, grad)
        _backward(x, ops, fops, P, G, NT, U, start, rows, Z, A, DZ, DA, zoff, aoff, fused, stop)
        losses[step] = value + _penalty(P, G, reg, True)
        update(optimizer, hp, rates[step], P, G, S)
        if predictions.shape[0]:
            predictions[start:start + n] = out
        start += n


@njit(**_JIT)
def infer(X, Y, W, ops, fops, P, NT, Z, A, zoff, aoff, loss, fused, reg, batch, by_row, losses, predictions):
    """Inference on consecutive batches of ``batch`` rows.

    Writes the outputs into ``predictions`` (when it has rows) and, when ``Y`` has rows, each batch's loss
    with penalties into ``losses``.

    Parameters
    ----------
    X, Y, W : np.ndarray
        The inputs, the targets (empty: no losses) and a weight per row (empty: none), flat and row-major.
    ops, fops, P, NT, Z, A, zoff, aoff : np.ndarray
        As in ``train``.
    loss, fused, reg, batch
        As in ``train``.
    by_row : bool
        Sum each row's products in a fixed order, so that a row's output does not depend on the rows beside
        it.
    losses : np.ndarray
        Filled with each batch's loss when ``Y`` has rows.
    predictions : np.ndarray
        Filled with the outputs when it has rows.
    """
    n_in, n_out = ops[0, OP_IN], ops[ops.shape[0] - 1, OP_OUT]
    rows = X.size // n_in
    y_width = Y.size // rows
    last = ops.shape[0] - 1
    empty = Z[0:0].reshape((0, 0))
    penalty = _penalty(P, P, reg, False) if Y.size else 0.0
    start, step = 0, 0
    while start < rows:
        n = min(batch, rows - start)
        x = _rows(X, start * n_in, n, n_in)
        out = _forward(x, ops, fops, P, NT, Z[0:0], 0, 0, Z, A, zoff, aoff, False, by_row)
        if Y.size:
            logits = _rows(Z, zoff[last], n, n_out) if fused else out
            w = W[start:start + n] if W.size else W
            losses[step] = _loss(loss, logits, _rows(Y, start * y_width, n, y_width), w, empty) + penalty
        if predictions.shape[0]:
            predictions[start:start + n] = out
        start += n
        step += 1


@njit(parallel=True, **_JIT)
def train_stack(X, Y, U, ops, fops, P, G, S, NT, Z, A, DZ, DA, zoff, aoff, loss, fused, reg, optimizer, hp, rates,
                batch, losses):
    """``train`` for K networks of one shape on the same batches and uniforms, the members spread over the cores.

    Each member runs its whole chunk, so no step waits for another. No sample weights, no predictions.

    Parameters
    ----------
    X, Y, U : np.ndarray
        The inputs, targets and dropout uniforms, shared by every member.
    ops, fops, P, G, S, NT, Z, A, DZ, DA : np.ndarray
        Stacked: row ``k`` is member ``k``'s ``train`` argument.
    zoff, aoff : np.ndarray
        The work areas' offsets, shared.
    loss, fused : int, bool
        The loss, shared.
    reg, optimizer, hp, rates : np.ndarray
        Stacked, row ``k`` for member ``k``.
    batch : int
        The batch size.
    losses : np.ndarray
        Row ``k`` filled with member ``k``'s losses.
    """
    no_weights = X[0:0]
    no_predictions = Z[0, 0:0].reshape((0, 1))
    for k in prange(P.shape[0]):
        train(X, Y, no_weights, U, ops[k], fops[k], P[k], G[k], S[k], NT[k], Z[k], A[k], DZ[k], DA[k], zoff, aoff,
              loss, fused, reg[k], optimizer[k], hp[k], rates[k], batch, losses[k], no_predictions)


@njit(parallel=True, **_JIT)
def infer_stack(X, Y, ops, fops, P, NT, Z, A, zoff, aoff, loss, fused, reg, batch, losses):
    """``infer``'s losses for K networks of one shape on the same rows, the members spread over the cores.

    No sample weights, no predictions.

    Parameters
    ----------
    X, Y : np.ndarray
        The inputs and targets, shared by every member.
    ops, fops, P, NT, Z, A : np.ndarray
        Stacked: row ``k`` is member ``k``'s ``infer`` argument.
    zoff, aoff : np.ndarray
        The work areas' offsets, shared.
    loss, fused : int, bool
        The loss, shared.
    reg : np.ndarray
        Stacked penalties, row ``k`` for member ``k``.
    batch : int
        The batch size.
    losses : np.ndarray
        Row ``k`` filled with member ``k``'s losses.
    """
    no_weights = X[0:0]
    no_predictions = Z[0, 0:0].reshape((0, 1))
    for k in prange(P.shape[0]):
        infer(X, Y, no_weights, ops[k], fops[k], P[k], NT[k], Z[k], A[k], zoff, aoff, loss, fused, reg[k], batch,
              False, losses[k], no_predictions)
