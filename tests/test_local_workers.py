"""joblib's local worker processes started ahead of a run's first jobs (``deepfin.parallel.start_local_workers``),
and a command line that loads only what its command needs."""

import glob
import os
import subprocess
import sys

import pytest
from joblib import Parallel, delayed

from deepfin import parallel


def _children() -> set[int]:
    """The process ids of this process's children (Linux)."""
    return {int(pid) for path in glob.glob("/proc/self/task/*/children") for pid in open(path).read().split()}


def _imported(module: str) -> tuple[int, bool]:
    return os.getpid(), module in sys.modules


@pytest.mark.skipif(not os.path.exists("/proc/self/task"), reason="reads Linux's process table")
def test_started_workers_are_the_ones_the_next_jobs_run_on():
    """Once ``start_local_workers`` has run, the next ``Parallel`` with the same ``n_jobs`` runs in processes that
    were already there, and they import what the workers were asked to (``tabnanny``, which nothing else here
    loads, is in at least the worker that took a start-up job)."""
    assert parallel.start_local_workers(1) is None
    thread = parallel.start_local_workers(2, modules=("tabnanny",))
    thread.join(timeout=120)
    assert not thread.is_alive()
    ready = _children()
    ran = Parallel(n_jobs=2)(delayed(_imported)("tabnanny") for _ in range(6))
    assert {pid for pid, _ in ran} <= ready
    assert any(loaded for _, loaded in ran)


def test_commands_other_than_demo_do_not_load_the_demos():
    check = ("import sys; from deepfin import cli; cli.build_parser(demo_names={}); "
             "print(any(name.startswith('deepfin.demos.') for name in sys.modules))")
    loaded = [subprocess.run([sys.executable, "-c", check.format(flag)], capture_output=True, text=True,
                             check=True).stdout.strip() for flag in (False, True)]
    assert loaded == ["False", "True"]
