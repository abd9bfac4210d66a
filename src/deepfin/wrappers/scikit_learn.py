"""``KerasClassifier`` / ``KerasRegressor``: a model-building function as a scikit-learn estimator.

As Keras 2 wrote it::

    clf = KerasClassifier(make_model, epochs=10, batch_size=32)
    GridSearchCV(clf, {"dense_layers": [[64], [64, 64]], "dropout": [.25, .5]}, scoring="roc_auc")
        .fit(X, y, callbacks=[EarlyStopping(monitor="loss")])

Parameters are routed by name: those ``build_fn`` takes go to it, those ``fit`` takes go to fit;
``model__name`` and ``fit__name`` (scikeras's spelling) route explicitly. A ``build_fn`` that
takes ``meta`` (or ``n_features_in_``, ``n_classes_``, ``n_outputs_``) receives what the data
say. ``random_state`` makes fitting repeatable. The fitted model is ``.model_`` (and ``.model``,
as in Keras 2); estimators clone and pickle, so GridSearchCV runs with ``n_jobs=-1``.
Training is silent unless ``verbose`` is given.
"""

from __future__ import annotations

import inspect

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from deepfin import backend
from deepfin import losses as losses_module
from deepfin.models.model import Model

_META = ("meta", "n_features_in_", "n_classes_", "n_outputs_", "classes_", "target_type_")
_OWN = ("random_state", "verbose")


class _KerasEstimator(BaseEstimator):
    def __init__(self, build_fn=None, *, epochs: int = 1, batch_size: int | None = None, verbose=0,
                 validation_split: float = 0.0, shuffle: bool = True, callbacks=None, random_state=None,
                 **sk_params):
        if "model" in sk_params:  # scikeras's name for the building function
            if build_fn is not None:
                raise ValueError("Pass the model-building function once: build_fn or model, not both.")
            build_fn = sk_params.pop("model")
        self.build_fn = build_fn
        self.epochs, self.batch_size, self.verbose = epochs, batch_size, verbose
        self.validation_split, self.shuffle, self.callbacks = validation_split, shuffle, callbacks
        self.random_state = random_state
        for name, value in sk_params.items():
            setattr(self, name, value)

    # ------------------------------------------------------------ parameters
    def _param_names(self) -> list[str]:
        return ["build_fn"] + [k for k in vars(self) if k != "build_fn" and not k.startswith("_")
                               and not k.endswith("_")]

    def get_params(self, deep: bool = True) -> dict:
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params):
        """Set any parameters; names are checked against the build function and fit when fitting."""
        for name, value in params.items():
            setattr(self, name, value)
        return self

    def _check_param_names(self, names, build_arguments: set[str]) -> None:
        fit_arguments = _fit_arguments()
        for name in names:
            if name == "build_fn" or name.startswith(("model__", "fit__")) or name in _OWN \
                    or name in build_arguments or name in fit_arguments:
                continue
            raise ValueError(
                f"Invalid parameter {name!r} for {type(self).__name__}: it is not an argument of the build "
                f"function ({sorted(build_arguments)}) nor of fit ({sorted(fit_arguments)}). Prefix it with "
                "'model__' or 'fit__' to route it explicitly."
            )

    def _build_function(self):
        return self.build_fn if self.build_fn is not None else self._default_build

    def _default_build(self, meta):
        raise ValueError(f"{type(self).__name__} needs build_fn: a function that returns a compiled model.")

    # ------------------------------------------------------------ building and fitting
    @property
    def model(self) -> Model:
        """The fitted model (Keras 2's name for ``model_``)."""
        check_is_fitted(self, "model_")
        return self.model_

    def _meta(self) -> dict:
        return {name: getattr(self, name) for name in _META[1:] if hasattr(self, name)}

    def _build(self) -> Model:
        params = self.get_params()
        fn = self._build_function()
        if not callable(fn):
            raise TypeError(f"build_fn must be a function returning a compiled model. Received {fn!r}")
        accepted = set(inspect.signature(fn).parameters)
        self._check_param_names(params, accepted)
        kwargs = {k: v for k, v in params.items() if k in accepted and k != "build_fn"}
        kwargs.update({k[len("model__"):]: v for k, v in params.items() if k.startswith("model__")})
        meta = self._meta()
        for name in accepted & set(_META):
            kwargs.setdefault(name, meta if name == "meta" else meta.get(name))
        model = fn(**kwargs)
        if not isinstance(model, Model):
            raise TypeError(f"The build function must return a deepfin model. It returned {type(model).__name__}.")
        if not model.compiled:
            raise ValueError("The build function must return a compiled model: call model.compile(...) in it.")
        return model

    def _fit_kwargs(self, extra: dict) -> dict:
        params = self.get_params()
        accepted = _fit_arguments()
        kwargs = {k: v for k, v in params.items() if k in accepted}
        kwargs.update({k[len("fit__"):]: v for k, v in params.items() if k.startswith("fit__")})
        unknown = sorted(set(extra) - accepted)
        if unknown:
            raise TypeError(f"fit() got arguments {unknown} that the model's fit does not take: {sorted(accepted)}.")
        kwargs.update(extra)
        return kwargs

    def _fit_model(self, X, targets_for, sample_weight, fit_kwargs: dict):
        """Build and train; ``targets_for(model)`` gives the targets in the form the model's loss needs."""
        fit_kwargs = self._fit_kwargs(fit_kwargs)
        with backend.seeded(getattr(self, "random_state", None)):
            self.model_ = self._build()
            self.history_ = self.model_.fit(X, targets_for(self.model_), sample_weight=sample_weight, **fit_kwargs)
        return self

    def _predict_raw(self, X) -> np.ndarray:
        check_is_fitted(self, "model_")
        X = validate_data(self, X, reset=False, dtype=np.float64)
        return np.asarray(self.model_.predict(X, verbose=0), dtype=np.float64)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = getattr(self, "random_state", None) is None
        return tags


class KerasClassifier(ClassifierMixin, _KerasEstimator):
    """Classifier: labels of any type, ``classes_``, ``predict_proba`` and accuracy as ``score``.

    Targets are encoded for the model's loss: 0/1 for a one-unit output, class indices for
    sparse categorical cross-entropy, one-hot rows for categorical cross-entropy.
    """

    def fit(self, X, y, sample_weight=None, **kwargs):
        X, y = validate_data(self, X, y, dtype=np.float64)
        y = column_or_1d(y, warn=True)
        self.target_type_ = type_of_target(y, input_name="y", raise_unknown=True)
        if self.target_type_ not in ("binary", "multiclass"):
            raise ValueError(f"KerasClassifier needs binary or multiclass labels. Received {self.target_type_} y.")
        encoder = LabelEncoder().fit(y)
        self.classes_, self.n_classes_, self.n_outputs_ = encoder.classes_, len(encoder.classes_), 1
        if self.n_classes_ < 2:
            raise ValueError(f"KerasClassifier needs at least 2 classes in y; it has 1 class: {self.classes_[0]!r}.")
        labels = encoder.transform(y)

        def targets_for(model):
            if isinstance(model._loss_fns[0], losses_module.CategoricalCrossentropy):
                return np.eye(self.n_classes_)[labels]
            return labels.astype(np.float64 if self.n_classes_ == 2 else np.int64)

        return self._fit_model(X, targets_for, sample_weight, kwargs)

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities, one column per class in ``classes_`` order."""
        p = self._predict_raw(X)
        p = p.reshape(len(p), -1)
        if p.shape[1] == 1:
            return np.hstack([1.0 - p, p])
        return p

    def predict(self, X) -> np.ndarray:
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]


class KerasRegressor(RegressorMixin, _KerasEstimator):
    """Regressor: ``predict`` returns the model's outputs (flattened for one output), R^2 as ``score``."""

    def fit(self, X, y, sample_weight=None, **kwargs):
        X, y = validate_data(self, X, y, dtype=np.float64, y_numeric=True, multi_output=True)
        self.n_outputs_ = 1 if y.ndim == 1 else y.shape[1]
        self.target_type_ = type_of_target(y)
        return self._fit_model(X, lambda model: y, sample_weight, kwargs)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def predict(self, X) -> np.ndarray:
        p = self._predict_raw(X)
        return p.ravel() if p.ndim == 2 and p.shape[1] == 1 else p


def _fit_arguments() -> set[str]:
    return set(inspect.signature(Model.fit).parameters) - {"self", "x", "y", "sample_weight"}
