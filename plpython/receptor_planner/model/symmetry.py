"""Line symmetry: unpinned lines are interchangeable, so fix their order.

Each line gets a key, its posts read as digits (term 1 most significant);
keys must not decrease along the unpinned lines. Unbuilt lines have key 0 and
so come first. With lines in order, identical lines are neighbours, which
turns "no duplicate lines" into one indicator per neighbouring pair.
"""
from __future__ import annotations

from ortools.sat.python import cp_model

from .variables import Variables

_MAX_KEY = 2**62


def key_terms(v: Variables) -> int:
    """How many leading terms fit in the key without overflowing 62 bits."""
    base = len(v.posts) + 1
    terms = 0
    while terms < v.instance.n_terms and base ** (terms + 1) < _MAX_KEY:
        terms += 1
    return terms


def add_line_order(model: cp_model.CpModel, v: Variables, free_lines: list[int]) -> cp_model.LinearExpr:
    """Order the free lines; return the number of neighbouring identical lines."""
    base = len(v.posts) + 1
    n_key = key_terms(v)
    exact = n_key == v.instance.n_terms
    keys = []
    for l in free_lines:
        key = sum(base ** (n_key - t) * (p + 1) * var
                  for t in range(1, n_key + 1) for p, var in v.line_terms(l, t))
        keys.append(key)
    duplicates = []
    for i in range(len(free_lines) - 1):
        this, after = free_lines[i], free_lines[i + 1]
        if not isinstance(v.active[this], int):
            model.add(v.active[this] <= v.active[after])
        if exact:
            # strictly increasing unless this pair is counted as a duplicate
            same = model.new_bool_var(f"duplicate[{this}]")
            model.add(keys[i] + v.active[this] - same <= keys[i + 1])
            duplicates.append(same)
        else:
            model.add(keys[i] <= keys[i + 1])
    return sum(duplicates)
