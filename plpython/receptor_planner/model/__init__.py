"""The CP-SAT model of job lines: variables, one module per rule family, and
the objectives the solve stages optimise in priority order."""
from __future__ import annotations

from dataclasses import dataclass

from ortools.sat.python import cp_model

from ..instance import Instance
from ..rules import Rules
from . import accreditation, structure, symmetry
from .variables import Variables, create_variables


@dataclass
class LinesModel:
    model: cp_model.CpModel
    v: Variables
    lines_built: cp_model.LinearExpr
    unfilled: cp_model.LinearExpr
    duplicates: cp_model.LinearExpr


def build_model(instance: Instance, rules: Rules, n_lines: int, allow_partial: bool) -> LinesModel:
    model = cp_model.CpModel()
    pinned = sorted({pin.line - 1 for pin in instance.pins})
    v = create_variables(model, instance, n_lines, allow_partial, set(pinned))
    structure.add_one_position_per_term(model, v)
    structure.add_no_repeat_position(model, v)
    structure.add_capacity(model, v)
    unfilled = structure.add_min_fill(model, v)
    structure.add_pin(model, v, instance.pins)
    for add_rule in accreditation.RULES:
        add_rule(model, v, rules)
    free = [l for l in v.lines if l not in pinned]
    duplicates = symmetry.add_line_order(model, v, free)
    lines_built = sum(v.active)
    return LinesModel(model, v, lines_built, unfilled, duplicates)


def read_lines(solver: cp_model.CpSolver, lm: LinesModel) -> list[tuple[int, tuple[str, ...]]]:
    """(line index, post key per term) of every built line in a solution."""
    out = []
    for l in lm.v.lines:
        posts = []
        for t in lm.v.terms:
            held = [p for p, var in lm.v.line_terms(l, t) if solver.boolean_value(var)]
            if held:
                posts.append(lm.v.posts[held[0]].key)
        if len(posts) == lm.v.instance.n_terms:
            out.append((l, tuple(posts)))
    return out
