"""Element-wise functions the kernels share, written so that LLVM vectorizes them in float32.

A call of libm's ``tanhf`` or ``expf`` per number does not vectorize: tanh is computed as Eigen computes it,
and the logistic sigmoid through it. In float64 they call NumPy's functions.
"""

from __future__ import annotations

import numpy as np
from numba import njit, types
from numba.extending import overload

_JIT = dict(cache=True, fastmath=False, error_model="numpy", nogil=True)

# tanh for float32 as Eigen (and so XLA, JAX's CPU backend) computes it: a rational function of odd and even
# polynomials on inputs clamped to [-7.9053, 7.9053], within 6 ulps of the exact value (mean 0.66; NumPy's: 1.4).
# It vectorizes, which a call of libm's tanhf per number does not: 3x faster for a stack of [64, 64] tanh nets.
_TANH_CLAMP = np.float32(7.90531110763549805)
_TANH_ODD = np.array([4.89352455891786e-03, 6.37261928875436e-04, 1.48572235717979e-05, 5.12229709037114e-08,
                      -8.60467152213735e-11, 2.00018790482477e-13, -2.76076847742355e-16], dtype=np.float32)
_TANH_EVEN = np.array([4.89352518554385e-03, 2.26843463243900e-03, 1.18534705686654e-04, 1.19825839466702e-06],
                      dtype=np.float32)


@njit(**_JIT)
def _tanh32(x):
    """tanh of one float32 by the rational function above (inlined where it is called)."""
    odd, even, clamp = _TANH_ODD, _TANH_EVEN, _TANH_CLAMP
    x = min(max(x, -clamp), clamp)
    x2 = x * x
    p = ((((((odd[6] * x2 + odd[5]) * x2 + odd[4]) * x2 + odd[3]) * x2 + odd[2]) * x2 + odd[1]) * x2 + odd[0]) * x
    q = ((even[3] * x2 + even[2]) * x2 + even[1]) * x2 + even[0]
    return x if abs(x) < 0.0004 else p / q


_HALF = np.float32(0.5)


@njit(**_JIT)
def tanh_vec(z, a):
    """``a = tanh(z)`` for vectors: NumPy's function for float64, the rational one above for float32.

    Parameters
    ----------
    z : np.ndarray
        The input vector (contiguous, so that the float32 loop vectorizes).
    a : np.ndarray
        The output vector, of ``z``'s length and dtype, written in place.
    """
    if z.itemsize != 4:
        for j in range(z.shape[0]):
            a[j] = np.tanh(z[j])
    else:
        for j in range(z.shape[0]):
            a[j] = _tanh32(z[j])


def tanh_scalar(x):
    """tanh of one number inside a kernel: the rational function above for a float32, NumPy's for a float64.

    Called from Python (outside a kernel) it is ``np.tanh``.

    Parameters
    ----------
    x : float
        The number.

    Returns
    -------
    float
        ``tanh(x)``, in ``x``'s type.
    """
    return np.tanh(x)


def sigmoid_scalar(x):
    """The logistic sigmoid of one number inside a kernel.

    ``1 / (1 + exp(-x))`` for a float64 (and when called from Python); for a float32,
    ``0.5 tanh(x / 2) + 0.5`` on the tanh above (within a few ulps, and vectorizing).

    Parameters
    ----------
    x : float
        The number.

    Returns
    -------
    float
        ``sigmoid(x)``.
    """
    return 1.0 / (1.0 + np.exp(-x))


@overload(tanh_scalar, jit_options=_JIT)
def _tanh_scalar(x):
    if x == types.float32:
        return lambda x: _tanh32(x)
    return lambda x: np.tanh(x)


@overload(sigmoid_scalar, jit_options=_JIT)
def _sigmoid_scalar(x):
    if x == types.float32:
        return lambda x: _tanh32(x * _HALF) * _HALF + _HALF
    return lambda x: 1.0 / (1.0 + np.exp(-x))


@njit(**_JIT)
def tanh_rows(z, a):
    """``a = tanh(z)`` row by row (``tanh_vec``).

    Parameters
    ----------
    z : np.ndarray
        The input, (rows, width).
    a : np.ndarray
        The output, of ``z``'s shape and dtype, written in place.
    """
    for r in range(z.shape[0]):
        tanh_vec(z[r], a[r])


@njit(**_JIT)
def flush_rows(a, floor):
    """Set the entries of ``a`` smaller than ``floor`` in magnitude to zero, in place.

    Gradients that fade through time reach the subnormal range, where every operation on them takes some
    hundred times longer: flushing them at ``subnormal_floor`` (far below anything that could move a weight)
    keeps the backward pass at full speed.

    Parameters
    ----------
    a : np.ndarray
        A 2-D array, changed in place.
    floor : float
        The magnitude below which entries become 0.
    """
    for r in range(a.shape[0]):
        row = a[r]
        for j in range(row.shape[0]):
            if abs(row[j]) < floor:
                row[j] = 0


def subnormal_floor(dtype) -> float:
    """The magnitude below which ``flush_rows`` zeroes numbers of ``dtype``.

    Parameters
    ----------
    dtype : np.dtype or str
        A float dtype.

    Returns
    -------
    float
        2**24 times the dtype's smallest normal number (2e-31 in float32, 4e-301 in float64).
    """
    return float(np.finfo(dtype).tiny) * 2.0 ** 24
