"""A run's journal: each finished unit of work recorded as it finishes, so that an interrupted run can continue.

``deepfin run --resume DIR`` continues the run instead of starting it again.

A unit is one joblib job of the run: a grid-search fit (one fold and one stack of candidates), a walk-forward
window, a fold of the shuffled evaluation, a study period. ``DIR/.journal`` holds:

- ``run.toml``: the settings the run started with, as given (``--resume`` runs with them);
- ``run.json``: what the run must still match to be resumed: a hash of its resolved settings (``n_jobs`` left
  out, as it changes no result), a hash of its data (the prices, the delisting returns and the index
  membership on every date) and deepfin's version;
- ``<key>.npz``, one per finished unit: its arrays as ``.npy`` members, its other figures as JSON in the
  ``__json__`` member (NumPy's format, read without pickle). ``key`` is a hash of the run's fingerprints and the
  unit's identity (what kind of unit, the estimator's plain settings, the feature columns, the positions of the
  rows it trains and tests on), so a record is found only by the unit that made it.

Every file is written to a temporary name and renamed when complete, by this process as each job's result
arrives (so a Dask worker needs no access to DIR). Units are deterministic given the run's seed (each fit seeds
its own generator), which is what makes a resumed run's results equal an uninterrupted one's. A record that
cannot be read is computed again. Once every file of the run is written, the journal is removed.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import zipfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from deepfin import __version__
from deepfin._files import atomic_write
from deepfin.finance.pipeline.config import RunConfig

FOLDER = ".journal"
_RETIRED = ".journal.removing"  # the journal, renamed at once when the run ends, then deleted
_PLAIN = (str, int, float, bool, type(None))


class Journal:
    """The records of one run's finished units in ``folder``, keyed under the run's ``fingerprint``.

    ``get(identity)`` is the record of a finished unit (a dict of arrays and JSON figures) or None;
    ``put(identity, record)`` writes one. ``identity`` is a tuple of plain values, lists, dicts, arrays and
    estimators (their plain ``get_params``), or its ``key(identity)`` (text), which a caller can keep instead of
    the arrays.

    Parameters
    ----------
    folder : str or Path
        The journal's folder (``DIR/.journal``).
    fingerprint : str
        The run's combined fingerprint: every key is made under it.

    Attributes
    ----------
    reused, recorded : int
        The records found and written by this process.
    """

    def __init__(self, folder: str | Path, fingerprint: str):
        self.folder, self.fingerprint = Path(folder), fingerprint
        self.reused, self.recorded = 0, 0  # records found and written by this process

    def key(self, identity) -> str:
        """The key of a unit: a hash of the fingerprint and ``identity`` (a text ``identity`` is a key already)."""
        if isinstance(identity, str):
            return identity
        text = json.dumps(_canonical(identity), sort_keys=True, default=str)
        return hashlib.sha256(f"{self.fingerprint}\n{text}".encode()).hexdigest()[:40]

    def get(self, identity) -> dict | None:
        """The record of a finished unit (arrays and JSON figures), or None when there is none or it is damaged."""
        path = self.folder / f"{self.key(identity)}.npz"
        if not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as stored:
                record = {name: stored[name] for name in stored.files if name != "__json__"}
                record.update(json.loads(str(stored["__json__"][()])))
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
            return None  # damaged: the unit is computed again and its record rewritten
        self.reused += 1
        return record

    def put(self, identity, record: dict) -> None:
        """Write a unit's record: its NumPy arrays as ``.npy`` members, the rest as JSON; object arrays are refused."""
        arrays = {name: value for name, value in record.items() if isinstance(value, np.ndarray)}
        for name, value in arrays.items():
            if value.dtype == object:
                raise TypeError(f"A journal record holds numeric or text arrays only. Received: {name} of dtype "
                                f"object")
        figures = {name: value for name, value in record.items() if name not in arrays}
        with atomic_write(self.folder / f"{self.key(identity)}.npz") as stream:
            np.savez(stream, __json__=np.array(json.dumps(figures)), **arrays)
        self.recorded += 1

    def scoped(self, *prefix) -> _Scoped:
        """Give a view of this journal whose identities begin with ``prefix``.

        The prefix is what the units of one step share and their own identities do not show, such as the date a
        tuning choice is made.
        """
        return _Scoped(self, prefix)

    def finish(self) -> None:
        """Remove the journal (the run's files are all written): renamed at once, then deleted."""
        retired = self.folder.parent / _RETIRED
        shutil.rmtree(retired, ignore_errors=True)
        self.folder.replace(retired)
        shutil.rmtree(retired, ignore_errors=True)


class _Scoped:
    """``Journal.scoped``: the journal's ``get`` and ``put`` with a prefix to every identity."""

    def __init__(self, journal: Journal, prefix: tuple):
        self.journal, self.prefix = journal, prefix

    def key(self, identity) -> str:
        return identity if isinstance(identity, str) else self.journal.key((*self.prefix, *identity))

    def get(self, identity) -> dict | None:
        return self.journal.get(self.key(identity))

    def put(self, identity, record: dict) -> None:
        self.journal.put(self.key(identity), record)


def start(out: str | Path, config: RunConfig, plan) -> Journal:
    """Start a new run's journal in ``out/.journal``, its settings and fingerprints written first.

    Parameters
    ----------
    out : str or Path
        The run's folder.
    config : RunConfig
        The settings as given (written as ``run.toml``).
    plan : Plan
        The run's plan, whose settings and data are fingerprinted.

    Returns
    -------
    Journal
        The empty journal.

    Raises
    ------
    ValueError
        When ``out`` holds an unfinished run's journal (``--resume`` continues it).
    """
    out = Path(out)
    folder = out / FOLDER
    if (folder / "run.json").is_file():
        raise ValueError(f"{out} holds the journal of an unfinished run. Continue it with `deepfin run --resume "
                         f"{out}`, or delete {folder} to start over.")
    shutil.rmtree(out / _RETIRED, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    marks = fingerprints(plan)
    with atomic_write(folder / "run.toml") as stream:
        stream.write(config.to_toml().encode())
    with atomic_write(folder / "run.json") as stream:  # last: a journal exists once this does
        stream.write(json.dumps(marks, indent=2).encode())
    return Journal(folder, _combined(marks))


def saved_config(out: str | Path) -> RunConfig:
    """Read the settings an unfinished run in ``out`` started with.

    Raises a FileNotFoundError for a folder without a journal (saying when the run has finished).
    """
    out = Path(out)
    folder = out / FOLDER
    if not (folder / "run.json").is_file() or not (folder / "run.toml").is_file():
        if (out / "metrics.json").is_file():
            raise FileNotFoundError(f"The run in {out} has finished (its metrics.json is written and its journal "
                                    "removed): there is nothing to resume.")
        raise FileNotFoundError(f"{out} holds no journal of an unfinished run ({folder / 'run.json'} is missing): "
                                f"there is nothing to resume. Start a run with `deepfin run --out {out}`.")
    return RunConfig.from_toml(folder / "run.toml")


def reopen(out: str | Path, plan) -> Journal:
    """Reopen the journal of the unfinished run in ``out``, checked against ``plan``.

    ``plan`` is the run made again from its saved settings: its settings, data and deepfin's version must be
    those it started with, or a ValueError says which differ. Temporary files that a killed write left in
    ``out`` and in the journal are removed.

    Returns
    -------
    Journal
        The journal, with the records the run had written.
    """
    out = Path(out)
    folder = out / FOLDER
    try:
        then = json.loads((folder / "run.json").read_text())
    except (OSError, ValueError) as error:
        raise ValueError(f"The journal of {out} cannot be read ({folder / 'run.json'}: {error}); start the run "
                         f"again without --resume.") from None
    now = fingerprints(plan)
    for name, what in (("deepfin", "deepfin's version"), ("settings", "the settings"), ("data", "the data")):
        if then.get(name) != now[name]:
            raise ValueError(_mismatch(name, what, then.get(name), now[name], out, plan.config))
    for leftover in [*out.glob(".*.tmp"), *folder.glob(".*.tmp")]:
        leftover.unlink(missing_ok=True)
    return Journal(folder, _combined(now))


def _mismatch(name: str, what: str, then, now, out: Path, config: RunConfig) -> str:
    if name == "deepfin":
        return (f"The run in {out} was started by deepfin {then}; this is deepfin {now}, whose results may differ. "
                f"Finish it with deepfin {then}, or start a new run.")
    if name == "data":
        source = config.data or "the embedded S&P 500 sample"
        return (f"The data differ from those the run in {out} started with (fingerprint {str(then)[:12]} then, "
                f"{now[:12]} now): {source} (or its universe or delistings) changed since. Resuming would mix "
                "results from two data sets; restore the data, or start a new run.")
    return (f"The settings in {out / FOLDER / 'run.toml'} differ from those the run started with (fingerprint "
            f"{str(then)[:12]} then, {now[:12]} now). Resuming would mix results of two configurations; put the "
            "file back, or start a new run.")


def fingerprints(plan) -> dict:
    """Hash what a run's results depend on: its resolved settings (less ``n_jobs``), its data, deepfin's version.

    Returns
    -------
    dict
        ``deepfin`` (the version), ``settings`` and ``data`` (SHA-256 hex digests; the data are the prices,
        the delisting returns and the index membership on every date).
    """
    settings = replace(plan.config, n_jobs=-1).to_toml()
    data = hashlib.sha256()
    for part in (plan.panel.prices, plan.panel.delisting_returns, plan.members):
        _digest(data, part)
    return {"deepfin": __version__, "settings": hashlib.sha256(settings.encode()).hexdigest(),
            "data": data.hexdigest()}


def _combined(marks: dict) -> str:
    return hashlib.sha256(json.dumps(marks, sort_keys=True).encode()).hexdigest()


def _digest(hasher, frame: pd.DataFrame | pd.Series) -> None:
    """Feed ``frame``'s labels and values (every cell and its place) to ``hasher``."""
    if isinstance(frame, pd.DataFrame):
        hasher.update(json.dumps([str(c) for c in frame.columns]).encode())
    hasher.update(np.ascontiguousarray(pd.util.hash_pandas_object(frame, index=True).to_numpy()).tobytes())
    hasher.update(str(len(frame)).encode())


def _canonical(part):
    """Turn ``part`` into plain JSON: arrays by dtype, shape and a hash of their bytes, estimators by settings.

    An estimator is its class name and its plain ``get_params``.
    """
    if isinstance(part, np.ndarray):
        array = np.ascontiguousarray(part)
        return {"array": [array.dtype.str, list(array.shape), hashlib.sha256(array.tobytes()).hexdigest()]}
    if hasattr(part, "get_params"):
        return {"estimator": type(part).__name__, "settings": {
            name: _canonical(value) for name, value in sorted(part.get_params(deep=True).items()) if _plain(value)}}
    if isinstance(part, dict):
        return {str(name): _canonical(value) for name, value in part.items()}
    if isinstance(part, (list, tuple, pd.Index)):
        return [_canonical(value) for value in part]
    if isinstance(part, np.generic):
        return part.item()
    return part if isinstance(part, _PLAIN) else str(part)


def _plain(value) -> bool:
    if isinstance(value, (list, tuple)):
        return all(_plain(v) for v in value)
    return isinstance(value, _PLAIN)
