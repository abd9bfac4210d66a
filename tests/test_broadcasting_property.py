"""Property: for any broadcastable shapes, binary-op gradients equal PyTorch's, in the operands' shapes."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

from tests.oracle import deepfin_value_and_grads, rel_error, torch_value_and_grads

torch = pytest.importorskip("torch")

OPS = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "mixed": lambda a, b: (a * b + a) / (b * b + 1.0),
}


@settings(max_examples=60, deadline=None)
@given(shapes=mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, max_side=4),
       op=st.sampled_from(sorted(OPS)), seed=st.integers(0, 2**16))
def test_broadcast_gradients_match_torch(shapes, op, seed):
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(s) + (3.0 if op == "div" and i == 1 else 0.0)
              for i, s in enumerate(shapes.input_shapes)]
    upstream = rng.standard_normal(shapes.result_shape)
    value, grads = deepfin_value_and_grads(OPS[op], arrays, upstream)
    t_value, t_grads = torch_value_and_grads(OPS[op], arrays, upstream)
    assert value.shape == shapes.result_shape
    assert rel_error(value, t_value) < 1e-12
    for a, g, tg in zip(arrays, grads, t_grads):
        assert g.shape == a.shape
        assert rel_error(g, tg) < 1e-10
