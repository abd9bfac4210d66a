"""Checking and arranging what ``fit`` / ``evaluate`` / ``predict`` receive.

Inputs and targets become lists with one NumPy array per model input / output; every check runs
before any training, and every message names what was wrong and what was expected.
"""

from __future__ import annotations

import numpy as np

from deepfin._text import shape_str


def split_structure(data, names: list[str], what: str) -> list:
    """Return one entry per name from a single array, a list / tuple, or a dict keyed by name.

    Parameters
    ----------
    data : object
        One array (one name), a list or tuple in name order, or a dict keyed by name.
    names : list of str
        The model's input or output names.
    what : str
        ``"inputs"`` or ``"outputs"``, for messages.

    Returns
    -------
    list
        The entries, in the order of ``names``.

    Raises
    ------
    ValueError
        If a dict's keys are not exactly ``names``, or a list's length is not theirs.
    """
    if isinstance(data, dict):
        missing = [n for n in names if n not in data]
        unknown = [k for k in data if k not in names]
        if missing or unknown:
            raise ValueError(
                f"{what} given as a dict needs exactly the keys {names}. Missing: {missing}; unknown: {unknown}."
            )
        return [data[n] for n in names]
    if len(names) == 1:
        if isinstance(data, (list, tuple)) and len(data) == 1 and not np.isscalar(data[0]):
            return list(data)
        return [data]
    if not isinstance(data, (list, tuple)) or len(data) != len(names):
        raise ValueError(
            f"The model has {len(names)} {what} ({names}): pass a list of {len(names)} arrays or a dict "
            f"keyed by those names. Received {type(data).__name__}."
        )
    return list(data)


def check_input(x, expected: tuple | None, dtype: str, label: str, model_name: str,
                input_name: str = "input") -> np.ndarray:
    """Return ``x`` as a finite float array of the model's dtype that fits ``expected``.

    A memory-mapped array (``np.load(path, mmap_mode="r")``, ``np.memmap``) is checked as it is, in blocks of
    rows, and returned uncast and unread: the model casts each batch to its dtype as it takes it, so an array
    larger than memory trains without ever being loaded whole. Anything else is cast to the model's dtype here.
    A 1-D array is taken as one feature per sample when the model expects that (or nothing), as Keras 2 did.

    Parameters
    ----------
    x : array_like
        The data for one model input.
    expected : tuple or None
        The input's shape, batch axis first (``None`` where free), or None when not known.
    dtype : str
        The model's dtype.
    label : str
        How messages name ``x`` (``"x"``, ``"validation_x"``, ...).
    model_name : str
        The model's name, for messages.
    input_name : str, default "input"
        The input layer's name, for messages.

    Returns
    -------
    np.ndarray
        The checked array (a memory-mapped one as given).

    Raises
    ------
    ValueError
        If ``x`` is None, holds anything but numbers, has no batch axis, holds NaN or infinity, or does not
        fit ``expected``.
    """
    if x is None:
        raise ValueError(f"{label} is required. Received: {label}=None")
    mapped = isinstance(x, np.memmap)
    array = x if mapped else np.asarray(x)
    if array.dtype.kind not in "biuf":
        raise ValueError(f"{label} must hold numbers. Received an array of dtype {array.dtype}.")
    if array.ndim == 0:
        raise ValueError(f"{label} must have a batch axis. Received a scalar.")
    if array.ndim == 1 and (expected is None or tuple(expected[1:]) == (1,)):
        array = array.reshape(-1, 1)  # one feature per sample, as Keras 2 accepted
    if not mapped:
        array = array.astype(dtype, copy=False)
    row = first_non_finite_row(array)
    if row is not None:
        raise ValueError(f"{label} contains NaN or inf (first at row {row}). Clean or impute it first.")
    if expected is not None and not fits(array.shape, expected):
        raise ValueError(
            f"{label} of shape {array.shape} does not fit model '{model_name}': its input layer "
            f"'{input_name}' expects inputs of shape {shape_str(expected)}."
        )
    return array


def first_non_finite_row(array: np.ndarray, block_bytes: int = 1 << 22) -> int | None:
    """Return the first row holding a NaN or an infinity, or None.

    The array is read in blocks of about ``block_bytes``, so that a memory-mapped array is streamed and no
    temporary grows with the array.

    Parameters
    ----------
    array : np.ndarray
        The data, samples on the first axis.
    block_bytes : int, default 4 MiB
        About how much is read at once.

    Returns
    -------
    int or None
        The index of the first row with a non-finite value; None when there is none (or the dtype is not
        floating or complex).
    """
    if array.dtype.kind not in "fc" or array.size == 0:
        return None
    step = max(1, block_bytes // max(1, array[:1].nbytes))
    for start in range(0, len(array), step):
        bad = ~np.isfinite(array[start:start + step])
        if bad.any():
            return start + int(np.argwhere(bad)[0][0])
    return None


def fits(shape: tuple, expected: tuple) -> bool:
    """Tell whether an array of ``shape`` fits an input of shape ``expected``.

    Parameters
    ----------
    shape : tuple
        The data's shape.
    expected : tuple
        The input's shape, batch axis first; ``None`` matches any size. The batch axis is not compared.

    Returns
    -------
    bool
        True when the ranks are equal and every other axis matches.
    """
    return len(shape) == len(expected) and all(e is None or s == e for s, e in zip(shape[1:], expected[1:]))


def check_same_length(arrays: list[np.ndarray], labels: list[str]) -> int:
    """Return the number of samples, refusing arrays of different lengths.

    Parameters
    ----------
    arrays : list of np.ndarray
        Inputs and targets.
    labels : list of str
        Their names, for the message.

    Returns
    -------
    int
        The common number of samples.

    Raises
    ------
    ValueError
        If the arrays' lengths differ.
    """
    lengths = {len(a) for a in arrays}
    if len(lengths) > 1:
        described = ", ".join(f"{label} has {len(a)}" for a, label in zip(arrays, labels))
        raise ValueError(f"Data cardinality is ambiguous: {described} samples. Make them equal.")
    return len(arrays[0])


def check_not_empty(n: int, label: str, what: str) -> None:
    """Refuse data of 0 samples before ``what`` (a method name) does any work.

    Parameters
    ----------
    n : int
        The number of samples.
    label : str
        How the message names the data.
    what : str
        The method's name.

    Raises
    ------
    ValueError
        If ``n`` is 0.
    """
    if n == 0:
        raise ValueError(f"{label} has 0 samples; {what}() needs at least one.")


def check_sample_weight(sample_weight, n: int, dtype: str, label: str = "sample_weight"):
    """Return ``sample_weight`` as ``n`` finite non-negative weights of ``dtype``, not all zero.

    Parameters
    ----------
    sample_weight : array_like or None
        One weight per sample, shape (n,) or (n, 1); None for none.
    n : int
        The number of samples.
    dtype : str
        The model's dtype.
    label : str, default "sample_weight"
        How messages name the weights.

    Returns
    -------
    np.ndarray or None
        The weights, shape (n,); None when none were given.

    Raises
    ------
    ValueError
        If the weights are not ``n`` finite non-negative numbers, or are all zero.
    """
    if sample_weight is None:
        return None
    sample_weight = np.asarray(sample_weight, dtype=dtype)
    if sample_weight.ndim == 2 and sample_weight.shape[1] == 1:
        sample_weight = sample_weight[:, 0]
    if sample_weight.shape != (n,) or not np.all(np.isfinite(sample_weight)) or (sample_weight < 0).any():
        raise ValueError(
            f"{label} must be {n} finite non-negative numbers, one per sample. "
            f"Received an array of shape {sample_weight.shape}."
        )
    if n and not sample_weight.any():
        raise ValueError(f"{label} must have at least one non-zero weight; all {n} weights are zero.")
    return sample_weight


def class_weight_to_sample_weight(class_weight, y: np.ndarray, dtype: str) -> np.ndarray:
    """Return per-sample weights from ``{class: weight}``; classes left out weigh 1, as in Keras.

    Parameters
    ----------
    class_weight : dict
        Weights by class index (integers >= 0).
    y : np.ndarray
        The targets: class indices, or one-hot rows (the class is the largest column).
    dtype : str
        The model's dtype.

    Returns
    -------
    np.ndarray
        One weight per sample.

    Raises
    ------
    ValueError
        If ``class_weight`` is not a non-empty dict of class indices to finite non-negative numbers.
    """
    if not isinstance(class_weight, dict) or not class_weight:
        raise ValueError(f"class_weight must be a non-empty dict {{class index: weight}}. Received: {class_weight!r}")
    for k, v in class_weight.items():
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 0:
            raise ValueError(f"class_weight keys must be class indices (integers >= 0). Received key {k!r}.")
        if isinstance(v, bool) or not isinstance(v, (int, float, np.number)) or not np.isfinite(v) or v < 0:
            raise ValueError(f"class_weight[{k}] must be a finite non-negative number. Received {v!r}.")
    y = np.asarray(y)
    labels = np.argmax(y, axis=-1) if y.ndim > 1 and y.shape[-1] > 1 else np.rint(y.reshape(len(y))).astype(np.intp)
    table = np.ones(max(int(labels.max()) + 1, max(class_weight) + 1), dtype=dtype)
    for k, v in class_weight.items():
        table[k] = v
    return table[labels]


def unpack_validation(validation_data):
    """Return ``(x_val, y_val, val_sample_weight)`` from ``validation_data``, ``None`` where absent.

    Parameters
    ----------
    validation_data : tuple or list
        ``(x_val, y_val)`` or ``(x_val, y_val, val_sample_weight)``.

    Returns
    -------
    tuple
        The three parts.

    Raises
    ------
    ValueError
        If ``validation_data`` is not a tuple or list of 2 or 3.
    """
    if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
        raise ValueError(
            "validation_data must be a tuple (x_val, y_val) or (x_val, y_val, val_sample_weight). "
            f"Received: {type(validation_data).__name__} {validation_data!r:.80}"
        )
    return tuple(validation_data) + (None,) * (3 - len(validation_data))


def split_validation(xs: list, ys: list, sample_weight, validation_split):
    """Split off the last ``validation_split`` of the samples, before any shuffling (as Keras).

    Parameters
    ----------
    xs : list of np.ndarray
        The inputs.
    ys : list of np.ndarray
        The targets.
    sample_weight : np.ndarray or None
        The sample weights.
    validation_split : float
        The fraction held out, in (0, 1).

    Returns
    -------
    head, tail : tuple
        ``(xs, ys, sample_weight)`` for training, then for validation.

    Raises
    ------
    ValueError
        If ``validation_split`` is not in (0, 1), or leaves no training or no validation sample.
    """
    if isinstance(validation_split, bool) or not isinstance(validation_split, (int, float)) \
            or not 0 < validation_split < 1:
        raise ValueError(f"validation_split must be a float in (0, 1). Received: {validation_split!r}")
    n = len(xs[0])
    split = int(np.floor(n * (1.0 - validation_split)))
    if split == 0 or split == n:
        raise ValueError(
            f"validation_split={validation_split} leaves {split} training and {n - split} "
            f"validation samples out of {n}; both need at least one."
        )
    head = ([a[:split] for a in xs], [a[:split] for a in ys], None if sample_weight is None else sample_weight[:split])
    tail = ([a[split:] for a in xs], [a[split:] for a in ys], None if sample_weight is None else sample_weight[split:])
    return head, tail


def check_int(name: str, value, minimum: int) -> None:
    """Refuse a ``value`` that is not an integer of at least ``minimum``.

    Parameters
    ----------
    name : str
        The argument's name, for the message.
    value : object
        The value given.
    minimum : int
        The smallest value allowed.

    Raises
    ------
    ValueError
        If ``value`` is not an integer (booleans are not) or is below ``minimum``.
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}. Received: {name}={value!r}")


def check_batch_size(batch_size) -> int:
    """Return the batch size: 32 for None, as Keras, else a checked positive integer.

    Parameters
    ----------
    batch_size : int or None
        The batch size given.

    Returns
    -------
    int
        The batch size.

    Raises
    ------
    ValueError
        If ``batch_size`` is not a positive integer.
    """
    if batch_size is None:
        return 32
    check_int("batch_size", batch_size, minimum=1)
    return int(batch_size)
