"""The seed's tunable network and the estimator the finance workflow trains and tunes.

``make_model`` is the seed's ``make_model`` (shared/seeds/002) as it was meant to read: hidden ``Dense``
layers of the sizes in ``dense_layers``, each followed by ``activation``, one ``Dropout``, a sigmoid unit,
binary cross-entropy. ``estimator`` wraps it in a scikit-learn pipeline: clip the return columns at
quantiles and standardise, both fitted on the training rows only, then the network, which stops early on
the last ``validation_split`` of its training rows (rows are sorted by date, so that is the end of the
training window, as Keras's ``validation_split`` takes the last samples).
"""

from __future__ import annotations

from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from deepfin import optimizers
from deepfin.callbacks import EarlyStopping
from deepfin.finance.preprocessing import QuantileClipper
from deepfin.layers import Activation, Dense, Dropout
from deepfin.metrics import AUC
from deepfin.models import Sequential
from deepfin.wrappers.scikit_learn import KerasClassifier

TUNABLE = ("dense_layers", "activation", "dropout", "optimizer", "learning_rate")


def make_model(dense_layers=(64, 64), activation="relu", dropout=0.5, optimizer="Adam", learning_rate=0.001,
               meta=None) -> Sequential:
    """A compiled multi-layer perceptron; ``dense_layers`` gives one size per hidden layer."""
    model = Sequential()
    for i, size in enumerate(dense_layers):
        model.add(Dense(size, input_dim=meta["n_features_in_"]) if i == 0 else Dense(size))
        model.add(Activation(activation))
    model.add(Dropout(dropout))
    model.add(Dense(1))
    model.add(Activation("sigmoid"))
    model.compile(loss="binary_crossentropy", optimizer=type(optimizers.get(optimizer))(learning_rate=learning_rate),
                  metrics=["accuracy", AUC(name="auc")])
    return model


def estimator(return_columns: list[str], *, epochs: int, batch_size: int, patience: int,
              validation_split: float, random_state: int | None, **params) -> Pipeline:
    """Clip the ``return_columns`` (dummies pass through) -> standardise -> network (``params``: make_model's)."""
    network = KerasClassifier(make_model, epochs=epochs, batch_size=batch_size, validation_split=validation_split,
                              callbacks=[EarlyStopping(monitor="val_loss", patience=patience,
                                                       restore_best_weights=True)],
                              random_state=random_state, **params)
    clip = ColumnTransformer([("returns", QuantileClipper(), return_columns)], remainder="passthrough",
                             verbose_feature_names_out=False)
    return Pipeline([("clip", clip), ("scale", StandardScaler()), ("net", network)])
