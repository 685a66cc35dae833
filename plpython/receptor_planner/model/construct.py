"""A complete starting assignment, built term by term with min-cost matchings.

Each term assigns every line one place (a post with room) by a minimum-cost
perfect matching: a repeat is forbidden; taking a post that would break a cap
or leave a required category, or the team weeks, out of reach costs much;
covering a category the line still lacks earns. Places needed for min_fill are
filled first. The result meets every structural rule (one post per term,
capacity, min_fill, no repeat) and usually all or nearly all of the line
rules of the rulebook; the repair and the model mend the rest.
"""
from __future__ import annotations

import random

from ortools.graph.python import linear_sum_assignment

from ..instance import Instance
from ..rules import Rules
from . import rulebook

FORBIDDEN = 10**7
BREAKS = 10**5
COVERS = 1_000


def construct(instance: Instance, rules: Rules, n_lines: int, seed: int,
              checkpoint=lambda: None) -> list[list[int]] | None:
    """Post index per term for each of ``n_lines`` lines, or None if some term lacks places.

    Pinned placements are kept (line numbers are 1-based line indexes). ``checkpoint`` is
    called before each term's matching; it stops the construction by raising."""
    rng = random.Random(seed)
    keys = {post.key: p for p, post in enumerate(instance.positions)}
    pinned = {(pin.line - 1, pin.term): keys[pin.position] for pin in instance.pins}
    lines: list[list[int]] = [[] for _ in range(n_lines)]
    limits = LineLimits(instance, rules)
    states = [limits.empty() for _ in range(n_lines)]
    for t in range(1, instance.n_terms + 1):
        checkpoint()
        places = _places(instance, t)
        if len(places) < n_lines:
            return None
        # dummy lines take the places nobody needs; they must not take min_fill places
        size = len(places)
        cost = [[0] * size for _ in range(size)]
        offered = sorted({p for p, _ in places})
        for i, state in enumerate(states):
            by_post = {p: limits.cost(state, t, p) + rng.randint(0, 9) for p in offered}
            if (i, t) in pinned:
                by_post = {p: 0 if p == pinned[i, t] else FORBIDDEN for p in offered}
            cost[i] = [by_post[p] for p, _ in places]
        for i in range(n_lines, size):
            for j, (_, needed) in enumerate(places):
                cost[i][j] = BREAKS if needed else 0
        assignment = linear_sum_assignment.SimpleLinearSumAssignment()
        for i in range(size):
            for j in range(size):
                assignment.add_arc_with_cost(i, j, cost[i][j])
        if assignment.solve() != assignment.OPTIMAL:
            return None
        for i, line in enumerate(lines):
            p = places[assignment.right_mate(i)][0]
            line.append(p)
            limits.add(states[i], t, p)
    return lines


def _places(instance: Instance, t: int) -> list[tuple[int, bool]]:
    """One (post, needed for min_fill) per place offered in term ``t``."""
    out = []
    for p, post in enumerate(instance.positions):
        if post.offered(t):
            cap, need = post.capacity[t - 1], post.min_fill[t - 1]
            out.extend((p, k < need and not post.excludable) for k in range(cap))
    return out


class _Line:
    """What a partial line holds: its posts, and per rulebook group what it holds there."""

    __slots__ = ("held", "tally", "short")

    def __init__(self, n_groups: int, short: list[int]):
        self.held: set[int] = set()
        self.tally = [0] * n_groups
        self.short = short  # per at-least rule: what its groups still lack


class _Need:
    """An at-least rule: its groups (slots in a line's tally), and how much a term can add to them
    all (a post serves up to ``breadth`` of the groups), per term and after each term."""

    def __init__(self, rule: rulebook.LineRule, slots: list[int], breadth: int, weeks: tuple[int, ...]):
        self.limit, self.seek, self.slots, self.breadth = rule.limit, rule.seek, slots, breadth
        self.adds = {t: breadth * rule.amount(w) for t, w in enumerate(weeks, start=1)}
        self.after = {t: sum(self.adds[u] for u in self.adds if u > t) for t in range(len(weeks) + 1)}


class LineLimits:
    """The rulebook's line rules, read as the cost of adding one post to a partial line."""

    def __init__(self, instance: Instance, rules: Rules):
        self.instance = instance
        self.weeks = weeks = instance.term_weeks
        n_terms, posts = instance.n_terms, instance.positions
        slots: dict[tuple[int, str], int] = {}
        self.most: dict[int, int] = {}  # cap slot -> its limit
        self.needs: list[_Need] = []
        line_rules = rulebook.line_rules(rules, instance)
        for i, rule in enumerate(line_rules):
            if rule.at_least:
                ids = [slots.setdefault((i, g), len(slots)) for g in rule.required]
                breadth = max((len(set(rule.groups(post)) & set(rule.required)) for post in posts), default=0)
                self.needs.append(_Need(rule, ids, breadth, weeks))
            else:
                for post in posts:
                    for g in rule.groups(post):
                        self.most[slots.setdefault((i, g), len(slots))] = rule.limit
        self.n_slots = len(slots)
        # per term and post: (slot, amount, limit) for the cap groups it adds to; per need, (slot, amount)
        # for the groups it adds to
        self.caps = {t: [[(slots[i, g], rule.amount(weeks[t - 1]), rule.limit) for i, rule in enumerate(line_rules)
                          if not rule.at_least for g in rule.groups(post)] for post in posts]
                     for t in range(1, n_terms + 1)}
        self.gains = {t: [[[(slots[i, g], rule.amount(weeks[t - 1])) for g in rule.required
                            if g in rule.groups(post) and rule.amount(weeks[t - 1])]
                           for i, rule in enumerate(line_rules) if rule.at_least] for post in posts]
                      for t in range(1, n_terms + 1)}
        # keeps costs non-negative: the most a post can earn
        self.offset = COVERS * sum(need.breadth for need in self.needs if need.seek)

    def empty(self) -> _Line:
        return _Line(self.n_slots, [need.limit * len(need.slots) for need in self.needs])

    def add(self, line: _Line, t: int, p: int) -> None:
        line.held.add(p)
        tally = line.tally
        for slot, amount, _ in self.caps[t][p]:
            tally[slot] += amount
        for k, (need, gains) in enumerate(zip(self.needs, self.gains[t][p])):
            if gains:
                for slot, gain in gains:
                    tally[slot] += gain
                line.short[k] = sum(max(need.limit - tally[s], 0) for s in need.slots)

    def breaks(self, posts) -> int:
        """How many line rules a whole line (a post per term) breaks: 0 when it is valid."""
        line, count = self.empty(), 0
        for t, p in enumerate(posts, start=1):
            count += self.cost(line, t, int(p)) // BREAKS
            self.add(line, t, int(p))
        return count

    def cost(self, line: _Line, t: int, p: int) -> int:
        if p in line.held:
            return FORBIDDEN
        tally, cost = line.tally, self.offset
        for slot, amount, most in self.caps[t][p]:
            if tally[slot] + amount > most:
                cost += BREAKS
        for need, gains, before in zip(self.needs, self.gains[t][p], line.short):
            short = before
            if gains:
                for slot, gain in gains:
                    lack = need.limit - tally[slot]
                    if lack > 0:
                        short -= gain if gain < lack else lack
                if need.seek:
                    cost -= COVERS * (before - short)
            if short > need.after[t]:
                cost += BREAKS
        return cost

    def fails(self, placed: list[tuple[int, int]]) -> bool:
        """Whether a partial line, ``placed`` = [(term, post)] in any order, repeats a post, breaks a
        line rule, or can no longer meet one in the terms it has left."""
        line = self.empty()
        for t, p in placed:
            if p in line.held:
                return True
            self.add(line, t, p)
        if any(line.tally[slot] > most for slot, most in self.most.items()):
            return True
        taken = {t for t, _ in placed}
        for k, need in enumerate(self.needs):
            left = sum(adds for t, adds in need.adds.items() if t not in taken)
            if line.short[k] > left:
                return True
        return False

