"""Reading the recorded graph: the tensors a result depends on, and the names of their operations.

Nothing here runs while a graph is recorded. An operation's name is read, when asked, from the
backward function the operation attached to its result: ``Tensor.__mul__.<locals>.backward`` is
``mul``, ``dense.<locals>.backward`` is ``dense``, and a shared helper (``_unary``) is looked
through to the function it was given (``exp.<locals>.<lambda>``), so recording costs nothing more.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from deepfin.engine.tensor import Tensor

Node = TypeVar("Node")
_ALIASES = {"truediv": "div", "getitem": "slice"}
_SCALARS = (str, int, float, bool, type(None))


def op_name(backward) -> str:
    """The name of the operation whose backward function is ``backward`` (``'mul'``, ``'dense'``).

    Parameters
    ----------
    backward : callable
        A tensor's backward function (``Tensor.grad_fn``).

    Returns
    -------
    str
        The name of the function that defined it, leading and trailing underscores stripped,
        with ``truediv`` read as ``div`` and ``getitem`` as ``slice`` (``'op'`` if nothing is left).
    """
    for _ in range(4):  # helpers hand their own op's function down a few levels at most
        name = _defining_function(backward)
        if not name.startswith("_") or name.endswith("__"):  # an op, or a Tensor dunder
            break
        inner = next((cell.cell_contents for cell in backward.__closure__ or ()
                      if callable(_contents(cell))), None)
        if inner is None:
            break
        backward = inner
    name = name.strip("_") or "op"
    return _ALIASES.get(name, name)


def op_attributes(backward) -> dict:
    """The plain settings an operation's backward function closes over (``{'axis': 1}``).

    Only Python strings, numbers, booleans and ``None`` are kept: arrays, tensors and NumPy scalars
    (values the operation computed) are not settings.

    Parameters
    ----------
    backward : callable
        A tensor's backward function (``Tensor.grad_fn``).

    Returns
    -------
    dict
        The closure's variable names and their values.
    """
    cells = backward.__closure__ or ()
    return {name: cell.cell_contents for name, cell in zip(backward.__code__.co_freevars, cells)
            if type(_contents(cell)) in _SCALARS}


def tensors_behind(root: Tensor, stop: Collection[Tensor] = ()) -> list[Tensor]:
    """Every tensor ``root`` was computed from, leaves included, each before what uses it; ``root`` last.

    The walk does not go into or list the tensors in ``stop`` (a layer's inputs, to read the layer
    alone).

    Parameters
    ----------
    root : Tensor
        The result to start from.
    stop : collection of Tensor, default ()
        Tensors the walk neither enters nor lists.

    Returns
    -------
    list of Tensor
        The tensors in topological order.

    Examples
    --------
    >>> from deepfin.engine import Tensor
    >>> from deepfin.engine.graph import tensors_behind
    >>> x = Tensor([1.0, 2.0], requires_grad=True)
    >>> [t.op for t in tensors_behind((x * x).sum())]
    [None, 'mul', 'sum']
    """
    return topological_order([root], lambda tensor: tensor.parents, stop)


def topological_order(roots: Sequence[Node], parents_of: Callable[[Node], Sequence[Node]],
                      stop: Collection[Node] = ()) -> list[Node]:
    """Every node ``roots`` are reached from through ``parents_of``, each after its parents, ``roots`` last.

    Nodes are told apart by identity; the walk neither enters nor lists the nodes in ``stop``. An
    iterative depth-first search, so a graph of any depth stays clear of the recursion limit. The
    engine's backward pass keeps its own leaner walk (``engine.tensor``), for speed.

    Parameters
    ----------
    roots : sequence
        The nodes to start from.
    parents_of : callable
        Maps a node to the sequence of its parents.
    stop : collection, default ()
        Nodes the walk neither enters nor lists.

    Returns
    -------
    list
        The nodes, each after its parents.
    """
    order: list[Node] = []
    seen: set[int] = {id(node) for node in stop}
    stack: list[tuple[Node, bool]] = [(root, False) for root in reversed(roots)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        stack.extend((parent, False) for parent in reversed(parents_of(node)) if id(parent) not in seen)
    return order


def _defining_function(fn) -> str:
    qualname = getattr(fn, "__qualname__", type(fn).__name__)
    outer = qualname.rsplit(".<locals>.", 1)[0] if ".<locals>." in qualname else qualname
    return outer.rsplit(".", 1)[-1]


def _contents(cell):
    try:
        return cell.cell_contents
    except ValueError:  # a cell not filled yet
        return None
