"""The seeds' small teaching data sets, each with the seed's defaults.

Where scikit-learn has the generator (moons, circles, make_classification, digits) it is used as is;
the spiral and Gaussian-cloud generators are the seed's own code, made to draw from a private
``RandomState`` so that ``random_state=0`` gives exactly the points the seed's ``np.random.seed(0)`` gave.
"""

from __future__ import annotations

import numpy as np
from sklearn import datasets as _sk


def logistic_toy() -> tuple[np.ndarray, np.ndarray]:
    """The seed's 4-row logistic-regression set: 3 binary features, label = first feature."""
    X = np.array([[0, 1, 0], [1, 0, 0], [1, 1, 1], [0, 1, 1]], dtype=float)
    y = np.array([[0, 1, 1, 0]], dtype=float).T
    return X, y


def two_moons(n_samples: int = 200, noise: float = 0.2, random_state: int | None = 0):
    """Two interleaving half circles (scikit-learn's ``make_moons``), 2 features, labels 0/1."""
    return _sk.make_moons(n_samples, noise=noise, random_state=random_state)


def circles(n_samples: int = 50_000, factor: float = 0.1, noise: float = 0.1, random_state: int | None = 0):
    """Two concentric circles (scikit-learn's ``make_circles``); the seed's 50,000 points, factor 0.1, noise 0.1."""
    return _sk.make_circles(n_samples=n_samples, shuffle=True, factor=factor, noise=noise,
                            random_state=random_state)


def classification(n_samples: int = 5000, random_state: int | None = 123):
    """scikit-learn's ``make_classification`` as the seed calls it: 20 features, 2 classes."""
    return _sk.make_classification(n_samples=n_samples, random_state=random_state)


def spirals(num_classes: int = 3, points_per_class: int = 300, noise: float = 0.2, random_state: int | None = 0):
    """The seed's spirals: ``num_classes`` arms of ``points_per_class`` points, labels 0..num_classes-1."""
    rng = np.random.RandomState(random_state)
    X = np.zeros((points_per_class * num_classes, 2), dtype="float32")
    y = np.zeros(points_per_class * num_classes, dtype="uint8")
    radius = np.linspace(0.0, 1, points_per_class)
    for label in range(num_classes):
        rows = slice(points_per_class * label, points_per_class * (label + 1))
        theta = np.linspace(label * 4, (label + 1) * 4, points_per_class) + rng.randn(points_per_class) * noise
        X[rows] = np.column_stack([radius * np.sin(theta), radius * np.cos(theta)])
        y[rows] = label
    return X, y


def gaussian_clouds(n_samples: int = 1000, random_state: int | None = 0):
    """The seed's three overlapping Gaussian clouds in 2-D (labels 0, 1, 2), for the linear softmax."""
    rng = np.random.RandomState(random_state)
    y = rng.randint(low=0, high=3, size=n_samples)
    means = np.array([[-1, 1, -1], [-1, 1, 1]])
    scales = rng.random_sample((2, 3)) + 1
    X = np.vstack([rng.randn(n_samples) * scales[0, y] + means[0, y],
                   rng.randn(n_samples) * scales[1, y] + means[1, y]]).T
    return X, y


def universal_target(x) -> np.ndarray:
    """The seed's function to approximate: f(x) = 0.2 + 0.4x^2 + 0.3x sin(15x) + 0.05 cos(50x)."""
    x = np.asarray(x, dtype=float)
    return 0.2 + 0.4 * x**2 + 0.3 * x * np.sin(15 * x) + 0.05 * np.cos(50 * x)


def universal_approximation(resolution: int = 100):
    """The seed's training data for the universal approximator: x on [0, 1] as a column, f(x) as a vector."""
    x = np.linspace(0.0, 1.0, resolution)
    return x[:, None], universal_target(x)


def digits():
    """scikit-learn's 8x8 digits (1,797 images), pixels scaled to [0, 1] and flattened to 64 columns."""
    bunch = _sk.load_digits()
    return bunch.data / 16.0, bunch.target
