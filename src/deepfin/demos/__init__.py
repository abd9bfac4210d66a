"""The course texts' experiments as runnable demos: ``deepfin demo NAME`` or ``deepfin.demos.run('NAME')``.

The texts are Klaas (2019), *Machine Learning for Finance*, ch. 1; Della Lunga (2022), *Introduction to Machine
Learning for Finance*, lecture 1; Jansen (2020), *Machine Learning for Algorithmic Trading*, 2nd ed., ch. 17;
*Machine Learning in Finance* (2019, Module 5, "Introduction to Deep Learning"); and DataCamp's course
*Introduction to Deep Learning in Python*. Each demo's docstring names the one it follows.

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
    """Import the module of demo ``name``.

    Parameters
    ----------
    name : str
        One of ``NAMES``.

    Returns
    -------
    module
        ``deepfin.demos.<name>``, dashes read as underscores.

    Raises
    ------
    ValueError
        On an unknown name; the message lists the valid ones.

    Examples
    --------
    >>> module("learning-rates").__name__
    'deepfin.demos.learning_rates'
    """
    if name not in NAMES:
        raise ValueError(f"Unknown demo {name!r}. Available demos: {', '.join(NAMES)}.")
    return importlib.import_module(f"deepfin.demos.{name.replace('-', '_')}")


def summary(name: str) -> str:
    """Give the first line of a demo's docstring, as ``deepfin demo --list`` shows it.

    Examples
    --------
    >>> summary("moons")
    'Two moons with hidden layers of 1, 3 and 500 tanh units: under-fit, about right, over-fit.'
    """
    return module(name).__doc__.strip().splitlines()[0]


def run(name: str, out=None, quick: bool = False, **options) -> dict:
    """Run demo ``name``: it trains, prints its figures and writes its plots.

    Parameters
    ----------
    name : str
        One of ``NAMES``.
    out : str, Path or None, default None
        The folder for the plots; None: ``runs/NAME``.
    quick : bool, default False
        A smaller run, where the demo has one.
    **options
        The demo's own options, such as ``epochs`` or ``mnist_path``.

    Returns
    -------
    dict
        The demo's headline figures (its ``run``'s).
    """
    return module(name).run(out=out, quick=quick, **options)


__all__ = ["NAMES", "module", "run", "summary"]
