"""A custom layer and a custom loss, as Keras 3 writes them: trained, saved, and loaded back.

``ScaledTanh`` learns one scale per unit (``add_weight`` in ``build``, ``deepfin.ops`` in ``call``); the loss
is an asymmetric squared error, heavier on under-prediction. The model trains, saves to one file and loads
with ``custom_objects``; the loaded model predicts exactly what the trained one did.

    python examples/custom_layer.py [--epochs 20] [--out model.keras]
"""

import argparse
import tempfile
from pathlib import Path

import numpy as np

from deepfin import layers, models, ops


class ScaledTanh(layers.Layer):
    """tanh(x) times a trained scale per unit."""

    def build(self, input_shape):
        self.scale = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="scale")

    def call(self, x):
        return ops.tanh(x) * self.scale


def asymmetric_mse(y_true, y_pred):
    """Squared error, twice as heavy where the prediction falls short of the target."""
    error = y_true - y_pred
    return ops.mean(ops.where(error > 0, 2.0 * error ** 2, error ** 2), axis=-1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--out", default=None, help="where to save the model (default: a temporary folder)")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2000, 4)).astype("float32")
    y = (np.sin(x[:, :1]) + 0.5 * x[:, 1:2] + 0.1 * rng.standard_normal((2000, 1))).astype("float32")

    model = models.Sequential([layers.Input((4,)), layers.Dense(16), ScaledTanh(), layers.Dense(1)])
    model.compile(optimizer="adam", loss=asymmetric_mse)
    history = model.fit(x, y, epochs=args.epochs, batch_size=64, verbose=0)
    print(f"loss {history.history['loss'][0]:.4f} -> {history.history['loss'][-1]:.4f}")

    with tempfile.TemporaryDirectory() as folder:
        path = Path(args.out or Path(folder) / "model.keras")
        model.save(path)
        loaded = models.load_model(path, custom_objects={"ScaledTanh": ScaledTanh, "asymmetric_mse": asymmetric_mse})
        same = np.array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
        print(f"saved to {path.name} and loaded: the same predictions: {same}")


if __name__ == "__main__":
    main()
