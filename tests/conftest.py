import numpy as np
import pytest

import deepfin
from deepfin import backend


@pytest.fixture(autouse=True)
def _fresh_state():
    """Each test starts from float32, fresh layer names and a fixed seed, and leaves the compiled-kernel switch
    as the process set it (``DEEPFIN_COMPILED``)."""
    compiled = backend.compiled()
    backend.set_floatx("float32")
    backend.clear_session()
    deepfin.utils.set_random_seed(0)
    yield
    backend.set_floatx("float32")
    backend.set_compiled(compiled)


@pytest.fixture
def compiled_kernels():
    """The compiled kernels on for the test, whatever ``DEEPFIN_COMPILED`` says: for tests of why a model does
    or does not train on them."""
    backend.set_compiled(True)


@pytest.fixture
def float64():
    backend.set_floatx("float64")
    yield
    backend.set_floatx("float32")


@pytest.fixture
def rng():
    return np.random.default_rng(42)
