"""The CP-SAT model of job lines: variables, one module per rule family, and
the objectives the solve stages optimise in priority order."""
from __future__ import annotations

from dataclasses import dataclass

from ortools.sat.python import cp_model

from ..instance import Instance
from ..rules import Rules
from . import rulebook, structure, symmetry
from .guards import Guards, unguarded
from .variables import Variables, create_variables


@dataclass
class LinesModel:
    model: cp_model.CpModel
    v: Variables
    free_lines: list[int]  # unpinned, hence interchangeable
    lines_built: cp_model.LinearExpr
    unfilled: cp_model.LinearExpr
    guards: Guards | None = None  # only when built to explain

    def add_distinct_lines(self) -> cp_model.LinearExpr | None:
        """Refine the line order for the duplicates stage (see symmetry.py)."""
        return symmetry.add_distinct_lines(self.model, self.v, self.free_lines)

    def add_smallest_distance(self, upper: int) -> cp_model.IntVar | None:
        """The smallest pairwise distance, to maximise up to ``upper``; None for many lines (see symmetry.py)."""
        return symmetry.add_smallest_distance(self.model, self.v, upper)

    def add_spread(self, lines_built: int) -> cp_model.LinearExpr | None:
        """Pairs of lines sharing a post in a term, to minimise (see symmetry.py); None when fixed."""
        return symmetry.add_spread(self.model, self.v, lines_built)

    def assignment(self, solver: cp_model.CpSolver) -> dict[int, list[int | None]]:
        """Post index per term of every line in a solution (None where unbuilt)."""
        out = {}
        for l in self.v.lines:
            out[l] = [next((p for p, var in self.v.line_terms(l, t) if solver.boolean_value(var)), None)
                      for t in self.v.terms]
        return out

    def hint(self, assignment: dict[int, list[int | None]], sort_free_lines: bool) -> None:
        """Warm-start from an assignment, with the free lines in full key order if asked."""
        if sort_free_lines:
            ordered = sorted((assignment[l] for l in self.free_lines), key=symmetry.sort_key)
            assignment = {**assignment, **dict(zip(self.free_lines, ordered))}
        self.model.clear_hints()
        for (l, t, p), var in self.v.x.items():
            self.model.add_hint(var, assignment[l][t - 1] == p)
        for (l, t, p), var in self.v.placed.items():
            if self.v.posts[p].span > 1:  # a span placement starts where the line takes the post
                self.model.add_hint(var, assignment[l][t - 1] == p and (t == 1 or assignment[l][t - 2] != p))
        for l, var in enumerate(self.v.active):
            if not isinstance(var, int):
                self.model.add_hint(var, assignment[l][0] is not None)


def build_model(instance: Instance, rules: Rules, n_lines: int, allow_partial: bool,
                explain: bool = False, checkpoint=lambda: None) -> LinesModel:
    """The line model; with ``explain``, every rule group hangs on a literal of ``guards``.
    ``checkpoint`` is called between rule families, so a cancel need not wait for the whole
    build (seconds on a large service); it stops the build by raising."""
    model = cp_model.CpModel()
    guards = Guards(model) if explain else None
    guard = guards or unguarded
    pinned = sorted({pin.line - 1 for pin in instance.pins})
    v = create_variables(model, instance, n_lines, allow_partial, set(pinned))
    checkpoint()
    structure.add_one_position_per_term(model, v)
    structure.add_no_repeat_position(model, v)
    structure.add_capacity(model, v)
    unfilled = structure.add_min_fill(model, v, guard)
    structure.add_pin(model, v, instance.pins, guard)
    rulebook.add_line_rules(model, v, rules, guard, checkpoint)
    free = [l for l in v.lines if l not in pinned]
    symmetry.add_line_order(model, v, free)
    return LinesModel(model, v, free, sum(v.active), unfilled, guards)
