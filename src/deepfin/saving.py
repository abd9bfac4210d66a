"""Saving and loading models and weights: a zip of JSON and ``.npz`` arrays, written atomically.

A model file holds ``metadata.json`` (format and version), ``config.json`` (the architecture and
the compile arguments), ``model.weights.npz`` and, when compiled, ``optimizer.npz`` (step count
and moment estimates), so a loaded model predicts bitwise the same and resumes training where it
stopped. Whatever the file is called ('model.h5', 'best_model.keras'), it is this format.
Loading reads JSON and arrays only (``allow_pickle=False``): a file can never run code.
``save_backup`` / ``load_backup`` write and read BackupAndRestore's backups in the same format:
the weights, the optimizer state, a JSON training state and extra arrays.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from collections.abc import Callable

import numpy as np

from deepfin import _archive, _budget, _custom
from deepfin import losses as losses_module
from deepfin import metrics as metrics_module
from deepfin import optimizers as optimizers_module
from deepfin._files import atomic_write

MODEL_FORMAT, WEIGHTS_FORMAT, FORMAT_VERSION = "deepfin.model", "deepfin.weights", 1
BACKUP_FORMAT = "deepfin.backup"


# ------------------------------------------------------------ writing
def save_model(model, filepath, overwrite: bool = True, include_optimizer: bool = True) -> None:
    """Write ``model`` (architecture, weights, compile arguments, optimizer state) to ``filepath``.

    The file is deepfin's zip format whatever its name; it replaces any earlier file atomically.

    Parameters
    ----------
    model : Sequential or Functional
        A built model; a subclassed model's architecture is Python code, which deepfin does not store.
    filepath : str or os.PathLike
        The file to write.
    overwrite : bool, default True
        Whether an existing file may be replaced.
    include_optimizer : bool, default True
        Whether to store the optimizer's state (step count and moments), when the model is compiled and the
        optimizer has been built on the model's weights.

    Raises
    ------
    NotImplementedError
        For a subclassed model (save its weights with ``model.save_weights``).
    ValueError
        If the model is not built, or was compiled with an unnamed function (a lambda).
    FileExistsError
        If the file exists and ``overwrite`` is False.
    IsADirectoryError
        If ``filepath`` is a directory.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from deepfin import Sequential, layers, saving
    >>> model = Sequential([layers.Input((2,)), layers.Dense(1)])
    >>> model.compile(optimizer="adam", loss="mse")
    >>> with tempfile.TemporaryDirectory() as folder:  # doctest: +SKIP
    ...     path = os.path.join(folder, "model.keras")
    ...     saving.save_model(model, path)
    ...     loaded = saving.load_model(path)
    >>> x = np.ones((1, 2))
    >>> np.array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))  # doctest: +SKIP
    True
    """
    from deepfin.models import Functional, Sequential

    if not isinstance(model, (Sequential, Functional)):
        raise NotImplementedError(
            f"{type(model).__name__} is a subclassed model: its architecture is Python code, which deepfin "
            "does not store. Save its weights with model.save_weights(path) and rebuild it in code."
        )
    if not model.built:
        raise ValueError(f"Model '{model.name}' has no weights yet: build it or fit it before saving.")
    parts = {
        "metadata.json": _json({"format": MODEL_FORMAT, "format_version": FORMAT_VERSION,
                                "library": "deepfin", "version": _version()}),
        "config.json": _json({
            "class_name": type(model).__name__,
            "config": model.get_config(),
            "compile_config": _compile_config(model) if model.compiled else None,
        }),
        "model.weights.npz": _weights_npz(model.weights),
    }
    if include_optimizer and model.compiled and _owns_optimizer_state(model):
        parts["optimizer.npz"] = _npz(_optimizer_state(model))
    _write_zip(filepath, parts, overwrite)


def save_weights(model, filepath, overwrite: bool = True) -> None:
    """Write the model's weights (by position, with their paths) to ``filepath``.

    Parameters
    ----------
    model : Model
        The model whose ``weights`` are written.
    filepath : str or os.PathLike
        The file to write.
    overwrite : bool, default True
        Whether an existing file may be replaced.

    Raises
    ------
    FileExistsError
        If the file exists and ``overwrite`` is False.
    IsADirectoryError
        If ``filepath`` is a directory.
    """
    weights = model.weights
    parts = {
        "metadata.json": _json({"format": WEIGHTS_FORMAT, "format_version": FORMAT_VERSION,
                                "paths": [w.path for w in weights]}),
        "model.weights.npz": _weights_npz(weights),
    }
    _write_zip(filepath, parts, overwrite)


def save_backup(model, filepath, state: dict, arrays: dict[str, np.ndarray] | None = None) -> None:
    """Write a training backup: the weights, the optimizer state, ``state`` and ``arrays``.

    ``load_backup`` puts the model back and returns both. The format of ``BackupAndRestore``.

    Parameters
    ----------
    model : Model
        The model in training.
    filepath : str or os.PathLike
        The file to write (replaced atomically).
    state : dict
        Any JSON-able dict (where the fit stands, the random state).
    arrays : dict of str to np.ndarray or None, default None
        Extra plain arrays (a sample order).
    """
    weights = model.weights
    parts = {
        "metadata.json": _json({"format": BACKUP_FORMAT, "format_version": FORMAT_VERSION,
                                "shapes": [list(w.shape) for w in weights]}),
        "state.json": _json(state),
        "model.weights.npz": _weights_npz(weights),
        "arrays.npz": _npz(arrays or {}),
    }
    if _owns_optimizer_state(model):
        parts["optimizer.npz"] = _npz(_optimizer_state(model))
    _write_zip(filepath, parts, overwrite=True)


def load_backup(model, filepath) -> tuple[dict, dict[str, np.ndarray]]:
    """Restore ``model``'s weights and optimizer state from a ``save_backup`` file.

    Parameters
    ----------
    model : Model
        The model that was backed up (same weight shapes).
    filepath : str or os.PathLike
        The backup file.

    Returns
    -------
    state : dict
        The backup's ``state``.
    arrays : dict of str to np.ndarray
        The backup's ``arrays``.

    Raises
    ------
    ValueError
        If the file is not a readable backup, or was written by another architecture (other weight shapes):
        then nothing is changed.
    """
    path = os.fspath(filepath)
    parts = _read_zip(path, BACKUP_FORMAT)
    saved = [tuple(shape) for shape in _archive.parse_json(parts, "metadata.json", path).get("shapes", [])]
    shapes = [tuple(w.shape) for w in model.weights]
    if saved != shapes:
        raise ValueError(
            f"{path} was written by a model of another architecture: it holds {len(saved)} weights of "
            f"shapes {saved}; model '{model.name}' has {len(shapes)} weights of shapes {shapes}."
        )
    state = _archive.parse_json(parts, "state.json", path, allow_nan=True)  # a diverged fit's losses are NaN
    weights = _archive.parse_npz(parts, "model.weights.npz", path)
    arrays = _archive.parse_npz(parts, "arrays.npz", path)
    optimizer = _archive.parse_npz(parts, "optimizer.npz", path) if "optimizer.npz" in parts else None
    _assign(model, [weights[k] for k in sorted(weights)], path)
    if optimizer is not None:
        _restore_optimizer(model, optimizer, path)
    return state, arrays


def _write_zip(filepath, parts: dict[str, bytes], overwrite: bool) -> None:
    path = os.fspath(filepath)
    if os.path.isdir(path):
        raise IsADirectoryError(f"{path} is a directory; give a file path such as '{path}/model.keras'.")
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"{path} exists and overwrite=False.")
    with atomic_write(path) as raw, zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in parts.items():
            archive.writestr(name, content)


def _json(value) -> bytes:
    return json.dumps(value, indent=1).encode()


def _npz(arrays: dict[str, np.ndarray]) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def _weights_npz(weights) -> bytes:
    """The weights' arrays, by position (``0000``, ``0001``, ...)."""
    return _npz({f"{i:04d}": w.data for i, w in enumerate(weights)})


def _owns_optimizer_state(model) -> bool:
    """Whether the model has a built optimizer whose every variable is one of the model's weights (the state
    can then be saved by weight position)."""
    optimizer = getattr(model, "optimizer", None)
    return optimizer is not None and optimizer.built and \
        {id(v) for v in optimizer.model_variables} <= {id(w) for w in model.weights}


def _version() -> str:
    from deepfin import __version__

    return __version__


def _function_spec(fn: Callable) -> dict:
    name = getattr(fn, "__name__", None)
    if not name or name == "<lambda>":
        raise ValueError(f"Cannot save a model compiled with {fn!r}: give the function a name.")
    return {"function": name}


def _compile_config(model) -> dict:
    def loss_spec(loss):
        if isinstance(loss, losses_module.LossFunctionWrapper):
            return _function_spec(loss.fn)
        return losses_module.serialize(loss)

    def metric_spec(spec):
        if isinstance(spec, str):
            return spec
        if isinstance(spec, metrics_module.MeanMetricWrapper) and type(spec) is metrics_module.MeanMetricWrapper:
            return {**_function_spec(spec.fn), "name": spec.name}
        if isinstance(spec, metrics_module.Metric):
            return metrics_module.serialize(spec)
        return _function_spec(spec)

    return {
        "optimizer": optimizers_module.serialize(model.optimizer),
        "loss": [loss_spec(loss) for loss in model.output_losses] if model.output_losses else None,
        "loss_weights": model.output_loss_weights,
        "metrics": [[metric_spec(s) for s in specs] for specs in model.output_metric_specs],
    }


def _optimizer_state(model) -> dict[str, np.ndarray]:
    optimizer = model.optimizer
    order = {id(v): i for i, v in enumerate(model.weights)}
    state = {"iterations": np.array(optimizer.iterations),
             "variables": np.array([order[id(v)] for v in optimizer.model_variables])}
    for i, slots in enumerate(optimizer.state_slots()):  # work buffers are not state: not saved
        for name, array in slots.items():
            state[f"{i:04d}/{name}"] = array
    return state


# ------------------------------------------------------------ reading
def load_model(filepath, custom_objects: dict | None = None, compile: bool = True, safe_mode: bool = True):
    """The model saved at ``filepath``, compiled as it was (unless ``compile=False``).

    Loading reads JSON and arrays only: a file can never run code.

    Parameters
    ----------
    filepath : str or os.PathLike
        A file written by ``save_model`` (``model.save``).
    custom_objects : dict or None, default None
        Maps the names of custom layers, activations, losses and metrics to their classes or functions.
    compile : bool, default True
        Whether to compile the model with its saved compile arguments and restore the optimizer's state.
    safe_mode : bool, default True
        Accepted for Keras compatibility; loading is always safe.

    Returns
    -------
    Model
        The model, with its weights.

    Raises
    ------
    ValueError
        If the file is not a deepfin model file (a weights file, a backup, a Keras file), is damaged, was
        written by a newer deepfin, or names a custom object that ``custom_objects`` does not give.
    """
    from deepfin.layers import deserialize

    path = os.fspath(filepath)
    parts = _read_zip(path, MODEL_FORMAT)
    config = _archive.parse_json(parts, "config.json", path)
    weights = _archive.parse_npz(parts, "model.weights.npz", path)
    budget = sum(array.size for array in weights.values())  # the model saved has these weights, no more
    with _custom.custom_object_scope(custom_objects):
        try:
            with _budget.weight_budget(budget):
                model = deserialize({"class_name": config["class_name"], "config": config["config"]},
                                    custom_objects)
        except (KeyError, TypeError, ValueError, AttributeError, IndexError, OverflowError, RecursionError) \
                as error:
            raise ValueError(f"{path}: the model's architecture in config.json could not be rebuilt: "
                             f"{type(error).__name__ + ': ' if isinstance(error, KeyError) else ''}{error}") \
                from error
        _assign(model, [weights[k] for k in sorted(weights)], path)
        if compile and config.get("compile_config"):
            _compile(model, config["compile_config"], path)
            if "optimizer.npz" in parts:
                _restore_optimizer(model, _archive.parse_npz(parts, "optimizer.npz", path), path)
    return model


def load_weights(model, filepath, skip_mismatch: bool = False, by_name: bool = False) -> None:
    """Set the model's weights from a weights file or a model file (by position, or by path).

    Parameters
    ----------
    model : Model
        The model to set.
    filepath : str or os.PathLike
        A file written by ``save_weights`` or ``save_model``.
    skip_mismatch : bool, default False
        With ``by_name``, leave a weight alone when the file's array has another shape, instead of raising.
    by_name : bool, default False
        Match weights by path (a weights file only) rather than by position; weights the file does not name are
        left alone.

    Raises
    ------
    ValueError
        If the file is not a deepfin weights or model file, the number or shapes of the weights differ (by
        position), a shape differs without ``skip_mismatch`` (by name), or the file records no paths (by name).
    """
    path = os.fspath(filepath)
    parts = _read_zip(path, (WEIGHTS_FORMAT, MODEL_FORMAT))
    arrays = _archive.parse_npz(parts, "model.weights.npz", path)
    values = [arrays[k] for k in sorted(arrays)]
    if by_name:
        metadata = _archive.parse_json(parts, "metadata.json", path)
        paths = metadata.get("paths")
        if paths is None:
            raise ValueError(f"{path} does not record weight paths; load it by position (by_name=False).")
        stored = dict(zip(paths, values))
        for w in model.weights:
            if w.path in stored and (stored[w.path].shape == w.shape or not skip_mismatch):
                _assign_one(w, stored[w.path], path)
        return
    _assign(model, values, path)


def _read_zip(path: str, expected) -> dict[str, bytes]:
    """The members of the deepfin file at ``path``, checked as ``_archive`` says, if its format is ``expected``."""
    expected = (expected,) if isinstance(expected, str) else expected
    parts = _archive.read_zip(path)
    if "metadata.json" not in parts:
        raise ValueError(f"{path} is a zip archive but not a deepfin file: it has no metadata.json.")
    metadata = _archive.parse_json(parts, "metadata.json", path)
    found, version = metadata.get("format"), metadata.get("format_version", 0)
    if found not in expected:
        what = _WHAT_FORMATS.get(found)
        if what is not None:
            raise ValueError(f"{path} is {what}, not {' or '.join(_WHAT_FORMATS[e] for e in expected)}.")
        found = found or ("a Keras .keras file" if "model.weights.h5" in parts else "unknown")
        raise ValueError(f"{path} holds {found!r}; expected one of {list(expected)}.")
    if not isinstance(version, int) or isinstance(version, bool):
        raise ValueError(f"{path} is damaged: metadata.json gives format_version={version!r}, not a number.")
    if version > FORMAT_VERSION:
        raise ValueError(
            f"{path} was written by a newer deepfin (format version {metadata['format_version']}); "
            f"this one reads version {FORMAT_VERSION}. Upgrade deepfin."
        )
    return parts


_WHAT_FORMATS = {
    MODEL_FORMAT: "a model file ('deepfin.model', written by model.save; load it with load_model)",
    WEIGHTS_FORMAT: "a weights file ('deepfin.weights', written by save_weights; load it into a model built in "
                    "code with model.load_weights)",
    BACKUP_FORMAT: "a training backup ('deepfin.backup', written by BackupAndRestore)",
}


def _assign(model, values: list[np.ndarray], path: str) -> None:
    weights = model.weights
    if len(values) != len(weights):
        raise ValueError(
            f"{path} holds {len(values)} weight arrays; model '{model.name}' has {len(weights)}. "
            "Is it the same architecture?"
        )
    for w, value in zip(weights, values):
        if value.shape != w.shape:
            raise ValueError(f"{path}: weight '{w.path}' has shape {w.shape}; the file has {value.shape}.")
    for w, value in zip(weights, values):
        _assign_one(w, value, path)


def _assign_one(weight, value: np.ndarray, path: str) -> None:
    if value.shape != weight.shape or value.dtype.kind not in "biuf":
        raise ValueError(f"{path}: weight '{weight.path}' has shape {weight.shape}; the file has {value.shape} of "
                         f"{value.dtype}.")
    weight.assign(value)


def _compile(model, config: dict, path: str) -> None:
    def loss_of(spec):
        if "function" in spec:
            return _custom_function(spec["function"], "loss", path)
        return losses_module.get(spec)

    def metric_of(spec):
        if isinstance(spec, str):
            return spec
        if "function" in spec:
            return metrics_module.MeanMetricWrapper(_custom_function(spec["function"], "metric", path),
                                                    name=spec.get("name"))
        return metrics_module.deserialize(spec)

    try:
        optimizer = optimizers_module.get(config["optimizer"])
        losses = None if config["loss"] is None else [loss_of(s) for s in config["loss"]]
        metrics = [[metric_of(s) for s in specs] for specs in config["metrics"]]
    except (KeyError, TypeError) as error:
        raise ValueError(f"{path}: the compile arguments could not be read: {error}") from error
    names = model.output_names
    model.compile(optimizer, losses if losses is None or len(losses) > 1 else losses[0],
                  metrics=dict(zip(names, metrics)) if len(names) > 1 else metrics[0],
                  loss_weights=config.get("loss_weights"))


def _custom_function(name: str, what: str, path: str) -> Callable:
    found = _custom.lookup(name) or getattr(losses_module if what == "loss" else metrics_module, name, None)
    if not callable(found):
        raise ValueError(
            f"{path} was compiled with the custom {what} {name!r}. Pass custom_objects={{{name!r}: {name}}} "
            "to load_model, or compile=False."
        )
    return found


def _restore_optimizer(model, state: dict, path: str) -> None:
    optimizer, weights = model.optimizer, model.weights
    try:
        variables = [weights[i] for i in state["variables"]]
        optimizer.build(variables)
        for i, slots in enumerate(optimizer.state_slots()):  # build() made fresh work buffers
            for name, array in slots.items():
                array[...] = state[f"{i:04d}/{name}"]
        optimizer.iterations = int(state["iterations"])
    except (KeyError, IndexError, ValueError) as error:
        raise ValueError(f"{path}: the optimizer state does not fit the model ({error}).") from error


# ------------------------------------------------------------ custom objects and JSON configs
def register_keras_serializable(package: str = "Custom", name: str | None = None):
    """Decorator registering a custom class or function for loading, as ``package>name`` (Keras's spelling).

    A registered object is found by name in every config, so models using it load without ``custom_objects``.

    Parameters
    ----------
    package : str, default "Custom"
        The package part of the registered name; non-empty, without ``>``.
    name : str or None, default None
        The name part; None gives the object's ``__name__``.

    Returns
    -------
    callable
        The decorator, which returns the object unchanged.

    Raises
    ------
    TypeError
        When applied to an object that is not a class or function.
    ValueError
        When applied, if ``package`` is empty or holds ``>``.

    Examples
    --------
    >>> from deepfin import saving
    >>> @saving.register_keras_serializable(package="docs")
    ... def doubled_error(y_true, y_pred):
    ...     return 2.0 * (y_pred - y_true) ** 2
    >>> saving.get_registered_name(doubled_error)
    'docs>doubled_error'
    >>> saving.get_registered_object("docs>doubled_error") is doubled_error
    True
    """
    def decorator(obj):
        _custom.register(obj, package, name)
        return obj

    return decorator


def get_registered_name(obj) -> str:
    """The name ``obj`` was registered under (``"package>name"``), else its own name.

    Parameters
    ----------
    obj : class or function
        The object.

    Returns
    -------
    str
        Its registered or own name.
    """
    return _custom.registered_name(obj)


def get_registered_object(name: str, custom_objects: dict | None = None, module_objects: dict | None = None):
    """The object known as ``name`` in ``custom_objects``, the registry, or ``module_objects``; None if none.

    Parameters
    ----------
    name : str
        A short name or a registered ``"package>name"``.
    custom_objects : dict or None, default None
        Names to look in first, as a ``custom_object_scope``.
    module_objects : dict or None, default None
        Names to look in last.

    Returns
    -------
    object or None
        The class or function, or None.
    """
    with _custom.custom_object_scope(custom_objects):
        found = _custom.lookup(name)
    return found if found is not None else (module_objects or {}).get(name)


def custom_object_scope(custom_objects: dict | None):
    """Context manager making ``custom_objects`` (name -> class or function) known by name inside it.

    Parameters
    ----------
    custom_objects : dict or None
        The objects by name; scopes nest, the inner one adding to the outer.

    Returns
    -------
    contextlib.AbstractContextManager
        The scope, for a ``with`` statement.
    """
    return _custom.custom_object_scope(custom_objects)


def model_to_json(model, **kwargs) -> str:
    """The model's architecture (no weights) as a JSON string.

    Parameters
    ----------
    model : Model
        The model.
    **kwargs
        Passed to ``json.dumps`` (``indent``, ...).

    Returns
    -------
    str
        ``{"class_name": ..., "config": ...}`` as JSON.

    Examples
    --------
    >>> from deepfin import Sequential, layers, saving
    >>> model = Sequential([layers.Input((2,)), layers.Dense(1)])
    >>> rebuilt = saving.model_from_json(saving.model_to_json(model))
    >>> [w.shape for w in rebuilt.weights]
    [(2, 1), (1,)]
    """
    from deepfin.layers import serialize

    return json.dumps(serialize(model), **kwargs)


def model_from_json(json_string: str, custom_objects: dict | None = None):
    """A new model (fresh weights) from the JSON that ``model.to_json()`` wrote.

    Parameters
    ----------
    json_string : str
        The JSON text.
    custom_objects : dict or None, default None
        Custom classes and functions by name.

    Returns
    -------
    Model
        The model, with newly initialized weights.

    Raises
    ------
    ValueError
        If the text is not JSON, or not an object with ``class_name`` and ``config``.
    """
    from deepfin.layers import deserialize

    try:
        spec = json.loads(json_string)
    except (TypeError, json.JSONDecodeError) as error:
        raise ValueError(f"model_from_json expects the JSON text of model.to_json(); it is not valid: {error}") \
            from None
    if not isinstance(spec, dict) or not {"class_name", "config"} <= set(spec):
        raise ValueError("model_from_json expects a JSON object with 'class_name' and 'config', as to_json writes.")
    with _custom.custom_object_scope(custom_objects):
        return deserialize({"class_name": spec["class_name"], "config": spec["config"]}, custom_objects)
