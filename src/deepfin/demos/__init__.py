"""The seeds' experiments as runnable demos: ``deepfin demo NAME`` or ``deepfin.demos.run('NAME')``.

Each demo is a module here with a docstring (its help text), ``run(out=None, quick=False, **options)
-> dict`` that trains, prints its figures and writes its PNGs under ``runs/NAME/`` (or ``out``), and
optionally ``add_arguments(parser)`` for command-line options of its own (given to ``run`` by keyword).
Modules are imported when used.
"""

from __future__ import annotations

import importlib

NAMES = ("logistic", "moons", "circles", "classification", "spiral", "universal", "digits", "bank",
         "learning-rates", "vanishing-gradients", "sequence-memory")


def module(name: str):
    """The module of demo ``name``; an unknown name raises and lists the valid ones."""
    if name not in NAMES:
        raise ValueError(f"Unknown demo {name!r}. Available demos: {', '.join(NAMES)}.")
    return importlib.import_module(f"deepfin.demos.{name.replace('-', '_')}")


def summary(name: str) -> str:
    """The first line of a demo's docstring."""
    return module(name).__doc__.strip().splitlines()[0]


def run(name: str, out=None, quick: bool = False, **options) -> dict:
    """Run demo ``name``; returns its headline figures."""
    return module(name).run(out=out, quick=quick, **options)


__all__ = ["NAMES", "module", "run", "summary"]
