"""A complete starting assignment, built term by term with min-cost matchings.

Each term assigns every line one place (a post with room) by a minimum-cost
perfect matching: a repeat is forbidden; taking a post that would break a cap
or leave a required category, or the team weeks, out of reach costs much;
covering a category the line still lacks earns. Places needed for min_fill are
filled first. The result meets every structural rule (one post per term,
capacity, min_fill, no repeat) and usually all or nearly all of the line
rules; the soft model repairs the rest.
"""
from __future__ import annotations

import random

from ortools.graph.python import linear_sum_assignment

from ..instance import Instance
from ..rules import Rules, week_cap, week_floor

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
    """What a partial line holds, summed the way the line rules read it."""

    __slots__ = ("held", "specialty", "subspecialty", "service_weeks", "team_weeks", "long_clinical",
                 "flags", "missing")

    def __init__(self, categories: tuple[str, ...]):
        self.held: set[int] = set()
        self.specialty: dict[str, int] = {}
        self.subspecialty: dict[str, int] = {}
        self.service_weeks = self.team_weeks = self.long_clinical = 0
        self.flags = {"non_clinical": 0, "rural": 0, "service": 0, "nights": 0}
        self.missing = set(categories)


class LineLimits:
    """The line rules, read as the cost of adding one post to a partial line."""

    def __init__(self, instance: Instance, rules: Rules):
        self.instance, self.rules = instance, rules
        period = instance.period_weeks
        self.weeks = instance.term_weeks
        self.specialty = week_cap(rules.specialty_cap, period) if rules.specialty_cap else None
        self.subspecialty = week_cap(rules.subspecialty_cap, period) if rules.subspecialty_cap else None
        self.service = week_cap(rules.service_cap, period) if rules.service_cap else None
        self.team = week_floor(rules.team_min, period) if rules.team_min else None
        self.flag_limits = [(flag, most) for flag, most in (
            ("non_clinical", rules.non_clinical_max), ("rural", rules.max_rural_terms),
            ("service", rules.max_service_terms), ("nights", 0 if rules.no_nights else None)) if most is not None]
        n_terms = instance.n_terms
        # what the terms after t can still add
        self.weeks_after = {t: sum(self.weeks[t:]) for t in range(1, n_terms + 1)}
        self.long_after = {t: sum(1 for w in self.weeks[t:] if w >= 10) for t in range(1, n_terms + 1)}

    def empty(self) -> _Line:
        return _Line(self.rules.categories)

    def add(self, line: _Line, t: int, p: int) -> None:
        post, w = self.instance.positions[p], self.weeks[t - 1]
        line.held.add(p)
        line.specialty[post.specialty] = line.specialty.get(post.specialty, 0) + w
        if post.subspecialty:
            line.subspecialty[post.subspecialty] = line.subspecialty.get(post.subspecialty, 0) + w
        line.service_weeks += w if post.service else 0
        line.team_weeks += w if not post.service and not post.non_clinical else 0
        line.long_clinical += 1 if w >= 10 and not post.non_clinical else 0
        for flag in line.flags:
            line.flags[flag] += getattr(post, flag)
        line.missing -= set(post.categories)

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
        post, w, rules = self.instance.positions[p], self.weeks[t - 1], self.rules
        cost = 0
        if self.specialty is not None and line.specialty.get(post.specialty, 0) + w > self.specialty:
            cost += BREAKS
        if self.subspecialty is not None and post.subspecialty and \
                line.subspecialty.get(post.subspecialty, 0) + w > self.subspecialty:
            cost += BREAKS
        if self.service is not None and post.service and line.service_weeks + w > self.service:
            cost += BREAKS
        for flag, most in self.flag_limits:
            if getattr(post, flag) and line.flags[flag] + 1 > most:
                cost += BREAKS
        if self.team is not None:
            team = line.team_weeks + (w if not post.service and not post.non_clinical else 0)
            if team + self.weeks_after[t] < self.team:
                cost += BREAKS
        if rules.min_terms:
            clinical = line.long_clinical + (1 if w >= 10 and not post.non_clinical else 0)
            if clinical + self.long_after[t] < rules.min_terms:
                cost += BREAKS
        missing_after = line.missing.difference(post.categories)
        cost -= COVERS * (len(line.missing) - len(missing_after))
        if len(missing_after) > 2 * (self.instance.n_terms - t):  # a post brings at most two categories
            cost += BREAKS
        return cost + COVERS * 2  # keep costs non-negative
