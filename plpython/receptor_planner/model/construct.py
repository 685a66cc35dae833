"""A complete starting assignment, built term by term with min-cost matchings.

Each term assigns every line one place (a post with room) by a minimum-cost
perfect matching: a repeat is forbidden; taking a post that would break a cap
or leave a required category, or the team weeks, out of reach costs much;
covering a category the line still lacks earns. Places needed for min_fill are
filled first. A line that starts a placement of a span post holds it in the
terms it covers: those places are kept for it. The result meets every
structural rule (one post per term, capacity, min_fill, no repeat, spans) and
usually all or nearly all of the line rules of the rulebook; the repair and
the model mend the rest.
"""
from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass

from ortools.graph.python import linear_sum_assignment

from ..instance import Instance
from ..rules import Rules
from . import rulebook
from .variables import placement_starts

FORBIDDEN = 10**7
BREAKS = 10**5
COVERS = 1_000


@dataclass(frozen=True)
class _Place:
    post: int
    needed: bool  # for min_fill
    holder: int | None = None  # the line whose span placement goes on here; None: a new placement


def construct(instance: Instance, rules: Rules, n_lines: int, seed: int,
              checkpoint=lambda: None) -> list[list[int]] | None:
    """Post index per term for each of ``n_lines`` lines, or None if some term lacks places.

    Pinned placements are kept (line numbers are 1-based line indexes). ``checkpoint`` is
    called before each term's matching; it stops the construction by raising."""
    rng = random.Random(seed)
    keys = {post.key: p for p, post in enumerate(instance.positions)}
    pinned = {(pin.line - 1, pin.term): keys[pin.position] for pin in instance.pins}
    starts = [set(placement_starts(instance, p)) for p in range(len(instance.positions))]
    lines: list[list[int]] = [[] for _ in range(n_lines)]
    limits = LineLimits(instance, rules)
    states = [limits.empty() for _ in range(n_lines)]
    holding: dict[int, tuple[int, int]] = {}  # line -> (span post, last term) of the placement it is in
    taken: Counter = Counter()  # (post, term) -> lines whose placements hold it
    for t in range(1, instance.n_terms + 1):
        checkpoint()
        holding = {i: held for i, held in holding.items() if held[1] >= t}
        places = _places(instance, t, starts, holding, taken)
        if len(places) < n_lines:
            return None
        # dummy lines take the places nobody needs; they must not take min_fill places
        size = len(places)
        cost = [[0] * size for _ in range(size)]
        offered = sorted({place.post for place in places})
        for i, state in enumerate(states):
            if i in holding:  # its span placement goes on
                cost[i] = [0 if place.holder == i else FORBIDDEN for place in places]
                continue
            by_post = {p: limits.cost(state, t, p) + rng.randint(0, 9) for p in offered}
            if (i, t) in pinned:
                by_post = {p: 0 if p == pinned[i, t] else FORBIDDEN for p in offered}
            cost[i] = [FORBIDDEN if place.holder is not None else by_post[place.post] for place in places]
        for i in range(n_lines, size):
            cost[i] = [FORBIDDEN if place.holder is not None else BREAKS if place.needed else 0 for place in places]
        assignment = linear_sum_assignment.SimpleLinearSumAssignment()
        for i in range(size):
            for j in range(size):
                assignment.add_arc_with_cost(i, j, cost[i][j])
        if assignment.solve() != assignment.OPTIMAL:
            return None
        for i, line in enumerate(lines):
            place = places[assignment.right_mate(i)]
            line.append(place.post)
            if place.holder is None:
                limits.add(states[i], t, place.post)
                post = instance.positions[place.post]
                if post.span > 1:
                    holding[i] = (place.post, t + post.span - 1)
                    taken.update((place.post, u) for u in post.covers(t))
    return lines


def span_cells(instance: Instance, lines) -> set[tuple[int, int]]:
    """(line index, term) of every cell of ``lines`` (post index per term, per line) that holds a span post."""
    return {(i, t) for i, line in enumerate(lines) for t, p in enumerate(line, start=1)
            if p is not None and instance.positions[p].span > 1}


def _places(instance: Instance, t: int, starts: list[set[int]], holding: dict[int, tuple[int, int]],
            taken: Counter) -> list[_Place]:
    """Every place of term ``t``: a post's capacity, less what span placements already hold, which
    stays with their lines; a new span placement needs room in every term it covers."""
    out = [_Place(p, False, i) for i, (p, _) in sorted(holding.items())]
    for p, post in enumerate(instance.positions):
        if not post.offered(t):
            continue
        need = 0 if post.excludable else max(post.min_fill[t - 1] - taken[p, t], 0)
        if post.span == 1:
            room = post.capacity[t - 1]
        elif t in starts[p]:
            room = min(post.capacity[u - 1] - taken[p, u] for u in post.covers(t))
        else:
            room = 0
        out.extend(_Place(p, k < need) for k in range(max(room, 0)))
    return out


class _Line:
    """What a partial line holds: its posts, per rulebook group what it holds there, and its terms
    per site."""

    __slots__ = ("held", "tally", "short", "sites")

    def __init__(self, n_groups: int, short: list[int], n_sites: int):
        self.held: set[int] = set()
        self.tally = [0] * n_groups
        self.short = short  # per at-least rule: what its groups still lack
        self.sites = [0] * n_sites


class _Need:
    """An at-least rule: its groups (slots in a line's tally), and how much a placement can add to
    them all (a post serves up to ``breadth`` of the groups), per start term and after each term."""

    def __init__(self, rule: rulebook.LineRule, slots: list[int], breadth: int, most: dict[int, int]):
        self.limit, self.seek, self.slots, self.breadth = rule.limit, rule.seek, slots, breadth
        self.adds = {t: breadth * rule.amount(weeks) for t, weeks in most.items()}
        self.after = {t: sum(self.adds[u] for u in self.adds if u > t) for t in range(len(most) + 1)}


class LineLimits:
    """The rulebook's line rules and the service's links and home site, read as the cost of adding
    one placement to a partial line."""

    def __init__(self, instance: Instance, rules: Rules):
        self.instance = instance
        n_terms, posts = instance.n_terms, instance.positions
        self.span = [post.span for post in posts]
        self.starts = [set(post.start_terms) for post in posts]
        weeks = {t: [instance.placement_weeks(post, t) for post in posts] for t in range(1, n_terms + 1)}
        # the longest placement that can start in each term (bounds what later terms can add)
        most = {t: max(instance.placement_weeks(post, t) for post in posts if post.offered(t))
                if any(post.offered(t) for post in posts) else 0 for t in range(1, n_terms + 1)}
        slots: dict[tuple[int, str], int] = {}
        self.most: dict[int, int] = {}  # cap slot -> its limit
        self.needs: list[_Need] = []
        line_rules = rulebook.line_rules(rules, instance)
        for i, rule in enumerate(line_rules):
            if rule.at_least:
                ids = [slots.setdefault((i, g), len(slots)) for g in rule.required]
                breadth = max((len(set(rule.groups(post)) & set(rule.required)) for post in posts), default=0)
                self.needs.append(_Need(rule, ids, breadth, most))
            else:
                for post in posts:
                    for g in rule.groups(post):
                        self.most[slots.setdefault((i, g), len(slots))] = rule.limit
        self.n_slots = len(slots)
        # per start term and post: (slot, amount, limit) for the cap groups it adds to; per need,
        # (slot, amount) for the groups it adds to
        self.caps = {t: [[(slots[i, g], rule.amount(weeks[t][p]), rule.limit) for i, rule in enumerate(line_rules)
                          if not rule.at_least for g in rule.groups(post)] for p, post in enumerate(posts)]
                     for t in range(1, n_terms + 1)}
        self.gains = {t: [[[(slots[i, g], rule.amount(weeks[t][p])) for g in rule.required
                            if g in rule.groups(post) and rule.amount(weeks[t][p])]
                           for i, rule in enumerate(line_rules) if rule.at_least] for p, post in enumerate(posts)]
                      for t in range(1, n_terms + 1)}
        keys = {post.key: p for p, post in enumerate(posts)}
        # LINK: (post, the posts it is linked to, the last term a placement of one of them can start in)
        self.links = [(keys[link.when], frozenset(keys[k] for k in link.then),
                       max((t for k in link.then for t in placement_starts(instance, keys[k])), default=0))
                      for link in instance.links]
        self.home = instance.home_site_min_terms
        sites = sorted({post.site for post in posts if post.site is not None})
        self.site = [sites.index(post.site) if post.site is not None else 0 for post in posts]
        self.n_sites = len(sites)
        # keeps costs non-negative: the most a post can earn
        self.offset = COVERS * (sum(need.breadth for need in self.needs if need.seek) + len(self.links))

    def empty(self) -> _Line:
        return _Line(self.n_slots, [need.limit * len(need.slots) for need in self.needs], self.n_sites)

    def add(self, line: _Line, t: int, p: int) -> None:
        """A placement of post ``p`` starting in term ``t``."""
        line.held.add(p)
        if self.home is not None:
            line.sites[self.site[p]] += self.span[p]
        tally = line.tally
        for slot, amount, _ in self.caps[t][p]:
            tally[slot] += amount
        for k, (need, gains) in enumerate(zip(self.needs, self.gains[t][p])):
            if gains:
                for slot, gain in gains:
                    tally[slot] += gain
                line.short[k] = sum(max(need.limit - tally[s], 0) for s in need.slots)

    def placements(self, posts) -> tuple[list[tuple[int, int]], int]:
        """A whole line (a post per term) as (start term, post) placements, and how many of its
        span posts are not held for exactly their span from an allowed start (SPAN)."""
        out, broken, t, n = [], 0, 1, len(posts)
        while t <= n:
            p = int(posts[t - 1])
            run = 1
            while t + run <= n and int(posts[t + run - 1]) == p and run < max(self.span[p], 1):
                run += 1
            if self.span[p] > 1 and (run != self.span[p] or t not in self.starts[p]):
                broken += 1
            out.append((t, p))
            t += run
        return out, broken

    def breaks(self, posts) -> int:
        """How many line rules a whole line (a post per term) breaks: 0 when it is valid."""
        placements, count = self.placements(posts)
        line = self.empty()
        for t, p in placements:
            count += self.cost(line, t, p) // BREAKS
            self.add(line, t, p)
        return count

    def cost(self, line: _Line, t: int, p: int) -> int:
        """The cost of a placement of post ``p`` starting in term ``t``, after the terms before it."""
        if p in line.held:
            return FORBIDDEN
        end = t + self.span[p] - 1
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
            if short > need.after[end]:
                cost += BREAKS
        for when, then, last in self.links:
            if p != when and when not in line.held:
                continue
            if line.held & then:
                continue
            if p in then:
                cost -= COVERS
            elif last <= end:  # no placement of a linked post can follow
                cost += BREAKS
        if self.home is not None:
            best = max(count + (self.span[p] if site == self.site[p] else 0) for site, count in enumerate(line.sites))
            if best + self.instance.n_terms - end < self.home:
                cost += BREAKS
        return cost

    def fails(self, placed: list[tuple[int, int]]) -> bool:
        """Whether a partial line, ``placed`` = [(term, post)] in any order, repeats a post, breaks a
        line rule, or can no longer meet one in the terms it has left."""
        line, cells = self.empty(), sorted(placed)
        taken = {t for t, _ in cells}
        for i, (t, p) in enumerate(cells):
            continues = i and cells[i - 1] == (t - 1, p) and self.span[p] > 1
            if continues:
                continue
            if p in line.held:
                return True
            run = 1
            while (t + run, p) in cells:
                run += 1
            if self.span[p] > 1 and (run > self.span[p] or t not in self.starts[p]):
                return True
            self.add(line, t, p)
        if any(line.tally[slot] > most for slot, most in self.most.items()):
            return True
        for k, need in enumerate(self.needs):
            left = sum(adds for t, adds in need.adds.items() if t not in taken)
            if line.short[k] > left:
                return True
        free = [t for t in range(1, self.instance.n_terms + 1) if t not in taken]
        for when, then, last in self.links:
            if when in line.held and not line.held & then and not any(t <= last for t in free):
                return True
        if self.home is not None and max(line.sites, default=0) + len(free) < self.home:
            return True
        return False
