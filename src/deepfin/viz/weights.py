"""A dense layer's weights shown as images: the MNIST 'filters' of *Machine Learning in Finance* (2019).

That text shows the weights of its MNIST softmax regression as images, one per digit, and notes that they
seem to emphasize the regions of the image that best distinguish between the digits.
"""

from __future__ import annotations

import math

import numpy as np

from deepfin.viz._figures import finish, new_figure


def plot_dense_weights(layer_or_kernel, image_shape, max_units: int = 16, path=None, title: str | None = None):
    """One image per unit: the unit's incoming weights reshaped to ``image_shape`` (e.g. (28, 28)).

    Colours are centred on zero per image (red positive, blue negative).

    Parameters
    ----------
    layer_or_kernel : Dense or array_like
        A Dense layer or its kernel (inputs x units).
    image_shape : tuple of int
        The shape of one input image; its size must equal the kernel's inputs.
    max_units : int, default 16
        The most units shown (the first ones), five per row.
    path : str, os.PathLike or None, default None
        Where to save the figure; None saves nothing.
    title : str or None, default None
        The figure's title.

    Returns
    -------
    matplotlib.figure.Figure
        The figure.

    Raises
    ------
    ValueError
        If the kernel is not 2-D with ``prod(image_shape)`` rows.
    """
    kernel = layer_or_kernel.get_weights()[0] if hasattr(layer_or_kernel, "get_weights") else layer_or_kernel
    kernel = np.asarray(kernel)
    if kernel.ndim != 2 or kernel.shape[0] != math.prod(image_shape):
        raise ValueError(f"A kernel of shape (inputs, units) with inputs = {math.prod(image_shape)} "
                         f"(image_shape={tuple(image_shape)}) is needed. Received shape {kernel.shape}.")
    units = min(kernel.shape[1], max_units)
    ncols = min(units, 5)
    nrows = math.ceil(units / ncols)
    fig, axes = new_figure(ncols=ncols, nrows=nrows, panel_size=(2.2, 2.2))
    for unit, ax in enumerate(axes):
        ax.set_axis_off()
        if unit >= units:
            continue
        image = kernel[:, unit].reshape(image_shape)
        limit = np.abs(image).max() or 1.0
        ax.imshow(image, cmap="RdBu_r", vmin=-limit, vmax=limit)
        ax.set_title(f"unit {unit}", fontsize="small")
    return finish(fig, path, title)
