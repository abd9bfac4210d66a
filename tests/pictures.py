"""Checks that a saved plot is a real picture, not an empty canvas."""

import numpy as np
from matplotlib.image import imread


def assert_not_blank(path, min_share: float = 0.02):
    """The PNG exists and more than ``min_share`` of its pixels differ from its commonest colour."""
    assert path.is_file(), f"{path} was not written"
    pixels = imread(path)[..., :3].reshape(-1, 3)
    colours, counts = np.unique((pixels * 255).astype(np.uint8), axis=0, return_counts=True)
    background_share = counts.max() / len(pixels)
    assert 1 - background_share > min_share, f"{path} is {background_share:.1%} one colour"
    assert len(colours) > 20, f"{path} has only {len(colours)} colours"
