"""Sequence layers against PyTorch: one training epoch of Fischer and Krauss's network shape (a recurrent layer
of ``--units`` on sequences of ``--steps`` standardised returns, one feature a step, then a two-unit softmax,
categorical cross-entropy, RMSprop) on ``--rows`` synthetic sequences in batches of ``--batch``, for LSTM, GRU and
SimpleRNN: deepfin (its loops through time on the compiled kernels) and ``torch.nn.LSTM`` / ``GRU`` / ``RNN``,
both on every core, round-robin, median of ``--rounds`` after a warm-up epoch each. ``Conv1D`` is the same
shape with a causal convolution of ``--units`` filters of 5 taps and a global average over the steps in place
of the recurrent layer (``torch.nn.Conv1d`` with left padding).

    python benchmarks/recurrent.py [--rows 100000] [--steps 240] [--units 25] [--batch 512] [--rounds 3]
                                   [--layers LSTM,GRU,SimpleRNN,Conv1D]

Needs PyTorch (``pip install torch==2.13.0``, CPU). Prints seconds per epoch, the ratio to PyTorch and the peak
resident memory of the process.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time

import numpy as np
import torch

import deepfin
from deepfin import layers

TORCH_MODULES = {"LSTM": torch.nn.LSTM, "GRU": torch.nn.GRU, "SimpleRNN": torch.nn.RNN}


def deepfin_model(name: str, steps: int, units: int):
    deepfin.backend.set_seed(0)
    body = [layers.Conv1D(units, 5, padding="causal", activation="relu"), layers.GlobalAveragePooling1D()] \
        if name == "Conv1D" else [getattr(layers, name)(units)]
    model = deepfin.Sequential([deepfin.Input((steps, 1)), *body, layers.Dense(2, activation="softmax")])
    model.compile(optimizer=deepfin.optimizers.RMSprop(), loss="categorical_crossentropy")
    return model


class TorchModel(torch.nn.Module):
    def __init__(self, name: str, units: int):
        super().__init__()
        self.convolutional = name == "Conv1D"
        self.body = torch.nn.Conv1d(1, units, 5) if self.convolutional else TORCH_MODULES[name](1, units,
                                                                                                 batch_first=True)
        self.out = torch.nn.Linear(units, 2)

    def forward(self, x):
        if self.convolutional:  # causal: four zero steps before
            features = torch.relu(self.body(torch.nn.functional.pad(x.transpose(1, 2), (4, 0))))
            return self.out(features.mean(dim=2))
        sequence, _ = self.body(x)
        return self.out(sequence[:, -1])


def torch_epoch(model, optimizer, x: torch.Tensor, labels: torch.Tensor, batch: int) -> float:
    total = 0.0
    for start in range(0, len(x), batch):
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x[start:start + batch]), labels[start:start + batch])
        loss.backward()
        optimizer.step()
        total += float(loss.detach()) * len(x[start:start + batch])
    return total / len(x)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--steps", type=int, default=240)
    parser.add_argument("--units", type=int, default=25)
    parser.add_argument("--batch", type=int, default=512)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--layers", default="LSTM,GRU,SimpleRNN,Conv1D")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((args.rows, args.steps, 1), dtype=np.float32)
    labels = (x[:, -5:, 0].sum(axis=1) < 0).astype(np.int64)  # a short-term reversal to learn
    y = np.eye(2, dtype=np.float32)[labels]
    x_torch, labels_torch = torch.from_numpy(x), torch.from_numpy(labels)
    for name in args.layers.split(","):
        ours = deepfin_model(name, args.steps, args.units)
        torch.manual_seed(0)
        theirs = TorchModel(name, args.units)
        optimizer = torch.optim.RMSprop(theirs.parameters(), lr=0.001, alpha=0.9, eps=1e-7)
        times, losses = {"deepfin": [], "pytorch": []}, {}
        for round_ in range(args.rounds + 1):
            start = time.perf_counter()
            losses["deepfin"] = ours.fit(x, y, batch_size=args.batch, epochs=1, shuffle=False,
                                         verbose=0).history["loss"][-1]
            middle = time.perf_counter()
            losses["pytorch"] = torch_epoch(theirs, optimizer, x_torch, labels_torch, args.batch)
            end = time.perf_counter()
            if round_:  # the first round warms up (kernels loaded from Numba's cache)
                times["deepfin"].append(middle - start)
                times["pytorch"].append(end - middle)
        ours_s, theirs_s = statistics.median(times["deepfin"]), statistics.median(times["pytorch"])
        print(f"{name:9s} deepfin {ours_s:7.3f} s/epoch (loss {losses['deepfin']:.4f})  "
              f"pytorch {theirs_s:7.3f} s/epoch (loss {losses['pytorch']:.4f})  ratio {ours_s / theirs_s:.2f}")
    print(f"peak resident memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB "
          f"(torch threads {torch.get_num_threads()})")


if __name__ == "__main__":
    main()
