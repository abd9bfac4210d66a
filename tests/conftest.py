import numpy as np
import pytest

import deepfin
from deepfin import backend


@pytest.fixture(autouse=True)
def _fresh_state():
    """Each test starts from float32, fresh layer names and a fixed seed."""
    backend.set_floatx("float32")
    backend.clear_session()
    deepfin.utils.set_random_seed(0)
    yield
    backend.set_floatx("float32")


@pytest.fixture
def float64():
    backend.set_floatx("float64")
    yield
    backend.set_floatx("float32")


@pytest.fixture
def rng():
    return np.random.default_rng(42)
