"""The seed's grid search side by side: seconds per model-epoch.

The seed's param_grid and two learning rates (``deepfin.finance.pipeline.config.DEFAULT_GRID``: 4 layer patterns x
RMSprop, Adam x relu, tanh x dropout 0.25, 0.5, 0.75 x learning rate 1e-3, 1e-4 = 96 candidates) on ``--rows`` x 44 rows
(the seed's asset model's data: ``benchmarks/peers.py``), 3 folds, batch 32, ``--epochs`` epochs, scored by ROC AUC:

  stacked     deepfin.tuning.GridSearchCV: the 24 candidates of each layer pattern train as one stack; the 12
              (fold, pattern) jobs run on ``--n-jobs`` processes (every core by default)
  sklearn-1   scikit-learn's GridSearchCV, the same estimator (deepfin's KerasClassifier), n_jobs=1
  sklearn-all the same with n_jobs=-1
  keras       Keras 3's ``keras.wrappers.SKLearnClassifier`` in scikit-learn's GridSearchCV, n_jobs=1

The peers but ``stacked`` run ``--sample`` candidates per layer pattern (so the mix of sizes is the grid's) for
``--peer-epochs`` epochs, and their seconds per model-epoch are extrapolated to the grid: an epoch costs the same
whichever it is. Run one benchmark at a time on a 2-core machine.

    python benchmarks/grid.py [--rows N] [--epochs E] [--peer-epochs E] [--sample S] [--n-jobs N] [--peers a,b]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import time

import numpy as np
from sklearn import model_selection
from sklearn.model_selection import KFold, ParameterGrid

from deepfin.finance.models.network import make_model
from deepfin.finance.pipeline.config import DEFAULT_GRID
from deepfin.tuning import GridSearchCV
from deepfin.wrappers.scikit_learn import KerasClassifier


def make_data(rows: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((rows, 44), dtype=np.float32)
    y = ((x[:, :5].sum(1) + np.sin(3 * x[:, 5]) + rng.standard_normal(rows)) > 0).astype(np.int64)
    return x, y


def sample_grid(per_pattern: int) -> list[dict]:
    """``per_pattern`` candidates of each layer pattern, spread over the grid's other settings."""
    candidates = list(ParameterGrid(DEFAULT_GRID))
    chosen = []
    for layers in DEFAULT_GRID["dense_layers"]:
        same = [c for c in candidates if c["dense_layers"] == layers]
        chosen += [same[i] for i in np.linspace(0, len(same) - 1, per_pattern).astype(int)]
    return [{k: [v] for k, v in c.items()} for c in chosen]


def deepfin_search(search_class, candidates, x, y, epochs: int, n_jobs: int) -> float:
    estimator = KerasClassifier(make_model, epochs=epochs, batch_size=32, random_state=0)
    started = time.perf_counter()
    search_class(estimator, candidates, scoring="roc_auc", cv=KFold(3), refit=False, n_jobs=n_jobs).fit(x, y)
    return time.perf_counter() - started


def keras_search(candidates, x, y, epochs: int) -> float:
    os.environ.setdefault("KERAS_BACKEND", "tensorflow" if importlib.util.find_spec("tensorflow") else "torch")
    import keras
    from keras.wrappers import SKLearnClassifier

    def build(X, y, dense_layers, activation, dropout, optimizer, learning_rate):
        model = keras.Sequential([keras.Input((X.shape[1],))])
        for units in dense_layers:
            model.add(keras.layers.Dense(units, activation=activation))
        model.add(keras.layers.Dropout(dropout))
        model.add(keras.layers.Dense(2, activation="softmax"))  # the wrapper one-hot encodes the labels
        model.compile(loss="categorical_crossentropy",
                      optimizer=keras.optimizers.get({"class_name": optimizer,
                                                      "config": {"learning_rate": learning_rate}}))
        return model

    grid = [{"model_kwargs": [c]} for c in ({k: v[0] for k, v in cand.items()} for cand in candidates)]
    estimator = SKLearnClassifier(build, fit_kwargs={"epochs": epochs, "batch_size": 32, "verbose": 0})
    started = time.perf_counter()
    model_selection.GridSearchCV(estimator, grid, scoring="roc_auc", cv=KFold(3), refit=False).fit(x, y)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--peer-epochs", type=int, default=2)
    parser.add_argument("--sample", type=int, default=1, help="candidates per layer pattern for the peers")
    parser.add_argument("--n-jobs", type=int, default=-1)
    parser.add_argument("--peers", default="stacked,sklearn-1,sklearn-all,keras")
    args = parser.parse_args()
    x, y = make_data(args.rows)
    full = len(ParameterGrid(DEFAULT_GRID))
    sample = sample_grid(args.sample)
    runs = {
        "stacked": (lambda: deepfin_search(GridSearchCV, DEFAULT_GRID, x, y, args.epochs, args.n_jobs),
                    full, args.epochs),
        "sklearn-1": (lambda: deepfin_search(model_selection.GridSearchCV, sample, x, y, args.peer_epochs, 1),
                      len(sample), args.peer_epochs),
        "sklearn-all": (lambda: deepfin_search(model_selection.GridSearchCV, sample_grid(2 * args.sample), x, y,
                                               args.peer_epochs, -1), 2 * len(sample), args.peer_epochs),
        "keras": (lambda: keras_search(sample, x, y, 1), len(sample), 1),
    }
    print(f"{full} candidates, 3 folds, {args.rows:,} x 44 rows (each fit trains on {2 * args.rows // 3:,}); "
          f"stacked: {args.epochs} epochs; the peers: samples of the grid, extrapolated", flush=True)
    results = {}
    for name in args.peers.split(","):
        run, candidates, epochs = runs[name]
        seconds = run()
        per_model_epoch = seconds / (candidates * 3 * epochs)
        results[name] = per_model_epoch
        print(f"{name:>12}: {seconds:8.1f} s for {candidates} candidates x 3 folds x {epochs} epochs -> "
              f"{per_model_epoch:.3f} s per model-epoch; the whole grid at {args.epochs} epochs: "
              f"{per_model_epoch * full * 3 * args.epochs / 60:.1f} min", flush=True)
    if "stacked" in results:
        for name, value in results.items():
            if name != "stacked":
                print(f"stacked is {value / results['stacked']:.1f}x faster than {name}")


if __name__ == "__main__":
    main()
