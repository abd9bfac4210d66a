"""Jobs on a Dask cluster (``deepfin.parallel``): a study run on two local workers gives the local run's figures;
bad requests are refused before any work."""

import json
import os
import sys

import pytest
from joblib import Parallel, delayed
from joblib.parallel import get_active_backend
from threadpoolctl import threadpool_limits

from deepfin import parallel
from deepfin.cli import main
from deepfin.finance.data import synthetic
from deepfin.finance.pipeline import study, workflow
from deepfin.finance.pipeline.config import RunConfig
from deepfin.finance.report import study as study_report

distributed = pytest.importorskip("distributed")

SMALL = {"recipe": "daily", "train_size": 150, "test_size": 100, "quick": True, "ks": [5]}


def task_names(client) -> set[str]:
    return client.run_on_scheduler(lambda dask_scheduler: set(dask_scheduler.task_prefixes))


def test_a_study_on_two_workers_writes_the_local_runs_figures(tmp_path):
    universe = synthetic.synthetic_universe(30, 3, signal="reversal", strength=0.2, seed=5)
    plan = workflow.plan(RunConfig(models=["logit", "gbt"], seed=7, **SMALL), universe)
    assert len(plan.test_windows) == 4
    with threadpool_limits(1):  # as on a worker; OpenMP's threads crawl on a busy machine
        study_report.write(study.execute(plan, verbose=0), tmp_path / "local")
    with parallel.cluster(workers=2) as client:
        assert sorted(client.nthreads().values()) == [1, 1]
        assert client.scheduler.address.startswith("tcp://127.0.0.1:")
        study_report.write(study.execute(plan, verbose=0), tmp_path / "dask")
        names = task_names(client)
    assert any(name.startswith("batch_of_fit_period") for name in names), names
    # scikit-learn's own joblib calls inside a period (column transformer, permutation importance) stay in it
    assert not any("permutation" in name or "transform" in name for name in names), names
    local, remote = (json.loads((tmp_path / side / "metrics.json").read_text()) for side in ("local", "dask"))
    for figures in (local, remote):  # the seconds each family took are the only figures that may differ
        assert figures.pop("seconds").keys() == {"logit", "gbt"}
        for model in figures["models"].values():
            model.pop("seconds", None)
    assert remote == local
    assert client.status == "closed"


def test_a_tuned_run_on_two_workers_writes_the_local_runs_figures(tmp_path):
    """The tuned network's run: grid stacks, windows and shuffled folds as Dask jobs, the same figures."""
    from deepfin.finance import synthetic_prices
    from deepfin.finance.report import run as report

    config = RunConfig(train_size=48, test_size=12, tuning_folds=2, quick=True, k=5, seed=3, n_jobs=2)
    plan = workflow.plan(config, synthetic_prices("planted", n_tickers=20, n_months=120, seed=2))
    report.write(workflow.execute(plan, verbose=0), tmp_path / "local")
    with parallel.cluster(workers=2) as client:
        report.write(workflow.execute(plan, verbose=0), tmp_path / "dask")
        names = task_names(client)
    assert any("fit_and_score" in name for name in names) and any("fit_window" in name for name in names), names
    local, remote = (json.loads((tmp_path / side / "metrics.json").read_text()) for side in ("local", "dask"))
    assert remote == local


def where(nested: bool):
    """This process, and (nested) the processes of a joblib call made inside the job."""
    inner = set(Parallel(n_jobs=2)(delayed(os.getpid)() for _ in range(4))) if nested else set()
    return os.getpid(), inner


def test_a_joined_single_thread_cluster_still_runs_every_job_on_its_worker():
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as running:
        with parallel.cluster(scheduler=running.scheduler_address) as client:
            for n_jobs in (1, None, -1):  # joblib would run n_jobs=1 here, one job after another, on one thread
                pids = {pid for pid, _ in Parallel(n_jobs=n_jobs)(delayed(where)(False) for _ in range(3))}
                assert os.getpid() not in pids and len(pids) == 1, n_jobs
            [(worker, inner)] = Parallel(n_jobs=1)([delayed(where)(True)])
            assert inner == {worker}  # the nested call ran in the job's process, not as more Dask tasks
        assert client.status == "closed"
        assert running.status.name == "running"  # a joined cluster goes on
    assert type(get_active_backend()[0]).__name__ != "ClusterBackend"


def test_neither_argument_changes_nothing():
    before = get_active_backend()[0]
    with parallel.cluster() as client:
        assert client is None
        assert type(get_active_backend()[0]) is type(before)
    assert parallel.describe(3) == "n_jobs=3"


@pytest.mark.parametrize("scheduler, address", [
    ("tcp://10.0.0.5:8786", "tcp://10.0.0.5:8786"), ("node-1.cluster:8786", "tcp://node-1.cluster:8786"),
    ("tcp://[::1]:8786", "tcp://[::1]:8786"), (" localhost:9000 ", "tcp://localhost:9000")])
def test_scheduler_addresses(scheduler, address):
    assert parallel.check(scheduler=scheduler) == address


@pytest.mark.parametrize("workers, scheduler, message", [
    (0, None, "workers must be a positive integer"),
    (-2, None, "workers must be a positive integer"),
    (True, None, "workers must be a positive integer"),
    ("2", None, "workers must be a positive integer"),
    (2, "tcp://host:8786", "either workers"),
    (None, "host", "tcp://HOST:PORT or HOST:PORT"),
    (None, "http://host:8786", "tcp://HOST:PORT or HOST:PORT"),
    (None, "tls://host:8786", "tcp://HOST:PORT or HOST:PORT"),
    (None, "tcp://host:99999", "tcp://HOST:PORT or HOST:PORT"),
    (None, "tcp://host:8786/path", "tcp://HOST:PORT or HOST:PORT"),
])
def test_bad_requests_are_refused_before_any_work(workers, scheduler, message):
    with pytest.raises(ValueError, match=message):
        with parallel.cluster(workers, scheduler):
            pytest.fail("the block ran")


def test_without_dask_the_error_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed raises ImportError
    with pytest.raises(ImportError, match=r"pip install 'deepfin\[dask\]'"):
        parallel.check(workers=2)
    assert parallel.check() is None  # nothing asked of Dask, nothing needed


def test_a_scheduler_that_does_not_answer_is_a_connection_error(monkeypatch):
    monkeypatch.setattr(parallel, "CONNECT_SECONDS", 1)
    with pytest.raises(ConnectionError, match="No Dask scheduler answered at tcp://127.0.0.1:9"):
        with parallel.cluster(scheduler="127.0.0.1:9"):
            pytest.fail("the block ran")


@pytest.mark.parametrize("flags, message", [
    (["--workers", "0"], "workers must be a positive integer"),
    (["--workers", "2", "--scheduler", "tcp://host:8786"], "either workers"),
    (["--scheduler", "http://host"], "tcp://HOST:PORT or HOST:PORT"),
])
def test_cli_refuses_bad_cluster_flags_before_training(tmp_path, capsys, flags, message):
    with pytest.raises(SystemExit) as exit_:
        main(["run", "--data", "synthetic:30", "--out", str(tmp_path / "run"), *flags])
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "run").exists()
