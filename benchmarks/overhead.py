"""Per-call overhead of small calls: predict on one row, and one training step on a batch of 32.

The asset model of the seeds (44 -> 64 relu -> 64 relu -> 1 sigmoid, Adam). Peers: deepfin, PyTorch
(``model(x)`` under ``no_grad``; one optimizer step), and Keras 3 on PyTorch (``predict``,
``predict_on_batch``, ``train_on_batch``, ``fit``) where installed. Median microseconds per call.

    python benchmarks/overhead.py [--calls N]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import time

import numpy as np


def timed(fn, calls: int) -> float:
    fn()  # warm up: builds, first-call caches
    samples = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        samples.append((time.perf_counter() - start) / calls * 1e6)
    return statistics.median(samples)


def deepfin_calls(x1, xb, yb):
    import deepfin
    from deepfin import layers

    model = deepfin.Sequential([layers.Dense(64, activation="relu", input_dim=44), layers.Dense(64, activation="relu"),
                                layers.Dense(1, activation="sigmoid")])
    model.compile("adam", "binary_crossentropy")
    return keras_api_calls(model, x1, xb, yb)


def keras_api_calls(model, x1, xb, yb):
    """The four timed calls of a model with Keras's API (deepfin's or Keras's own)."""
    return {
        "predict(1 row)": lambda: model.predict(x1, verbose=0),
        "predict_on_batch(1 row)": lambda: model.predict_on_batch(x1),
        "train_on_batch(32 rows)": lambda: model.train_on_batch(xb, yb),
        "fit(32 rows, 1 epoch)": lambda: model.fit(xb, yb, batch_size=32, epochs=1, verbose=0),
    }


def torch_calls(x1, xb, yb):
    import torch

    torch.set_num_threads(os.cpu_count() or 1)
    model = torch.nn.Sequential(torch.nn.Linear(44, 64), torch.nn.ReLU(), torch.nn.Linear(64, 64), torch.nn.ReLU(),
                                torch.nn.Linear(64, 1))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.BCEWithLogitsLoss()

    def predict():
        with torch.no_grad():
            return torch.sigmoid(model(torch.from_numpy(x1))).numpy()

    def step():
        optimizer.zero_grad()
        loss = loss_fn(model(torch.from_numpy(xb)), torch.from_numpy(yb).reshape(-1, 1))
        loss.backward()
        optimizer.step()
        return loss.item()

    return {"predict(1 row)": predict, "predict_on_batch(1 row)": predict, "train_on_batch(32 rows)": step,
            "fit(32 rows, 1 epoch)": step}


def keras_calls(x1, xb, yb):
    os.environ.setdefault("KERAS_BACKEND", "torch")
    import keras

    model = keras.Sequential([keras.Input((44,)), keras.layers.Dense(64, activation="relu"),
                              keras.layers.Dense(64, activation="relu"), keras.layers.Dense(1, activation="sigmoid")])
    model.compile("adam", "binary_crossentropy")
    return keras_api_calls(model, x1, xb, yb)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    x1 = rng.standard_normal((1, 44), dtype=np.float32)
    xb = rng.standard_normal((32, 44), dtype=np.float32)
    yb = (xb[:, 0] > 0).astype(np.float32)
    peers = {"deepfin": deepfin_calls}
    if importlib.util.find_spec("torch"):
        peers["pytorch"] = torch_calls
    if importlib.util.find_spec("keras") and importlib.util.find_spec("torch"):
        peers["keras"] = keras_calls
    results = {name: {call: timed(fn, args.calls if name != "keras" else max(args.calls // 10, 5))
                      for call, fn in make(x1, xb, yb).items()} for name, make in peers.items()}
    calls = list(results["deepfin"])
    print(f"{'call':26s}" + "".join(f"{name:>14s}" for name in results) + "   (median us per call)")
    for call in calls:
        print(f"{call:26s}" + "".join(f"{results[name][call]:14.1f}" for name in results))


if __name__ == "__main__":
    main()
