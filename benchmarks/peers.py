"""deepfin against its peers, side by side in one run: seconds per training epoch.

Tasks (the seeds' models):
  asset  44 -> 64 relu -> 64 relu -> Dropout(0.5) -> 1 sigmoid, Adam, binary CE, batch 32, 200k rows
  mnist  784 -> 512 relu -> 10 softmax, RMSprop, sparse CE, batch 128, 60k rows

Peers: a lean hand-fused NumPy loop (the yardstick of shared/bench/peers_bench.py, with Keras's
optimizer formulas), PyTorch without a DataLoader, scikit-learn's MLPClassifier, and Keras where
installed (on TensorFlow if present, else on PyTorch, which `.[dev]` installs). Each peer trains
one epoch per round, peers interleaved, ``--rounds`` rounds; the median is reported with its
ratio to the lean loop.

    python benchmarks/peers.py [--rows-asset N] [--rows-mnist N] [--rounds R] [--peers a,b]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import time

import numpy as np

TASKS = {
    "asset": dict(sizes=[44, 64, 64, 1], batch=32, optimizer="adam", dropout=0.5, rows=200_000),
    "mnist": dict(sizes=[784, 512, 10], batch=128, optimizer="rmsprop", dropout=0.0, rows=60_000),
}


def make_data(task: dict, rows: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    n_in, n_out = task["sizes"][0], task["sizes"][-1]
    if n_out == 1:
        x = rng.standard_normal((rows, n_in), dtype=np.float32)
        y = ((x[:, :5].sum(1) + np.sin(3 * x[:, 5]) + rng.standard_normal(rows)) > 0).astype(np.float32)
    else:
        x = rng.random((rows, n_in), dtype=np.float32)
        y = rng.integers(0, n_out, rows)
    return x, y


# ----------------------------------------------------------------------------- peers
def lean_numpy(task, x, y):
    """Hand-fused forward/backward, float32, in-place Adam/RMSprop: the floor to compare with."""
    rng = np.random.default_rng(1)
    sizes, batch, rate = task["sizes"], task["batch"], task["dropout"]
    weights = [(rng.standard_normal((a, b)) * np.sqrt(2 / a)).astype(np.float32)
               for a, b in zip(sizes[:-1], sizes[1:])]
    biases = [np.zeros(b, np.float32) for b in sizes[1:]]
    params = weights + biases
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    lr, b1, b2, eps, step = 1e-3, 0.9, 0.999, 1e-7, 0
    multiclass = sizes[-1] > 1
    targets = np.eye(sizes[-1], dtype=np.float32)[y] if multiclass else y.reshape(-1, 1)
    depth = len(weights)
    order = rng.permutation(len(x))
    for start in range(0, len(x), batch):
        j = order[start:start + batch]
        xb, yb = x[j], targets[j]
        acts, mask, h = [xb], None, xb
        for layer in range(depth):
            z = h @ weights[layer]
            z += biases[layer]
            if layer < depth - 1:
                np.maximum(z, 0, out=z)
                if rate and layer == depth - 2:
                    mask = (rng.random(z.shape, dtype=np.float32) >= rate).astype(np.float32) / (1 - rate)
                    z *= mask
            h = z
            acts.append(h)
        if multiclass:
            e = np.exp(h - h.max(1, keepdims=True))
            p = e / e.sum(1, keepdims=True)
        else:
            p = 1 / (1 + np.exp(-h))
        d = (p - yb) / len(j)
        grads_w, grads_b = [None] * depth, [None] * depth
        for layer in range(depth - 1, -1, -1):
            grads_w[layer] = acts[layer].T @ d
            grads_b[layer] = d.sum(0)
            if layer:
                d = d @ weights[layer].T
                if rate and layer == depth - 1:
                    d *= mask
                d *= acts[layer] > 0
        step += 1
        grads = grads_w + grads_b
        if task["optimizer"] == "adam":
            alpha = lr * (1 - b2**step) ** 0.5 / (1 - b1**step)
            for p_, g, m_, v_ in zip(params, grads, m, v):
                m_ += (g - m_) * (1 - b1)
                v_ += (g * g - v_) * (1 - b2)
                p_ -= alpha * m_ / (np.sqrt(v_) + eps)
        else:
            for p_, g, v_ in zip(params, grads, v):
                v_ *= 0.9
                v_ += 0.1 * g * g
                p_ -= lr * g / np.sqrt(v_ + eps)


def deepfin_fit(task, x, y):
    import deepfin
    from deepfin import layers

    sizes = task["sizes"]
    model = deepfin.Sequential([layers.Input((sizes[0],))])
    for i, units in enumerate(sizes[1:-1]):
        model.add(layers.Dense(units, activation="relu"))
        if task["dropout"] and i == len(sizes) - 3:
            model.add(layers.Dropout(task["dropout"]))
    model.add(layers.Dense(sizes[-1], activation="sigmoid" if sizes[-1] == 1 else "softmax"))
    loss = "binary_crossentropy" if sizes[-1] == 1 else "sparse_categorical_crossentropy"
    model.compile(optimizer=task["optimizer"], loss=loss)
    model.fit(x, y, batch_size=task["batch"], epochs=1, verbose=0)


def torch_lean(task, x, y):
    import torch
    from torch import nn

    torch.set_num_threads(max(1, torch.get_num_threads()))
    sizes, modules = task["sizes"], []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        modules.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            modules.append(nn.ReLU())
            if task["dropout"] and i == len(sizes) - 3:
                modules.append(nn.Dropout(task["dropout"]))
    net = nn.Sequential(*modules)
    optimizer = (torch.optim.Adam if task["optimizer"] == "adam" else torch.optim.RMSprop)(
        net.parameters(), lr=1e-3)
    loss_fn = nn.BCEWithLogitsLoss() if sizes[-1] == 1 else nn.CrossEntropyLoss()
    xt = torch.from_numpy(x)
    yt = torch.from_numpy(y).view(-1, 1) if sizes[-1] == 1 else torch.from_numpy(y).long()
    order = torch.randperm(len(x))
    for start in range(0, len(x), task["batch"]):
        j = order[start:start + task["batch"]]
        optimizer.zero_grad(set_to_none=True)
        loss_fn(net(xt[j]), yt[j]).backward()
        optimizer.step()


def sklearn_mlp(task, x, y):
    import warnings

    from sklearn.neural_network import MLPClassifier

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        MLPClassifier(hidden_layer_sizes=tuple(task["sizes"][1:-1]), batch_size=task["batch"],
                      max_iter=1, solver="adam", tol=0, n_iter_no_change=10**9).fit(x, y)


def keras_fit(task, x, y):
    os.environ.setdefault("KERAS_BACKEND", "tensorflow" if importlib.util.find_spec("tensorflow") else "torch")
    import keras

    sizes = task["sizes"]
    model = keras.Sequential([keras.Input((sizes[0],))])
    for i, units in enumerate(sizes[1:-1]):
        model.add(keras.layers.Dense(units, activation="relu"))
        if task["dropout"] and i == len(sizes) - 3:
            model.add(keras.layers.Dropout(task["dropout"]))
    model.add(keras.layers.Dense(sizes[-1], activation="sigmoid" if sizes[-1] == 1 else "softmax"))
    loss = "binary_crossentropy" if sizes[-1] == 1 else "sparse_categorical_crossentropy"
    model.compile(optimizer=task["optimizer"], loss=loss)
    model.fit(x, y, batch_size=task["batch"], epochs=1, verbose=0)


PEERS = {"lean_numpy": (lean_numpy, None), "deepfin": (deepfin_fit, "deepfin"),
         "torch": (torch_lean, "torch"), "sklearn_mlp": (sklearn_mlp, "sklearn"),
         "keras": (keras_fit, "keras")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows-asset", type=int, default=TASKS["asset"]["rows"])
    parser.add_argument("--rows-mnist", type=int, default=TASKS["mnist"]["rows"])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--peers", default=",".join(PEERS))
    parser.add_argument("--tasks", default=",".join(TASKS))
    args = parser.parse_args()
    rows = {"asset": args.rows_asset, "mnist": args.rows_mnist}
    peers = [p for p in args.peers.split(",")
             if PEERS[p][1] is None or importlib.util.find_spec(PEERS[p][1]) is not None]
    for name in args.tasks.split(","):
        task = TASKS[name]
        x, y = make_data(task, rows[name])
        times: dict[str, list[float]] = {p: [] for p in peers}
        for peer in peers:  # warm-up: imports, first-call costs
            PEERS[peer][0](task, x[:2048], y[:2048])
        for _ in range(args.rounds):
            for peer in peers:
                started = time.perf_counter()
                PEERS[peer][0](task, x, y)
                times[peer].append(time.perf_counter() - started)
        lean = statistics.median(times["lean_numpy"]) if "lean_numpy" in times else None
        print(f"\n{name}: sizes {task['sizes']}, batch {task['batch']}, {task['optimizer']}, "
              f"{rows[name]} rows, median of {args.rounds} rounds")
        for peer in peers:
            median = statistics.median(times[peer])
            ratio = f"{median / lean:6.2f}x lean" if lean else ""
            print(f"  {peer:12s} {median:8.3f} s/epoch  (min {min(times[peer]):.3f})  {ratio}", flush=True)


if __name__ == "__main__":
    main()
