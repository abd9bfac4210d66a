"""Data for the course texts' experiments: toy sets, digits, synthetic bank customers, MNIST from local files.

The texts are Klaas (2019), Della Lunga (2022), Jansen (2020), *Machine Learning in Finance* (2019) and
DataCamp's course *Introduction to Deep Learning in Python*; each loader names the one whose data it makes.
Every loader returns NumPy arrays ``X, y`` (MNIST: Keras's ``(x_train, y_train), (x_test, y_test)``).
"""

from deepfin.datasets import mnist
from deepfin.datasets.bank import bank_transactions
from deepfin.datasets.toy import (
    circles,
    classification,
    digits,
    gaussian_clouds,
    logistic_toy,
    spirals,
    two_moons,
    universal_approximation,
    universal_target,
)

__all__ = [
    "bank_transactions", "circles", "classification", "digits", "gaussian_clouds", "logistic_toy", "mnist",
    "spirals", "two_moons", "universal_approximation", "universal_target",
]
