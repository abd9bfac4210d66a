"""joblib's local worker processes started ahead of a run's first jobs (``deepfin.parallel.start_local_workers``),
and a command line that loads only what its command needs."""

import subprocess
import sys

from joblib import Parallel, delayed

from deepfin import parallel


def _loaded(module: str) -> bool:
    return module in sys.modules


def test_started_workers_are_the_ones_the_next_jobs_run_on():
    """The workers import the modules asked for; the next ``Parallel`` with the same ``n_jobs`` runs on them (a
    fresh worker would not have imported ``tabnanny``, which nothing else here loads)."""
    assert parallel.start_local_workers(1) is None
    thread = parallel.start_local_workers(2, modules=("tabnanny",))
    thread.join(timeout=120)
    assert not thread.is_alive()
    assert all(Parallel(n_jobs=2)(delayed(_loaded)("tabnanny") for _ in range(4)))


def test_commands_other_than_demo_do_not_load_the_demos():
    check = ("import sys; from deepfin import cli; cli.build_parser(demo_names={}); "
             "print(any(name.startswith('deepfin.demos.') for name in sys.modules))")
    loaded = [subprocess.run([sys.executable, "-c", check.format(flag)], capture_output=True, text=True,
                             check=True).stdout.strip() for flag in (False, True)]
    assert loaded == ["False", "True"]
