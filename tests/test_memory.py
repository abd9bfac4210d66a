"""Memory at scale: features in float32 without copies of the panel, and ``fit`` on a memory-mapped array that is
never loaded whole (tracemalloc sees NumPy's allocations; the pages of a mapped file are not among them)."""

import os
import platform
import subprocess
import sys
import tracemalloc

import numpy as np
import pandas as pd
import pytest

import deepfin
from deepfin.finance import daily_features, monthly_features, synthetic_universe, with_calendar_dummies
from deepfin.finance.models.network import estimator
from deepfin.finance.panel.preprocessing import BlockwiseStandardScaler
from deepfin.finance.pipeline import workflow
from deepfin.layers import Dense
from deepfin.models import Sequential

ROWS, COLUMNS = 200_000, 44


def _peak(work):
    """``work()``'s result and the peak of the memory it allocated while it ran, in bytes."""
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        result = work()
        return result, tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()


def _model():
    deepfin.utils.set_random_seed(3)
    model = Sequential([Dense(8, activation="relu", input_shape=(COLUMNS,)), Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    return model


@pytest.fixture(scope="module")
def mapped(tmp_path_factory):
    """x (200,000 x 44) saved as float32 and float64 .npy files, and the labels."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((ROWS, COLUMNS)).astype(np.float32)
    y = (x[:, 0] + 0.5 * rng.standard_normal(ROWS) > 0).astype(np.float32)
    folder = tmp_path_factory.mktemp("mapped")
    paths = {}
    for dtype in ("float32", "float64"):
        paths[dtype] = folder / f"x_{dtype}.npy"
        np.save(paths[dtype], x.astype(dtype))
    return paths, y


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_fit_streams_a_memory_mapped_array(mapped, dtype):
    """fit, evaluate and predict on np.load(mmap_mode="r") allocate under 8 MB (the file is 35 MB in float32,
    70 MB in float64: neither is copied or cast whole), and train exactly as on the array in memory."""
    paths, y = mapped
    x = np.load(paths[dtype], mmap_mode="r")
    assert isinstance(x, np.memmap) and x.dtype == dtype
    warm = _model()  # loads the compiled kernels (a one-time cost of some MB) before anything is measured
    warm.fit(x[:2048], y[:2048], batch_size=1024, epochs=1, verbose=0)
    warm.evaluate(x[:2048], y[:2048], verbose=0)
    warm.predict(x[:2048], verbose=0)
    model = _model()

    def work():
        history = model.fit(x, y, batch_size=1024, epochs=2, verbose=0)
        return history, model.evaluate(x, y, batch_size=4096, verbose=0), model.predict(x[:5000], verbose=0)

    (history, loss, predicted), peak = _peak(work)
    assert peak < 8 * 2**20, f"fit on a mapped {x.nbytes / 2**20:.0f} MB array allocated {peak / 2**20:.1f} MB"

    in_memory = _model()
    expected = in_memory.fit(np.load(paths[dtype]), y, batch_size=1024, epochs=2, verbose=0)
    assert history.history["loss"] == expected.history["loss"]
    assert loss == in_memory.evaluate(np.load(paths[dtype]), y, batch_size=4096, verbose=0)
    for mine, theirs in zip(model.weights, in_memory.weights):
        np.testing.assert_array_equal(mine.numpy(), theirs.numpy())
    assert predicted.dtype == np.float32


def test_a_memory_mapped_array_with_nan_is_refused_by_row(tmp_path):
    x = np.zeros((50_000, 4))
    x[31_234, 2] = np.nan
    np.save(tmp_path / "x.npy", x)
    with pytest.raises(ValueError, match="first at row 31234"):
        _model_for(4).fit(np.load(tmp_path / "x.npy", mmap_mode="r"), np.zeros(50_000), verbose=0)


def _model_for(width):
    model = Sequential([Dense(1, input_shape=(width,))])
    model.compile(optimizer="sgd", loss="mse")
    return model


@pytest.fixture(scope="module")
def panel():
    """A market of 100 index members over 6 years of business days (names list and delist: the panel is
    about 1,560 days x 200 names of float64)."""
    return synthetic_universe(100, years=6, seed=1).prices


@pytest.mark.parametrize("recipe", [daily_features, monthly_features])
def test_features_are_float32_and_built_without_copies_of_the_panel(panel, recipe):
    """The feature matrix is float32, and building it allocates at most its own size plus 6 panels: one wide
    frame per feature at a time, never all of them, and no float64 copy of the rows."""
    X, peak = _peak(lambda: recipe(panel))
    assert set(X.dtypes) == {np.dtype(np.float32)}
    assert peak <= X.memory_usage(index=True).sum() + 6 * panel.to_numpy().nbytes, \
        f"{recipe.__name__}: peak {peak / 2**20:.1f} MB for {X.memory_usage().sum() / 2**20:.1f} MB of features " \
        f"from a {panel.to_numpy().nbytes / 2**20:.1f} MB panel"


def test_calendar_dummies_are_uint8_beside_float32_returns(panel):
    X = with_calendar_dummies(monthly_features(panel))
    dummies = X.columns.str.startswith(("year_", "month_"))
    assert set(X.dtypes[dummies]) == {np.dtype(np.uint8)} and set(X.dtypes[~dummies]) == {np.dtype(np.float32)}
    assert (X.loc[:, dummies].sum(axis=1) == 2).all()  # one year and one month per row
    assert isinstance(X.index, pd.MultiIndex)


def test_the_estimators_preprocessing_makes_one_copy_of_the_rows(panel):
    """Clipping the returns (dummies passed through) and standardising, as the run's estimator does, allocate
    the float32 array the network reads and little more: no copy per column group, no float64 copy of the rows,
    only the scaler's float64 temporaries of one block of rows. (Before, scikit-learn's ColumnTransformer
    allocated about three such arrays.)"""
    X = with_calendar_dummies(daily_features(panel))
    model = estimator(workflow.return_columns(X), epochs=1, batch_size=64, patience=1, validation_split=0.2,
                      purge=1, random_state=0)
    preprocess = model.preprocess
    out, peak = _peak(lambda: preprocess.fit_transform(X))
    assert out.dtype == np.float32 and out.shape == X.shape
    block = 2 * BlockwiseStandardScaler.block_rows * X.shape[1] * 8
    assert peak <= 1.1 * out.nbytes + block, f"peak {peak / 2**20:.1f} MB for a {out.nbytes / 2**20:.1f} MB output"
    out, peak = _peak(lambda: preprocess.transform(X))
    assert peak <= 1.1 * out.nbytes, f"peak {peak / 2**20:.1f} MB for a {out.nbytes / 2**20:.1f} MB output"


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="malloc_trim is glibc's")
def test_freed_heap_memory_goes_back_to_the_system():
    """Arrays below glibc's mmap threshold are freed into the heap and stay in the process (the last one pins
    the top of it) until release_free_memory."""
    code = """if True:
        import os, numpy as np
        from deepfin._heap import release_free_memory
        def rss():
            with open("/proc/self/statm") as f:
                return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        base = rss()
        arrays = [np.ones(12_000) for _ in range(3000)]  # 96 kB each, 275 MB
        last = arrays[-1]
        del arrays
        held = rss() - base
        print(held, release_free_memory() and rss() - base)"""
    held, after = map(int, subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                          check=True).stdout.split())
    assert held > 200 * 2**20 and after < 50 * 2**20, f"held {held / 2**20:.0f} MB, then {after / 2**20:.0f} MB"


@pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc's heap")
def test_a_dropped_work_array_stays_in_the_process_for_the_next_step():
    """With deepfin imported, the memory of a dropped 40 MB array (a training step's work arrays) stays in the
    process for the next step's, where glibc's defaults map such an array on its own and unmap it when freed
    (so each step faults its pages in afresh); DEEPFIN_KEEP_HEAP=0 keeps the defaults."""
    code = """if True:
        import os, numpy as np, deepfin
        def rss():
            with open("/proc/self/statm") as f:
                return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        base = rss()
        work = np.ones(5_000_000)  # 40 MB
        del work
        print(rss() - base)"""
    kept = {}
    for keep in ("1", "0"):
        env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")} | {"DEEPFIN_KEEP_HEAP": keep}
        kept[keep] = int(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                                        env=env).stdout)
    assert kept["1"] > 35e6 and kept["0"] < 5e6, kept
