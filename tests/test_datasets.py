"""deepfin.datasets: the seeds' generators reproduced exactly, MNIST read from local files."""

import gzip

import numpy as np
import pytest

from deepfin import datasets
from deepfin.datasets import mnist
from deepfin.datasets.bank import expected_transactions
from tests.test_seed_snippets import generate_spiral_data


def test_logistic_toy_is_the_seeds_four_rows():
    X, y = datasets.logistic_toy()
    np.testing.assert_array_equal(X, [[0, 1, 0], [1, 0, 0], [1, 1, 1], [0, 1, 1]])
    np.testing.assert_array_equal(y.ravel(), X[:, 0])  # the label is the first feature


def test_spirals_are_the_seeds_points_for_the_same_seed():
    np.random.seed(0)
    expected_X, expected_y = generate_spiral_data(3, 2, 300)
    X, y = datasets.spirals(3, 300, random_state=0)
    np.testing.assert_array_equal(X, expected_X)
    np.testing.assert_array_equal(y, expected_y)


def test_gaussian_clouds_are_the_seeds_points_for_the_same_seed():
    np.random.seed(0)  # the seed's code, verbatim apart from names
    N = 1000
    y = np.random.randint(low=0, high=3, size=N)
    means = np.array([[-1, 1, -1], [-1, 1, 1]])
    covariances = np.random.random_sample((2, 3)) + 1
    X = np.vstack([np.random.randn(N) * covariances[0, y] + means[0, y],
                   np.random.randn(N) * covariances[1, y] + means[1, y]]).T
    ours_X, ours_y = datasets.gaussian_clouds(1000, random_state=0)
    np.testing.assert_array_equal(ours_X, X)
    np.testing.assert_array_equal(ours_y, y)


def test_universal_target_formula():
    x = np.array([0.0, 0.5, 1.0])
    expected = 0.2 + 0.4 * x**2 + 0.3 * x * np.sin(15 * x) + 0.05 * np.cos(50 * x)
    np.testing.assert_allclose(datasets.universal_target(x), expected)
    grid, values = datasets.universal_approximation(100)
    assert grid.shape == (100, 1) and values.shape == (100,) and grid[0, 0] == 0 and grid[-1, 0] == 1


def test_scikit_learn_sets_have_the_seeds_sizes():
    X, y = datasets.circles()
    assert X.shape == (50_000, 2) and set(np.unique(y)) == {0, 1}
    radii = np.hypot(*X.T)
    assert np.median(radii[y == 1]) < 0.3 < np.median(radii[y == 0])  # factor 0.1: inner circle of radius 0.1
    X, y = datasets.classification()
    assert X.shape == (5000, 20)
    X, y = datasets.digits()
    assert X.shape == (1797, 64) and X.min() == 0 and X.max() == 1
    X, y = datasets.two_moons(200)
    assert X.shape == (200, 2) and y.mean() == 0.5


def test_bank_transactions_follow_their_documented_law():
    X, y = datasets.bank_transactions(20_000, random_state=3)
    children, accounts = X.T
    assert children.min() == 0 and children.max() <= 5 and accounts.min() >= 1 and accounts.max() <= 6
    assert np.all(y == np.round(y)) and y.min() >= 0
    rate = expected_transactions(children, accounts)
    # Poisson: mean and variance of (y - rate) / sqrt(rate) are 0 and 1
    standardized = (y - rate) / np.sqrt(rate)
    assert abs(standardized.mean()) < 0.03 and abs(standardized.var() - 1) < 0.05
    np.testing.assert_array_equal(datasets.bank_transactions(50, random_state=3)[1],
                                  datasets.bank_transactions(50, random_state=3)[1])
    with pytest.raises(ValueError, match="n_samples"):
        datasets.bank_transactions(0)


def _write_idx(path, array, compress=False):
    codes = {np.dtype(np.uint8): 0x08, np.dtype(">i4"): 0x0C}
    header = bytes([0, 0, codes[array.dtype], array.ndim]) + np.array(array.shape, dtype=">u4").tobytes()
    opener = gzip.open if compress else open
    with opener(path, "wb") as stream:
        stream.write(header + array.tobytes())


@pytest.fixture
def mnist_folder(tmp_path):
    rng = np.random.default_rng(0)
    arrays = {"x_train": rng.integers(0, 256, (12, 28, 28), dtype=np.uint8),
              "y_train": rng.integers(0, 10, 12, dtype=np.uint8),
              "x_test": rng.integers(0, 256, (5, 28, 28), dtype=np.uint8),
              "y_test": rng.integers(0, 10, 5, dtype=np.uint8)}
    for i, (key, name) in enumerate(mnist.IDX_FILES.items()):
        compress = i % 2 == 0  # a mix of gzipped and plain files
        _write_idx(tmp_path / (name + (".gz" if compress else "")), arrays[key], compress)
    return tmp_path, arrays


def test_mnist_reads_idx_files_from_a_path(mnist_folder):
    folder, arrays = mnist_folder
    (x_train, y_train), (x_test, y_test) = mnist.load_data(folder)
    for key, value in {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}.items():
        np.testing.assert_array_equal(value, arrays[key])
        assert value.dtype == np.uint8


def test_mnist_reads_from_deepfin_data(mnist_folder, monkeypatch):
    folder, arrays = mnist_folder
    monkeypatch.setenv("DEEPFIN_DATA", str(folder))
    (x_train, _), _ = mnist.load_data()
    np.testing.assert_array_equal(x_train, arrays["x_train"])


def test_mnist_reads_keras_npz(mnist_folder, tmp_path_factory):
    _, arrays = mnist_folder
    folder = tmp_path_factory.mktemp("npz") / "mnist"
    folder.mkdir()
    np.savez(folder / "mnist.npz", **arrays)
    (_, _), (x_test, y_test) = mnist.load_data(folder.parent)  # found in the mnist/ sub-folder
    np.testing.assert_array_equal(y_test, arrays["y_test"])
    (_, y_train), _ = mnist.load_data(folder / "mnist.npz")
    np.testing.assert_array_equal(y_train, arrays["y_train"])


def test_mnist_npz_with_objects_is_refused(tmp_path):
    np.savez(tmp_path / "mnist.npz", x_train=np.array([object()], dtype=object), y_train=np.zeros(1),
             x_test=np.zeros((1, 2, 2)), y_test=np.zeros(1))
    with pytest.raises(ValueError, match="allow_pickle"):
        mnist.load_data(tmp_path)


def test_missing_mnist_says_where_to_put_the_files(tmp_path, monkeypatch):
    monkeypatch.delenv("DEEPFIN_DATA", raising=False)
    with pytest.raises(FileNotFoundError, match=r"train-images-idx3-ubyte.*DEEPFIN_DATA") as info:
        mnist.load_data()
    assert "does not download" in str(info.value)
    with pytest.raises(FileNotFoundError, match=str(tmp_path)):
        mnist.load_data(tmp_path)


def test_truncated_or_foreign_idx_files_are_refused(mnist_folder):
    folder, _ = mnist_folder
    plain = folder / "train-labels-idx1-ubyte"
    plain.write_bytes(plain.read_bytes()[:-3])
    with pytest.raises(ValueError, match="declares shape"):
        mnist.load_data(folder)
    plain.write_bytes(b"PK\x03\x04 not an idx file")
    with pytest.raises(ValueError, match="not an IDX file"):
        mnist.read_idx(plain)


def test_mismatched_image_and_label_counts_are_refused(mnist_folder):
    folder, arrays = mnist_folder
    _write_idx(folder / "t10k-labels-idx1-ubyte", arrays["y_test"][:3])  # 3 labels for 5 images
    with pytest.raises(ValueError, match="test data"):
        mnist.load_data(folder)
