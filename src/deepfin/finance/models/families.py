"""The model families a study fits, and the ensembles of them of Krauss, Do and Huck (2017).

Krauss, Do and Huck (2017) feed the same 31 lagged returns to three families, each with fixed settings:

- ``dnn``: a 31-31-10-5-2 network of maxout units (two pieces each), dropout 0.1 on the input and 0.5 on the
  hidden layers, L1 1e-5 on the kernels, ADADELTA (H2O's: rho 0.99, epsilon 1e-8, no learning rate, which is
  Keras's ``learning_rate=1.0``), softmax output, early stopping on held-out dates.
- ``gbt``: boosted trees, 100 of depth 3, learning rate 0.1, 15 of 31 features per split: scikit-learn's
  ``HistGradientBoostingClassifier``, histogram-based like H2O's GBM that the paper ran, and as fast as
  LightGBM at these settings (``benchmarks/trees.py``).
- ``raf``: a random forest, 1,000 trees of depth 20, floor(sqrt(31)) = 5 features per split: scikit-learn's
  ``RandomForestClassifier``.

Fischer and Krauss (2018), the paper's sequel, add ``lstm``: an LSTM of 25 units over each row's last 240 daily
returns, standardised with the training rows' mean and standard deviation (``deepfin.finance.panel.sequences``),
input dropout 0.1, a two-unit softmax, RMSprop, early stopping on held-out dates with patience 10 (at most
1,000 epochs); its rows, periods and book are the other families'. The paper does not give a batch size that
deepfin could cite; deepfin's is 512.

Two more join by name: ``mlp`` (the network of Jansen (2020, ch. 17), ``deepfin.finance.models.network``) and
``logit`` (a logistic regression on standardised returns, the linear baseline a network has to beat). Any
scikit-learn classifier joins with ``[model.NAME] estimator = "sklearn.module.Class"`` and its parameters.

``Family.fast`` are the settings a study uses unless the config says otherwise: the paper's, except a forest of
100 trees each grown on 3% of the rows and at most 30 epochs, so that the 500-name, 25-year study ends in
minutes on two cores; ``Family.paper`` are the published ones (``examples/krauss.toml``); ``Family.quick``
shrinks the fast settings further for ``--quick``. The ensembles (``ENSEMBLES``) average their members'
probabilities: ENS1 equally, ENS2 weighted by each member's Gini coefficient (2 AUC - 1), ENS3 by the inverse
of its rank by it (the best member ranked 1: weights 1/R over the sum of 1/R, Aiolfi and Timmermann's rank
weights, as the paper cites them). The paper weighs by the training period's Gini; here it is each member's
Gini on the last ``validation_split`` of the training dates, by a model that did not train on them (a network's
early-stopping dates; for the others a second fit on the dates before them), so that a model that only
memorised its training rows (training Gini 1, no skill) does not take the ensemble over.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from sklearn.base import ClassifierMixin, is_classifier
from sklearn.compose import make_column_selector
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from deepfin import optimizers
from deepfin.callbacks import EarlyStopping
from deepfin.finance.models import network
from deepfin.finance.models.network import DateHoldoutClassifier
from deepfin.finance.panel.preprocessing import BlockwiseStandardScaler, QuantileClipper
from deepfin.finance.panel.sequences import DailyReturns, ReturnWindows, ScalarStandardScaler
from deepfin.layers import LSTM, Dense, Dropout, Input, Maxout, Reshape
from deepfin.models import Sequential
from deepfin.regularizers import L1
from deepfin.wrappers.scikit_learn import KerasClassifier


@dataclass(frozen=True)
class Training:
    """What every model of a run shares: early stopping's held-out share of dates and purge, and the random seed.

    Attributes
    ----------
    validation_split : float
        The share of the training dates held out for early stopping (and for the held-out Gini).
    purge : int
        Dates between the training and the held-out dates.
    seed : int
        The ``random_state`` of every model.
    """

    validation_split: float = 0.2
    purge: int = 1
    seed: int = 0


@dataclass(frozen=True)
class Family:
    """A kind of model: how to build it from settings, and its fast, published and quick settings.

    Attributes
    ----------
    name : str
        The name a config lists it by (``dnn``, ``gbt``, ...).
    description : str
        One line on what it is.
    build : callable
        (settings, ``Training``) -> an unfitted classifier; a sequence family's also takes the daily returns.
    fast : dict
        The settings a study uses unless the config says otherwise.
    paper : dict
        The published settings.
    quick : dict
        What ``--quick`` changes in the fast settings.
    sequences : bool
        Whether it reads windows of daily returns rather than the row's features.
    """

    name: str
    description: str
    build: Callable[..., ClassifierMixin]
    fast: dict
    paper: dict
    quick: dict
    sequences: bool = False  # reads windows of daily returns (``finance.panel.sequences``), not the row's features

    def settings(self, given: dict | None = None, quick: bool = False) -> dict:
        """The fast settings (scaled down when ``quick``) with ``given`` on top.

        Examples
        --------
        >>> FAMILIES["raf"].settings({"max_depth": 5}, quick=True)["max_depth"]
        5
        """
        return {**self.fast, **(self.quick if quick else {}), **(given or {})}


def krauss_network(hidden=(31, 10, 5), pieces=2, input_dropout=0.1, dropout=0.5, l1=1e-5, optimizer="Adadelta",
                   learning_rate=1.0, rho=0.99, epsilon=1e-8, meta=None) -> Sequential:
    """Build the network of Krauss, Do and Huck (2017): maxout layers, dropout, L1, a two-unit softmax.

    Parameters
    ----------
    hidden : sequence of int, default (31, 10, 5)
        Units per maxout layer.
    pieces : int, default 2
        Pieces per maxout unit.
    input_dropout : float, default 0.1
        Dropout on the inputs.
    dropout : float, default 0.5
        Dropout after each hidden layer.
    l1 : float, default 1e-5
        L1 penalty on every kernel (0: none).
    optimizer : str, default "Adadelta"
        The optimizer's name.
    learning_rate : float, default 1.0
        Its learning rate (1.0 with ADADELTA is H2O's, which has none).
    rho, epsilon : float, default 0.99, 1e-8
        ADADELTA's, used only with it.
    meta : dict
        ``{"n_features_in_": n}``, from ``KerasClassifier`` (required).

    Returns
    -------
    Sequential
        The network, compiled with sparse categorical cross-entropy.

    Examples
    --------
    >>> model = krauss_network(meta={"n_features_in_": 31})
    >>> [layer.__class__.__name__ for layer in model.layers][:3], model.count_params()
    (['Dropout', 'Maxout', 'Dropout'], 2746)
    """
    model = Sequential()
    model.add(Dropout(input_dropout, input_shape=(meta["n_features_in_"],)))
    for units in hidden:
        model.add(Maxout(units, pieces, kernel_regularizer=L1(l1) if l1 else None))
        model.add(Dropout(dropout))
    model.add(Dense(2, activation="softmax", kernel_regularizer=L1(l1) if l1 else None))
    options = {"rho": rho, "epsilon": epsilon} if optimizer.lower() == "adadelta" else {}
    model.compile(loss="sparse_categorical_crossentropy",
                  optimizer=type(optimizers.get(optimizer))(learning_rate=learning_rate, **options))
    return model


def fischer_krauss_network(steps=240, units=25, dropout=0.1, optimizer="RMSprop", learning_rate=0.001,
                           meta=None) -> Sequential:
    """Build the network of Fischer and Krauss (2018): an LSTM over standardised daily returns, a two-unit softmax.

    Parameters
    ----------
    steps : int, default 240
        Daily returns a row.
    units : int, default 25
        LSTM units.
    dropout : float, default 0.1
        The LSTM's input dropout.
    optimizer : str, default "RMSprop"
        The optimizer's name.
    learning_rate : float, default 0.001
        Its learning rate.
    meta : dict or None, default None
        Given by ``KerasClassifier``, not read.

    Returns
    -------
    Sequential
        The network, compiled with sparse categorical cross-entropy.
    """
    model = Sequential([Input((steps,)), Reshape((steps, 1)), LSTM(units, dropout=dropout),
                        Dense(2, activation="softmax")])
    model.compile(loss="sparse_categorical_crossentropy",
                  optimizer=type(optimizers.get(optimizer))(learning_rate=learning_rate))
    return model


def _network(build_fn, settings: dict, training: Training) -> DateHoldoutClassifier:
    """``build_fn``'s network behind clipping and standardising, early-stopped on held-out whole dates."""
    settings = dict(settings)
    fit = {name: settings.pop(name) for name in ("epochs", "batch_size")}
    patience = settings.pop("patience")
    network = KerasClassifier(build_fn, **fit, random_state=training.seed, callbacks=[
        EarlyStopping(monitor="val_loss", patience=patience, restore_best_weights=True)], **settings)
    return DateHoldoutClassifier(make_pipeline(_clip_returns(), BlockwiseStandardScaler(copy=False)), network,
                                 validation_split=training.validation_split, purge=training.purge)


def _lstm(settings: dict, training: Training, returns: DailyReturns | None = None) -> DateHoldoutClassifier:
    """Put the LSTM behind its inputs, early-stopped on held-out whole dates.

    Its inputs are each row's last ``steps`` daily returns, standardised with the training rows' mean and
    standard deviation.
    """
    settings = dict(settings)
    fit = {name: settings.pop(name) for name in ("epochs", "batch_size")}
    patience = settings.pop("patience")
    network = KerasClassifier(fischer_krauss_network, **fit, random_state=training.seed, callbacks=[
        EarlyStopping(monitor="val_loss", patience=patience, restore_best_weights=True)], **settings)
    inputs = make_pipeline(ReturnWindows(returns, settings["steps"]), ScalarStandardScaler())
    return DateHoldoutClassifier(inputs, network, validation_split=training.validation_split, purge=training.purge)


def _dnn(settings: dict, training: Training):
    return _network(krauss_network, settings, training)


def _mlp(settings: dict, training: Training):
    return _network(network.make_model, settings, training)


def _gbt(settings: dict, training: Training):
    settings = dict(settings)
    return HistGradientBoostingClassifier(max_iter=settings.pop("n_estimators"), early_stopping=False,
                                          random_state=training.seed, **settings)


def _raf(settings: dict, training: Training):
    return RandomForestClassifier(random_state=training.seed, **settings)


def _logit(settings: dict, training: Training):
    return make_pipeline(_clip_returns(), StandardScaler(), LogisticRegression(**settings))


def _clip_returns() -> QuantileClipper:
    """Clip the return columns at their 1% and 99% quantiles; calendar dummies pass through."""
    return QuantileClipper(columns=make_column_selector(pattern=r"^(?!year_|month_)"))


DNN_PAPER = {"hidden": [31, 10, 5], "pieces": 2, "input_dropout": 0.1, "dropout": 0.5, "l1": 1e-5,
             "optimizer": "Adadelta", "learning_rate": 1.0, "rho": 0.99, "epsilon": 1e-8, "epochs": 400,
             "patience": 5, "batch_size": 32}
GBT_PAPER = {"n_estimators": 100, "max_depth": 3, "learning_rate": 0.1, "max_features": 15 / 31}
RAF_PAPER = {"n_estimators": 1000, "max_depth": 20, "max_features": 5, "max_samples": 1.0, "min_samples_leaf": 1,
             "n_jobs": 1}
LSTM_PAPER = {"steps": 240, "units": 25, "dropout": 0.1, "optimizer": "RMSprop", "learning_rate": 0.001,
              "epochs": 1000, "patience": 10, "batch_size": 512}
MLP_SEED = {"dense_layers": [64, 64], "activation": "relu", "dropout": 0.5, "optimizer": "Adam",
            "learning_rate": 0.001, "epochs": 30, "patience": 3, "batch_size": 1024}

FAMILIES = {family.name: family for family in (
    Family("dnn", "deep network: maxout 31-31-10-5-2, dropout, L1, ADADELTA", _dnn,
           {**DNN_PAPER, "epochs": 30, "patience": 3, "batch_size": 1024}, DNN_PAPER,
           {"epochs": 20, "patience": 3, "batch_size": 128}),
    Family("gbt", "gradient-boosted trees (scikit-learn's histogram GBM)", _gbt, GBT_PAPER, GBT_PAPER,
           {"n_estimators": 20}),
    Family("raf", "random forest (scikit-learn)", _raf,
           {**RAF_PAPER, "n_estimators": 100, "max_samples": 0.1, "min_samples_leaf": 200},
           RAF_PAPER, {"n_estimators": 20, "max_depth": 10, "max_samples": 0.2}),
    Family("lstm", "Fischer and Krauss's LSTM(25) on 240 standardised daily returns, RMSprop", _lstm,
           {**LSTM_PAPER, "epochs": 30, "patience": 3}, LSTM_PAPER, {"epochs": 5, "patience": 1, "steps": 60},
           sequences=True),
    Family("mlp", "the network of Jansen (2020, ch. 17) (dense, Adam), at fixed settings", _mlp, MLP_SEED, MLP_SEED,
           {"epochs": 4, "patience": 1, "batch_size": 256}),
    Family("logit", "logistic regression on standardised returns (the linear baseline)", _logit,
           {"C": 1.0, "max_iter": 1000}, {"C": 1.0, "max_iter": 1000}, {}),
)}

PAPER_ENSEMBLE = ("dnn", "gbt", "raf")
ENSEMBLES = {"ens1": "equal weights", "ens2": "weights from each member's Gini coefficient on held-out training dates",
             "ens3": "weights 1 / rank of each member's Gini coefficient on held-out training dates (best: rank 1)"}
GINI_WEIGHTED = ("ens2", "ens3")  # the ensembles whose weights need each member's held-out Gini


def known_names() -> list[str]:
    """The model names a study takes: the families', then the ensembles'."""
    return [*FAMILIES, *ENSEMBLES]


def estimator_class(path: str) -> type:
    """Import the scikit-learn classifier class a ``[model.NAME] estimator`` setting names.

    Only scikit-learn's, and only classes that classify with probabilities: a config must not be able to run
    arbitrary code.

    Parameters
    ----------
    path : str
        ``sklearn.module.Class``, such as ``"sklearn.ensemble.ExtraTreesClassifier"``.

    Returns
    -------
    type
        The class.

    Raises
    ------
    ValueError
        When ``path`` is not in ``sklearn``, names no class, or a class that is not a classifier with
        ``predict_proba``.
    """
    module, _, name = path.rpartition(".")
    if not module.startswith("sklearn.") or not name:
        raise ValueError(f"estimator must name a scikit-learn classifier as 'sklearn.module.Class', such as "
                         f"'sklearn.ensemble.ExtraTreesClassifier'. Received: estimator={path!r}")
    try:
        cls = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        raise ValueError(f"No scikit-learn class {path!r}.") from None
    if not isinstance(cls, type) or not is_classifier(cls()) or not hasattr(cls, "predict_proba"):
        raise ValueError(f"{path} is not a scikit-learn classifier with predict_proba.")
    return cls


def build(name: str, settings: dict | None, training: Training, quick: bool = False,
          returns: DailyReturns | None = None):
    """Build an unfitted estimator for model ``name``: a family, or the scikit-learn class ``settings`` names.

    Parameters
    ----------
    name : str
        The model's name.
    settings : dict or None
        Its ``[model.NAME]`` settings: on top of the family's fast ones, or with ``estimator`` the class and its
        parameters (``random_state`` set to the run's seed where the class takes one and the settings do not).
    training : Training
        What every model of the run shares.
    quick : bool, default False
        Use the family's quick settings.
    returns : DailyReturns or None, default None
        The daily returns a sequence family reads its windows from.

    Returns
    -------
    estimator
        The unfitted classifier.
    """
    settings = dict(settings or {})
    if "estimator" in settings:
        cls = estimator_class(settings.pop("estimator"))
        if "random_state" in cls().get_params():
            settings.setdefault("random_state", training.seed)
        return cls(**settings)
    family = FAMILIES[name]
    if family.sequences:
        return family.build(family.settings(settings, quick), training, returns)
    return family.build(family.settings(settings, quick), training)


def reads_sequences(name: str, settings: dict) -> bool:
    """Say whether model ``name`` (with its ``[model.NAME]`` ``settings``) is a sequence family.

    A sequence family's inputs are windows of daily returns (``deepfin.finance.panel.sequences``), not the
    row's features; a named scikit-learn ``estimator`` never is one.
    """
    return name in FAMILIES and FAMILIES[name].sequences and "estimator" not in settings


def check_models(models: list[str], settings: dict) -> None:
    """Check a study's models and their settings before training.

    Parameters
    ----------
    models : list of str
        The models to run.
    settings : dict
        The ``[model.NAME]`` tables.

    Raises
    ------
    ValueError
        On a model listed twice, an unknown model name, an ensemble without its members (or with fewer than
        two), settings the model does not take, or a name or value that ``run.toml`` cannot hold.
    """
    if not isinstance(models, list) or not all(isinstance(m, str) for m in models):
        raise ValueError(f"models must be a list of model names. Received: models={models!r}")
    if len(set(models)) != len(models):
        raise ValueError(f"models lists a model twice. Received: models={models!r}")
    custom = {name for name, given in settings.items() if isinstance(given, dict) and "estimator" in given}
    for name in models:
        if name not in FAMILIES and name not in ENSEMBLES and name not in custom:
            raise ValueError(f"Unknown model {name!r}. Known models: {', '.join(known_names())}; or add "
                             f"[model.{name}] with estimator = \"sklearn.module.Class\".")
    for name, given in settings.items():
        if not isinstance(given, dict):
            raise ValueError(f"model.{name} must be a table of settings. Received: {given!r}")
        _check_writable(name, given)
        if name in ENSEMBLES:
            if name in models:
                _check_members(name, given, models)
        elif name in custom:
            build(name, given, Training())
        elif name in FAMILIES:
            unknown = sorted(set(given) - set(FAMILIES[name].fast))
            if unknown:
                raise ValueError(f"model.{name} does not take {', '.join(unknown)}. It takes: "
                                 f"{', '.join(FAMILIES[name].fast)}.")
            build(name, given, Training())
        else:
            raise ValueError(f"[model.{name}] sets a model that is neither known nor given an estimator. Known "
                             f"models: {', '.join(known_names())}.")
    for name in models:
        if name in ENSEMBLES and name not in settings:
            _check_members(name, {}, models)


def _check_writable(name: str, given: dict) -> None:
    """Check that a model's name and settings survive ``run.toml``.

    A bare name, and values that TOML writes (numbers, text, true/false, lists of them).
    """
    if not re.fullmatch(r"[A-Za-z0-9_-]+", name):
        raise ValueError(f"A model name holds letters, digits, '_' and '-' only. Received: {name!r}")

    def writable(value) -> bool:
        if isinstance(value, list):
            return all(writable(v) for v in value)
        return isinstance(value, (bool, int, float, str))

    for key, value in given.items():
        if not writable(value):
            raise ValueError(f"model.{name}.{key} must be a number, text, true/false or a list of them (None is "
                             f"the setting left out). Received: {value!r}")


def members(name: str, settings: dict) -> list[str]:
    """The models an ensemble averages: ``dnn``, ``gbt`` and ``raf`` unless ``[model.ensN] members`` says otherwise."""
    return list(settings.get(name, {}).get("members", PAPER_ENSEMBLE))


def _check_members(name: str, given: dict, models: list[str]) -> None:
    unknown = sorted(set(given) - {"members"})
    if unknown:
        raise ValueError(f"model.{name} takes only members. Received: {', '.join(unknown)}.")
    wanted = list(given.get("members", PAPER_ENSEMBLE))
    missing = [m for m in wanted if m not in models or m in ENSEMBLES]
    if len(wanted) < 2:
        raise ValueError(f"The ensemble {name} needs at least two members. Received: members={wanted!r}")
    if missing:
        raise ValueError(f"The ensemble {name} averages {', '.join(wanted)}, but {', '.join(missing)} "
                         f"{'is' if len(missing) == 1 else 'are'} not among the study's single models "
                         f"({', '.join(models)}). Add {'it' if len(missing) == 1 else 'them'} to models, or set "
                         f"[model.{name}] members to two or more of them.")


def ensemble_weights(name: str, gini: dict[str, float]) -> dict[str, float]:
    """Weigh an ensemble's members by their Gini coefficients on held-out training dates.

    Parameters
    ----------
    name : {"ens1", "ens2", "ens3"}
        ENS1: equal weights; ENS2: proportional to the Gini (negative ones count as 0); ENS3: proportional to
        1 / rank, the best member ranked 1.
    gini : dict of str to float
        Member -> its Gini coefficient (an unknown Gini, NaN, counts as 0).

    Returns
    -------
    dict of str to float
        Member -> weight, summing to 1 (equal weights where ENS2's are all 0).

    Examples
    --------
    >>> gini = {"dnn": 0.10, "gbt": 0.30, "raf": float("nan")}
    >>> {name: round(weight, 3) for name, weight in ensemble_weights("ens2", gini).items()}
    {'dnn': 0.25, 'gbt': 0.75, 'raf': 0.0}
    >>> {name: round(weight, 3) for name, weight in ensemble_weights("ens3", gini).items()}
    {'dnn': 0.273, 'gbt': 0.545, 'raf': 0.182}
    """
    names = list(gini)
    values = np.nan_to_num(np.array([gini[m] for m in names], dtype=float), nan=0.0)
    if name == "ens1":
        raw = np.ones(len(names))
    elif name == "ens2":
        raw = np.clip(values, 0.0, None)
    else:
        raw = 1.0 / (np.argsort(np.argsort(-values, kind="stable"), kind="stable") + 1.0)
    if not raw.sum() > 0:
        raw = np.ones(len(names))
    return dict(zip(names, (raw / raw.sum()).tolist()))
