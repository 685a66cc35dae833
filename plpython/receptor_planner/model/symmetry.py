"""Line symmetry: unpinned lines are interchangeable, so fix their order.

Searching for lines, the free lines are ordered by their term-1 post (and
unbuilt lines come first): a light order that propagates well. To count
identical lines, the order is refined to the full lexicographic one, each
line's posts read as the digits of a key (term 1 most significant); then
identical lines are neighbours, and "no duplicate lines" is one indicator per
neighbouring pair. The full order alone slows the search for lines many
times over, so it is added only for the duplicates stage, whose warm start is
the previous solution sorted the same way.
"""
from __future__ import annotations

from itertools import combinations

from ortools.sat.python import cp_model

from .variables import Variables

_MAX_KEY = 2**62
MAX_PAIR_TERMS = 20_000  # pairs of lines x terms; beyond, the smallest distance is left to the local search


def add_line_order(model: cp_model.CpModel, v: Variables, free_lines: list[int]) -> None:
    """Unbuilt lines first, then non-decreasing term-1 post."""
    first = [_key(v, l, 1) for l in free_lines]
    for i in range(len(free_lines) - 1):
        this, after = free_lines[i], free_lines[i + 1]
        if not isinstance(v.active[this], int):
            model.add(v.active[this] <= v.active[after])
        model.add(first[i] <= first[i + 1])


def key_terms(v: Variables) -> int:
    """How many leading terms fit in the key without overflowing 62 bits."""
    base = len(v.posts) + 1
    terms = 0
    while terms < v.instance.n_terms and base ** (terms + 1) < _MAX_KEY:
        terms += 1
    return terms


def _key(v: Variables, line: int, n_terms: int) -> cp_model.LinearExpr:
    """The line's posts in terms 1..n_terms as digits; 0 for an unbuilt line."""
    base = len(v.posts) + 1
    return sum(base ** (n_terms - t) * (p + 1) * var
               for t in range(1, n_terms + 1) for p, var in v.line_terms(line, t))


def add_distinct_lines(model: cp_model.CpModel, v: Variables, free_lines: list[int]) -> cp_model.LinearExpr | None:
    """Order free lines fully; return the number of neighbouring identical lines.

    None when the key cannot hold every term (more than about 6 terms of 100
    posts): duplicates are then only reported, not minimised."""
    n_key = key_terms(v)
    if n_key < v.instance.n_terms:
        return None
    keys = [_key(v, l, n_key) for l in free_lines]
    duplicates = []
    for i in range(len(free_lines) - 1):
        this = free_lines[i]
        same = model.new_bool_var(f"duplicate[{this}]")
        # strictly increasing between built lines unless this pair is counted as a duplicate
        model.add(keys[i] + v.active[this] - same <= keys[i + 1])
        duplicates.append(same)
    return sum(duplicates)


def sort_key(posts_by_term: list[int | None]) -> tuple:
    """The Python twin of the key, for sorting a warm start: unbuilt lines first."""
    return (posts_by_term[0] is not None, tuple(-1 if p is None else p for p in posts_by_term))


def add_spread(model: cp_model.CpModel, v: Variables, lines_built: int) -> cp_model.LinearExpr | None:
    """The pairs of lines that share a post in a term, summed over terms.

    The mean pairwise Hamming distance is terms minus this sum over the number
    of pairs: it depends only on how many lines hold each post in each term,
    so spreading lines evenly over the posts maximises it. None when every
    count is fixed: min_fill equals capacity, or a term has exactly as many
    places as lines (a tight service).
    """
    full_terms = {t for t in v.terms
                  if sum(post.capacity[t - 1] for p, post in enumerate(v.posts) if v.post_term(p, t)) == lines_built}
    pairs = []
    for p, post in enumerate(v.posts):
        for t in v.terms:
            holders = v.post_term(p, t)
            low, high = post.min_fill[t - 1], min(post.capacity[t - 1], len(holders))
            if not holders or t in full_terms or (low == high and not post.excludable):
                continue
            count = model.new_int_var(0, high, f"count[{post.key},{t}]")
            model.add(count == sum(holders))
            # count * (count - 1) / 2 pairs, tabulated for the few values a count can take
            shared = model.new_int_var(0, high * (high - 1) // 2, f"shared[{post.key},{t}]")
            model.add_element(count, [c * (c - 1) // 2 for c in range(high + 1)], shared)
            pairs.append(shared)
    return sum(pairs) if pairs else None


def add_smallest_distance(model: cp_model.CpModel, v: Variables, upper: int) -> cp_model.IntVar | None:
    """The smallest number of terms in which two lines differ, to maximise up to ``upper``
    (a known bound, so reaching it proves the optimum).

    One indicator per pair of lines and term says they share a post there; a
    line that is not built holds no post, so it shares none. None when the
    pairs are too many (about 90 lines of 5 terms): the local search of
    diversify.py then raises the smallest distance alone.
    """
    terms = v.instance.n_terms
    pairs = list(combinations(v.lines, 2))
    if len(pairs) * terms > MAX_PAIR_TERMS:
        return None
    smallest = model.new_int_var(0, upper, "smallest_distance")
    for a, b in pairs:
        shared = []
        for t in v.terms:
            same = model.new_bool_var(f"same[{a},{b},{t}]")
            for p, held_by_a in v.line_terms(a, t):
                model.add(held_by_a + v.x[b, t, p] <= 1 + same)
            shared.append(same)
        model.add(sum(shared) <= terms - smallest)
    return smallest
