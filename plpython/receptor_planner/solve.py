"""Solve a planner request: arithmetic first, then the line model in stages,
then leave. Every outcome is a ``SolveResult``; nothing here raises for an
infeasible or timed-out request.

Stages, each warm-started from the one before and keeping its optimum:
1. lines built (all of them, or as many as possible with allow_partial),
2. unfilled places on excludable posts,
3. duplicate lines.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Callable

from ortools.sat.python import cp_model

from . import explain, metrics
from .instance import Instance, Request
from .leave import LeaveOption, plan_leave
from .model import LinesModel, build_model, read_lines
from .rules import resolve_rules

POLL_SECONDS = 0.15


@dataclass
class SolvedLine:
    number: int  # 1-based
    posts: tuple[str, ...]  # one post key per term
    leave: LeaveOption


@dataclass
class SolveResult:
    status: str  # COMPLETED, INFEASIBLE or FAILED
    lines: list[SolvedLine] = field(default_factory=list)
    metrics: dict = field(default_factory=dict)
    explanation: dict | None = None
    error: str | None = None


class Stopped(Exception):
    """The caller asked the solve to stop (cancel, timeout)."""


def solve(instance: Instance, request: Request,
          should_stop: Callable[[], bool] | None = None) -> SolveResult:
    """Solve ``request`` on ``instance``. ``should_stop`` is polled while CP-SAT
    runs; when it returns true, or raises, the search stops. A raised
    exception propagates after the search has stopped."""
    clock = _Clock()
    rules = resolve_rules(request.constraints, instance.cohort)
    n = request.n_job_lines
    base = {"lines_requested": n, "seed": request.seed, "num_workers": request.num_workers,
            "ruleset": rules.as_dict()}

    blocking = explain.structure_reasons(instance, rules, n) + explain.staffing_reasons(instance, n)
    if blocking:
        return _infeasible(base, 0, "The request breaks rules before any post is placed.", blocking, clock)

    arithmetic = explain.capacity_reasons(instance, rules, n)
    leave = plan_leave(instance, n, clock.left(request.max_seconds), request.seed)
    if len(leave.options) < n:
        arithmetic.append(explain.Reason(
            "LEAVE_MAX_CONCURRENT",
            f"only {len(leave.options)} lines can take their leave with at most "
            f"{instance.leave.max_concurrent} lines on leave in any week", len(leave.options)))
    bound = min([n] + [r.lines_possible for r in arithmetic])
    if bound < n and not request.allow_partial:
        return _infeasible(base, bound, f"At most {bound} of the {n} lines requested are possible.",
                           arithmetic, clock)

    lm = build_model(instance, rules, n, request.allow_partial)
    lm.model.add(lm.lines_built <= bound)
    lm.model.add(lm.lines_built >= max((pin.line for pin in instance.pins), default=0))
    base["model"] = {"variables": len(lm.model.proto.variables),
                     "constraints": len(lm.model.proto.constraints)}
    clock.mark("build")

    stages = _Stages(lm, request, clock, should_stop)
    first = stages.run("lines", lm.lines_built if request.allow_partial else None, maximize=True)
    if first is None:
        if stages.last_status == cp_model.INFEASIBLE:
            summary = (f"No set of {n} lines meets every rule together, "
                       "though capacity arithmetic alone allows them.")
            return _infeasible(base | stages.report(), bound, summary, arithmetic, clock)
        return SolveResult("FAILED", metrics=base | stages.report() | clock.report(),
                           error=f"no solution found within max_seconds={request.max_seconds:g}; "
                                 "the request may still be feasible: allow more time")
    built = first if request.allow_partial else n
    lines_upper_bound = min(bound, stages.best_bound) if request.allow_partial else n
    lm.model.add(lm.lines_built == built)
    shortfall = stages.run("unfilled", lm.unfilled, maximize=False)
    if shortfall is not None:
        lm.model.add(lm.unfilled <= shortfall)
    stages.run("duplicates", lm.duplicates, maximize=False)

    solved = read_lines(stages.solver_of_best, lm)
    leave = plan_leave(instance, len(solved), clock.left(request.max_seconds), request.seed)
    lines = _number_lines(instance, solved, leave.options)
    clock.mark("leave")
    report = metrics.line_metrics(instance, [(line.posts, line.leave.blocks) for line in lines])
    result_metrics = base | stages.report() | report | clock.report() | {
        "lines_built": len(lines), "lines_upper_bound": lines_upper_bound,
        "leave_peak_weekly": leave.peak}
    reasons = arithmetic if len(lines) < n else []
    summary = None if not reasons else f"{len(lines)} of {n} lines built; at most {lines_upper_bound} are possible."
    return SolveResult("COMPLETED", lines, result_metrics,
                       explain.explanation(summary, reasons) if summary else None)


def _infeasible(base: dict, bound: int, summary: str, reasons, clock) -> SolveResult:
    return SolveResult("INFEASIBLE", metrics=base | clock.report() | {"lines_built": 0,
                                                                       "lines_upper_bound": bound},
                       explanation=explain.explanation(summary, reasons))


def _number_lines(instance: Instance, solved, leave_options) -> list[SolvedLine]:
    """Pinned lines keep their numbers; the others fill the free numbers in order."""
    pinned = {pin.line - 1 for pin in instance.pins}
    free_numbers = iter(i for i in range(len(solved)) if i not in pinned)
    numbered = sorted(((index if index in pinned else next(free_numbers)), posts)
                      for index, posts in solved)
    return [SolvedLine(i + 1, posts, leave_options[i]) for i, posts in numbered]


class _Clock:
    def __init__(self):
        self.start = self.last = time.monotonic()
        self.seconds: dict[str, float] = {}

    def mark(self, name: str) -> None:
        now = time.monotonic()
        self.seconds[name] = round(self.seconds.get(name, 0) + now - self.last, 3)
        self.last = now

    def elapsed(self) -> float:
        return time.monotonic() - self.start

    def left(self, budget: float) -> float:
        return max(budget - self.elapsed(), 0.0)

    def report(self) -> dict:
        return {"seconds": dict(self.seconds), "total_seconds": round(self.elapsed(), 3)}


class _FirstSolution(cp_model.CpSolverSolutionCallback):
    def __init__(self, clock: _Clock):
        super().__init__()
        self.clock = clock
        self.at: float | None = None

    def on_solution_callback(self) -> None:
        if self.at is None:
            self.at = round(self.clock.elapsed(), 3)


class _Stages:
    """Runs the lexicographic stages, each hinted with the best solution so far."""

    def __init__(self, lm: LinesModel, request: Request, clock: _Clock, should_stop):
        self.lm, self.request, self.clock, self.should_stop = lm, request, clock, should_stop
        self.solver_of_best: cp_model.CpSolver | None = None
        self.statuses: dict[str, str] = {}
        self.first_solution_seconds: float | None = None
        self.best_bound = request.n_job_lines
        self.last_status = cp_model.UNKNOWN
        self.gap = None

    def run(self, name: str, objective, maximize: bool) -> int | None:
        """Optimise ``objective`` (or just find a solution when it is None); return its value."""
        model = self.lm.model
        left = self.clock.left(self.request.max_seconds)
        if self.solver_of_best is None and left <= 0:
            return None
        if self.solver_of_best is not None:
            if left <= 0 or isinstance(objective, int):
                return None
            self._hint(model)
        model.clear_objective()
        if objective is not None and not isinstance(objective, int):
            (model.maximize if maximize else model.minimize)(objective)
        solver = cp_model.CpSolver()
        params = solver.parameters
        params.max_time_in_seconds = max(left, 0.1)
        params.num_workers = self.request.num_workers
        params.random_seed = self.request.seed
        params.catch_sigint_signal = False  # CP-SAT must not take over the backend's SIGINT
        callback = _FirstSolution(self.clock)
        status = _solve_in_thread(solver, model, callback, self.should_stop)
        self.clock.mark(name)
        self.last_status = status
        self.statuses[name] = solver.status_name(status)
        if self.first_solution_seconds is None and callback.at is not None:
            self.first_solution_seconds = callback.at
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return None
        self.solver_of_best = solver
        if objective is None or isinstance(objective, int):
            return 0
        if name == "lines":
            self.best_bound = int(solver.best_objective_bound + 1e-6)
        value = int(round(solver.objective_value))
        if status == cp_model.FEASIBLE:
            self.gap = self.gap or {}
            self.gap[name] = abs(solver.best_objective_bound - solver.objective_value)
        return value

    def _hint(self, model: cp_model.CpModel) -> None:
        model.clear_hints()
        best = self.solver_of_best
        for var in self.lm.v.x.values():
            model.add_hint(var, best.boolean_value(var))
        for var in self.lm.v.active:
            if not isinstance(var, int):
                model.add_hint(var, best.boolean_value(var))

    def report(self) -> dict:
        out = {"solver_status": self.statuses, "time_to_first_solution": self.first_solution_seconds}
        if self.gap:
            out["gap"] = self.gap
        return out


def _solve_in_thread(solver: cp_model.CpSolver, model: cp_model.CpModel, callback, should_stop) -> int:
    """Run CP-SAT in a thread while this thread polls ``should_stop``.

    A database backend only notices a cancel when it calls back into the
    server, so the poll is what makes a solve cancellable there.
    """
    outcome: dict = {}

    def target():
        outcome["status"] = solver.solve(model, callback)

    worker = threading.Thread(target=target, name="cp-sat", daemon=True)
    worker.start()
    try:
        while worker.is_alive():
            worker.join(POLL_SECONDS)
            if worker.is_alive() and should_stop is not None and should_stop():
                raise Stopped("the solve was asked to stop")
    except BaseException:
        solver.stop_search()
        worker.join()
        raise
    return outcome["status"]
