"""Affinity: how well the specialties inside each line go together (objective 4).

A profile weighs pairs of parent specialties (-100..100, symmetric); a line
scores the sum over the pairs of distinct specialties it holds. Holding a
specialty is one boolean per line; a weighted pair held is their AND, bounded
from the side the objective pushes against.
"""
from __future__ import annotations

from itertools import combinations

from ortools.sat.python import cp_model

from .variables import Variables


def pair_weight(weights: dict, a: str, b: str) -> int:
    return weights.get(a, {}).get(b, weights.get(b, {}).get(a, 0))


def add_affinity(model: cp_model.CpModel, v: Variables, weights: dict) -> cp_model.LinearExpr:
    """The total affinity of all lines, to maximise."""
    specialties = sorted({post.specialty for post in v.posts})
    pairs = [(a, b, pair_weight(weights, a, b)) for a, b in combinations(specialties, 2)]
    pairs = [(a, b, w) for a, b, w in pairs if w]
    total = []
    for l in v.lines:
        holds = {}
        for s in {a for a, _, _ in pairs} | {b for _, b, _ in pairs}:
            in_s = [var for t in v.terms for p, var in v.line_terms(l, t) if v.posts[p].specialty == s]
            if not in_s:
                continue
            held = model.new_bool_var(f"holds[{l},{s}]")
            model.add_max_equality(held, in_s)
            holds[s] = held
        for a, b, w in pairs:
            if a not in holds or b not in holds:
                continue
            both = model.new_bool_var(f"pair[{l},{a},{b}]")
            if w > 0:  # maximising pushes it up: cap it by each side
                model.add_implication(both, holds[a])
                model.add_implication(both, holds[b])
            else:  # maximising pushes it down: force it when both are held
                model.add_bool_or([both, holds[a].negated(), holds[b].negated()])
            total.append(w * both)
    return sum(total)
