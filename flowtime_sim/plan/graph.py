"""Ordering steps: the dependency graph, its strongly connected components, the stages.

Every step is a vertex. A step depends on the producer of each series it reads: at the same
bin (an *immediate* edge) or only at earlier bins (a *lagged* edge, from ``SHIFT(x, k >= 1)``
and from a queue's own previous depth). Then:

1. The immediate edges alone must be acyclic: a cycle there would need a value before it is
   computed, and is reported with every step on it.
2. The strongly connected components of the whole graph (Tarjan, iterative) are the
   feedback loops. A component of several steps, or one step that reads its own past, is a
   *sequential* stage: it is computed bin by bin, its steps ordered by their immediate edges.
   Every other step is a *vector* stage, computed for all bins at once.
3. Stages run in a topological order of the components; among ready components the one
   declared first goes first, so a model without feedback keeps its file order where it can.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence

from flowtime_sim.plan.steps import Step


class CycleError(Exception):
    """A cycle of immediate edges: the steps on it, in dependency order, first repeated last."""

    def __init__(self, cycle: list[int]) -> None:
        super().__init__(cycle)
        self.cycle = cycle


def edges(
    steps: Sequence[Step], producer: dict[str, int]
) -> tuple[list[list[int]], list[list[int]]]:
    """``(immediate, lagged)``: for each step, the steps it depends on (deduplicated)."""
    immediate: list[list[int]] = []
    lagged: list[list[int]] = []
    for step in steps:
        immediate.append(list(dict.fromkeys(producer[name] for name in step.inputs)))
        lagged.append(list(dict.fromkeys(producer[name] for name in step.lagged)))
    return immediate, lagged


def components(deps: Sequence[Sequence[int]]) -> list[list[int]]:
    """Strongly connected components of the graph ``i -> deps[i]`` (Tarjan, no recursion);
    each component's members sorted."""
    n = len(deps)
    index = [-1] * n
    low = [0] * n
    on_stack = [False] * n
    stack: list[int] = []
    found: list[list[int]] = []
    counter = 0
    for root in range(n):
        if index[root] != -1:
            continue
        work: list[tuple[int, int]] = [(root, 0)]
        while work:
            v, i = work.pop()
            if i == 0:
                index[v] = low[v] = counter
                counter += 1
                stack.append(v)
                on_stack[v] = True
            recurse = False
            while i < len(deps[v]):
                w = deps[v][i]
                i += 1
                if index[w] == -1:
                    work.append((v, i))
                    work.append((w, 0))
                    recurse = True
                    break
                if on_stack[w]:
                    low[v] = min(low[v], index[w])
            if recurse:
                continue
            if low[v] == index[v]:
                members: list[int] = []
                while True:
                    w = stack.pop()
                    on_stack[w] = False
                    members.append(w)
                    if w == v:
                        break
                found.append(sorted(members))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[v])
    return found


def immediate_cycle(immediate: Sequence[Sequence[int]]) -> list[int] | None:
    """One cycle of immediate edges, as a path where each step reads the next, or None."""
    for members in components(immediate):
        ring = set(members)
        first = members[0]
        if len(members) == 1 and first not in immediate[first]:
            continue
        # Follow what each step reads, inside the component, until a step repeats.
        path: list[int] = []
        seen: dict[int, int] = {}
        current = first
        while current not in seen:
            seen[current] = len(path)
            path.append(current)
            current = next(d for d in immediate[current] if d in ring)
        return [*path[seen[current] :], current]
    return None


def _kahn(members: Sequence[int], deps: Sequence[Sequence[int]]) -> list[int]:
    """``members`` in dependency order (only edges inside ``members``), lowest index first."""
    inside = set(members)
    waiting = {m: 0 for m in members}
    readers: dict[int, list[int]] = {m: [] for m in members}
    for m in members:
        for d in dict.fromkeys(deps[m]):
            if d in inside and d != m:
                waiting[m] += 1
                readers[d].append(m)
    ready = [m for m in members if waiting[m] == 0]
    heapq.heapify(ready)
    order: list[int] = []
    while ready:
        m = heapq.heappop(ready)
        order.append(m)
        for r in readers[m]:
            waiting[r] -= 1
            if waiting[r] == 0:
                heapq.heappush(ready, r)
    return order


def stages(
    immediate: Sequence[Sequence[int]], lagged: Sequence[Sequence[int]]
) -> list[tuple[list[int], bool]]:
    """``(steps in order, sequential?)`` per stage, in evaluation order.

    Raises :class:`CycleError` when the immediate edges have a cycle.
    """
    loop = immediate_cycle(immediate)
    if loop is not None:
        raise CycleError(loop)
    n = len(immediate)
    every = [list(dict.fromkeys([*immediate[i], *lagged[i]])) for i in range(n)]
    comps = components(every)
    comp_of = [0] * n
    for c, members in enumerate(comps):
        for m in members:
            comp_of[m] = c
    comp_deps: list[set[int]] = [set() for _ in comps]
    for i in range(n):
        for d in every[i]:
            if comp_of[d] != comp_of[i]:
                comp_deps[comp_of[i]].add(comp_of[d])
    key = [members[0] for members in comps]  # the first declared step of each
    order = _kahn_components(comp_deps, key)
    result: list[tuple[list[int], bool]] = []
    for c in order:
        members = comps[c]
        sequential = len(members) > 1 or members[0] in every[members[0]]
        result.append((_kahn(members, immediate), sequential))
    return result


def _kahn_components(comp_deps: Sequence[set[int]], key: Sequence[int]) -> list[int]:
    waiting = [len(d) for d in comp_deps]
    readers: list[list[int]] = [[] for _ in comp_deps]
    for c, deps in enumerate(comp_deps):
        for d in deps:
            readers[d].append(c)
    ready = [(key[c], c) for c in range(len(comp_deps)) if waiting[c] == 0]
    heapq.heapify(ready)
    order: list[int] = []
    while ready:
        _, c = heapq.heappop(ready)
        order.append(c)
        for r in readers[c]:
            waiting[r] -= 1
            if waiting[r] == 0:
                heapq.heappush(ready, (key[r], r))
    return order
