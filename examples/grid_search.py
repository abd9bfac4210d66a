"""A grid search over networks, as scikit-learn users write it, with the candidates trained as stacks.

Jansen (2020)'s ``param_grid`` on a synthetic classification task: ``deepfin.tuning.GridSearchCV`` has
scikit-learn's signature and ``cv_results_``; the candidates whose networks share a layer pattern train
together as one stacked model, and each keeps its own early stopping. Prints the best candidate, its score
and how the candidates were grouped.

    python examples/grid_search.py [--rows 4000] [--epochs 10]
"""

import argparse

from sklearn.datasets import make_classification
from sklearn.model_selection import TimeSeriesSplit

from deepfin.callbacks import EarlyStopping
from deepfin.finance import make_model
from deepfin.tuning import GridSearchCV
from deepfin.wrappers.scikit_learn import KerasClassifier

GRID = {"dense_layers": [[64], [64, 64]], "activation": ["relu", "tanh"], "dropout": [0.25, 0.5],
        "optimizer": ["RMSprop", "Adam"], "learning_rate": [1e-3, 1e-4]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=4000)
    parser.add_argument("--epochs", type=int, default=10)
    args = parser.parse_args()
    X, y = make_classification(args.rows, n_features=20, n_informative=6, random_state=0)
    network = KerasClassifier(make_model, epochs=args.epochs, batch_size=64, validation_split=0.2, verbose=0,
                              callbacks=[EarlyStopping(patience=2, restore_best_weights=True)], random_state=0)
    search = GridSearchCV(network, GRID, scoring="roc_auc", cv=TimeSeriesSplit(3), n_jobs=-1).fit(X, y)
    print(f"{len(search.cv_results_['params'])} candidates in {len(search.stack_groups_)} stacks "
          f"of {[len(group) for group in search.stack_groups_]}")
    print(f"best {search.best_params_}: mean AUC {search.best_score_:.3f}")


if __name__ == "__main__":
    main()
