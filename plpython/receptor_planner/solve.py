"""Solve a planner request: arithmetic first, then the line model in stages,
then leave. Every outcome is a ``SolveResult``; nothing here raises for an
infeasible or timed-out request.

First the lines are built (all of them, or as many as possible with
allow_partial: ``_search_lines``); then the declared ``STAGES`` run in one loop,
each warm-started from the one before and keeping its optimum: unfilled places
on excludable posts, duplicate lines, the smallest pairwise distance, the mean,
affinity.

Every search is stopped by a budget of deterministic time, not by the clock, so
the same instance, request and seed give the same lines (``cpsat``).
"""
from __future__ import annotations

import math
import os
import threading
import time
from dataclasses import dataclass, field, replace
from typing import Callable

from ortools.sat.python import cp_model

from . import cpsat, explain, metrics
from .instance import Instance, Request
from .leave import LeaveOption, plan_leave
from .model import LinesModel, build_model
from .model.affinity import add_affinity
from .model.construct import construct
from .model.diversify import diversify
from .model.repair import repair
from .rules import resolve_rules

POLL_SECONDS = 0.15
STAGE_EFFORT = 1.5  # deterministic time: about three seconds of one core
MOST_POSSIBLE_WORK = 0.2  # the least deterministic time worth asking how many lines are possible


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
          should_stop: Callable[[], bool] | None = None, work: float | None = None) -> SolveResult:
    """Solve ``request`` on ``instance``. ``should_stop`` is polled while CP-SAT
    runs and between phases; when it returns true, or raises, the solve stops
    (``Stopped``, or the raised exception, after the search has stopped)."""
    clock = _Clock()
    rules = resolve_rules(request.constraints, instance.cohort)
    n = request.n_job_lines
    base = {"lines_requested": n, "seed": request.seed, "num_workers": request.num_workers,
            "ruleset": rules.as_dict(), "versions": cpsat.versions()}

    search = _Search(should_stop, request.max_seconds * cpsat.WORK_PER_SECOND if work is None else work)
    blocking = explain.structure_reasons(instance, rules, n) + explain.staffing_reasons(instance, n)
    if blocking:
        return _infeasible(base, 0, "The request breaks rules before any post is placed.", blocking, clock,
                           search)

    arithmetic = explain.capacity_reasons(instance, rules, n)
    leave = plan_leave(instance, n, clock.left(request.max_seconds), request.seed)
    if not leave.reproducible:
        search.cut_short("leave_arithmetic")
    if len(leave.options) < n:
        arithmetic.append(explain.Reason(
            "LEAVE_MAX_CONCURRENT",
            f"only {len(leave.options)} lines can take their leave with at most "
            f"{instance.leave.max_concurrent} lines on leave in any week", len(leave.options)))
    bound = min([n] + [r.lines_possible for r in arithmetic])
    unstaffed = explain.staffing_reasons(instance, bound, possible=True) if bound < n else []
    if unstaffed:  # fewer lines would not staff the posts either
        return _infeasible(base | {"lines_possible": 0}, 0,
                           f"No lines are possible: at most {bound} lines meet the rules below, "
                           "too few to staff the posts.", arithmetic + unstaffed, clock, search)
    if bound < n and not request.allow_partial:
        possible, upper = _most_possible(instance, request, clock, search)
        upper = bound if upper is None else min(upper, bound)
        return _infeasible(base | {"lines_possible": possible}, upper,
                           f"At most {upper} of the {n} lines requested are possible"
                           + (" (proven)." if possible == upper else "."), arithmetic, clock, search)

    highest_pin = max((pin.line for pin in instance.pins), default=0)
    if highest_pin > bound:
        return _infeasible(base, bound, f"Line {highest_pin} is pinned, but at most {bound} lines are possible.",
                           arithmetic, clock, search)
    lm, stages, built, lines_upper_bound = _search_lines(instance, rules, request, bound, highest_pin,
                                                         clock, search)
    base["model"] = {"variables": len(lm.model.proto.variables),
                     "constraints": len(lm.model.proto.constraints)}
    if built is None:
        if stages.last_status == cp_model.INFEASIBLE:
            conflicts = explain.conflicting_rules(instance, rules, bound, clock.left(request.max_seconds), search)
            because = ": these rules conflict, and each is needed for the conflict." if conflicts else "."
            if request.allow_partial:  # proven for every count arithmetic allows
                possible = upper = 0
                summary = f"No set of up to {bound} lines meets every rule together" + because
            else:
                possible, upper = _most_possible(instance, request, clock, search)
                upper = n - 1 if upper is None else min(upper, n - 1)
                summary = f"No set of {n} lines meets every rule together, though capacity arithmetic allows them" \
                    + because
            return _infeasible(base | stages.report() | {"lines_possible": possible}, upper, summary,
                               arithmetic + (conflicts or []), clock, search)
        return SolveResult("FAILED", metrics=base | stages.report() | search.report() | clock.report(),
                           error=f"no solution found within max_seconds={request.max_seconds:g}; "
                                 "the request may still be feasible: allow more time")
    lm.model.add(lm.lines_built == built)
    _improve(_After(instance, rules, request, lm, stages, built, clock, search))

    posts = instance.positions
    solved = [(l, tuple(posts[p].key for p in line)) for l, line in stages.best.items() if line[0] is not None]
    numbered = _number_lines(instance, solved)
    leave = plan_leave(instance, len(numbered), clock.left(request.max_seconds), request.seed,
                       held=[line for _, line in numbered])
    if not leave.reproducible:
        search.cut_short("leave")
    lines = [SolvedLine(number, line, option) for (number, line), option in zip(numbered, leave.options)]
    clock.mark("leave")
    report = metrics.line_metrics(instance, [(line.posts, line.leave.blocks) for line in lines]) | {
        "leave_preferred_share": metrics.leave_preferred_share(instance, [(line.posts, line.leave.free)
                                                                          for line in lines])}
    result_metrics = base | stages.report() | search.report() | report | clock.report() | {
        "lines_built": len(lines), "lines_upper_bound": lines_upper_bound,
        "leave_peak_weekly": leave.peak}
    reasons = arithmetic if len(lines) < n else []
    if len(lines) < n and len(lines) == lines_upper_bound < bound:  # proven, beyond arithmetic: say why
        reasons = reasons + (explain.conflicting_rules(instance, rules, len(lines) + 1,
                                                       clock.left(request.max_seconds), search) or [])
    summary = None if not reasons else f"{len(lines)} of {n} lines built; at most {lines_upper_bound} are possible."
    return SolveResult("COMPLETED", lines, result_metrics,
                       explain.explanation(summary, reasons) if summary else None)


@dataclass(frozen=True)
class Stage:
    """One objective after the lines are built, optimised with the ones before held.

    ``objective`` builds it on the model, or returns None when there is nothing to gain
    (already at its best, or the service has no such objective). With ``hold`` the optimum
    found is kept for the stages after. With ``guard`` a stage that lowered the smallest
    distance is undone: the lines from before it stay and its status is ``guard``, for the
    smallest distance comes first (domain.md). ``polish`` runs same-term swaps (a local
    search that raises the smallest distance) before or after the search."""

    name: str
    objective: Callable[["_After"], object | None]
    maximize: bool
    hold: bool = True
    share: float = 1.0  # of the deterministic work left
    effort: float | None = None  # the most deterministic time it may spend: past it, it stops and reports its bound
    sort_hint: bool = True  # hint the free lines in sorted order (they are symmetric)
    applies: Callable[["_After"], bool] = lambda after: True  # checked before any polish
    polish: str | None = None  # "before" or "after" the search
    guard: str | None = None


@dataclass
class _After:
    """What the stages after the lines read: the model and the best lines so far."""

    instance: Instance
    rules: object
    request: Request
    lm: LinesModel
    stages: "_Stages"
    built: int
    clock: "_Clock"
    search: "_Search"
    polished: dict | None = None  # the best lines as the swaps last left them: no need to swap again

    @property
    def smallest_upper(self) -> int | None:
        return metrics.hamming_min_upper_bound(self.instance, self.built)


def _unfilled(after: _After):
    return after.lm.unfilled if after.stages.value(after.lm.unfilled) > 0 else None


def _duplicate_lines(after: _After):
    return after.lm.add_distinct_lines() if _duplicates(after.stages.best, after.lm.free_lines) > 0 else None


def _smallest(after: _After):
    upper = after.smallest_upper
    return after.lm.add_smallest_distance(upper) if _smallest_distance(after.stages.best) < upper else None


def _mean(after: _After):
    return after.lm.add_spread(after.built)


def _affinity(after: _After):
    affinity = after.instance.affinity
    return add_affinity(after.lm.model, after.lm.v, affinity["weights"]) if affinity else None


# Diversity: the smallest distance first, then the mean (domain.md). Same-term swaps raise the
# smallest and keep the mean. If they stop short of the bound on a small service, CP-SAT maximises
# the smallest with an indicator per pair of lines and term, which then holds it while the mean is
# optimised. Otherwise the mean stage runs free and the swaps follow it; if they cannot win the
# smallest back, the lines from before the mean stage stay. The swaps run before the duplicates
# stage too: lines they set apart are no longer duplicates. The mean stage has a small fixed
# budget: it rarely proves, and more buys little. The others may take half the work left, and at
# most STAGE_EFFORT, so a stage that cannot prove its optimum stops, reports its bound and leaves
# work for the ones after it: proofs of these objectives, not the lines, would set the time.
STAGES = (
    Stage("unfilled", _unfilled, maximize=False, share=0.5, effort=STAGE_EFFORT, sort_hint=False),
    Stage("duplicates", _duplicate_lines, maximize=False, share=0.5, effort=STAGE_EFFORT, polish="before",
          applies=lambda after: after.smallest_upper is not None),
    Stage("smallest_distance", _smallest, maximize=True, share=0.5, effort=STAGE_EFFORT, polish="before",
          applies=lambda after: after.smallest_upper is not None),
    Stage("mean_distance", _mean, maximize=False, effort=3.0, polish="after", guard="KEPT_SMALLEST"),
    Stage("affinity", _affinity, maximize=True, hold=False, share=0.5, effort=STAGE_EFFORT, sort_hint=False,
          guard="KEPT_DIVERSITY"),
)


def _improve(after: _After) -> None:
    """Run the ``STAGES`` in order on the built lines; each keeps what the ones before won."""
    best = after.stages
    for stage in STAGES:
        if not stage.applies(after):
            continue
        if stage.polish == "before":
            _polish(after)
        objective = stage.objective(after)
        if objective is None:
            continue
        before, reached = (best.best, best.best_solver), _smallest_distance(best.best)
        found = best.run(stage.name, objective, stage.maximize, sort_hint=stage.sort_hint, share=stage.share,
                         effort=stage.effort)
        if found is None:
            continue
        if stage.polish == "after":
            _polish(after)
        if stage.guard and _smallest_distance(best.best) < reached:
            best.best, best.best_solver = before
            best.statuses[stage.name] = stage.guard
            continue
        if stage.hold:
            after.lm.model.add(objective >= found if stage.maximize else objective <= found)


def _polish(after: _After) -> None:
    """Same-term swaps on the best lines; patience ends them (same seed, same lines), the time cap is
    a safety net. The model confirms what they find. Lines they already left as they are, they leave."""
    search, request = after.search, after.request
    if after.polished is not None and after.polished is after.stages.best:
        return
    diverse, finished = diversify(after.instance, after.rules, after.stages.best, _pinned_cells(after.instance),
                                  after.clock.left(request.max_seconds) * 0.75, request.seed,
                                  stopped=lambda: bool(search.should_stop and search.should_stop()))
    search.checkpoint()
    if not finished:
        search.cut_short("diversity")
    if diverse is not None:
        after.stages.confirm("diversity", diverse)
    else:
        after.clock.mark("diversity")
    after.polished = after.stages.best


def _search_lines(instance: Instance, rules, request: Request, bound: int, highest_pin: int,
                  clock: "_Clock", search: "_Search"):
    """Stage 1: the most lines. Returns (model, stages, lines built or None, proven upper bound).

    Arithmetic caps the count at ``bound``, so with allow_partial the search
    first asks for exactly ``bound`` lines (no slot may stay empty, which
    CP-SAT settles far faster than a maximisation); only when that is proven
    impossible, or spends half the work budget, does it maximise over fewer.
    """
    statuses: dict[str, str] = {}
    start = repair(instance, rules, construct(instance, rules, bound, request.seed, search.checkpoint),
                   _pinned_cells(instance), request.seed)
    search.checkpoint()
    if request.allow_partial:
        lm = build_model(instance, rules, bound, allow_partial=False, checkpoint=search.checkpoint)
        clock.mark("build")
        search.checkpoint()
        stages = _Stages(lm, request, clock, search, statuses)
        if stages.accept(start) or stages.run("lines_all", None, maximize=True, share=0.5) is not None:
            return lm, stages, bound, bound
        if stages.last_status == cp_model.INFEASIBLE:
            bound -= 1
        if bound < max(highest_pin, 1):
            return lm, stages, None, bound
    lm = build_model(instance, rules, bound, request.allow_partial, checkpoint=search.checkpoint)
    lm.model.add(lm.lines_built >= highest_pin)  # numbering stays contiguous around pinned lines
    clock.mark("build")
    search.checkpoint()
    stages = _Stages(lm, request, clock, search, statuses)
    if not request.allow_partial and stages.accept(start):
        return lm, stages, bound, bound
    found = stages.run("lines", lm.lines_built if request.allow_partial else None, maximize=True)
    if found is None:
        return lm, stages, None, bound if request.allow_partial else 0
    if not request.allow_partial:
        return lm, stages, bound, bound
    return lm, stages, found, min(bound, stages.best_bound)


def _pinned_cells(instance: Instance) -> set[tuple[int, int]]:
    """(line index, term) of every pinned placement."""
    return {(pin.line - 1, pin.term) for pin in instance.pins}


def _smallest_distance(assignment: dict[int, list]) -> int:
    built = [tuple(line) for line in assignment.values() if line[0] is not None]
    return metrics.hamming(built)["hamming_min"] or 0


def _duplicates(assignment: dict[int, list], lines: list[int]) -> int:
    built = [tuple(assignment[l]) for l in lines if assignment[l][0] is not None]
    return len(built) - len(set(built))


def _most_possible(instance: Instance, request: Request, clock: "_Clock", search: "_Search"):
    """(lines built, proven upper bound) for the same request with allow_partial, on the work left.

    So an INFEASIBLE answer still says how many lines are possible."""
    if request.allow_partial or search.work_left < MOST_POSSIBLE_WORK:
        return None, None
    left = max(clock.left(request.max_seconds), 0.001)
    partial = solve(instance, replace(request, allow_partial=True, max_seconds=left), search.should_stop,
                    search.work_left)
    search.work_left = 0.0  # spent by the partial solve
    if not partial.metrics.get("reproducible", True):
        search.cut_short("lines_possible")
    built = partial.metrics.get("lines_built") if partial.status == "COMPLETED" else None
    return built, partial.metrics.get("lines_upper_bound")


def _infeasible(base: dict, bound: int, summary: str, reasons, clock, search) -> SolveResult:
    return SolveResult("INFEASIBLE", metrics=base | search.report() | clock.report() | {
                           "lines_built": 0, "lines_upper_bound": bound},
                       explanation=explain.explanation(summary, reasons))


def _number_lines(instance: Instance, solved) -> list[tuple[int, tuple[str, ...]]]:
    """(1-based number, post keys) per line: pinned lines keep their numbers; the others fill the
    free numbers in order."""
    pinned = {pin.line - 1 for pin in instance.pins}
    free_numbers = iter(i for i in range(len(solved)) if i not in pinned)
    numbered = sorted(((index if index in pinned else next(free_numbers)), posts)
                      for index, posts in solved)
    return [(i + 1, posts) for i, posts in numbered]


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
    """Runs the lexicographic stages, each warm-started from the best solution so far."""

    def __init__(self, lm: LinesModel, request: Request, clock: _Clock, search: "_Search",
                 statuses: dict[str, str]):
        self.lm, self.request, self.clock, self.search = lm, request, clock, search
        self.best: dict[int, list[int | None]] | None = None  # post index per term, per line
        self.start: dict[int, list[int]] | None = None  # a constructed assignment the model refused
        self.best_solver: cp_model.CpSolver | None = None
        self.statuses = statuses
        self.first_solution_seconds: float | None = None
        self.best_bound = request.n_job_lines
        self.last_status = cp_model.UNKNOWN
        self.gap: dict[str, float] = {}
        self.bound: dict[str, int] = {}  # per stage stopped before its proof: the proven bound of its objective

    def value(self, expr) -> int:
        """The value of an expression of the model as it was at the best solution."""
        return expr if isinstance(expr, int) else int(self.best_solver.value(expr))

    def confirm(self, name: str, assignment: dict[int, list[int]]) -> bool:
        """Take an improved assignment if the model accepts it as it is; keep the best otherwise."""
        before = (self.best, self.best_solver)
        self.best = assignment
        if self.run(name, None, maximize=True, sort_hint=True, fixed=True) is not None:
            return True
        self.best, self.best_solver = before
        return False

    def accept(self, start: list[list[int]] | None) -> bool:
        """Take a constructed assignment as the solution if the model accepts it as it is."""
        if not start:
            return False
        start = dict(enumerate(start))
        self.best = start
        accepted = self.run("construct", None, maximize=True, sort_hint=True, fixed=True) is not None
        if not accepted:
            self.best = None  # still a hint for the search that follows
            self.start = start
        return accepted

    def run(self, name: str, objective, maximize: bool, sort_hint: bool = False,
            fixed: bool = False, share: float = 1.0, effort: float | None = None) -> int | None:
        """Optimise ``objective`` (or just find a solution when it is None) on ``share`` of the
        deterministic work left, and at most ``effort``; return its value."""
        model = self.lm.model
        left = self.clock.left(self.request.max_seconds)
        if left <= 0:
            self.search.cut_short(name)
            return None
        if self.best is not None:
            self.lm.hint(self.best, sort_hint)
        elif self.start is not None:
            self.lm.hint(self.start, sort_free_lines=True)
        model.clear_objective()
        if objective is not None:
            (model.maximize if maximize else model.minimize)(objective)
        if fixed:
            solver = cpsat.solver(self.request.seed, left, None)
        else:
            work = self.search.work_left * share
            if effort is not None:
                work = min(work, effort)
            solver = cpsat.solver(self.request.seed, left, work, self.request.num_workers)
        params = solver.parameters
        params.fix_variables_to_their_hinted_value = fixed
        if fixed:  # only checking a complete assignment: nothing to presolve, search or relax
            params.cp_model_presolve = False
            params.symmetry_level = 0
            params.linearization_level = 0
        callback = _FirstSolution(self.clock)
        status = self.search.run(name, solver, model, callback)
        self.clock.mark(name)
        self.last_status = status
        self.statuses[name] = solver.status_name(status)
        if self.first_solution_seconds is None and callback.at is not None:
            self.first_solution_seconds = callback.at
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return None
        self.best, self.best_solver = self.lm.assignment(solver), solver
        if objective is None:
            return 0
        if name == "lines" and objective is not None:
            self.best_bound = int(solver.best_objective_bound + 1e-6)
        if status == cp_model.FEASIBLE:  # stopped before its proof: what it reached and what may be possible
            self.gap[name] = abs(solver.best_objective_bound - solver.objective_value)
            bound = solver.best_objective_bound
            self.bound[name] = math.floor(bound + 1e-6) if maximize else math.ceil(bound - 1e-6)
        return int(round(solver.objective_value))

    def report(self) -> dict:
        out = {"solver_status": self.statuses, "time_to_first_solution": self.first_solution_seconds}
        if self.gap:
            out["gap"], out["stage_bound"] = self.gap, self.bound
        return out


def run_polled(work: Callable[[], object], should_stop: Callable[[], bool] | None, stop: Callable[[], None],
               name: str, nice: int = 0):
    """``work()`` in a thread at CPU priority ``nice``, while this thread asks ``should_stop``.

    When it says yes, or raises, ``stop()`` asks the work to end; the work's own error is
    raised, else ``Stopped`` when it was asked to stop, else its value is returned. For a
    database backend: only its main thread may call back into the server, and only a call
    back lets it notice a cancel, so the main thread polls while all the work (model building
    in Python, and the CP-SAT threads started from it) runs at the lower priority, leaving
    ordinary queries theirs.
    """
    outcome: dict = {}
    asked = False

    def target():
        if nice:
            os.nice(nice)  # this thread and every thread it starts
        try:
            outcome["value"] = work()
        except BaseException as e:  # handed to the calling thread
            outcome["error"] = e

    worker = threading.Thread(target=target, name=name, daemon=True)
    worker.start()
    try:
        while worker.is_alive():
            worker.join(POLL_SECONDS)
            if worker.is_alive() and not asked and should_stop is not None and should_stop():
                asked = True
                stop()
    except BaseException:
        stop()
        worker.join()
        raise
    if "error" in outcome:
        raise outcome["error"]
    if asked:
        raise Stopped("the solve was asked to stop")
    return outcome["value"]


def solve_polled(instance: Instance, request: Request, poll: Callable[[], bool], nice: int = 0) -> SolveResult:
    """``solve`` in a thread at priority ``nice`` while this thread calls ``poll`` (``run_polled``)."""
    asked = threading.Event()
    return run_polled(lambda: solve(instance, request, should_stop=asked.is_set), poll, asked.set, "solve", nice)


@dataclass
class _Search:
    """How CP-SAT runs: in a thread, while this thread polls ``should_stop``; and what the
    searches have spent of their deterministic budget, and whether they can be repeated."""

    should_stop: Callable[[], bool] | None
    work_left: float = 0.0  # deterministic time, shared by the stages in turn
    clock_stopped: list[str] = field(default_factory=list)  # phases the wall clock cut short
    parallel: bool = False  # some search ran on racing workers

    def cut_short(self, phase: str) -> None:
        """Record that the wall clock, not the work budget, ended ``phase`` (once per phase)."""
        if phase not in self.clock_stopped:
            self.clock_stopped.append(phase)

    def report(self) -> dict:
        out = {"reproducible": not self.clock_stopped and not self.parallel}
        if self.clock_stopped:
            out["stopped_by_clock"] = self.clock_stopped
        return out

    def checkpoint(self) -> None:
        """Between phases in pure Python, the same question the poll asks."""
        if self.should_stop is not None and self.should_stop():
            raise Stopped("the solve was asked to stop")

    def run(self, name: str, solver: cp_model.CpSolver, model: cp_model.CpModel, callback) -> int:
        """One CP-SAT search, stopped when ``should_stop`` says so (``Stopped``)."""
        status = run_polled(lambda: solver.solve(model, callback), self.should_stop, solver.stop_search, "cp-sat")
        self.work_left = max(self.work_left - solver.deterministic_time, 0.0)
        if cpsat.stopped_by_clock(solver, status):
            self.cut_short(name)
        self.parallel |= solver.parameters.num_workers > 1
        return status
