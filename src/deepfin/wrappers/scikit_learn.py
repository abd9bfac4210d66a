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
from dataclasses import dataclass

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, clone
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from deepfin import backend
from deepfin import losses as losses_module
from deepfin.models.model import Model
from deepfin.tuning.stacked import fit_stack, pattern, stack_reason

_META = ("meta", "n_features_in_", "n_classes_", "n_outputs_", "classes_", "target_type_")
_OWN = ("random_state", "verbose")
FLOATS = (np.float64, np.float32)  # float32 rows pass through as they are (the model casts to its dtype); no copy


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
        """The estimator's parameters by name: ``build_fn``, the fit settings and every other parameter given."""
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params):
        """Set any parameters; names are checked against the build function and fit when fitting.

        Returns
        -------
        self
            The estimator.
        """
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

    def fit(self, X, y, sample_weight=None, **kwargs):
        """Build the model with ``build_fn`` and train it on ``X`` and ``y``.

        Parameters
        ----------
        X : array_like of shape (n_samples, n_features)
            Inputs.
        y : array_like
            Targets (a classifier's labels of any type).
        sample_weight : array_like or None, default None
            Per-sample weights, passed to the model's ``fit``.
        **kwargs
            Further arguments of the model's ``fit`` (``callbacks``, ``validation_data``, ...).

        Returns
        -------
        self
            The fitted estimator: ``model_``, ``history_``, ``stack_size_`` (1) and ``stack_note_``.

        Raises
        ------
        TypeError
            If ``build_fn`` is not callable or does not return a deepfin model, or a keyword is not an argument of
            the model's ``fit``.
        ValueError
            If a parameter is neither an argument of ``build_fn`` nor of ``fit``, or the model is not compiled.
        """
        X, targets_for = self._prepare(X, y)
        fit_kwargs = self._fit_kwargs(kwargs)
        with backend.seeded(getattr(self, "random_state", None)):
            self.model_ = self._build()
            self.history_ = self.model_.fit(X, targets_for(self.model_), sample_weight=sample_weight, **fit_kwargs)
        self.stack_size_, self.stack_note_ = 1, "fitted alone"
        return self

    # ------------------------------------------------------------ many at once
    def fit_many(self, param_sets: list[dict], X, y, sample_weight=None, **kwargs) -> list:
        """Fit a clone of this estimator for each of ``param_sets`` on the same data, as one ``fit`` each would.

        Clones whose networks share a layer pattern (``deepfin.tuning.pattern``), seed and fit settings train as one
        stack (``deepfin.tuning.fit_stack``); the others one at a time. Each fitted clone's ``stack_size_`` says how
        many trained together and ``stack_note_`` how it trained (or why alone).

        Parameters
        ----------
        param_sets : list of dict
            The parameters of each clone, as ``set_params`` takes them.
        X : array_like of shape (n_samples, n_features)
            Inputs.
        y : array_like
            Targets.
        sample_weight : array_like or None, default None
            Per-sample weights (clones given weights train alone).
        **kwargs
            Further arguments of the model's ``fit``.

        Returns
        -------
        list
            The fitted clones, in the order of ``param_sets``.
        """
        fitted = [None] * len(param_sets)
        data, targets_for, groups = self._plan_many(param_sets, X, y, sample_weight, kwargs)
        for indices, plans in groups:
            if len(plans) == 1:
                alone = clone(plans[0].estimator).fit(X, y, sample_weight=sample_weight, **kwargs)
                alone.stack_note_ = f"fitted alone: {plans[0].reason or 'no other candidate shares its pattern'}"
                fitted[indices[0]] = alone
                continue
            first = plans[0]
            rng = backend.rng() if first.state is None else np.random.default_rng()
            if first.state is not None:
                rng.bit_generator.state = first.state
            settings = first.fit_kwargs
            histories = fit_stack(
                [p.model for p in plans], data, targets_for(first.model), batch_size=settings.get("batch_size"),
                epochs=settings.get("epochs", 1), callbacks=[list(p.fit_kwargs.get("callbacks") or []) for p in plans],
                validation_split=settings.get("validation_split", 0.0),
                validation_data=settings.get("validation_data"), shuffle=settings.get("shuffle", True), rng=rng)
            for index, plan, history in zip(indices, plans, histories):
                plan.estimator.model_, plan.estimator.history_ = plan.model, history
                plan.estimator.stack_size_ = len(plans)
                plan.estimator.stack_note_ = f"stacked with {len(plans) - 1} others"
                fitted[index] = plan.estimator
        return fitted

    def group_candidates(self, param_sets: list[dict], X, y, sample_weight=None, **kwargs) -> list[list[int]]:
        """The indices of ``param_sets`` that ``fit_many`` trains together, group by group.

        Takes ``fit_many``'s arguments; the models are built, not trained.

        Returns
        -------
        list of list of int
            One list of indices per group; a group of one trains alone.
        """
        return [indices for indices, _ in self._plan_many(param_sets, X, y, sample_weight, kwargs)[2]]

    def _plan_many(self, param_sets, X, y, sample_weight, kwargs):
        """The checked inputs, the targets function and, per group, its indices and ``_Plan``s (a group of one
        trains alone)."""
        base = clone(self)
        data, targets_for = base._prepare(X, y)
        plans, keys = [], []
        for params in param_sets:
            candidate = clone(self).set_params(**params)
            for name in (*_META[1:], "feature_names_in_"):
                if hasattr(base, name):
                    setattr(candidate, name, getattr(base, name))
            plan = _Plan(candidate, candidate._fit_kwargs(kwargs))
            seed = getattr(candidate, "random_state", None)
            try:
                with backend.seeded(seed):
                    plan.model = candidate._build()
                    plan.state = None if seed is None else backend.rng().bit_generator.state
            except Exception as error:  # fitted alone, where the error reaches the caller as fit's would
                found = f"building it failed ({error})"
            else:
                found = pattern(plan.model)
            plan.reason = found if isinstance(found, str) else stack_reason(plan.fit_kwargs, sample_weight)
            plans.append(plan)
            keys.append(("alone", len(keys)) if plan.reason else
                        (found.key, repr(seed), *_stacked_fit_settings(plan.fit_kwargs)))
        groups: dict = {}
        for index, key in enumerate(keys):
            groups.setdefault(key, []).append(index)
        return data, targets_for, [(indices, [plans[i] for i in indices]) for indices in groups.values()]

    def _predict_raw(self, X) -> np.ndarray:
        check_is_fitted(self, "model_")
        X = validate_data(self, X, reset=False, dtype=FLOATS)
        return np.asarray(self.model_.predict(X, verbose=0), dtype=np.float64)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = getattr(self, "random_state", None) is None
        return tags


class KerasClassifier(ClassifierMixin, _KerasEstimator):
    """Classifier: labels of any type, ``classes_``, ``predict_proba`` and accuracy as ``score``.

    Targets are encoded for the model's loss: 0/1 for a one-unit output, class indices for sparse categorical
    cross-entropy, one-hot rows for categorical cross-entropy. As Keras 2's ``KerasClassifier`` (and scikeras's).

    Parameters
    ----------
    build_fn : callable or None, default None
        A function returning a compiled deepfin model. Its arguments are filled from the estimator's parameters
        of the same names (and ``model__name`` ones), and ``meta``, ``n_features_in_``, ``n_classes_`` or
        ``n_outputs_`` from the data. scikeras's ``model=`` is accepted in its place.
    epochs : int, default 1
        Passed to ``fit``.
    batch_size : int or None, default None
        Passed to ``fit`` (None: its default).
    verbose : int or str, default 0
        Passed to ``fit``: training is silent unless it is given.
    validation_split : float, default 0.0
        Passed to ``fit``.
    shuffle : bool, default True
        Passed to ``fit``.
    callbacks : list of Callback or None, default None
        Passed to ``fit``.
    random_state : int or None, default None
        Seeds the library's generator around building and fitting, so that fitting is repeatable.
    **sk_params
        Further parameters: arguments of ``build_fn`` or of the model's ``fit``, or ``model__name`` and
        ``fit__name`` to route them explicitly. A name that is neither raises ValueError when fitting.

    Raises
    ------
    ValueError
        If both ``build_fn`` and ``model`` are given.

    Examples
    --------
    >>> import numpy as np
    >>> from deepfin import Sequential, layers
    >>> from deepfin.wrappers import KerasClassifier
    >>> def make_model(n_features_in_, hidden=4):
    ...     model = Sequential([layers.Input((n_features_in_,)), layers.Dense(hidden, activation="relu"),
    ...                         layers.Dense(1, activation="sigmoid")])
    ...     model.compile(optimizer="adam", loss="binary_crossentropy")
    ...     return model
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(40, 3))
    >>> y = np.where(X[:, 0] > 0, "up", "down")
    >>> clf = KerasClassifier(make_model, hidden=8, epochs=3, random_state=0).fit(X, y)
    >>> clf.classes_
    array(['down', 'up'], dtype='<U4')
    >>> clf.predict_proba(X[:2]).shape
    (2, 2)
    """

    def _prepare(self, X, y):
        """Checked inputs and a function giving the targets in the form a model's loss needs."""
        X, y = validate_data(self, X, y, dtype=FLOATS)
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
            if isinstance(model.output_losses[0], losses_module.CategoricalCrossentropy):
                return np.eye(self.n_classes_)[labels]
            return labels.astype(np.float64 if self.n_classes_ == 2 else np.int64)

        return X, targets_for

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities, one column per class in ``classes_`` order.

        Parameters
        ----------
        X : array_like of shape (n_samples, n_features)
            Inputs.

        Returns
        -------
        np.ndarray of shape (n_samples, n_classes)
            A one-unit output ``p`` gives the columns ``1 - p`` and ``p``.
        """
        p = self._predict_raw(X)
        p = p.reshape(len(p), -1)
        if p.shape[1] == 1:
            return np.hstack([1.0 - p, p])
        return p

    def predict(self, X) -> np.ndarray:
        """The most probable class of each row, as a label of ``classes_``.

        Parameters
        ----------
        X : array_like of shape (n_samples, n_features)
            Inputs.

        Returns
        -------
        np.ndarray of shape (n_samples,)
            The labels.
        """
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]


class KerasRegressor(RegressorMixin, _KerasEstimator):
    """Regressor: ``predict`` returns the model's outputs (flattened for one output), R^2 as ``score``.

    Targets are passed to the model as they are; several target columns make a multi-output regressor. As Keras
    2's ``KerasRegressor`` (and scikeras's).

    Parameters
    ----------
    build_fn : callable or None, default None
        A function returning a compiled deepfin model. Its arguments are filled from the estimator's parameters
        of the same names (and ``model__name`` ones), and ``meta``, ``n_features_in_``, ``n_classes_`` or
        ``n_outputs_`` from the data. scikeras's ``model=`` is accepted in its place.
    epochs : int, default 1
        Passed to ``fit``.
    batch_size : int or None, default None
        Passed to ``fit`` (None: its default).
    verbose : int or str, default 0
        Passed to ``fit``: training is silent unless it is given.
    validation_split : float, default 0.0
        Passed to ``fit``.
    shuffle : bool, default True
        Passed to ``fit``.
    callbacks : list of Callback or None, default None
        Passed to ``fit``.
    random_state : int or None, default None
        Seeds the library's generator around building and fitting, so that fitting is repeatable.
    **sk_params
        Further parameters: arguments of ``build_fn`` or of the model's ``fit``, or ``model__name`` and
        ``fit__name`` to route them explicitly. A name that is neither raises ValueError when fitting.

    Raises
    ------
    ValueError
        If both ``build_fn`` and ``model`` are given.
    """

    def _prepare(self, X, y):
        """Checked inputs and a function giving the targets (as they are)."""
        X, y = validate_data(self, X, y, dtype=FLOATS, y_numeric=True, multi_output=True)
        self.n_outputs_ = 1 if y.ndim == 1 else y.shape[1]
        self.target_type_ = type_of_target(y)
        return X, lambda model: y

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def predict(self, X) -> np.ndarray:
        """The model's predictions for ``X``, as float64.

        Parameters
        ----------
        X : array_like of shape (n_samples, n_features)
            Inputs.

        Returns
        -------
        np.ndarray
            Shape ``(n_samples,)`` for one output, else the model's output shape.
        """
        p = self._predict_raw(X)
        return p.ravel() if p.ndim == 2 and p.shape[1] == 1 else p


@dataclass
class _Plan:
    """A candidate of ``fit_many``: its estimator and fit arguments, its built model, the state of the library's
    generator after the build (None without a seed) and why it trains alone (None if it can stack)."""

    estimator: _KerasEstimator
    fit_kwargs: dict
    model: Model | None = None
    state: dict | None = None
    reason: str | None = None


_STACKED_FIT = ("batch_size", "epochs", "shuffle", "validation_split")


def _stacked_fit_settings(fit_kwargs: dict) -> tuple:
    """The fit settings members of one stack share (the validation data are the same object for all)."""
    return (*(fit_kwargs.get(name) for name in _STACKED_FIT), id(fit_kwargs.get("validation_data")))


def _fit_arguments() -> set[str]:
    return set(inspect.signature(Model.fit).parameters) - {"self", "x", "y", "sample_weight"}
