"""Structural rules, in every ruleset: ONE_POSITION_PER_TERM, NO_REPEAT_POSITION,
CAPACITY, MIN_FILL and PIN. AVAILABILITY and SPAN hold by construction (variables.py)."""
from __future__ import annotations

from ortools.sat.python import cp_model

from ..instance import Pin
from .guards import Guard, unguarded
from .variables import Variables


def add_one_position_per_term(model: cp_model.CpModel, v: Variables) -> None:
    for l in v.lines:
        for t in v.terms:
            model.add(sum(var for _, var in v.line_terms(l, t)) == v.active[l])


def add_no_repeat_position(model: cp_model.CpModel, v: Variables) -> None:
    """One placement of a post per line (a span placement is one)."""
    for l in v.lines:
        held: dict[int, list] = {}
        for _, p, var in v.line_placements(l):
            held.setdefault(p, []).append(var)
        for variables in held.values():
            if len(variables) > 1:
                model.add_at_most_one(variables)


def add_capacity(model: cp_model.CpModel, v: Variables) -> None:
    for p, post in enumerate(v.posts):
        for t in v.terms:
            holders = v.post_term(p, t)
            if len(holders) > post.capacity[t - 1]:
                model.add(sum(holders) <= post.capacity[t - 1])


def add_min_fill(model: cp_model.CpModel, v: Variables, guard: Guard = unguarded) -> cp_model.LinearExpr:
    """Hard for ordinary posts; returns the shortfall of excludable posts to minimise."""
    shortfall = []
    for p, post in enumerate(v.posts):
        for t in v.terms:
            need = post.min_fill[t - 1]
            if need == 0:
                continue
            filled = sum(v.post_term(p, t))
            if post.excludable:
                short = model.new_int_var(0, need, f"unfilled[{post.key},{t}]")
                model.add(filled + short >= need)
                shortfall.append(short)
            else:
                guard(model.add(filled >= need), "MIN_FILL", post.key)
    return sum(shortfall)


def add_pin(model: cp_model.CpModel, v: Variables, pins: tuple[Pin, ...], guard: Guard = unguarded) -> None:
    keys = {post.key: p for p, post in enumerate(v.posts)}
    for pin in pins:
        guard(model.add(v.x[pin.line - 1, pin.term, keys[pin.position]] == 1), "PIN",
              f"line {pin.line} term {pin.term} {pin.position}")
