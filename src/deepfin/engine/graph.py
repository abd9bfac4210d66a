"""Reading the recorded graph: the tensors a result depends on, in an order that respects it.

Nothing here runs while a graph is recorded. Each tensor an operation made carries the operation's name and
settings, given when it was made (``Tensor.op``, ``Tensor.op_attributes``); the views (``draw_graph``,
TensorBoard's graph) read them from there.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from deepfin.engine.tensor import Tensor

Node = TypeVar("Node")


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
