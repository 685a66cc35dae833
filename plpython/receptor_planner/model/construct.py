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


def construct(instance: Instance, rules: Rules, n_lines: int, seed: int) -> list[list[int]] | None:
    """Post index per term for each of ``n_lines`` lines, or None if some term lacks places.

    Pinned placements are kept (line numbers are 1-based line indexes)."""
    rng = random.Random(seed)
    keys = {post.key: p for p, post in enumerate(instance.positions)}
    pinned = {(pin.line - 1, pin.term): keys[pin.position] for pin in instance.pins}
    lines: list[list[int]] = [[] for _ in range(n_lines)]
    limits = _Limits(instance, rules)
    for t in range(1, instance.n_terms + 1):
        places = _places(instance, t)
        if len(places) < n_lines:
            return None
        # dummy lines take the places nobody needs; they must not take min_fill places
        size = len(places)
        cost = [[0] * size for _ in range(size)]
        offered = sorted({p for p, _ in places})
        for i, line in enumerate(lines):
            by_post = {p: limits.cost(line, t, p) + rng.randint(0, 9) for p in offered}
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
            line.append(places[assignment.right_mate(i)][0])
    return lines


def _places(instance: Instance, t: int) -> list[tuple[int, bool]]:
    """One (post, needed for min_fill) per place offered in term ``t``."""
    out = []
    for p, post in enumerate(instance.positions):
        if post.offered(t):
            cap, need = post.capacity[t - 1], post.min_fill[t - 1]
            out.extend((p, k < need and not post.excludable) for k in range(cap))
    return out


class _Limits:
    """The line rules, read as the cost of adding one post to a partial line."""

    def __init__(self, instance: Instance, rules: Rules):
        self.instance, self.rules = instance, rules
        period = instance.period_weeks
        self.weeks = instance.term_weeks
        self.specialty = week_cap(rules.specialty_cap, period) if rules.specialty_cap else None
        self.subspecialty = week_cap(rules.subspecialty_cap, period) if rules.subspecialty_cap else None
        self.service = week_cap(rules.service_cap, period) if rules.service_cap else None
        self.team = week_floor(rules.team_min, period) if rules.team_min else None

    def cost(self, line: list[int], t: int, p: int) -> int:
        posts = self.instance.positions
        post = posts[p]
        if p in line:
            return FORBIDDEN
        held = [posts[q] for q in line] + [post]
        terms = range(1, len(held) + 1)
        rules, weeks = self.rules, self.weeks
        cost = 0

        def weeks_in(selects) -> int:
            return sum(weeks[u - 1] for u, h in zip(terms, held) if selects(h))

        if self.specialty is not None and weeks_in(lambda h: h.specialty == post.specialty) > self.specialty:
            cost += BREAKS
        if self.subspecialty is not None and post.subspecialty and \
                weeks_in(lambda h: h.subspecialty == post.subspecialty) > self.subspecialty:
            cost += BREAKS
        if self.service is not None and post.service and weeks_in(lambda h: h.service) > self.service:
            cost += BREAKS
        for flag, most in (("non_clinical", rules.non_clinical_max), ("rural", rules.max_rural_terms),
                           ("service", rules.max_service_terms), ("nights", 0 if rules.no_nights else None)):
            if most is not None and getattr(post, flag) and sum(getattr(h, flag) for h in held) > most:
                cost += BREAKS
        remaining = range(t + 1, self.instance.n_terms + 1)
        if self.team is not None:
            team = weeks_in(lambda h: not h.service and not h.non_clinical)
            if team + sum(weeks[u - 1] for u in remaining) < self.team:
                cost += BREAKS
        if rules.min_terms:
            clinical = sum(1 for u, h in zip(terms, held) if weeks[u - 1] >= 10 and not h.non_clinical)
            if clinical + sum(1 for u in remaining if weeks[u - 1] >= 10) < rules.min_terms:
                cost += BREAKS
        missing_before = {c for c in rules.categories if not any(c in h.categories for h in held[:-1])}
        missing_after = {c for c in missing_before if c not in post.categories}
        cost -= COVERS * (len(missing_before) - len(missing_after))
        if len(missing_after) > 2 * len(remaining):  # a post brings at most two categories
            cost += BREAKS
        return cost + COVERS * 2  # keep costs non-negative
