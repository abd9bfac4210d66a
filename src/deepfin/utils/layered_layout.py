"""A layered drawing of a directed acyclic graph, as Graphviz's ``dot`` lays one out, in plain Python.

``layered_layout(sizes, edges)`` takes each node's size (across the ranks, along them) and the
edges ``(source, target)`` as node indices, and returns where each node's centre goes and the
points each edge passes through. Coordinates are in the units of the sizes (points), ``breadth``
across the direction of the arrows and ``depth`` along it; the caller turns them into x and y.

The steps are the classic ones (Sugiyama et al.): the rank of a node is the longest path to it
from the inputs (a node with no inputs moves down to just above its first user, so a weight
sits next to the operation that reads it); an edge longer than one rank passes through
invisible points, one per rank; a few sweeps order each rank by the mean position of its
neighbours, keeping the order with the fewest crossings; last, each node moves towards its
neighbours as far as the spacing of its rank allows.
"""

from __future__ import annotations

from dataclasses import dataclass

RANK_GAP = 34.0  # points between ranks
NODE_GAP = 16.0  # points between neighbours in a rank
_SWEEPS = 6


@dataclass
class Layout:
    """Centres ``(breadth, depth)`` per node, each edge's points, and the drawing's extent.

    Attributes
    ----------
    centres : list of tuple of (float, float)
        Each node's centre.
    paths : list of list of tuple of (float, float)
        For each edge (in the order given, without repeats and self-loops), the points it passes through,
        from its source's centre to its target's.
    breadth : float
        The drawing's extent across the ranks.
    depth : float
        The drawing's extent along them.
    """

    centres: list[tuple[float, float]]
    paths: list[list[tuple[float, float]]]
    breadth: float
    depth: float


def layered_layout(sizes: list[tuple[float, float]], edges: list[tuple[int, int]]) -> Layout:
    """Place nodes of ``sizes`` connected by ``edges`` in ranks, as the module describes.

    Parameters
    ----------
    sizes : list of tuple of (float, float)
        Each node's size across the ranks (breadth) and along them (depth), in points.
    edges : list of tuple of (int, int)
        The edges ``(source, target)`` as node indices; the graph must be acyclic. Repeated edges and
        self-loops are dropped.

    Returns
    -------
    Layout
        The centres, edge paths and extent, in the units of ``sizes``.

    Examples
    --------
    >>> from deepfin.utils.layered_layout import layered_layout
    >>> layout = layered_layout([(10.0, 10.0), (10.0, 10.0)], [(0, 1)])
    >>> layout.centres, layout.depth
    ([(5.0, 5.0), (5.0, 49.0)], 54.0)
    """
    edges = list(dict.fromkeys((u, v) for u, v in edges if u != v))
    rank = _ranks(len(sizes), edges)
    widths = [s[0] for s in sizes]
    succ, pred, chains = _with_dummies(rank, edges, widths)
    ranks = _order(rank, succ, pred)
    breadth = _breadth(ranks, widths, succ, pred)
    depth_of_rank, total_depth = _depths(rank, sizes)
    centres = [(breadth[i], depth_of_rank[rank[i]]) for i in range(len(sizes))]
    paths = [[(breadth[i], depth_of_rank[rank[i]]) for i in chain] for chain in chains]
    low = min((b - widths[i] / 2 for i, b in enumerate(breadth)), default=0.0)
    shift = -low
    centres = [(b + shift, d) for b, d in centres]
    paths = [[(b + shift, d) for b, d in path] for path in paths]
    extent = max((b + widths[i] / 2 + shift for i, b in enumerate(breadth)), default=0.0)
    return Layout(centres, paths, extent, total_depth)


def _ranks(n: int, edges: list[tuple[int, int]]) -> list[int]:
    """Longest path from a source; sources then move down to just above their first user."""
    succ: list[list[int]] = [[] for _ in range(n)]
    indegree = [0] * n
    for u, v in edges:
        succ[u].append(v)
        indegree[v] += 1
    rank = [0] * n
    ready = [i for i in range(n) if indegree[i] == 0]
    done = 0
    while ready:
        u = ready.pop()
        done += 1
        for v in succ[u]:
            rank[v] = max(rank[v], rank[u] + 1)
            indegree[v] -= 1
            if indegree[v] == 0:
                ready.append(v)
    if done != n:
        raise ValueError("The graph to lay out has a cycle; only directed acyclic graphs can be drawn.")
    has_input = {v for _, v in edges}
    for u in range(n):
        if u not in has_input and succ[u]:
            rank[u] = min(rank[v] for v in succ[u]) - 1
    return rank


def _with_dummies(rank: list[int], edges, widths: list[float]):
    """Adjacency over ranks one apart: long edges pass through new dummy nodes (appended)."""
    succ: dict[int, list[int]] = {i: [] for i in range(len(rank))}
    pred: dict[int, list[int]] = {i: [] for i in range(len(rank))}
    chains = []
    for u, v in edges:
        chain = [u]
        for r in range(rank[u] + 1, rank[v]):
            dummy = len(rank)
            rank.append(r)
            widths.append(4.0)
            succ[dummy], pred[dummy] = [], []
            chain.append(dummy)
        chain.append(v)
        for a, b in zip(chain, chain[1:]):
            succ[a].append(b)
            pred[b].append(a)
        chains.append(chain)
    return succ, pred, chains


def _order(rank: list[int], succ, pred) -> list[list[int]]:
    """Nodes of each rank in drawing order, after barycentre sweeps (the fewest crossings kept)."""
    low = min(rank, default=0)
    ranks: list[list[int]] = [[] for _ in range(max(rank, default=0) - low + 1)]
    for node in _depth_first(rank, succ, pred):
        ranks[rank[node] - low].append(node)
    best, best_crossings = [list(r) for r in ranks], _crossings(ranks, succ)
    for sweep in range(_SWEEPS):
        down = sweep % 2 == 0
        indices = range(1, len(ranks)) if down else range(len(ranks) - 2, -1, -1)
        for i in indices:
            fixed = {node: k for k, node in enumerate(ranks[i - 1 if down else i + 1])}
            neighbours = pred if down else succ
            ranks[i] = _by_barycentre(ranks[i], neighbours, fixed)
        crossings = _crossings(ranks, succ)
        if crossings < best_crossings:
            best, best_crossings = [list(r) for r in ranks], crossings
    return best


def _depth_first(rank, succ, pred) -> list[int]:
    """Nodes in depth-first order from the sources: a first order that keeps chains together."""
    seen, order = set(), []
    for start in sorted(range(len(rank)), key=lambda i: (bool(pred[i]), i)):
        stack = [start]
        while stack:
            node = stack.pop()
            if node in seen:
                continue
            seen.add(node)
            order.append(node)
            stack.extend(reversed(succ[node]))
    return order


def _by_barycentre(nodes: list[int], neighbours, fixed: dict[int, int]) -> list[int]:
    def key(item):
        k, node = item
        positions = [fixed[n] for n in neighbours[node] if n in fixed]
        return (sum(positions) / len(positions) if positions else k, k)

    return [node for _, node in sorted(enumerate(nodes), key=key)]


def _crossings(ranks: list[list[int]], succ) -> int:
    total = 0
    for upper, lower in zip(ranks, ranks[1:]):
        position = {node: k for k, node in enumerate(lower)}
        pairs = [(i, position[v]) for i, u in enumerate(upper) for v in succ[u] if v in position]
        total += sum(1 for a, (i, p) in enumerate(pairs) for j, q in pairs[a + 1:] if (i - j) * (p - q) < 0)
    return total


def _breadth(ranks: list[list[int]], widths: list[float], succ, pred) -> list[float]:
    """Centre of each node across the ranks: packed, then pulled towards its neighbours."""
    centre = [0.0] * len(widths)
    for nodes in ranks:
        _pack(nodes, widths, centre, {n: 0.0 for n in nodes})
    for sweep in range(4):
        down = sweep % 2 == 0
        for nodes in ranks if down else reversed(ranks):
            targets = {}
            for node in nodes:
                near = (pred[node] if down else succ[node]) or pred[node] + succ[node]
                targets[node] = sum(centre[n] for n in near) / len(near) if near else centre[node]
            _pack(nodes, widths, centre, targets)
    return centre


def _pack(nodes: list[int], widths: list[float], centre: list[float], targets: dict[int, float]) -> None:
    """Put ``nodes`` in order, NODE_GAP apart, as near their targets as possible (least squares).

    Pool-adjacent-violators: a run of nodes pushed together moves as one block to its mean target.
    """
    offsets, at = [], 0.0
    for k, node in enumerate(nodes):
        if k:
            at += (widths[nodes[k - 1]] + widths[node]) / 2 + NODE_GAP
        offsets.append(at)
    blocks: list[list] = []  # [start index, count, mean of (target - offset)]
    for k, node in enumerate(nodes):
        blocks.append([k, 1, targets[node] - offsets[k]])
        while len(blocks) > 1 and blocks[-2][2] > blocks[-1][2]:
            start, count, mean = blocks.pop()
            previous = blocks[-1]
            previous[2] = (previous[2] * previous[1] + mean * count) / (previous[1] + count)
            previous[1] += count
    for start, count, base in blocks:
        for k in range(start, start + count):
            centre[nodes[k]] = base + offsets[k]


def _depths(rank: list[int], sizes: list[tuple[float, float]]) -> tuple[dict[int, float], float]:
    """Centre depth of each rank (ranks as deep as their deepest node) and the total depth."""
    deepest: dict[int, float] = {}
    for i, (_, depth) in enumerate(sizes):
        deepest[rank[i]] = max(deepest.get(rank[i], 0.0), depth)
    for r in set(rank):
        deepest.setdefault(r, 0.0)
    centres, at = {}, 0.0
    for r in sorted(deepest):
        centres[r] = at + deepest[r] / 2
        at += deepest[r] + RANK_GAP
    return centres, max(at - RANK_GAP, 0.0)
