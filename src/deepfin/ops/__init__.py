"""Keras 3's op namespace over deepfin tensors: ``from deepfin import ops`` in place of ``from keras import ops``.

The ops keep Keras's names, signatures, defaults and broadcasting, accept Tensors, NumPy arrays
and Python values, and return Tensors; the math ops are differentiable, so a loss, metric or
layer written with them trains. A float32 tensor combined with a Python number stays float32.

- ``core``: ``convert_to_tensor``, ``convert_to_numpy``, ``cast``, ``shape``;
- ``numeric``: arithmetic, elementwise math, reductions (``mean``, ``std``, ``max`` ...), selection
  (``where``, ``maximum``, ``clip``), ``matmul``, shape changes, comparisons, logic and creation;
- ``nn``: activations, ``one_hot`` and the elementwise cross-entropies.
"""

from deepfin.ops.core import *  # noqa: F403
from deepfin.ops.core import __all__ as _core
from deepfin.ops.nn import *  # noqa: F403
from deepfin.ops.nn import __all__ as _nn
from deepfin.ops.numeric import *  # noqa: F403
from deepfin.ops.numeric import __all__ as _numeric

__all__ = sorted([*_core, *_numeric, *_nn])
