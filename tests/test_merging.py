"""Merge layers as Keras 3 has them: Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate and Dot
(forward equal to Keras's, gradients to PyTorch's), and the masks they pass on (models with padded sequences give
Keras's outputs with Keras's weights)."""

import os

import numpy as np
import pytest

import deepfin
from deepfin.engine.tensor import Tensor

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")
torch = pytest.importorskip("torch")

MERGES = {  # name: (keyword arguments, input shapes, PyTorch's result)
    "Add": ({}, [(4, 3)] * 3, lambda a, b, c: a + b + c),
    "Subtract": ({}, [(4, 3)] * 2, lambda a, b: a - b),
    "Multiply": ({}, [(4, 3)] * 3, lambda a, b, c: a * b * c),
    "Average": ({}, [(4, 2, 3)] * 3, lambda a, b, c: (a + b + c) / 3),
    "Maximum": ({}, [(4, 3)] * 3, lambda a, b, c: torch.maximum(torch.maximum(a, b), c)),
    "Minimum": ({}, [(4, 2, 3)] * 2, lambda a, b: torch.minimum(a, b)),
    "Concatenate_time": ({"axis": 1}, [(4, 2, 3), (4, 5, 3)], lambda a, b: torch.cat([a, b], dim=1)),
    "Dot_vectors": ({"axes": 1}, [(4, 3)] * 2, lambda a, b: (a * b).sum(1, keepdim=True)),
    "Dot_sequences": ({"axes": 2}, [(4, 2, 3), (4, 5, 3)], lambda a, b: torch.bmm(a, b.transpose(1, 2))),
    "Dot_pair_of_axes": ({"axes": (1, 2)}, [(4, 3, 2), (4, 5, 3)], lambda a, b: torch.bmm(a.transpose(1, 2),
                                                                                          b.transpose(1, 2))),
    "Dot_sequence_and_vector": ({"axes": (2, 1)}, [(4, 2, 3), (4, 3)],
                                lambda a, b: torch.bmm(a, b.unsqueeze(2)).squeeze(2)),
    "Dot_cosine": ({"axes": -1, "normalize": True}, [(4, 2, 3), (4, 5, 3)],
                   lambda a, b: torch.bmm(torch.nn.functional.normalize(a, dim=2),
                                          torch.nn.functional.normalize(b, dim=2).transpose(1, 2))),
}


def _layer(lib, case):
    kwargs, _, _ = MERGES[case]
    return getattr(lib.layers, case.split("_")[0])(**kwargs)


@pytest.mark.parametrize("case", sorted(MERGES))
def test_merges_equal_keras_forward_and_pytorch_gradients(case, rng):
    _, shapes, reference = MERGES[case]
    inputs = [rng.standard_normal(s) for s in shapes]
    theirs = _layer(keras, case)([i.astype(np.float32) for i in inputs])
    ours = _layer(deepfin, case)([i.astype(np.float32) for i in inputs])
    assert ours.shape == tuple(theirs.shape)
    np.testing.assert_allclose(ours.numpy(), keras.ops.convert_to_numpy(theirs), rtol=1e-5, atol=1e-6)

    ours_in = [Tensor(i, requires_grad=True) for i in inputs]
    theirs_in = [torch.tensor(i, requires_grad=True) for i in inputs]
    weights = rng.standard_normal(ours.shape)
    (_layer(deepfin, case)(ours_in) * weights).sum().backward()
    (reference(*theirs_in) * torch.tensor(weights)).sum().backward()
    for a, b in zip(ours_in, theirs_in):
        np.testing.assert_allclose(a.grad, b.grad.numpy(), rtol=1e-6, atol=1e-12)


def test_functional_forms_and_symbolic_shapes():
    a, b = deepfin.Input((2, 3)), deepfin.Input((5, 3))
    assert deepfin.layers.dot([a, b], axes=2).shape == (None, 2, 5)
    assert deepfin.layers.dot([deepfin.Input((3,)), deepfin.Input((3,))], axes=1).shape == (None, 1)
    for form in ("add", "subtract", "multiply", "average", "maximum", "minimum"):
        assert getattr(deepfin.layers, form)([a, deepfin.Input((2, 3))]).shape == (None, 2, 3)


@pytest.mark.parametrize("make, message", [
    (lambda: deepfin.layers.Dot(axes="last"), "axes as an integer or a pair"),
    (lambda: deepfin.layers.Dot(axes=2)([deepfin.Input((2, 3)), deepfin.Input((2, 4))]), "axes of one length"),
    (lambda: deepfin.layers.Dot(axes=0)([deepfin.Input((3,)), deepfin.Input((3,))]), "along the batch axis"),
    (lambda: deepfin.layers.Dot(axes=1)([deepfin.Input((3,)), deepfin.Input((3,)), deepfin.Input((3,))]),
     "exactly 2 inputs"),
])
def test_bad_dot_requests_are_named(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def _two_padded_sequences(rng):
    ids = np.array([[3, 1, 4, 0, 0], [5, 9, 2, 6, 5], [0, 0, 0, 7, 1], [2, 0, 8, 0, 4]])
    other = np.array([[1, 2, 0, 0, 0], [5, 9, 2, 6, 5], [0, 0, 3, 7, 1], [0, 0, 0, 0, 4]])
    return ids, other


def _merged_model(lib, merge: str):
    layers = lib.layers
    left, right = lib.Input((5,)), lib.Input((5,))
    a = layers.Embedding(10, 4, mask_zero=True)(left)
    b = layers.Embedding(10, 4, mask_zero=True)(right)
    if merge == "add":
        merged = layers.Add()([a, b])
    elif merge == "features":  # a masked and an unmasked input: every step is kept
        merged = layers.Concatenate()([a, layers.Dense(4)(layers.Reshape((5, 1))(right))])
    elif merge == "both_features":
        merged = layers.Concatenate()([a, b])
    else:  # "steps": the steps of both, each with its own mask
        merged = layers.Concatenate(axis=1)([a, b])
    sequence = layers.LSTM(3, return_sequences=True)(merged)
    return lib.Model([left, right], layers.Dense(1)(layers.GlobalAveragePooling1D()(sequence)))


@pytest.mark.parametrize("merge", ["add", "features", "both_features", "steps"])
def test_masks_pass_through_merges_as_in_keras(merge, rng):
    ids, other = _two_padded_sequences(rng)
    theirs, ours = _merged_model(keras, merge), _merged_model(deepfin, merge)
    ours.set_weights(theirs.get_weights())
    np.testing.assert_allclose(ours.predict([ids, other], verbose=0), theirs.predict([ids, other], verbose=0),
                               rtol=1e-5, atol=1e-6)


def test_merge_masks_combine_as_keras_combines_them():
    first, second = np.array([[True, False, False]]), np.array([[False, False, True]])
    x = np.zeros((1, 3, 2))
    np.testing.assert_array_equal(deepfin.layers.Add().compute_mask([x, x], [first, second]), [[True, False, True]])
    assert deepfin.layers.Add().compute_mask([x, x], [first, None]) is None
    np.testing.assert_array_equal(deepfin.layers.Concatenate(axis=1).compute_mask([x, x], [first, None]),
                                  [[True, False, False, True, True, True]])


def test_a_model_with_dot_and_average_saves_and_loads(tmp_path, rng):
    a, b = deepfin.Input((2, 3)), deepfin.Input((5, 3))
    scores = deepfin.layers.Dot(axes=(2, 2), normalize=True)([a, b])
    out = deepfin.layers.Dense(1)(deepfin.layers.Average()([scores, deepfin.layers.Maximum()([scores, scores])]))
    model = deepfin.Model([a, b], out)
    x = [rng.standard_normal((4, 2, 3)), rng.standard_normal((4, 5, 3))]
    model.save(tmp_path / "merged.keras")
    loaded = deepfin.models.load_model(tmp_path / "merged.keras")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)
    assert loaded.layers[2].get_config()["axes"] == (2, 2) and loaded.layers[2].normalize
