"""Preprocessing layers with Keras 3's names and arguments.

``Rescaling``, ``Normalization``, ``Discretization``, ``CategoryEncoding``, ``IntegerLookup`` and
``StringLookup``. Their state (statistics, boundaries, vocabularies) is saved with the model: Normalization's
as weights, the others' in their config.
"""

from __future__ import annotations

import numpy as np

from deepfin.engine.tensor import Tensor
from deepfin.layers.base import Layer
from deepfin.layers.symbolic import is_symbolic


class Rescaling(Layer):
    """Rescale the inputs: ``inputs * scale + offset``.

    For example ``Rescaling(1 / 255)``, or ``Rescaling(100)`` for returns in percent. The output has the
    input's shape.

    Parameters
    ----------
    scale : float
        The factor.
    offset : float, default 0.0
        Added after scaling.
    **kwargs
        ``Layer`` arguments.

    Raises
    ------
    ValueError
        If ``scale`` or ``offset`` is not a number.

    Examples
    --------
    >>> import numpy as np
    >>> from deepfin.layers import Rescaling
    >>> Rescaling(100)(np.array([[0.01, -0.02]])).numpy()
    array([[ 1., -2.]], dtype=float32)
    """

    _same_shape_out = True

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        for name, value in (("scale", scale), ("offset", offset)):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"{name} must be a number. Received: {name}={value!r}")
        self.scale, self.offset = float(scale), float(offset)

    def call(self, inputs):
        """Return ``inputs * scale + offset``."""
        return inputs * self.scale + self.offset

    def get_config(self):
        """Return the layer's config with ``scale`` and ``offset``."""
        return {**super().get_config(), "scale": self.scale, "offset": self.offset}


class Normalization(Layer):
    """Standardize the inputs: ``(inputs - mean) / sqrt(variance)`` per feature along ``axis``.

    ``mean`` and ``variance`` are given or learned by ``adapt(data)``; ``invert=True`` undoes the
    standardization (``inputs * sqrt(variance) + mean``, to put a prediction back on the targets' scale). The
    adapted ``mean``, ``variance`` and ``count`` are the layer's (non-trainable) weights, saved with the model
    as Keras saves them; given statistics are kept in the config instead. The standard deviation is floored at
    1e-7, Keras's epsilon. The output has the input's shape.

    Parameters
    ----------
    axis : int or list of int or None, default -1
        The axes that keep their own mean and variance (the last: one per feature); None for one mean and
        variance over every value. Not the batch axis.
    mean : float or array_like or None, default None
        The mean, broadcast against a sample; given with ``variance``, or neither (then call ``adapt``).
    variance : float or array_like or None, default None
        The variance, not negative.
    invert : bool, default False
        Whether to undo the standardization instead.
    **kwargs
        ``Layer`` arguments.

    Raises
    ------
    ValueError
        If only one of ``mean`` and ``variance`` is given or the variance is negative; when built, if ``axis``
        does not fit the input or an axis kept has an unknown size.

    Examples
    --------
    >>> import numpy as np
    >>> from deepfin.layers import Normalization
    >>> layer = Normalization()
    >>> layer.adapt(np.array([[1.0], [3.0]]))
    >>> layer.mean.numpy(), layer.variance.numpy()
    (array([2.], dtype=float32), array([1.], dtype=float32))
    >>> layer(np.array([[1.0], [3.0]])).numpy()
    array([[-1.],
           [ 1.]], dtype=float32)
    >>> Normalization(mean=2.0, variance=1.0, invert=True)(np.array([[0.0, 1.0]])).numpy()
    array([[2., 3.]], dtype=float32)
    """

    _same_shape_out = True

    def __init__(self, axis=-1, mean=None, variance=None, invert: bool = False, **kwargs):
        super().__init__(**kwargs)
        if (mean is None) != (variance is None):
            raise ValueError("Normalization takes both mean and variance, or neither (then call adapt).")
        self.axis = () if axis is None else (axis,) if isinstance(axis, int) else tuple(axis)
        self.input_mean = None if mean is None else np.asarray(mean, dtype=np.float64)
        self.input_variance = None if variance is None else np.asarray(variance, dtype=np.float64)
        if self.input_variance is not None and (self.input_variance < 0).any():
            raise ValueError("Normalization's variance must be non-negative.")
        self.invert = bool(invert)
        self.mean = self.variance = self.count = None

    def build(self, input_shape):
        """Check ``axis`` against the input; without given statistics, create ``mean``, ``variance``, ``count``."""
        ndim = len(input_shape)
        if any(not -ndim <= a < ndim for a in self.axis) or any(a % ndim == 0 for a in self.axis):
            raise ValueError(f"Normalization's axis {self.axis} does not fit inputs of shape {tuple(input_shape)} "
                             "(the batch axis cannot be kept).")
        self._keep = tuple(sorted(a % ndim for a in self.axis))
        shape = tuple(input_shape[a] for a in self._keep)
        if None in shape:
            raise ValueError(f"Normalization needs known sizes on the axes it keeps. Received input_shape="
                             f"{tuple(input_shape)}.")
        self._reduce = tuple(a for a in range(ndim) if a not in self._keep)
        self._broadcast = tuple(input_shape[a] if a in self._keep else 1 for a in range(1, ndim))
        if self.input_mean is None:
            self.mean = self.add_weight(shape, "zeros", trainable=False, name="mean")
            self.variance = self.add_weight(shape, "ones", trainable=False, name="variance")
            self.count = self.add_weight((), "zeros", trainable=False, name="count")

    def adapt(self, data, batch_size: int | None = None, steps: int | None = None) -> None:
        """Learn the mean and (biased) variance of ``data``, batch by batch; the sums run in float64.

        Parameters
        ----------
        data : np.ndarray or iterable
            An array, or an iterable of batches (a generator, a ``PyDataset``); of an ``(x, y)`` batch only
            ``x`` is read.
        batch_size : int or None, default None
            Accepted for Keras's signature; unused (an array is read at once).
        steps : int or None, default None
            The most batches taken from an iterable; all by default.

        Raises
        ------
        ValueError
            If the layer was given its mean and variance, or ``data`` holds no samples.
        """
        if self.input_mean is not None:
            raise ValueError("This Normalization was given its mean and variance; it has nothing to adapt.")
        batches = [np.asarray(data)] if isinstance(data, np.ndarray) or not _iterable(data) else \
            (np.asarray(b[0] if isinstance(b, tuple) else b) for b in data)
        total = squares = None
        count = 0
        for number, batch in enumerate(batches):
            if steps is not None and number >= steps:
                break
            if not self.built:
                self.build((None, *batch.shape[1:]))
            values = batch.astype(np.float64)
            total = values.sum(axis=self._reduce) + (0 if total is None else total)
            squares = (values * values).sum(axis=self._reduce) + (0 if squares is None else squares)
            count += values.size // max(1, int(np.prod([values.shape[a] for a in self._keep])))
        if not count:
            raise ValueError("Normalization.adapt received no data.")
        mean = total / count
        self.mean.assign(mean)
        self.variance.assign(np.maximum(squares / count - mean * mean, 0.0))
        self.count.assign(count)

    def _statistics(self) -> tuple[np.ndarray, np.ndarray]:
        if self.input_mean is not None:
            mean, variance = self.input_mean, self.input_variance
        else:
            mean, variance = self.mean.data, self.variance.data
        shape = self._broadcast if np.ndim(mean) else ()
        return (np.reshape(mean, shape).astype(self.dtype), np.reshape(variance, shape).astype(self.dtype))

    def call(self, inputs):
        """Return the standardized ``inputs`` (or, with ``invert``, the inputs put back on the data's scale)."""
        mean, variance = self._statistics()
        deviation = np.maximum(np.sqrt(variance), np.asarray(1e-7, variance.dtype))
        return inputs * deviation + mean if self.invert else (inputs - mean) / deviation

    def get_config(self):
        """Return the layer's config with ``axis``, ``invert`` and the given ``mean`` and ``variance``."""
        return {**super().get_config(), "axis": list(self.axis) if self.axis else None, "invert": self.invert,
                "mean": None if self.input_mean is None else self.input_mean.tolist(),
                "variance": None if self.input_variance is None else self.input_variance.tolist()}


def _iterable(data) -> bool:
    try:
        iter(data)
    except TypeError:
        return False
    return True


_OUTPUT_MODES = ("int", "one_hot", "multi_hot", "count")


def _encode(indices: np.ndarray, output_mode: str, depth: int) -> np.ndarray:
    """Encode integer ``indices`` in [0, depth) as Keras does.

    As themselves ('int'), one column per index ('one_hot', for one index a sample), or per sample which
    indices occur ('multi_hot') and how often ('count').
    """
    if output_mode == "int":
        return indices.astype(np.int64)
    if output_mode == "one_hot":
        if indices.ndim > 1 and indices.shape[-1] != 1:
            return np.eye(depth, dtype=np.float32)[indices]
        return np.eye(depth, dtype=np.float32)[indices.reshape(indices.shape[0])] if indices.ndim > 1 else \
            np.eye(depth, dtype=np.float32)[indices]
    rows = indices.reshape(len(indices), -1) if indices.ndim > 1 else indices.reshape(1, -1)
    counts = np.zeros((len(rows), depth), np.float32)
    np.add.at(counts, (np.arange(len(rows))[:, None], rows), 1.0)
    counts = counts if indices.ndim > 1 else counts[0]
    return counts if output_mode == "count" else (counts > 0).astype(np.float32)


def _check_output_mode(output_mode) -> str:
    if output_mode not in _OUTPUT_MODES:
        raise ValueError(f"output_mode must be one of {_OUTPUT_MODES}. Received: output_mode={output_mode!r}")
    return output_mode


class _Raw(Layer):
    """A preprocessing layer whose inputs are not the model's floats (strings, identifiers).

    Called on arrays, it takes them as they are; its outputs are constants (nothing to differentiate).
    """

    def __call__(self, inputs, training=None, mask=None):
        if is_symbolic(inputs):
            return super().__call__(inputs, training=training)
        values = inputs.data if isinstance(inputs, Tensor) else np.asarray(inputs)
        if not self.built:
            self.build((None, *values.shape[1:]))
        output = self.call(values)
        return Tensor(output, dtype=output.dtype)


class Discretization(_Raw):
    """Turn real values into the indices of the buckets they fall in.

    The buckets are bounded by ``bin_boundaries`` given, or are ``num_bins`` buckets of equal counts learned by
    ``adapt(data)`` (exact quantiles; Keras's are approximate, within ``epsilon``). Bucket ``i`` holds the
    values from boundary ``i - 1`` (included) to boundary ``i`` (excluded). The indices are encoded by
    ``output_mode``: 'int' gives an array of the input's shape; 'one_hot' adds an axis of one column per bucket
    (or replaces a last axis of 1); 'multi_hot' and 'count' give one row per sample. The outputs are constants
    (no gradient flows through the layer).

    Parameters
    ----------
    bin_boundaries : list of float or None, default None
        The boundaries, in increasing order; given, or ``num_bins`` (not both).
    num_bins : int or None, default None
        The number of buckets ``adapt`` learns.
    epsilon : float, default 0.01
        Kept for Keras's signature and config; the quantiles are exact.
    output_mode : {"int", "one_hot", "multi_hot", "count"}, default "int"
        The encoding.
    sparse : bool, default False
        Must be False: deepfin's outputs are dense.
    **kwargs
        ``Layer`` arguments.

    Raises
    ------
    ValueError
        If both or neither of ``bin_boundaries`` and ``num_bins`` are given, ``sparse`` is true, or
        ``output_mode`` is another; when called before ``adapt`` without boundaries.

    Examples
    --------
    >>> import numpy as np
    >>> from deepfin.layers import Discretization
    >>> Discretization(bin_boundaries=[0.0, 1.0])(np.array([[-0.5, 0.5, 1.5]])).numpy()
    array([[0, 1, 2]])
    >>> layer = Discretization(num_bins=4)
    >>> layer.adapt(np.arange(8.0))
    >>> layer.bin_boundaries
    [1.75, 3.5, 5.25]
    """

    def __init__(self, bin_boundaries=None, num_bins: int | None = None, epsilon: float = 0.01,
                 output_mode: str = "int", sparse: bool = False, **kwargs):
        super().__init__(**kwargs)
        if (bin_boundaries is None) == (num_bins is None):
            raise ValueError("Discretization takes bin_boundaries or num_bins (then call adapt), not both.")
        if sparse:
            raise ValueError("Discretization(sparse=True) is not supported: deepfin's outputs are dense.")
        self.bin_boundaries = None if bin_boundaries is None else [float(b) for b in bin_boundaries]
        self.num_bins, self.epsilon = num_bins, epsilon
        self.output_mode = _check_output_mode(output_mode)

    def adapt(self, data, steps: int | None = None) -> None:
        """Learn ``num_bins - 1`` boundaries: the quantiles of every value of ``data``.

        Parameters
        ----------
        data : np.ndarray or iterable
            An array, or an iterable of batches (arrays).
        steps : int or None, default None
            The most batches taken from an iterable; all by default.

        Raises
        ------
        ValueError
            If the layer was given ``bin_boundaries`` (no ``num_bins``).
        """
        if self.num_bins is None:
            raise ValueError("This Discretization was given bin_boundaries; use num_bins to adapt.")
        batches = [np.asarray(data)] if isinstance(data, np.ndarray) or not _iterable(data) else \
            [np.asarray(b) for i, b in enumerate(data) if steps is None or i < steps]
        values = np.concatenate([b.reshape(-1) for b in batches]).astype(np.float64)
        self.bin_boundaries = np.quantile(values, np.arange(1, self.num_bins) / self.num_bins).tolist()

    def call(self, inputs):
        """Return the encoded bucket indices of ``inputs`` (a NumPy array)."""
        if self.bin_boundaries is None:
            raise ValueError("Discretization needs bin_boundaries, or adapt(data) first.")
        indices = np.digitize(np.asarray(inputs, np.float64), self.bin_boundaries)
        return _encode(indices, self.output_mode, len(self.bin_boundaries) + 1)

    def get_config(self):
        """Return the layer's config with the boundaries (learned ones included)."""
        return {**super().get_config(), "bin_boundaries": self.bin_boundaries, "num_bins": self.num_bins,
                "epsilon": self.epsilon, "output_mode": self.output_mode, "sparse": False}

    @classmethod
    def from_config(cls, config):
        """Build the layer from its config; an adapted layer comes back with its boundaries."""
        config = dict(config)
        if config.get("bin_boundaries") is not None:
            config["num_bins"] = None  # an adapted layer comes back with its boundaries
        return cls(**config)


class CategoryEncoding(_Raw):
    """Encode integer categories in [0, num_tokens) as 'one_hot', 'multi_hot' (the default) or 'count'.

    'one_hot' adds an axis of ``num_tokens`` columns (or replaces a last axis of 1); 'multi_hot' gives one row
    per sample with 1 where a category occurs, 'count' how often it does (a 1-D input is one sample). The
    outputs are constants (no gradient flows through the layer).

    Parameters
    ----------
    num_tokens : int
        The number of categories, a positive integer; it must be given.
    output_mode : {"one_hot", "multi_hot", "count"}, default "multi_hot"
        The encoding.
    sparse : bool, default False
        Must be False: deepfin's outputs are dense.
    **kwargs
        ``Layer`` arguments.

    Raises
    ------
    ValueError
        If ``num_tokens`` is not a positive integer, ``output_mode`` is "int" or another, or ``sparse`` is true;
        when called, if a value is not a whole number in [0, num_tokens).

    Examples
    --------
    >>> import numpy as np
    >>> from deepfin.layers import CategoryEncoding
    >>> CategoryEncoding(3, output_mode="one_hot")(np.array([0, 2])).numpy()
    array([[1., 0., 0.],
           [0., 0., 1.]], dtype=float32)
    >>> CategoryEncoding(3, output_mode="count")(np.array([[0, 2], [1, 1]])).numpy()
    array([[1., 0., 1.],
           [0., 2., 0.]], dtype=float32)
    """

    def __init__(self, num_tokens: int | None = None, output_mode: str = "multi_hot", sparse: bool = False,
                 **kwargs):
        super().__init__(**kwargs)
        if isinstance(num_tokens, bool) or not isinstance(num_tokens, int) or num_tokens < 1:
            raise ValueError(f"num_tokens must be a positive integer. Received: num_tokens={num_tokens!r}")
        if output_mode == "int" or sparse:
            raise ValueError("CategoryEncoding's output_mode is 'one_hot', 'multi_hot' or 'count', dense.")
        self.num_tokens, self.output_mode = num_tokens, _check_output_mode(output_mode)

    def call(self, inputs):
        """Return the encoded categories (a NumPy array)."""
        values = np.asarray(inputs)
        indices = values.astype(np.int64)
        if values.size and (not np.array_equal(indices, values) or indices.min() < 0
                            or indices.max() >= self.num_tokens):
            raise ValueError(f"CategoryEncoding takes whole numbers in [0, {self.num_tokens}); received values "
                             f"from {values.min()} to {values.max()}.")
        return _encode(indices, self.output_mode, self.num_tokens)

    def get_config(self):
        """Return the layer's config with ``num_tokens`` and ``output_mode``."""
        return {**super().get_config(), "num_tokens": self.num_tokens, "output_mode": self.output_mode,
                "sparse": False}


class _Lookup(_Raw):
    """A vocabulary of tokens to indices, the base of ``IntegerLookup`` and ``StringLookup``.

    The mask token (if any) is at index 0, then ``num_oov_indices`` (0 or 1) for tokens not in the vocabulary,
    then the vocabulary, given or learned by ``adapt`` (most frequent first, ties in descending order of the
    token, as Keras orders them).
    """

    def __init__(self, max_tokens: int | None, num_oov_indices: int, mask_token, oov_token, vocabulary,
                 invert: bool, output_mode: str, **kwargs):
        super().__init__(**kwargs)
        if num_oov_indices not in (0, 1):
            raise ValueError("num_oov_indices must be 0 or 1 in deepfin (Keras hashes unknown tokens over more).")
        if invert and output_mode != "int":
            raise ValueError("invert=True needs output_mode='int'.")
        self.max_tokens, self.num_oov_indices = max_tokens, num_oov_indices
        self.mask_token, self.oov_token, self.invert = mask_token, oov_token, bool(invert)
        self.output_mode = _check_output_mode(output_mode)
        self.vocabulary = None if vocabulary is None else list(vocabulary)

    def adapt(self, data, steps: int | None = None) -> None:
        """Learn the vocabulary from ``data``: its tokens, most frequent first.

        Ties are in descending order of the token; the mask token is left out, and with ``max_tokens`` the
        vocabulary is cut so that it and the special tokens make ``max_tokens``.

        Parameters
        ----------
        data : np.ndarray or iterable
            An array of tokens, or an iterable of batches (arrays).
        steps : int or None, default None
            The most batches taken from an iterable; all by default.
        """
        batches = [np.asarray(data)] if isinstance(data, np.ndarray) or not _iterable(data) else \
            [np.asarray(b) for i, b in enumerate(data) if steps is None or i < steps]
        tokens, counts = np.unique(np.concatenate([b.reshape(-1) for b in batches]), return_counts=True)
        ordered = sorted(zip(counts.tolist(), tokens.tolist()), reverse=True)
        vocabulary = [token for _, token in ordered if token != self.mask_token]
        if self.max_tokens is not None:
            vocabulary = vocabulary[:self.max_tokens - self.num_oov_indices - (self.mask_token is not None)]
        self.vocabulary = vocabulary

    def get_vocabulary(self, include_special_tokens: bool = True) -> list:
        """Return the tokens by index: the mask and OOV tokens first (with ``include_special_tokens``).

        Parameters
        ----------
        include_special_tokens : bool, default True
            Whether to include the mask and OOV tokens.

        Returns
        -------
        list
            The tokens; with the special tokens, token ``i`` is the one index ``i`` stands for.

        Raises
        ------
        ValueError
            If the layer has no vocabulary yet (none given, no ``adapt``).
        """
        if self.vocabulary is None:
            raise ValueError(f"{type(self).__name__} has no vocabulary: give one, or call adapt(data).")
        special = ([] if self.mask_token is None else [self.mask_token]) + [self.oov_token] * self.num_oov_indices
        return special + self.vocabulary if include_special_tokens else list(self.vocabulary)

    def vocabulary_size(self) -> int:
        """Return the number of indices: the vocabulary and the special tokens.

        Returns
        -------
        int
            ``len(get_vocabulary())``.
        """
        return len(self.get_vocabulary())

    def call(self, inputs):
        """Return the tokens' encoded indices, or with ``invert`` the indices' tokens (a NumPy array)."""
        tokens = self.get_vocabulary()
        if self.invert:
            indices = np.asarray(inputs).astype(np.int64)
            if indices.size and (indices.min() < 0 or indices.max() >= len(tokens)):
                raise ValueError(f"{type(self).__name__}(invert=True) takes indices in [0, {len(tokens)}).")
            return np.asarray(tokens, dtype=object if self._strings else np.int64)[indices]
        first = len(tokens) - len(self.vocabulary)
        table = {token: first + i for i, token in enumerate(self.vocabulary)}
        if self.mask_token is not None:
            table[self.mask_token] = 0
        values = np.asarray(inputs)
        unknown = -1 if self.num_oov_indices == 0 else first - 1
        indices = np.array([table.get(self._key(v), unknown) for v in values.reshape(-1)],
                           dtype=np.int64).reshape(values.shape)
        if (indices < 0).any():
            raise ValueError(f"{type(self).__name__} met tokens outside its vocabulary and has no OOV index "
                             "(num_oov_indices=0).")
        return _encode(indices, self.output_mode, len(tokens))

    def get_config(self):
        """Return the layer's config with its special tokens, its vocabulary (learned one included) and modes."""
        return {**super().get_config(), "max_tokens": self.max_tokens, "num_oov_indices": self.num_oov_indices,
                "mask_token": self.mask_token, "oov_token": self.oov_token, "vocabulary": self.vocabulary,
                "invert": self.invert, "output_mode": self.output_mode}


class IntegerLookup(_Lookup):
    """Map integer identifiers (PERMNOs, sector codes) to contiguous indices, with Keras 3's defaults.

    By default the OOV token -1 is at index 0 and there is no mask token, so the vocabulary starts at 1. The
    indices are encoded by ``output_mode``: 'int' gives an array of the input's shape, the others as
    ``CategoryEncoding`` does, over the vocabulary size. ``invert=True`` maps indices back to identifiers.
    The outputs are constants (no gradient flows through the layer).

    Parameters
    ----------
    max_tokens : int or None, default None
        The largest number of indices ``adapt`` makes, the special tokens included; no limit for None.
    num_oov_indices : int, default 1
        0 or 1 indices for tokens outside the vocabulary (Keras hashes unknown tokens over more; deepfin does
        not). With 0, an unknown token raises.
    mask_token : int or None, default None
        A token that marks padding, at index 0; none by default.
    oov_token : int, default -1
        The token the OOV index stands for in ``get_vocabulary`` and with ``invert``.
    vocabulary : list or None, default None
        The tokens, in index order; or learned by ``adapt``.
    vocabulary_dtype : str, default "int64"
        Accepted for Keras's signature; the identifiers are Python integers.
    idf_weights : None
        Not supported: it must be None.
    invert : bool, default False
        Whether to map indices to identifiers (needs ``output_mode="int"``).
    output_mode : {"int", "one_hot", "multi_hot", "count"}, default "int"
        The encoding of the indices.
    sparse : bool, default False
        Must be False.
    pad_to_max_tokens : bool, default False
        Must be False.
    **kwargs
        ``Layer`` arguments.

    Raises
    ------
    ValueError
        If ``num_oov_indices`` is not 0 or 1, ``invert`` comes with another ``output_mode``, ``output_mode`` is
        unknown, or an unsupported argument is given; when called, without a vocabulary, or on an unknown
        token with ``num_oov_indices=0``.

    Examples
    --------
    >>> import numpy as np
    >>> from deepfin.layers import IntegerLookup
    >>> layer = IntegerLookup()
    >>> layer.adapt(np.array([7, 7, 3, 5, 5, 5]))
    >>> layer.get_vocabulary()
    [-1, 5, 7, 3]
    >>> layer(np.array([5, 9])).numpy()  # 9 is not in the vocabulary: the OOV index
    array([1, 0])
    """

    _strings = False

    def __init__(self, max_tokens: int | None = None, num_oov_indices: int = 1, mask_token=None, oov_token=-1,
                 vocabulary=None, vocabulary_dtype="int64", idf_weights=None, invert: bool = False,
                 output_mode: str = "int", sparse: bool = False, pad_to_max_tokens: bool = False, **kwargs):
        if idf_weights is not None or sparse or pad_to_max_tokens:
            raise ValueError("IntegerLookup does not support idf_weights, sparse or pad_to_max_tokens in deepfin.")
        super().__init__(max_tokens, num_oov_indices, mask_token, oov_token,
                         None if vocabulary is None else [int(v) for v in vocabulary], invert, output_mode, **kwargs)

    @staticmethod
    def _key(value):
        return int(value)


class StringLookup(_Lookup):
    """Map strings (tickers, sector names) to contiguous indices, with Keras 3's defaults.

    By default the OOV token '[UNK]' is at index 0 and there is no mask token. It is called on arrays of
    strings (outside a model's float inputs). The indices are encoded by ``output_mode``: 'int' gives an
    array of the input's shape, the others as ``CategoryEncoding`` does, over the vocabulary size.
    ``invert=True`` maps indices back to strings. The outputs are constants (no gradient flows through the
    layer).

    Parameters
    ----------
    max_tokens : int or None, default None
        The largest number of indices ``adapt`` makes, the special tokens included; no limit for None.
    num_oov_indices : int, default 1
        0 or 1 indices for tokens outside the vocabulary (Keras hashes unknown tokens over more; deepfin does
        not). With 0, an unknown token raises.
    mask_token : str or None, default None
        A token that marks padding, at index 0; none by default.
    oov_token : str, default "[UNK]"
        The token the OOV index stands for in ``get_vocabulary`` and with ``invert``.
    vocabulary : list or None, default None
        The tokens, in index order; or learned by ``adapt``.
    idf_weights : None
        Not supported: it must be None.
    invert : bool, default False
        Whether to map indices to strings (needs ``output_mode="int"``).
    output_mode : {"int", "one_hot", "multi_hot", "count"}, default "int"
        The encoding of the indices.
    pad_to_max_tokens : bool, default False
        Must be False.
    sparse : bool, default False
        Must be False.
    encoding : str, default "utf-8"
        Accepted for Keras's signature; bytes are decoded as UTF-8.
    **kwargs
        ``Layer`` arguments.

    Raises
    ------
    ValueError
        If ``num_oov_indices`` is not 0 or 1, ``invert`` comes with another ``output_mode``, ``output_mode`` is
        unknown, or an unsupported argument is given; when called, without a vocabulary, or on an unknown
        token with ``num_oov_indices=0``.

    Examples
    --------
    >>> import numpy as np
    >>> from deepfin.layers import StringLookup
    >>> layer = StringLookup(vocabulary=["AAPL", "MSFT"])
    >>> layer(np.array([["MSFT", "IBM"]])).numpy()
    array([[2, 0]])
    >>> layer.get_vocabulary()
    ['[UNK]', 'AAPL', 'MSFT']
    """

    _strings = True

    def __init__(self, max_tokens: int | None = None, num_oov_indices: int = 1, mask_token=None,
                 oov_token: str = "[UNK]", vocabulary=None, idf_weights=None, invert: bool = False,
                 output_mode: str = "int", pad_to_max_tokens: bool = False, sparse: bool = False,
                 encoding: str = "utf-8", **kwargs):
        if idf_weights is not None or sparse or pad_to_max_tokens:
            raise ValueError("StringLookup does not support idf_weights, sparse or pad_to_max_tokens in deepfin.")
        super().__init__(max_tokens, num_oov_indices, mask_token, oov_token,
                         None if vocabulary is None else [str(v) for v in vocabulary], invert, output_mode, **kwargs)

    @staticmethod
    def _key(value):
        return value.decode() if isinstance(value, bytes) else str(value)
