"""Repair a constructed assignment by local search, so CP-SAT need not search at all.

The term-by-term construction meets every structural rule but may leave a few
lines breaking a line rule (a second D term it could not foresee was needed
elsewhere, a cap reached late). The search lowers the broken line rules plus
the places short of min_fill on ordinary posts, with two moves that keep
capacity: swapping the posts of two lines in one term (every count stays), and
moving a line to a post with a spare place in that term. It takes any move
that does not make things worse, so it can cross plateaus, and stops when
nothing is broken or after PATIENCE tries without a gain: a seed gives the
same result. The model has the last word on the result.
"""
from __future__ import annotations

import random

from ..instance import Instance
from ..rules import Rules
from .construct import LineLimits, span_cells

PATIENCE = 4000  # tries without a gain before the search stops


def repair(instance: Instance, rules: Rules, lines: list[list[int]] | None, frozen: set[tuple[int, int]],
           seed: int) -> list[list[int]] | None:
    """``lines`` (post index per term, per line) with as little broken as the search finds;
    ``frozen`` holds the (line index, term) cells that must not move (pins)."""
    if not lines:
        return lines
    return _Repair(instance, rules, lines, frozen).run(random.Random(seed))


class _Repair:
    def __init__(self, instance: Instance, rules: Rules, lines: list[list[int]], frozen: set[tuple[int, int]]):
        self.limits = LineLimits(instance, rules)
        self.posts = instance.positions
        self.n_terms = instance.n_terms
        self.grid = [list(line) for line in lines]
        # span placements stay whole: their cells do not move, and no move makes one
        self.frozen = frozen | span_cells(instance, self.grid)
        self.movable = [post.span == 1 for post in self.posts]
        self.broken = [self.limits.breaks(line) for line in self.grid]
        self.count = [[0] * len(self.posts) for _ in range(self.n_terms)]
        for line in self.grid:
            for t, p in enumerate(line):
                self.count[t][p] += 1
        # ordinary posts must be staffed; excludable ones only count toward the unfilled objective
        self.need = [[0 if post.excludable else post.min_fill[t] for post in self.posts]
                     for t in range(self.n_terms)]

    def short(self) -> list[tuple[int, int]]:
        return [(t, p) for t in range(self.n_terms) for p in range(len(self.posts))
                if self.count[t][p] < self.need[t][p]]

    def run(self, rng: random.Random) -> list[list[int]]:
        idle = 0
        while idle < PATIENCE:
            bad = [i for i, b in enumerate(self.broken) if b]
            short = self.short()
            if not bad and not short:
                break
            idle += 1
            if short and (not bad or rng.random() < 0.5):  # fill a place short of min_fill
                t, q = rng.choice(short)
                gain = self.move(rng.randrange(len(self.grid)), t, q)
            else:
                a, t = rng.choice(bad), rng.randrange(self.n_terms)
                spare = [p for p, post in enumerate(self.posts)
                         if self.movable[p] and post.offered(t + 1) and self.count[t][p] < post.capacity[t]]
                if spare and rng.random() < 0.5:
                    gain = self.move(a, t, rng.choice(spare))
                else:
                    gain = self.swap(a, rng.randrange(len(self.grid)), t)
            if gain > 0:
                idle = 0
        return self.grid

    def _shortfall(self, t: int, p: int, delta: int) -> int:
        return max(self.need[t][p] - self.count[t][p] - delta, 0)

    def move(self, a: int, t: int, q: int) -> int:
        """Move line ``a`` to post ``q`` in term ``t`` (0-based) unless it makes things worse;
        returns the gain (negative: not moved)."""
        here = self.grid[a][t]
        if q == here or (a, t + 1) in self.frozen or not self.movable[q]:
            return -1
        self.grid[a][t] = q
        after = self.limits.breaks(self.grid[a])
        gain = (self.broken[a] - after + self._shortfall(t, here, 0) - self._shortfall(t, here, -1)
                + self._shortfall(t, q, 0) - self._shortfall(t, q, 1))
        if gain < 0:
            self.grid[a][t] = here
            return gain
        self.broken[a] = after
        self.count[t][here] -= 1
        self.count[t][q] += 1
        return gain

    def swap(self, a: int, c: int, t: int) -> int:
        """Swap the posts of lines ``a`` and ``c`` in term ``t`` unless it makes things worse."""
        here, there = self.grid[a][t], self.grid[c][t]
        if here == there or (a, t + 1) in self.frozen or (c, t + 1) in self.frozen:
            return -1
        self.grid[a][t], self.grid[c][t] = there, here
        after_a, after_c = self.limits.breaks(self.grid[a]), self.limits.breaks(self.grid[c])
        gain = self.broken[a] + self.broken[c] - after_a - after_c
        if gain < 0:
            self.grid[a][t], self.grid[c][t] = here, there
            return gain
        self.broken[a], self.broken[c] = after_a, after_c
        return gain
