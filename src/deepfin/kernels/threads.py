"""BLAS threads for the kernels: one thread for small products.

The kernels' products are small (a batch of a small network, one step of a recurrent layer), over in
microseconds, far too soon for a second BLAS thread to help, and idle BLAS threads that spin while waiting
for work (OpenBLAS's do) take the core from the one that works.
"""

from __future__ import annotations

import contextlib

import scipy.linalg  # noqa: F401  (loads the BLAS that Numba's np.dot calls, for the controller below)
from threadpoolctl import ThreadpoolController

_BLAS_LIBRARIES = [library for library in ThreadpoolController().lib_controllers if library.user_api == "blas"]


@contextlib.contextmanager
def one_blas_thread():
    """Run the block with every BLAS library on one thread, then restore each library's thread count.

    Each library is set directly: a few microseconds, where ``threadpoolctl.threadpool_limits`` takes
    hundreds and a controller's ``limit`` about 13.

    Yields
    ------
    None
    """
    before = [library.get_num_threads() for library in _BLAS_LIBRARIES]
    for library in _BLAS_LIBRARIES:
        library.set_num_threads(1)
    try:
        yield
    finally:
        for library, threads in zip(_BLAS_LIBRARIES, before):
            library.set_num_threads(threads)
