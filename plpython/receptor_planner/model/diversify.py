"""Diversity (objective 3): spread the lines apart, by local search on a solution.

Swapping the posts of two lines in one term (never a cell of a span placement,
which stays whole) keeps every count per post and
term, so capacity, min_fill, the unfilled places and the mean pairwise
Hamming distance stay as they are (the mean depends on those counts alone);
only the smallest distance moves. The search raises the smallest distance,
then lowers the number of pairs at it, swapping a term of a closest pair with
another line while both lines stay valid. The model has the last word: the
caller accepts the result only if CP-SAT confirms it with every variable
fixed.
"""
from __future__ import annotations

import random
import time

import numpy as np

from ..instance import Instance
from ..rules import Rules
from .construct import LineLimits, span_cells


PATIENCE = 3000  # tries without a gain before the search stops


def diversify(instance: Instance, rules: Rules, lines: dict[int, list[int]], frozen: set[tuple[int, int]],
              seconds: float, seed: int, stopped=lambda: False) -> tuple[dict[int, list[int]] | None, bool]:
    """(a copy of ``lines`` with a larger smallest distance or fewer closest pairs, or None if
    none is better; whether the search ran to its end).

    ``frozen`` holds the (line, term) cells that must not move (pins). The search stops after
    PATIENCE tries without a gain, so a seed gives the same result; ``seconds`` is only a safety
    cap for very large services (the result then is not reproducible); ``stopped`` ends it
    early (a cancel)."""
    ids = sorted(l for l, posts in lines.items() if posts and posts[0] is not None)
    if len(ids) < 3:
        return None, True
    grid = np.array([lines[l] for l in ids])
    n, n_terms = grid.shape
    distance = (grid[:, None, :] != grid[None, :, :]).sum(axis=2)
    np.fill_diagonal(distance, n_terms + 1)
    limits = LineLimits(instance, rules)
    rng = random.Random(seed)
    frozen_rows = {(ids.index(l), t) for l, t in frozen if l in ids} | span_cells(instance, grid)

    def score(d) -> tuple[int, int]:
        low = int(d.min())
        return low, -int((d == low).sum())

    best = score(distance)
    start = best
    deadline = time.monotonic() + seconds
    idle = 0
    finished = True
    while idle < PATIENCE and best[0] < n_terms:
        if time.monotonic() >= deadline:
            finished = False
            break
        idle += 1
        if idle % 100 == 0 and stopped():
            return None, False
        close = np.argwhere(distance == best[0])
        a, b = close[rng.randrange(len(close))]
        a = int(a if rng.random() < 0.5 else b)
        same = [t for t in range(n_terms) if grid[a, t] == grid[int(b), t] and (a, t + 1) not in frozen_rows]
        if not same:
            continue
        t = rng.choice(same)
        c = rng.randrange(n)
        if grid[c, t] == grid[a, t] or (c, t + 1) in frozen_rows:
            continue
        grid[a, t], grid[c, t] = grid[c, t], grid[a, t]
        if limits.breaks(grid[a]) == 0 and limits.breaks(grid[c]) == 0:
            trial = distance.copy()
            for row in (a, c):
                trial[row, :] = trial[:, row] = (grid != grid[row]).sum(axis=1)
                trial[row, row] = n_terms + 1
            if score(trial) >= best:
                if score(trial) > best:
                    idle = 0
                distance, best = trial, score(trial)
                continue
        grid[a, t], grid[c, t] = grid[c, t], grid[a, t]  # undo
    if best <= start:
        return None, finished
    return {**lines, **{l: [int(p) for p in grid[i]] for i, l in enumerate(ids)}}, finished
