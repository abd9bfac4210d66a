"""Where joblib's jobs run: in this machine's processes (joblib's default) or on a Dask cluster.

``with cluster(workers=4):`` starts a Dask cluster on this machine (4 single-threaded worker processes on
loopback); ``with cluster(scheduler="tcp://host:8786"):`` joins a running one. Inside the block every
``joblib.Parallel`` (a study's periods, a grid search's candidates) sends its jobs to the cluster, one job at
a time per worker thread. On exit the block closes what it started (a local cluster and its client; a joined
cluster goes on running). With neither argument it changes nothing. ``resumable`` runs a list of units of work
through joblib once each, across interruptions: the units a journal holds are taken from it.

How joblib's Dask backend treats ``n_jobs`` (joblib 1.4 to 1.6): it does not use it. Any ``Parallel(n_jobs=...)``,
``n_jobs=1`` included, dispatches to every worker thread of the cluster, except that joblib runs a call in this
process, one job after another, when the cluster has a single worker thread; the backend here counts such a
cluster as two, so a lone remote worker still gets the jobs. Inside a job, joblib calls (scikit-learn's own:
a forest's trees, a column transformer, permutation importance) run in the job's process, sequentially or on
threads as their ``n_jobs`` asks, as they would in a local run, instead of each becoming more Dask tasks sent
across the network (joblib's default there, which made a small study on two workers more than twice as slow as
a local run). Made in this process inside the block but outside a job, such calls go to the cluster too, as
joblib documents for any backend; they are small.

The data travel from this process: every worker needs deepfin and the libraries it imports (the same versions)
but no data files. joblib sends each job's arguments with it, and ships any argument above 1 kB to a worker
ahead of the task (``client.scatter``). Its ``scatter=`` option, which sends an object to every worker once,
pays for data all jobs share; a study's jobs each take their own period's slice of rows, so there is nothing
to share and nothing is scattered that way.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import re
import threading
from collections.abc import Callable, Iterable, Iterator

import joblib

DEFAULT_N_JOBS = -1  # every core: a run's default (``RunConfig.n_jobs``)
INSTALL = "pip install 'deepfin[dask]'"
CONNECT_SECONDS = 10  # to reach a scheduler
WORKER_SECONDS = 30  # for a joined scheduler to have a worker
_ADDRESS = re.compile(r"(?:tcp://)?(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?):(\d{1,5})")
_active: list = []  # the clients of the cluster blocks now open, innermost last


def check(workers: int | None = None, scheduler: str | None = None) -> str | None:
    """Refuse a bad request for a cluster before any work is done.

    Parameters
    ----------
    workers : int or None, default None
        The number of local worker processes asked for.
    scheduler : str or None, default None
        The address of a Dask scheduler to join, ``tcp://host:port`` or ``host:port``.

    Returns
    -------
    str or None
        The scheduler's address as ``tcp://host:port``; None without one.

    Raises
    ------
    ValueError
        If both arguments are given, ``workers`` is not a positive integer, or ``scheduler`` is not such an
        address (port 1 to 65535).
    ImportError
        If either argument is given and Dask's ``distributed`` is not installed.

    Examples
    --------
    >>> from deepfin import parallel
    >>> parallel.check() is None
    True
    >>> parallel.check(workers=0)
    Traceback (most recent call last):
    ...
    ValueError: workers must be a positive integer. Received: workers=0
    """
    if workers is not None and scheduler is not None:
        raise ValueError("Give either workers (a local Dask cluster) or a scheduler to join, not both. "
                         f"Received: workers={workers!r}, scheduler={scheduler!r}")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise ValueError(f"workers must be a positive integer. Received: workers={workers!r}")
    address = None
    if scheduler is not None:
        match = _ADDRESS.fullmatch(scheduler.strip()) if isinstance(scheduler, str) else None
        if match is None or not 1 <= int(match.group(2)) <= 65535:
            raise ValueError(f"scheduler must be a Dask scheduler's address, tcp://HOST:PORT or HOST:PORT "
                             f"(e.g. tcp://10.0.0.5:8786). Received: scheduler={scheduler!r}")
        address = f"tcp://{match.group(1)}:{int(match.group(2))}"
    if workers is not None or scheduler is not None:
        try:
            import distributed  # noqa: F401
        except ImportError as error:
            raise ImportError(f"Running jobs on Dask needs dask[distributed], which is not installed "
                              f"({error}). Install it with: {INSTALL}") from None
    return address


@contextlib.contextmanager
def cluster(workers: int | None = None, scheduler: str | None = None) -> Iterator:
    """Run every joblib ``Parallel`` inside the block on a Dask cluster: a local one or one joined.

    ``with cluster(workers=N)`` starts N single-threaded worker processes on loopback; ``with
    cluster(scheduler="tcp://host:8786")`` joins a running cluster. On exit the block closes what it started (a
    local cluster and its client; a joined cluster goes on running).

    Parameters
    ----------
    workers : int or None, default None
        The number of local worker processes to start.
    scheduler : str or None, default None
        The address of a Dask scheduler to join.

    Yields
    ------
    distributed.Client or None
        The client; None with neither argument, and then nothing changes.

    Raises
    ------
    ValueError, ImportError
        As ``check`` raises them.
    ConnectionError
        If a scheduler does not answer in 10 s, or has no worker after 30 s.
    """
    address = check(workers, scheduler)
    if workers is None and address is None:
        yield None
        return
    from distributed import Client, LocalCluster

    with contextlib.ExitStack() as stack:
        if workers is not None:
            local = stack.enter_context(LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                                     host="127.0.0.1", dashboard_address=None))
            client = stack.enter_context(Client(local))
        else:
            client = stack.enter_context(_joined(address))
        stack.enter_context(joblib.parallel_config(backend=_backend(client)))
        _active.append(client)
        stack.callback(_active.remove, client)
        yield client


def start_local_workers(n_jobs: int, modules: tuple[str, ...] = ("deepfin.finance.models.network",)
                        ) -> threading.Thread | None:
    """Start joblib's worker processes for ``n_jobs`` now, on a background thread.

    Each worker imports ``modules``, so that the first ``Parallel(n_jobs=n_jobs)`` finds them ready: a run's
    workers then start (about 1.7 s on two cores) while its data load. joblib keeps such workers for its next
    calls with the same ``n_jobs`` (loky's reusable executor).

    Parameters
    ----------
    n_jobs : int
        As joblib reads it (-1: every core).
    modules : tuple of str, default ("deepfin.finance.models.network",)
        The modules each worker imports.

    Returns
    -------
    threading.Thread or None
        The (daemon) thread, or None when ``n_jobs`` asks for one job (no workers).
    """
    workers = joblib.effective_n_jobs(n_jobs)
    if workers <= 1:
        return None
    thread = threading.Thread(target=lambda: joblib.Parallel(n_jobs=n_jobs)(
        joblib.delayed(_import_modules)(modules) for _ in range(workers)), name="deepfin-start-workers", daemon=True)
    thread.start()
    return thread


def _import_modules(modules: tuple[str, ...]) -> int:
    for module in modules:
        importlib.import_module(module)
    return os.getpid()


def resumable(keys: list, journal, jobs: Callable[[list[int]], Iterable], record: Callable[[object], dict],
              restore: Callable[[int, dict], object], n_jobs: int = 1,
              pre_dispatch: str | int = "2*n_jobs") -> Iterator[tuple[int, object]]:
    """Run units of work once each, across interruptions: yields ``(number, result)`` for every unit.

    The units the journal holds come first, as ``restore(number, record)``; the others run through joblib and
    are yielded as they finish, in any order, each written to the journal as ``record(result)`` before it is
    yielded.

    Parameters
    ----------
    keys : list
        ``keys[number]`` is unit ``number``'s key in ``journal``.
    journal : object or None
        An object with ``get(key)`` and ``put(key, record)``, such as a run's ``Journal``; None: no journal,
        every unit is run.
    jobs : callable
        ``jobs(todo)`` gives one ``joblib.delayed`` call per number in ``todo``, in that order (a generator, so
        that a unit's data are made only when joblib asks for them).
    record : callable
        ``record(result)``: what the journal keeps of a result.
    restore : callable
        ``restore(number, record)``: the result again, from what the journal kept.
    n_jobs : int, default 1
        joblib's ``n_jobs``.
    pre_dispatch : str or int, default "2*n_jobs"
        joblib's ``pre_dispatch``.

    Yields
    ------
    tuple of (int, object)
        Each unit's number and result.

    Examples
    --------
    >>> import joblib
    >>> from deepfin import parallel
    >>> class Journal(dict):
    ...     def put(self, key, value):
    ...         self[key] = value
    >>> journal = Journal(a=10)
    >>> def square(x):
    ...     return x * x
    >>> def jobs(todo):
    ...     return (joblib.delayed(square)(number) for number in todo)
    >>> done = parallel.resumable(["a", "b", "c"], journal, jobs, record=lambda r: r, restore=lambda n, r: r)
    >>> sorted(done)
    [(0, 10), (1, 1), (2, 4)]
    >>> journal
    {'a': 10, 'b': 1, 'c': 4}
    """
    found = {}
    if journal is not None:
        found = {number: stored for number, key in enumerate(keys) if (stored := journal.get(key)) is not None}
    for number, stored in found.items():
        yield number, restore(number, stored)
    todo = [number for number in range(len(keys)) if number not in found]
    if not todo:
        return
    calls = ((_Numbered(function), (number, *args), kwargs)
             for number, (function, args, kwargs) in zip(todo, jobs(todo)))
    for number, result in joblib.Parallel(n_jobs=n_jobs, pre_dispatch=pre_dispatch,
                                          return_as="generator_unordered")(calls):
        if journal is not None:
            journal.put(keys[number], record(result))
        yield number, result


class _Numbered:
    """A unit's function returning ``(number, result)``, for results taken as they finish; named as the function,
    so that joblib's batches (and Dask's tasks) say what they run."""

    def __init__(self, function):
        self.function, self.__name__ = function, function.__name__

    def __call__(self, number: int, *args, **kwargs) -> tuple[int, object]:
        return number, self.function(*args, **kwargs)


def describe(n_jobs) -> str:
    """Where a study's jobs run, for its first line: ``n_jobs=N``, or the Dask cluster of the open block.

    Parameters
    ----------
    n_jobs : int
        The study's ``n_jobs``.

    Returns
    -------
    str
        ``"n_jobs=N"``, or ``"on Dask (T worker threads; n_jobs not used)"`` inside a ``cluster`` block.
    """
    if not _active:
        return f"n_jobs={n_jobs}"
    threads = sum(_active[-1].nthreads().values())
    return f"on Dask ({threads} worker thread{'s' if threads != 1 else ''}; n_jobs not used)"


@contextlib.contextmanager
def _joined(address: str):
    from distributed import Client

    try:
        client = Client(address, timeout=CONNECT_SECONDS)
    except (OSError, TimeoutError) as error:
        raise ConnectionError(f"No Dask scheduler answered at {address} ({error}). Start one with "
                              f"`dask scheduler` on that machine, or check the address.") from None
    with client:
        try:
            client.wait_for_workers(1, timeout=WORKER_SECONDS)
        except TimeoutError:
            raise ConnectionError(f"The Dask scheduler at {address} has no worker after {WORKER_SECONDS} s. "
                                  f"Start some with `dask worker {address} --nthreads 1`.") from None
        yield client


class _Job:
    """A job run on a worker: joblib calls inside it stay in its process (threads where their n_jobs asks),
    instead of joblib's default there of sending each as more Dask tasks."""

    def __init__(self, function):
        self.function = function
        self.__name__ = getattr(function, "__name__", type(function).__name__)  # Dask's task names

    def __call__(self, *args, **kwargs):
        with joblib.parallel_config(backend="threading"):
            return self.function(*args, **kwargs)


def _jobs(batch):
    """joblib's batch of calls, each wrapped as a ``_Job`` (once)."""
    batch.items = [(function if isinstance(function, _Job) else _Job(function), args, kwargs)
                   for function, args, kwargs in batch.items]
    return batch


_BACKEND = None


def _backend(client):
    """joblib's Dask backend on ``client``, with the two changes the module's docstring gives."""
    global _BACKEND
    if _BACKEND is None:
        from joblib._dask import DaskDistributedBackend

        class ClusterBackend(DaskDistributedBackend):
            def effective_n_jobs(self, n_jobs):
                return max(2, super().effective_n_jobs(n_jobs))  # 1 would make joblib run the jobs here

            def submit(self, func, callback=None):  # joblib 1.5 on
                return super().submit(_jobs(func), callback)

            def apply_async(self, func, callback=None):  # joblib 1.4
                return super().apply_async(_jobs(func), callback)

        _BACKEND = ClusterBackend
    return _BACKEND(client=client)
