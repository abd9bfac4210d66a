"""Resumable runs: ``deepfin run --resume DIR`` after an interruption (an error after k units, or SIGKILL at
random moments) writes the metrics.json an uninterrupted run writes, bit for bit; the refusals."""

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import tomllib
import zipfile
from pathlib import Path

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from deepfin.cli import main
from deepfin.finance.data import synthetic
from deepfin.finance.pipeline import journal, study
from deepfin.models import load_model

RUN = ["run", "--quick", "--n-jobs", "1", "--data", "synthetic:40,years=8", "--set", "train_size=24",
       "--set", "test_size=12", "--set", "tuning_folds=2"]  # 10 units: 2 tuning jobs (a stack each), 2 windows, 6 folds
STUDY = ["run", "--recipe", "daily", "--models", "dnn,gbt,ens1", "--quick", "--n-jobs", "1",
         "--data", "synthetic:20,years=2.5", "--set", "train_size=200", "--set", "test_size=100", "--set", "ks=[5]",
         "--set", 'model.ens1.members=["dnn", "gbt"]', "--set", "model.dnn.epochs=3",
         "--set", "model.gbt.n_estimators=5"]  # 2 study periods


@pytest.fixture(autouse=True)
def _one_thread():
    """BLAS and OpenMP (the boosted trees) on one thread, as in the zygote's runs: on two busy cores their
    threads only wait for each other."""
    with threadpool_limits(1):
        yield


class Interrupted(Exception):
    pass


def interrupted_run(argv, out: Path, after: int, monkeypatch) -> None:
    """Run ``argv`` into ``out``, stopped by an error once ``after`` units are in the journal."""
    put = journal.Journal.put

    def put_then_stop(self, identity, record):
        put(self, identity, record)
        if self.recorded >= after:
            raise Interrupted

    with monkeypatch.context() as patch:
        patch.setattr(journal.Journal, "put", put_then_stop)
        with pytest.raises(Interrupted):
            main([*argv, "--out", str(out)])
    assert len(list((out / journal.FOLDER).glob("*.npz"))) == after
    assert not (out / "metrics.json").exists()


def without_timing(metrics: dict) -> dict:
    """metrics.json less its timing fields: a study's seconds per family (in total and per model)."""
    metrics = json.loads(json.dumps(metrics))
    metrics.pop("seconds", None)
    for model in metrics.get("models", {}).values():
        model.pop("seconds", None)
    return metrics


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    out = tmp_path_factory.mktemp("whole") / "run"
    assert main([*RUN, "--out", str(out)]) == 0
    assert not (out / journal.FOLDER).exists()  # removed once the run's files are written
    return out


@pytest.mark.parametrize("after, n_jobs", [(1, "2"), (4, "1")])  # in tuning; after both windows (model refitted)
def test_a_resumed_run_writes_the_uninterrupted_metrics(uninterrupted, tmp_path, monkeypatch, capsys, after, n_jobs):
    out = tmp_path / "run"
    interrupted_run(RUN, out, after, monkeypatch)
    capsys.readouterr()
    assert main(["run", "--resume", str(out), "--n-jobs", n_jobs]) == 0
    assert f"({after} finished units taken from the journal)" in capsys.readouterr().out
    for name in ("metrics.json", "predictions.csv", "preprocessing.json"):
        assert (out / name).read_bytes() == (uninterrupted / name).read_bytes(), name
    for name in ("run.toml", "report.html"):  # they show the settings used, --n-jobs too (it changes no result)
        text = (out / name).read_text().replace(f"n_jobs = {n_jobs}", "n_jobs = 1")
        assert text == (uninterrupted / name).read_text(), name
    for mine, theirs in zip(load_model(out / "model.keras").get_weights(),
                            load_model(uninterrupted / "model.keras").get_weights()):
        np.testing.assert_array_equal(mine, theirs)
    assert not (out / journal.FOLDER).exists() and not list(out.glob(".*.tmp"))


def test_a_resumed_study_writes_the_uninterrupted_metrics(tmp_path, monkeypatch):
    monkeypatch.setattr(study, "IMPORTANCE_ROWS", 500)  # permutation importance on fewer rows: a faster test
    assert main([*STUDY, "--out", str(tmp_path / "whole")]) == 0
    interrupted_run(STUDY, tmp_path / "run", 1, monkeypatch)
    assert main(["run", "--resume", str(tmp_path / "run")]) == 0
    whole, resumed = (json.loads((tmp_path / folder / "metrics.json").read_text()) for folder in ("whole", "run"))
    assert without_timing(resumed) == without_timing(whole)
    assert json.dumps(without_timing(resumed)) == json.dumps(without_timing(whole))  # every digit, keys in order
    assert (tmp_path / "run" / "predictions.csv").read_bytes() == (tmp_path / "whole" / "predictions.csv").read_bytes()


# ------------------------------------------------------------------------------------------------- refusals
@pytest.fixture
def unfinished(tmp_path, monkeypatch):
    """A run on a price file, stopped after one unit."""
    prices = synthetic.synthetic_prices("planted", n_tickers=30, n_months=96, seed=2).rename_axis("date")
    prices.to_csv(tmp_path / "prices.csv")
    argv = ["run", "--quick", "--n-jobs", "1", "--data", str(tmp_path / "prices.csv"), "--set", "train_size=36",
            "--set", "test_size=12", "--set", "tuning_folds=1"]
    interrupted_run(argv, tmp_path / "run", 1, monkeypatch)
    return tmp_path / "run"


def refusal(argv, capsys) -> str:
    with pytest.raises(SystemExit) as stop:
        main(argv)
    assert stop.value.code == 2
    return capsys.readouterr().err


def test_resume_refuses_a_folder_without_a_journal(tmp_path, uninterrupted, capsys):
    assert "holds no journal of an unfinished run" in refusal(["run", "--resume", str(tmp_path)], capsys)
    assert "has finished" in refusal(["run", "--resume", str(uninterrupted)], capsys)


def test_resume_refuses_changed_data(unfinished, capsys):
    prices = (unfinished.parent / "prices.csv").read_text().splitlines()
    prices[40] = prices[40].rsplit(",", 1)[0] + ",123.0"  # one price changed
    (unfinished.parent / "prices.csv").write_text("\n".join(prices) + "\n")
    message = refusal(["run", "--resume", str(unfinished)], capsys)
    assert "The data differ from those the run" in message and "prices.csv" in message


def test_resume_refuses_changed_settings_and_other_flags(unfinished, capsys):
    message = refusal(["run", "--resume", str(unfinished), "--set", "lag=1", "--quick"], capsys)
    assert "takes no --quick, --set" in message
    message = refusal(["run", "--resume", str(unfinished), "--out", str(unfinished.parent / "elsewhere")], capsys)
    assert "takes no --out" in message
    saved = unfinished / journal.FOLDER / "run.toml"
    saved.write_text(saved.read_text().replace("train_size = 36", "train_size = 30"))
    assert "The settings in" in refusal(["run", "--resume", str(unfinished)], capsys)


def test_resume_refuses_another_deepfin_and_a_new_run_into_an_unfinished_one(unfinished, capsys):
    message = refusal(["run", "--quick", "--out", str(unfinished)], capsys)
    assert "holds the journal of an unfinished run" in message and "--resume" in message
    marks = unfinished / journal.FOLDER / "run.json"
    marks.write_text(marks.read_text().replace('"deepfin": "', '"deepfin": "0.0.0-'))
    assert "was started by deepfin 0.0.0-" in refusal(["run", "--resume", str(unfinished)], capsys)


def test_a_damaged_record_is_computed_again(unfinished, capsys):
    record = next((unfinished / journal.FOLDER).glob("*.npz"))
    record.write_bytes(record.read_bytes()[:100])
    assert main(["run", "--resume", str(unfinished)]) == 0
    assert "taken from the journal" not in capsys.readouterr().out
    assert (unfinished / "metrics.json").is_file() and not (unfinished / journal.FOLDER).exists()


# ------------------------------------------------------------------------------------------------- SIGKILL
ZYGOTE = textwrap.dedent("""
    # Imports deepfin once, then for each line of JSON arguments forks a child that runs `deepfin` with them
    # (deepfin.cli.main, as the console script does, its output into a log) and prints the child's process id;
    # on a line "wait" it reaps the child (finished or killed) and prints its wait status. Until then the child's
    # id cannot be taken by another process, so a kill never reaches one.
    import json, os, sys
    from deepfin.cli import main
    from deepfin.finance.pipeline import journal
    from deepfin.finance.report import run as report
    from deepfin.finance.pipeline import workflow  # noqa: F401

    print("ready", flush=True)
    for line in sys.stdin:
        if line.strip() == "wait":
            print(os.waitpid(pid, 0)[1], flush=True)
            continue
        argv, log = json.loads(line)
        pid = os.fork()
        if pid == 0:
            descriptor = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
            os.dup2(descriptor, 1)
            os.dup2(descriptor, 2)
            try:
                code = main(argv)
            except SystemExit as stop:
                code = stop.code
            sys.stdout.flush()
            os._exit(code if isinstance(code, int) else 1)
        print(pid, flush=True)
""")


class Runner:
    """``deepfin`` in children of a zygote (so that a run does not pay for Python's imports each time)."""

    def __init__(self, logs: Path):
        env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
        self.process = subprocess.Popen([sys.executable, "-c", ZYGOTE], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True, env=env)
        self.logs, self.count = logs, 0
        assert self.process.stdout.readline().strip() == "ready"

    def start(self, argv) -> int:
        self.count += 1
        self.log = self.logs / f"{self.count}.log"
        self.process.stdin.write(json.dumps([argv, str(self.log)]) + "\n")
        self.process.stdin.flush()
        return int(self.process.stdout.readline())

    def status(self) -> int:
        """The child's wait status, once it has ended."""
        self.process.stdin.write("wait\n")
        self.process.stdin.flush()
        return int(self.process.stdout.readline())

    def run(self, argv) -> int:
        self.start(argv)
        status = self.status()
        assert os.WIFEXITED(status), self.log.read_text()
        return os.WEXITSTATUS(status)

    def close(self):
        self.process.kill()
        self.process.wait()


def wait_for(path: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} did not appear"
        time.sleep(0.002)


def assert_whole(out: Path, whole: Path) -> None:
    """No file under a final name is half written: the run's files are the uninterrupted run's (or whole
    pictures and archives), the journal's records and settings read back."""
    for path in out.rglob("*"):
        if path.is_dir() or path.name.endswith(".tmp") or ".journal.removing" in path.parts:
            continue  # a killed write's temporary, or the journal of a run that had finished, being deleted
        data = path.read_bytes()
        if path.parent.name == journal.FOLDER:
            if path.suffix == ".npz":
                with np.load(path, allow_pickle=False) as record:
                    json.loads(str(record["__json__"][()]))
                    [record[name] for name in record.files]
            elif path.suffix == ".json":
                json.loads(data)
            else:
                tomllib.loads(data.decode())
        elif path.suffix == ".png":
            assert data.startswith(b"\x89PNG") and data.endswith(b"IEND\xaeB`\x82"), path
        elif path.suffix == ".keras":
            assert zipfile.ZipFile(path).testzip() is None
        else:
            assert data == (whole / path.name).read_bytes(), path


def kill_and_resume(tmp_path: Path, kills: int, seed: int) -> dict:
    """An uninterrupted run, then ``kills`` runs each killed (SIGKILL) at a random moment after its journal
    exists and resumed; each resumed run's files equal the uninterrupted run's. Returns what the kills found.
    Each run has a folder of its own, as it would on its own: runs in one folder share a ledger of trials
    (trials.jsonl), and the second's deflated Sharpe ratio would count the first's."""
    rng = np.random.default_rng(seed)
    (tmp_path / "logs").mkdir()
    runner = Runner(tmp_path / "logs")
    found = {"kills": 0, "runs that finished first": 0, "records before a kill": [], "files written": 0}
    try:
        started = time.monotonic()
        whole = tmp_path / "whole" / "run"
        runner.start([*RUN, "--out", str(whole)])
        wait_for(whole / journal.FOLDER / "run.json")
        journaled = time.monotonic()
        assert runner.status() == 0, runner.log.read_text()
        working = time.monotonic() - journaled
        found["seconds for a whole run"] = round(time.monotonic() - started, 2)
        while found["kills"] < kills:
            out = tmp_path / f"kill{found['kills']}" / "run"
            shutil.rmtree(out.parent, ignore_errors=True)
            pid = runner.start([*RUN, "--out", str(out)])
            wait_for(out / journal.FOLDER / "run.json")
            time.sleep(rng.uniform(0, working))
            os.kill(pid, signal.SIGKILL)
            status = runner.status()
            if os.WIFEXITED(status):  # it finished before the kill
                found["runs that finished first"] += 1
                continue
            found["kills"] += 1
            found["records before a kill"].append(len(list((out / journal.FOLDER).glob("*.npz"))))
            found["files written"] += (out / "metrics.json").exists()
            assert_whole(out, whole)
            code = runner.run(["run", "--resume", str(out)])
            if code == 2:  # killed after its journal was removed: the run had finished
                assert "has finished" in runner.log.read_text()
            else:
                assert code == 0, runner.log.read_text()
            for name in ("metrics.json", "predictions.csv", "run.toml", "preprocessing.json", "report.html"):
                assert (out / name).read_bytes() == (whole / name).read_bytes(), (name, found)
            assert not (out / journal.FOLDER).exists() and not list(out.rglob("*.tmp"))
    finally:
        runner.close()
    return found


def test_runs_killed_at_two_random_moments_resume_to_the_uninterrupted_metrics(tmp_path):
    found = kill_and_resume(tmp_path, kills=2, seed=0)
    assert found["kills"] == 2, found


@pytest.mark.slow
def test_runs_killed_at_twenty_random_moments_resume_to_the_uninterrupted_metrics(tmp_path):
    found = kill_and_resume(tmp_path, kills=20, seed=1)
    print(found)
    assert found["kills"] == 20 and len(set(found["records before a kill"])) >= 5, found
