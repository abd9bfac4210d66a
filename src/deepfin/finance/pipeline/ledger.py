"""Every trial counted: the candidates each run evaluated, kept in a ledger beside the runs.

A deflated Sharpe ratio then accounts for every strategy tried on the same data, not only the current run's.

``trials.jsonl`` in the folder that holds the runs (``runs/`` by default) has one JSON line per finished run:
its folder name, the ledger key (a fingerprint of the data with the recipe and the label: the trials a run's
book competes with), and each candidate's Sharpe ratio per period on its tuning folds, before and after costs.
The file is rewritten whole (temporary name, then renamed) each time a run is added, so a killed run leaves it
as it was; a line that cannot be read is skipped and counted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from deepfin._files import atomic_write

FILE = "trials.jsonl"


@dataclass
class Trials:
    """The trials that earlier runs on the same data, recipe and label evaluated.

    Attributes
    ----------
    sharpe, sharpe_after_costs : list of float
        Each candidate's Sharpe ratio per period on its tuning folds, before and after costs.
    runs : list of str
        The runs they come from.
    unreadable : int
        Ledger lines that could not be read, skipped.
    """

    sharpe: list[float] = field(default_factory=list)
    sharpe_after_costs: list[float] = field(default_factory=list)
    runs: list[str] = field(default_factory=list)
    unreadable: int = 0


def key(data_fingerprint: str, recipe: str, label: str) -> str:
    """Make the ledger key: trials compete on the same data (by fingerprint), recipe and label.

    Examples
    --------
    >>> key("3f2a", "monthly", "up")
    '3f2a:monthly:up'
    """
    return f"{data_fingerprint}:{recipe}:{label}"


def earlier(folder: str | Path, ledger_key: str, excluding: str | None = None) -> Trials:
    """Read the trials the ledger in ``folder`` holds under ``ledger_key`` (none without a ledger).

    Parameters
    ----------
    folder : str or Path
        The folder of runs, which holds ``trials.jsonl``.
    ledger_key : str
        ``key``'s result for the run.
    excluding : str or None, default None
        A run to leave out (a run resumed after it was recorded).

    Returns
    -------
    Trials
        The earlier runs' trials; lines that cannot be read are counted in ``unreadable``.
    """
    path = Path(folder) / FILE
    found = Trials()
    if not path.is_file():
        return found
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            entry = json.loads(line)
            if entry["key"] != ledger_key or entry["run"] == excluding:
                continue
            sharpe = [float(v) for v in entry["sharpe"] if v is not None]
            after = [float(v) for v in entry["sharpe_after_costs"] if v is not None]
        except (ValueError, KeyError, TypeError):
            found.unreadable += 1
            continue
        found.sharpe += sharpe
        found.sharpe_after_costs += after
        found.runs.append(str(entry["run"]))
    return found


def record(folder: str | Path, ledger_key: str, run: str, sharpe: list[float], sharpe_after_costs: list[float]
           ) -> None:
    """Add a finished run's trials to the ledger in ``folder``, replacing an earlier line of the same run.

    Non-finite Sharpe ratios are written as null. The file is rewritten whole, under a temporary name first.
    """
    path = Path(folder) / FILE
    lines = path.read_text(encoding="utf-8").splitlines() if path.is_file() else []
    kept = [line for line in lines if _run_of(line) != run]
    entry = {"run": run, "key": ledger_key, "sharpe": [_plain(v) for v in sharpe],
             "sharpe_after_costs": [_plain(v) for v in sharpe_after_costs]}
    with atomic_write(path) as stream:
        stream.write(("\n".join([*kept, json.dumps(entry)]) + "\n").encode("utf-8"))


def _run_of(line: str) -> str | None:
    try:
        return json.loads(line).get("run")
    except (ValueError, AttributeError):
        return None


def _plain(value) -> float | None:
    value = float(value)
    return value if value == value and abs(value) != float("inf") else None
