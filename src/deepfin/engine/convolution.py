"""Convolution and pooling over time as single graph nodes, channels last (batch, steps, channels).

A convolution lays the steps each tap sees side by side once (the columns of "im2col"), then is one matrix
product; pooling works tap by tap on strided views of the input.
"""

from __future__ import annotations

import contextlib

import numpy as np

from deepfin.engine.fused import FUSED_DENSE_ACTIVATIONS, activate_in_place, through_activation
from deepfin.engine.tensor import Tensor, as_tensor
from deepfin.kernels.threads import one_blas_thread

# products of fewer multiply-adds than this run on one BLAS thread (a second one costs more than it saves: the
# benchmark's causal Conv1D of 25 filters on 512 x 240 steps, 15 million, trained 35% faster on one)
_THREADED_PRODUCT = 100_000_000


def output_length(steps: int, size: int, stride: int, dilation: int, padding: str) -> tuple[int, int, int]:
    """Keras's output length of a sliding window, and the zero steps padding adds before and after.

    The window has ``size`` taps ``dilation`` apart and moves by ``stride`` over ``steps`` steps.

    Parameters
    ----------
    steps : int
        The input's length.
    size : int
        The number of taps.
    stride : int
        The step between windows.
    dilation : int
        The distance between taps.
    padding : {'valid', 'same', 'causal'}
        ``'valid'``: no padding; ``'causal'``: ``dilation * (size - 1)`` zeros before;
        ``'same'``: ``ceil(steps / stride)`` outputs, the zeros split before and after.

    Returns
    -------
    length : int
        The output length (0 when a ``'valid'`` window does not fit).
    before, after : int
        The zero steps added before and after the input.

    Examples
    --------
    >>> from deepfin.engine.convolution import output_length
    >>> output_length(10, 3, 1, 1, "valid"), output_length(10, 3, 1, 1, "causal")
    ((8, 0, 0), (10, 2, 0))
    """
    span = dilation * (size - 1) + 1
    if padding == "valid":
        return max((steps - span) // stride + 1, 0), 0, 0
    if padding == "causal":
        return (steps - 1) // stride + 1, span - 1, 0
    length = -(-steps // stride)
    total = max((length - 1) * stride + span - steps, 0)
    return length, total // 2, total - total // 2


def _tap(length: int, stride: int, start: int) -> slice:
    return slice(start, start + stride * (length - 1) + 1, stride)


FUSED_ACTIVATIONS = FUSED_DENSE_ACTIVATIONS


def conv1d(x, kernel: Tensor, bias: Tensor | None, stride: int = 1, dilation: int = 1,
           padding: str = "valid", activation: str | None = None) -> Tensor:
    """A 1-D convolution over time with its bias and activation, as one graph node.

    The steps each tap sees are laid side by side (batch x length, taps x in) once, so the forward pass and
    each gradient are one matrix product. The activation is applied in place (one array fewer a step).

    Parameters
    ----------
    x : Tensor or array_like
        The inputs, (batch, steps, in).
    kernel : Tensor
        The filters, (taps, in, out).
    bias : Tensor or None
        The bias, (out,); ``None`` for none.
    stride : int, default 1
        The step between windows.
    dilation : int, default 1
        The distance between taps.
    padding : {'valid', 'same', 'causal'}, default 'valid'
        As ``output_length`` reads it.
    activation : {None, 'linear', 'relu', 'tanh'}, default None
        One of ``FUSED_ACTIVATIONS``.

    Returns
    -------
    Tensor
        The outputs, (batch, length, out), recorded for backpropagation as one ``conv1d`` node.

    Raises
    ------
    ValueError
        If ``activation`` is not a fused one, or a ``'valid'`` window does not fit in the steps.
    """
    if activation not in FUSED_ACTIVATIONS:
        raise ValueError(f"conv1d() fuses only {FUSED_ACTIVATIONS}. Received activation={activation!r}.")
    x = as_tensor(x)
    size, channels, filters = kernel.shape
    length, before, after = output_length(x.shape[1], size, stride, dilation, padding)
    if length < 1:
        raise ValueError(f"A window of {size} taps with dilation {dilation} does not fit in {x.shape[1]} steps "
                         "with padding='valid'.")
    padded = np.pad(x.data, ((0, 0), (before, after), (0, 0))) if before or after else x.data
    batch = x.shape[0]
    columns = np.concatenate([padded[:, _tap(length, stride, i * dilation)] for i in range(size)], axis=2)
    columns = columns.reshape(batch * length, size * channels)
    weights = kernel.data.reshape(size * channels, filters)
    threads = one_blas_thread() if columns.size * filters < _THREADED_PRODUCT else contextlib.nullcontext()
    with threads:
        out = (columns @ weights).reshape(batch, length, filters)
    if bias is not None:
        out += bias.data
    activate_in_place(out, activation)

    def backward(g):
        g = through_activation(g, out, activation)
        flat_g = g.reshape(-1, filters)
        with one_blas_thread() if columns.size * filters < _THREADED_PRODUCT else contextlib.nullcontext():
            dkernel = (columns.T @ flat_g).reshape(kernel.shape)
            dcolumns = (flat_g @ weights.T).reshape(batch, length, size, channels) if x.requires_grad else None
        dx = None
        if x.requires_grad:
            dpadded = np.zeros_like(padded)
            for i in range(size):
                dpadded[:, _tap(length, stride, i * dilation)] += dcolumns[:, :, i]
            dx = dpadded[:, before:before + x.shape[1]]
        return (dx, dkernel) if bias is None else (dx, dkernel, flat_g.sum(axis=0))

    return Tensor.from_op(out, (x, kernel) if bias is None else (x, kernel, bias), backward, op="conv1d",
                          attributes={"stride": stride, "dilation": dilation, "padding": padding,
                                      "activation": activation})


def pool1d(x, size: int, stride: int, padding: str, kind: str) -> Tensor:
    """Max or mean of windows of ``size`` steps moved by ``stride``, as one graph node.

    With ``padding='same'`` the padded steps take no part (a mean divides by the steps the window
    covers). A max pool's gradient goes to the first maximum of each window only.

    Parameters
    ----------
    x : Tensor or array_like
        The inputs, (batch, steps, channels).
    size : int
        The window's length in steps.
    stride : int
        The step between windows.
    padding : {'valid', 'same'}
        As ``output_length`` reads it.
    kind : {'max', 'average'}
        The pooling.

    Returns
    -------
    Tensor
        The pooled values, (batch, length, channels), in ``x``'s dtype, recorded for backpropagation.

    Raises
    ------
    ValueError
        If a ``'valid'`` window does not fit in the steps.
    """
    x = as_tensor(x)
    length, before, after = output_length(x.shape[1], size, stride, 1, padding)
    if length < 1:
        raise ValueError(f"A pool of {size} steps does not fit in {x.shape[1]} steps with padding='valid'.")
    fill = -np.inf if kind == "max" else 0.0
    padded = np.pad(x.data, ((0, 0), (before, after), (0, 0)), constant_values=fill) if before or after else x.data
    windows = [padded[:, _tap(length, stride, i)] for i in range(size)]
    if kind == "max":
        out = np.maximum.reduce(windows)
        chosen = [w == out for w in windows]
        first = np.zeros(out.shape, bool)
        for i in range(size):  # the gradient goes to the first maximum of each window only
            chosen[i] &= ~first
            first |= chosen[i]
    else:
        valid = np.ones((1, padded.shape[1], 1))
        if before or after:
            valid[:, :before] = valid[:, padded.shape[1] - after:] = 0
        counts = sum(valid[:, _tap(length, stride, i)] for i in range(size))
        out = sum(windows) / counts

    def backward(g):
        dpadded = np.zeros(padded.shape, g.dtype)
        for i in range(size):
            taps = _tap(length, stride, i)
            dpadded[:, taps] += g * chosen[i] if kind == "max" else g / counts
        return (dpadded[:, before:before + x.shape[1]],)

    return Tensor.from_op(out.astype(x.data.dtype, copy=False), (x,), backward, op="pool1d")
