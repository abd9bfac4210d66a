"""The course texts' small teaching data sets, each with its text's defaults.

Where scikit-learn has the generator (moons, circles, make_classification, digits) it is used as is; the
spiral and Gaussian-cloud generators are the code of *Machine Learning in Finance* (2019, Module 5), made to
draw from a private ``RandomState`` so that ``random_state=0`` gives exactly the points that text's
``np.random.seed(0)`` gave.
"""

from __future__ import annotations

import numpy as np
from sklearn import datasets as _sk


def logistic_toy() -> tuple[np.ndarray, np.ndarray]:
    """Klaas (2019, ch. 1)'s 4-row logistic-regression set: 3 binary features, label = first feature.

    Returns
    -------
    X : np.ndarray of shape (4, 3)
        The features.
    y : np.ndarray of shape (4, 1)
        The labels, as a column.

    Examples
    --------
    >>> from deepfin import datasets
    >>> X, y = datasets.logistic_toy()
    >>> X
    array([[0., 1., 0.],
           [1., 0., 0.],
           [1., 1., 1.],
           [0., 1., 1.]])
    >>> y.ravel()
    array([0., 1., 1., 0.])
    """
    X = np.array([[0, 1, 0], [1, 0, 0], [1, 1, 1], [0, 1, 1]], dtype=float)
    y = np.array([[0, 1, 1, 0]], dtype=float).T
    return X, y


def two_moons(n_samples: int = 200, noise: float = 0.2, random_state: int | None = 0):
    """Two interleaving half circles (scikit-learn's ``make_moons``), 2 features, labels 0/1.

    The data set on which Klaas (2019, ch. 1) shows a hidden layer too small (1 unit) and too large (500 units)
    for the moons.

    Parameters
    ----------
    n_samples : int, default 200
        The number of points.
    noise : float, default 0.2
        The standard deviation of the Gaussian noise added.
    random_state : int or None, default 0
        Seeds scikit-learn's generator.

    Returns
    -------
    X : np.ndarray of shape (n_samples, 2)
        The points.
    y : np.ndarray of shape (n_samples,)
        The labels.
    """
    return _sk.make_moons(n_samples, noise=noise, random_state=random_state)


def circles(n_samples: int = 50_000, factor: float = 0.1, noise: float = 0.1, random_state: int | None = 0):
    """Two concentric circles (scikit-learn's ``make_circles``), with Jansen (2020, ch. 17)'s defaults.

    Jansen's are 50,000 points, factor 0.1, noise 0.1.

    Parameters
    ----------
    n_samples : int, default 50000
        The number of points (shuffled).
    factor : float, default 0.1
        The inner circle's radius relative to the outer one's.
    noise : float, default 0.1
        The standard deviation of the Gaussian noise added.
    random_state : int or None, default 0
        Seeds scikit-learn's generator.

    Returns
    -------
    X : np.ndarray of shape (n_samples, 2)
        The points.
    y : np.ndarray of shape (n_samples,)
        The labels, 0 and 1.
    """
    return _sk.make_circles(n_samples=n_samples, shuffle=True, factor=factor, noise=noise,
                            random_state=random_state)


def classification(n_samples: int = 5000, random_state: int | None = 123):
    """scikit-learn's ``make_classification`` as Della Lunga (2022) calls it: 20 features, 2 classes.

    Parameters
    ----------
    n_samples : int, default 5000
        The number of samples.
    random_state : int or None, default 123
        Seeds scikit-learn's generator.

    Returns
    -------
    X : np.ndarray of shape (n_samples, 20)
        The features.
    y : np.ndarray of shape (n_samples,)
        The labels, 0 and 1.
    """
    return _sk.make_classification(n_samples=n_samples, random_state=random_state)


def spirals(num_classes: int = 3, points_per_class: int = 300, noise: float = 0.2, random_state: int | None = 0):
    """*Machine Learning in Finance* (2019)'s spirals: ``num_classes`` arms of ``points_per_class`` points.

    Parameters
    ----------
    num_classes : int, default 3
        The number of arms (classes).
    points_per_class : int, default 300
        The points per arm.
    noise : float, default 0.2
        The standard deviation of the noise added to each point's angle.
    random_state : int or None, default 0
        Seeds a private ``np.random.RandomState``.

    Returns
    -------
    X : np.ndarray of shape (num_classes * points_per_class, 2)
        The points, float32.
    y : np.ndarray of shape (num_classes * points_per_class,)
        The labels 0..num_classes-1, uint8.

    Examples
    --------
    >>> import numpy as np
    >>> from deepfin import datasets
    >>> X, y = datasets.spirals()
    >>> X.shape, np.bincount(y)
    ((900, 2), array([300, 300, 300]))
    """
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
    """*Machine Learning in Finance* (2019)'s three overlapping Gaussian clouds in 2-D, for the linear softmax.

    Parameters
    ----------
    n_samples : int, default 1000
        The number of points; each gets a class drawn uniformly from 0, 1 and 2.
    random_state : int or None, default 0
        Seeds a private ``np.random.RandomState``.

    Returns
    -------
    X : np.ndarray of shape (n_samples, 2)
        The points.
    y : np.ndarray of shape (n_samples,)
        The labels 0, 1 and 2.
    """
    rng = np.random.RandomState(random_state)
    y = rng.randint(low=0, high=3, size=n_samples)
    means = np.array([[-1, 1, -1], [-1, 1, 1]])
    scales = rng.random_sample((2, 3)) + 1
    X = np.vstack([rng.randn(n_samples) * scales[0, y] + means[0, y],
                   rng.randn(n_samples) * scales[1, y] + means[1, y]]).T
    return X, y


def universal_target(x) -> np.ndarray:
    """The function to approximate: f(x) = 0.2 + 0.4x^2 + 0.3x sin(15x) + 0.05 cos(50x).

    It is *Machine Learning in Finance* (2019)'s example of a neural network as a universal approximator.

    Parameters
    ----------
    x : array_like
        The points.

    Returns
    -------
    np.ndarray
        f at each point.

    Examples
    --------
    >>> from deepfin import datasets
    >>> float(datasets.universal_target(0.0))
    0.25
    """
    x = np.asarray(x, dtype=float)
    return 0.2 + 0.4 * x**2 + 0.3 * x * np.sin(15 * x) + 0.05 * np.cos(50 * x)


def universal_approximation(resolution: int = 100):
    """*Machine Learning in Finance* (2019)'s training data for the universal approximator.

    Parameters
    ----------
    resolution : int, default 100
        The number of evenly spaced points on [0, 1].

    Returns
    -------
    x : np.ndarray of shape (resolution, 1)
        The points, as a column.
    y : np.ndarray of shape (resolution,)
        ``universal_target`` at each point, as a vector.
    """
    x = np.linspace(0.0, 1.0, resolution)
    return x[:, None], universal_target(x)


def digits():
    """scikit-learn's 8x8 digits (1,797 images), pixels scaled to [0, 1] and flattened to 64 columns.

    Returns
    -------
    X : np.ndarray of shape (1797, 64)
        The images.
    y : np.ndarray of shape (1797,)
        The digits 0 to 9.
    """
    bunch = _sk.load_digits()
    return bunch.data / 16.0, bunch.target
