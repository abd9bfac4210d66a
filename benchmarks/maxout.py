"""The Krauss, Do & Huck network (``deepfin.finance.models.families.krauss_network``: dropout 0.1 on 31 inputs, maxout
31-10-5 with two pieces, dropout 0.5, L1 1e-5, a two-unit softmax, Adadelta) on ``--rows`` synthetic rows, batch
32: seconds per epoch on the compiled kernels and on the eager engine, round-robin, median of ``--rounds`` after a
warm-up epoch each.

    python benchmarks/maxout.py [--rows 368000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from deepfin import backend
from deepfin.finance.models.families import krauss_network


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=368_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((args.rows, 31), dtype=np.float32)
    y = (x[:, :3].sum(axis=1) + rng.standard_normal(args.rows) > 0).astype(np.int64)
    models = {}
    for path in ("compiled", "eager"):
        backend.set_seed(0)
        models[path] = krauss_network(meta={"n_features_in_": 31})
    times, losses = {path: [] for path in models}, {}
    for round_ in range(args.rounds + 1):
        for path, model in models.items():
            backend.set_compiled(path == "compiled")
            start = time.perf_counter()
            losses[path] = model.fit(x, y, batch_size=32, epochs=1, verbose=0).history["loss"][-1]
            if round_:  # the first round warms up (kernels loaded from Numba's cache)
                times[path].append(time.perf_counter() - start)
    backend.set_compiled(True)
    for path, seconds in times.items():
        print(f"{path:9s} {statistics.median(seconds):6.3f} s/epoch (min {min(seconds):.3f}), loss {losses[path]:.4f}")


if __name__ == "__main__":
    main()
