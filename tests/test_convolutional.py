"""Conv1D and the 1-D pooling layers: forward and gradients equal PyTorch's (float64), the forward equals real
Keras 3's with Keras's weights for every padding (float32), and the layers build, count and save as Keras's."""

import os

import numpy as np
import pytest

import deepfin
from deepfin.engine.tensor import Tensor
from deepfin.layers import AveragePooling1D, Conv1D, Dense, GlobalAveragePooling1D, GlobalMaxPooling1D, MaxPooling1D

torch = pytest.importorskip("torch")
F = torch.nn.functional

CONV_CASES = [dict(kernel_size=3), dict(kernel_size=3, strides=2), dict(kernel_size=2, dilation_rate=3),
              dict(kernel_size=4, padding="causal", dilation_rate=2), dict(kernel_size=1), dict(kernel_size=5,
                                                                                               strides=3)]


@pytest.mark.parametrize("options", CONV_CASES, ids=[str(sorted(c.items())) for c in CONV_CASES])
def test_conv1d_forward_and_gradients_equal_pytorch(options, rng):
    layer = Conv1D(4, bias_initializer="random_normal", dtype="float64", **options)
    x = rng.standard_normal((3, 17, 5))
    inputs = Tensor(x, requires_grad=True)
    out = layer(inputs)
    weights = rng.standard_normal(out.shape)
    (out * weights).sum().backward()

    x_t = torch.tensor(x, requires_grad=True)
    kernel_t = torch.tensor(layer.kernel.numpy().transpose(2, 1, 0).copy(), requires_grad=True)
    bias_t = torch.tensor(layer.bias.numpy(), requires_grad=True)
    dilation = options.get("dilation_rate", 1)
    left = dilation * (options["kernel_size"] - 1) if options.get("padding") == "causal" else 0
    out_t = F.conv1d(F.pad(x_t.transpose(1, 2), (left, 0)), kernel_t, bias_t, stride=options.get("strides", 1),
                     dilation=dilation).transpose(1, 2)
    (out_t * torch.from_numpy(weights)).sum().backward()
    np.testing.assert_allclose(out.numpy(), out_t.detach().numpy(), rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(inputs.grad, x_t.grad.numpy(), rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(layer.kernel.grad, kernel_t.grad.numpy().transpose(2, 1, 0), rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(layer.bias.grad, bias_t.grad.numpy(), rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize("kind", ["max", "average"])
@pytest.mark.parametrize("size, stride", [(2, None), (3, 1), (3, 2), (4, 3)])
def test_pooling_forward_and_gradients_equal_pytorch(kind, size, stride, rng):
    layer = (MaxPooling1D if kind == "max" else AveragePooling1D)(size, stride, dtype="float64")
    x = rng.standard_normal((2, 13, 3))
    inputs = Tensor(x, requires_grad=True)
    out = layer(inputs)
    weights = rng.standard_normal(out.shape)
    (out * weights).sum().backward()
    x_t = torch.tensor(x, requires_grad=True)
    pool = F.max_pool1d if kind == "max" else F.avg_pool1d
    out_t = pool(x_t.transpose(1, 2), size, stride or size).transpose(1, 2)
    (out_t * torch.from_numpy(weights)).sum().backward()
    np.testing.assert_allclose(out.numpy(), out_t.detach().numpy(), rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(inputs.grad, x_t.grad.numpy(), rtol=1e-6, atol=1e-12)


KERAS_CASES = [("Conv1D", dict(filters=4, kernel_size=3, padding=p, strides=s))
               for p in ("valid", "same", "causal") for s in (1, 2) if not (p == "causal" and s == 2)] + \
              [("Conv1D", dict(filters=2, kernel_size=3, padding="same", dilation_rate=2, activation="relu"))] + \
              [(name, dict(pool_size=3, strides=s, padding=p)) for name in ("MaxPooling1D", "AveragePooling1D")
               for p in ("valid", "same") for s in (1, 2)] + \
              [(name, dict(keepdims=k)) for name in ("GlobalAveragePooling1D", "GlobalMaxPooling1D")
               for k in (False, True)]


@pytest.mark.parametrize("name, options", KERAS_CASES, ids=[f"{n}-{sorted(o.items())}" for n, o in KERAS_CASES])
def test_forward_equals_keras(name, options, rng):
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    x = rng.standard_normal((3, 11, 5)).astype(np.float32)
    kwargs = {**options, "bias_initializer": "random_normal"} if name == "Conv1D" else options
    theirs = getattr(keras.layers, name)(**kwargs)
    expected = keras.ops.convert_to_numpy(theirs(x))
    ours = getattr(deepfin.layers, name)(**kwargs)
    ours.build((None, 11, 5))
    ours.set_weights(theirs.get_weights())
    np.testing.assert_allclose(ours(x).numpy(), expected, rtol=1e-5, atol=1e-6)
    assert ours.compute_output_shape((None, 11, 5)) == tuple(theirs.compute_output_shape((None, 11, 5)))


def test_a_causal_convolution_does_not_see_the_future(rng):
    layer = Conv1D(3, 4, padding="causal", dilation_rate=2)
    x = rng.standard_normal((1, 20, 2)).astype(np.float32)
    changed = x.copy()
    changed[:, 12:] += 10.0
    np.testing.assert_array_equal(layer(x).numpy()[:, :12], layer(changed).numpy()[:, :12])
    assert not np.allclose(layer(x).numpy()[:, 12:], layer(changed).numpy()[:, 12:])


def test_a_conv1d_model_trains_counts_and_saves(tmp_path, rng):
    x = rng.standard_normal((256, 30, 1)).astype(np.float32)
    y = (x[:, -3:, 0].sum(axis=1) > 0).astype(np.float32)
    model = deepfin.Sequential([deepfin.Input((30, 1)), Conv1D(8, 3, padding="causal", activation="relu"),
                                MaxPooling1D(2), Conv1D(8, 3, activation="relu"), GlobalMaxPooling1D(),
                                Dense(1, activation="sigmoid")])
    assert model.count_params() == (3 * 1 * 8 + 8) + (3 * 8 * 8 + 8) + (8 + 1)
    assert model.output_shape == (None, 1)
    model.compile(optimizer=deepfin.optimizers.Adam(0.01), loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=15, batch_size=32, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    path = tmp_path / "conv.keras"
    model.save(path)
    loaded = deepfin.models.load_model(path)
    np.testing.assert_allclose(loaded.predict(x[:16], verbose=0), model.predict(x[:16], verbose=0), rtol=1e-6)
    assert GlobalAveragePooling1D()(x).shape == (256, 1)


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="padding"):
        Conv1D(2, 3, padding="full")
    with pytest.raises(ValueError, match="channels_last"):
        Conv1D(2, 3, data_format="channels_first")
    with pytest.raises(ValueError, match="kernel_size"):
        Conv1D(2, 0)
    with pytest.raises(ValueError, match="does not fit"):
        Conv1D(2, 5)(np.zeros((1, 3, 1), np.float32))
    with pytest.raises(ValueError, match=r"\(batch, steps, channels\)"):
        MaxPooling1D()(np.zeros((2, 3), np.float32))
