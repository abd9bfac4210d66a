"""``deepfin.parallel.resumable``: the one loop behind every resumable step (grid-search stacks, walk-forward
windows, shuffled folds, study periods)."""

import pytest
from joblib import delayed

from deepfin import parallel

RUNS = []


def square(value: int) -> int:
    RUNS.append(value)
    return value * value


class DictJournal:
    """A journal in memory that can stop the run after ``stop_after`` records (an interruption)."""

    def __init__(self, stop_after: int | None = None):
        self.records, self.stop_after = {}, stop_after

    def get(self, key):
        return self.records.get(key)

    def put(self, key, record):
        self.records[key] = record
        if self.stop_after is not None and len(self.records) >= self.stop_after:
            raise KeyboardInterrupt


def _run(journal, n_jobs=1):
    keys = [f"unit {number}" for number in range(5)]
    return dict(parallel.resumable(keys, journal, lambda todo: (delayed(square)(10 + number) for number in todo),
                                   lambda result: {"value": result}, lambda number, stored: stored["value"],
                                   n_jobs))


def test_every_unit_once_across_an_interruption():
    RUNS.clear()
    journal = DictJournal(stop_after=2)
    with pytest.raises(KeyboardInterrupt):
        _run(journal)
    assert sorted(journal.records) == ["unit 0", "unit 1"]  # recorded before the loop went on
    journal.stop_after = None
    RUNS.clear()
    assert _run(journal) == {number: (10 + number) ** 2 for number in range(5)}
    assert sorted(RUNS) == [12, 13, 14]  # the two recorded units were not run again


def test_without_a_journal_every_unit_runs_on_every_core():
    assert _run(None, n_jobs=2) == {number: (10 + number) ** 2 for number in range(5)}


def test_the_jobs_keep_their_function_name(monkeypatch):
    """joblib's batches (and so Dask's tasks) are named after the unit's function, not the loop's wrapper."""
    calls = []
    original = parallel.joblib.Parallel.__call__

    def spy(self, iterable):
        items = list(iterable)
        calls.extend(items)
        return original(self, iter(items))

    monkeypatch.setattr(parallel.joblib.Parallel, "__call__", spy)
    _run(None)
    assert [function.__name__ for function, _, _ in calls] == ["square"] * 5
