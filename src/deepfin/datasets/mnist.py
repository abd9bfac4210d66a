"""MNIST from files on this machine (nothing is downloaded): ``load_data()`` as ``keras.datasets.mnist``.

Accepted, in a folder given as ``path`` or by the ``DEEPFIN_DATA`` environment variable:

- Keras's ``mnist.npz`` (arrays ``x_train``, ``y_train``, ``x_test``, ``y_test``), or a path to such a file;
- the four IDX files from Yann LeCun's site, plain or gzipped: ``train-images-idx3-ubyte``,
  ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte`` (``.gz`` allowed),
  directly in the folder or in an ``mnist/`` sub-folder.
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np

ENVIRONMENT_VARIABLE = "DEEPFIN_DATA"
IDX_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}
_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def load_data(path: str | os.PathLike | None = None):
    """MNIST as ``keras.datasets.mnist.load_data`` returns it, from files on this machine.

    Parameters
    ----------
    path : str, os.PathLike or None, default None
        A folder holding the files (directly or in an ``mnist/`` sub-folder), or an ``.npz`` file; None reads
        the folder named by ``$DEEPFIN_DATA``.

    Returns
    -------
    (x_train, y_train), (x_test, y_test) : tuple of tuple of np.ndarray
        uint8 images ``(n, 28, 28)`` and uint8 labels ``(n,)``.

    Raises
    ------
    FileNotFoundError
        If no such files are found (nothing is downloaded); the message says where it looked.
    ValueError
        If a file is not a valid IDX file or ``mnist.npz``, or the images and labels do not fit together.
    """
    for folder_or_file in _candidates(path):
        if folder_or_file.is_file():
            return _load_npz(folder_or_file)
        if (folder_or_file / "mnist.npz").is_file():
            return _load_npz(folder_or_file / "mnist.npz")
        files = {key: _find_idx(folder_or_file, name) for key, name in IDX_FILES.items()}
        if all(files.values()):
            arrays = {key: read_idx(file) for key, file in files.items()}
            return _checked(arrays, source=folder_or_file)
    searched = ", ".join(str(p) for p in _candidates(path)) or "nowhere (no path given and $DEEPFIN_DATA unset)"
    raise FileNotFoundError(
        "MNIST files not found; deepfin does not download data. Put Keras's mnist.npz, or the four IDX files "
        f"({', '.join(IDX_FILES.values())}, optionally .gz), in a folder and pass it as path= or set "
        f"${ENVIRONMENT_VARIABLE} to it. Searched: {searched}."
    )


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read one IDX file (plain or gzipped) into an array of its declared dtype and shape.

    Parameters
    ----------
    path : str or os.PathLike
        The file; a name ending in ``.gz`` is read with gzip.

    Returns
    -------
    np.ndarray
        The data, in native byte order.

    Raises
    ------
    ValueError
        If the file does not start as an IDX file or its size does not match the declared shape.
    """
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as stream:
        raw = stream.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise ValueError(f"{path} is not an IDX file: its first bytes should be 0, 0, a type code and a rank.")
    dtype, ndim = np.dtype(_IDX_DTYPES[raw[2]]), raw[3]
    header = 4 + 4 * ndim
    shape = tuple(int(n) for n in np.frombuffer(raw[4:header], dtype=">u4"))
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(raw) - header != expected:
        raise ValueError(f"{path} declares shape {shape} ({expected} bytes of data) but holds {len(raw) - header}.")
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def _candidates(path) -> list[Path]:
    if path is not None:
        roots = [Path(path)]
    elif os.environ.get(ENVIRONMENT_VARIABLE):
        roots = [Path(os.environ[ENVIRONMENT_VARIABLE])]
    else:
        return []
    return [p for root in roots for p in (root, root / "mnist") if p.exists()]


def _find_idx(folder: Path, name: str) -> Path | None:
    for candidate in (folder / name, folder / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    return None


def _load_npz(file: Path):
    with np.load(file, allow_pickle=False) as archive:
        missing = [key for key in IDX_FILES if key not in archive.files]
        if missing:
            raise ValueError(f"{file} lacks the arrays {missing}; Keras's mnist.npz has x_train, y_train, x_test, "
                             "y_test.")
        return _checked({key: archive[key] for key in IDX_FILES}, source=file)


def _checked(arrays: dict, source: Path):
    for split in ("train", "test"):
        images, labels = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise ValueError(f"MNIST {split} data in {source} should be images (n, height, width) and n labels; "
                             f"found shapes {images.shape} and {labels.shape}.")
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])
